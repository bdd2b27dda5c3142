"""Networks the calibration never saw (transformers, DenseNet, ResNet-50, LLM blocks):
checks of what can be checked without their reference numbers."""

import numpy as np
import pytest

from imcopt.hardware import designs_from_keys, load_technology
from imcopt.model import evaluate
from imcopt.workloads import FOUR_NETWORKS, get

#: the default design of each technology (the CLI's `evaluate` default)
DESIGNS = {"rram": "A_0.7_2_2e-09_512_512_8_16_32_16384",
           "sram": "A_0.7_1_2e-09_512_512_8_16_32_16384"}
UNSEEN = ("resnet50", "resnet50_cimloop", "densenet201", "mobilebert", "vision_transformer",
          "gpt2_medium", "dpt_large", "msft_phi_1_5")
TRANSFORMERS = ("mobilebert", "vision_transformer", "gpt2_medium", "dpt_large", "msft_phi_1_5")


def energy_per_mac(tech: str, name: str, assumptions: str = "physical") -> float:
    t = load_technology(tech).with_settings(assumptions=assumptions)
    wl = get(name)
    return float(evaluate(designs_from_keys([DESIGNS[tech]]), wl, t).energy_j[0] / wl.macs)


@pytest.mark.parametrize("tech", ["rram", "sram"])
@pytest.mark.parametrize("name", UNSEEN)
def test_energy_per_mac_in_the_range_of_the_calibration_networks(tech, name):
    seen = [energy_per_mac(tech, n) for n in FOUR_NETWORKS]
    value = energy_per_mac(tech, name)
    # one chip, different networks: energy per MAC moves with utilisation and leakage time,
    # not by orders of magnitude
    assert 0.5 * min(seen) <= value <= 2 * max(seen), (value, seen)


@pytest.mark.parametrize("tech", ["rram", "sram"])
@pytest.mark.parametrize("name", TRANSFORMERS)
def test_attention_matmuls_run_digitally_at_a_sensible_share(tech, name):
    wl = get(name)
    m = evaluate(designs_from_keys([DESIGNS[tech]]), wl, load_technology(tech))
    is_mm = np.array([layer.kind == "matmul" for layer in wl.layers])
    mac_share = sum(layer.macs for layer in wl.layers if layer.kind == "matmul") / wl.macs
    energy_share = m.layer_energy_j[0, is_mm].sum() / m.energy_j[0]
    assert m.energy_breakdown_j["digital_matmul"][0] > 0
    assert 0 < energy_share <= 5 * mac_share + 0.05
    np.testing.assert_allclose(m.executed_macs, wl.macs)


def test_matmul_policy_exclude_removes_them():
    wl = get("vision_transformer")
    t = load_technology("sram").with_settings(matmul_policy="exclude")
    m = evaluate(designs_from_keys([DESIGNS["sram"]]), wl, t)
    is_mm = np.array([layer.kind == "matmul" for layer in wl.layers])
    assert np.all(m.layer_energy_j[0, is_mm] == 0)
    matmul_macs = sum(layer.macs for layer in wl.layers if layer.kind == "matmul")
    assert m.executed_macs[0] == wl.macs - matmul_macs


def test_cimloop_assumptions_map_attention_like_weights():
    wl = get("gpt2_medium_cimloop")
    t = load_technology("sram").with_settings(assumptions="cimloop")
    m = evaluate(designs_from_keys([DESIGNS["sram"]]), wl, t)
    assert m.energy_breakdown_j["digital_matmul"][0] == 0
    np.testing.assert_allclose(m.executed_macs, wl.macs)
