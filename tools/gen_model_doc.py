"""Regenerate the constants and calibration sections of docs/model.md from the YAML tables.

    python tools/gen_model_doc.py [--check]

With --check it exits 1 when docs/model.md is out of date (the tests run this).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imcopt.hardware import load_technology

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
START, END = "<!-- constants -->", "<!-- /constants -->"


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
        sources = a.source if b is None or b.source == a.source else (
            f"rram: {a.source}; sram: {b.source}")
        sourced = f"{a.sourced:.4g}" + ("" if b is None else f" / {b.sourced:.4g}")
        lines.append(f"| `{name}` | {a.unit} | {cell(0, name)} | {cell(1, name)} | {sourced} | "
                     f"{a.description} | {sources} |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def render(text: str) -> str:
    head = text.split(START)[0]
    tail = text.split(END, 1)[1] if END in text else ""
    return head + constants_section() + tail.lstrip("\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    text = DOC.read_text()
    new = render(text)
    if args.check:
        if new != text:
            print(f"{DOC} is out of date: run python tools/gen_model_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
