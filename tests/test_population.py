"""The array-native search machinery: genome codes and indices, the evaluation table, GA
generations (tournament, offspring, survival), screened sampling, lockstep driving, the
exhaustive enumeration of screened designs, the technology cache and the kept designs.

Oracles are simple, separate code here (itertools, plain loops, dicts, full enumeration)."""

from __future__ import annotations

import itertools
import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest

from imcopt.hardware import get_space, load_technology
from imcopt.hardware.space import genome_codes, mixed_radix
from imcopt.objectives import Evaluation, EvaluationTable, Evaluator, GenomeIndex, Objective
from imcopt.search import AlgorithmSpec, HammingSampling, Phase, Trace, run_search
from imcopt.search.algorithms import run
from imcopt.search.exhaustive import screened
from imcopt.search.lockstep import lockstep
from imcopt.search.population import (
    Population,
    fitness_survival,
    fitness_tournament,
    offspring,
    rank_and_crowding_survival,
)
from imcopt.search.problem import DesignProblem
from imcopt.search.sampling import random_genes
from imcopt.search.strategies import joint, joint_steps
from imcopt.workloads import get

VALUES = {"voltage_v": [0.6, 0.8], "bits_per_cell": [2, 4, 8], "clock_period_s": [1e-9, 4e-9],
          "rows_per_array": [64, 128, 512], "cols_per_array": [64, 256],
          "router_groups": [2, 8, 16], "tiles_per_group": [8, 32],
          "arrays_per_tile": [8, 32, 64], "glb_depth_words": [16384]}
WORKLOADS = ("alexnet", "resnet18", "mobilenet_v3")


@pytest.fixture(scope="module")
def space():
    return get_space("rram").restrict(**VALUES)


def _evaluator(space, area_limit_mm2: float = 300.0, **kwargs) -> Evaluator:
    return Evaluator(space, load_technology("rram"), [get(w) for w in WORKLOADS], area_limit_mm2,
                     **kwargs)


# ---- genome numbers, codes and the cache index ----------------------------------------------
def test_mixed_radix_counts_like_itertools_product():
    for cards in ([3, 1, 4, 2], [5], [2, 3, 2, 1, 3]):
        every = np.array(list(itertools.product(*[range(c) for c in cards])))
        n = len(every)
        for start, stop in ((0, n), (1, min(7, n)), (n - 1, n), (3, 3), (max(n - 4, 0), n)):
            np.testing.assert_array_equal(mixed_radix(np.array(cards), start, stop),
                                          every[start:stop].reshape(-1, len(cards)))


def test_genome_codes_are_equal_exactly_for_equal_rows():
    rng = np.random.default_rng(0)
    cards = np.array([4, 3, 5, 2])
    x = rng.integers(0, cards, size=(300, 4))
    codes = genome_codes(x, cards)
    assert codes.dtype == np.int64
    same = (x[:, None, :] == x[None, :, :]).all(axis=2)
    np.testing.assert_array_equal(codes[:, None] == codes[None, :], same)
    huge = np.full(40, 1000)  # the product does not fit in int64: bytes keys
    y = np.vstack([np.arange(40), np.arange(40), np.zeros(40, int)])
    big = genome_codes(y, huge)
    assert big.dtype == object and big[0] == big[1] != big[2]


@pytest.mark.parametrize("kind", ["int", "bytes"])
def test_genome_index_finds_what_a_dict_finds(kind):
    rng = np.random.default_rng(1)
    index, oracle = GenomeIndex(), {}
    row = 0
    for _ in range(20):
        raw = rng.integers(0, 50, size=rng.integers(1, 30))
        codes = (np.array([bytes([int(v)]) for v in raw], dtype=object) if kind == "bytes"
                 else raw.astype(np.int64))
        expect = np.array([oracle.get(c, -1) for c in codes.tolist()])
        np.testing.assert_array_equal(index.rows(codes), expect)
        new = list(dict.fromkeys(c for c in codes.tolist() if c not in oracle))
        for c in new:
            oracle[c] = row
            row += 1
        index.add(np.array(new, dtype=codes.dtype), row - len(new))


