"""Regenerate the constants and calibration sections of docs/model.md from the YAML tables.

    python tools/gen_model_doc.py [--check]

With --check it exits 1 when docs/model.md is out of date (the tests run this).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from imcopt.hardware import load_technology

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
START, END = "<!-- constants -->", "<!-- /constants -->"


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
                        f"{cal.get('held_out_rows')} held out" if cal.get("date") else "") + ".")
        lines.append("")
    names = list(techs[0].constants)
    fitted = [set(t.calibration.get("fitted_constants", [])) for t in techs]
    lines.append("Values marked * were fitted by `imcopt calibrate`; the others keep their "
                 "source's value (the data cannot see them, or the source fixes them).")
    lines.append("")
    lines.append("| constant | unit | rram | sram | sourced (rram / sram) | meaning | source |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- |")

    def cell(tech_index: int, name: str) -> str:
        const = techs[tech_index].constants.get(name)
        if const is None:
            return ""
        star = "*" if name in fitted[tech_index] else ""
        return f"{const.value:.4g}{star}"

    for name in names:
        a, b = techs[0].constants[name], techs[1].constants.get(name)
        sources = in_repo(a.source if b is None or b.source == a.source else (
            f"rram: {a.source}; sram: {b.source}"))
        sourced = f"{a.sourced:.4g}" + ("" if b is None else f" / {b.sourced:.4g}")
        lines.append(f"| `{name}` | {a.unit} | {cell(0, name)} | {cell(1, name)} | {sourced} | "
                     f"{a.description} | {sources} |")
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    text = DOC.read_text()
    new = render_knobs(render(text))
    if args.check:
        if new != text:
            print(f"{DOC} is out of date: run python tools/gen_model_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
