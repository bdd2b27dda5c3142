"""The technology tables: every constant sourced, and fitted constants near their sources.

A fitted number far from its source needs a mechanism, not a bound: a constant the
calibration pushed more than 10x from its published value, or onto the edge of its fit range,
fails here.
"""

import math

import pytest

from imcopt.calibration import LINEAR_CONSTANTS, LOG_CONSTANTS, LOG_RANGE_DECADES
from imcopt.hardware import load_technology
from imcopt.hardware.technology import builtin_schema

FAR = 10.0  # largest factor a fitted constant may sit from its source


@pytest.fixture(scope="module", params=["rram", "sram"])
def tech(request):
    return load_technology(request.param)


def test_every_constant_names_its_source_and_unit(tech):
    for name, c in tech.constants.items():
        assert len(c.source) > 10, name
        assert c.unit, name
        assert c.description, name


def test_units_are_the_schema_units(tech):
    schema = builtin_schema()
    for name, c in tech.constants.items():
        if name in schema:
            assert c.unit == schema[name], name


def test_fitted_constants_stay_within_10x_of_their_source(tech):
    far = {}
    for name, c in tech.constants.items():
        if c.source_value is not None and c.source_value != 0:
            ratio = c.value / c.source_value
            if not 1 / FAR <= ratio <= FAR:
                far[name] = ratio
    assert not far


def test_no_fitted_constant_sits_on_its_fit_bound(tech):
    edge = 10 ** (LOG_RANGE_DECADES - 0.02)
    for name in LOG_CONSTANTS:
        c = tech.constants.get(name)
        if c is None or c.source_value is None:
            continue
        ratio = c.value / c.source_value
        assert 1 / edge < ratio < edge, (name, ratio)
    for name, (lo, hi) in LINEAR_CONSTANTS.items():
        c = tech.constants.get(name)
        if c is not None and c.source_value is not None:
            margin = 0.01 * (hi - lo)
            assert lo + margin < c.value < hi - margin, name


def test_measured_constants_are_not_fitted(tech):
    """Constants read off a circuit model (fit: false) keep their source value."""
    for name, c in tech.constants.items():
        if not c.fit:
            assert c.source_value in (None, c.value), name


def test_the_two_tables_share_their_physics_constants():
    rram, sram = load_technology("rram"), load_technology("sram")
    for name in ("wire_capacitance_f_per_m", "adc_walden_fom_j", "adc_decision_time_s"):
        assert math.isclose(rram.constants[name].value, sram.constants[name].value), name
