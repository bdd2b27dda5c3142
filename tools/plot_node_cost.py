"""Cost vs EDAP of every feasible design of a search run, coloured by technology node, with
the Pareto front (the study's cost-vs-EDAP plot, docs/original_study.md §1.4).

    imcopt search examples/sram_node_cost.yaml --out RUN_DIR --save-all
    python tools/plot_node_cost.py RUN_DIR [--out FILE.png]

It needs every evaluated design (RUN_DIR/designs.parquet, written with `--save-all`; the
designs a run keeps by default are fronts in energy, latency and area, not in cost).

EDAP here is the `max` aggregate over the run's networks: max energy x max latency x area
(J s mm^2); cost is the die cost in USD (hardware/fabrication.py). Prints the front.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def pareto_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True where no other point is <= in both and < in one (minimising both)."""
    order = np.lexsort((y, x))
    keep = np.zeros(len(x), dtype=bool)
    best_y = np.inf
    for i in order:
        if y[i] < best_y:
            keep[i], best_y = True, y[i]
    return keep


def load(run: Path) -> pd.DataFrame:
    from imcopt.report.data import all_designs_saved, read_designs

    if not all_designs_saved(run):
        raise SystemExit(f"error: {run}: no designs.parquet (every evaluated design); run the "
                         "search with --save-all")
    df = read_designs(run)
    if "technology_node_nm" not in df or "cost_usd" not in df:
        raise SystemExit(f"error: {run}: the designs have no technology_node_nm or cost_usd "
                         "column (search a space that includes technology_node_nm)")
    df = df[df["feasible"]].copy()
    e = df.filter(like="energy_j.").max(axis=1)
    lat = df.filter(like="latency_s.").max(axis=1)
    df["edap_max_j_s_mm2"] = e * lat * df["area_mm2"]
    df["pareto"] = pareto_mask(df["cost_usd"].to_numpy(), df["edap_max_j_s_mm2"].to_numpy())
    return df


def plot(df: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    nodes = sorted(df["technology_node_nm"].unique())
    cmap = plt.get_cmap("viridis", len(nodes))
    for i, node in enumerate(nodes):
        part = df[df["technology_node_nm"] == node]
        ax.scatter(part["cost_usd"], part["edap_max_j_s_mm2"], s=8, alpha=0.5,
                   color=cmap(i), label=f"{node:g} nm")
    front = df[df["pareto"]].sort_values("cost_usd")
    ax.plot(front["cost_usd"], front["edap_max_j_s_mm2"], "k-", lw=1.2, label="Pareto front")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("die cost (USD)")
    ax.set_ylabel("EDAP, max energy x max latency x area (J s mm^2)")
    ax.legend(title="node", fontsize=8)
    ax.set_title("Cost vs EDAP by technology node")
    fig.tight_layout()
    fig.savefig(out, dpi=130)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    df = load(args.run)
    out = args.out or args.run / "node_cost.png"
    plot(df, out)
    front = df[df["pareto"]].sort_values("cost_usd")
    cols = ["technology_node_nm", "cost_usd", "edap_max_j_s_mm2", "area_mm2", "key"]
    print(f"{len(df)} feasible designs; Pareto front ({len(front)}):")
    print(front[cols].to_string(index=False))
    print("best EDAP per node:")
    print(df.groupby("technology_node_nm")[["edap_max_j_s_mm2", "cost_usd"]].min().to_string())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
