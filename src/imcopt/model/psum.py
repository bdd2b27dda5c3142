"""Partial-sum precision: how many bits the ADC drops from each column sum.

One conversion sums, over the rows read together (`parallel_rows`, at most the layer's
reduction K), the products of an input slice (`dac_bits`) and a cell (`bits_per_cell`);
`components.adc.psum_bits_required` is the width of that sum. `psum_bits_lost` is the most
bits any array-mapped layer of a workload loses to a narrower ADC (0: every sum converts
exactly). The model does not simulate accuracy: a design that drops more than the
technology's `psum_bits_limit` is infeasible (imcopt's own policy allows none; a user who
accepts truncation raises the limit, e.g. `objective.max_psum_bits_lost` in a search).
"""

from __future__ import annotations

import numpy as np

from ..hardware.space import Designs
from ..hardware.technology import Technology
from ..workloads.layer import Workload
from .components.adc import psum_bits_required
from .distinct import distinct_rows
from .policy import policy_for


def psum_bits_lost(designs: Designs, workload: Workload, tech: Technology) -> np.ndarray:
    """(N,) max over the workload's array-mapped layers of required partial-sum bits minus
    ADC bits, clipped at 0."""
    pol = policy_for(tech.assumptions)
    t = workload.table()
    mapped = ((t["kind"] != "matmul") | pol.matmul_as_weights
              | (tech.matmul_policy == "in_array"))
    if not mapped.any():
        return np.zeros(designs.n)
    k = (t["C"] * t["R"] * t["S"])[mapped][None, :].astype(np.float64)
    rows = designs["rows_per_array"]
    parallel = rows if pol.all_rows_at_once else np.minimum(designs["parallel_rows"], rows)
    # the sum's width depends on a design only through (rows read, input slice, cell bits):
    # work on the few distinct triples, then spread the result over the designs
    triples = np.column_stack([parallel, designs["dac_bits"], designs["bits_per_cell"]])
    first, inverse = distinct_rows(*triples.T)
    uniq = triples[first]
    input_bits = np.minimum(t["input_bits"][mapped][None, :], uniq[:, 1:2])
    cell_bits = np.minimum(uniq[:, 2:3], t["weight_bits"][mapped][None, :])
    need = psum_bits_required(np.minimum(k, uniq[:, 0:1]), input_bits, cell_bits)
    widest = need.max(axis=1)[inverse.reshape(-1)]  # adc_bits is one per design
    return np.maximum(widest - designs["adc_bits"], 0.0)
