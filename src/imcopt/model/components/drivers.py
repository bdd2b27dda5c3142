"""Row drivers and input DACs: how an input reaches the rows, what that costs, how long.

Input encoding. An input of `input_bits` is applied in `ceil(input_bits / dac_bits)` slices
of `dac_bits` bits, lowest first (`dac_bits` = 1: bit-serial). A multi-bit slice x
(0..2^b - 1) drives its row by
- amplitude (`input_encoding` 1, a voltage DAC): one pulse of fixed width t_read at a voltage
  proportional to x; a resistive cell's energy follows V^2, so x^2;
- pulse width (2, a temporal DAC): one pulse of x units t_unit at full voltage, so the slice
  lasts (2^b - 1) t_unit and the cell energy follows x;
- pulse count (3, spikes): x separate unit pulses; the cell energy follows x as for pulse
  width, but the wordline is charged once per pulse, x times (CiMLoop's "temporal spiking"
  row drivers, which the published study used).
With input bits independent, each 1 with probability p (`input_bit_density`), a slice has
mean x / (2^b - 1) = p, mean (x / (2^b - 1))^2 = p^2 + p (1 - p) (4^b - 1) / (3 (2^b - 1)^2),
and is non-zero with probability 1 - (1 - p)^b. A bit-serial slice is the same single pulse
in every encoding.

Row drive. A row's input register (`row_register_energy_j`) takes each slice; each pulse
switches the row's wordline switch (`wl_switch_energy_j` times its relative width, at V^2)
and charges the wordline: C_wordline V^2 for the line, plus, with a buffered driver, the
driver's own tapered chain, `driver_chain_overhead` of the load (1/(f - 1) for a chain of
fan-out f; sized for the wordline at nominal supply, so the driver grows with the wordline)
times `sizing` (>= 1 where a policy widens drivers at a low supply). NeuroSim drives its
rows through a switch alone and sizes its SRAM arrays' switches to a quarter of the
wordline's wire resistance (`switch_width`): short rows then need wide switches. A multi-bit
slice also pays its DAC: `dac_capacitance_per_bit_f` b V^2 (amplitude) or a b-bit compare against a
shared counter, b `logic_energy_per_bit_j` (pulse width or count).

Area per row: `row_decoder_area_mm2` (decoder, register), the switch (`wl_switch_area_mm2`
times its relative width), the driver chain (`driver_area_per_farad_mm2` per F of wordline
load, times `sizing`), and `dac_area_per_bit_mm2` per input bit of a multi-bit DAC.
"""

from __future__ import annotations

from typing import Any

from ..xp import array_namespace

Array = Any
AMPLITUDE, PULSE_WIDTH, PULSE_COUNT = 1, 2, 3


def input_slices(input_bits: Array, dac_bits: Array) -> Array:
    """Slices an input takes (N, L)."""
    return array_namespace(input_bits, dac_bits).ceil(input_bits / dac_bits)


def slice_statistics(dac_bits: Array, bit_density: float) -> tuple[Array, Array, Array]:
    """(mean x/x_max, mean (x/x_max)^2, P(x > 0)) of a `dac_bits` slice (module docstring)."""
    p = bit_density
    full = 2.0**dac_bits - 1.0
    mean = p + 0.0 * dac_bits
    mean_square = p * p + p * (1.0 - p) * (4.0**dac_bits - 1.0) / (3.0 * full * full)
    nonzero = 1.0 - (1.0 - p) ** dac_bits
    return mean, mean_square, nonzero


def pulse_times_s(encoding: Array, dac_bits: Array, read_pulse_s: Array, unit_pulse_s: Array,
                  bit_density: float) -> tuple[Array, Array]:
    """(duration of one slice, input-weighted time a cell conducts at full voltage) in s."""
    xp = array_namespace(encoding, dac_bits)
    mean, mean_square, _ = slice_statistics(dac_bits, bit_density)
    full = 2.0**dac_bits - 1.0
    timed = (encoding != AMPLITUDE) & (dac_bits > 1)  # pulse width or count
    duration = xp.where(timed, full * unit_pulse_s, read_pulse_s)
    weighted = xp.where(timed, full * unit_pulse_s * mean, read_pulse_s * mean_square)
    return duration, weighted


def switch_width(c: dict, cols: Array, sizing: Array, ir_drop_sized: bool) -> Array:
    """Width of a row's wordline switch relative to its reference: fixed, or (NeuroSim's
    rule for its SRAM arrays) sized to a quarter of the wordline's wire resistance, so a
    shorter row needs a wider switch, times `sizing` (its current falls at a low supply)."""
    if not ir_drop_sized:
        return 1.0 + 0.0 * cols
    return sizing * c["wl_switch_reference_cols"] / cols


def row_drive_energy_j(c: dict, c_wordline_f: Array, supply_v: Array, dac_bits: Array,
                       encoding: Array, sizing: Array, bit_density: float, *,
                       chain: bool = True, switch: Array = 1.0) -> Array:
    """Mean energy to drive one row for one input slice: the row's input register, and per
    pulse its wordline switch (`switch`: relative width), the wordline and (`chain`) the
    driver's buffer chain; plus a multi-bit slice's DAC."""
    xp = array_namespace(c_wordline_f, dac_bits)
    mean, _, nonzero = slice_statistics(dac_bits, bit_density)
    multi = dac_bits > 1
    pulses = xp.where(multi & (encoding == PULSE_COUNT), mean * (2.0**dac_bits - 1.0), nonzero)
    scale_sq = (supply_v / c["nominal_voltage_v"]) ** 2
    overhead = c["driver_chain_overhead"] * sizing if chain else 0.0
    per_pulse = (c_wordline_f * supply_v**2 * (1.0 + overhead)
                 + c["wl_switch_energy_j"] * switch * scale_sq)
    dac = xp.where(multi & (encoding != AMPLITUDE), dac_bits * c["logic_energy_per_bit_j"],
                   xp.where(multi, c["dac_capacitance_per_bit_f"] * dac_bits * supply_v**2,
                            0.0))
    return c["row_register_energy_j"] * scale_sq + pulses * per_pulse + dac


def row_area_mm2(c: dict, c_wordline_f: Array, dac_bits: Array, sizing: Array, *,
                 chain: bool = True, switch: Array = 1.0) -> Array:
    """Periphery area of one row: its decoder and register, its wordline switch, (`chain`)
    the driver's buffer chain, and a multi-bit DAC."""
    xp = array_namespace(c_wordline_f, dac_bits)
    driver = c["driver_area_per_farad_mm2"] * c_wordline_f * sizing if chain else 0.0
    return (c["row_decoder_area_mm2"] + c["wl_switch_area_mm2"] * switch + driver
            + xp.where(dac_bits > 1, c["dac_area_per_bit_mm2"] * dac_bits, 0.0))
