"""Compare the cost model with recorded simulator results (the CiMLoop reference format).

`validate(reference_csv)` evaluates every (technology, workload, design) row with imcopt's
model on the same layers and reports, per technology and workload, how well the two agree:
Spearman rank correlation and median |log10 ratio| of energy, latency, area and EDAP, how
many of the reference's 10 best-EDAP designs are among the model's 10 best, and what choosing
by the model costs (`pick_excess_edap`: the reference's EDAP of the model's best design over
the reference's best, minus 1).
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .hardware import Technology, designs_from_keys, load_technology
from .hardware.space import STUDY_SETTINGS
from .model import evaluate
from .storage import write_bytes, write_csv, write_figure
from .workloads import Workload, WorkloadError, get, load_layer_table, names

METRICS = ("energy_j", "latency_s", "area_mm2", "edap_j_s_mm2")
REQUIRED_COLUMNS = ("technology", "workload", "design_key", "energy_j", "latency_s")
TOP_K = 10


class ValidationError(ValueError):
    """The reference file cannot be used; the message names the file and the problem."""


@dataclass
class Validation:
    """Per-row model values next to the reference, and the summary table."""

    rows: pd.DataFrame  # one row per reference row: ref_* and model_* metrics
    summary: pd.DataFrame  # one row per (technology, workload)
    missing_workloads: list[str]
    skipped_rows: int


def read_reference(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"reference file {str(path)!r} does not exist")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # pandas raises many types for broken files
        raise ValidationError(f"{path}: cannot be read as CSV ({exc})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValidationError(f"{path}: missing column(s) {', '.join(missing)}")
    if "area_mm2" not in df.columns:
        if "area_cm2" not in df.columns:
            raise ValidationError(f"{path}: needs an area_mm2 or area_cm2 column")
        df["area_mm2"] = df["area_cm2"] * 100.0
    df["edap_j_s_mm2"] = df["energy_j"] * df["latency_s"] * df["area_mm2"]
    df["technology"] = df["technology"].str.lower()
    return df


def resolve_workload(name: str, tables: Mapping[str, Workload]) -> Workload | None:
    """The layers the reference used: a given layer table first, then the zoo's CiMLoop
    variant (`<name>_cimloop`), then the zoo network itself."""
    if name in tables:
        return tables[name]
    known = set(names())
    for candidate in (f"{name}_cimloop", name):
        if candidate in known:
            return get(candidate)
    return None


def compare_rows(
    reference: pd.DataFrame,
    technologies: Mapping[str, Technology],
    layers: Mapping[str, Workload] | None = None,
    node_nm: float | None = 32,
) -> tuple[pd.DataFrame, list[str], int]:
    """Model metrics for every usable reference row (rows at other nodes are skipped when
    `node_nm` is set). Returns (rows with ref_* and model_* columns, missing workloads,
    number of skipped rows)."""
    layers = layers or {}
    df = reference
    skipped = 0
    if node_nm is not None and "technology_node_nm" in df.columns:
        keep = df["technology_node_nm"].fillna(node_nm) == node_nm
        skipped = int((~keep).sum())
        df = df[keep]
    parts, missing = [], []
    for (tech_name, wl_name), group in df.groupby(["technology", "workload"], sort=True):
        workload = resolve_workload(str(wl_name), layers)
        if workload is None:
            missing.append(str(wl_name))
            continue
        if tech_name not in technologies:
            raise ValidationError(f"no technology model for {tech_name!r}")
        parts.append(side_by_side(
            technologies[tech_name], str(wl_name), workload, group["design_key"].tolist(),
            {metric: group[metric].to_numpy() for metric in METRICS}))
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return rows, sorted(set(missing)), skipped


def side_by_side(
    tech: Technology, workload_label: str, workload: Workload, keys: list[str],
    ref: Mapping[str, np.ndarray],
) -> pd.DataFrame:
    """One row per design key: the reference's metrics (`ref_*`) next to the model's
    (`model_*`), evaluated on `workload` and labelled `workload_label`."""
    # the reference's keys name its nine searched parameters; its circuit is the study's
    m = evaluate(designs_from_keys(keys, fixed=STUDY_SETTINGS), workload, tech, per_layer=False)
    out = pd.DataFrame({"technology": tech.name, "workload": workload_label,
                        "design_key": keys, "model_feasible": m.feasible})
    model = {"energy_j": m.energy_j, "latency_s": m.latency_s, "area_mm2": m.area_mm2,
             "edap_j_s_mm2": m.edap_j_s_mm2}
    for metric in METRICS:
        out[f"ref_{metric}"] = ref[metric]
        out[f"model_{metric}"] = model[metric]
    return out


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Agreement per (technology, workload) plus an `all` row per technology."""
    records = []
    for (tech, wl), g in rows.groupby(["technology", "workload"], sort=True):
        records.append(_agreement(g, tech, wl))
    for tech, g in rows.groupby("technology", sort=True):
        rec = _agreement(g, tech, "all")
        rec["top10_overlap"] = np.nan  # top-k across workloads is meaningless
        rec["pick_excess_edap"] = np.nan
        records.append(rec)
    return pd.DataFrame.from_records(records)


