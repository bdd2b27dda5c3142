"""How far imcopt's physical assumptions move the numbers from the CiMLoop set-up.

    python tools/compare_assumptions.py [REFERENCE.csv.gz] [LAYERS.csv]

Evaluates every 32 nm design of the reference under `assumptions="cimloop"` and
`"physical"` with the same constants and prints, per technology and workload, the median
ratio physical / cimloop of energy and latency (docs/model.md quotes these).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from imcopt.validation import validate

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT.parent / "shared" / "reference"


def main() -> None:
    ref = sys.argv[1] if len(sys.argv) > 1 else REF / "cimloop_results.csv.gz"
    layers = sys.argv[2] if len(sys.argv) > 2 else REF / "workload_layers.csv"
    rows = {a: validate(ref, layers, assumptions=a).rows for a in ("cimloop", "physical")}
    a, b = rows["cimloop"], rows["physical"]
    out = pd.DataFrame({
        "technology": a["technology"], "workload": a["workload"],
        "energy physical/cimloop": b["model_energy_j"] / a["model_energy_j"],
        "latency physical/cimloop": b["model_latency_s"] / a["model_latency_s"],
    }).groupby(["technology", "workload"]).median()
    print(out.round(2).to_string())


if __name__ == "__main__":
    main()
