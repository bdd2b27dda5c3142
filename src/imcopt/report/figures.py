"""The report's figures (matplotlib, Agg backend), each saved as a PNG."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..storage import write_figure
from .data import JOINT_METHODS, METHOD_LABELS, StudyData

COLORS = {"separate": "#7f7f7f", "largest": "#8c564b", "ga": "#1f77b4",
          "ga_sampling": "#ff7f0e", "four_phase": "#2ca02c", "exhaustive": "#d62728"}


def _log_y(ax: plt.Axes, values: object, x_too: bool = False) -> None:
    """Log scale where there is positive finite data to show; else a note on the axes."""
    v = np.asarray(values, dtype=float).ravel()
    if np.any(np.isfinite(v) & (v > 0)):
        ax.set_yscale("log")
        if x_too:
            ax.set_xscale("log")
    else:
        ax.text(0.5, 0.5, "no feasible design", transform=ax.transAxes, ha="center",
                color="#b00")


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    write_figure(path, fig, dpi=90)
    plt.close(fig)
    return path


def normalised(norm: pd.DataFrame, workloads: list[str], title: str, path: Path) -> Path:
    """Per workload, each method's best designs (dots; the best a star), EDAP / the
    workload's own best EDAP (1 = as good as a chip made for that network alone)."""
    methods = list(dict.fromkeys(norm.method))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(workloads) + 2), 4.2))
    width = 0.8 / max(1, len(methods))
    for j, m in enumerate(methods):
        sub = norm[norm.method == m]
        for i, w in enumerate(workloads):
            s = sub[sub.workload == w]
            x = i - 0.4 + width * (j + 0.5)
            ax.scatter(np.full(len(s), x), s.normalised_edap, s=12, color=COLORS.get(m),
                       alpha=0.5, label=None)
            b = s[s.best]
            ax.scatter(np.full(len(b), x), b.normalised_edap, marker="*", s=110,
                       color=COLORS.get(m), edgecolors="k", linewidths=0.5,
                       label=METHOD_LABELS.get(m, m) if i == 0 else None)
    ax.axhline(1.0, color="k", lw=0.8, ls=":")
    ax.set_xticks(range(len(workloads)), workloads, rotation=30, ha="right")
    _log_y(ax, norm.normalised_edap)
    ax.set_ylabel("EDAP / workload's own best EDAP")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=3)
    return _save(fig, path)


def joint_vs_largest(jl: pd.DataFrame, workloads: list[str], title: str, path: Path) -> Path:
    """Bars: EDAP per workload of the joint (four-phase) design and the largest-network
    design; hatched where that design cannot hold the workload's weights."""
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(workloads) + 2), 4.0))
    for j, d in enumerate(("four_phase", "largest")):
        s = jl[jl.design == d].set_index("workload").reindex(workloads)
        x = np.arange(len(workloads)) + (j - 0.5) * 0.38
        bars = ax.bar(x, s.edap_j_s_mm2.to_numpy(dtype=float), 0.38, color=COLORS[d],
                      label="joint (four-phase GA)" if d == "four_phase"
                      else "largest network alone")
        for bar, fit in zip(bars, s.weights_fit.fillna(True), strict=True):
            if not fit:
                bar.set_hatch("xx")
                bar.set_alpha(0.5)
    ax.set_xticks(range(len(workloads)), workloads, rotation=30, ha="right")
    _log_y(ax, jl.edap_j_s_mm2)
    ax.set_ylabel("EDAP (J s mm$^2$)")
    ax.set_title(title + " (hatched: weights do not fit)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def convergence(data: StudyData, group: tuple[str, str], aggs: list[str], path: Path
                ) -> Path:
    """Best objective so far vs objective calls per method: mean over seeds (line) and
    min-max band; the exhaustive optimum dashed."""
    c = data.cells
    fig, axes = plt.subplots(1, len(aggs), figsize=(5.2 * len(aggs), 3.8), squeeze=False)
    for ax, agg in zip(axes[0], aggs, strict=True):
        sub = c[(c.technology == group[0]) & (c.workload_set == group[1])
                & (c.aggregation == agg)]
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
                y = np.where(idx >= 0, t.best_so_far.to_numpy()[np.maximum(idx, 0)], np.nan)
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
        ex = sub[sub.method == "exhaustive"]
        for v in ex.best_fitness:
            if v is not None and np.isfinite(v):
                ax.axhline(v, color=COLORS["exhaustive"], ls="--", lw=1, label="exhaustive optimum")
                shown.append(np.array([v]))
        _log_y(ax, np.concatenate(shown) if shown else [])
        ax.set_xlabel("objective calls")
        ax.set_ylabel(f"best {agg} objective so far")
        ax.set_title(f"{group[0]} {group[1]}: {agg}")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    return _save(fig, path)


def pareto(gd: pd.DataFrame, title: str, path: Path, max_points: int = 6000) -> Path:
    """Worst-case energy vs worst-case latency of the feasible generalized designs, colour =
    area; non-dominated designs (energy, latency, area) circled."""
    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    rest = gd[~gd.pareto]
    if len(rest) > max_points:
        rest = rest.sample(max_points, random_state=0)
    sc = ax.scatter(rest.energy_j, rest.latency_s, c=rest.area_mm2, s=5, cmap="viridis",
                    alpha=0.5)
    front = gd[gd.pareto]
    ax.scatter(front.energy_j, front.latency_s, c=front.area_mm2, s=28, cmap="viridis",
               edgecolors="r", linewidths=0.9, label=f"non-dominated ({len(front)})")
    if len(gd):
        fig.colorbar(sc, ax=ax, label="area (mm$^2$)")
        ax.legend(fontsize=8)
    _log_y(ax, gd.latency_s, x_too=True)
    ax.set_xlabel("worst-case energy over workloads (J)")
    ax.set_ylabel("worst-case latency over workloads (s)")
    ax.set_title(title)
    return _save(fig, path)
