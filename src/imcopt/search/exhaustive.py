"""Exhaustive evaluation of a whole (sub)space in chunks with bounded memory.

Designs are enumerated in mixed-radix order, `chunk` at a time. Each chunk is first screened
without running the model (area depends only on the design; the arrays a workload's weights
need only on rows, columns and bits per cell), then the survivors are evaluated. Only the best
`keep` designs by the objective are kept, plus each workload's own optimum (its EDAP, feasible
on that workload: area limit and its own weight capacity).

Pruning (branch and bound; by default from `PRUNE_FROM` designs, where `bounds.LayerBound` is
valid: the analytical model on numpy, layers that do not share the chip): every screened
design is first bounded by every layer's data-movement floor (`model.floor`; no layer costed
in full, unless the floors bound nothing, as under the `cimloop` assumptions: then also the
distinct layer that bounds the objective best on a sample, `LayerBound.plan`), a provable
lower bound of its objective (`bounds` module docstring). Designs are then taken in
increasing order of that bound, in batches: each batch is bounded again with 2, 4, 8, ...
layers costed in full, dropping the designs whose bound exceeds the `keep`-th best value
found so far, and only the rest are evaluated in full; once a batch starts above that value,
no design left can enter the best and the scan stops. Each
workload's own optimum (`per_workload`) is found the same way on its EDAP. The best designs,
their values and order (ties by enumeration order) and each workload's optimum are exactly
those of the unpruned scan; only `n_evaluated` is smaller.

The chunk size follows the evaluator's device: `CHUNK_DESIGNS` designs at a time on numpy,
`TORCH_CHUNK_DESIGNS` on a PyTorch device (a GPU needs big batches to be busy), where the
enumeration and the screen run on the device as well (`device_screen.DeviceScreen`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..hardware.space import mixed_radix as enumerate_genomes
from ..objectives import Evaluation, Evaluator, Objective
from .bounds import LayerBound, die_cost, objective_bound, prunable
from .device_screen import DeviceScreen

CHUNK_DESIGNS = 250_000
TORCH_CHUNK_DESIGNS = 2_000_000
PRUNE_FROM = 200_000  # designs; `exhaustive(prune=None)` prunes from this size on
#: and up to this size: pruning holds a number and a bound (16 bytes; per workload 33 more)
#: for every screened design, where the unpruned scan streams in constant memory
PRUNE_UP_TO = 50_000_000
#: pruning: distinct layers costed in full in the first bound (every screened design, where
#: the floors alone bound nothing; chosen for the objective, `LayerBound.plan`), in the next
#: ones (the designs each leaves, batch by batch; per network for its own optimum), and the
#: batch size
FIRST_LAYERS, SECOND_LAYERS, BATCH = 1, (2, 4, 8, 16, 32, 64), 4096
MAX_BATCH = 65_536  # batches double from BATCH up to this: fewer calls once the best is near


@dataclass
class ExhaustiveResult:
    best: Evaluation  # the best `keep` designs, best first
    fitness: np.ndarray  # their objective values (+inf infeasible)
    optima: np.ndarray  # (W,) each workload's lowest feasible EDAP (inf if none)
    optimum_genomes: np.ndarray  # (W, n_var) the designs that reach them
    n_designs: int
    n_evaluated: int  # designs evaluated in full
    seconds: float
    n_screened: int = 0  # designs that passed the screen (pruning: each was bounded)
    n_bounded_again: int = 0  # pruning: bounds on more layers computed (design x level)


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
    prune: bool | None = None,
) -> ExhaustiveResult:
    """Evaluate every design of the space (or of the `free` parameters, others from `base`).

    per_workload: also find each workload's own optimum (every design that fits that
    workload is evaluated on it alone: slower, as many more designs fit one workload).
    chunk: designs enumerated at a time; default by the evaluator's device (module docstring).
    prune: skip designs whose lower bound shows they cannot enter the best (module
    docstring); the result is the same, only faster. None (default): when the enumeration
    holds at least `PRUNE_FROM` designs (below, building the bound costs more than it
    saves); ignored where no bound is valid (`bounds.bound_eligible`) and above
    `PRUNE_UP_TO` designs (memory).
    """
    if chunk is None:
        chunk = CHUNK_DESIGNS if evaluator.device == "numpy" else TORCH_CHUNK_DESIGNS
    t0 = time.perf_counter()
    space, n_w = evaluator.space, len(evaluator.workloads)
    free_idx = np.arange(space.n_var) if free is None else np.asarray(free, dtype=np.int64)
    base_g = np.zeros(space.n_var, np.int64) if base is None else np.asarray(base, np.int64)
    cards = space.cardinalities[free_idx]
    total = int(np.prod(cards))
    wanted = prune or (prune is None and total >= PRUNE_FROM)
    bound = LayerBound.build(evaluator) if wanted and total <= PRUNE_UP_TO else None
    if bound is not None:
        saved_cache, evaluator.cache = evaluator.cache, False
        try:
            res = _pruned(evaluator, objective, bound, free_idx, base_g, chunk, keep,
                          per_workload, progress)
        finally:
            evaluator.cache = saved_cache
        res.seconds = time.perf_counter() - t0
        return res
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


def exhaustive_many(evaluator: Evaluator, objectives: dict[str, Objective], *,
                    keep: dict[str, int] | int = 100, chunk: int | None = None,
                    own_optima: bool = False,
                    progress: Callable[[int, int], None] | None = None
                    ) -> dict[str, ExhaustiveResult] | None:
    """`exhaustive` of the whole space for several objectives over every workload (no
    `subset`) in one pass: every design that passes the joint screen is bounded once, by the
    floors (and, for an objective or network the floors alone do not bound, the first layer
    of its plan or its heaviest layer in full); then each objective takes the designs in
    order of its own bound (module docstring). Each result's
    best designs, values and order are those `exhaustive` gives for that objective alone;
    `n_screened` is shared. own_optima: every result also holds each workload's lowest EDAP
    (and its design) among the designs that pass the joint screen, each found the same way
    on that workload's EDAP alone (only it evaluated in full; its bounds computed again
    count in the first result's `n_bounded_again`). None where no layer bound is valid
    (`bounds.bound_eligible`) or the space holds more than `PRUNE_UP_TO` designs: then call
    `exhaustive` per objective."""
    t0 = time.perf_counter()
    space, n_w = evaluator.space, len(evaluator.workloads)
    cards, total = space.cardinalities, int(np.prod(space.cardinalities))
    if any(o.subset is not None for o in objectives.values()) or total > PRUNE_UP_TO:
        return None
    bound = LayerBound.build(evaluator)
    if bound is None:
        return None
    chunk = chunk or CHUNK_DESIGNS
    keeps = {k: keep if isinstance(keep, int) else keep[k] for k in objectives}
    plans = {k: bound.plan(o, max(SECOND_LAYERS)) for k, o in objectives.items()}
    # the first bound: the floors, and layers in full where the floors bound nothing
    first = [p for k, o in objectives.items() if not bound.floor_bounds(o)
             for p in plans[k][:FIRST_LAYERS]]
    if own_optima:  # each network's own bound
        first += [p for p in bound.first([1] * n_w) if not bound.floor_bounds(network=p[0])]
    first = list(dict.fromkeys(first))  # each (network, layer) once, in order
    saved, evaluator.cache = evaluator.cache, False
    try:
        limits, own_limits = _sample_limits(evaluator, bound, objectives, keeps, own_optima)
        # per objective and per network: the numbers and bounds of the designs their limit
        # cannot prune (in enumeration order)
        kept: dict[str, tuple[list, list]] = {k: ([], []) for k in objectives}
        own: list[tuple[list, list]] = [([], []) for _ in range(n_w if own_optima else 0)]
        n_screened = 0
        for part, g in screened(evaluator, chunk):
            if len(g):
                n_screened += len(part)
                e_lb, l_lb, area = bound.lower(g, first)
                for k, o in objectives.items():
                    b = objective_bound(o, e_lb, l_lb, area, die_cost(evaluator, g, area, o))
                    rows = ~prunable(b, limits[k])
                    kept[k][0].append(part[rows])
                    kept[k][1].append(b[rows])
                for w, (nums, bws) in enumerate(own):
                    b = e_lb[:, w] * l_lb[:, w] * area
                    rows = ~prunable(b, own_limits[w])
                    nums.append(part[rows])
                    bws.append(b[rows])
            if progress:
                progress(int(part[-1]) + 1 if len(part) else 0, total)
        genomes_of = partial(_genomes, cards=cards, free_idx=np.arange(space.n_var),
                             base_g=np.zeros(space.n_var, np.int64))

        def joined(pair: tuple[list, list]) -> tuple[np.ndarray, np.ndarray]:
            nums, bnds = pair
            return ((np.concatenate(nums), np.concatenate(bnds)) if nums
                    else (np.empty(0, np.int64), np.empty(0)))

        out = {}
        for k, o in objectives.items():
            number, bnd = joined(kept.pop(k))
            levels = [plans[k][:m] for m in SECOND_LAYERS]
            best, n_eval, n_again = _best_in_bound_order(
                evaluator, o, bound, number, bnd, genomes_of, levels, keeps[k])
            if best is None:  # nothing passed the screen: the first designs, all infeasible
                best = evaluator.evaluate(genomes_of(np.arange(min(keeps[k], total))))
            out[k] = ExhaustiveResult(best, o.fitness(best), np.full(n_w, np.inf),
                                      np.zeros((n_w, space.n_var), np.int64), total, n_eval,
                                      time.perf_counter() - t0, n_screened, n_again)
        if own_optima and n_screened:
            opt, opt_g = np.full(n_w, np.inf), np.zeros((n_w, space.n_var), np.int64)
            own_again = 0
            for w in range(n_w):
                number, bnd = joined(own[w])
                own[w] = ([], [])
                edap_w, g_w, again = _own_optimum(evaluator, bound, w, number, bnd, genomes_of)
                own_again += again
                if g_w is not None:
                    opt[w], opt_g[w] = edap_w, g_w
            for r in out.values():
                r.optima, r.optimum_genomes = opt.copy(), opt_g.copy()
            if out:
                out[next(iter(out))].n_bounded_again += own_again
        return out
    finally:
        evaluator.cache = saved


def _sample_limits(evaluator: Evaluator, bound: LayerBound, objectives: dict[str, Objective],
                   keeps: dict[str, int], own_optima: bool
                   ) -> tuple[dict[str, float], np.ndarray]:
    """Values the scan's results cannot exceed, from the bound's sample (designs that pass the
    same screen, so among those the scan takes): each objective's `keep`-th best value on it
    and each network's lowest EDAP (with `own_optima`); +inf where the sample has too few.
    A design whose first bound exceeds its limit can enter no result, so the first pass keeps
    only the others (memory, and every later sort, in proportion)."""
    n_w = len(evaluator.workloads)
    limits = {k: np.inf for k in objectives}
    own_limits = np.full(n_w, np.inf)
    g = bound.sample_genomes
    if g is None or not len(g):
        return limits, own_limits
    ev = evaluator.evaluate(g)
    for k, o in objectives.items():
        f = np.sort(o.fitness(ev))
        if len(f) >= keeps[k] and np.isfinite(f[keeps[k] - 1]):
            limits[k] = float(f[keeps[k] - 1])
    for w in range(n_w if own_optima else 0):
        edap, feasible = evaluator.edap_on(g, w)
        if feasible.any():
            own_limits[w] = float(np.min(edap[feasible]))
    return limits, own_limits


def screened(evaluator: Evaluator, chunk: int = CHUNK_DESIGNS,
             subset: Sequence[int] | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(numbers, genomes) of the designs of the evaluator's whole space that pass its screen
    for `subset` (None: every workload), in enumeration (mixed-radix) order, about `chunk` at
    a time. Only the designs whose weight-capacity genes pass
    (`Evaluator.capacity_candidates`) are enumerated and screened, as no other design can."""
    cards = evaluator.space.cardinalities
    total = int(np.prod(cards))
    every = evaluator.capacity_candidates(subset)
    candidates: Iterator[np.ndarray] = (
        (np.arange(a, min(a + chunk, total), dtype=np.int64) for a in range(0, total, chunk))
        if every is None else (every[a:a + chunk] for a in range(0, len(every), chunk)))
    for part in candidates:
        g = np.column_stack(np.unravel_index(part, cards)).astype(np.int64)
        ok = evaluator.screen(g, subset) if len(g) else np.zeros(0, bool)
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


