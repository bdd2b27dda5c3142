"""Off-chip memory types: energy per bit and bandwidth of the DRAM that holds streamed weights
(and activations that overflow the global buffer).

A design's `offchip_memory` is a code from `OFFCHIP_MEMORIES`. The technology tables give the
DRAM constants for LPDDR4 (code 1, the study's `fetch_weights_lpddr4`); another type scales
them by its energy and bandwidth relative to LPDDR4's, so code 1 changes nothing (and a
calibrated `dram_energy_per_bit_j` keeps its fit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .space import check_codes


@dataclass(frozen=True)
class OffchipMemory:
    name: str
    energy_per_bit_j: float  # read incl. I/O
    bandwidth_bits_per_s: float  # of the interface one chip gets
    source: str


#: code -> memory type (codes are the values of the `offchip_memory` parameter)
OFFCHIP_MEMORIES: dict[int, OffchipMemory] = {
    1: OffchipMemory("LPDDR4", 6e-12, 128 * 3.2e9,
                     "LPDDR4-3200, 128-bit (study's CiMLoop system): 51.2 GB/s; ~4-8 pJ/bit "
                     "read incl. I/O (the technology table's dram_* constants)"),
    2: OffchipMemory("DDR4", 15e-12, 64 * 3.2e9,
                     "DDR4-3200, one 64-bit channel: 25.6 GB/s (JEDEC JESD79-4); ~15 pJ/bit incl. "
                     "terminated I/O, above LPDDR4 (Li, Reddy, Jacob, MEMSYS 2018) [M]"),
    3: OffchipMemory("GDDR5", 14e-12, 32 * 8e9,
                     "GDDR5, one x32 device at 8 Gb/s/pin: 32 GB/s; 14 pJ/bit (O'Connor et al., "
                     "Fine-Grained DRAM, MICRO 2017)"),
    4: OffchipMemory("HBM2", 3.9e-12, 1024 * 2e9,
                     "HBM2, one 1024-bit stack at 2 Gb/s/pin: 256 GB/s (JEDEC JESD235A); 3.9 "
                     "pJ/bit (O'Connor et al., MICRO 2017)"),
}
REFERENCE_MEMORY = 1


def memory_names() -> dict[int, str]:
    return {k: m.name for k, m in OFFCHIP_MEMORIES.items()}


def _codes(code: np.ndarray | float) -> np.ndarray:
    return check_codes("offchip_memory", code, memory_names()).astype(np.int64)


def _relative(code: np.ndarray | float, attr: str) -> np.ndarray:
    c = _codes(code)
    table = np.zeros(max(OFFCHIP_MEMORIES) + 1)
    for k, m in OFFCHIP_MEMORIES.items():
        table[k] = getattr(m, attr) / getattr(OFFCHIP_MEMORIES[REFERENCE_MEMORY], attr)
    return table[c]


def energy_factor(code: np.ndarray | float) -> np.ndarray:
    """Energy per bit relative to LPDDR4 (1 for code 1)."""
    return _relative(code, "energy_per_bit_j")


def bandwidth_factor(code: np.ndarray | float) -> np.ndarray:
    """Bandwidth relative to LPDDR4 (1 for code 1)."""
    return _relative(code, "bandwidth_bits_per_s")
