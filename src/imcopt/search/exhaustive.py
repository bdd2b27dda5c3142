"""Exhaustive evaluation of a whole (sub)space in chunks with bounded memory.

Designs are enumerated in mixed-radix order, `chunk` at a time. Each chunk is first screened
without running the model (area depends only on the design; the arrays a workload's weights
need only on rows, columns and bits per cell), then the survivors are evaluated. Only the best
`keep` designs by the objective are kept, plus each workload's own optimum (its EDAP, feasible
on that workload: area limit and its own weight capacity).

The chunk size follows the evaluator's device: `CHUNK_DESIGNS` designs at a time on numpy,
`TORCH_CHUNK_DESIGNS` on a PyTorch device (a GPU needs big batches to be busy), where the
enumeration and the screen run on the device as well (`device_screen.DeviceScreen`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..hardware.space import mixed_radix as enumerate_genomes
from ..objectives import Evaluation, Evaluator, Objective
from .device_screen import DeviceScreen

CHUNK_DESIGNS = 250_000
TORCH_CHUNK_DESIGNS = 2_000_000


@dataclass
class ExhaustiveResult:
    best: Evaluation  # the best `keep` designs, best first
    fitness: np.ndarray  # their objective values (+inf infeasible)
    optima: np.ndarray  # (W,) each workload's lowest feasible EDAP (inf if none)
    optimum_genomes: np.ndarray  # (W, n_var) the designs that reach them
    n_designs: int
    n_evaluated: int
    seconds: float


def exhaustive(
    evaluator: Evaluator,
    objective: Objective,
    *,
    free: Sequence[int] | None = None,
    base: np.ndarray | None = None,
    chunk: int | None = None,
    keep: int = 100,
    per_workload: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ExhaustiveResult:
    """Evaluate every design of the space (or of the `free` parameters, others from `base`).

    per_workload: also find each workload's own optimum (every design that fits that
    workload is evaluated on it alone: slower, as many more designs fit one workload).
    chunk: designs enumerated at a time; default by the evaluator's device (module docstring).
    """
    if chunk is None:
        chunk = CHUNK_DESIGNS if evaluator.device == "numpy" else TORCH_CHUNK_DESIGNS
    t0 = time.perf_counter()
    space, n_w = evaluator.space, len(evaluator.workloads)
    free_idx = np.arange(space.n_var) if free is None else np.asarray(free, dtype=np.int64)
    base_g = np.zeros(space.n_var, np.int64) if base is None else np.asarray(base, np.int64)
    cards = space.cardinalities[free_idx]
    total = int(np.prod(cards))
    saved_cache, evaluator.cache = evaluator.cache, False
    best: Evaluation | None = None
    opt = np.full(n_w, np.inf)
    opt_g = np.repeat(base_g[None, :], n_w, axis=0)
    n_eval = 0
    on_device = DeviceScreen(evaluator, free_idx, base_g) if evaluator.device != "numpy" else None
    whole = (on_device is None and not per_workload and objective.subset is None
             and np.array_equal(free_idx, np.arange(space.n_var)))

    def passing() -> Iterator[tuple[np.ndarray, int]]:
        """(the designs of a chunk that pass the screen, designs enumerated so far)."""
        if whole:  # only the designs that can pass the screen are enumerated
            for numbers, g in screened(evaluator, chunk):
                yield g, int(numbers[-1]) + 1 if len(numbers) else 0
            yield np.empty((0, space.n_var), np.int64), total
            return
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            chunk_g = None
            if on_device is None:
                chunk_g = np.repeat(base_g[None, :], stop - start, axis=0)
                chunk_g[:, free_idx] = enumerate_genomes(cards, start, stop)
            if per_workload:
                for w in range(n_w) if objective.subset is None else objective.subset:
                    gw = _passing(evaluator, on_device, chunk_g, start, stop, [w])
                    if len(gw):
                        edap, feas = evaluator.edap_on(gw, w)
                        edap = np.where(feas, edap, np.inf)
                        j = int(edap.argmin())
                        if edap[j] < opt[w]:
                            opt[w], opt_g[w] = edap[j], gw[j]
            yield _passing(evaluator, on_device, chunk_g, start, stop, objective.subset), stop

    try:
        for g, done in passing():
            if len(g):
                ev = evaluator.evaluate(g)
                n_eval += len(g)
                best = ev if best is None else _concat(best, ev)
                best = best.take(objective.rank(best)[:keep])
            if progress and done:
                progress(done, total)
    finally:
        evaluator.cache = saved_cache
    if best is None:  # nothing passed the screen: keep the first designs, all infeasible
        best = evaluator.evaluate(enumerate_genomes(cards, 0, min(keep, total)))
    return ExhaustiveResult(best, objective.fitness(best), opt, opt_g, total, n_eval,
                            time.perf_counter() - t0)


def screened(evaluator: Evaluator, chunk: int = CHUNK_DESIGNS
             ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(numbers, genomes) of the designs of the evaluator's whole space that pass its screen
    (every workload), in enumeration (mixed-radix) order, about `chunk` at a time. Only the
    designs whose weight-capacity genes pass (`Evaluator.capacity_candidates`) are enumerated
    and screened, as no other design can pass."""
    cards = evaluator.space.cardinalities
    total = int(np.prod(cards))
    every = evaluator.capacity_candidates()
    candidates: Iterator[np.ndarray] = (
        (np.arange(a, min(a + chunk, total), dtype=np.int64) for a in range(0, total, chunk))
        if every is None else (every[a:a + chunk] for a in range(0, len(every), chunk)))
    for part in candidates:
        g = np.column_stack(np.unravel_index(part, cards)).astype(np.int64)
        ok = evaluator.screen(g) if len(g) else np.zeros(0, bool)
        yield part[ok], g[ok]


def _passing(evaluator: Evaluator, on_device: DeviceScreen | None, g: np.ndarray | None,
             start: int, stop: int, subset: Sequence[int] | None) -> np.ndarray:
    """The chunk's genomes that pass the screen: `g` screened on the host, or designs
    start..stop-1 enumerated and screened on the device."""
    if on_device is None:
        return g[evaluator.screen(g, subset)]
    return on_device(start, stop, subset)


def _concat(a: Evaluation, b: Evaluation) -> Evaluation:
    return Evaluation(*(np.concatenate([getattr(a, f), getattr(b, f)]) if f != "area_limit_mm2"
                        else a.area_limit_mm2 for f in Evaluation.__dataclass_fields__))
