"""One-knob sweeps: how energy, latency and area move when one design parameter moves.

From the default design (`hardware.space.DEFAULT_VALUES`, completed by the space's fixed
values), each parameter of a technology's default space is set to the smallest and the
largest value its list holds (the parameters the space leaves out to two values of
`OTHER_VALUES`), everything else kept; `sweep()` returns the ratio high / low
of energy, latency, area and TOPS/W per network. `EXPECTED` says, with the reason, which way
each ratio must go; `direction()` reads a ratio as "+" (up more than 1 %), "-" (down more than
1 %) or "0". docs/model.md holds the generated table; a test fails when a direction flips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hardware import Designs, get_space, load_technology
from .hardware.space import DEFAULT_VALUES
from .model import evaluate
from .workloads import get

METRICS = ("energy_j", "latency_s", "area_mm2", "tops_per_w")
NETWORKS = ("resnet18", "vision_transformer")
TOLERANCE = 0.01  # a ratio within 1 % of 1 counts as "0"

#: (parameter, metric) -> expected direction of high / low, and why. "~" = either way (the
#: model has competing effects and no single expected direction). Applies to both
#: technologies unless a technology-specific entry overrides it.
EXPECTED: dict[tuple[str, str], tuple[str, str]] = {
    ("voltage_v", "energy_j"): ("+", "dynamic energy ~ C V^2"),
    ("voltage_v", "latency_s"): ("-", "a low supply stretches the clock (alpha-power law)"),
    ("voltage_v", "area_mm2"): ("0", "drivers are not resized: the clock stretches instead"),
    ("clock_period_s", "latency_s"): ("+", "every cycle is longer"),
    ("clock_period_s", "area_mm2"): ("0", "the clock does not change the circuits"),
    ("clock_period_s", "energy_j"): ("~", "leakage runs for longer, but ADCs that convert more "
                                          "slowly cost less per conversion (survey corner)"),
    ("technology_node_nm", "area_mm2"): ("+", "circuits and cells ~ F^2"),
    ("technology_node_nm", "energy_j"): ("+", "switched capacitance ~ the linear dimension"),
    ("input_encoding", "energy_j"): ("0", "bit-serial inputs: every encoding is one pulse"),
    ("input_encoding", "latency_s"): ("0", "bit-serial inputs: every encoding is one pulse"),
    ("rows_per_array", "area_mm2"): ("+", "more cells per array, same array count"),
    ("cols_per_array", "area_mm2"): ("+", "more cells and ADCs per array"),
    ("router_groups", "area_mm2"): ("+", "more tiles, arrays and routers"),
    ("router_groups", "latency_s"): ("-", "more arrays hold more copies, more network bandwidth"),
    ("tiles_per_group", "area_mm2"): ("+", "more tiles and arrays"),
    ("tiles_per_group", "latency_s"): ("-", "more arrays hold more copies"),
    ("arrays_per_tile", "area_mm2"): ("+", "more arrays"),
    ("arrays_per_tile", "latency_s"): ("-", "more arrays hold more copies"),
    ("glb_depth_words", "area_mm2"): ("+", "a bigger buffer"),
    ("glb_depth_words", "energy_j"): ("+", "a bigger buffer costs more per access (CACTI)"),
    ("parallel_rows", "energy_j"): ("-", "fewer conversions per MAC"),
    ("parallel_rows", "latency_s"): ("-", "fewer sequential row groups per input slice"),
    ("parallel_rows", "area_mm2"): ("0", "the same circuits"),
    ("adc_bits", "energy_j"): ("+", "energy per conversion ~ 2^bits"),
    ("adc_bits", "area_mm2"): ("+", "capacitor DAC / comparators ~ 2^bits"),
    ("adc_bits", "latency_s"): ("+", "a SAR takes bits + 1 decisions"),
    ("cols_per_adc", "area_mm2"): ("-", "fewer ADCs"),
    ("cols_per_adc", "latency_s"): ("+", "shared ADCs convert their columns one after another"),
    ("dac_bits", "latency_s"): ("-", "fewer input slices"),
    ("dac_bits", "energy_j"): ("-", "fewer slices, so fewer conversions"),
    ("bits_per_cell", "energy_j"): ("-", "fewer column slices per weight, fewer conversions"),
    ("bits_per_cell", "area_mm2"): ("0", "the same arrays"),
    ("adc_type", "area_mm2"): ("+", "flash: 2^B - 1 comparators, against a SAR's capacitor DAC"),
    ("adc_type", "latency_s"): ("-", "flash decides in one step, a SAR in B + 1"),
}
UNDECIDED = "~"
#: the two values swept for parameters a default space leaves out
OTHER_VALUES = {"technology_node_nm": (7.0, 65.0), "offchip_memory": (1.0, 4.0),
                "input_encoding": (1.0, 3.0)}


@dataclass(frozen=True)
class SweepRow:
    technology: str
    network: str
    parameter: str
    low: float
    high: float
    ratios: dict[str, float]  # metric -> high / low
    feasible: tuple[bool, bool]  # (low, high)


def base_design(technology: str) -> dict[str, float]:
    """The default design of a technology's default space (its fixed values applied)."""
    space = get_space(technology)
    return {**DEFAULT_VALUES, **space.fixed}


def sweep(technology: str, networks: tuple[str, ...] = NETWORKS) -> list[SweepRow]:
    """Every parameter of the technology's default space, smallest vs largest value."""
    tech = load_technology(technology)
    space = get_space(technology)
    base = base_design(technology)
    ranges = {p.name: (min(p.values), max(p.values)) for p in space.parameters}
    ranges.update({k: v for k, v in OTHER_VALUES.items() if k not in ranges})
    designs = []
    for name, (lo, hi) in ranges.items():
        designs += [{**base, name: lo}, {**base, name: hi}]
    d = Designs.from_values({k: [x[k] for x in designs] for k in base}, n=len(designs))
    rows = []
    for net in networks:
        m = evaluate(d, get(net), tech, per_layer=False)
        values = {k: np.asarray(getattr(m, k)) for k in METRICS}
        for i, (name, (low, high)) in enumerate(ranges.items()):
            lo, hi = 2 * i, 2 * i + 1
            rows.append(SweepRow(technology, net, name, float(low), float(high),
                                 {k: float(values[k][hi] / values[k][lo]) for k in METRICS},
                                 (bool(m.feasible[lo]), bool(m.feasible[hi]))))
    return rows


def direction(ratio: float) -> str:
    if ratio > 1 + TOLERANCE:
        return "+"
    if ratio < 1 - TOLERANCE:
        return "-"
    return "0"


def expected(parameter: str, metric: str) -> str:
    """The expected direction of a cell, or "~" where none is expected."""
    return EXPECTED.get((parameter, metric), (UNDECIDED, ""))[0]


def flips(rows: list[SweepRow]) -> list[str]:
    """Cells whose measured direction differs from the expected one."""
    out = []
    for r in rows:
        for metric, ratio in r.ratios.items():
            want = expected(r.parameter, metric)
            got = direction(ratio)
            if want != UNDECIDED and got != want:
                out.append(f"{r.technology} {r.network} {r.parameter} {metric}: expected "
                           f"{want}, got {got} (x{ratio:.3g})")
    return out
