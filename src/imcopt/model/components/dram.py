"""Off-chip memory (DRAM): streamed weights and activations that overflow the global buffer.

Energy `dram_energy_per_bit_j` per bit read or written (I/O included), bandwidth
`dram_bandwidth_bits_per_s`, both for the design's memory type (hardware/memory.py: LPDDR4,
DDR4, GDDR5, HBM2). Activations that do not fit the GLB go out and come back: 2 x the
overflow.
"""

from __future__ import annotations

from typing import Any

from ..xp import array_namespace

Array = Any


def spill_bits(input_bits: Array, output_bits: Array, glb_capacity_bits: Array) -> Array:
    """Activation bits a layer writes to DRAM and reads back (its inputs and outputs beyond
    the GLB's capacity)."""
    xp = array_namespace(input_bits, glb_capacity_bits)
    return 2.0 * xp.maximum(input_bits + output_bits - glb_capacity_bits, 0.0)


def energy_j(c: dict, bits: Array) -> Array:
    return bits * c["dram_energy_per_bit_j"]


def cycles(c: dict, bits: Array, cycle_s: Array) -> Array:
    """Cycles to move `bits` at the memory's bandwidth."""
    return bits / (c["dram_bandwidth_bits_per_s"] * cycle_s)
