"""The crossbar array: cell geometry, wordline and bitline capacitance, cell read and write.

Geometry. A cell covers `cell_area_f2` F^2 (at the design's node F, FinFET inflation included
by `hardware/scaling.py`), `cell_aspect` times wider than tall: width
w = F sqrt(A_f2 * aspect), height h = F sqrt(A_f2 / aspect). A wordline crosses `cols` cells,
a bitline `rows` cells:

    C_wordline = cols * (cell_gate_capacitance_f + w * wire_capacitance_f_per_m)
    C_bitline  = rows * (cell_junction_capacitance_f + h * wire_capacitance_f_per_m)

Reads. One conversion settles a bitline (column) and charges it from the supply:
- RRAM (1T1R, current read): the column is clamped at the read voltage V_rd, so a
  conversion costs C_bitline V_rd^2, and every cell under a driven row conducts
  G = G_off + level (G_on - G_off) for the input-weighted read time t_eff (`drivers`):
  E_cell = V_rd^2 G t_eff, with the access transistor (`access_resistance_ohm`) in series.
  The study's cell (NeuroSim default): 6 kOhm on, 900 kOhm off, 0.5 V read, 195 kOhm access.
- SRAM (a compute port per cell, bitline discharge): cells whose input and stored bit are
  both 1 switch their compute node (`cell_compute_capacitance_f`: an 8T cell's read port,
  or a charge-domain cell's own capacitor), C V^2 each, and pull the bitline down; the
  swing is `sram_bitline_swing_fraction` of the supply at full scale and follows the mean
  product (activity), so a conversion costs C_bitline V (swing V activity).
Writes (streamed SRAM weights, in-array matmul operands): an SRAM cell is written by driving
one of its bitlines through a full swing, C_bitline V^2 per cell (plus its share of the
wordline); an RRAM cell takes a SET/RESET pulse of `cell_write_energy_j`.

Sources of the constants: technologies/<tech>.yaml (docs/model.md, constants table).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..xp import array_namespace

Array = Any  # numpy array or torch tensor (model/xp.py)


def cell_size_m(c: dict, node_m: Array) -> tuple[Array, Array]:
    """(width, height) of one cell in m."""
    side = node_m * c["cell_area_f2"] ** 0.5
    aspect = c["cell_aspect"] ** 0.5
    return side * aspect, side / aspect


def bit_columns(cell: str, cols: Array, bits_per_cell: Array) -> Array:
    """Physical cells along a row: an RRAM column is one cell of `bits_per_cell` bits; a 6T
    SRAM cell holds one bit, so an SRAM column of b-bit weights (b > 1: bit-columns combined
    before the ADC) is b cells wide."""
    return cols if cell == "rram" else cols * bits_per_cell


def wordline_capacitance_f(c: dict, cols: Array, node_m: Array) -> Array:
    width, _ = cell_size_m(c, node_m)
    return cols * (c["cell_gate_capacitance_f"] + width * c["wire_capacitance_f_per_m"])


def bitline_capacitance_f(c: dict, rows: Array, node_m: Array) -> Array:
    _, height = cell_size_m(c, node_m)
    return rows * (c["cell_junction_capacitance_f"] + height * c["wire_capacitance_f_per_m"])


def conversion_energy_j(c: dict, cell: str, c_bitline_f: Array, supply_v: Array,
                        activity: Array, bits_per_cell: Array) -> Array:
    """Energy to settle the bitlines of one conversion (see module docstring). `activity`:
    mean fraction of full-scale current the column carries (SRAM swing). A 6T cell holds one
    bit, so an SRAM column of `bits_per_cell` > 1 stands for that many bit-columns combined
    in the analog domain before their ADC (binary-weighted capacitors, a C-2C ladder): each
    has its own bitline."""
    if cell == "rram":
        return c_bitline_f * c["read_voltage_v"] ** 2 + 0.0 * activity
    swing = c["sram_bitline_swing_fraction"] * supply_v * activity
    return c_bitline_f * supply_v * swing * bits_per_cell


def rram_conductances_s(c: dict) -> tuple[float, float]:
    """(on, off) conductance of a cell with its access transistor in series."""
    acc = c["access_resistance_ohm"]
    return 1.0 / (c["cell_on_resistance_ohm"] + acc), 1.0 / (c["cell_off_resistance_ohm"] + acc)


def rram_read_energy_j(c: dict, cells: Array, level: Array, read_time_s: Array) -> Array:
    """`cells` RRAM cells read together for t_eff: V_rd^2 G t_eff summed, each G between off
    and on by its stored level (`level`: the levels summed over the cells, 0..cells)."""
    g_on, g_off = rram_conductances_s(c)
    return c["read_voltage_v"] ** 2 * (cells * g_off + level * (g_on - g_off)) * read_time_s


def sram_read_energy_j(c: dict, level: Array, input_mean: Array, supply_v: Array) -> Array:
    """An SRAM weight's cells under one input slice: each compute node whose input and bit
    are both 1 switches (level = stored ones summed over the weight's cells)."""
    return c["cell_compute_capacitance_f"] * supply_v**2 * input_mean * level


def cell_write_energy_j(c: dict, cell: str, c_bitline_f: Array, c_wordline_f: Array,
                        cols: Array, supply_v: Array) -> Array:
    """Writing one cell: RRAM a SET/RESET pulse; SRAM a full bitline swing plus its share of
    the wordline."""
    if cell == "rram":
        return c["cell_write_energy_j"] + 0.0 * c_bitline_f
    return (c_bitline_f + c_wordline_f / cols) * supply_v**2


def cell_area_mm2(c: dict, rows: Array, cols: Array, node_m: Array) -> Array:
    """Area of one array's cells."""
    return rows * cols * c["cell_area_f2"] * node_m**2 * 1e6


def stored_level(weight_bits: Array, bits_per_cell: Array, weight_std_fraction: float
                 ) -> Array:
    """Mean stored level of a weight's cells, as a fraction of full scale, summed over its
    cell slices (weights from a zero-centred normal distribution, std `weight_std_fraction`
    of the signed half range, quantised to `weight_bits`, offset-encoded to unsigned, sliced
    low bits first). A cell's read current follows its level, so a weight's cell energy
    is proportional to this sum. Broadcasts like its arguments."""
    xp = array_namespace(weight_bits, bits_per_cell)
    wb = xp.asarray(weight_bits, dtype=xp.int64)
    b = xp.asarray(bits_per_cell, dtype=xp.int64)
    uw, ub = xp.unique(wb), xp.unique(b)
    table = xp.asarray([[_stored_level(int(cb), int(w), float(weight_std_fraction))
                         for w in uw.tolist()] for cb in ub.tolist()])
    return table[xp.searchsorted(ub, b), xp.searchsorted(uw, wb)]


@functools.cache
def _stored_level(bits_per_cell: int, weight_bits: int, std_fraction: float) -> float:
    half = 2 ** (weight_bits - 1)
    values = np.arange(-half, half)
    p = np.exp(-0.5 * (values / max(std_fraction * half, 1e-9)) ** 2)
    p /= p.sum()
    unsigned = values + half
    levels = 2**bits_per_cell - 1
    total = 0.0
    for s in range(-(-weight_bits // bits_per_cell)):
        total += float((p * ((unsigned >> (s * bits_per_cell)) & levels)).sum()) / levels
    return total
