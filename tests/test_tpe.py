"""Optuna's TPE behind `algorithm: tpe` (issue #17 item 1): it reaches the enumerated optimum
of a small space within its budget, a seed repeats its designs, the budget is the number of
objective calls, bad settings are named, and a missing Optuna says how to install it."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from design_helpers import PHYSICAL_CIRCUIT
from imcopt.hardware import get_space, load_technology
from imcopt.objectives import Evaluator, Objective
from imcopt.search import AlgorithmSpec, ConfigError, Trace, load_config
from imcopt.search.exhaustive import enumerate_genomes
from imcopt.search.runner import algorithm_spec
from imcopt.search.strategies import joint
from imcopt.search.tpe import INFEASIBLE, TPESettings, import_optuna, tell_values
from imcopt.workloads import get

pytest.importorskip("optuna")

VALUES = {"voltage_v": [0.6, 0.8], "bits_per_cell": [2, 4], "clock_period_s": [1e-9, 4e-9],
          "rows_per_array": [256, 512], "cols_per_array": [256, 512],
          "router_groups": [4, 8], "tiles_per_group": [8, 16],
          "arrays_per_tile": [8, 16, 32], "glb_depth_words": [16384, 32768],
          **PHYSICAL_CIRCUIT}
BUDGET = 300  # of 768 designs


@pytest.fixture(scope="module")
def small():
    space = get_space("rram").restrict(**VALUES)
    tech, wls = load_technology("rram"), [get("alexnet"), get("resnet18")]
    every = Evaluator(space, tech, wls, 300.0, cache=False).evaluate(
        enumerate_genomes(space.cardinalities, 0, space.size))
    fit = Objective("max").fitness(every)
    assert space.size == 768 and 10 < np.isfinite(fit).sum() < len(fit) - 10
    return space, tech, wls, float(fit.min())


def _run(small, seed: int, **settings) -> tuple[float, Evaluator]:
    space, tech, wls, _ = small
    ev = Evaluator(space, tech, wls, 300.0)
    spec = AlgorithmSpec("tpe", n_evals=BUDGET, tpe=TPESettings(**settings))
    res = joint(ev, Objective("max"), spec, seed, Trace())
    return float(Objective("max").fitness(ev.evaluate(res.best[:1]))[0]), ev


@pytest.mark.parametrize("genes", ["ordinal", "categorical"])
def test_tpe_reaches_the_enumerated_optimum_within_its_budget(small, genes):
    for seed in (1, 2, 3):
        best, ev = _run(small, seed, genes=genes)
        assert best == pytest.approx(small[3], rel=1e-12), (genes, seed)
        assert ev.n_calls == BUDGET + 1 and ev.n_evals <= BUDGET  # + 1: the read-back above


def test_same_seed_same_designs_other_seed_others(small):
    def designs(seed: int) -> np.ndarray:
        space, tech, wls, _ = small
        ev = Evaluator(space, tech, wls, 300.0)
        joint(ev, Objective("max"), AlgorithmSpec("tpe", n_evals=45, tpe=TPESettings(batch=7)),
              seed, Trace())
        assert ev.n_calls == 45  # the budget: objective calls, a last short batch included
        return ev.evaluated().genomes

    first = designs(4)
    assert np.array_equal(first, designs(4))
    assert not np.array_equal(first, designs(5))


def test_the_start_is_screened_feasible_and_infeasible_values_rank_last(small):
    space, tech, wls, _ = small
    ev = Evaluator(space, tech, wls, 300.0)
    joint(ev, Objective("max"), AlgorithmSpec("tpe", n_evals=20, tpe=TPESettings(n_startup=20)),
          1, Trace())
    assert ev.screen(ev.evaluated().genomes).all()
    told = tell_values(np.array([np.e, np.inf, np.inf]),
                       np.array([[0.0, -1.0], [0.5, 0.0], [0.1, np.nan]]))
    assert told[0] == pytest.approx(1.0)
    assert told[2] > told[1] > INFEASIBLE > 1e3 * abs(np.log(1e-30))


def test_config_selects_tpe_and_names_bad_values():
    spec = algorithm_spec(load_config({"algorithm": {"name": "tpe", "n_evals": 50, "tpe": {
        "batch": 5, "genes": "categorical", "multivariate": False}}}))
    assert (spec.name, spec.n_evals, spec.tpe) == ("tpe", 50, TPESettings(5, 20, False,
                                                                           "categorical"))
    for bad, words in (({"name": "tpee"}, ("algorithm.name", "'tpe'", "'four_phase'")),
                       ({"name": "tpe", "tpe": {"genes": "int"}},
                        ("algorithm.tpe.genes", "'ordinal'", "'categorical'")),
                       ({"name": "tpe", "tpe": {"batch": 0}},
                        ("algorithm.tpe.batch", "greater than or equal to 1")),
                       ({"name": "tpe", "tpe": {"gamma": 0.1}},
                        ("algorithm.tpe.gamma", "allowed: batch, n_startup"))):
        with pytest.raises(ConfigError) as err:
            load_config({"algorithm": bad})
        assert all(w in str(err.value) for w in words), str(err.value)
    with pytest.raises(ValueError, match=r"tpe\.genes 'int' is not one of ordinal, categorical"):
        TPESettings(genes="int")


def test_without_optuna_the_error_says_how_to_install_it(small, monkeypatch):
    real = builtins.__import__

    def no_optuna(name, *args, **kwargs):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError("No module named 'optuna'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    with pytest.raises(ImportError, match=r"pip install 'imcopt\[optuna\]'"):
        import_optuna()
    with pytest.raises(ImportError, match="algorithm 'tpe' needs Optuna"):
        _run(small, 1)


def test_run_search_with_tpe_from_a_config():
    from imcopt.search import run_search

    res = run_search({"technology": "rram", "workloads": ["alexnet", "resnet18"],
                      "space": {"name": "rram", "values": VALUES},
                      "objective": {"area_limit_mm2": 300, "optima": None},
                      "algorithm": {"name": "tpe", "n_evals": 40, "tpe": {"batch": 8}},
                      "seed": 2})
    assert res.evaluator.n_evals <= 40 and {r["phase"] for r in res.trace.rows} == {"tpe"}
    assert len(res.trace.rows) == 5 and res.best()


def test_tpe_settings_are_part_of_the_identity_of_tpe_searches_only():
    from imcopt.search.config import search_identity

    def algorithm(cfg: dict) -> dict:
        return search_identity(load_config(cfg), inputs={})["algorithm"]

    assert "tpe" not in algorithm({"algorithm": {"name": "four_phase"}})
    assert algorithm({"algorithm": {"name": "tpe"}})["tpe"]["batch"] == 10
    assert algorithm({"algorithm": {"name": "tpe", "tpe": {"batch": 3}}})["tpe"]["batch"] == 3
