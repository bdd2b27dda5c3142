"""The report's tables (pandas), computed from `StudyData` only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data import JOINT_METHODS, StudyData, fitness

#: the published study's headline: "EDAP reductions of up to ..." against baseline methods
PAPER_HEADLINE = {4: -76.2, 9: -95.5}


def frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """The rows as a table; with no row, an empty table that still has the columns (so a
    study where a method found nothing, or ran alone, still has a report)."""
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)


def records(data: StudyData, cell_id: str) -> list[dict]:
    """The cell's best designs (feasible ones; else its closest infeasible one)."""
    b = data.best[cell_id]
    return b["best"] or b.get("closest_infeasible", [])


def top_designs(data: StudyData, group: tuple[str, str], method: str, agg: str,
                k: int = 5) -> list[dict]:
    """A method's k best distinct feasible designs over all its seeds, best first."""
    c = data.cells
    ids = c.id[(c.technology == group[0]) & (c.workload_set == group[1]) & (c.method == method)
               & (c.aggregation == agg)]
    seen: dict[str, dict] = {}
    for cid in ids:
        for r in data.best[cid]["best"]:
            if r["feasible"] and r["fitness"] is not None:
                seen.setdefault(r["key"], r)
    return sorted(seen.values(), key=lambda r: r["fitness"])[:k]


def normalised(data: StudyData, k: int = 5) -> pd.DataFrame:
    """Per workload, each method's k best designs: EDAP / the workload's own best EDAP."""
    rows = []
    for g in data.groups():
        ref = data.references[g]
        sub = data.cells[(data.cells.technology == g[0]) & (data.cells.workload_set == g[1])]
        for agg in dict.fromkeys(sub.aggregation):
            for method in dict.fromkeys(sub.method):
                for rank, r in enumerate(top_designs(data, g, method, agg, k), 1):
                    for w in data.workloads(g):
                        m = r["workloads"][w]
                        rows.append({"technology": g[0], "workload_set": g[1],
                                     "aggregation": agg, "method": method, "rank": rank,
                                     "key": r["key"], "fitness": r["fitness"], "workload": w,
                                     "edap_j_s_mm2": m["edap_j_s_mm2"],
                                     "normalised_edap": m["edap_j_s_mm2"] / ref[w],
                                     "best": rank == 1})
    return frame(rows, ["technology", "workload_set", "aggregation", "method", "rank", "key",
                        "fitness", "workload", "edap_j_s_mm2", "normalised_edap", "best"])


def method_summary(data: StudyData) -> pd.DataFrame:
    """Per (technology, set, aggregation, method): best fitness over seeds (median, best,
    worst, feasible seeds)."""
    rows = []
    keys = ["technology", "workload_set", "aggregation", "method"]
    for (t, s, a, m), sub in data.cells.groupby(keys, sort=False):
        f = np.array([fitness(v) for v in sub.best_fitness])
        ok = f[np.isfinite(f)]
        rows.append({"technology": t, "workload_set": s, "aggregation": a, "method": m,
                     "seeds": len(f), "feasible_seeds": len(ok),
                     "median": float(np.median(f)) if len(f) else np.inf,
                     "best": float(f.min()) if len(f) else np.inf,
                     "worst": float(f.max()) if len(f) else np.inf,
                     "failed_designs": n_failed(sub)})
    return frame(rows, ["technology", "workload_set", "aggregation", "method", "seeds",
                        "feasible_seeds", "median", "best", "worst", "failed_designs"])


def n_failed(cells: pd.DataFrame) -> int:
    """Designs the model failed on (error, non-finite or negative metric) in these cells."""
    if "n_failed" not in cells:  # studies from before failures were counted
        return 0
    return int(pd.to_numeric(cells.n_failed, errors="coerce").fillna(0).sum())


def headline(data: StudyData) -> pd.DataFrame:
    """EDAP (the aggregated objective) of the four-phase GA vs each baseline, medians over
    seeds; reduction = four-phase / baseline - 1 (negative: four-phase better)."""
    s = method_summary(data)
    rows = []
    for (t, ws, a), sub in s.groupby(["technology", "workload_set", "aggregation"], sort=False):
        by = sub.set_index("method")
        if "four_phase" not in by.index:
            continue
        fp = by.loc["four_phase", "median"]
        n_w = len(data.config["workload_sets"][ws])
        for base in by.index:
            if base == "four_phase":
                continue
            b = by.loc[base, "median"]
            red = (fp / b - 1.0) * 100 if np.isfinite(fp) and np.isfinite(b) and b > 0 else None
            rows.append({"technology": t, "workload_set": ws, "workloads": n_w,
                         "aggregation": a, "baseline": base,
                         "four_phase_median": fp, "baseline_median": b,
                         "reduction_pct": None if red is None else round(red, 2),
                         "paper_up_to_pct": PAPER_HEADLINE.get(n_w)})
    return frame(rows, ["technology", "workload_set", "workloads", "aggregation", "baseline",
                        "four_phase_median", "baseline_median", "reduction_pct",
                        "paper_up_to_pct"])


