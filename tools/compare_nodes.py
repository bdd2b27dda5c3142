"""The model's technology-node scaling against the reference's rows at other nodes.

    python tools/compare_nodes.py [REFERENCE.csv.gz] [LAYERS.csv]

The constants are calibrated at 32 nm only; the reference also holds designs evaluated at
7 to 45 nm (the study's node experiment). For every such design whose 32 nm twin (same key
without the node) is in the reference too, this prints the median log10 ratio
(node / 32 nm) of energy, latency and area, as the reference has it and as the model has it
under the `cimloop` assumptions: how far the node factors of hardware/scaling.py agree with
CiMLoop's (docs/model.md quotes the table).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from imcopt.validation import validate

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT.parent / "shared" / "reference"
METRICS = ("energy_j", "latency_s", "area_mm2")


def node_ratios(rows: pd.DataFrame) -> pd.DataFrame:
    """Median log10(metric at node / metric of the 32 nm twin), reference and model, by node."""
    fields = rows["design_key"].str.split("_")
    with_node = fields.str.len() == 11  # A + the nine key fields + the node
    rows = rows.assign(base=fields.str[:10].str.join("_"),
                       node=np.where(with_node, fields.str[10], "32").astype(float).astype(int))
    twin = rows[rows["node"] == 32].set_index(["technology", "workload", "base"])
    twin = twin[~twin.index.duplicated()]  # a design recorded twice: its first row
    other = rows[rows["node"] != 32]
    index = pd.MultiIndex.from_frame(other[["technology", "workload", "base"]])
    other = other[index.isin(twin.index)]
    index = pd.MultiIndex.from_frame(other[["technology", "workload", "base"]])
    out = {"pairs": other.groupby("node").size()}
    for side in ("ref", "model"):
        for m in METRICS:
            ratio = np.log10(other[f"{side}_{m}"].to_numpy()
                             / twin.loc[index, f"{side}_{m}"].to_numpy())
            out[f"{side} {m}"] = pd.Series(ratio, index=other.index).groupby(
                other["node"]).median()
    return pd.DataFrame(out)


def main() -> None:
    ref = sys.argv[1] if len(sys.argv) > 1 else REF / "cimloop_results.csv.gz"
    layers = sys.argv[2] if len(sys.argv) > 2 else REF / "workload_layers.csv"
    rows = validate(ref, layers, node_nm=None).rows
    table = node_ratios(rows)
    if table.empty:
        print("no design at another node has a 32 nm twin in the reference")
        return
    print("median log10(value at the node / value of the same design at 32 nm):")
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
