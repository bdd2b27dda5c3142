"""Evaluations shared across the cells of a study.

`SharedEvaluator` is an `Evaluator` whose model runs go through a shared store (itself a
caching `Evaluator` for the same space, technology, workloads and area limit): a design that
any cell of the group has evaluated costs nothing again. Each cell still sees only its own
designs (its own cache and counters), so a cell's results do not depend on which cells ran
before it: resuming a study gives the same results as running it in one go.

`scan` is the exhaustive optimum of a whole space for several aggregations at once (one pass
over the space, shared by the exhaustive cells of every aggregation), plus each workload's
own optimum among the designs that pass the joint screen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..hardware.space import mixed_radix
from ..objectives import Evaluation, Evaluator, Objective


@dataclass
class SharedEvaluator(Evaluator):
    store: Evaluator | None = None

    def _compute(self, genomes: np.ndarray) -> Evaluation:
        if self.store is None:
            return super()._compute(genomes)
        calls = self.store.n_calls
        out = self.store.evaluate(genomes)
        self.store.n_calls = calls
        self.n_evals += len(out)  # as if this cell had run the model itself
        return out

    # the screen depends on the space, technology, workloads and area limit only, which the
    # store shares: its look-up tables serve every cell
    def screen(self, genomes: np.ndarray, subset: Sequence[int] | None = None) -> np.ndarray:
        return (super() if self.store is None else self.store).screen(genomes, subset)

    def capacity_table(self, subset: Sequence[int] | None = None
                       ) -> tuple[np.ndarray, np.ndarray] | None:
        return (super() if self.store is None else self.store).capacity_table(subset)


@dataclass
class ScanResult:
    best: dict[str, np.ndarray]  # aggregation -> (keep, n_var) genomes, best first
    best_fitness: dict[str, np.ndarray]
    optima: np.ndarray  # (W,) lowest EDAP feasible on each workload, among joint-screened
    optimum_genomes: np.ndarray  # (W, n_var)
    n_designs: int
    n_evaluated: int


def _bound_workloads(evaluator: Evaluator, budget: float = 0.3) -> list[int]:
    """Workloads for the cheap lower bound: the one with the most MACs (it dominates the
    worst-case and the mean energy and latency), then the fewest-layer ones while their
    layers stay within `budget` of all layers."""
    wls = evaluator.workloads
    layers = np.array([len(w.layers) for w in wls], dtype=float)
    first = int(np.argmax([w.macs for w in wls]))
    chosen = [first]
    for w in np.argsort(layers, kind="stable"):
        if int(w) != first and layers[[*chosen, int(w)]].sum() <= budget * layers.sum():
            chosen.append(int(w))
    return sorted(chosen)


def scan(evaluator: Evaluator, aggregations: Sequence[str], *, keep: int = 100,
         chunk: int = 250_000, progress: Callable[[int, int], None] | None = None,
         prune: bool = True) -> ScanResult:
    """Evaluate every design of the evaluator's space (no caching) and keep, for each
    aggregation, the best `keep` designs.

    prune (max and mean aggregations, 3+ workloads): each chunk is first evaluated on a cheap
    subset of the workloads, which bounds every aggregate from below (max over a subset <=
    max over all; sums over a subset <= sums over all); only designs whose bound beats the
    current `keep`-th best of some aggregation are evaluated on every workload. The best
    designs are exact; each workload's own optimum is then among the designs fully
    evaluated (the bound workloads: among all screened designs).
    """
    space, n_w = evaluator.space, len(evaluator.workloads)
    cards = space.cardinalities
    total = int(np.prod(cards))
    objs = {a: Objective(a) for a in aggregations}
    best_g = {a: np.empty((0, space.n_var), np.int64) for a in aggregations}
    best_f = {a: np.empty(0) for a in aggregations}
    opt = np.full(n_w, np.inf)
    opt_g = np.zeros((n_w, space.n_var), np.int64)
    sub = _bound_workloads(evaluator) if prune and n_w >= 3 else []
    if not set(aggregations) <= {"max", "mean"} or len(sub) == n_w:
        sub = []
    cheap = (Evaluator(space, evaluator.technology, [evaluator.workloads[w] for w in sub],
                       evaluator.area_limit_mm2, cache=False, backend=evaluator.backend,
                       executor=evaluator.executor) if sub else None)
    saved, evaluator.cache = evaluator.cache, False
    n_eval = 0
    try:
        for start in range(0, total, chunk):
            g = mixed_radix(cards, start, min(total, start + chunk))
            g = g[evaluator.screen(g)]
            if cheap is not None and len(g):
                g = g[_survivors(cheap.evaluate(g), n_w, objs, best_f, keep, opt, sub)]
            if len(g):
                ev = evaluator.evaluate(g)
                n_eval += len(g)
                for a, obj in objs.items():
                    fg = np.concatenate([best_g[a], g])
                    ff = np.concatenate([best_f[a], obj.fitness(ev)])
                    order = np.lexsort((np.arange(len(ff)), ff))[:keep]  # stable: first wins
                    best_g[a], best_f[a] = fg[order], ff[order]
                edap = np.where(ev.area_ok[:, None] & ev.capacity_ok, ev.edap, np.inf)
                j = edap.argmin(axis=0)
                for w in range(n_w):
                    if edap[j[w], w] < opt[w]:
                        opt[w], opt_g[w] = edap[j[w], w], g[j[w]]
            if progress:
                progress(min(start + chunk, total), total)
    finally:
        evaluator.cache = saved
    return ScanResult(best_g, best_f, opt, opt_g, total, n_eval)


def _survivors(ev: Evaluation, n_w: int, objs: dict[str, Objective],
               best_f: dict[str, np.ndarray], keep: int, opt: np.ndarray,
               sub: list[int]) -> np.ndarray:
    """(N,) bool: designs whose lower bound (from the subset's metrics) may still enter the
    best `keep` of some aggregation, or improve a subset workload's own optimum."""
    feas = ev.feasible
    out = np.zeros(len(ev), bool)
    for a in objs:
        if a == "max":
            bound = ev.energy_j.max(axis=1) * ev.latency_s.max(axis=1) * ev.area_mm2
        else:  # mean over all W >= (sum over the subset) / W
            bound = (ev.energy_j.sum(axis=1) / n_w) * (ev.latency_s.sum(axis=1) / n_w
                                                      ) * ev.area_mm2
        kth = best_f[a][keep - 1] if len(best_f[a]) >= keep else np.inf
        out |= feas & (bound * (1 - 1e-9) < kth)
    edap = np.where(ev.area_ok[:, None] & ev.capacity_ok, ev.edap, np.inf)
    for i, w in enumerate(sub):  # keep each subset workload's own optimum exact
        out |= edap[:, i] < opt[w]
    return out
