"""Evaluations shared across the cells of a study.

`SharedEvaluator` is an `Evaluator` whose model runs go through a shared store (itself a
caching `Evaluator` for the same space, technology, workloads and area limit): a design that
any cell of the group has evaluated costs nothing again. Each cell still sees only its own
designs (its own cache and counters), so a cell's results do not depend on which cells ran
before it: resuming a study gives the same results as running it in one go.

`scan` is the exhaustive optimum of a whole space for several aggregations at once (one pass
over the space, shared by the exhaustive cells of every aggregation), plus each workload's
own optimum among the designs that pass the joint screen (for the workloads it does not
bound with, among the designs it evaluates in full).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..objectives import MAX_SCREENED_SET, Evaluation, Evaluator, Objective
from ..search.exhaustive import PRUNE_FROM, exhaustive_many, screened


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

    def screened_set(self, subset: Sequence[int] | None = None,
                     limit: int = MAX_SCREENED_SET) -> np.ndarray | None:
        return (super() if self.store is None else self.store).screened_set(subset, limit)


@dataclass
class ScanResult:
    best: dict[str, np.ndarray]  # aggregation -> (keep, n_var) genomes, best first
    best_fitness: dict[str, np.ndarray]
    optima: np.ndarray  # (W,) lowest EDAP feasible on each workload, among joint-screened
    optimum_genomes: np.ndarray  # (W, n_var)
    n_designs: int
    n_evaluated: int
    exact: tuple[int, ...] = ()  # workloads whose optimum is over every screened design


def _bound_workloads(evaluator: Evaluator) -> list[int]:
    """The workload for the cheap lower bound: the one with the most MACs (it dominates the
    worst-case and the mean energy and latency). Every screened design is evaluated on it, so
    more bound workloads would cost more than the few extra full evaluations a tighter bound
    saves."""
    return [int(np.argmax([w.macs for w in evaluator.workloads]))]


def scan(evaluator: Evaluator, aggregations: Sequence[str], *, keep: int = 100,
         chunk: int = 250_000, progress: Callable[[int, int], None] | None = None,
         prune: bool | None = None, optima: Sequence[float] | None = None) -> ScanResult:
    """Evaluate every design of the evaluator's space (no caching) and keep, for each
    aggregation, the best `keep` designs (ties: the first in enumeration order; worst_regret
    needs `optima`, each workload's own optimum EDAP).

    prune, where a layer bound is valid (`search.bounds.bound_eligible`; None: from
    `search.exhaustive.PRUNE_FROM` designs on): branch and bound on the layers
    (`search.exhaustive.exhaustive_many`), one pass for every aggregation and for each
    workload's own optimum among the screened designs (searched on its EDAP alone), so every
    optimum is exact. Else, prune (not False; max, mean and worst_regret aggregations,
    3+ workloads): first every design that
    passes the screen is evaluated on a cheap subset of the workloads, which bounds every
    aggregate from below (max over a subset <= max over all; sums over a subset <= sums over
    all); then, per aggregation, designs are evaluated on every workload in order of their
    bound until the next bound exceeds the `keep`-th best found, so only designs that can
    enter the best are. The best designs are exact; so is each bound workload's own optimum
    (among all screened designs); each other workload's is among the designs fully evaluated.
    """
    space, n_w = evaluator.space, len(evaluator.workloads)
    total = int(np.prod(space.cardinalities))
    opt_given = None if optima is None else tuple(float(v) for v in optima)
    objs = {a: Objective(a, optima=opt_given) for a in aggregations}
    sub = _bound_workloads(evaluator) if prune is not False and n_w >= 3 else []
    if not set(aggregations) <= {"max", "mean", "worst_regret"} or len(sub) == n_w:
        sub = []
    if prune or (prune is None and total >= PRUNE_FROM):
        by_layers = _scan_by_layers(evaluator, objs, keep, chunk, progress)
        if by_layers is not None:
            return by_layers
    saved, evaluator.cache = evaluator.cache, False
    try:
        if sub:
            return _scan_by_bound(evaluator, objs, sub, keep, chunk, progress, opt_given)
        best = _Best(objs, keep, n_w, space.n_var)
        for numbers, g in screened(evaluator, chunk):
            if len(g):
                best.add(numbers, g, evaluator.evaluate(g))
            if progress:
                progress(int(numbers[-1]) + 1 if len(numbers) else 0, total)
        return best.result(total, tuple(range(n_w)))
    finally:
        evaluator.cache = saved


def _scan_by_layers(evaluator: Evaluator, objs: dict[str, Objective], keep: int, chunk: int,
                    progress: Callable[[int, int], None] | None) -> ScanResult | None:
    """`scan` by branch and bound on the layers, each workload's own optimum among the
    screened designs included; None where no layer bound is valid."""
    res = exhaustive_many(evaluator, objs, keep=keep, chunk=chunk, own_optima=True,
                          progress=progress)
    if res is None:
        return None
    first = next(iter(res.values()))
    return ScanResult({a: res[a].best.genomes for a in objs},
                      {a: res[a].fitness for a in objs}, first.optima, first.optimum_genomes,
                      first.n_designs, sum(r.n_evaluated for r in res.values()),
                      tuple(range(len(evaluator.workloads))))


class _Best:
    """The best `keep` designs per aggregation, by (fitness, enumeration number), and each
    workload's lowest EDAP (feasible there) among the designs added."""

    def __init__(self, objs: dict[str, Objective], keep: int, n_w: int, n_var: int) -> None:
        self.objs, self.keep = objs, keep
        self.numbers = {a: np.empty(0, np.int64) for a in objs}
        self.genomes = {a: np.empty((0, n_var), np.int64) for a in objs}
        self.fitness = {a: np.empty(0) for a in objs}
        self.opt = np.full(n_w, np.inf)
        self.opt_g = np.zeros((n_w, n_var), np.int64)
        self.opt_n = np.full(n_w, -1, np.int64)
        self.n_evaluated = 0

    def add(self, numbers: np.ndarray, g: np.ndarray, ev: Evaluation,
            only: Sequence[str] | None = None) -> None:
        self.n_evaluated += len(g)
        for a in only or self.objs:
            n = np.concatenate([self.numbers[a], numbers])
            f = np.concatenate([self.fitness[a], self.objs[a].fitness(ev)])
            order = np.lexsort((n, f))[:self.keep]
            self.genomes[a] = np.concatenate([self.genomes[a], g])[order]
            self.numbers[a], self.fitness[a] = n[order], f[order]
        self.workload_optima(numbers, g, np.where(ev.area_ok[:, None] & ev.capacity_ok,
                                                  ev.edap, np.inf), range(self.opt.size))

    def workload_optima(self, numbers: np.ndarray, g: np.ndarray, edap: np.ndarray,
                        workloads: Sequence[int]) -> None:
        """Lower each workload's optimum (edap: (N, len(workloads)); ties: lowest number)."""
        for i, w in enumerate(workloads):
            if not len(edap):
                return
            j = int(np.lexsort((numbers, edap[:, i]))[0])
            if (edap[j, i], numbers[j]) < (self.opt[w], self.opt_n[w] if self.opt_n[w] >= 0
                                           else np.iinfo(np.int64).max):
                self.opt[w], self.opt_g[w], self.opt_n[w] = edap[j, i], g[j], numbers[j]

    def kth(self, a: str) -> float:
        f = self.fitness[a]
        return float(f[self.keep - 1]) if len(f) >= self.keep else np.inf

    def result(self, total: int, exact: tuple[int, ...]) -> ScanResult:
        return ScanResult(self.genomes, self.fitness, self.opt, self.opt_g, total,
                          self.n_evaluated, exact)


def _scan_by_bound(evaluator: Evaluator, objs: dict[str, Objective], sub: list[int],
                   keep: int, chunk: int, progress: Callable[[int, int], None] | None,
                   optima: Sequence[float] | None = None) -> ScanResult:
    """`scan` with pruning: bounds of every screened design first, then full evaluations in
    order of the bound (module docstring of `scan`)."""
    space, n_w = evaluator.space, len(evaluator.workloads)
    cards, total = space.cardinalities, int(np.prod(space.cardinalities))
    cheap = Evaluator(space, evaluator.technology, [evaluator.workloads[w] for w in sub],
                      evaluator.area_limit_mm2, cache=False, backend=evaluator.backend,
                      executor=evaluator.executor)
    best = _Best(objs, keep, n_w, space.n_var)
    numbers, bounds = [], {a: [] for a in objs}
    for part, g in screened(evaluator, chunk):
        if len(g):
            ev = cheap.evaluate(g)
            numbers.append(part)
            for a in objs:
                bounds[a].append(_bound(ev, a, n_w, sub, optima))
            best.workload_optima(part, g, np.where(ev.area_ok[:, None] & ev.capacity_ok,
                                                   ev.edap, np.inf), sub)
        if progress:
            progress(int(part[-1]) + 1 if len(part) else 0, total)
    if not numbers:
        return best.result(total, tuple(sub))
    number = np.concatenate(numbers)
    done = np.zeros(len(number), bool)
    for a in objs:
        bound = np.concatenate(bounds[a])
        order = np.lexsort((number, bound))
        for start in range(0, len(order), max(keep, 1000)):
            rows = order[start:start + max(keep, 1000)]
            if bound[rows[0]] * (1 - 1e-9) > best.kth(a):
                break  # no design left can enter the best of this aggregation
            rows = rows[~done[rows]]
            done[rows] = True
            if len(rows):
                g = np.column_stack(np.unravel_index(number[rows], cards))
                best.add(number[rows], g, evaluator.evaluate(g))
    return best.result(total, tuple(sub))


def _bound(ev: Evaluation, aggregation: str, n_w: int, sub: Sequence[int],
           optima: Sequence[float] | None = None) -> np.ndarray:
    """(N,) lower bound of the aggregate over all n_w workloads from the metrics of the
    subset `sub` of them (worst_regret: `optima`, each workload's own optimum EDAP)."""
    if aggregation == "max":
        return ev.energy_j.max(axis=1) * ev.latency_s.max(axis=1) * ev.area_mm2
    if aggregation == "worst_regret":  # max over a subset of EDAP_w / EDAP_w* <= max over all
        return (ev.edap / np.asarray(optima, dtype=float)[list(sub)][None, :]).max(axis=1)
    # mean over all n_w >= (sum over the subset) / n_w
    return (ev.energy_j.sum(axis=1) / n_w) * (ev.latency_s.sum(axis=1) / n_w) * ev.area_mm2
