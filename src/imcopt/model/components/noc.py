"""The on-chip network from the global buffer (GLB) to the router groups.

Topology: an H-tree rooted at the GLB, one router per level of the tree, whose leaves are the
`router_groups` group routers; each router serves the tiles of its group over a local bus.
A bit from the GLB to a group crosses 1 + log2(router_groups) routers and about half the
chip's side of wire (root at the centre). The tree multicasts: an input that several copies
of a layer use is sent once and duplicated at the branch points.

Energy per bit moved: hops x `router_energy_per_bit_j` + wire length x the wire's
C V^2 / 2 (`wire_capacitance_f_per_m`, half the bits toggle).
Bandwidth: the root takes `glb_bits_per_cycle` (the GLB port) and each leaf link
`router_bits_per_cycle`; a layer's GLB traffic moves at the smaller of the port and the
leaves together (`router_groups` x `router_bits_per_cycle`, the tree's bisection bandwidth
at its leaves). Area: `router_area_mm2` per group router.
"""

from __future__ import annotations

from typing import Any

from ..xp import array_namespace

Array = Any


def hops(router_groups: Array) -> Array:
    return 1.0 + array_namespace(router_groups).log2(router_groups)


def wire_energy_per_bit_mm_j(c: dict, supply_v: Array) -> Array:
    """One bit over one mm of global wire: C V^2 / 2 (half the bits toggle)."""
    return 0.5 * c["wire_capacitance_f_per_m"] * 1e-3 * supply_v**2


def energy_per_bit_j(c: dict, router_groups: Array, chip_area_mm2: Array, supply_v: Array,
                     wires: bool = True) -> Array:
    """Moving one bit GLB -> group router; routers and wires switch at `supply_v` (`wires`
    False: routers only)."""
    xp = array_namespace(router_groups, chip_area_mm2)
    scale_sq = (supply_v / c["nominal_voltage_v"]) ** 2
    wire = (0.5 * xp.sqrt(chip_area_mm2) * wire_energy_per_bit_mm_j(c, supply_v) if wires
            else 0.0)
    return hops(router_groups) * c["router_energy_per_bit_j"] * scale_sq + wire


def bits_per_cycle(c: dict, router_groups: Array) -> Array:
    xp = array_namespace(router_groups)
    return xp.minimum(c["router_bits_per_cycle"] * router_groups, c["glb_bits_per_cycle"])


def area_mm2(c: dict, router_groups: Array) -> Array:
    return router_groups * c["router_area_mm2"]
