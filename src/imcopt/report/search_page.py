"""The report of one `imcopt search` folder: DIR/report/index.html with PNG figures and CSV
tables, from the stored files only (run.json, best.json, the designs `data.read_designs`
finds, convergence.csv)."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..storage import StorageError, read_csv, read_json, verify_manifest, write_csv
from . import figures
from .data import ReportError, all_designs_saved, read_designs, required_outputs
from .tables import pareto_mask


def is_search_folder(root: Path) -> bool:
    return (root / "run.json").exists() and not (root / "study.json").exists()


def _load(root: Path) -> tuple[dict, dict, pd.DataFrame, pd.DataFrame]:
    try:
        verify_manifest(root, required_outputs(root))
        run, best = read_json(root / "run.json"), read_json(root / "best.json")
        designs, conv = read_designs(root), read_csv(root / "convergence.csv")
    except StorageError as exc:
        raise ReportError(str(exc)) from None
    return run, best, designs, conv


def worst_case(designs: pd.DataFrame, workloads: list[str]) -> pd.DataFrame:
    """Feasible designs with worst-case energy (J) and latency (s) over the workloads, their
    area (mm^2) and whether they are non-dominated in (energy, latency, area)."""
    ok = designs[designs["feasible"].astype(bool)]
    out = pd.DataFrame({
        "key": ok["key"],
        "energy_j": ok[[f"energy_j.{w}" for w in workloads]].max(axis=1),
        "latency_s": ok[[f"latency_s.{w}" for w in workloads]].max(axis=1),
        "area_mm2": ok["area_mm2"],
    }).reset_index(drop=True)
    points = out[["energy_j", "latency_s", "area_mm2"]].to_numpy(dtype=float)
    out["pareto"] = pareto_mask(points) if len(out) else np.zeros(0, bool)
    return out


def _convergence_png(conv: pd.DataFrame, aggregation: str, path: Path) -> Path:
    """Best objective so far vs objective calls, one line per search of the strategy (the
    separate searches that estimate each workload's optimum, then the joint one, ...), its
    phases marked by the line's points."""
    fig, ax = plt.subplots(figsize=(6.2, 3.8))
    by = "search" if "search" in conv.columns else "phase"  # older folders: no search column
    for name, part in conv.groupby(by, sort=False):
        ax.plot(part["n_calls"], part["best_so_far"], marker=".", ms=3, label=str(name))
    figures._log_y(ax, conv["best_so_far"] if len(conv) else [])
    ax.set_xlabel("objective calls")
    ax.set_ylabel(f"best objective so far ({aggregation} for the joint search,\n"
                  "EDAP for a single workload's)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return figures._save(fig, path)


def _best_table(best: list[dict], workloads: list[str]) -> pd.DataFrame:
    """One row per best design: key, fitness, area, cost, then per workload its EDAP and the
    comparison the run has (loss against its own optimum, or what the software knobs buy)."""
    rows = []
    for b in best:
        row = {"rank": b["rank"], "design": b["key"], "fitness": b["fitness"],
               "area_mm2": b["area_mm2"], "cost_usd": b.get("cost_usd")}
        for w in workloads:
            rec = b["workloads"][w]
            row[f"edap_j_s_mm2.{w}"] = rec["edap_j_s_mm2"]
            for extra in ("loss_vs_optimum", "edap_vs_fixed_software"):
                if rec.get(extra) is not None:
                    row[f"{extra}.{w}"] = rec[extra]
        rows.append(row)
    return pd.DataFrame(rows)


def build_search_report(root: str | Path) -> Path:
    """Write root/report/ for a search folder; returns the index path."""
    from .build import _failures_html, _img, _table, write_page

    root = Path(root)
    run, best, designs, conv = _load(root)
    cfg = run["config"]
    # the networks' names as stored (a layer table given by its path: its network's name)
    workloads = [c.split(".", 1)[1] for c in designs.columns if c.startswith("energy_j.")]
    out = root / "report"
    out.mkdir(exist_ok=True)
    table = _best_table(best.get("best", []), workloads)
    write_csv(out / "best_designs.csv", table)
    front = worst_case(designs, workloads)
    write_csv(out / "pareto.csv", front[front["pareto"]])
    agg = cfg["objective"]["aggregation"]
    algo = cfg["algorithm"]["name"]
    parts = [
        f"<h1>imcopt search report: {html.escape(str(root.name))}</h1>",
        f"<p class=note>{html.escape(cfg['technology'])}, workloads "
        f"{html.escape(', '.join(workloads))}; strategy {html.escape(cfg['strategy'])}, "
        f"algorithm {html.escape(algo)}, aggregation {html.escape(agg)}, area limit "
        f"{cfg['objective']['area_limit_mm2']:g} mm2, seed {run['seed']}; {run['n_calls']} "
        f"objective calls, {run['n_evals']} designs evaluated in {run['wall_time_s']:.1f} s "
        f"(imcopt {html.escape(str(run['imcopt_version']))}). Built from the stored files "
        "only; tables are also CSV files next to this page.</p>",
        _failures_html(int(run.get("n_failed", 0))),
        "<h2>Best designs</h2>",
        "<p class=note>EDAP in J s mm2 per workload; loss_vs_optimum = EDAP / the workload's "
        "own optimum - 1 (0: no loss for sharing the chip); edap_vs_fixed_software = EDAP / "
        "the same chip at 8 bits with unlimited weight copies (per-network software knobs)."
        "</p>",
        _table(table, left=2) if len(table) else "<p class=bad>No design was found.</p>",
        "<h2>Convergence</h2>",
        _img(_convergence_png(conv, agg, out / "convergence.png"), "convergence"),
        "<h2>Energy-latency-area of the feasible designs</h2>",
        _img(figures.pareto(front, f"{cfg['technology']}: feasible designs of this search",
                            out / "pareto.png"), "pareto"),
        f"<p class=note>{len(front)} feasible designs of {len(designs)} "
        + ("evaluated" if all_designs_saved(root) else
           f"kept of {run['n_evals']} evaluated (top designs, fronts, each workload's best; "
           "`--save-all` keeps every one)")
        + f", {int(front['pareto'].sum())} non-dominated in (worst-case energy, worst-case "
        "latency, area): pareto.csv.</p>",
    ]
    return write_page(out, "imcopt search report", parts)
