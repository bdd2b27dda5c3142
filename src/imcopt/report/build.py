"""`build_report(DIR)`: DIR/report/index.html with PNG figures and CSV tables, from the
study's stored results only. The page opens from disk (figures are relative files, no
scripts, no network). It leads with what each network loses on the shared chip."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from ..losses import WORST, format_factor
from ..storage import write_csv
from . import figures, tables
from .data import METHOD_LABELS, ReportError, StudyData, load
from .page import failures, img, table, write_page

__all__ = ["ReportError", "build_report"]

LOSS_NOTE = (
    "Loss factor = a network's EDAP (energy x latency x area) on the chip over its own "
    "optimum, the lowest EDAP any chip of the space reaches on that network alone: 1.00x is "
    "no loss, 1.46x is 46 % worse than a chip made for that network. The worst loss is the "
    "largest factor over the networks. Each method's chip is the best design of its best "
    "seed under the aggregation; separate means one chip per network (each network on its "
    "own chip; areas and die costs summed). The optima are <b>exact</b> (enumerated) or "
    "<b>best-known</b> (the best of each network's own searches and of every design the "
    "study met; the true optimum may be lower, and the factors then understate the loss).")


def _label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def _headline_html(h: pd.DataFrame) -> str:
    if h.empty:
        return "<p class=bad>No finished cell has a chip.</p>"
    show = pd.DataFrame({
        "technology": h.technology, "networks": h.workloads, "aggregation": h.aggregation,
        "method": h.method.map(_label),
        "objective (median)": h.objective_median, "unit": h.objective_unit,
        "four-phase vs method": ["-" if pd.isna(r) else f"{r:+.1f} %"
                                 for r in h.four_phase_vs_method_pct],
        WORST: h[WORST], "loses most": h.worst_network, "area_mm2": h.area_mm2,
        "cost_usd": h.cost_usd, "chips": h.chips,
        "feasible seeds": [f"{f}/{s}" for f, s in zip(h.feasible_seeds, h.seeds, strict=True)],
        "optima": h.optima_source,
        "paper (abstract)": ["-" if pd.isna(p) else f"up to {p:.1f} %"
                             for p in h.paper_up_to_pct]})
    return table(show, left=4)


def _loss_table(nl: pd.DataFrame, names: list[str]) -> str:
    """Rows: methods; columns: the worst loss, then each network's loss factor."""
    wide = nl.pivot_table(index="method", columns="workload", values="loss_x", sort=False,
                          dropna=False).reindex(columns=names)
    worst = nl.groupby("method", sort=False)[WORST].first()
    keys = nl.groupby("method", sort=False)["key"].first()
    out = pd.DataFrame({"method": [_label(m) for m in wide.index],
                        WORST: worst.reindex(wide.index).to_numpy()})
    for w in names:
        out[f"loss_x.{w}"] = wide[w].to_numpy()
    out["chip"] = keys.reindex(wide.index).to_numpy()
    return table(out)


def _generality_section(data: StudyData, g: tuple[str, str], out: Path,
                        points: pd.DataFrame, nl: pd.DataFrame) -> list[str]:
    names = data.workloads(g)
    tag = f"{g[0]}_{g[1]}"
    parts = [f"<h3>{html.escape(g[0].upper())}, {html.escape(g[1])} ({len(names)} networks:"
             f" {html.escape(', '.join(names))})</h3>"]
    for why in data.infeasible.get(g, {}).values():
        parts.append(f"<p class=bad>No chip can serve this set: {html.escape(why)}. Its cells "
                     "were not searched; on any chip of this space that network's loss is "
                     "infinite (it cannot run).</p>")
    if data.infeasible.get(g):
        return parts
    p = points[(points.technology == g[0]) & (points.workload_set == g[1])]
    front = tables.generality_front(data, g)
    write_csv(out / f"generality_front_{tag}.csv", front)
    if len(p) or front.pareto.any():
        title = f"{g[0]} {g[1]}: the cost of generality"
        parts.append(img(figures.generality(p, front, title, out / f"generality_{tag}.png"),
                         title))
        best = p.sort_values(WORST).head(1)
        if len(best):
            b = best.iloc[0]
            parts.append(f"<p class=note>The lowest worst loss among the aggregations' best "
                         f"chips: {format_factor(b[WORST])} ({html.escape(b.aggregation)}); "
                         "points: generality_points.csv; front: "
                         f"generality_front_{tag}.csv ({int(front.pareto.sum())} chips).</p>")
    for agg in dict.fromkeys(data.group_cells(g).aggregation):
        sub = nl[(nl.technology == g[0]) & (nl.workload_set == g[1]) & (nl.aggregation == agg)]
        if len(sub):
            parts.append(f"<p><b>{html.escape(agg)}</b>: each network's loss factor on each "
                         "method's chip (best seed)</p>" + _loss_table(sub, names))
    return parts