def _pruned(evaluator: Evaluator, objective: Objective, bound: LayerBound, free_idx: np.ndarray,
            base_g: np.ndarray, chunk: int, keep: int, per_workload: bool,
            progress: Callable[[int, int], None] | None) -> ExhaustiveResult:
    """`exhaustive` with pruning by lower bounds (module docstring)."""
    space, n_w = evaluator.space, len(evaluator.workloads)
    cards = space.cardinalities[free_idx]
    total = int(np.prod(cards))
    wls = list(range(n_w)) if objective.subset is None else list(objective.subset)
    # per_workload: the stream is screened on area alone; then each design is marked for the
    # joint screen and for each workload's own (the unpruned scan's sets exactly)
    stream_subset: Sequence[int] | None = [] if per_workload else objective.subset
    whole = np.array_equal(free_idx, np.arange(space.n_var))

    genomes_of = partial(_genomes, cards=cards, free_idx=free_idx, base_g=base_g)
    table = evaluator.capacity_table(stream_subset) if whole else None

    def stream() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if table is not None and not table[1].all():  # the capacity genes skip designs
            yield from screened(evaluator, chunk, stream_subset)
            return
        for start in range(0, total, chunk):  # (enumerating is cheaper than listing)
            numbers = np.arange(start, min(start + chunk, total), dtype=np.int64)
            g = np.repeat(base_g[None, :], len(numbers), axis=0)
            g[:, free_idx] = enumerate_genomes(cards, start, start + len(numbers))
            ok = evaluator.screen(g, stream_subset)
            yield numbers[ok], g[ok]

    # 1. every screened design: a lower bound from the layer that bounds the objective best
    # (per workload: and from each workload's heaviest layer, for its own optimum)
    picks = bound.plan(objective, max(SECOND_LAYERS))  # greedy: each size's are a prefix
    first = [] if bound.floor_bounds(objective) else picks[:FIRST_LAYERS]
    if per_workload:  # every workload's own bound
        first += [p for p in bound.first([1] * n_w) if p[0] in wls and p not in first
                  and not bound.floor_bounds(network=p[0])]
    numbers, b_obj, joint, b_w, own = [], [], [], [], []
    for part, g in stream():
        if len(g):
            e_lb, l_lb, area = bound.lower(g, first)
            numbers.append(part)
            b_obj.append(objective_bound(objective, e_lb, l_lb, area,
                                         die_cost(evaluator, g, area, objective)))
            if per_workload:
                own.append(_own_screens(evaluator, g, wls))
                # the screen of several workloads is the AND of theirs (weights fit on each,
                # no column sum of each truncated; area and die are shared)
                joint.append(own[-1].all(axis=1) if objective.subset is None
                             else own[-1][:, [wls.index(w) for w in objective.subset]].all(1))
                b_w.append(e_lb[:, wls] * l_lb[:, wls] * area[:, None])
        if progress:
            progress(int(part[-1]) + 1 if len(part) else 0, total)
    number = np.concatenate(numbers) if numbers else np.empty(0, np.int64)
    n_screened = len(number)
    bnd = np.concatenate(b_obj) if numbers else np.empty(0)
    if per_workload and numbers:
        in_joint = np.concatenate(joint)
        number_j, bnd = number[in_joint], bnd[in_joint]
    else:
        number_j = number

    # 2. the best `keep` by the objective, in order of the bound
    levels = [picks[:k] for k in SECOND_LAYERS]
    best, n_eval, n_again = _best_in_bound_order(
        evaluator, objective, bound, number_j, bnd, genomes_of, levels, keep)
    if best is None:  # nothing passed the screen: keep the first designs, all infeasible
        best = evaluator.evaluate(genomes_of(np.arange(min(keep, total), dtype=np.int64)))

    # 3. each workload's own optimum: the same search on its EDAP alone
    opt = np.full(n_w, np.inf)
    opt_g = np.repeat(base_g[None, :], n_w, axis=0)
    if per_workload and numbers:
        own_all, bw_all = np.concatenate(own), np.concatenate(b_w)
        for i, w in enumerate(wls):
            sel = np.flatnonzero(own_all[:, i])
            edap_w, g_w, again = _own_optimum(evaluator, bound, w, number[sel],
                                              bw_all[sel, i], genomes_of)
            n_again += again
            if g_w is not None:
                opt[w], opt_g[w] = edap_w, g_w
    return ExhaustiveResult(best, objective.fitness(best), opt, opt_g, total, n_eval, 0.0,
                            n_screened, n_again)


