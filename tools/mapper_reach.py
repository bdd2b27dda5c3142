"""How many copies of a layer the reference's SRAM mapper finds, and the fit at each reach.

    python tools/mapper_reach.py [--scan 100,150,200,300] [--max-evaluations 40]

1. For every SRAM design of the reference, the copy limit c that makes the model's cycle count
   (Σ_layers ceil(steps / min(copies, c)) · chunks · cycles_per_input_slice + overhead, the
   shipped constants) equal the reference's latency / clock, by bisection; printed as the
   median log2(c) by chip size and network, over the chips of 4096 arrays or more whose
   reference latency is slower than the model's at unlimited copies (where a limit shows).
2. With --scan: for each value of `mapper_max_copies`, a full SRAM refit (as `imcopt
   calibrate`, not written) and its final cost, fitted and held-out agreement. The shipped
   value is the one with the lowest fit cost.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from imcopt.calibration import calibrate_technology
from imcopt.hardware import designs_from_keys, load_technology
from imcopt.model.mapping import map_layers, reference_layer_arrays
from imcopt.validation import read_reference
from imcopt.workloads import load_layer_table

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT.parent / "shared" / "reference"


def implied_copy_limit(ref: pd.DataFrame, layers: dict) -> pd.DataFrame:
    """Per SRAM design and network: the copy limit that reproduces the reference's cycles."""
    c = load_technology("sram").c
    out = []
    for wl_name, g in ref.groupby("workload"):
        if wl_name not in layers:
            continue
        t = layers[wl_name].table()
        d = designs_from_keys(g["design_key"].tolist())
        col = {k: np.asarray(v, dtype=float)[:, None] for k, v in d.values.items()}
        r = {k: np.asarray(v, dtype=float)[None, :] for k, v in t.items() if k != "kind"}
        steps = r["N"] * r["P"] * r["Q"]
        arrays = reference_layer_arrays(col["router_groups"], col["tiles_per_group"],
                                        col["arrays_per_tile"], r)
        mp, _ = map_layers(
            rows=col["rows_per_array"], cols=col["cols_per_array"], arrays=arrays,
            bits_per_cell=col["bits_per_cell"], G=r["G"], K=r["C"] * r["R"] * r["S"], M=r["M"],
            steps=steps, weight_bits=r["weight_bits"], resident=False,
            replicate_whole_chip=True, pack_groups=False)
        slices_in = np.ceil(r["input_bits"] / c["dac_bits"])

        def cycles(limit: np.ndarray, mp=mp, steps=steps, slices_in=slices_in) -> np.ndarray:
            copies = np.minimum(mp.copies, limit)
            return (np.ceil(steps / copies) * mp.chunks * slices_in * c["cycles_per_input_slice"]
                    + c["layer_overhead_cycles"]).sum(axis=1)

        ref_cycles = (g["latency_s"] / g["clock_period_s"]).to_numpy()
        lo, hi = np.ones(len(g)), np.full(len(g), 1e6)
        for _ in range(60):  # bisection in log space; cycles fall as the limit rises
            mid = np.sqrt(lo * hi)
            slow = cycles(mid[:, None]) > ref_cycles
            lo, hi = np.where(slow, mid, lo), np.where(slow, hi, mid)
        out.append(pd.DataFrame({
            "workload": wl_name,
            "arrays": (col["router_groups"] * col["tiles_per_group"]
                       * col["arrays_per_tile"])[:, 0],
            "log2_limit": np.log2(np.sqrt(lo * hi)),
            "limited": cycles(np.full((len(g), 1), 1e12)) < 0.97 * ref_cycles}))
    return pd.concat(out, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", default=str(REF / "cimloop_results.csv.gz"))
    ap.add_argument("--layers", default=str(REF / "workload_layers.csv"))
    ap.add_argument("--scan", default="", help="comma-separated mapper_max_copies values")
    ap.add_argument("--max-evaluations", type=int, default=40)
    args = ap.parse_args()
    ref = read_reference(args.reference)
    ref = ref[(ref["technology"] == "sram") & (ref["technology_node_nm"].fillna(32) == 32)]
    layers = load_layer_table(args.layers)
    lim = implied_copy_limit(ref, layers)
    # on smaller chips the arrays, not the mapper, limit the copies
    lim = lim[lim["limited"] & (lim["arrays"] >= 4096)]
    lim["chip_arrays"] = pd.cut(np.log2(lim["arrays"]), [11, 14, 19],
                                labels=["4096-16384", ">16384"])
    print("median log2(copy limit implied by the reference latency), chips of >= 4096 arrays "
          "where it binds:")
    print(lim.pivot_table(index="chip_arrays", columns="workload", values="log2_limit",
                          aggfunc="median", observed=True).round(1).to_string())
    for value in [float(v) for v in args.scan.split(",") if v]:
        base = load_technology("sram").with_constants(mapper_max_copies=value)
        res = calibrate_technology(base, ref, layers, max_evaluations=args.max_evaluations)
        fit, held = (s[s["workload"] != "all"] for s in (res.fit_summary, res.held_out_summary))
        print(f"mapper_max_copies {value:g}: cost {res.initial_cost:.4f} -> {res.final_cost:.4f}; "
              f"energy rho fit {fit['spearman_energy_j'].round(3).tolist()} held out "
              f"{held['spearman_energy_j'].round(3).tolist()}; top-10 fit "
              f"{fit['top10_overlap'].astype(int).tolist()} held out "
              f"{held['top10_overlap'].astype(int).tolist()}", flush=True)


if __name__ == "__main__":
    main()
