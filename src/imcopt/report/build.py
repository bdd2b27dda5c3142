"""`build_report(DIR)`: DIR/report/index.html with PNG figures and CSV tables, from the
study's stored results only. The page opens from disk (figures are relative files, no
scripts, no network)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from ..storage import write_csv, write_text
from . import figures, tables
from .data import METHOD_LABELS, ReportError, StudyData, load

__all__ = ["ReportError", "build_report"]

CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;font-size:12px;margin:.5em 0}td,th{border:1px solid
#ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}
img{max-width:100%;border:1px solid #eee}h2{border-bottom:1px solid #ccc;margin-top:1.6em}
.note{color:#555;font-size:13px}details{margin:.4em 0}summary{cursor:pointer;font-weight:600}
.good{color:#1a7f1a;font-weight:600}.bad{color:#b00}"""


def _fmt(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if isinstance(v, float):
        if not np.isfinite(v):
            return "infeasible"
        return f"{v:.4g}"
    return html.escape(str(v))


def _table(df: pd.DataFrame, left: int = 1) -> str:
    head = "".join(f"<th{' class=l' if i < left else ''}>{html.escape(str(c))}</th>"
                   for i, c in enumerate(df.columns))
    body = "".join("<tr>" + "".join(f"<td{' class=l' if i < left else ''}>{_fmt(v)}</td>"
                                    for i, v in enumerate(row)) + "</tr>"
                   for row in df.itertuples(index=False))
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(path: Path, alt: str) -> str:
    return f'<p><img src="{html.escape(path.name)}" alt="{html.escape(alt)}"></p>'


def _headline_html(h: pd.DataFrame) -> str:
    if h.empty:
        return "<p>No four-phase cells in this study.</p>"
    show = h.copy()
    show["baseline"] = show.baseline.map(lambda m: METHOD_LABELS.get(m, m))
    show["reduction_pct"] = [
        "n/a (a side has no feasible design)" if r is None or pd.isna(r) else f"{r:+.1f} %"
        for r in show.reduction_pct]
    show["paper_up_to_pct"] = [f"up to {p:.1f} %" if p is not None and not pd.isna(p) else "-"
                               for p in show.paper_up_to_pct]
    return _table(show.rename(columns={"four_phase_median": "four-phase (median)",
                                       "baseline_median": "baseline (median)",
                                       "reduction_pct": "ours: four-phase vs baseline",
                                       "paper_up_to_pct": "paper (abstract)"}), left=5)


def _failures_html(n: int) -> str:
    cls = "bad" if n else "note"
    return (f"<p class={cls}>{n} evaluated designs failed (the model raised an error, or gave "
            "a non-finite or non-positive energy, latency or area): they are counted in each "
            "run's run.json (n_failed), kept with failed = True and their reason in its "
            "designs.parquet (`--save-all`), and never ranked.</p>")


def write_page(out: Path, title: str, parts: list[str]) -> Path:
    """out/index.html: the self-contained page (no scripts) holding the HTML `parts`."""
    page = ("<!doctype html><html><head><meta charset=utf-8><meta name=viewport "
            f"content='width=device-width,initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>" + "\n".join(parts) + "</body></html>")
    return write_text(out / "index.html", page)


def build_report(root: str | Path) -> Path:
    """Write root/report/ (index.html, *.png, *.csv) for a study folder, or for the folder
    of one `imcopt search`; returns the index path."""
    from .search_page import build_search_report, is_search_folder

    if is_search_folder(Path(root)):
        return build_search_report(root)
    data: StudyData = load(root)
    out = Path(root) / "report"
    out.mkdir(exist_ok=True)
    norm = tables.normalised(data)
    head = tables.headline(data)
    summary = tables.method_summary(data)
    jl = tables.joint_vs_largest(data)
    best = tables.best_designs(data)
    for name, df in (("normalised_best.csv", norm), ("headline.csv", head),
                     ("method_summary.csv", summary), ("joint_vs_largest.csv", jl),
                     ("best_designs.csv", best)):
        write_csv(out / name, df)
    refs = pd.DataFrame([{"technology": g[0], "workload_set": g[1], "workload": w,
                          "best_edap_j_s_mm2": v} for g, r in data.references.items()
                         for w, v in r.items()])
    write_csv(out / "references.csv", refs)

    cfg = data.config
    n_cells = len(data.cells)
    parts = [f"<h1>imcopt study report: {html.escape(cfg['name'])}</h1>",
             f"<p class=note>{n_cells} finished cells ({', '.join(cfg['technologies'])}; "
             f"workload sets {', '.join(cfg['workload_sets'])}; methods "
             f"{', '.join(cfg['methods'])}; aggregations {', '.join(cfg['aggregations'])}; "
             f"seeds {', '.join(map(str, cfg['seeds']))}; area limit {cfg['area_limit_mm2']:g} "
             "mm2). Built from the stored results only. Tables are also CSV files next to "
             "this page.</p>",
             _failures_html(tables.n_failed(data.cells)),
             "<h2>Headline: EDAP of the four-phase GA vs each baseline</h2>",
             "<p class=note>EDAP = the study's aggregated objective (max: worst energy x worst "
             "latency x area; mean: mean energy x mean latency x area), median over seeds of "
             "each run's best design; reduction = four-phase / baseline - 1 (negative: the "
             "four-phase GA finds better designs). The published study's abstract claims "
             "reductions of up to 76.2 % (4 networks) and 95.5 % (9 networks) against its "
             "baselines; ours are what this model and these runs give.</p>",
             _headline_html(head), "<p>(headline.csv, method_summary.csv)</p>"]
    for g in data.groups():
        names = data.workloads(g)
        tag = f"{g[0]}_{g[1]}"
        sub = data.cells[(data.cells.technology == g[0]) & (data.cells.workload_set == g[1])]
        aggs = list(dict.fromkeys(sub.aggregation))
        parts.append(f"<h2>{html.escape(g[0].upper())}, workload set {html.escape(g[1])} "
                     f"({len(names)} networks)</h2>")
        ref = data.references[g]
        parts.append("<p class=note>Each workload's own best EDAP (lowest seen on a design "
                     "feasible for it, over every run of this group: " + ", ".join(
                         f"{html.escape(w)} {_fmt(v)}" for w, v in ref.items()) + ").</p>")
        if not np.all(np.isfinite(list(ref.values()))):
            parts.append("<p class=bad>Some workloads have no feasible design at all in this "
                         "group (their weights never fit within the area limit).</p>")
        summ = summary[(summary.technology == g[0]) & (summary.workload_set == g[1])]
        parts.append(_table(summ.drop(columns=["technology", "workload_set"]), left=2))
        for agg in aggs:
            n = norm[(norm.technology == g[0]) & (norm.workload_set == g[1])
                     & (norm.aggregation == agg)]
            title = f"{g[0]} {g[1]}, {agg}: best designs per method"
            parts.append(f"<h3>{html.escape(agg)} aggregation</h3>")
            if n.empty:
                parts.append("<p class=bad>No method found a design feasible on every "
                             "workload.</p>")
            else:
                parts.append(_img(figures.normalised(n, names, title,
                                                     out / f"normalised_{tag}_{agg}.png"), title))
                b = n[n.best].pivot_table(index="method", columns="workload",
                                          values="normalised_edap", sort=False)
                parts.append("<p class=note>Best design of each method: EDAP / workload's own "
                             "best (1 = no loss).</p>" + _table(b.reset_index()))
            j = jl[(jl.technology == g[0]) & (jl.workload_set == g[1]) & (jl.aggregation == agg)]
            if not j.empty:
                t = f"{g[0]} {g[1]}, {agg}: EDAP per workload"
                png = out / f"joint_vs_largest_{tag}_{agg}.png"
                parts.append(_img(figures.joint_vs_largest(j, names, t, png), t))
        parts.append("<h3>Convergence</h3>")
        parts.append(_img(figures.convergence(data, g, aggs, out / f"convergence_{tag}.png"),
                          f"convergence {tag}"))
        gd = tables.generalized_designs(data, g)
        write_csv(out / f"pareto_{tag}.csv", gd.loc[gd.pareto])
        parts.append("<h3>Energy-latency-area of the generalized designs</h3>")
        parts.append(_img(figures.pareto(gd, f"{g[0]} {g[1]}: feasible designs of the joint "
                                         "searches", out / f"pareto_{tag}.png"), f"pareto {tag}"))
        parts.append(f"<p class=note>{len(gd)} distinct feasible designs, {int(gd.pareto.sum())}"
                     f" non-dominated in (energy, latency, area): pareto_{tag}.csv.</p>")
        bd = best[(best.technology == g[0]) & (best.workload_set == g[1])]
        if not bd.empty:
            params = [c for c in bd.columns if c not in {"cell", "technology", "workload_set",
                      "method", "aggregation", "seed", "key"} and "." not in c]
            cols = ["cell", *params, *[f"edap.{w}" for w in names],
                    *[f"edap_vs_best.{w}" for w in names]]
            parts.append("<details><summary>Best design of each run: parameters and "
                         "per-workload EDAP (J s mm2) and EDAP / workload's best "
                         "(best_designs.csv also has energy and latency)</summary>"
                         + _table(bd[cols]) + "</details>")
    return write_page(out, "imcopt report", parts)
