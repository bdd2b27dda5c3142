"""Partial-sum precision: how many bits the ADC drops from each column sum.

One conversion sums, over the active rows of an array, the products of an input slice and a
cell; `hardware.adc.psum_bits_required` is the width of that sum. `psum_bits_lost` is the
most bits any layer of a workload loses to a narrower ADC (0: every sum converts exactly).
The model does not simulate accuracy: this number is reported next to energy and latency so
that no design trades precision silently, and a search can bound it
(`objective.max_psum_bits_lost`).
"""

from __future__ import annotations

import numpy as np

from ..hardware.adc import psum_bits_required
from ..hardware.space import Designs
from ..hardware.technology import Technology
from ..workloads.layer import Workload


def psum_bits_lost(designs: Designs, workload: Workload, tech: Technology) -> np.ndarray:
    """(N,) max over the workload's array-mapped layers of required partial-sum bits minus
    ADC bits, clipped at 0."""
    t = workload.table()
    mapped = (t["kind"] != "matmul") | (tech.assumptions == "cimloop")
    if not mapped.any():
        return np.zeros(designs.n)
    k = (t["C"] * t["R"] * t["S"])[mapped][None, :].astype(np.float64)
    rows = designs["rows_per_array"][:, None]
    input_bits = np.minimum(t["input_bits"][mapped][None, :], tech.c["dac_bits"])
    cell_bits = np.minimum(designs["bits_per_cell"][:, None], t["weight_bits"][mapped][None, :])
    need = psum_bits_required(np.minimum(k, rows), input_bits, cell_bits)
    return np.maximum(need - designs["adc_bits"][:, None], 0.0).max(axis=1)
