"""Column readout: sample-and-hold, the ADC, and the partial-sum precision it must resolve.

Each column is sampled (`sample_capacitance_f`, C V^2 per conversion) and converted by an ADC
that `cols_per_adc` columns share, one after another.

SAR ADC (`adc_type` 1). Energy from the public ADC survey's Walden figure of merit: a
conversion of B bits resolves ENOB = B - `adc_enob_loss_bits` effective bits and costs
`adc_walden_fom_j` 2^ENOB, times sqrt(1 + (f / `adc_corner_hz`)^2) at a sample rate f (the
survey's envelope bends up at its corner: speed-limited designs), and never less than the
thermal-noise bound of the Schreier envelope, E = 10^((6.02 ENOB + 1.76 -
`adc_schreier_fom_db`) / 10) / 2. Energy scales
with the supply as V^2 and, at a fixed supply, with the node as F (hardware/scaling.py).
Area: `adc_area_base_mm2` (comparator, SAR logic) + `adc_area_per_step_mm2` 2^B (the
binary-weighted capacitor DAC, whose unit capacitor is set by matching). Time: B + 1
comparator decisions of `adc_decision_time_s` (asynchronous SAR; node- and supply-scaled
like logic).

Flash ADC (`adc_type` 2): 2^B - 1 comparators fire at once: energy (2^B - 1)
`comparator_energy_j`, area (2^B - 1) `comparator_area_mm2` + the base, one decision.

More bits cost energy and area exponentially; sharing an ADC costs time (`cols_per_adc`
conversions in a row, model/timing.py).

Partial sums: one conversion sums rows_active products of an input slice (i bits) and a cell
(c bits); representing it exactly needs ceil(log2(rows_active (2^i - 1)(2^c - 1) + 1)) bits.
An ADC with fewer bits truncates the sum (`psum_bits_lost`).
"""

from __future__ import annotations

from typing import Any

from ..xp import array_namespace

Array = Any
SAR, FLASH = 1, 2


def conversion_time_s(c: dict, adc_bits: Array, adc_type: Array, slowdown: Array) -> Array:
    """Shortest time of one conversion: decisions x decision time (x the supply's slowdown)."""
    xp = array_namespace(adc_bits, adc_type)
    decisions = xp.where(adc_type == FLASH, 1.0, adc_bits + 1.0)
    return decisions * c["adc_decision_time_s"] * slowdown


def conversion_energy_j(c: dict, adc_bits: Array, adc_type: Array, sample_rate_hz: Array,
                        supply_scale_sq: Array) -> Array:
    """Energy of one conversion at a sample rate (0: no speed penalty), supply (V/Vnom)^2."""
    xp = array_namespace(adc_bits, adc_type)
    enob = xp.maximum(adc_bits - c["adc_enob_loss_bits"], 1.0)
    speed = xp.sqrt(1.0 + (sample_rate_hz / c["adc_corner_hz"]) ** 2)
    walden = c["adc_walden_fom_j"] * 2.0**enob * speed
    thermal = 0.5 * 10.0 ** ((6.02 * enob + 1.76 - c["adc_schreier_fom_db"]) / 10.0)
    sar = xp.maximum(walden, thermal)
    flash = (2.0**adc_bits - 1.0) * c["comparator_energy_j"]
    return xp.where(adc_type == FLASH, flash, sar) * supply_scale_sq


def adc_area_mm2(c: dict, adc_bits: Array, adc_type: Array) -> Array:
    """Area of one ADC."""
    xp = array_namespace(adc_bits, adc_type)
    steps = 2.0**adc_bits
    return c["adc_area_base_mm2"] + xp.where(
        adc_type == FLASH, (steps - 1.0) * c["comparator_area_mm2"],
        c["adc_area_per_step_mm2"] * steps)


def sample_energy_j(c: dict, supply_v: Array) -> Array:
    """Sample-and-hold / column multiplexer, per conversion."""
    return c["sample_capacitance_f"] * supply_v**2


def adcs_per_array(cols: Array, cols_per_adc: Array) -> Array:
    return array_namespace(cols, cols_per_adc).ceil(cols / cols_per_adc)


def psum_bits_required(rows_active: Array, input_bits: Array, cell_bits: Array) -> Array:
    """Bits that represent one column's partial sum exactly (see the module docstring)."""
    xp = array_namespace(rows_active, input_bits, cell_bits)
    full_scale = rows_active * (2.0**input_bits - 1) * (2.0**cell_bits - 1)
    return xp.ceil(xp.log2(full_scale + 1))