def _details(data: StudyData, g: tuple[str, str], out: Path, summary: pd.DataFrame,
             norm: pd.DataFrame, jl: pd.DataFrame, chips: pd.DataFrame) -> list[str]:
    names = data.workloads(g)
    tag = f"{g[0]}_{g[1]}"
    cells = data.group_cells(g)
    aggs = list(dict.fromkeys(cells.aggregation))
    ref = data.optima[g]
    parts = [f"<h3>{html.escape(g[0].upper())}, {html.escape(g[1])}</h3>",
             f"<p class=note>Each network's own optimum ({ref.source}), EDAP in J s mm2: "
             + ", ".join(f"{html.escape(w)} {v:.4g}" for w, v in zip(
                 ref.workloads, ref.edap_j_s_mm2, strict=True)) + " (references.csv).</p>"]
    summ = summary[(summary.technology == g[0]) & (summary.workload_set == g[1])]
    parts.append(table(summ.drop(columns=["technology", "workload_set"]).assign(
        method=lambda d: d.method.map(_label)), left=2))
    for agg in aggs:
        n = norm[(norm.technology == g[0]) & (norm.workload_set == g[1])
                 & (norm.aggregation == agg)]
        if n.empty:
            continue
        title = f"{g[0]} {g[1]}, {agg}: each method's 5 best chips"
        parts.append(img(figures.normalised(n, names, title,
                                            out / f"normalised_{tag}_{agg}.png"), title))
        j = jl[(jl.technology == g[0]) & (jl.workload_set == g[1]) & (jl.aggregation == agg)]
        if not j.empty:
            t = f"{g[0]} {g[1]}, {agg}: EDAP per network"
            parts.append(img(figures.joint_vs_largest(
                j, names, t, out / f"joint_vs_largest_{tag}_{agg}.png"), t))
    parts.append(img(figures.convergence(data, g, aggs, out / f"convergence_{tag}.png"),
                     f"convergence {tag}"))
    gd, source = tables.generalized_designs(data, g)
    write_csv(out / f"energy_latency_front_{tag}.csv", gd.loc[gd.pareto])
    parts.append(img(figures.energy_latency(gd, f"{g[0]} {g[1]}: single-chip designs",
                                            out / f"energy_latency_{tag}.png"), f"front {tag}"))
    parts.append(f"<p class=note>{len(gd)} distinct feasible designs ({html.escape(source)}), "
                 f"{int(gd.pareto.sum())} non-dominated in (worst-case energy, worst-case "
                 f"latency): energy_latency_front_{tag}.csv.</p>")
    bd = chips[(chips.technology == g[0]) & (chips.workload_set == g[1])]
    if not bd.empty:
        keep = [c for c in bd.columns if not bd[c].isna().all()]
        parts.append("<details><summary>The chip of every run: parameters, objective, loss "
                     "factors, per-network energy (J), latency (s) and EDAP (J s mm2)</summary>"
                     + table(bd[keep].drop(columns=["technology", "workload_set"])) +
                     "</details>")
    return parts


def build_report(root: str | Path) -> Path:
    """Write root/report/ (index.html, *.png, *.csv) for a study folder, or for the folder
    of one `imcopt search`; returns the index path."""
    from .search_page import build_search_report, is_search_folder

    if is_search_folder(Path(root)):
        return build_search_report(root)
    data: StudyData = load(root)
    out = Path(root) / "report"
    out.mkdir(exist_ok=True)
    chips = tables.chosen_chips(data)
    head = tables.headline(data, chips)
    summary = tables.method_summary(data, chips)
    nl = tables.network_losses(data, chips)
    norm = tables.normalised(data)
    jl = tables.joint_vs_largest(data, chips)
    points = tables.generality_points(data, chips)
    refs = pd.DataFrame([{"technology": g[0], "workload_set": g[1], "workload": w,
                          "best_edap_j_s_mm2": v, "source": o.source, "key": k}
                         for g, o in data.optima.items()
                         for w, v, k in zip(o.workloads, o.edap_j_s_mm2,
                                            o.keys or (None,) * len(o.workloads),
                                            strict=True)])
    for name, df in (("headline.csv", head), ("method_summary.csv", summary),
                     ("network_losses.csv", nl), ("normalised_best.csv", norm),
                     ("joint_vs_largest.csv", jl), ("best_designs.csv", chips),
                     ("generality_points.csv", points), ("references.csv", refs)):
        write_csv(out / name, df)

    cfg = data.config
    parts = [f"<h1>imcopt study report: {html.escape(cfg['name'])}</h1>",
             f"<p class=note>{len(data.cells)} finished cells ({', '.join(cfg['technologies'])};"
             f" workload sets {', '.join(cfg['workload_sets'])}; methods "
             f"{', '.join(cfg['methods'])}; aggregations {', '.join(cfg['aggregations'])}; "
             f"seeds {', '.join(map(str, cfg['seeds']))}; area limit {cfg['area_limit_mm2']:g} "
             "mm2). Built from the stored results only. Tables are also CSV files next to "
             "this page.</p>",
             failures(tables.n_failed(data.cells)),
             "<h2>What each network loses on the shared chip</h2>",
             f"<p class=note>{LOSS_NOTE} The figure: each aggregation's best chip (any "
             "single-chip method) at its worst loss and its max-aggregate EDAP, and the chips "
             "of the NSGA-II runs that no other beats on both.</p>"]
    for g in data.groups():
        parts += _generality_section(data, g, out, points, nl)
    parts += ["<h2>Headline: every method side by side</h2>",
              "<p class=note>Objective = the aggregation's value for each run's chip (median "
              "over seeds; unit in the next column); four-phase vs method = four-phase GA / "
              "method - 1 (negative: the four-phase GA's chip is better; the published "
              "study's comparison, whose abstract claims up to -76.2 % with 4 networks and "
              "-95.5 % with 9); worst_network_loss_x = the median over seeds of the chip's "
              "worst loss; area, die cost and the network that loses most: the best seed's "
              "chip (separate: summed over its chips).</p>",
              _headline_html(head), "<p>(headline.csv, method_summary.csv, "
              "network_losses.csv, best_designs.csv)</p>",
              "<h2>Details per technology and network set</h2>"]
    for g in data.groups():
        parts += _details(data, g, out, summary, norm, jl, chips)
    return write_page(out, "imcopt report", parts)