def test_evaluation_table_grows_and_gives_read_only_views(space):
    ev = _evaluator(space, cache=False)
    parts = [ev.evaluate(space.sample(n, n)) for n in (3, 700, 1, 900)]
    parts[2].reason = np.array(["a much longer reason than any before " * 5])
    table = EvaluationTable(space.n_var, len(WORKLOADS), capacity=2)
    for p in parts:
        table.append(p)
    view = table.view()
    assert len(view) == sum(len(p) for p in parts)
    for name in ("genomes", "energy_j", "capacity_ok", "reason", "cost_usd"):
        np.testing.assert_array_equal(getattr(view, name),
                                      np.concatenate([getattr(p, name) for p in parts]))
    with pytest.raises(ValueError):
        view.energy_j[0] = 1.0


def test_the_cache_returns_what_the_model_gives(space):
    rng = np.random.default_rng(2)
    cached, plain = _evaluator(space), _evaluator(space, cache=False)
    seen = []
    for n in (50, 80, 30):
        g = rng.integers(0, space.cardinalities, size=(n, space.n_var))
        g = np.concatenate([g, g[:5]])  # repeats inside a batch
        a, b = cached.evaluate(g), plain.evaluate(g)
        for name in ("energy_j", "latency_s", "area_mm2", "capacity_ok", "reason"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        seen += [tuple(r) for r in g]
    first_seen = np.array(list(dict.fromkeys(seen)))
    np.testing.assert_array_equal(cached.evaluated().genomes, first_seen)
    assert cached.n_evals == len(first_seen) and cached.n_calls == len(seen)


# ---- GA generations ------------------------------------------------------------------------
def _pop(F, CV, X=None) -> Population:
    F = np.asarray(F, float).reshape(len(F), -1)
    X = np.arange(len(F))[:, None] if X is None else np.asarray(X)
    return Population(X, F, np.asarray(CV, float))


def test_fitness_survival_sorts_by_violation_then_objective_keeping_order_on_ties():
    pop = _pop([5, 1, 3, 1, 0, 2], [0, 0, 0, 0, 0.5, 0.1])
    # feasible first by F (1 at rows 1 and 3: the earlier first), then by violation
    np.testing.assert_array_equal(fitness_survival(pop, 6, None).X[:, 0], [1, 3, 2, 0, 5, 4])
    np.testing.assert_array_equal(fitness_survival(pop, 2, None).X[:, 0], [1, 3])


def test_tournaments_prefer_the_feasible_then_the_better():
    rng = np.random.default_rng(3)
    pop = _pop([1.0, 9.0, 0.0, 5.0], [0.0, 0.0, 2.0, 0.0])  # row 2: best F, but infeasible
    wins = np.bincount(fitness_tournament(pop, 3000, rng), minlength=4)
    # contests pair the rows of random permutations of 4: each row is in one contest per
    # permutation (1500 of them), against each other row a third of the time. Row 0 beats
    # every row, row 3 all but row 0, row 1 only the infeasible row 2, which never wins.
    assert wins[0] == 1500 and wins[2] == 0
    assert abs(wins[3] - 1000) < 100 and abs(wins[1] - 500) < 100


def test_rank_and_crowding_keeps_fronts_in_order_and_feasible_first():
    F = [[1, 4], [2, 2], [4, 1], [3, 3], [5, 5], [0, 0]]
    pop = _pop(F, [0, 0, 0, 0, 0, 1.0])  # the last point dominates all but is infeasible
    kept = rank_and_crowding_survival(pop, 5, np.random.default_rng(0))
    assert set(kept.X[:3, 0]) == {0, 1, 2} and list(kept.rank[:3]) == [0, 0, 0]
    assert kept.X[3, 0] == 3 and kept.X[4, 0] == 4 and list(kept.rank[3:]) == [1, 2]
    out = rank_and_crowding_survival(pop, 6, np.random.default_rng(0))
    assert out.X[-1, 0] == 5  # infeasible last


def test_offspring_are_new_distinct_and_inside_the_bounds(space):
    problem = DesignProblem(_evaluator(space), Objective("max"))
    rng = np.random.default_rng(4)
    X = rng.integers(0, space.cardinalities, size=(12, space.n_var))
    X = np.unique(X, axis=0)
    pop = _pop(rng.random(len(X)), np.zeros(len(X)), X)
    from imcopt.search.algorithms import _operators

    kids, share = offspring(problem, pop, 30, *_operators(Phase()), fitness_tournament, rng)
    assert 0 < len(kids) <= 30 and 0 <= share <= 1
    assert len(np.unique(kids, axis=0)) == len(kids)
    assert not (kids[:, None, :] == X[None, :, :]).all(axis=2).any()
    assert (kids >= 0).all() and (kids < space.cardinalities).all()


# ---- screened sampling -----------------------------------------------------------------------
def test_capacity_table_covers_every_design_the_screen_passes(space):
    ev = _evaluator(space)
    every = mixed_radix(space.cardinalities, 0, space.size)
    for subset in (None, (1,), (0, 2)):
        genes, table = ev.capacity_table(subset)
        ok = ev.screen(every, subset)
        assert ok.any() and not ok.all()
        assert table[tuple(every[ok][:, genes].T)].all()  # every passing design is covered


@pytest.mark.parametrize("pool_after", [3, 0], ids=["screened draws", "from the pool"])
def test_screened_draws_are_uniform_over_the_designs_that_pass(space, monkeypatch,
                                                               pool_after):
    from imcopt.search import sampling

    monkeypatch.setattr(sampling, "POOL_AFTER_ROUNDS", pool_after)
    ev = _evaluator(space)
    problem = DesignProblem(ev, Objective("max"))
    every = mixed_radix(space.cardinalities, 0, space.size)
    passing = every[ev.screen(every)]
    draws = random_genes(problem, 12_000, np.random.default_rng(5), feasible_only=True)
    assert ev.screen(draws).all()
    codes = genome_codes(draws, space.cardinalities)
    counts = np.bincount(np.searchsorted(np.sort(genome_codes(passing, space.cardinalities)),
                                         codes), minlength=len(passing))
    expected = len(draws) / len(passing)
    # every passing design is drawn, about equally often (a chi-square statistic near its
    # degrees of freedom; a sampler favouring part of the set by 2x scores ~ 1.5x more)
    assert (counts > 0).mean() > 0.9
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 1.2 * (len(passing) - 1), (chi2, len(passing))


def test_when_no_design_passes_the_draws_are_random_with_a_warning(space):
    problem = DesignProblem(_evaluator(space, area_limit_mm2=1e-3), Objective("max"))
    with pytest.warns(UserWarning, match="only 0 of 50 screened-feasible designs"):
        x = random_genes(problem, 50, np.random.default_rng(6), feasible_only=True)
    assert x.shape == (50, space.n_var) and not problem.evaluator.screen(x).any()


def test_screened_enumeration_is_the_screen_of_every_design(space):
    ev = _evaluator(space)
    every = mixed_radix(space.cardinalities, 0, space.size)
    ok = ev.screen(every)
    parts = list(screened(ev, chunk=97))
    numbers = np.concatenate([p[0] for p in parts])
    np.testing.assert_array_equal(numbers, np.flatnonzero(ok))
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), every[ok])
    for subset in (None, (1,), (0, 2)):
        np.testing.assert_array_equal(ev.screened_set(subset), every[ev.screen(every, subset)])


