"""Regenerate the constants and calibration sections of docs/model.md from the YAML tables.

    python tools/gen_model_doc.py [--check]

With --check it exits 1 when docs/model.md is out of date (the tests run this).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

from imcopt.hardware import load_technology

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
START, END = "<!-- constants -->", "<!-- /constants -->"


def _bound_note(tech_name: str, name: str, value: float, sourced: float) -> str:
    """"at bound" when a fitted value sits at its calibration bound."""
    from imcopt.calibration import LINEAR_CONSTANTS, LOG_RANGE_DECADES

    if name in LINEAR_CONSTANTS:
        lo, hi = LINEAR_CONSTANTS[name]
        return " (at bound)" if min(abs(value - lo), abs(value - hi)) < 1e-6 else ""
    if sourced > 0 and value > 0 and abs(abs(math.log10(value / sourced))
                                         - LOG_RANGE_DECADES) < 1e-3:
        return " (at bound)"
    return ""


def in_repo(text: str) -> str:
    """A constant's source as the docs cite it: the published study by this repository's
    summary of it (docs/original_study.md), not by files outside the repository."""
    text = re.sub(r"ORIGINAL_STUDY(?:\.md)? ?§?(\d(?:\.\d)?)", r"original_study.md §\1", text)
    return re.sub(r"\(shared/reference/([^)]+)\)",
                  r"(the study's recorded data, \1; original_study.md §5)", text)


def constants_section() -> str:
    techs = [load_technology(name) for name in ("rram", "sram")]
    lines = [START, "## Constants (generated from the technology tables)", ""]
    for tech in techs:
        cal = tech.calibration
        lines.append(f"**{tech.name}** ({tech.description}); weights `{tech.weight_residency}`, "
                     f"matmul policy `{tech.matmul_policy}`, calibration: "
                     f"{cal.get('status', 'none')}"
                     + (f" on {cal['date']}, {cal.get('fit_rows')} rows fitted, "
                        f"{cal.get('held_out_rows')} held out, "
                        f"{len(cal.get('fitted_constants', []))} constants free"
                        if cal.get("date") else "") + ".")
        lines.append("")
    names = list(dict.fromkeys([*techs[0].constants, *techs[1].constants]))
    fitted = [set(t.calibration.get("fitted_constants", [])) for t in techs]
    lines.append("Each constant has its sourced value and, where `imcopt calibrate` fitted it "
                 "(marked *), the fitted value and the ratio fitted / sourced. A fit may move a "
                 "constant at most one decade from its source; none sits at that bound. "
                 "[M] marks our own engineering estimate, with its reasoning in the source "
                 "column.")
    lines.append("")
    lines.append("| constant | unit | rram | sram | sourced (rram / sram) | fitted / sourced "
                 "(rram / sram) | meaning | source |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")

    def cell(tech_index: int, name: str) -> str:
        const = techs[tech_index].constants.get(name)
        if const is None:
            return "-"
        star = "*" if name in fitted[tech_index] else ""
        return f"{const.value:.4g}{star}"

    def ratio(tech_index: int, name: str) -> str:
        const = techs[tech_index].constants.get(name)
        if const is None or name not in fitted[tech_index] or const.sourced == 0:
            return "-"
        return (f"{const.value / const.sourced:.3g}"
                + _bound_note(techs[tech_index].name, name, const.value, const.sourced))

    for name in names:
        a, b = techs[0].constants.get(name), techs[1].constants.get(name)
        first = a or b
        sources = in_repo(first.source if a is None or b is None or b.source == a.source else (
            f"rram: {a.source}; sram: {b.source}"))
        sourced = " / ".join(f"{x.sourced:.4g}" if x is not None else "-" for x in (a, b))
        lines.append(f"| `{name}` | {first.unit} | {cell(0, name)} | {cell(1, name)} | "
                     f"{sourced} | {ratio(0, name)} / {ratio(1, name)} | {first.description} | "
                     f"{sources} |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def render(text: str) -> str:
    head = text.split(START)[0]
    tail = text.split(END, 1)[1] if END in text else ""
    return head + constants_section() + tail.lstrip("\n")


KNOBS_START, KNOBS_END = "<!-- knobs -->", "<!-- /knobs -->"


def knobs_section() -> str:
    """Node scaling, off-chip memory and fabrication-cost tables, from the code."""
    import numpy as np

    from imcopt.hardware import fabrication, memory, scaling

    nodes = np.array(scaling.NODES_NM, dtype=float)
    f = scaling.factors(nodes)
    price = fabrication.wafer_price_usd(nodes)
    ref = fabrication.wafer_price_usd(scaling.REFERENCE_NODE_NM)
    lines = [KNOBS_START, "### Node factors (generated from hardware/scaling.py and "
             "hardware/fabrication.py)", "",
             "| node (nm) | logic area | logic energy | delay | cell F^2 inflation | "
             "wafer price (USD) | cost per mm^2 vs 32 nm |", "| --- | --- | --- | --- | --- | "
             "--- | --- |"]
    for i, n in enumerate(nodes):
        lines.append(f"| {n:g} | {f['logic_area'][i]:.4g} | {f['logic_energy'][i]:.4g} | "
                     f"{f['delay'][i]:.4g} | {f['cell_area'][i]:.4g} | {price[i]:,.0f} | "
                     f"{price[i] / ref:.3g} |")
    lines += ["", "Which constant takes which factor (others do not scale):", ""]
    for fac in scaling.FACTORS:
        names = [k for k, v in scaling.CONSTANT_SCALING.items() if v == fac]
        if names:
            lines.append(f"- `{fac}`: " + ", ".join(f"`{k}`" for k in names))
    for tech, over in scaling.TECHNOLOGY_OVERRIDES.items():
        lines.append(f"- {tech} overrides: "
                     + ", ".join(f"`{k}` takes `{v}`" for k, v in over.items()))
    lines += ["", "### Off-chip memory types (generated from hardware/memory.py)", "",
              "| code | type | energy (pJ/bit) | bandwidth (GB/s) | source |",
              "| --- | --- | --- | --- | --- |"]
    for code, m in memory.OFFCHIP_MEMORIES.items():
        lines.append(f"| {code} | {m.name} | {m.energy_per_bit_j * 1e12:g} | "
                     f"{m.bandwidth_bits_per_s / 8e9:g} | {m.source} |")
    lines.append(KNOBS_END)
    return "\n".join(lines) + "\n"


def render_knobs(text: str) -> str:
    if KNOBS_START not in text:
        return text
    head, rest = text.split(KNOBS_START, 1)
    tail = rest.split(KNOBS_END, 1)[1] if KNOBS_END in rest else ""
    return head + knobs_section() + tail.lstrip("\n")


ANCHORS_START, ANCHORS_END = "<!-- anchors -->", "<!-- /anchors -->"
SWEEP_START, SWEEP_END = "<!-- sweep -->", "<!-- /sweep -->"


def _anchor_lines(rows: list[dict]) -> list[str]:
    out = ["| case | metric | model | published | model / published | bound | within |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        ok = "-" if r["ok"] is None else ("yes" if r["ok"] else "**no**")
        bound = f"{r['bound']:g}x" if r["bound"] else "not judged"
        out.append(f"| {r['case']} | {r['metric']} | {r['model']:.4g} | {r['published']:.4g} | "
                   f"{r['ratio']:.2f} | {bound} | {ok} |")
    return out


def anchors_section() -> str:
    from imcopt import anchors

    macros, neurosim = anchors.against_macros(), anchors.against_neurosim()
    table = anchors.macro_table()
    lines = [ANCHORS_START, "### Against NeuroSim V1.4's VGG-8 chip (generated: `imcopt validate "
             "--against neurosim`)", "", *_anchor_lines(neurosim), "",
             f"{anchors.summary(neurosim)}.", "",
             "### Against published silicon macros (generated: `imcopt validate --against "
             "macros`)", "", *_anchor_lines(macros), "", f"{anchors.summary(macros)}.", "",
             "Macros in `src/imcopt/data/cim_macros.csv` that imcopt does not model, and why:",
             ""]
    for _, row in table[table["status"] != "modelled"].iterrows():
        lines.append(f"- {row['macro_id']} ({row['citation'].split(',')[0]}, "
                     f"{row['node_nm']:g} nm, {row['tops_per_w']:g} TOPS/W): "
                     f"{row['status'].removeprefix('not modelled: ')}")
    lines.append(ANCHORS_END)
    return "\n".join(lines) + "\n"


def sweep_section() -> str:
    from imcopt import sweep

    lines = [SWEEP_START, "### One-knob sweep (generated from `imcopt.sweep`)", "",
             "From the default design, one parameter at its smallest and largest value, the "
             "rest kept: the ratio high / low, with the direction the physics expects in "
             "brackets (+ up, - down, 0 flat within 1 %, ~ no single expected direction). "
             "`tests/test_sweep.py` fails when a measured direction differs from an expected "
             "one. A design that is infeasible at one end (capacity, or an ADC that truncates "
             "its sums) is marked !.", "",
             "| technology | network | parameter | low -> high | energy | latency | area | "
             "TOPS/W |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for tech in ("rram", "sram"):
        for r in sweep.sweep(tech):
            cells = [f"{r.ratios[m]:.3g} ({sweep.expected(r.parameter, m)})"
                     for m in sweep.METRICS]
            mark = "" if all(r.feasible) else " !"
            lines.append(f"| {tech} | {r.network} | `{r.parameter}`{mark} | {r.low:g} -> "
                         f"{r.high:g} | " + " | ".join(cells) + " |")
    lines += ["", "Why each expected direction:", ""]
    for (param, metric), (want, why) in sweep.EXPECTED.items():
        lines.append(f"- `{param}`, {metric}: {want} ({why})")
    lines.append(SWEEP_END)
    return "\n".join(lines) + "\n"


def _replace(text: str, start: str, end: str, body: str) -> str:
    if start not in text:
        return text
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1] if end in rest else ""
    return head + body + tail.lstrip("\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    text = DOC.read_text()
    new = render_knobs(render(text))
    new = _replace(new, ANCHORS_START, ANCHORS_END, anchors_section())
    new = _replace(new, SWEEP_START, SWEEP_END, sweep_section())
    if args.check:
        if new != text:
            print(f"{DOC} is out of date: run python tools/gen_model_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
