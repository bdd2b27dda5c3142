"""Digital logic: shift-add accumulation, the activation x activation matmul unit, leakage.

Shift-add. Each conversion result (B = `adc_bits` bits) is shifted by its input-slice and
cell-slice positions and added into an accumulator wide enough for the whole output
(`accumulator_bits`, which sizes its area). Adding a B-bit value switches its B bits and a
carry that runs on for about 2 more bits on average (the expected carry chain of random
addends is short), each an add and a register write: 2 (B + 2) `logic_energy_per_bit_j` per
conversion, at V^2 (Horowitz, ISSCC 2014: a 32-bit add costs 0.1 pJ at 45 nm, 0.9 V).

Matmul unit (activation x activation products, matmul policy `digital`):
`digital_mac_energy_j` per 8 x 8-bit MAC, scaled by (input bits x weight bits / 64), at V^2;
`digital_lanes_per_tile` lanes of `digital_lane_area_mm2` per tile.

Leakage: `leakage_power_w_per_mm2` over the chip's area less the bounding boxes' empty corners
(no transistors there) for as long as it runs, at V^2
(a power-gated low-power process).
"""

from __future__ import annotations

from typing import Any

from ..xp import array_namespace

Array = Any


def accumulator_bits(weight_bits: Array, input_bits: Array, reduction: Array) -> Array:
    """Width of the accumulator that builds one output from its partial sums."""
    xp = array_namespace(weight_bits, reduction)
    return weight_bits + input_bits + xp.ceil(xp.log2(xp.maximum(reduction, 1.0)))


def shift_add_energy_j(c: dict, adc_bits: Array, supply_scale_sq: Array) -> Array:
    """One conversion result shifted and accumulated."""
    return 2.0 * c["logic_energy_per_bit_j"] * (adc_bits + 2.0) * supply_scale_sq


def matmul_mac_energy_j(c: dict, input_bits: Array, weight_bits: Array,
                        supply_scale_sq: Array) -> Array:
    return c["digital_mac_energy_j"] * (input_bits * weight_bits / 64.0) * supply_scale_sq


def matmul_unit_area_mm2(c: dict) -> float:
    """One tile's matmul unit."""
    return c["digital_lanes_per_tile"] * c["digital_lane_area_mm2"]


def leakage_energy_j(c: dict, area_mm2: Array, time_s: Array, supply_scale_sq: Array) -> Array:
    return c["leakage_power_w_per_mm2"] * area_mm2 * time_s * supply_scale_sq
