"""The report of one `imcopt search` folder: DIR/report/index.html with PNG figures and CSV
tables, from the stored files only: run.json, best.json, convergence.csv (always written),
pareto.csv and the design table `data.read_designs` finds (kept_designs.csv.gz; every design in
designs.parquet with `--save-all`) when the run wrote them."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from ..hardware.names import named_table
from ..losses import WORST, format_factor
from ..objectives import AGGREGATE_MEANING, aggregate_unit
from ..search.records import record_table
from ..storage import StorageError, read_csv, read_json, verify_manifest, write_csv
from . import figures
from .data import RUN_REQUIRED, ReportError, all_designs_saved, has_design_table, read_designs
from .page import failures, img, table, write_page
from .tables import worst_case


def is_search_folder(root: Path) -> bool:
    return (root / "run.json").exists() and not (root / "study.json").exists()


def _load(root: Path) -> tuple[dict, dict, pd.DataFrame, pd.DataFrame | None,
                               pd.DataFrame | None]:
    try:
        verify_manifest(root, RUN_REQUIRED)
        run, best = read_json(root / "run.json"), read_json(root / "best.json")
        conv = read_csv(root / "convergence.csv")
        designs = read_designs(root) if has_design_table(root) else None
        pareto = read_csv(root / "pareto.csv") if (root / "pareto.csv").is_file() else None
    except StorageError as exc:
        raise ReportError(str(exc)) from None
    return run, best, conv, designs, pareto


def _workloads(best: dict, designs: pd.DataFrame | None) -> list[str]:
    """The networks' names as stored (a layer table given by its path: its network's name)."""
    for section in ("best", "closest_infeasible"):
        if best.get(section):
            return list(best[section][0]["workloads"])
    if "optima" in best:
        return list(best["optima"]["workloads"])
    if designs is not None:
        return [c.split(".", 1)[1] for c in designs.columns if c.startswith("energy_j.")]
    return []


def _units(cfg: dict, conv: pd.DataFrame, n_w: int) -> dict[str, str]:
    """Each search's y label: a network's own EDAP for the per-network searches, the
    aggregate (with its unit) for the joint one."""
    agg = cfg["objective"]["aggregation"]
    joint = f"best {agg} so far ({aggregate_unit(agg, n_w)})"
    units = {"*": joint}
    for name in conv.get("search", pd.Series(dtype=str)).unique():
        if str(name).startswith(("separate:", "largest:")):
            units[str(name)] = "best EDAP so far (J s mm$^2$)"
    return units


def build_search_report(root: str | Path) -> Path:
    """Write root/report/ for a search folder; returns the index path."""
    root = Path(root)
    run, best, conv, designs, pareto = _load(root)
    cfg = run["config"]
    workloads = _workloads(best, designs)
    out = root / "report"
    out.mkdir(exist_ok=True)
    recs = best.get("best", [])
    top = record_table(recs, workloads)
    write_csv(out / "best_designs.csv", top)
    if designs is not None:
        front = worst_case(designs, workloads)
        source = ("every evaluated design" if all_designs_saved(root) else
                  f"the designs the run kept of {run['n_evals']} evaluated: top designs, "
                  "fronts, each network's best (kept_designs.csv.gz; `--save-all` keeps every "
                  "one); the front is the same as over every design")
    else:
        kept = [top] + ([pareto] if pareto is not None else [])
        front = worst_case(pd.concat(kept, ignore_index=True), workloads) if len(top) else \
            worst_case(pd.DataFrame(columns=["key", "feasible", "area_mm2"] + [
                f"{m}.{w}" for w in workloads for m in ("energy_j", "latency_s")]), workloads)
        source = "the best designs and front the run kept (it did not keep every design)"
    write_csv(out / "energy_latency_front.csv", front[front["pareto"]])
    agg = cfg["objective"]["aggregation"]
    opt = best.get("optima", {})
    n_calls, n_evals = run["n_calls"], run["n_evals"]
    parts = [
        f"<h1>imcopt search report: {html.escape(str(root.name))}</h1>",
        f"<p class=note>{html.escape(cfg['technology'])}, networks "
        f"{html.escape(', '.join(workloads))}; strategy {html.escape(cfg['strategy'])}, "
        f"algorithm {html.escape(cfg['algorithm']['name'])}, aggregation {html.escape(agg)} "
        f"({html.escape(AGGREGATE_MEANING.get(agg, agg))}), area limit "
        f"{cfg['objective']['area_limit_mm2']:g} mm2, seed {run['seed']}; {n_calls} objective "
        f"calls, {n_evals} designs evaluated in {run['wall_time_s']:.1f} s (imcopt "
        f"{html.escape(str(run['imcopt_version']))}). Built from the stored files only; "
        "tables are also CSV files next to this page.</p>",
        failures(int(run.get("n_failed", 0)))]
    if recs:
        w = recs[0]
        parts += ["<h2>The winner</h2>",
                  f"<p><b>{html.escape(w['key'])}</b>: {agg} objective {w['fitness']:.4g} "
                  f"{html.escape(aggregate_unit(agg, len(workloads)))}, area "
                  f"{w['area_mm2']:.4g} mm2, die cost {w.get('cost_usd') or 0:.4g} USD; worst "
                  f"network loss {format_factor(w.get(WORST))} "
                  f"({html.escape(str(w.get('worst_network')))}).</p>",
                  table(named_table(pd.DataFrame([{
                      "network": n, "energy_j": m["energy_j"], "latency_s": m["latency_s"],
                      "edap_j_s_mm2": m["edap_j_s_mm2"], "loss_x": m.get("loss_x")}
                      for n, m in w["workloads"].items()])))]
    parts += [
        "<h2>Best designs</h2>",
        "<p class=note>fitness = the aggregation's value, in "
        f"{html.escape(aggregate_unit(agg, len(workloads)))}; per network: energy (J), "
        "latency (s), EDAP (J s mm2) and loss factor loss_x = EDAP / the network's own "
        f"optimum ({html.escape(str(opt.get('source', 'best-known')))}; 1.00x: no loss for "
        "sharing the chip).</p>",
        table(named_table(top), left=1) if len(top)
        else "<p class=bad>No feasible design was found.</p>",
        "<h2>Convergence</h2>",
        img(figures.search_convergence(conv, _units(cfg, conv, len(workloads)),
                                       out / "convergence.png"), "convergence"),
        "<h2>Energy and latency of the feasible designs</h2>",
        img(figures.energy_latency(front, f"{cfg['technology']}: feasible designs of this "
                                   "search", out / "energy_latency.png"), "energy-latency"),
        f"<p class=note>{len(front)} feasible designs ({html.escape(source)}), "
        f"{int(front['pareto'].sum())} non-dominated in (worst-case energy, worst-case "
        "latency): energy_latency_front.csv.</p>",
    ]
    return write_page(out, "imcopt search report", parts)
