"""A study's loss reference per group, and its searches that ignore the aggregation.

Every (technology, workload set) group has one reference: each network's own optimum EDAP
(`imcopt.losses.Optima`), found before the group's cells run and kept in study.json. The
per-network loss factors of every cell, the worst_regret aggregation and the NSGA-II
(max EDAP, worst loss) front are all measured against it. With `optima: separate` it is the
best of the per-network searches over every seed (best-known); with `optima: exact`, an
enumeration per network (exact). First, each network is checked through the cheap area and
capacity screen: a network that no design of the space can run (proved by enumerating the
screen) marks the group infeasible, and its cells are not searched (nothing can serve every
network). A network that the searches did not fit although a design can run it gets that
design's EDAP as its best-known optimum.

`SeedSearch`: the searches of the separate and largest methods do not depend on the
aggregation (each network searched for its own EDAP; the largest network alone), so they
run once per seed; every cell replays the designs they evaluated into its own evaluator and
ranks their candidates by its own aggregation. That gives the outputs of running the search
in every cell, at the cost of one. In a study the seed searches of a group run in lockstep
(`search.lockstep`, `seed_search_steps`), like its cells' searches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..losses import Optima
from ..objectives import Evaluator, Objective
from ..search import StrategyResult, Trace
from ..search.algorithms import Steps, run
from ..search.optima import exact_optima, first_feasible
from ..search.strategies import STRATEGY_STEPS, AlgorithmSpec

SEED_SEARCH_METHODS = ("separate", "largest")


@dataclass
class SeedSearch:
    """One aggregation-independent search: what it evaluated (first-seen order), its
    convergence rows and call count, and the candidates a cell ranks."""

    genomes: np.ndarray
    rows: list[dict]
    n_calls: int
    candidates: np.ndarray
    per_workload_best: dict[str, np.ndarray]
    optima: np.ndarray | None
    notes: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # raised while it ran (each cell's)


def seed_search_steps(ev: Evaluator, method: str, spec: AlgorithmSpec, seed: int, top_k: int,
                      on_record: Callable[[dict], None] | None = None) -> Steps[SeedSearch]:
    """The separate or largest strategy on a fresh evaluator, as search steps."""
    trace = Trace(on_record=on_record)
    res = yield from STRATEGY_STEPS[method](ev, Objective("max"), spec, seed, trace,
                                            top_k=max(top_k, len(ev.workloads)))
    if method == "separate":  # every network's own best is a candidate
        candidates = np.unique(np.stack(list(res.per_workload_best.values())), axis=0)
    else:
        candidates = res.best[:top_k]
    return SeedSearch(ev.evaluated().genomes.copy(), list(trace.rows), ev.n_calls, candidates,
                      dict(res.per_workload_best), res.optima, dict(res.notes))


def run_seed_search(ev: Evaluator, method: str, spec: AlgorithmSpec, seed: int, top_k: int,
                    on_record: Callable[[dict], None] | None = None) -> SeedSearch:
    """Run the separate or largest strategy once on a fresh evaluator."""
    return run(seed_search_steps(ev, method, spec, seed, top_k, on_record))


def replay(search: SeedSearch, ev: Evaluator, obj: Objective, trace: Trace,
           top_k: int) -> StrategyResult:
    """The search's outputs in a cell: its designs evaluated into `ev` (from the shared
    store: no model run), its convergence rows, its candidates ranked by the cell's `obj`."""
    ev.evaluate(search.genomes)
    order = obj.rank(ev.evaluate(search.candidates))
    ev.n_calls = search.n_calls
    for row in search.rows:
        trace.rows.append(dict(row))
        if trace.on_record:
            trace.on_record(trace.rows[-1])
    return StrategyResult(search.candidates[order][:top_k], optima=search.optima,
                          per_workload_best=dict(search.per_workload_best),
                          notes=dict(search.notes))


