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
    lines.append("| constant | unit | rram | sram | meaning | source of the starting value |")
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        a, b = techs[0].constants[name], techs[1].constants.get(name)
        lines.append(f"| `{name}` | {a.unit} | {a.value:.4g} | "
                     f"{'' if b is None else f'{b.value:.4g}'} | {a.description} | {a.source} |")
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
