"""Whole-network golden cases: a few designs whose model outputs are pinned in
tests/golden/model.json (`python tools/update_golden.py` rewrites it, on purpose only)."""

from __future__ import annotations

import numpy as np

from imcopt.hardware import Designs, load_technology
from imcopt.hardware.space import DEFAULT_VALUES, STUDY_SETTINGS
from imcopt.hardware.technology import Technology
from imcopt.model import evaluate
from imcopt.workloads import get

#: name -> (technology, settings, design values beyond the defaults, workload)
CASES: dict[str, tuple[str, dict, dict, str]] = {
    "rram_default_resnet18": ("rram", {}, {}, "resnet18"),
    "rram_pipelined_7nm_pulses_vgg16": (
        "rram", {"layer_schedule": "pipelined"},
        {"technology_node_nm": 7, "input_encoding": 3, "dac_bits": 2, "adc_type": 2,
         "adc_bits": 8, "parallel_rows": 16, "cols_per_adc": 4, "voltage_v": 0.55,
         "glb_depth_words": 256}, "vgg16"),
    "rram_in_array_pulse_width_vit": (
        "rram", {"matmul_policy": "in_array"},
        {"input_encoding": 2, "dac_bits": 4, "parallel_rows": 8, "adc_bits": 8,
         "bits_per_cell": 1}, "vision_transformer"),
    "rram_amplitude_low_supply_mobilebert": (
        "rram", {}, {"input_encoding": 1, "dac_bits": 2, "parallel_rows": 16, "adc_bits": 8,
                     "voltage_v": 0.5, "clock_period_s": 1e-9, "router_groups": 32,
                     "tiles_per_group": 64, "arrays_per_tile": 64}, "mobilebert"),
    "rram_cimloop_study_alexnet": ("rram", {"assumptions": "cimloop"},
                                   {**STUDY_SETTINGS, "rows_per_array": 512,
                                    "cols_per_array": 128, "bits_per_cell": 4,
                                    "voltage_v": 0.5}, "alexnet"),
    "sram_default_mobilenet_v3": ("sram", {}, {"bits_per_cell": 1}, "mobilenet_v3"),
    "sram_in_array_small_glb_hbm_65nm_mobilebert": (
        "sram", {"matmul_policy": "in_array"},
        {"bits_per_cell": 1, "glb_depth_words": 512, "offchip_memory": 4,
         "technology_node_nm": 65, "voltage_v": 0.9, "clock_period_s": 1e-9}, "mobilebert"),
    "sram_pulse_width_amplitude_vit": (
        "sram", {}, {"bits_per_cell": 1, "router_groups": 2, "input_encoding": 2,
                     "dac_bits": 2, "parallel_rows": 16, "adc_bits": 7},
        "vision_transformer"),
    "sram_amplitude_resnet18": ("sram", {}, {"bits_per_cell": 1, "input_encoding": 1,
                                             "dac_bits": 2, "parallel_rows": 32,
                                             "adc_bits": 8, "router_groups": 32,
                                             "tiles_per_group": 64}, "resnet18"),
    "sram_cimloop_study_vgg16": ("sram", {"assumptions": "cimloop"},
                                 {**STUDY_SETTINGS, "bits_per_cell": 1, "rows_per_array": 128,
                                  "cols_per_array": 256, "voltage_v": 0.5}, "vgg16"),
}


def case_technology(name: str, base: Technology | None = None) -> Technology:
    tech_name, settings, _, _ = CASES[name]
    tech = base if base is not None else load_technology(tech_name)
    return tech.with_settings(**settings) if settings else tech


def outputs(name: str, tech: Technology | None = None) -> dict[str, float]:
    """Totals, breakdowns, lifetime and partial-sum bits of one case (flat name -> value)."""
    _, _, values, workload = CASES[name]
    m = evaluate(Designs.from_values({**DEFAULT_VALUES, **values}), get(workload),
                 case_technology(name, tech))
    out = {"energy_j": m.energy_j[0], "latency_s": m.latency_s[0], "area_mm2": m.area_mm2[0],
           "feasible": float(m.feasible[0]), "psum_bits_lost": m.psum_bits_lost[0],
           "lifetime_inferences": m.lifetime_inferences[0]}
    out.update({f"energy.{k}": v[0] for k, v in m.energy_breakdown_j.items()})
    out.update({f"area.{k}": v[0] for k, v in m.area_breakdown_mm2.items()})
    out.update({f"layer_latency.{i}": v for i, v in enumerate(m.layer_latency_s[0])})
    return {k: float(v) for k, v in out.items() if np.isfinite(v)}
