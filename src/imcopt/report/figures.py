"""The report's figures (matplotlib, Agg backend), each saved as a PNG about 1,000 px wide.

Every axis names its quantity and unit; legends sit outside the data; fronts are computed in
the two dimensions they are drawn in.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.axis
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    NullFormatter,
    NullLocator,
)

from ..losses import WORST
from ..objectives import aggregate_unit
from ..storage import write_figure
from .data import JOINT_METHODS, METHOD_LABELS, StudyData

COLORS = {"separate": "#7f7f7f", "largest": "#8c564b", "sequential": "#9467bd",
          "ga": "#1f77b4", "ga_sampling": "#ff7f0e", "four_phase": "#2ca02c",
          "exhaustive": "#d62728", "nsga2": "#17becf"}
AGG_MARKERS = {"max": "s", "mean": "D", "geomean": "^", "worst_regret": "*", "product": "v",
               "el_cost": "P", "edap_cost": "X"}
DPI = 110
WIDTH_IN = 9.5  # ~1,050 px at DPI


def _positive(values: object) -> np.ndarray:
    v = np.asarray(values, dtype=float).ravel()
    return v[np.isfinite(v) & (v > 0)]


def _log_ticks(axis: matplotlib.axis.Axis, values: object) -> None:
    """At most ~6 labelled ticks on a log axis, so labels never overlap: decades over a wide
    range, else round values spread evenly over the data (a narrow range has no decade)."""
    v = _positive(values)
    axis.set_minor_formatter(NullFormatter())
    if not len(v) or v.max() / v.min() > 30:
        axis.set_major_locator(LogLocator(base=10, numticks=6))
        return
    lo, hi = v.min(), v.max()
    decades = range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1)
    for steps in ((1, 2, 5), (1, 1.5, 2, 3, 5, 7)):  # round values: 1, 2, 5, 10, 20 ...
        ticks = [m * 10.0**k for k in decades for m in steps if lo <= m * 10.0**k <= hi]
        if len(ticks) >= 3:
            digits = 3
            break
    else:  # a very narrow range: values spread evenly, with the fewest digits that differ
        spread = np.geomspace(lo, hi, 5) if hi > lo else np.array([lo])
        for digits in (2, 3, 4, 5):
            ticks = sorted(t for t in {float(f"{t:.{digits}g}") for t in spread}
                           if lo <= t <= hi) or [float(f"{lo:.{digits}g}")]
            if len(ticks) >= min(3, len(spread)):
                break
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda t, _pos, d=digits: f"{t:.{d}g}"))
    axis.set_minor_locator(NullLocator())


def _log_axes(ax: plt.Axes, y: object, x: object | None = None) -> None:
    """Log scales where there is positive finite data, with few labelled ticks (labels do
    not overlap); else a note on the axes."""
    if not len(_positive(y)):
        ax.text(0.5, 0.5, "no feasible design", transform=ax.transAxes, ha="center",
                color="#b00")
        return
    ax.set_yscale("log")
    _log_ticks(ax.yaxis, y)
    if x is not None and len(_positive(x)):
        ax.set_xscale("log")
        _log_ticks(ax.xaxis, x)


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    write_figure(path, fig, dpi=DPI)
    plt.close(fig)
    return path


def _legend_below(ax: plt.Axes, ncol: int = 3) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, ncol=ncol, loc="upper center", bbox_to_anchor=(0.5, -0.22),
                  frameon=False)


def generality(points: pd.DataFrame, front: pd.DataFrame, title: str, path: Path) -> Path:
    """The cost of generality: x = the worst per-network loss factor of a chip, y = its
    max-aggregate EDAP; one point per aggregation's best chip, and the (worst loss, max
    EDAP) front of the NSGA-II runs."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 5.2))
    f = front[front.pareto] if len(front) else front
    if len(f):
        f = f.sort_values(WORST)
        ax.step(f[WORST], f.max_edap_j_s_mm2, where="post", color=COLORS["nsga2"], lw=1)
        ax.scatter(f[WORST], f.max_edap_j_s_mm2, s=16, color=COLORS["nsga2"],
                   label=f"NSGA-II front ({len(f)} chips, all seeds)")
    for p in points.itertuples(index=False):
        ax.scatter([getattr(p, WORST)], [p.max_edap_j_s_mm2], s=120,
                   marker=AGG_MARKERS.get(p.aggregation, "o"), color=COLORS.get(p.method, "k"),
                   edgecolors="k", linewidths=0.6, zorder=3,
                   label=f"best chip for {p.aggregation} ({METHOD_LABELS.get(p.method, p.method)}"
                         f"; {p.worst_network} loses most)")
    ys = [*points.max_edap_j_s_mm2, *(f.max_edap_j_s_mm2 if len(f) else [])]
    xs = [*points[WORST], *(f[WORST] if len(f) else [])]
    _log_axes(ax, ys, xs)
    ax.set_xlabel("worst per-network loss factor: max over networks of EDAP / own optimum (x)")
    ax.set_ylabel("max-aggregate EDAP:\nworst energy x worst latency x area (J s mm$^2$)")
    ax.set_title(title)
    _legend_below(ax, ncol=2)
    return _save(fig, path)


