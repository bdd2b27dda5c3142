"""Cross-validation of the calibration: is the CiMLoop emulation right on data it never saw?

A user's own network is always one the calibration did not see, so the figure that counts is
out of sample. `cross_validate(by="networks")` fits each technology on all networks but one
and scores the left-out one, for each network in turn (leave-one-network-out);
`by="chip_size"` fits on the designs with fewer arrays and scores the largest fifth (the
model extrapolated to bigger chips). Every fold starts from the **sourced** constants, not the
shipped fitted ones, which have seen every network.

Each scored row: `technology`, `fold`, `workload`, `designs`, the Spearman rank correlations
`rho_energy_j`, `rho_latency_s`, `rho_area_mm2`, `rho_edap`, the median |log10 model /
reference| per metric, `top10_overlap` (how many of the reference's ten best designs by EDAP
are among the model's ten best), `pick_excess_edap` (the reference's EDAP of the model's best
design over the reference's best, minus 1: what choosing by the model costs), and the fold's
fit: `free_constants` (how many the fit moved) and `aic` (Akaike's criterion of the fit, n
ln(cost) + 2k: more constants must buy a lower cost).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .calibration import calibrate_technology
from .hardware import Technology, designs_from_keys, load_technology
from .hardware.space import STUDY_SETTINGS
from .validation import read_reference
from .workloads import load_layer_table

CV_KINDS = ("networks", "chip_size")
LARGEST_FRACTION = 0.2  # chip-size folds score the largest fifth of the designs (by arrays)
METRIC_NAMES = {"spearman_energy_j": "rho_energy_j", "spearman_latency_s": "rho_latency_s",
                "spearman_area_mm2": "rho_area_mm2", "spearman_edap_j_s_mm2": "rho_edap"}


def sourced(tech: Technology) -> Technology:
    """The technology with every constant at its sourced value (before any fit)."""
    constants = {k: dataclasses.replace(c, value=c.sourced, source_value=None)
                 for k, c in tech.constants.items()}
    return dataclasses.replace(tech, constants=constants,
                               calibration={"status": "sourced"})


def chip_arrays(keys: Sequence[str]) -> np.ndarray:
    """Arrays on the chip of each reference design key."""
    d = designs_from_keys(list(keys), fixed=STUDY_SETTINGS)
    return d["router_groups"] * d["tiles_per_group"] * d["arrays_per_tile"]


def folds(ref: pd.DataFrame, by: str) -> list[tuple[str, pd.Series]]:
    """(fold name, mask of the rows scored) for each fold of one technology's rows."""
    if by == "networks":
        return [(str(w), ref["workload"] == w) for w in sorted(ref["workload"].unique())]
    if by == "chip_size":
        arrays = pd.Series(chip_arrays(ref["design_key"].tolist()), index=ref.index)
        cut = np.quantile(arrays, 1.0 - LARGEST_FRACTION)
        return [(f"arrays>={int(cut)}", arrays >= cut)]
    raise ValueError(f"by = {by!r}: must be one of {', '.join(CV_KINDS)}")


def cross_validate(
    reference: str | Path,
    layers: str | Path | None = None,
    technologies: Sequence[str] = ("rram", "sram"),
    by: str = "networks",
    max_evaluations: int = 8,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Out-of-sample agreement per technology, fold and scored workload (module docstring)."""
    if by not in CV_KINDS:
        raise ValueError(f"by = {by!r}: must be one of {', '.join(CV_KINDS)}")
    ref_all = read_reference(reference)
    tables = load_layer_table(layers) if layers is not None else {}
    records = []
    for name in technologies:
        start = sourced(load_technology(name))
        ref = ref_all[ref_all["technology"] == name]
        if "technology_node_nm" in ref.columns:
            ref = ref[ref["technology_node_nm"].fillna(32) == 32]
        for fold, scored in folds(ref, by):
            if progress:
                progress(f"{name}: fold {fold}: fitting on {int((~scored).sum())} rows, "
                         f"scoring {int(scored.sum())}")
            train = ref[~scored]
            # the scored rows enter as the held-out share: scored by the fit, never fitted
            both = pd.concat([train.assign(_held=False), ref[scored].assign(_held=True)])
            result = calibrate_technology(start, both, tables, held_out_fraction=0.0,
                                          max_evaluations=max_evaluations,
                                          held_out=both["_held"].to_numpy())
            cal = result.technology.calibration
            k = len(cal.get("fitted_constants", []))
            n = int(cal.get("fit_rows", len(train)))
            aic = n * math.log(max(result.final_cost, 1e-300)) + 2 * k
            for _, row in result.held_out_summary.iterrows():
                if row["workload"] == "all" and by == "networks":
                    continue  # one network per fold: its row is the fold
                rec = {"technology": name, "fold": fold, "workload": row["workload"],
                       "designs": int(row["designs"])}
                rec.update({new: float(row[old]) for old, new in METRIC_NAMES.items()})
                rec.update({f"median_abs_log10_{m}": float(row[f"median_abs_log10_{m}"])
                            for m in ("energy_j", "latency_s", "area_mm2", "edap_j_s_mm2")})
                rec["pick_excess_edap"] = float(row["pick_excess_edap"])
                top = row["top10_overlap"]
                rec["top10_overlap"] = None if pd.isna(top) else int(top)
                rec.update({"free_constants": k, "aic": round(aic, 2),
                            "fit_cost": round(result.final_cost, 6)})
                records.append(rec)
    return pd.DataFrame.from_records(records)
