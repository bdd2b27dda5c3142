"""Executors and the evaluation cache: prints the figures of docs/scale.md.

1. A slow backend (the analytical model + 0.1 s of sleep per design and workload, as a
   simulator run once per design and workload) on a fixed batch: wall time in-process, on a
   local Dask cluster of 1 and of 2 worker processes, and the 2-vs-1 speed-up. Optionally
   (--subprocess) the same with the external-simulator backend (tests/tiny_simulator.py
   --sleep 0.1).
2. The persistent cache: cost per design of a batch answered from evaluations.sqlite (all
   hits), next to the analytical model's cost for the same batch.

    PYTHONPATH=src python benchmarks/bench_executors.py [--designs 20] [--subprocess]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from imcopt.backends import (
    AnalyticalBackend,
    Delayed,
    SubprocessBackend,
    design_keys,
    workload_id,
)
from imcopt.cache import EvaluationCache
from imcopt.executors import InProcess, make_executor
from imcopt.hardware import get_space, load_technology
from imcopt.objectives import Evaluator
from imcopt.workloads import get

WORKLOADS = ("resnet18", "alexnet")


def timed_batch(backend, executor, genomes: np.ndarray) -> tuple[float, object]:
    space, tech = get_space("rram"), load_technology("rram")
    ev = Evaluator(space, tech, [get(w) for w in WORKLOADS], backend=backend,
                   executor=executor)
    t0 = time.perf_counter()
    out = ev.evaluate(genomes)
    return time.perf_counter() - t0, out


def executors(backend, label: str, genomes: np.ndarray) -> None:
    calls = len(genomes) * len(WORKLOADS)
    print(f"\n{label}: {len(genomes)} designs x {len(WORKLOADS)} workloads = {calls} calls")
    t_in, want = timed_batch(backend, InProcess(), genomes)
    print(f"  in-process          {t_in:7.2f} s")
    times = {}
    for n in (1, 2):
        with make_executor({"kind": "dask", "workers": n}) as ex:
            ex.map(abs, [1] * n)  # cluster up and workers answering
            timed_batch(AnalyticalBackend(), ex, genomes[:2])  # imports done on the workers
            times[n], got = timed_batch(backend, ex, genomes)
        assert np.array_equal(got.energy_j, want.energy_j), "executor changed the results"
        print(f"  Dask, {n} worker{'s' if n > 1 else ' '}      {times[n]:7.2f} s")
    print(f"  speed-up 2 vs 1 Dask workers: {times[1] / times[2]:.2f}x")


def best_of(k: int, fn) -> float:
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def cache_cost(n: int) -> None:
    space, tech = get_space("rram"), load_technology("rram")
    wls = [get(w) for w in ("resnet18", "vgg16", "alexnet", "mobilenet_v3")]
    genomes = np.unique(space.sample(n, 1), axis=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "evaluations.sqlite"
        Evaluator(space, tech, wls).evaluate(genomes[:100])  # warm up
        t_model = best_of(3, lambda: Evaluator(space, tech, wls).evaluate(genomes))
        t0 = time.perf_counter()
        Evaluator(space, tech, wls, cache_file=path).evaluate(genomes)
        t_fill = time.perf_counter() - t0
        cache = EvaluationCache(path)

        def hits() -> None:
            ev = Evaluator(space, tech, wls, cache_file=cache)
            ev.evaluate(genomes)
            assert ev.cache_file.misses == 0

        t_hit = best_of(3, hits)
        keys = design_keys(space.decode(genomes))
        ctx = cache.context("analytical", AnalyticalBackend().version(tech), tech.name,
                            workload_id(wls[0]))
        t_get = best_of(3, lambda: cache.get(ctx, keys))
        size = path.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("*-wal"))
    per = 1e6 / len(genomes)
    print(f"\npersistent cache, {len(genomes)} designs x {len(wls)} workloads (RRAM), best "
          "of 3:")
    print(f"  analytical model, no cache        {t_model * per:7.1f} us per design")
    print(f"  model + writing the cache (once)  {t_fill * per:7.1f} us per design")
    print(f"  Evaluator, every design a hit     {t_hit * per:7.1f} us per design")
    print(f"  EvaluationCache.get alone         {t_get * per:7.1f} us per design-workload")
    print(f"  file size                         {size / len(genomes) / len(wls):7.0f} B per "
          "design-workload")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=20, help="designs in the slow batch")
    ap.add_argument("--delay", type=float, default=0.1, help="s per design and workload")
    ap.add_argument("--subprocess", action="store_true",
                    help="also time the external-simulator backend")
    ap.add_argument("--cache-designs", type=int, default=20_000)
    ap.add_argument("--cache-only", action="store_true")
    args = ap.parse_args()
    if args.cache_only:
        cache_cost(args.cache_designs)
        return
    genomes = np.unique(get_space("rram").sample(args.designs * 2, 3), axis=0)[:args.designs]
    executors(Delayed(AnalyticalBackend(), args.delay),
              f"analytical + {args.delay:g} s sleep per call", genomes)
    if args.subprocess:
        sim = Path(__file__).resolve().parents[1] / "tests" / "tiny_simulator.py"
        executors(SubprocessBackend((sys.executable, str(sim), "--sleep", str(args.delay))),
                  f"subprocess tiny_simulator --sleep {args.delay:g}", genomes)
    cache_cost(args.cache_designs)


if __name__ == "__main__":
    main()
