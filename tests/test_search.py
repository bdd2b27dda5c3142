"""Search: every aggregation and strategy on a small space whose optimum is enumerated."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from design_helpers import PHYSICAL_CIRCUIT
from imcopt.cli import app
from imcopt.hardware import get_space, load_technology
from imcopt.objectives import AGGREGATIONS, Evaluator, Objective
from imcopt.search import AlgorithmSpec, Phase, Trace, run_search, write_results
from imcopt.search import algorithms as alg
from imcopt.search.exhaustive import enumerate_genomes
from imcopt.search.strategies import STRATEGY_FUNCTIONS
from imcopt.workloads import get

VALUES = {"voltage_v": [0.6, 0.8], "bits_per_cell": [2, 4], "clock_period_s": [1e-9, 4e-9],
          "rows_per_array": [256, 512], "cols_per_array": [256, 512],
          "router_groups": [4, 8], "tiles_per_group": [8, 16],
          "arrays_per_tile": [8, 16, 32], "glb_depth_words": [16384, 32768],
          **PHYSICAL_CIRCUIT}
WORKLOADS = ["alexnet", "resnet18"]
SMALL_GA = (Phase(20, 4), Phase(20, 4, 0.9, 7, 0.5, 7), Phase(20, 4, 1.0, 15, 0.2, 15),
            Phase(20, 4, 1.0, 25, 0.05, 25))
SMALL_CONFIG = {"technology": "rram", "workloads": WORKLOADS,
                "space": {"name": "rram", "values": VALUES},
                "objective": {"area_limit_mm2": 300},
                "algorithm": {"name": "four_phase",
                              "sampling": {"n_candidates": 200, "n_select": 100},
                              "phases": [vars(p) for p in SMALL_GA]}}


@pytest.fixture(scope="module")
def small():
    space = get_space("rram").restrict(**VALUES)
    ev = Evaluator(space, load_technology("rram"), [get(w) for w in WORKLOADS], 300.0)
    table = ev.evaluate(enumerate_genomes(space.cardinalities, 0, space.size))
    own = np.where(table.capacity_ok & table.area_ok[:, None], table.edap, np.inf).min(axis=0)
    assert table.feasible.sum() > 10 and (~table.feasible).sum() > 10
    return space, ev, table, own


def _objective(how, own):
    return Objective(how, weights=(2.0, 1.0) if how == "weighted" else None,
                     optima=tuple(own) if how == "worst_regret" else None)


@pytest.mark.parametrize("how", AGGREGATIONS)
def test_every_aggregation_finds_the_enumerated_optimum(small, how):
    _space, ev, table, own = small
    obj = _objective(how, own)
    truth = obj.fitness(table).min()
    for name in ("exhaustive", "four_phase"):
        res = STRATEGY_FUNCTIONS["joint"](ev, obj, AlgorithmSpec(name, SMALL_GA), 1, Trace())
        best = obj.fitness(ev.evaluate(res.best))
        assert best[0] == pytest.approx(truth, rel=1e-12), name
        assert np.all(np.isfinite(best))


def test_strategies(small):
    space, ev, _table, own = small
    obj = Objective("max")
    spec = AlgorithmSpec("exhaustive")
    sep = STRATEGY_FUNCTIONS["separate"](ev, obj, spec, 1, Trace())
    assert np.allclose(sep.optima, own)
    big = STRATEGY_FUNCTIONS["largest"](ev, obj, spec, 1, Trace())
    w = int(np.argmax([get(n).macs for n in WORKLOADS]))
    assert big.notes["largest_workload"] == WORKLOADS[w]
    assert ev.evaluate(big.per_workload_best[WORKLOADS[w]][None]).edap[0, w] == pytest.approx(
        own[w])
    # at 300 mm2 the middle design is infeasible: the search starts from the nearest
    # screened-feasible design instead, and ends feasible
    tight = STRATEGY_FUNCTIONS["sequential"](ev, obj, spec, 1, Trace())
    assert np.isfinite(obj.fitness(ev.evaluate(tight.best[:1]))[0])
    ev = Evaluator(space, load_technology("rram"), [get(w) for w in WORKLOADS], 800.0)
    seq = STRATEGY_FUNCTIONS["sequential"](ev, obj, spec, 1, Trace())
    levels = seq.notes["levels"]
    assert [lv["level"] for lv in levels] == ["device", "circuit", "architecture", "system"]
    # each level's best is carried: the final design is optimal in every level's parameters
    final = seq.best[0]
    fit = obj.fitness(ev.evaluate(final[None]))[0]
    assert np.isfinite(fit)
    for lv in levels:
        free = [space.names.index(n) for n in lv["parameters"]]
        g = np.repeat(final[None], int(np.prod(space.cardinalities[free])), axis=0)
        g[:, free] = enumerate_genomes(space.cardinalities[free], 0, len(g))
        assert fit <= obj.fitness(ev.evaluate(g)).min()


def test_four_phase_reseeds_by_the_real_aggregate(small, monkeypatch):
    space, _, _, _ = small
    ev = Evaluator(space, load_technology("rram"), [get(w) for w in WORKLOADS], 300.0)
    obj = Objective("mean")
    seen = []
    real_ga = alg.ga

    def spy(problem, phase, initial, seed, trace, label="ga"):
        e = problem.evaluator.evaluated()
        expected = e.genomes[obj.rank(e)[: phase.pop_size]]
        seen.append((label, np.asarray(initial), expected))
        return real_ga(problem, phase, initial, seed, trace, label)

    monkeypatch.setattr(alg, "ga", spy)
    STRATEGY_FUNCTIONS["joint"](ev, obj, AlgorithmSpec("four_phase", SMALL_GA), 3, Trace())
    assert [s[0] for s in seen] == ["phase1", "phase2", "phase3", "phase4"]
    for _, initial, expected in seen[1:]:
        assert len(np.unique(initial, axis=0)) == len(initial) == 20
        assert np.array_equal(initial, expected)


def test_run_search_outputs_and_reproducibility(tmp_path):
    a = run_search(SMALL_CONFIG)
    b = run_search(SMALL_CONFIG)
    pd.testing.assert_frame_equal(a.designs(), b.designs())
    paths = write_results(a, tmp_path, save_all=True)
    best = json.loads(paths["best"].read_text())
    assert best["best"] and all(d["feasible"] and d["fitness"] is not None for d in best["best"])
    designs = pd.read_parquet(paths["designs"])
    assert len(designs) == a.evaluator.n_evals
    pd.testing.assert_frame_equal(designs, a.designs())
    assert (~designs["feasible"]).any()  # infeasible designs were seen, none reported best
    run = json.loads(paths["run"].read_text())
    assert run["seed"] == 1 and run["imcopt_version"] and run["wall_time_s"] > 0
    assert list(pd.read_csv(paths["convergence"])["phase"].unique()) == [
        "phase1", "phase2", "phase3", "phase4"]


def test_separate_optima_give_losses(tmp_path):
    cfg = {**SMALL_CONFIG, "objective": {"aggregation": "worst_regret", "optima": "separate",
                                         "area_limit_mm2": 300},
           "algorithm": {"name": "exhaustive"}}
    res = run_search(cfg)
    best = res.best()[0]
    losses = [w["loss_x"] for w in best["workloads"].values()]
    assert all(v is not None and v >= 1 - 1e-12 for v in losses)
    assert best["fitness"] == pytest.approx(max(losses))
    assert best["worst_network_loss_x"] == pytest.approx(max(losses))


def test_a_separate_optimum_estimate_is_lowered_to_the_best_design_met():
    # a GA only estimates each workload's optimum; when the run meets a better design for a
    # workload, that design's EDAP is the optimum reported, so no loss is below 0
    from imcopt.search.runner import best_known_optima

    space = get_space("rram").restrict(**VALUES)
    ev = Evaluator(space, load_technology("rram"), [get(w) for w in WORKLOADS])
    e = ev.evaluate(space.sample(200, 4))
    ok = e.capacity_ok & e.area_ok[:, None]
    best_met = np.where(ok, e.edap, np.inf).min(axis=0)
    assert np.isfinite(best_met).all()
    estimate = np.array([best_met[0] * 2, best_met[1] / 2, *best_met[2:] * 3])
    lowered = best_known_optima(ev, estimate)
    np.testing.assert_allclose(lowered, [best_met[0], best_met[1] / 2, *best_met[2:]])


def test_nsga2_front_and_random(small, tmp_path):
    res = run_search({**SMALL_CONFIG, "algorithm": {"name": "nsga2",
                                                    "phases": [{"pop_size": 20, "n_gen": 5}]}})
    assert res.strategy.pareto is not None and len(res.strategy.pareto)
    paths = write_results(res, tmp_path)
    front = pd.read_csv(paths["pareto"])
    assert paths["pareto"] == tmp_path / "pareto.csv"
    assert sorted(front["key"]) == sorted(res.evaluator.space.keys(res.strategy.pareto))
    res = run_search({**SMALL_CONFIG, "algorithm": {"name": "random", "n_evals": 200},
                      "objective": {**SMALL_CONFIG.get("objective", {}), "optima": None}})
    assert res.evaluator.n_calls == 200


def test_cli_search_and_config_errors(tmp_path):
    import yaml

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(SMALL_CONFIG))
    r = CliRunner().invoke(app, ["search", str(cfg), "--out", str(tmp_path / "o"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "best.json").exists()
    for bad, field in ((dict(SMALL_CONFIG, strategy="both"), "strategy"),
                       ({**SMALL_CONFIG, "objective": {"aggregation": "ela"}},
                        "objective.aggregation"),
                       ({**SMALL_CONFIG, "workloads": ["resnet19"]}, "workloads"),
                       ({**SMALL_CONFIG, "colour": 1}, "colour")):
        cfg.write_text(yaml.safe_dump(bad))
        r = CliRunner().invoke(app, ["search", str(cfg)])
        assert r.exit_code == 2
        assert r.output.strip().startswith(f"error: c.yaml: {field}")  # the file, the field
        assert len(r.output.strip().splitlines()) == 1


def test_config_names_a_layer_table_workload(tmp_path):
    from imcopt.workloads import write_layer_table

    table = tmp_path / "nets.csv"
    write_layer_table([get("alexnet")], table)
    res = run_search({**SMALL_CONFIG, "workloads": [f"{table}:alexnet", "resnet18"],
                      "objective": {"area_limit_mm2": 300, "optima": None}})
    assert res.evaluator.workload_names == ["alexnet", "resnet18"]
    assert np.isfinite(res.best()[0]["fitness"])


def test_a_config_may_extend_a_space_beyond_its_value_lists():
    from imcopt.search import load_config
    from imcopt.search.config import ConfigError

    cfg = load_config({"space": {"name": "rram", "values": {
        "rows_per_array": [100, 128], "technology_node_nm": [22, 32]}}})
    assert cfg.space.values["rows_per_array"] == [100, 128]
    with pytest.raises(ConfigError, match=r"space\.values\.rows_per_array.*finite and > 0"):
        load_config({"space": {"name": "rram", "values": {"rows_per_array": [-4]}}})


def test_separate_searches_write_each_workloads_own_best(small, tmp_path):
    """strategy separate: best.json holds each workload's own best design, its EDAP there
    and its loss factor against the best-known optimum, checked against the public API."""
    import imcopt
    cfg = {**SMALL_CONFIG, "strategy": "separate",
           "algorithm": {"name": "random", "n_evals": 60}}
    res = run_search(cfg)
    doc = json.loads(write_results(res, tmp_path)["best"].read_text())
    own = doc["per_workload_best"]
    assert sorted(own) == sorted(WORKLOADS)
    for w, rec in own.items():
        m = imcopt.evaluate(rec["key"], w, "rram")
        edap = float(m.energy_j[0] * m.latency_s[0] * m.area_mm2[0])
        assert rec["workloads"][w]["edap_j_s_mm2"] == pytest.approx(edap, rel=1e-9)
        assert rec["workloads"][w]["loss_x"] == pytest.approx(1.0)  # it is the optimum
        assert rec["workloads"][w]["weights_fit"] is True
