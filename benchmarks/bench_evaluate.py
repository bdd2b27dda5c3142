"""Design-layer evaluations per second of the cost model, and exhaustive-search time.

    python benchmarks/bench_evaluate.py [--designs 100000] [--tech rram] [--repeats 3]
        [--backend numpy|torch] [--device cpu|cuda]
    python benchmarks/bench_evaluate.py --exhaustive [--max-designs N] [--backend/--device ...]

Evaluates N random designs of the technology's default space on the 4-network set
(resnet18, vgg16, alexnet, mobilenet_v3: 109 layers) and prints the best of `repeats`
timings as design-layer evaluations per second. `--backend torch` runs the same model on
PyTorch float64 tensors on `--device` (cpu or cuda); numpy runs on the CPU only. Pin one core
for the figure README quotes: `taskset -c 0 python benchmarks/bench_evaluate.py`.

--compile (torch backend, optional): wraps the model's block function in `torch.compile`
first; every workload is compiled once during the warm-up (about a minute each on a CPU).

--exhaustive: times the exhaustive search (max aggregation, 800 mm^2) of the technology's
whole space on the 4 networks, or of its first `--max-designs` designs (the leading
parameters' value lists cut short), and prints designs per second.
"""

from __future__ import annotations

import argparse
import math
import os
import time

# one core: elementwise numpy is single-threaded anyway, this keeps BLAS from spreading
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from imcopt.hardware import DesignSpace, get_space, load_technology  # noqa: E402
from imcopt.model import cost, evaluate  # noqa: E402
from imcopt.objectives import Evaluator, Objective  # noqa: E402
from imcopt.search import exhaustive  # noqa: E402
from imcopt.workloads import FOUR_NETWORKS, get  # noqa: E402


def model_device(backend: str, device: str) -> str:
    """The model's device option for a backend and a device."""
    if backend == "numpy":
        if device != "cpu":
            raise SystemExit("--backend numpy runs on --device cpu only; use --backend torch")
        return "numpy"
    return device


def cut_space(space: DesignSpace, max_designs: int | None) -> DesignSpace:
    """The space with its leading parameters' value lists cut until it has <= max_designs."""
    for p in space.parameters:
        if max_designs is None or space.size <= max_designs:
            break
        keep = max(1, math.floor(len(p.values) * max_designs / space.size))
        space = space.restrict(**{p.name: p.values[:keep]})
    return space


def bench_model(args: argparse.Namespace, device: str) -> None:
    space = get_space(args.tech)
    tech = load_technology(args.tech)
    workloads = [get(name) for name in FOUR_NETWORKS]
    layers = sum(len(w) for w in workloads)
    designs = space.decode(space.sample(args.designs, 0))
    for w in workloads:  # warm-up (torch: kernels, allocator, compilation)
        evaluate(designs, w, tech, per_layer=False, device=device)

    best = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for w in workloads:
            evaluate(designs, w, tech, per_layer=False, device=device)
        best = min(best, time.perf_counter() - t0)
    rate = args.designs * layers / best
    print(f"technology           {args.tech}")
    print(f"model device         {device}{' (torch.compile)' if args.compile else ''}")
    print(f"designs              {args.designs}")
    print(f"layers (4 networks)  {layers}")
    print(f"best of {args.repeats} runs        {best:.3f} s")
    print(f"design-layer evals/s {rate:,.0f}")


def bench_exhaustive(args: argparse.Namespace, device: str) -> None:
    space = cut_space(get_space(args.tech), args.max_designs)
    ev = Evaluator(space, load_technology(args.tech), [get(n) for n in FOUR_NETWORKS],
                   device=device)
    exhaustive(Evaluator(cut_space(space, 1000), ev.technology, ev.workloads, device=device),
               Objective("max"))  # warm-up
    res = exhaustive(ev, Objective("max"))
    print(f"technology           {args.tech}")
    print(f"model device         {device}")
    print(f"designs scanned      {res.n_designs:,} (whole space: {get_space(args.tech).size:,})")
    print(f"passed the screen    {res.n_evaluated:,} (model run on 4 networks)")
    print(f"best max-EDAP        {res.fitness[0]:.4g} J*s*mm2")
    print(f"exhaustive search    {res.seconds:.2f} s")
    print(f"designs/s            {res.n_designs / res.seconds:,.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--designs", type=int, default=100_000)
    ap.add_argument("--tech", default="rram", choices=("rram", "sram"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--backend", default="numpy", choices=("numpy", "torch"))
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (torch backend)")
    ap.add_argument("--exhaustive", action="store_true", help="time the exhaustive search")
    ap.add_argument("--max-designs", type=int, default=None,
                    help="--exhaustive: scan at most this many designs (default: all)")
    ap.add_argument("--compile", action="store_true", help="torch backend: torch.compile the model")
    args = ap.parse_args()
    device = model_device(args.backend, args.device)
    if args.compile:
        if device == "numpy":
            raise SystemExit("--compile needs --backend torch")
        import torch

        cost._evaluate_block = torch.compile(cost._evaluate_block)
    if args.exhaustive:
        bench_exhaustive(args, device)
    else:
        bench_model(args, device)


if __name__ == "__main__":
    main()
