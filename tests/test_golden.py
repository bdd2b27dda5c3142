"""Whole-network golden numbers: a changed constant or equation fails here until the golden
file is consciously rewritten (`python tools/update_golden.py`, with the reason in the commit).

The per-component numbers are worked by hand in tests/test_components.py; these pin what the
composition gives on whole networks (tests/golden_cases.py: both cells, both policies, every
input encoding, pipelined and sequential layers, nodes 7 to 65 nm, a starved buffer and HBM,
attention matmuls digital and in the arrays).
"""

import json
import math
from pathlib import Path

import pytest

from golden_cases import CASES, outputs
from imcopt.hardware import load_technology

GOLDEN = json.loads((Path(__file__).parent / "golden" / "model.json").read_text())
RTOL = 1e-9  # float64 arithmetic only: any real change moves far more than this
#: constants no golden case can see, and why (every other constant must move some output)
UNSEEN = {
    "adc_schreier_fom_db": "the thermal bound binds above ~17 ADC bits only; worked by hand in "
                           "test_components",
    "max_bits_per_cell": "a bound, not a cost: pinned in test_cell_bit_limits",
    ("rram", "wl_switch_reference_cols"): "NeuroSim's IR-drop switch sizing is SRAM's only",
    ("rram", "lp_threshold_voltage_v"): "NeuroSim's low-supply switch widening is SRAM's only",
    ("rram", "lp_current_exponent"): "NeuroSim's low-supply switch widening is SRAM's only",
    ("sram", "cimloop_read_pulse_s"): "an SRAM cell draws no read current under cimloop, and "
                                      "cycles per slice set its time",
}


def test_the_golden_file_holds_every_case():
    assert set(GOLDEN) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_whole_network_outputs_are_the_golden_ones(name):
    got, want = outputs(name), GOLDEN[name]
    assert set(got) == set(want)
    bad = {k: (got[k], want[k]) for k in want
           if not math.isclose(got[k], want[k], rel_tol=RTOL, abs_tol=1e-30)}
    assert not bad, f"{name}: changed outputs (tools/update_golden.py if intended): {bad}"


def _unseen(tech: str, name: str) -> bool:
    return name in UNSEEN or (tech, name) in UNSEEN


@pytest.mark.parametrize("tech", ["rram", "sram"])
def test_every_constant_moves_some_golden_output(tech):
    """A wrong constant in a technology table (x1.1; a 0/1 switch flipped) must change a
    pinned number, so it cannot pass the suite with the docs regenerated."""
    table = load_technology(tech)
    cases = [n for n, c in CASES.items() if c[0] == tech]
    base = {n: GOLDEN[n] for n in cases}
    silent = []
    for name, const in table.constants.items():
        if _unseen(tech, name):
            continue
        v = const.value
        flag = name in ("cimloop_replicates_output_rows_only", "wl_switch_ir_drop_sized")
        wrong = table.with_constants(**{name: (1.0 - v) if flag else (v * 1.1 if v else 0.1)})
        if not any(not math.isclose(outputs(n, wrong).get(k, math.nan), base[n][k],
                                    rel_tol=RTOL, abs_tol=1e-30)
                   for n in cases for k in base[n]):
            silent.append(name)
    assert not silent, f"{tech}: no golden output moves with {silent}"


def test_cell_bit_limits():
    """A 6T SRAM cell holds one bit; RRAM cells up to 8 (the study's range)."""
    assert load_technology("sram").c["max_bits_per_cell"] == 1
    assert load_technology("rram").c["max_bits_per_cell"] == 8
