"""Activation x activation matmuls under policy in_array: operands written into the arrays."""

from __future__ import annotations

import numpy as np
import pytest

import imcopt
from design_helpers import PHYSICAL_CIRCUIT
from imcopt.hardware import DesignError, get_space, load_technology

WL = "vision_transformer"


def designs(tech: str, n: int = 8):
    space = get_space(tech).restrict(**PHYSICAL_CIRCUIT)
    return space.decode(space.sample(n, rng=1))


def run(tech: str, policy: str, **constants: float):
    t = load_technology(tech).with_settings(matmul_policy=policy)
    if constants:
        t = t.with_constants(**constants)
    return imcopt.evaluate(designs(tech), WL, t)


def test_unknown_policy_names_the_allowed_ones():
    with pytest.raises(DesignError, match="digital, exclude, in_array"):
        load_technology("rram").with_settings(matmul_policy="analog")


def test_in_array_on_a_streamed_chip_adds_only_the_matmul_layers():
    # streamed (sram) layers are mapped one at a time and exclude/in_array build the same chip,
    # so every weight layer costs the same; the matmuls now cost energy, time and writes
    ex, ia = run("sram", "exclude"), run("sram", "in_array")
    mm = np.array([layer.kind == "matmul" for layer in imcopt.workloads.get(WL)])
    assert np.array_equal(ex.area_mm2, ia.area_mm2)
    assert np.array_equal(ex.layer_energy_j[:, ~mm], ia.layer_energy_j[:, ~mm])
    assert np.array_equal(ex.layer_latency_s[:, ~mm], ia.layer_latency_s[:, ~mm])
    assert (ia.layer_energy_j[:, mm] > 0).all() and (ex.layer_energy_j[:, mm] == 0).all()
    assert (ia.energy_breakdown_j["weight_writes"] > ex.energy_breakdown_j["weight_writes"]).all()
    assert (ia.executed_macs == ia.macs).all() and (ex.executed_macs < ex.macs).all()
    # every matmul layer adds at least one more rewrite of the shared cells
    assert (ia.cell_writes_per_inference >= ex.cell_writes_per_inference + mm.sum()).all()


def test_in_array_on_rram_pays_writes_wear_and_write_time():
    dig, ia = run("rram", "digital"), run("rram", "in_array")
    ok = ia.feasible
    assert ok.any()
    assert (dig.energy_breakdown_j["weight_writes"] == 0).all()
    assert (ia.energy_breakdown_j["weight_writes"][ok] > 0).all()
    assert (ia.energy_breakdown_j["digital_matmul"] == 0).all()
    assert (ia.area_breakdown_mm2["digital_units"] == 0).all()
    # resident weights are never rewritten; in-array operands once per inference
    assert (dig.cell_writes_per_inference == 0).all() and np.isinf(dig.lifetime_inferences).all()
    endurance = load_technology("rram").c["cell_endurance_cycles"]
    assert (ia.cell_writes_per_inference[ok] >= 1).all()
    assert np.allclose(ia.lifetime_inferences * ia.cell_writes_per_inference, endurance)
    # a slower write lengthens only the in-array policy
    slow = run("rram", "in_array", cell_write_time_s=1e-5)
    assert (slow.latency_s > ia.latency_s).all()
    assert np.array_equal(run("rram", "digital", cell_write_time_s=1e-5).latency_s,
                          dig.latency_s)
    # the write energy is charged per written cell
    double = run("rram", "in_array",
                 cell_write_energy_j=2 * load_technology("rram").c["cell_write_energy_j"])
    assert np.allclose(double.energy_breakdown_j["weight_writes"],
                       2 * ia.energy_breakdown_j["weight_writes"])


def test_cimloop_assumptions_map_matmuls_like_weights_whatever_the_policy():
    # (only the digital unit's area, and the wire energy that follows area, differ)
    base = load_technology("rram").with_settings(assumptions="cimloop")
    a = imcopt.evaluate(designs("rram"), WL, base)
    b = imcopt.evaluate(designs("rram"), WL, base.with_settings(matmul_policy="in_array"))
    assert np.array_equal(a.latency_s, b.latency_s)
    assert (b.energy_breakdown_j["weight_writes"] == 0).all()
    assert (b.cell_writes_per_inference == 0).all()


def test_cli_matmul_policy_option_and_endurance_in_json():
    import json

    from typer.testing import CliRunner

    from imcopt.cli import app

    runner = CliRunner()
    docs = {}
    for policy in ("digital", "in_array"):
        result = runner.invoke(app, ["evaluate", "-w", WL, "--matmul-policy", policy, "--json"])
        assert result.exit_code == 0, result.output
        docs[policy] = json.loads(result.stdout)["workloads"][WL]
    assert docs["digital"]["endurance"] == {"cell_writes_per_inference": 0.0,
                                            "lifetime_inferences": None}
    assert docs["in_array"]["endurance"]["cell_writes_per_inference"] == 1.0
    assert docs["in_array"]["energy_breakdown_j"]["weight_writes"] > 0
    bad = runner.invoke(app, ["evaluate", "--matmul-policy", "analog"])
    assert bad.exit_code == 2 and "digital, exclude, in_array" in bad.output