def joint_vs_largest(data: StudyData) -> pd.DataFrame:
    """EDAP per workload of the best four-phase design and of the best design found for the
    largest network alone (both: best seed)."""
    rows = []
    for g in data.groups():
        sub = data.cells[(data.cells.technology == g[0]) & (data.cells.workload_set == g[1])]
        for agg in dict.fromkeys(sub.aggregation):
            for method in ("four_phase", "largest"):
                ids = sub[(sub.method == method) & (sub.aggregation == agg)]
                if ids.empty:
                    continue
                cid = ids.id.iloc[int(np.argmin([fitness(v) for v in ids.best_fitness]))]
                recs = records(data, cid)
                if not recs:
                    continue
                r = recs[0]
                for w in data.workloads(g):
                    m = r["workloads"][w]
                    rows.append({"technology": g[0], "workload_set": g[1], "aggregation": agg,
                                 "design": method, "cell": cid, "key": r["key"],
                                 "workload": w, "edap_j_s_mm2": m["edap_j_s_mm2"],
                                 "weights_fit": m["weights_fit"],
                                 "feasible_design": r["feasible"]})
    return frame(rows, ["technology", "workload_set", "aggregation", "design", "cell", "key",
                        "workload", "edap_j_s_mm2", "weights_fit", "feasible_design"])


def best_designs(data: StudyData) -> pd.DataFrame:
    """The best design of every cell: parameters and per-workload metrics."""
    rows = []
    for c in data.cells.itertuples():
        recs = records(data, c.id)
        if not recs:
            continue
        r = recs[0]
        ref = data.references[(c.technology, c.workload_set)]
        row = {"cell": c.id, "technology": c.technology, "workload_set": c.workload_set,
               "method": c.method, "aggregation": c.aggregation, "seed": c.seed,
               "key": r["key"], "feasible": r["feasible"], "fitness": r["fitness"],
               "area_mm2": r["area_mm2"], **r["parameters"]}
        for w, m in r["workloads"].items():
            row[f"energy_j.{w}"] = m["energy_j"]
            row[f"latency_s.{w}"] = m["latency_s"]
            row[f"edap.{w}"] = m["edap_j_s_mm2"]
            row[f"edap_vs_best.{w}"] = m["edap_j_s_mm2"] / ref[w]
        rows.append(row)
    return frame(rows, ["cell", "technology", "workload_set", "method", "aggregation", "seed",
                        "key", "feasible", "fitness", "area_mm2"])


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """(N,) bool: not dominated (all <=, one <) by another row; minimisation."""
    order = np.lexsort(points.T[::-1])
    front: list[int] = []
    for i in order:
        p = points[i]
        if front:
            f = points[front]
            if np.any(np.all(f <= p, axis=1) & np.any(f < p, axis=1)):
                continue
        front.append(i)
    mask = np.zeros(len(points), bool)
    mask[front] = True
    return mask


def generalized_designs(data: StudyData, group: tuple[str, str]) -> pd.DataFrame:
    """Every distinct feasible design evaluated by the joint searches of a group, with its
    worst-case energy and latency over the workloads, area, and whether it is non-dominated."""
    names = data.workloads(group)
    c = data.cells
    ids = c.id[(c.technology == group[0]) & (c.workload_set == group[1])
               & c.method.isin(JOINT_METHODS)]
    cols = ["key", "area_mm2", "feasible", *[f"energy_j.{w}" for w in names],
            *[f"latency_s.{w}" for w in names]]
    frames = [data.designs(cid, cols) for cid in ids]
    if not frames:
        return pd.DataFrame({"key": [], "energy_j": [], "latency_s": [], "area_mm2": [],
                             "pareto": np.zeros(0, bool)})
    d = pd.concat(frames).drop_duplicates("key")
    d = d[d.feasible.astype(bool)]
    out = pd.DataFrame({"key": d.key.to_numpy(),
                        "energy_j": d[[f"energy_j.{w}" for w in names]].max(axis=1).to_numpy(),
                        "latency_s": d[[f"latency_s.{w}" for w in names]].max(axis=1).to_numpy(),
                        "area_mm2": d.area_mm2.to_numpy()})
    out["pareto"] = (pareto_mask(out[["energy_j", "latency_s", "area_mm2"]].to_numpy())
                     if len(out) else np.zeros(0, bool))
    return out