def _agreement(g: pd.DataFrame, tech: str, wl: str) -> dict[str, object]:
    rec: dict[str, object] = {"technology": tech, "workload": wl, "designs": len(g)}
    for metric in METRICS:
        ref, mod = g[f"ref_{metric}"].to_numpy(), g[f"model_{metric}"].to_numpy()
        ok = (ref > 0) & (mod > 0) & np.isfinite(ref) & np.isfinite(mod)
        rho = spearmanr(ref[ok], mod[ok]).statistic if ok.sum() > 2 else np.nan
        rec[f"spearman_{metric}"] = float(rho)
        rec[f"median_abs_log10_{metric}"] = float(np.median(np.abs(np.log10(mod[ok] / ref[ok]))))
    k = min(TOP_K, len(g))
    ref_top = set(g.nsmallest(k, "ref_edap_j_s_mm2")["design_key"])
    mod_top = set(g.nsmallest(k, "model_edap_j_s_mm2")["design_key"])
    rec["top10_overlap"] = len(ref_top & mod_top)
    # what choosing by the model costs: the reference's EDAP of the model's best design over
    # the reference's best (0: the model picks the reference's optimum)
    pick = g.loc[g["model_edap_j_s_mm2"].idxmin(), "ref_edap_j_s_mm2"]
    rec["pick_excess_edap"] = float(pick / g["ref_edap_j_s_mm2"].min() - 1.0)
    rec["model_infeasible"] = int((~g["model_feasible"]).sum())
    return rec


def validate(
    reference: str | Path,
    layers: str | Path | None = None,
    technologies: Mapping[str, Technology | str] | None = None,
    node_nm: float | None = 32,
    assumptions: str = "cimloop",
) -> Validation:
    """Compare the model with a reference results file (see module docstring).

    `assumptions="cimloop"` evaluates under the reference simulator's set-up (see
    `imcopt.hardware.technology.ASSUMPTIONS`); "physical" shows how far imcopt's own
    default assumptions move the numbers.
    """
    if node_nm is not None and not (np.isfinite(node_nm) and node_nm > 0):
        raise ValueError(f"node_nm (--node-nm) = {node_nm}: must be a finite number > 0 "
                         "(e.g. 32)")
    ref = read_reference(reference)
    tables = load_layer_table(layers) if layers is not None else {}
    techs = {t: load_technology(t) for t in sorted(ref["technology"].unique())}
    for name, tech in (technologies or {}).items():
        techs[name] = tech if isinstance(tech, Technology) else load_technology(tech)
    techs = {k: v.with_settings(assumptions=assumptions) for k, v in techs.items()}
    try:
        rows, missing, skipped = compare_rows(ref, techs, tables, node_nm)
    except WorkloadError as exc:
        raise ValidationError(str(exc)) from None
    if rows.empty:
        raise ValidationError(
            f"{reference}: no row could be evaluated (workloads not found: {', '.join(missing)})"
        )
    return Validation(rows, summarise(rows), missing, skipped)


def write_outputs(result: Validation, out_dir: str | Path) -> list[Path]:
    """summary.csv, rows.csv.gz and one log-log scatter PNG per metric and technology."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.csv", out / "rows.csv.gz"]
    write_csv(written[0], result.summary)
    write_bytes(written[1], gzip.compress(result.rows.to_csv(index=False).encode(), mtime=0))
    for tech, g in result.rows.groupby("technology"):
        for metric in METRICS:
            fig, ax = plt.subplots(figsize=(5.5, 5))
            for wl, gw in g.groupby("workload"):
                ax.scatter(gw[f"ref_{metric}"], gw[f"model_{metric}"], s=6, alpha=0.5, label=wl)
            lo = min(g[f"ref_{metric}"].min(), g[f"model_{metric}"].min())
            hi = max(g[f"ref_{metric}"].max(), g[f"model_{metric}"].max())
            ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(f"reference {metric}")
            ax.set_ylabel(f"imcopt {metric}")
            ax.set_title(f"{tech.upper()}: {metric}")
            ax.legend(fontsize=7, markerscale=2)
            fig.tight_layout()
            path = out / f"scatter_{tech}_{metric}.png"
            write_figure(path, fig, dpi=110)
            plt.close(fig)
            written.append(path)
    return written