def _genomes(numbers: np.ndarray, cards: np.ndarray, free_idx: np.ndarray,
             base_g: np.ndarray) -> np.ndarray:
    """The genomes of enumeration numbers over the `free_idx` genes (cardinalities `cards`),
    the other genes from `base_g`."""
    g = np.repeat(base_g[None, :], len(numbers), axis=0)
    g[:, free_idx] = (np.column_stack(np.unravel_index(numbers, cards)) if len(numbers)
                      else np.empty((0, len(free_idx)), np.int64))
    return g


def _own_optimum(evaluator: Evaluator, bound: LayerBound, w: int, number: np.ndarray,
                 bnd: np.ndarray, genomes_of: Callable[[np.ndarray], np.ndarray]
                 ) -> tuple[float, np.ndarray | None, int]:
    """Workload w's lowest feasible EDAP among the designs `number` with lower bounds `bnd`
    of their EDAP on w, taken in order of the bound and bounded again on w's heaviest 2, 4,
    ... layers; only w is evaluated in full. (EDAP, its design or None, bounds computed
    again); ties by enumeration number."""
    n_w = len(evaluator.workloads)
    best_w = (np.inf, np.iinfo(np.int64).max)
    genome, n_again = None, 0
    levels = [bound.first([k if v == w else 0 for v in range(n_w)]) for k in SECOND_LAYERS]

    def edap_bound(e_lb: np.ndarray, l_lb: np.ndarray, area: np.ndarray,
                   g: np.ndarray) -> np.ndarray:
        return e_lb[:, w] * l_lb[:, w] * area

    # (the threshold is read after the first batch: its value then is the one wanted)
    for rows in _bound_order(bnd, lambda: best_w[0]):  # noqa: B023
        if prunable(bnd[rows[:1]], best_w[0]).all():
            break
        rows = rows[~prunable(bnd[rows], best_w[0])]
        rows, g, again = _refine(bound, rows, genomes_of(number[rows]), levels, edap_bound,
                                 best_w[0])
        n_again += again
        if not len(g):
            continue
        edap, feas = evaluator.edap_on(g, w)
        edap = np.where(feas, edap, np.inf)
        j = int(np.lexsort((number[rows], edap))[0])
        if np.isfinite(edap[j]) and (edap[j], number[rows][j]) < best_w:
            best_w = (float(edap[j]), int(number[rows][j]))
            genome = g[j]
    return best_w[0], genome, n_again


