"""ADC architectures (SAR, flash) and the partial-sum precision an ADC must resolve.

Energy, area and conversion time of a B-bit ADC, in units the technology table prices
(`adc_energy_per_step_j`, `adc_area_per_bit_mm2`):

| type (code) | energy per conversion / step energy | area / per-bit area | time (steps) |
| --- | --- | --- | --- |
| SAR (1) | (B + 1) (1 + s B), s = `adc_energy_bit_slope` | B | B + 1 |
| flash (2) | 2^B - 1 comparator decisions | 2^B - 1 comparators | 1 |

SAR: NeuroSim V1.4 `SarADC.cpp` (ANCHORS 2.1): energy = P (B + 1) ns with P = a B + b, area
linear in B, latency B + 1 cycles. Flash: NeuroSim's multilevel sense amplifier (2^B - 1
comparators plus references): area and energy exponential in B, one decision time. The
flash comparator is priced like one SAR step (a comparator decision) [M]: flash is the
cheaper per conversion up to 2 bits, SAR from 3 bits on, and flash is always the faster.

Conversion time enters the shortest cycle: `min_cycle_nominal_s` is one array read plus a
5-bit SAR conversion; a fraction `ADC_CYCLE_FRACTION` of it is the conversion and scales
with the steps, so SAR at 5 bits changes nothing.

Partial sums: one conversion sums rows_active products of an input slice (i bits) and a cell
(c bits); representing it exactly needs ceil(log2(rows_active (2^i - 1)(2^c - 1) + 1)) bits.
Fewer ADC bits than that truncates the sum: `psum_bits_lost` is the shortfall.
"""

from __future__ import annotations

import numpy as np

from .space import check_codes

ADC_TYPES = {1: "sar", 2: "flash"}
REFERENCE_ADC = (1, 5)  # SAR, 5 bits: the study's ADC, where every rule below is calibrated
#: share of the 32 nm nominal shortest cycle spent converting (the rest: array read settle) [M]
ADC_CYCLE_FRACTION = 0.5


def _types(adc_type: np.ndarray | float) -> np.ndarray:
    return check_codes("adc_type", adc_type, ADC_TYPES)


def energy_steps(bits: np.ndarray, adc_type: np.ndarray, bit_slope: float) -> np.ndarray:
    """Energy per conversion in units of `adc_energy_per_step_j`."""
    sar = (bits + 1) * (1 + bit_slope * bits)
    return np.where(_types(adc_type) == 1, sar, 2.0**bits - 1)


def area_units(bits: np.ndarray, adc_type: np.ndarray) -> np.ndarray:
    """Area beyond the fixed base in units of `adc_area_per_bit_mm2`."""
    return np.where(_types(adc_type) == 1, bits, 2.0**bits - 1)


def time_steps(bits: np.ndarray, adc_type: np.ndarray) -> np.ndarray:
    """Conversion time in comparator decisions."""
    return np.where(_types(adc_type) == 1, bits + 1, np.ones_like(np.asarray(bits, float)))


def min_cycle_factor(bits: np.ndarray, adc_type: np.ndarray) -> np.ndarray:
    """Shortest cycle relative to a 5-bit SAR's (exactly 1 there)."""
    ref = time_steps(np.float64(REFERENCE_ADC[1]), np.float64(REFERENCE_ADC[0]))
    return (1 - ADC_CYCLE_FRACTION) + ADC_CYCLE_FRACTION * time_steps(bits, adc_type) / ref


def psum_bits_required(rows_active: np.ndarray, input_bits: np.ndarray,
                       cell_bits: np.ndarray) -> np.ndarray:
    """Bits that represent one column's partial sum exactly (see the module docstring)."""
    full_scale = rows_active * (2.0**input_bits - 1) * (2.0**cell_bits - 1)
    return np.ceil(np.log2(full_scale + 1))
