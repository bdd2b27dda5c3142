"""The data-movement floor: what a layer costs at least, whatever the mapping.

Every layer moves at least its inputs (read once), its outputs and its in-array or digital
operands through the global buffer (GLB) and the network, its streamed weights from DRAM, and
the activations that overflow the GLB out to DRAM and back; these bits depend on the layer's
shape and the GLB's capacity only, not on how the weights are mapped (`cost._traffic` with one
input pass: a mapping re-reads inputs once per pass, `input_passes` >= 1, and the reference
policy's per-group copies only add network bits). So, for every design and layer:

    energy  >= glb_bits e_glb_bit + noc_bits e_noc_bit + dram_energy(dram_bits) + leakage(latency)
    latency >= (movement cycles + the layer's fill) x cycle

because the model's layer energy is the sum of these parts and of others that are >= 0 (array
reads, drivers, ADCs, shift-adds, tile buffers, weight writes, digital MACs), its cycles are
max(compute, movement) + write + fill, the movement cycles and every part grow with the bits,
and leakage grows with the latency. Attention matmuls that a technology excludes cost nothing,
so their floor is 0.

The floor costs no mapping: it is the model's own traffic terms with one input pass, about a
tenth of its operations, and only the GLB capacity, the network, the clock, the supply and the
node and memory constants enter its bits and cycles (`TRAFFIC_COLUMNS`). It is also linear in
the bits and cycles (energy per bit, leakage per second), so sums of layers can be costed at
once (`movement_cost`). `search.bounds` uses it to bound each design's energy and latency on
every layer it has not costed in full, which for streamed weights is most of the cost.
"""

from __future__ import annotations

import numpy as np

from ..hardware.space import Designs
from ..hardware.technology import Technology
from ..workloads.layer import Workload
from .components import digital, dram
from .cost import (
    _chip,
    _constants,
    _movement_cycles,
    _traffic,
    area_mm2,
    layer_kinds,
    matmul_operand_bits,
    weight_layer_operands,
)
from .policy import policy_for
from .xp import array_namespace

#: the design parameters the floor's bits and cycles depend on (`traffic_floor`); the rest of
#: the design enters only through `movement_cost`'s per-bit energies and leakage
TRAFFIC_COLUMNS = ("voltage_v", "clock_period_s", "glb_depth_words", "router_groups",
                   "technology_node_nm", "offchip_memory")
#: what `traffic_floor` gives per design and layer
TRAFFIC = ("glb_bits", "noc_bits", "dram_bits", "cycles")


def traffic_floor(designs: Designs, workload: Workload, tech: Technology
                  ) -> dict[str, np.ndarray]:
    """(N, L) per design and layer: the bits every mapping moves through the GLB, the network
    and DRAM at least, and the cycles that takes plus the layer's fill (module docstring)."""
    pol = policy_for(tech.assumptions)
    c = _constants(tech, designs, column=True)
    col = {k: v[:, None] for k, v in designs.values.items()}
    xp = array_namespace(col["rows_per_array"])
    t = workload.table()
    r = {k: xp.asarray(v[None, :], dtype=xp.float64) for k, v in t.items() if k != "kind"}
    as_weights, in_array = layer_kinds(t["kind"], tech)
    rewritten = xp.asarray((t["kind"] == "matmul")[None, :] & in_array, dtype=bool)
    mapped = xp.asarray(as_weights[None, :], dtype=bool)
    operand, streamed = weight_layer_operands(r, rewritten,
                                              tech.weight_residency == "resident")
    operand = xp.where(mapped, operand, matmul_operand_bits(r))
    streamed = xp.where(mapped, streamed, 0.0)
    # the area only sets per-bit energies, which the floor's bits and cycles do not use
    chip = _chip(c, pol, col, xp.ones_like(col["voltage_v"]))
    _, glb_bits, noc_bits, dram_bits = _traffic(pol, chip, r, 1.0, operand, streamed)
    fill = c["layer_overhead_cycles"] if pol.layer_overhead else 0.0
    cycles = _movement_cycles(c, pol, chip, glb_bits, noc_bits, dram_bits) + fill
    # excluded matmuls (neither mapped nor on a digital unit) cost nothing
    costed = mapped | (tech.matmul_policy == "digital")
    n = designs.n
    return {k: xp.broadcast_to(xp.where(costed, v, 0.0), (n, len(workload)))
            for k, v in zip(TRAFFIC, (glb_bits, noc_bits, dram_bits, cycles), strict=True)}


def movement_cost(designs: Designs, tech: Technology, traffic: dict[str, np.ndarray]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(energy_j, latency_s), each (N, K): the energy of moving `traffic`'s bits on each
    design (GLB, network, DRAM) plus the chip's leakage over its cycles, and those cycles'
    time. `traffic` holds (N, K) arrays of `TRAFFIC`: one layer's each, or sums over layers
    (the cost is linear in them)."""
    pol = policy_for(tech.assumptions)
    c = _constants(tech, designs, column=True)
    col = {k: v[:, None] for k, v in designs.values.items()}
    parts = area_mm2(designs, tech)
    area = sum(parts.values())[:, None]
    chip = _chip(c, pol, col, area)
    latency = traffic["cycles"] * chip["cycle"]
    energy = (traffic["glb_bits"] * chip["e_glb_bit"] + traffic["noc_bits"] * chip["e_noc_bit"]
              + dram.energy_j(c, traffic["dram_bits"]))
    if pol.leakage:  # as the model: the bounding box's empty corners do not leak
        energy = energy + digital.leakage_energy_j(
            c, area - parts["array_whitespace"][:, None], latency, chip["supply"]["v2"])
    return energy, latency


def layer_floor(designs: Designs, workload: Workload, tech: Technology
                ) -> tuple[np.ndarray, np.ndarray]:
    """(energy_j, latency_s), each (N, L): every layer's data-movement floor on every design
    (module docstring), <= the model's per-layer energy and latency."""
    return movement_cost(designs, tech, traffic_floor(designs, workload, tech))