# ---- lockstep --------------------------------------------------------------------------------
SPEC = AlgorithmSpec("four_phase", (Phase(12, 3), Phase(12, 3, 0.9, 7, 0.5, 7)),
                     HammingSampling(60, 30))


def test_searches_in_lockstep_give_what_each_gives_alone(space):
    from imcopt.study.shared import SharedEvaluator

    tech, wls = load_technology("rram"), [get(w) for w in WORKLOADS]
    store = Evaluator(space, tech, wls, 300.0)
    cells, traces, steps = [], [], []
    for seed, agg in ((1, "max"), (2, "mean"), (3, "max")):
        ev = SharedEvaluator(space, tech, wls, 300.0, store=store)
        trace = Trace()
        cells.append(ev)
        traces.append(trace)
        steps.append(joint_steps(ev, Objective(agg), SPEC, seed, trace, top_k=4))
    calls = []

    def prefetch(genomes: np.ndarray) -> None:
        calls.append(len(genomes))
        store.ensure(genomes)

    together = dict(item for ended in lockstep(steps, prefetch) for item in ended)
    assert len(calls) < sum(len(t.rows) for t in traces)  # fewer model calls than generations
    for i, (seed, agg) in enumerate(((1, "max"), (2, "mean"), (3, "max"))):
        alone_ev = _evaluator(space)
        alone_trace = Trace()
        alone = joint(alone_ev, Objective(agg), SPEC, seed, alone_trace, top_k=4)
        np.testing.assert_array_equal(together[i].best, alone.best)
        np.testing.assert_array_equal(cells[i].evaluated().genomes, alone_ev.evaluated().genomes)
        assert traces[i].rows == alone_trace.rows


