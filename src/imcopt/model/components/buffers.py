"""On-chip SRAM buffers: each tile's input/output buffer and the chip's global buffer (GLB).

Access energy per bit grows with capacity as wires lengthen (CACTI's trend):
    e(capacity) = `sram_energy_per_bit_j` (capacity / 1 MiB)^`sram_energy_capacity_exponent`
with the reference value from Horowitz (ISSCC 2014): a 64-bit read of a 1 MB SRAM costs
about 100 pJ at 45 nm (1.6 pJ/bit), 10 pJ for 8 KB; so the exponent is about 0.5.
Area: `sram_area_per_bit_mm2` per bit (bit cell and macro periphery).

A tile's buffer holds, per array, one input vector and one output vector of
`buffer_word_bits` bits per value: (rows + cols) x `buffer_word_bits` bits (the sizing of
CiMLoop's tile input/output buffers: depth = the array's parallel inputs / outputs). The GLB
holds `glb_depth_words` words of `GLB_WORD_BITS` bits and moves `glb_bits_per_cycle` bits a cycle.
"""

from __future__ import annotations

from typing import Any

Array = Any
GLB_WORD_BITS = 2048
MIB_BITS = 8 * 2**20


def access_energy_per_bit_j(c: dict, capacity_bits: Array) -> Array:
    return c["sram_energy_per_bit_j"] * (capacity_bits / MIB_BITS) ** c[
        "sram_energy_capacity_exponent"]


def glb_capacity_bits(glb_depth_words: Array) -> Array:
    return glb_depth_words * GLB_WORD_BITS


def tile_buffer_capacity_bits(c: dict, arrays_per_tile: Array, rows: Array, cols: Array
                              ) -> Array:
    return arrays_per_tile * (rows + cols) * c["buffer_word_bits"]


def buffer_area_mm2(c: dict, capacity_bits: Array) -> Array:
    return capacity_bits * c["sram_area_per_bit_mm2"]