def _refine(bound: LayerBound, rows: np.ndarray, g: np.ndarray,
            levels: list[list[tuple[int, int, int]]],
            value: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray],
            threshold: float) -> tuple[np.ndarray, np.ndarray, int]:
    """The rows (and genomes) whose bound on ever more layers stays within the threshold:
    the floors, then each level adds what its new picks cost above their floors (more
    layers in full, so a higher bound that is still a lower bound); and how many design
    bounds were computed."""
    e_lb = l_lb = area = None
    done: set[tuple[int, int, int]] = set()
    n_again = 0
    for picks in levels:
        new = [p for p in picks if p not in done]
        if not len(g) or not np.isfinite(threshold) or not new:
            continue
        done.update(new)
        e, lat, area = bound.lower(g, new, floor=e_lb is None)
        e_lb, l_lb = (e, lat) if e_lb is None else (e_lb + e, l_lb + lat)
        n_again += len(g)
        ok = ~prunable(value(e_lb, l_lb, area, g), threshold)
        rows, g, e_lb, l_lb = rows[ok], g[ok], e_lb[ok], l_lb[ok]
    return rows, g, n_again


def _best_in_bound_order(evaluator: Evaluator, objective: Objective, bound: LayerBound,
                         number: np.ndarray, bnd: np.ndarray,
                         genomes_of: Callable[[np.ndarray], np.ndarray],
                         levels: list[list[tuple[int, int, int]]], keep: int
                         ) -> tuple[Evaluation | None, int, int]:
    """The best `keep` designs by the objective among the designs `number` with lower bounds
    `bnd`, taken in order of the bound, each batch bounded again on `levels` (module
    docstring): (the best, best first, or None; designs evaluated in full; bounds computed
    again)."""
    def objective_value(e_lb: np.ndarray, l_lb: np.ndarray, area: np.ndarray,
                        g: np.ndarray) -> np.ndarray:
        return objective_bound(objective, e_lb, l_lb, area, die_cost(evaluator, g, area, objective))

    best: Evaluation | None = None
    best_n = np.empty(0, np.int64)
    n_eval = n_again = 0
    threshold = np.inf
    for rows in _bound_order(bnd, lambda: threshold):  # noqa: B023 (its value then)
        if prunable(bnd[rows[:1]], threshold).all():
            break  # sorted by the bound: no design left can enter the best
        rows = rows[~prunable(bnd[rows], threshold)]
        rows, g, again = _refine(bound, rows, genomes_of(number[rows]), levels,
                                 objective_value, threshold)
        n_again += again
        if not len(g):
            continue
        ev = evaluator.evaluate(g)
        n_eval += len(g)
        best = ev if best is None else _concat(best, ev)
        best_n = np.concatenate([best_n, number[rows]])
        top = _rank(objective, best, best_n)[:keep]
        best, best_n = best.take(top), best_n[top]
        fit = objective.fitness(best)
        if len(best) >= keep and np.isfinite(fit[-1]):
            threshold = float(fit[-1])
    return best, n_eval, n_again


