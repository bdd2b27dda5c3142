"""The model against data nobody fitted: published silicon CIM macros and NeuroSim's VGG-8 chip.

`against_macros()` sets the model up at each published macro's own operating point (node,
array, rows read together, ADC, input encoding, supply, cycle; `data/cim_macros.csv`, each row
with its citation) and compares the energy efficiency of the macro's own circuits (array,
row drivers and DACs, column readout and ADCs, shift-add: `model.cost.MACRO_ENERGY`) with
the published TOPS/W. `against_neurosim()` sets the model up as NeuroSim V1.4's VGG-8 /
CIFAR-10 chip (`data/neurosim_vgg8.csv`) and compares area and TOPS/W of the whole chip and
the change from 32 to 64 rows read together; it reports TOPS without judging it (see
`NEUROSIM_TOPS_BOUND`).

Each returns one row per comparison: `case`, `metric`, `model`, `published`, `ratio`
(model / published), `bound` (the largest ratio either way that passes; 0: reported, not
judged) and `ok` (None when not judged).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from importlib import resources

import numpy as np
import pandas as pd

from .hardware import Designs, Technology, load_technology
from .hardware.adc import ADC_TYPES, INPUT_ENCODINGS
from .model import evaluate
from .model.cost import MACRO_AREA, MACRO_ENERGY
from .workloads import Layer, Workload

MACRO_BOUND = 3.0  # model TOPS/W within 3x of each macro's published figure
NEUROSIM_BOUND = 2.0  # area and TOPS/W within 2x of each NeuroSim row
#: TOPS is reported, not judged: NeuroSim's pipeline period is set by conv1's register-file
#: buffer and H-tree cycles (83 % of its 197 us stage at RRAM 22 nm, 32 rows) and by a clock
#: its ADC sensing stretches to 1.1-2.3 ns; the model overlaps buffer traffic with compute
#: (double-buffered SRAM) and runs the declared 1 GHz, so it is an upper bound on TOPS.
NEUROSIM_TOPS_BOUND = 0.0
NEUROSIM_TREND_BOUND = 1.3  # the 32 -> 64 parallel-rows TOPS/W ratio within 30 %
#: steps of the one-layer workload a macro runs: enough that per-layer overheads vanish
MACRO_STEPS = 256
#: macros are measured on uniformly random inputs (each input bit 1 half the time), not on the
#: ReLU-sparse activations the technology tables assume for networks
MACRO_INPUT_BIT_DENSITY = 0.5
#: cell parameters a macro row may give for its own device
CELL_OVERRIDES = ("cell_on_resistance_ohm", "cell_off_resistance_ohm", "read_voltage_v",
                  "cell_compute_capacitance_f")


def _data(name: str) -> pd.DataFrame:
    with resources.files("imcopt.data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, comment="#")


def macro_table() -> pd.DataFrame:
    """The published macros (`data/cim_macros.csv`), every row with its citation."""
    return _data("cim_macros.csv")


def _code(labels: dict[int, str], name: str) -> int:
    return next(k for k, v in labels.items() if v == name)


def macro_design(row: pd.Series) -> Designs:
    """One array at the macro's operating point, alone on a minimal chip."""
    return Designs.from_values({
        "voltage_v": row["voltage_v"], "bits_per_cell": row["bits_per_cell"],
        "clock_period_s": row["cycle_s"], "rows_per_array": row["rows_per_array"],
        "cols_per_array": row["cols_per_array"], "router_groups": 1, "tiles_per_group": 1,
        "arrays_per_tile": 1, "glb_depth_words": 16, "technology_node_nm": row["node_nm"],
        "adc_bits": row["adc_bits"], "adc_type": _code(ADC_TYPES, row["adc_type"]),
        "parallel_rows": row["parallel_rows"], "cols_per_adc": row["cols_per_adc"],
        "dac_bits": row["dac_bits"],
        "input_encoding": _code(INPUT_ENCODINGS, row["input_encoding"]),
    })