@dataclass
class GroupReference:
    """A group's loss reference: each network's own optimum, the designs reaching them
    (genomes of the group's space; None where unknown) and the networks no design can run
    ({network: why})."""

    optima: Optima
    genomes: list[list[int] | None]
    infeasible: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {**self.optima.to_json(), "genomes": self.genomes, "infeasible": self.infeasible}

    @classmethod
    def from_json(cls, doc: dict) -> GroupReference:
        return cls(Optima.from_json(doc), list(doc["genomes"]), dict(doc.get("infeasible", {})))


def _reference(ev: Evaluator, values: np.ndarray, genomes: list[np.ndarray | None],
               source: str) -> GroupReference:
    found = [g is not None and bool(np.isfinite(v)) for g, v in zip(genomes, values,
                                                                   strict=True)]
    keys = tuple(ev.space.keys(g[None, :])[0] if ok else None
                 for g, ok in zip(genomes, found, strict=True))
    return GroupReference(Optima(tuple(ev.workload_names), tuple(map(float, values)), source,
                                 keys),
                          [[int(x) for x in g] if ok else None
                           for g, ok in zip(genomes, found, strict=True)])


def from_searches(ev: Evaluator, searches: list[SeedSearch]) -> GroupReference:
    """The best-known reference: each network's lowest EDAP over the separate searches."""
    opt = np.stack([s.optima for s in searches])
    best = opt.argmin(axis=0)
    genomes = [searches[int(b)].per_workload_best[w] for w, b in zip(ev.workload_names, best,
                                                                     strict=True)]
    return _reference(ev, opt.min(axis=0), genomes, "best-known")


def exact(ev: Evaluator, chunk: int) -> GroupReference:
    """The exact reference (enumeration per network)."""
    opt, genomes = exact_optima(ev, chunk)
    return _reference(ev, opt, list(genomes), "exact")


def unrunnable(ev: Evaluator, chunk: int, probe: int = 100_000) -> dict[str, str]:
    """{network: why} for the networks no design of the space can run (weights that fit no
    chip within the area limit). A random sample through the cheap screen clears most
    networks at once; only one with no design in the sample is enumerated (`first_feasible`).
    """
    g = ev.space.sample(probe, 0)
    g = g[ev.screen(g, [])]
    out: dict[str, str] = {}
    for w, name in enumerate(ev.workload_names):
        if len(g) and ev.screen(g, [w]).any():
            continue
        if first_feasible(ev, w, chunk) is None:
            out[name] = (f"no design of the {ev.space.name} space within "
                         f"{ev.area_limit_mm2:g} mm2 can run {name} (its weights do not fit)")
    return out


def not_searched(ev: Evaluator, infeasible: dict[str, str]) -> GroupReference:
    """The reference of a group no chip can serve: nothing searched, no optimum known."""
    n = len(ev.workloads)
    return GroupReference(Optima(tuple(ev.workload_names), (np.inf,) * n, "best-known"),
                          [None] * n, dict(infeasible))


def complete(ref: GroupReference, ev: Evaluator, chunk: int) -> GroupReference:
    """Fill the networks without an optimum: a design that runs one (found by enumerating
    the screen) gives a best-known value; none proves that no design can run it."""
    if ref.infeasible:
        return ref
    values = ref.optima.values.copy()
    genomes: list[np.ndarray | None] = [None if g is None else np.asarray(g)
                                        for g in ref.genomes]
    infeasible: dict[str, str] = {}
    for w, name in enumerate(ref.optima.workloads):
        if np.isfinite(values[w]):
            continue
        g = None if ref.optima.source == "exact" else first_feasible(ev, w, chunk)
        if g is None:
            infeasible[name] = (f"no design of the {ev.space.name} space within "
                                f"{ev.area_limit_mm2:g} mm2 can run {name} (its weights do "
                                "not fit)")
            continue
        values[w] = float(ev.edap_on(g[None, :], w)[0][0])
        genomes[w] = g
    out = _reference(ev, values, genomes, ref.optima.source)
    out.infeasible = infeasible
    return out
