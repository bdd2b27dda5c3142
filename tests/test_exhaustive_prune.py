"""Branch and bound in `exhaustive` (search/bounds.py): the layer bounds are lower bounds, and
pruning never changes the answer (same best designs, values, order and per-workload optima
as the unpruned scan)."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest

from imcopt.hardware import get_space, load_technology
from imcopt.objectives import Evaluator, Objective
from imcopt.search import exhaustive
from imcopt.search.bounds import LayerBound, bound_eligible, layers_independent, objective_bound
from imcopt.search.optima import exact_optima
from imcopt.workloads import FOUR_NETWORKS, get

ex = importlib.import_module("imcopt.search.exhaustive")


def _space():
    full = get_space("sram_study")
    return full.restrict(voltage_v=(0.5, 0.7, 0.85), clock_period_s=(1e-9, 6e-9),
                         rows_per_array=(16, 64, 256, 512), cols_per_array=(32, 128, 512),
                         router_groups=(1, 6, 32), tiles_per_group=(2, 16, 64),
                         arrays_per_tile=(2, 16, 128), glb_depth_words=(4096, 65536, 524288))


@pytest.fixture(scope="module")
def setup():
    tech = load_technology("sram").with_settings(max_psum_bits_lost=float("inf"))
    return _space(), tech, [get(w) for w in FOUR_NETWORKS]


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    # small batches, so that the reduced space is pruned over many of them
    monkeypatch.setattr(ex, "BATCH", 128)


def _evaluator(setup) -> Evaluator:
    space, tech, wls = setup
    return Evaluator(space, tech, wls)


def _same(a, b) -> None:
    assert np.array_equal(a.best.genomes, b.best.genomes)
    assert np.array_equal(a.fitness, b.fitness)
    assert np.array_equal(a.optima, b.optima)
    assert np.array_equal(a.optimum_genomes, b.optimum_genomes)


def test_bounds_are_lower_bounds(setup):
    ev = _evaluator(setup)
    bound = LayerBound.build(ev)
    assert bound is not None
    g = ev.space.sample(300, 5)
    full = ev.evaluate(g)
    n_w = len(ev.workloads)
    every = bound.first([bound.n_layers(w) for w in range(n_w)])
    e, lat, area = bound.lower(g, every)
    # every distinct layer, weighted by its count: the network's whole energy and latency
    np.testing.assert_allclose(e, full.energy_j, rtol=1e-12)
    np.testing.assert_allclose(lat, full.latency_s, rtol=1e-12)
    np.testing.assert_array_equal(area, full.area_mm2)
    for k in (1, 2, 5):
        e, lat, _ = bound.lower(g, bound.first([k] * n_w))
        assert np.all(e <= full.energy_j * (1 + 1e-12))
        assert np.all(lat <= full.latency_s * (1 + 1e-12))
    obj = Objective("max")
    for k in (1, 3):
        e, lat, area = bound.lower(g, bound.plan(obj, k))
        b = objective_bound(obj, e, lat, area)
        assert np.all(b <= obj.raw(full) * (1 + 1e-12))


@pytest.mark.parametrize("aggregation", ["max", "worst_regret", "mean", "geomean",
                                         "edap_cost"])
def test_pruning_keeps_the_answer(setup, aggregation):
    optima = None
    if aggregation == "worst_regret":
        optima = tuple(exhaustive(_evaluator(setup), Objective("max"), keep=1,
                                  per_workload=True, prune=False).optima)
    obj = Objective(aggregation, optima=optima)
    plain = exhaustive(_evaluator(setup), obj, keep=10, prune=False)
    pruned = exhaustive(_evaluator(setup), obj, keep=10, prune=True)
    _same(plain, pruned)
    assert pruned.n_evaluated < plain.n_evaluated  # it did prune
    assert pruned.n_screened == plain.n_evaluated  # every screened design was bounded


def test_pruning_keeps_per_workload_optima_and_subsets(setup):
    obj = Objective("max", subset=(0, 3))
    plain = exhaustive(_evaluator(setup), obj, keep=5, per_workload=True, prune=False)
    pruned = exhaustive(_evaluator(setup), obj, keep=5, per_workload=True, prune=True)
    _same(plain, pruned)
    assert np.isfinite(pruned.optima[[0, 3]]).all()
    opt_plain = exact_optima(_evaluator(setup), prune=False)
    opt_pruned = exact_optima(_evaluator(setup), prune=True)
    assert np.array_equal(opt_plain[0], opt_pruned[0])
    assert np.array_equal(opt_plain[1], opt_pruned[1])


def test_pruning_keeps_the_answer_on_free_genes(setup):
    ev = _evaluator(setup)
    base = np.array(ev.space.cardinalities) // 2
    free = [0, 2, 3, 5, 6]
    plain = exhaustive(ev, Objective("max"), free=free, base=base, keep=7, prune=False)
    pruned = exhaustive(_evaluator(setup), Objective("max"), free=free, base=base, keep=7,
                        prune=True)
    _same(plain, pruned)


def test_ties_keep_enumeration_order(setup):
    # the unpruned scan sees designs in enumeration order, so equal values keep that order;
    # the pruned one sees them in order of the bound and must sort ties by number
    ev = _evaluator(setup)
    g = ev.space.sample(3, 2)
    both = ev.evaluate(np.concatenate([g, g]))
    numbers = np.array([10, 11, 12, 0, 1, 2])
    order = ex._rank(Objective("max"), both, numbers)
    for i, j in zip(order[::2], order[1::2], strict=True):
        assert numbers[i] < numbers[j] and np.array_equal(both.genomes[i], both.genomes[j])


def test_no_bound_where_layers_share_the_chip():
    rram = load_technology("rram")  # resident weights placed together
    assert not layers_independent(rram)
    ev = Evaluator(get_space("rram_study"), rram, [get("alexnet")])
    assert not bound_eligible(ev) and LayerBound.build(ev) is None
    assert layers_independent(load_technology("sram"))


def test_pruned_scan_reports_progress_up_to_the_last_screened_design(setup):
    ev = _evaluator(setup)
    seen: list[int] = []
    total = int(np.prod(ev.space.cardinalities))

    def progress(done: int, n: int) -> None:
        assert n == total
        seen.append(done)

    exhaustive(ev, Objective("max"), chunk=2000, prune=True, progress=progress)
    from imcopt.hardware.space import mixed_radix
    passing = np.flatnonzero(ev.screen(mixed_radix(ev.space.cardinalities, 0, total)))
    assert len(seen) >= total // 2000 and all(b > a for a, b in itertools.pairwise(seen))
    assert seen[-1] == passing[-1] + 1


def test_a_weighted_objective_bounds_only_with_its_weighted_networks(setup):
    ev = _evaluator(setup)
    bound = LayerBound.build(ev)
    one_hot = Objective("weighted", weights=(0.0, 1.0, 0.0, 0.0))
    picks = bound.plan(one_hot, 8)
    assert picks and {w for w, _, _ in picks} == {1}
    assert len(picks) == min(8, bound.n_layers(1))
    both = bound.plan(Objective("weighted", weights=(0.0, 1.0, 0.0, 2.0)), 64)
    assert {w for w, _, _ in both} == {1, 3}


def test_bound_order_hands_out_every_design_that_can_enter_in_order(monkeypatch):
    monkeypatch.setattr(ex, "BATCH", 16)
    rng = np.random.default_rng(3)
    bnd = np.round(rng.random(500), 2)  # many ties
    got = np.concatenate(list(ex._bound_order(bnd, lambda: np.inf)))
    # no threshold: every design once, by bound, ties by index (a stable sort)
    np.testing.assert_array_equal(got, np.argsort(bnd, kind="stable"))
    batches = list(ex._bound_order(bnd, lambda: 0.3))
    assert [len(b) for b in batches[:3]] == [16, 32, 64]  # doubling after the first
    got = np.concatenate(batches)
    # with a threshold after the first batch: the first 16, then exactly the rest that it
    # cannot prune, still in order
    first = np.argsort(bnd, kind="stable")[:16]
    rest = [i for i in np.argsort(bnd, kind="stable") if i not in set(first)
            and not bnd[i] * (1 - 1e-9) > 0.3]
    np.testing.assert_array_equal(got, np.concatenate([first, rest]))
    assert np.all(np.diff(bnd[got]) >= 0)
    # ties across the first batch's edge: the lowest indices go first
    np.testing.assert_array_equal(next(ex._bound_order(np.zeros(100), lambda: 1.0)),
                                  np.arange(16))


def test_sample_limits_are_the_samples_own_results_and_above_the_scans(setup):
    ev = _evaluator(setup)
    bound = LayerBound.build(ev)
    g = bound.sample_genomes
    assert g is not None and len(g) > 50 and ev.screen(g).all()
    objs = {"max": Objective("max"), "mean": Objective("mean")}
    limits, own = ex._sample_limits(ev, bound, objs, {"max": 7, "mean": 30}, True)
    # the keep-th best value over the sample, and each network's lowest feasible EDAP there,
    # design by design
    one_by_one = [ev.evaluate(x[None, :]) for x in g]
    for k, keep in (("max", 7), ("mean", 30)):
        values = sorted(float(objs[k].fitness(e)[0]) for e in one_by_one)
        assert limits[k] == values[keep - 1]
    for w in range(len(ev.workloads)):
        edap = [float(e.edap[0, w]) for e in one_by_one
                if e.area_ok[0] and e.capacity_ok[0, w] and np.isfinite(e.edap[0, w])]
        assert own[w] == pytest.approx(min(edap), rel=1e-12)
    # limits of what the whole scan finds: never below it
    full = exhaustive(_evaluator(setup), objs["max"], keep=7, per_workload=True, prune=False)
    assert limits["max"] >= full.fitness[6]
    assert np.all(own >= full.optima)
    # no per-network limits without own optima; +inf where the sample has too few designs
    limits, own = ex._sample_limits(ev, bound, objs, {"max": len(g) + 1, "mean": 1}, False)
    assert limits["max"] == np.inf and np.isfinite(limits["mean"]) and np.all(own == np.inf)


def test_bounds_as_tight_as_the_values_still_keep_the_answer(setup, monkeypatch):
    # a bound equal to each design's value: every pruning rule is tested at its edge (a design
    # whose bound equals the limit or the kept worst must stay)
    exact = LayerBound.lower

    def tight(self, genomes, picks, floor=True):
        if not floor:  # nothing more to add
            e, lat, area = exact(self, genomes, [], floor=True)
            return np.zeros_like(e), np.zeros_like(lat), area
        return exact(self, genomes, self.first([self.n_layers(w)
                                                for w in range(len(self.order))]))

    monkeypatch.setattr(LayerBound, "lower", tight)
    objs = {a: Objective(a) for a in ("max", "mean", "geomean")}
    many = ex.exhaustive_many(_evaluator(setup), objs, keep=6, own_optima=True)
    for a, o in objs.items():
        plain = exhaustive(_evaluator(setup), o, keep=6, per_workload=True, prune=False)
        np.testing.assert_array_equal(many[a].best.genomes, plain.best.genomes)
        np.testing.assert_array_equal(many[a].fitness, plain.fitness)
    opt = exact_optima(_evaluator(setup), prune=False)
    # each network's optimum over the joint screen is at least its own screen's
    assert np.all(many["max"].optima >= opt[0] * (1 - 1e-12))
    monkeypatch.undo()  # the optima with the usual bounds: the same
    usual = ex.exhaustive_many(_evaluator(setup), objs, keep=6, own_optima=True)
    np.testing.assert_array_equal(many["max"].optima, usual["max"].optima)
    np.testing.assert_array_equal(many["max"].optimum_genomes, usual["max"].optimum_genomes)