def normalised(norm: pd.DataFrame, workloads: list[str], title: str, path: Path) -> Path:
    """Per network, each method's best chips (dots; the best a star): the loss factor, EDAP /
    the network's own optimum (1 = as good as a chip made for that network alone)."""
    methods = list(dict.fromkeys(norm.method))
    fig, ax = plt.subplots(figsize=(max(WIDTH_IN, 0.9 * len(workloads) + 3), 5.0))
    width = 0.8 / max(1, len(methods))
    for j, m in enumerate(methods):
        sub = norm[norm.method == m]
        for i, w in enumerate(workloads):
            s = sub[sub.workload == w]
            x = i - 0.4 + width * (j + 0.5)
            ax.scatter(np.full(len(s), x), s.loss_x, s=12, color=COLORS.get(m), alpha=0.5)
            b = s[s.best]
            ax.scatter(np.full(len(b), x), b.loss_x, marker="*", s=110, color=COLORS.get(m),
                       edgecolors="k", linewidths=0.5,
                       label=METHOD_LABELS.get(m, m) if i == 0 else None)
    ax.axhline(1.0, color="k", lw=0.8, ls=":")
    ax.set_xticks(range(len(workloads)), workloads, rotation=30, ha="right")
    _log_axes(ax, norm.loss_x)
    ax.set_ylabel("loss factor: EDAP / network's own optimum (x)")
    ax.set_title(title)
    _legend_below(ax, ncol=4)
    return _save(fig, path)


def joint_vs_largest(jl: pd.DataFrame, workloads: list[str], title: str, path: Path) -> Path:
    """Bars: EDAP per network of the four-phase chip and of the largest network's chip (only
    the methods the study ran); hatched where that chip cannot hold the network's weights."""
    designs = [d for d in ("four_phase", "largest") if (jl.design == d).any()]
    fig, ax = plt.subplots(figsize=(max(WIDTH_IN, 0.8 * len(workloads) + 3), 4.6))
    width = 0.8 / max(1, len(designs))
    for j, d in enumerate(designs):
        s = jl[jl.design == d].set_index("workload").reindex(workloads)
        x = np.arange(len(workloads)) - 0.4 + width * (j + 0.5)
        bars = ax.bar(x, s.edap_j_s_mm2.to_numpy(dtype=float), width, color=COLORS[d],
                      label="joint chip (four-phase GA)" if d == "four_phase"
                      else "chip for the largest network alone")
        for bar, fit in zip(bars, s.weights_fit.fillna(True), strict=True):
            if not fit:
                bar.set_hatch("xx")
                bar.set_alpha(0.5)
    ax.set_xticks(range(len(workloads)), workloads, rotation=30, ha="right")
    _log_axes(ax, jl.edap_j_s_mm2)
    ax.set_ylabel("EDAP (J s mm$^2$)")
    ax.set_title(title + " (hatched: weights do not fit)")
    _legend_below(ax, ncol=2)
    return _save(fig, path)