def test_a_search_is_reproducible_from_its_seed(space):
    a, b = _evaluator(space), _evaluator(space)
    ra = run(joint_steps(a, Objective("max"), SPEC, 7, Trace()))
    rb = joint(b, Objective("max"), SPEC, 7, Trace())
    np.testing.assert_array_equal(ra.best, rb.best)
    np.testing.assert_array_equal(a.evaluated().genomes, b.evaluated().genomes)


# ---- technology cache --------------------------------------------------------------------
def test_a_technology_file_is_parsed_once_and_read_only(tmp_path):
    from imcopt.hardware import save_technology

    assert load_technology("rram") is load_technology("RRAM")
    tech = load_technology("rram")
    with pytest.raises(TypeError):
        tech.c["cell_area_f2"] = 1.0
    with pytest.raises(TypeError):
        tech.constants.clear()
    assert pickle.loads(pickle.dumps(tech)) == tech
    path = tmp_path / "t.yaml"
    save_technology(tech.with_constants(cell_area_f2=tech.c["cell_area_f2"] * 2), path)
    first = load_technology(path)
    assert load_technology(path) is first
    save_technology(tech, path)  # the file changed: read again
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    assert load_technology(path).c["cell_area_f2"] == tech.c["cell_area_f2"]


# ---- what a run keeps --------------------------------------------------------------------
def _front(points: np.ndarray) -> np.ndarray:
    out = np.ones(len(points), bool)
    for i, p in enumerate(points):
        for q in points:
            if np.all(q <= p) and np.any(q < p):
                out[i] = False
                break
    return out


def test_kept_designs_hold_the_top_the_fronts_and_each_workloads_best(tmp_path):
    cfg = {"technology": "rram", "workloads": list(WORKLOADS),
           "space": {"name": "rram", "values": VALUES},
           "objective": {"aggregation": "mean", "optima": None, "area_limit_mm2": 300},
           "algorithm": {"name": "four_phase", "sampling": {"n_candidates": 80, "n_select": 40},
                         "phases": [{"pop_size": 16, "n_gen": 4}]}, "top_k": 6}
    res = run_search(cfg)
    from imcopt.search import write_results

    paths = write_results(res, tmp_path, save_all=True)
    every = pd.read_parquet(paths["designs"])
    kept = pd.read_csv(paths["kept"])
    assert len(every) == res.evaluator.n_evals and len(kept) < len(every)
    keys = set(kept["key"])
    top = every[np.isfinite(every["fitness"])].sort_values("fitness", kind="stable")["key"][:6]
    assert set(top) <= keys
    assert list(kept.sort_values("top_rank").query("top_rank > 0")["key"]) == list(top)
    for w in WORKLOADS:
        ok = every[f"weights_fit.{w}"] & (every["area_mm2"] <= 300)
        assert every.loc[ok, "key"][every.loc[ok, f"edap.{w}"].idxmin() ==
                                    every.loc[ok].index].iloc[0] in keys
        pts = every.loc[ok, [f"energy_j.{w}", f"latency_s.{w}", "area_mm2"]].to_numpy()
        front = set(every.loc[ok, "key"][_front(pts)])
        assert front == set(kept.loc[kept[f"pareto.{w}"], "key"])
    feas = every[every["feasible"]]
    worst = np.column_stack([feas[[f"energy_j.{w}" for w in WORKLOADS]].max(axis=1),
                             feas[[f"latency_s.{w}" for w in WORKLOADS]].max(axis=1),
                             feas["area_mm2"]])
    assert set(feas["key"][_front(worst)]) == set(kept.loc[kept["pareto.worst_case"], "key"])
    run_doc = json.loads(paths["run"].read_text())
    assert run_doc["all_designs_saved"] is True
    write_results(res, tmp_path)  # a later default run drops the every-design table
    assert not (tmp_path / "designs.parquet").exists()


