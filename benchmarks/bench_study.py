"""The published study's grid end to end: wall time, CPU time, bytes written, the model's share.

    python benchmarks/bench_study.py [examples/paper.yaml] [--out DIR] [--save-all]
        [--jobs N] [--no-groups] [--technologies rram sram] [--sets 4net 9net] [--seeds 1 2 3]

First runs the study as `imcopt study run CONFIG --out DIR --quiet` does (its groups in one
process per core, or --jobs N) and prints its wall time, CPU time (this process and its
workers, user + system) and the bytes the folder holds. Then (unless --no-groups) runs it
again in this one process, timing each (technology, workload set) group: wall time, CPU time,
the time spent inside the cost model (`model.evaluate` and `model.area_mm2`, timed by wrapping
them where imcopt calls them) and its share of the wall time. --technologies, --sets and
--seeds run part of the grid. The folders are removed afterwards unless --out is given (the
first run's is kept there).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import imcopt.failures
import imcopt.objectives
from imcopt.study import Study, load_study

MODEL_S = [0.0]


def _timed(fn: Callable) -> Callable:
    @wraps(fn)
    def timed(*args: object, **kwargs: object) -> object:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            MODEL_S[0] += time.perf_counter() - t0

    return timed


def time_the_model() -> None:
    """Wrap every place imcopt calls the cost model from (the names they imported)."""
    for module in (imcopt.failures, imcopt.objectives):
        for name in ("evaluate", "area_mm2"):
            if hasattr(module, name):
                setattr(module, name, _timed(getattr(module, name)))


def cpu_s(children: bool = False) -> float:
    """CPU seconds (user + system) of this process, and with `children` of the worker
    processes that ended."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN) if children else None
    return r.ru_utime + r.ru_stime + (c.ru_utime + c.ru_stime if c else 0.0)


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default="examples/paper.yaml")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--save-all", action="store_true")
    ap.add_argument("--technologies", nargs="+")
    ap.add_argument("--sets", nargs="+")
    ap.add_argument("--seeds", nargs="+", type=int)
    ap.add_argument("--jobs", type=int, default=None,
                    help="processes for the groups (default: one per core, as the CLI)")
    ap.add_argument("--no-groups", action="store_true",
                    help="skip the second, per-group run in one process")
    args = ap.parse_args()
    cfg = load_study(args.config).model_dump(mode="json")
    if args.technologies:
        cfg["technologies"] = args.technologies
        if cfg.get("spaces"):
            cfg["spaces"] = {t: s for t, s in cfg["spaces"].items() if t in args.technologies}
    if args.sets:
        cfg["workload_sets"] = {k: v for k, v in cfg["workload_sets"].items() if k in args.sets}
    if args.seeds:
        cfg["seeds"] = args.seeds
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_study_")) / "study"
    if out.exists():
        raise SystemExit(f"error: --out {out} exists; give a new folder")
    study = Study(cfg, out, save_all=args.save_all, jobs=args.jobs)
    print(f"{args.config}: {len(study.cells)} runs -> {out}")
    t0, c0 = time.perf_counter(), cpu_s(children=True)
    study.run()
    wall, cpu = time.perf_counter() - t0, cpu_s(children=True) - c0
    size = folder_bytes(out)
    jobs = study.group_processes(len(cfg["technologies"]) * len(cfg["workload_sets"]))
    print(f"as `imcopt study run` runs it ({jobs} processes): {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU; {size:,} bytes ({size / 1e6:.1f} MB) in "
          f"{sum(1 for _ in out.rglob('*'))} files and folders; load average "
          f"{os.getloadavg()[0]:.1f}")
    if not args.no_groups:
        per_group(cfg, out.parent / "one_process", args.save_all)
    if args.out is None:
        shutil.rmtree(out.parent)


def per_group(cfg: dict, out: Path, save_all: bool) -> None:
    """The study again in this process, timed group by group, with the model's share."""
    time_the_model()
    study = Study(cfg, out, save_all=save_all)
    groups: dict[tuple[str, str], list[float]] = {}
    marks = {"group": None, "t": time.perf_counter(), "cpu": cpu_s(), "model": 0.0}

    def close_group() -> None:
        if marks["group"] is not None:
            groups[marks["group"]] = [time.perf_counter() - marks["t"], cpu_s() - marks["cpu"],
                                      MODEL_S[0] - marks["model"]]
        marks.update(t=time.perf_counter(), cpu=cpu_s(), model=MODEL_S[0])

    def on_event(e: dict) -> None:
        if e["event"] == "start":
            group = tuple(e["cell"].split("-")[:2])
            if group != marks["group"]:
                close_group()
                marks["group"] = group

    t0, c0 = time.perf_counter(), cpu_s()
    study.run(on_event=on_event)
    close_group()
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    print("in one process, group by group:")
    print(f"{'group':14s} {'wall s':>8s} {'CPU s':>8s} {'model s':>8s} {'model share':>12s}")
    for (tech, wset), (w, c, m) in groups.items():
        print(f"{tech + ' ' + wset:14s} {w:8.1f} {c:8.1f} {m:8.1f} {m / w:11.0%}")
    print(f"{'total':14s} {wall:8.1f} {cpu:8.1f} {MODEL_S[0]:8.1f} {MODEL_S[0] / wall:11.0%}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
