"""Objectives: aggregation formulas, infeasibility, the evaluator's cache and screening."""

import numpy as np
import pytest

from design_helpers import PHYSICAL_CIRCUIT
from imcopt.hardware import get_space, load_technology
from imcopt.objectives import AGGREGATIONS, Evaluator, Objective, ObjectiveError, aggregate
from imcopt.workloads import get

E = np.array([[1.0, 4.0], [2.0, 2.0]])
L = np.array([[3.0, 1.0], [1.0, 5.0]])
A = np.array([2.0, 10.0])


def test_aggregations_by_hand():
    assert np.allclose(aggregate(E, L, A, "max"), [4 * 3 * 2, 2 * 5 * 10])
    assert np.allclose(aggregate(E, L, A, "mean"), [2.5 * 2 * 2, 2 * 3 * 10])
    assert np.allclose(aggregate(E, L, A, "geomean"), [np.sqrt(6 * 8), np.sqrt(20 * 100)])
    assert np.allclose(aggregate(E, L, A, "product"), [2 * 4 * 3, 10 * 4 * 5])
    assert np.allclose(aggregate(E, L, A, "worst_regret", optima=[6, 8]), [1.0, 12.5])
    assert np.allclose(aggregate(E, L, A, "weighted", weights=[3, 1]),
                       [0.75 * 6 + 0.25 * 8, 0.75 * 20 + 0.25 * 100])
    assert np.allclose(aggregate(E, L, A, "weighted", weights=[1, 1], optima=[6, 8]),
                       [1.0, (20 / 6 + 12.5) / 2])


def test_bad_settings_name_the_field():
    with pytest.raises(ObjectiveError, match="optima"):
        aggregate(E, L, A, "worst_regret")
    with pytest.raises(ObjectiveError, match="weights: expected 2"):
        aggregate(E, L, A, "weighted", weights=[1, 2, 3])
    with pytest.raises(ObjectiveError, match="one of"):
        Objective("ela")


def _space():
    # the circuit at one exact operating point, arrays big enough for the networks to fit
    # often: feasibility turns on capacity and area
    return get_space("rram").restrict(**PHYSICAL_CIRCUIT, bits_per_cell=(2, 4),
                                      rows_per_array=(256, 512), cols_per_array=(256, 512))


@pytest.fixture(scope="module")
def evaluator():
    return Evaluator(_space(), load_technology("rram"), [get("alexnet"), get("resnet18")])


def test_infeasible_is_never_good(evaluator):
    g = _space().sample(400, 3)
    ev = evaluator.evaluate(g)
    assert (~ev.feasible).any() and ev.feasible.any()
    for how in AGGREGATIONS:
        opt = (1.0, 1.0) if how == "worst_regret" else None
        fit = Objective(how, optima=opt).fitness(ev)
        assert np.all(np.isinf(fit[~ev.feasible])) and np.all(fit[~ev.feasible] > 0)
        assert np.all(np.isfinite(fit[ev.feasible])) and np.all(fit[ev.feasible] > 0)
    assert all(r for r in ev.reason[~ev.feasible]) and not any(ev.reason[ev.feasible])
    viol = Objective().violation(ev)
    assert np.all(viol[~ev.feasible].max(axis=1) > 0)
    assert np.all(viol[ev.feasible] <= 0)


def test_cache_and_counters(evaluator):
    g = _space().sample(50, 11)
    n0, c0 = evaluator.n_evals, evaluator.n_calls
    a = evaluator.evaluate(g)
    n1 = evaluator.n_evals
    b = evaluator.evaluate(np.vstack([g[::-1], g]))
    assert evaluator.n_evals == n1 and n1 - n0 <= 50
    assert evaluator.n_calls == c0 + 150
    assert np.array_equal(b.energy_j[50:], a.energy_j)
    assert np.array_equal(b.genomes[:50], g[::-1])


def test_screen_matches_the_model(evaluator):
    g = _space().sample(3000, 5)
    ev = evaluator.evaluate(g)
    assert np.array_equal(evaluator.screen(g), ev.feasible)
    assert np.array_equal(evaluator.screen(g, [0]), ev.feasible_on([0]))


def test_weighted_aggregation_refuses_negative_or_zero_weights():
    from imcopt.objectives import ObjectiveError, aggregate
    e = lat = np.ones((1, 2))
    for w in ([-1.0, 2.0], [0.0, 0.0]):
        with pytest.raises(ObjectiveError, match=r"^weights must be >= 0 and not all 0$"):
            aggregate(e, lat, np.ones(1), "weighted", weights=w)