def test_writes_of_a_batch_are_made_durable_once(tmp_path, monkeypatch):
    from imcopt import storage

    fsyncs, syncs = [], []
    monkeypatch.setattr(storage.os, "fsync", lambda fd: fsyncs.append(fd))
    monkeypatch.setattr(storage.os, "sync", lambda: syncs.append(1))
    storage.write_text(tmp_path / "a.txt", "a")
    assert len(fsyncs) == 1
    with storage.durable_batch():
        for i in range(5):
            storage.write_text(tmp_path / f"b{i}.txt", str(i))
        with storage.durable_batch():
            storage.write_text(tmp_path / "c.txt", "c")
    assert len(fsyncs) == 1 and len(syncs) == 1
    assert (tmp_path / "b4.txt").read_text() == "4" and (tmp_path / "c.txt").read_text() == "c"


def test_evaluation_is_a_dataclass_of_arrays():
    # the journal stores these fields; the table grows the same ones
    assert set(EvaluationTable._GROW) == set(Evaluation.__dataclass_fields__) - {
        "area_limit_mm2"}


def test_the_evaluation_cache_stages_rows_and_writes_them_in_one_batch(tmp_path, monkeypatch):
    from imcopt import cache as cache_module
    from imcopt.backends import WorkloadMetrics
    from imcopt.cache import EvaluationCache

    monkeypatch.setattr(cache_module, "FLUSH_EVERY_S", 3600.0)
    monkeypatch.setattr(cache_module, "FLUSH_ROWS", 25)
    c = EvaluationCache(tmp_path / "c.sqlite")
    ctx = c.context("b", "v", "rram", "w")

    def rows(start: int, n: int) -> WorkloadMetrics:
        v = np.arange(start, start + n, dtype=float)
        return WorkloadMetrics("w", v, v, v, np.ones(n, bool), v, np.array([""] * n, object))

    c.stage(ctx, [f"k{i}" for i in range(10)], rows(0, 10))
    c.stage(ctx, [f"k{i}" for i in range(10, 20)], rows(10, 10))
    found, got = c.get(ctx, ["k3", "k15", "k99"])
    assert found.tolist() == [True, True, False] and got.energy_j.tolist() == [3.0, 15.0]
    other = EvaluationCache(tmp_path / "c.sqlite")  # another process: nothing written yet
    assert len(other) == 0
    c.stage(ctx, [f"k{i}" for i in range(20, 30)], rows(20, 10))  # 30 >= 25 rows: written
    assert len(other) == 30
    c.stage(ctx, ["k30"], rows(30, 1))
    c.close()
    assert len(other) == 31


def test_population_take_keeps_every_per_design_array():
    p = Population(np.arange(8).reshape(4, 2), np.arange(4.0)[:, None], np.zeros(4),
                   np.array([4.0, 3.0, 2.0, 1.0]), np.array([0, 1, 0, 2]),
                   np.array([np.inf, 0.5, 0.25, 0.0]))
    q = p.take(np.array([2, 0]))
    np.testing.assert_array_equal(q.X, [[4, 5], [0, 1]])
    np.testing.assert_array_equal(q.fitness, [2.0, 4.0])
    np.testing.assert_array_equal(q.rank, [0, 0])
    np.testing.assert_array_equal(q.crowding, [0.25, np.inf])