def macro_workload(row: pd.Series) -> Workload:
    """A layer that fills the array: every row holds an input, every column a weight slice."""
    slices = math.ceil(row["weight_bits"] / row["bits_per_cell"])
    outputs = max(int(row["cols_per_array"]) // slices, 1)
    layer = Layer("mvm", "linear", C=int(row["rows_per_array"]), M=outputs, P=MACRO_STEPS,
                  input_bits=int(row["input_bits"]), weight_bits=int(row["weight_bits"]),
                  output_bits=8)
    return Workload(f"macro:{row['macro_id']}", (layer,))


def macro_technology(row: pd.Series, tech: Technology | None = None) -> Technology:
    """The technology table, with the macro's own cell where its row gives one, on random
    inputs (`MACRO_INPUT_BIT_DENSITY`); any partial
    sum the macro's ADC truncates is the macro's published design choice."""
    base = tech if tech is not None else load_technology(row["technology"])
    cell = {k: float(row[k]) for k in CELL_OVERRIDES
            if k in row and pd.notna(row[k]) and k in base.constants}
    cell.setdefault("input_bit_density", MACRO_INPUT_BIT_DENSITY)
    return base.with_constants(**cell).with_settings(assumptions="physical",
                                                    max_psum_bits_lost=float("inf"))


def evaluate_macro(row: pd.Series, tech: Technology | None = None) -> dict[str, float]:
    """TOPS/W and TOPS/mm^2 of the macro's own circuits at its operating point."""
    m = evaluate(macro_design(row), macro_workload(row), macro_technology(row, tech))
    energy = sum(m.energy_breakdown_j[k][0] for k in MACRO_ENERGY)
    area = sum(m.area_breakdown_mm2[k][0] for k in MACRO_AREA)
    macs = float(m.macs)
    seconds = float(m.latency_s[0])
    return {"tops_per_w": 2 * macs / energy / 1e12, "tops_per_mm2": 2 * macs / seconds / 1e12
            / area, "energy_per_mac_j": energy / macs, "area_mm2": area,
            **{f"share_{k}": float(m.energy_breakdown_j[k][0] / energy) for k in MACRO_ENERGY}}


def _row(case: str, metric: str, model: float, published: float, bound: float) -> dict:
    ratio = model / published
    return {"case": case, "metric": metric, "model": float(model),
            "published": float(published), "ratio": float(ratio), "bound": bound,
            "ok": bool(1 / bound <= ratio <= bound) if bound > 0 else None}


def against_macros(tech_of: Callable[[str], Technology] | None = None) -> list[dict]:
    """One row per modelled macro operating point: TOPS/W (bounded) and, where published,
    TOPS/mm^2 (reported, bound 0 = not judged: the macros' area bases differ)."""
    out = []
    for _, row in macro_table().iterrows():
        if row["status"] != "modelled":
            continue  # listed, with the reason, in the table and docs/model.md
        tech = tech_of(row["technology"]) if tech_of else None
        got = evaluate_macro(row, tech)
        out.append(_row(row["macro_id"], "tops_per_w", got["tops_per_w"], row["tops_per_w"],
                        MACRO_BOUND))
        if pd.notna(row.get("tops_per_mm2")):
            out.append(_row(row["macro_id"], "tops_per_mm2", got["tops_per_mm2"],
                            row["tops_per_mm2"], 0.0))
    return out


#: NeuroSim V1.4's VGG-8 chip (its defaults; the manual's Table VII and the code behind it):
#: 9,472 subarrays of 128 x 128 one-bit cells (103 tiles; all weights on chip), a 5-bit flash
#: ADC (multilevel sense amplifiers; the table's "4-bit ADC" is its accuracy model's, the
#: hardware model runs the code's default of 32 levels) per 8 columns, bit-serial inputs, a
#: 1 GHz clock bound, layers pipelined (its TOPS is ops over the slowest layer's time); no
#: off-chip traffic (a 512 KiB global buffer holds any layer's inputs and outputs)
NEUROSIM_CHIP = {
    "bits_per_cell": 1, "clock_period_s": 1e-9, "rows_per_array": 128, "cols_per_array": 128,
    "router_groups": 1, "tiles_per_group": 74, "arrays_per_tile": 128, "glb_depth_words": 2048,
    "adc_bits": 5, "adc_type": 2, "cols_per_adc": 8, "dac_bits": 1, "input_encoding": 1,
}
#: NeuroSim V1.4 re-drew the multilevel sense-amplifier (flash) ADC as a pitch-matched strip:
#: 16 five-bit ADCs of a 128-column subarray at 22 nm take 612 um^2 (RRAM) and 949 um^2 (SRAM)
#: of sense amplifiers, ~7x less per ADC than the V1.3 model CiMLoop's plug-in (and our
#: tables) carry. Per comparator, referred to 32 nm (area ~ F^2): 612/16/31 (32/22)^2 um^2.
NEUROSIM_V14_COMPARATOR_AREA_MM2 = {
    "rram": 612e-6 / 16 / 31 * (32 / 22) ** 2,
    "sram": 949e-6 / 16 / 31 * (32 / 22) ** 2,
}
NEUROSIM_CELL = ("read_voltage_v", "cell_on_resistance_ohm", "cell_off_resistance_ohm",
                 "access_resistance_ohm")


def neurosim_table() -> pd.DataFrame:
    """NeuroSim V1.4's published VGG-8 chip figures (`data/neurosim_vgg8.csv`)."""
    return _data("neurosim_vgg8.csv")


def evaluate_neurosim(row: pd.Series, tech: Technology | None = None) -> dict[str, float]:
    """Area, throughput (ops over the slowest pipeline stage) and TOPS/W of the NeuroSim chip
    at one table row's memory, node and rows read together."""
    from .workloads import get

    base = tech if tech is not None else load_technology(row["memory"])
    cell = {k: float(row[k]) for k in NEUROSIM_CELL if pd.notna(row.get(k))
            and k in base.constants}
    cell["comparator_area_mm2"] = NEUROSIM_V14_COMPARATOR_AREA_MM2[row["memory"]]
    tech_ns = base.with_constants(**cell).with_settings(
        assumptions="physical", weight_residency="resident", layer_schedule="pipelined",
        max_psum_bits_lost=float("inf"))
    design = Designs.from_values({**NEUROSIM_CHIP, "technology_node_nm": row["node_nm"],
                                  "voltage_v": row["voltage_v"],
                                  "parallel_rows": row["parallel_rows"]})
    m = evaluate(design, get("vgg8"), tech_ns)
    ops = 2.0 * m.macs
    stage_s = float(np.max(m.layer_latency_s[0]))
    return {"area_mm2": float(m.area_mm2[0]), "tops": ops / stage_s / 1e12,
            "tops_per_w": ops / float(m.energy_j[0]) / 1e12, "feasible": bool(m.feasible[0])}


def against_neurosim(tech_of: Callable[[str], Technology] | None = None) -> list[dict]:
    """Area and TOPS/W of every NeuroSim row (within 2x), TOPS (reported), and per memory and
    node the 32 -> 64 rows TOPS/W ratio against NeuroSim's (within 30 %)."""
    out, got = [], {}
    table = neurosim_table()
    for _, row in table.iterrows():
        tech = tech_of(row["memory"]) if tech_of else None
        got[row["case"]] = g = evaluate_neurosim(row, tech)
        for metric in ("area_mm2", "tops", "tops_per_w"):
            bound = NEUROSIM_TOPS_BOUND if metric == "tops" else NEUROSIM_BOUND
            out.append(_row(row["case"], metric, g[metric], row[metric], bound))
    for (memory, node), grp in table.groupby(["memory", "node_nm"], sort=False):
        by_rows = grp.set_index("parallel_rows")
        if not {32, 64} <= set(by_rows.index):
            continue
        lo, hi = by_rows.loc[32], by_rows.loc[64]
        model = got[hi["case"]]["tops_per_w"] / got[lo["case"]]["tops_per_w"]
        published = hi["tops_per_w"] / lo["tops_per_w"]
        r = _row(f"{memory}_{int(node)}nm_64_over_32_rows", "tops_per_w_ratio", model,
                 published, NEUROSIM_TREND_BOUND)
        r["ok"] = bool(r["ok"] and model > 1.0)  # and in NeuroSim's direction
        out.append(r)
    return out


def failures(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["ok"] is False]


def summary(rows: list[dict]) -> str:
    judged = [r for r in rows if r["ok"] is not None]
    worst = max(judged, key=lambda r: abs(np.log(r["ratio"])))
    return (f"{sum(r['ok'] for r in judged)}/{len(judged)} within bounds; worst "
            f"{worst['case']} {worst['metric']} x{worst['ratio']:.2f}")