def convergence(data: StudyData, group: tuple[str, str], aggs: list[str], path: Path
                ) -> Path:
    """Best objective so far vs objective calls per joint method: mean over seeds (line)
    and min-max band; the exhaustive optimum dashed. One panel per aggregation."""
    c = data.group_cells(group)
    n_w = len(data.workloads(group))
    cols = min(2, len(aggs))
    rows = -(-len(aggs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH_IN, 3.9 * rows), squeeze=False)
    for ax in axes.ravel()[len(aggs):]:
        ax.set_visible(False)
    for ax, agg in zip(axes.ravel(), aggs, strict=False):
        sub = c[c.aggregation == agg]
        joint = sub.id[sub.method.isin(JOINT_METHODS)]
        xmax = max([float(data.convergence[i].n_calls.max()) for i in joint
                    if len(data.convergence[i])] or [1.0])
        grid = np.linspace(0, xmax, 120)
        shown: list[np.ndarray] = []
        for m in JOINT_METHODS:
            curves = []
            for cid in sub.id[sub.method == m]:
                t = data.convergence[cid]
                if t.empty:
                    continue
                idx = np.searchsorted(t.n_calls.to_numpy(), grid, side="right") - 1
                y = np.where(idx >= 0, t.best_so_far.to_numpy(dtype=float)[np.maximum(idx, 0)],
                             np.nan)
                curves.append(np.where(np.isfinite(y), y, np.nan))
            if not curves:
                continue
            y = np.array(curves)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns early on
                mean, lo, hi = np.nanmean(y, 0), np.nanmin(y, 0), np.nanmax(y, 0)
            shown.append(mean)
            ax.plot(grid, mean, color=COLORS[m], label=f"{METHOD_LABELS[m]} ({len(y)} seeds)")
            ax.fill_between(grid, lo, hi, color=COLORS[m], alpha=0.2)
        for v in sub.best_fitness[sub.method == "exhaustive"]:
            if v is not None and np.isfinite(v):
                ax.axhline(v, color=COLORS["exhaustive"], ls="--", lw=1,
                           label="exhaustive optimum")
                shown.append(np.array([v]))
        _log_axes(ax, np.concatenate(shown) if shown else [])
        ax.set_xlabel("objective calls")
        ax.set_ylabel(f"best {agg} objective so far\n({aggregate_unit(agg, n_w)})")
        ax.set_title(f"{group[0]} {group[1]}: {agg}")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    return _save(fig, path)


def energy_latency(gd: pd.DataFrame, title: str, path: Path, max_points: int = 6000) -> Path:
    """Worst-case energy vs worst-case latency of feasible single-chip designs, colour =
    area; the designs non-dominated in these two axes joined as the front."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 5.0))
    rest = gd[~gd.pareto]
    if len(rest) > max_points:
        rest = rest.sample(max_points, random_state=0)
    sc = ax.scatter(rest.energy_j, rest.latency_s, c=rest.area_mm2, s=6, cmap="viridis",
                    alpha=0.5)
    front = gd[gd.pareto].sort_values("energy_j")
    if len(front):
        ax.step(front.energy_j, front.latency_s, where="post", color="r", lw=0.8)
        ax.scatter(front.energy_j, front.latency_s, c=front.area_mm2, s=30, cmap="viridis",
                   edgecolors="r", linewidths=0.9,
                   label=f"non-dominated in (energy, latency): {len(front)}")
    if len(gd):
        fig.colorbar(sc, ax=ax, label="area (mm$^2$)")
        ax.legend(fontsize=8, loc="upper right")
    _log_axes(ax, gd.latency_s, gd.energy_j)
    ax.set_xlabel("worst-case energy over the networks (J)")
    ax.set_ylabel("worst-case latency over the networks (s)")
    ax.set_title(title)
    return _save(fig, path)


def search_convergence(conv: pd.DataFrame, unit_of: dict[str, str], path: Path) -> Path:
    """One panel per search of a strategy (each network alone, then the joint search, ...):
    its best objective so far against the calls it made; each panel's own objective and
    unit (`unit_of`: search name -> y label)."""
    by = "search" if "search" in conv.columns else "phase"  # older folders: no search column
    parts = list(conv.groupby(by, sort=False)) if len(conv) else []
    cols = min(3, max(1, len(parts)))
    rows = max(1, -(-len(parts) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH_IN, 3.1 * rows), squeeze=False)
    for ax in axes.ravel()[len(parts):]:
        ax.set_visible(False)
    start = 0.0
    for ax, (name, part) in zip(axes.ravel(), parts, strict=False):
        calls = part["n_calls"].to_numpy(dtype=float)
        ax.plot(calls - start, part["best_so_far"], marker=".", ms=3, color="#1f77b4")
        start = float(calls.max()) if len(calls) else start
        _log_axes(ax, part["best_so_far"])
        ax.set_title(str(name), fontsize=9)
        ax.set_xlabel("objective calls in this search", fontsize=8)
        ax.set_ylabel(unit_of.get(str(name), unit_of.get("*", "objective")), fontsize=8)
    return _save(fig, path)
