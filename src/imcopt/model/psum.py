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
    input_bits = np.minimum(t["input_bits"][mapped][None, :], tech.c["dac_bits"])
    # the sum's width depends on a design only through (rows, bits per cell): work on the
    # few distinct pairs, then spread the result over the designs
    rows, bits = designs["rows_per_array"], designs["bits_per_cell"]
    code, inverse = np.unique(rows * 64.0 + bits, return_inverse=True)  # bits_per_cell < 64
    pairs = np.column_stack([code // 64.0, code % 64.0])
    cell_bits = np.minimum(pairs[:, 1:2], t["weight_bits"][mapped][None, :])
    need = psum_bits_required(np.minimum(k, pairs[:, 0:1]), input_bits, cell_bits)
    widest = need.max(axis=1)[inverse.reshape(-1)]  # adc_bits is one per design
    return np.maximum(widest - designs["adc_bits"], 0.0)