def _bound_order(bnd: np.ndarray, threshold: Callable[[], float]) -> Iterator[np.ndarray]:
    """Indices of the designs in increasing order of their bound `bnd` (ties by index: the
    numbers are increasing), in batches `BATCH` long at first and doubling up to `MAX_BATCH`.
    Only the first batch is picked from all of them (a partition, not a sort); after it,
    only the designs the caller's `threshold()` (its worst kept value) cannot prune are
    sorted and handed out, as no other can enter the best."""
    if len(bnd) <= BATCH:
        yield from _batches(np.argsort(bnd, kind="stable"), BATCH)
        return
    kth = np.partition(bnd, BATCH - 1)[BATCH - 1]
    below = np.flatnonzero(bnd < kth)  # ties at the boundary: the lowest indices
    head = np.concatenate([below, np.flatnonzero(bnd == kth)[:BATCH - len(below)]])
    yield head[np.lexsort((head, bnd[head]))]
    rest = np.ones(len(bnd), dtype=bool)
    rest[head] = False
    rest = np.flatnonzero(rest & ~prunable(bnd, threshold()))
    yield from _batches(rest[np.argsort(bnd[rest], kind="stable")], 2 * BATCH)


def _batches(order: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """Consecutive slices of `order`, `size` long at first and doubling up to MAX_BATCH."""
    start = 0
    while start < len(order):
        yield order[start:start + size]
        start, size = start + size, min(2 * size, max(MAX_BATCH, BATCH))


def _rank(objective: Objective, ev: Evaluation, numbers: np.ndarray) -> np.ndarray:
    """`Objective.rank` with ties broken by enumeration number (as the unpruned scan, which
    sees the designs in that order, breaks them)."""
    fit = objective.fitness(ev)
    cv = np.maximum(objective.violation(ev), 0.0).sum(axis=1)
    return np.lexsort((numbers, np.nan_to_num(objective.raw(ev), nan=np.inf), cv,
                       ~np.isfinite(fit)))


def _own_screens(evaluator: Evaluator, g: np.ndarray, wls: list[int]) -> np.ndarray:
    """(N, len(wls)) `evaluator.screen(g, [w])` for designs that pass `screen(g, [])`: their
    area and die pass, so only each workload's own parts remain (its weights fit, its column
    sums are not truncated), without the area again."""
    if type(evaluator).screen is not Evaluator.screen:
        return np.column_stack([evaluator.screen(g, [w]) for w in wls])
    d = evaluator.space.decode(g)
    return np.column_stack([evaluator._capacity_ok(g, [w]) & evaluator.precision_ok(d, [w])
                            for w in wls])
