"""One-knob sweeps: every design parameter moves energy, latency and area the way physics says."""

import pytest

from imcopt import sweep


@pytest.fixture(scope="module", params=["rram", "sram"])
def rows(request):
    return sweep.sweep(request.param)


def test_no_direction_flips(rows):
    assert sweep.flips(rows) == []


def test_the_default_design_is_feasible_and_extremes_fail_for_stated_reasons(rows):
    """A sweep's extremes may break the design (too few arrays, too many rows per ADC); the
    smallest ADC and the fewest cells must be among them, never the default's own knobs."""
    broken = {r.parameter for r in rows if not all(r.feasible)}
    assert broken <= {"adc_bits", "parallel_rows", "dac_bits", "bits_per_cell", "rows_per_array",
                      "cols_per_array", "router_groups", "tiles_per_group", "arrays_per_tile"}
    assert "adc_bits" in broken  # a 3-bit ADC loses partial-sum bits
    assert "voltage_v" not in broken and "clock_period_s" not in broken


def test_every_default_space_parameter_is_swept(rows):
    from imcopt.hardware import get_space

    swept = {r.parameter for r in rows}
    assert {p.name for p in get_space(rows[0].technology).parameters} <= swept
    assert set(sweep.OTHER_VALUES) <= swept


def test_most_cells_have_an_expected_direction():
    assert len(sweep.EXPECTED) >= 30
    assert all(d in "+-0~" and why for d, why in sweep.EXPECTED.values())


def test_flips_reports_a_planted_wrong_direction():
    row = sweep.SweepRow("rram", "net", "voltage_v", 0.5, 1.0,
                         {"energy_j": 0.8, "latency_s": 0.5, "area_mm2": 1.0,
                          "tops_per_w": 1.2}, (True, True))
    out = sweep.flips([row])
    assert len(out) == 1 and "voltage_v energy_j: expected +, got -" in out[0]


@pytest.mark.parametrize("ratio,want", [(1.02, "+"), (0.98, "-"), (1.005, "0"), (0.995, "0")])
def test_direction_reads_ratios_with_a_one_percent_band(ratio, want):
    assert sweep.direction(ratio) == want
