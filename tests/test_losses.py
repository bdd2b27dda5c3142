"""Per-network loss factors: EDAP on the chip / the network's own optimum, and where the
optimum comes from (exact enumeration, best-known searches, given)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import imcopt
from imcopt.hardware import get_space, load_technology
from imcopt.losses import Optima, format_factor, loss_columns, loss_factors
from imcopt.objectives import Evaluator, Objective
from imcopt.search import DesignProblem, run_search, write_results
from imcopt.search.optima import exact_optima, first_feasible
from imcopt.workloads import get

# a small RRAM space (1,536 designs): some hold both networks' weights, some one, some none
SMALL = {"voltage_v": [0.6, 0.8], "bits_per_cell": [2, 8], "clock_period_s": [1e-9, 4e-9],
         "rows_per_array": [128, 512], "cols_per_array": [128, 256],
         "router_groups": [2, 16], "tiles_per_group": [4, 32],
         "arrays_per_tile": [4, 16, 64], "glb_depth_words": [16384, 32768]}
NETS = ["alexnet", "mobilenet_v3"]


def test_loss_factors_by_hand() -> None:
    edap = np.array([[2.0, 3.0], [1.0, 9.0], [4.0, 6.0]])
    runs = np.array([[True, True], [True, True], [True, False]])
    f = loss_factors(edap, [1.0, 3.0], runs)
    np.testing.assert_array_equal(f, [[2.0, 1.0], [1.0, 3.0], [4.0, np.inf]])
    cols = loss_columns(edap, [1.0, 3.0], ["a", "b"], runs)
    assert list(cols) == ["worst_network_loss_x", "worst_network", "loss_x.a", "loss_x.b"]
    np.testing.assert_array_equal(cols["worst_network_loss_x"], [2.0, 3.0, np.inf])
    assert list(cols["worst_network"]) == ["a", "b", "b"]
    # no optimum for b: no factor, except where the design cannot run b at all
    f = loss_factors(edap, [1.0, np.inf], runs)
    assert np.isnan(f[0, 1]) and np.isnan(f[1, 1]) and f[2, 1] == np.inf
    unknown = loss_columns(edap, [np.inf, 3.0], ["a", "b"])  # no optimum for a: no factor
    assert np.isnan(unknown["loss_x.a"]).all()
    np.testing.assert_array_equal(unknown["worst_network_loss_x"], [1.0, 3.0, 2.0])
    assert [format_factor(x) for x in (1.0, 1.4567, 23.31, 1234.0, np.inf, None)] == [
        "1.00x", "1.46x", "23.3x", "1,234x", "cannot run", "-"]


def test_optima_are_lowered_only_when_best_known() -> None:
    o = Optima(("a", "b"), (2.0, 5.0), "best-known", ("k1", "k2"))
    low = o.lowered([1.0, 6.0], ["n1", "n2"])
    assert low.edap_j_s_mm2 == (1.0, 5.0) and low.keys == ("n1", "k2")
    for source in ("exact", "given"):
        fixed = Optima(("a", "b"), (2.0, 5.0), source)
        assert fixed.lowered([1.0, 1.0]) is fixed
    assert Optima.from_json(json.loads(json.dumps(low.to_json()))) == low
    with pytest.raises(ValueError, match="source"):
        Optima(("a",), (1.0,), "guessed")


@pytest.fixture(scope="module")
def small() -> tuple:
    space = get_space("rram").restrict(**SMALL)
    ev = Evaluator(space, load_technology("rram"), [get(w) for w in NETS], 300.0)
    table = ev.evaluate(space.all_genomes())  # every design, the full model: the oracle
    return space, ev, table


def test_exact_optima_match_full_enumeration(small: tuple) -> None:
    space, ev, table = small
    own = np.where(table.capacity_ok & table.area_ok[:, None], table.edap, np.inf)
    opt, genomes = exact_optima(Evaluator(space, ev.technology, ev.workloads, 300.0))
    np.testing.assert_allclose(opt, own.min(axis=0), rtol=1e-12)
    assert np.isfinite(opt).all()
    assert (own[table.feasible].min(axis=0) >= opt).all()
    for w in range(len(NETS)):
        np.testing.assert_array_equal(genomes[w], table.genomes[own[:, w].argmin()])


def test_first_feasible_proves_a_network_cannot_run(small: tuple) -> None:
    space, ev, _table = small
    tiny = Evaluator(space, ev.technology, [get("vgg16"), get("alexnet")], 300.0)
    assert first_feasible(tiny, 0) is None  # vgg16's 138 M weights fit no chip here
    g = first_feasible(tiny, 1)
    assert g is not None and tiny.edap_on(g[None, :], 1)[1][0]
    # each network's own optimum counts the chips made for it alone: alexnet has one,
    # although no chip holds both networks
    opt, _ = exact_optima(tiny)
    assert np.isinf(opt[0]) and np.isfinite(opt[1]) and not tiny.evaluate(
        space.all_genomes()).feasible.any()


def test_search_best_json_has_loss_factors_against_given_optima(tmp_path, small) -> None:
    _space, _, _ = small
    given = {"alexnet": 1e-6, "mobilenet_v3": 2e-7}  # by hand; the factors are EDAP / these
    res = run_search({"technology": "rram", "workloads": NETS,
                      "space": {"name": "rram", "values": SMALL},
                      "objective": {"aggregation": "mean", "optima": given,
                                    "area_limit_mm2": 300},
                      "algorithm": {"name": "random", "n_evals": 300}, "seed": 2})
    write_results(res, tmp_path)
    doc = json.loads((tmp_path / "best.json").read_text())
    assert doc["optima"]["source"] == "given"
    for rec in doc["best"]:
        # an independent evaluation of the same design through the public API
        for w in NETS:
            m = imcopt.evaluate(rec["key"], w, "rram")
            edap = float(m.energy_j[0] * m.latency_s[0] * m.area_mm2[0])
            assert rec["workloads"][w]["edap_j_s_mm2"] == pytest.approx(edap, rel=1e-9)
            assert rec["workloads"][w]["loss_x"] == pytest.approx(edap / given[w], rel=1e-9)
        worst = max(rec["workloads"][w]["loss_x"] for w in NETS)
        assert rec["worst_network_loss_x"] == pytest.approx(worst)
        assert rec["workloads"][rec["worst_network"]]["loss_x"] == pytest.approx(worst)
    designs = __import__("pandas").read_csv(tmp_path / "kept_designs.csv.gz")
    feas = designs[designs.feasible]
    np.testing.assert_allclose(feas["loss_x.alexnet"], feas["edap.alexnet"] / 1e-6)


def test_exact_optima_and_worst_regret_in_a_search(small: tuple) -> None:
    """With exact optima, the exhaustive worst_regret optimum's fitness is its worst loss,
    and it is the design whose largest factor is smallest (brute force over the table)."""
    space, _ev, table = small
    res = run_search({"technology": "rram", "workloads": NETS,
                      "space": {"name": "rram", "values": SMALL},
                      "objective": {"aggregation": "worst_regret", "optima": "exact",
                                    "area_limit_mm2": 300},
                      "algorithm": {"name": "exhaustive"}})
    assert res.reference.source == "exact"
    own = np.where(table.capacity_ok & table.area_ok[:, None], table.edap, np.inf)
    opt = own.min(axis=0)
    np.testing.assert_allclose(res.reference.values, opt, rtol=1e-12)
    worst = np.where(table.feasible, (table.edap / opt).max(axis=1), np.inf)
    best = res.best()[0]
    assert best["fitness"] == pytest.approx(worst.min(), rel=1e-12)
    assert best["worst_network_loss_x"] == pytest.approx(worst.min(), rel=1e-12)
    assert best["key"] == space.keys(table.genomes[[worst.argmin()]])[0]


def test_front_objectives_are_max_edap_and_worst_loss(small: tuple) -> None:
    _space, ev, table = small
    opt = (2e-6, 5e-7)
    problem = DesignProblem(ev, Objective("max", optima=opt), mode="max_edap_worst_loss")
    out: dict = {}
    x = table.genomes[:50]
    problem._evaluate(x.astype(float), out)
    e = table.take(np.arange(50))
    want_edap = e.energy_j.max(axis=1) * e.latency_s.max(axis=1) * e.area_mm2
    want_loss = (e.edap / np.array(opt)).max(axis=1)
    np.testing.assert_allclose(out["F"], np.column_stack([want_edap, want_loss]), rtol=1e-12)
    with pytest.raises(ValueError, match="optim"):
        DesignProblem(ev, Objective("max"), mode="max_edap_worst_loss")
