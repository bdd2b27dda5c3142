"""A technology's constants as each design sees them: node-scaled (`scaling`) and with its
off-chip memory type (`memory`). At the reference settings (32 nm, LPDDR4) this is the
technology table itself, value for value."""

from __future__ import annotations

import numpy as np

from . import memory
from .scaling import scale_constants
from .space import Designs
from .technology import Technology


def design_constants(tech: Technology, d: Designs, column: bool = False
                     ) -> dict[str, float | np.ndarray]:
    """Constants by name: scalars where no design changes them, else arrays of shape (N,)
    or, with `column`, (N, 1) to broadcast against per-layer rows."""

    def shape(a: np.ndarray) -> np.ndarray:
        return a[:, None] if column else a

    c = scale_constants(tech.c, tech.name, shape(d["technology_node_nm"]))
    mem = d["offchip_memory"]
    if np.any(mem != memory.REFERENCE_MEMORY):
        c["dram_energy_per_bit_j"] = c["dram_energy_per_bit_j"] * shape(memory.energy_factor(mem))
        c["dram_bandwidth_bits_per_s"] = (c["dram_bandwidth_bits_per_s"]
                                          * shape(memory.bandwidth_factor(mem)))
    return c
