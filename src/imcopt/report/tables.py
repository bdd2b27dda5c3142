"""The report's tables (pandas), computed from `StudyData` only.

Losses are factors against each group's reference (`StudyData.optima`): a network's EDAP on
the chosen chip over its own optimum (1.46x). A method's *chosen chip* in a run is its best
design by the run's aggregation; for `separate` it is one chip per network, each network on
its own chip, with the chips' areas and die costs summed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..losses import LOSS_PREFIX, WORST
from ..objectives import aggregate, aggregate_unit
from ..study.config import METHODS
from .data import JOINT_METHODS, StudyData, fitness

#: the published study's headline: "EDAP reductions of up to ..." against baseline methods
PAPER_HEADLINE = {4: -76.2, 9: -95.5}
#: which method names a chip that several methods found (the most thorough search first)
TIE_ORDER = ("exhaustive", "four_phase", "ga_sampling", "ga", "sequential", "largest")
#: aggregations whose objective needs each network's optimum
NEEDS_OPTIMA = ("worst_regret",)


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
    c = data.group_cells(group)
    ids = c.id[(c.method == method) & (c.aggregation == agg)]
    seen: dict[str, dict] = {}
    for cid in ids:
        for r in data.best[cid]["best"]:
            if r["feasible"] and r["fitness"] is not None:
                seen.setdefault(r["key"], r)
    return sorted(seen.values(), key=lambda r: r["fitness"])[:k]


def max_edap(record: dict) -> float:
    """The max-aggregate EDAP (worst-case energy x worst-case latency x area, J s mm^2)."""
    w = record["workloads"].values()
    return float(max(m["energy_j"] for m in w) * max(m["latency_s"] for m in w)
                 * record["area_mm2"])


# ---- the chip each run chose ---------------------------------------------------------------
def _separate_chips(data: StudyData, group: tuple[str, str], cell_id: str, agg: str
                    ) -> dict | None:
    """The separate method's chip set: each network on its own chip (its per-network best),
    area and die cost summed; the objective is the aggregation of each network's energy and
    latency on its own chip with the summed area."""
    own = data.best[cell_id].get("per_workload_best") or {}
    names = data.workloads(group)
    if set(own) != set(names):
        return None
    per = {w: own[w]["workloads"][w] for w in names}
    e = np.array([[per[w]["energy_j"] for w in names]])
    lat = np.array([[per[w]["latency_s"] for w in names]])
    area = sum(own[w]["area_mm2"] for w in names)
    cost = sum(own[w].get("cost_usd") or 0.0 for w in names)
    ref = data.optima[group]
    opt = ref.values if ref.known else None
    feasible = all(per[w]["weights_fit"] and own[w]["area_mm2"] <= data.area_limit_mm2
                   for w in names)
    obj = np.inf
    if feasible and (agg not in NEEDS_OPTIMA or opt is not None):
        obj = float(aggregate(e, lat, np.array([area]), agg, optima=opt,
                              cost=np.array([cost]))[0])
    return {"key": f"{len(names)} chips (one per network)", "feasible": feasible,
            "area_mm2": area, "cost_usd": cost, "fitness": obj if np.isfinite(obj) else None,
            "parameters": {}, "workloads": per, "chips": len(names),
            # each network runs on its own chip: each chip's area counts, not the sum
            "area_ok": all(own[w]["area_mm2"] <= data.area_limit_mm2 for w in names)}


def _not_searched(data: StudyData, group: tuple[str, str]) -> dict:
    """The record of a cell that was not searched (no chip can run some network): no chip,
    every network that fits no chip cannot run, the others' losses unknown."""
    bad = data.infeasible.get(group, {})
    nan = float("nan")
    return {"key": "not searched", "feasible": False, "area_mm2": nan, "cost_usd": nan,
            "fitness": None, "parameters": {}, "chips": 0, "area_ok": True,
            "workloads": {w: {"energy_j": nan, "latency_s": nan, "edap_j_s_mm2": nan,
                              "weights_fit": w not in bad} for w in data.workloads(group)}}


def chosen(data: StudyData, group: tuple[str, str], cell) -> dict | None:
    """The chip a cell chose (a record, see `best.json`), or None when it has none."""
    if isinstance(getattr(cell, "not_searched", None), str):
        return _not_searched(data, group)
    if cell.method == "separate" and data.best[cell.id].get("per_workload_best"):
        return _separate_chips(data, group, cell.id, cell.aggregation)
    recs = records(data, cell.id)
    return {**recs[0], "chips": 1} if recs else None


def chosen_chips(data: StudyData) -> pd.DataFrame:
    """One row per cell: its chosen chip's key, parameters, objective (`fitness`, in
    `objective_unit`), worst per-network loss factor and the network that pays it, each
    network's loss factor, energy (J), latency (s) and EDAP (J s mm^2), area (mm^2, summed
    for separate), die cost (USD, summed) and the number of chips."""
    rows = []
    for g in data.groups():
        names = data.workloads(g)
        for c in data.group_cells(g).itertuples():
            r = chosen(data, g, c)
            if r is None:
                continue
            loss = data.losses(g, [r])
            if r["chips"] == 0:  # not searched: the network that no chip can run pays
                loss["worst_network"] = np.array(list(data.infeasible.get(g, {}))[:1] or [""])
            row = {"cell": c.id, "technology": g[0], "workload_set": g[1], "method": c.method,
                   "aggregation": c.aggregation, "seed": c.seed, "key": r["key"],
                   "feasible": r["feasible"], "fitness": r.get("fitness"),
                   "objective_unit": aggregate_unit(c.aggregation, len(names)),
                   WORST: float(loss[WORST][0]), "worst_network": loss["worst_network"][0],
                   **{k: float(v[0]) for k, v in loss.items() if k.startswith(LOSS_PREFIX)},
                   "area_mm2": r["area_mm2"], "cost_usd": r.get("cost_usd"),
                   "chips": r["chips"], "max_edap_j_s_mm2": max_edap(r),
                   **r.get("parameters", {})}
            for w in names:
                m = r["workloads"][w]
                row[f"energy_j.{w}"] = m["energy_j"]
                row[f"latency_s.{w}"] = m["latency_s"]
                row[f"edap.{w}"] = m["edap_j_s_mm2"]
            rows.append(row)
    return frame(rows, ["cell", "technology", "workload_set", "method", "aggregation", "seed",
                        "key", "feasible", "fitness", "objective_unit", WORST, "worst_network",
                        "area_mm2", "cost_usd", "chips", "max_edap_j_s_mm2"])


# ---- summaries -----------------------------------------------------------------------------
def method_summary(data: StudyData, chips: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (technology, set, aggregation, method): the objective of each run's chosen chip
    over seeds (median, best, worst, feasible seeds) and its worst per-network loss factor
    (median, best, worst)."""
    chips = chosen_chips(data) if chips is None else chips
    rows = []
    keys = ["technology", "workload_set", "aggregation", "method"]
    for (t, s, a, m), sub in chips.groupby(keys, sort=False):
        f = np.array([fitness(v) for v in sub.fitness])
        loss = sub[WORST].to_numpy(dtype=float)
        cells = data.cells[data.cells.id.isin(sub.cell)]
        rows.append({"technology": t, "workload_set": s, "aggregation": a, "method": m,
                     "seeds": len(f), "feasible_seeds": int(np.isfinite(f).sum()),
                     "objective_median": float(np.median(f)),
                     "objective_best": float(f.min()), "objective_worst": float(f.max()),
                     "objective_unit": sub.objective_unit.iloc[0],
                     f"{WORST}_median": float(np.median(loss)),
                     f"{WORST}_best": float(loss.min()), f"{WORST}_worst": float(loss.max()),
                     "failed_designs": n_failed(cells)})
    return frame(rows, ["technology", "workload_set", "aggregation", "method", "seeds",
                        "feasible_seeds", "objective_median", "objective_best",
                        "objective_worst", "objective_unit", f"{WORST}_median",
                        f"{WORST}_best", f"{WORST}_worst", "failed_designs"])


def n_failed(cells: pd.DataFrame) -> int:
    """Designs the model failed on (error, non-finite or negative metric) in these cells."""
    if "n_failed" not in cells:  # studies from before failures were counted
        return 0
    return int(pd.to_numeric(cells.n_failed, errors="coerce").fillna(0).sum())


def best_seed(chips: pd.DataFrame) -> pd.DataFrame:
    """Per (technology, set, aggregation, method): the run whose chosen chip has the lowest
    objective (ties: the lowest worst loss, then the first)."""
    c = chips.assign(_f=[fitness(v) for v in chips.fitness])
    c = c.sort_values(["_f", WORST], kind="stable")
    return c.groupby(["technology", "workload_set", "aggregation", "method"],
                     sort=False).head(1).drop(columns="_f")


def headline(data: StudyData, chips: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (technology, set, aggregation, method): the objective of the chosen chip
    (median over seeds), the four-phase GA's objective against it (the published study's
    comparison: negative = four-phase better), the worst per-network loss factor (median
    over seeds) and, for the best seed's chip, the network that pays it, its area, die cost
    and number of chips; the reference's source (exact or best-known)."""
    chips = chosen_chips(data) if chips is None else chips
    s = method_summary(data, chips).set_index(["technology", "workload_set", "aggregation",
                                               "method"])
    top = best_seed(chips).set_index(["technology", "workload_set", "aggregation", "method"])
    rows = []
    for (t, ws, a, m), r in s.iterrows():
        g = (t, ws)
        n_w = len(data.workloads(g))
        fp = s.objective_median.get((t, ws, a, "four_phase"), np.nan)
        b = r.objective_median
        vs = ((fp / b - 1.0) * 100 if np.isfinite(fp) and np.isfinite(b) and b > 0
              and m != "four_phase" else None)
        best = top.loc[(t, ws, a, m)]
        note = "; ".join(data.infeasible.get(g, {}).values())
        rows.append({"technology": t, "workload_set": ws, "workloads": n_w, "aggregation": a,
                     "method": m, "objective_median": b, "objective_unit": r.objective_unit,
                     "four_phase_vs_method_pct": None if vs is None else round(vs, 2),
                     WORST: r[f"{WORST}_median"], "worst_network": best.worst_network,
                     "area_mm2": best.area_mm2, "cost_usd": best.cost_usd,
                     "chips": int(best.chips), "seeds": int(r.seeds),
                     "feasible_seeds": int(r.feasible_seeds),
                     "optima_source": data.optima[g].source,
                     "paper_up_to_pct": PAPER_HEADLINE.get(n_w), "note": note or None})
    return in_order(data, frame(rows, [
        "technology", "workload_set", "workloads", "aggregation", "method", "objective_median",
        "objective_unit", "four_phase_vs_method_pct", WORST, "worst_network", "area_mm2",
        "cost_usd", "chips", "seeds", "feasible_seeds", "optima_source", "paper_up_to_pct",
        "note"]))


def in_order(data: StudyData, df: pd.DataFrame) -> pd.DataFrame:
    """Rows by group (as run), aggregation (as configured), then method (METHODS order)."""
    if df.empty:
        return df
    groups = {g: i for i, g in enumerate(data.groups())}
    aggs = {a: i for i, a in enumerate(dict.fromkeys([*data.config["aggregations"],
                                                      *data.cells.aggregation]))}
    methods = {m: i for i, m in enumerate(METHODS)}
    key = pd.DataFrame({
        "g": [groups.get((t, s), 0) for t, s in zip(df.technology, df.workload_set,
                                                     strict=True)],
        "a": [aggs.get(a, 0) for a in df.aggregation],
        "m": [methods.get(m, 0) for m in df.method] if "method" in df else 0})
    return df.iloc[np.lexsort((key.m, key.a, key.g))].reset_index(drop=True)


def network_losses(data: StudyData, chips: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long table: per (technology, set, aggregation, method), each network's loss factor on
    the best seed's chosen chip (and that chip's key)."""
    chips = chosen_chips(data) if chips is None else chips
    rows = []
    for r in best_seed(chips).itertuples(index=False):
        d = r._asdict()
        for w in data.workloads((r.technology, r.workload_set)):
            rows.append({"technology": r.technology, "workload_set": r.workload_set,
                         "aggregation": r.aggregation, "method": r.method, "cell": r.cell,
                         "key": r.key, "workload": w, "loss_x": chips.loc[
                             chips.cell == r.cell, f"{LOSS_PREFIX}{w}"].iloc[0],
                         "edap_j_s_mm2": chips.loc[chips.cell == r.cell, f"edap.{w}"].iloc[0],
                         WORST: d[WORST]})
    return in_order(data, frame(rows, ["technology", "workload_set", "aggregation", "method",
                                       "cell", "key", "workload", "loss_x", "edap_j_s_mm2",
                                       WORST]))


def _separate_sets(data: StudyData, group: tuple[str, str], agg: str) -> list[dict]:
    """The separate method's chip set of its best seed (one record: each network on its own
    chip), for the tables that list every method's chips."""
    c = data.group_cells(group)
    sets = [r for cid in c.id[(c.method == "separate") & (c.aggregation == agg)]
            if (r := _separate_chips(data, group, cid, agg)) is not None]
    return sorted(sets, key=lambda r: fitness(r["fitness"]))[:1]


def normalised(data: StudyData, k: int = 5) -> pd.DataFrame:
    """Per workload, each method's k best chips: the loss factor (EDAP / the network's own
    optimum; 1 = as good as a chip made for it alone); separate: each network on its own
    chip (the best seed's)."""
    rows = []
    for g in data.groups():
        sub = data.group_cells(g)
        for agg in dict.fromkeys(sub.aggregation):
            for method in dict.fromkeys(sub.method):
                top = (_separate_sets(data, g, agg) if method == "separate"
                       else top_designs(data, g, method, agg, k))
                if not top:
                    continue
                loss = data.losses(g, top)
                for rank, r in enumerate(top, 1):
                    for w in data.workloads(g):
                        rows.append({"technology": g[0], "workload_set": g[1],
                                     "aggregation": agg, "method": method, "rank": rank,
                                     "key": r["key"], "fitness": r["fitness"], "workload": w,
                                     "edap_j_s_mm2": r["workloads"][w]["edap_j_s_mm2"],
                                     "loss_x": float(loss[f"{LOSS_PREFIX}{w}"][rank - 1]),
                                     "best": rank == 1})
    return frame(rows, ["technology", "workload_set", "aggregation", "method", "rank", "key",
                        "fitness", "workload", "edap_j_s_mm2", "loss_x", "best"])


def joint_vs_largest(data: StudyData, chips: pd.DataFrame | None = None) -> pd.DataFrame:
    """EDAP per workload of the best four-phase chip and of the largest network's chip (both:
    best seed), for the methods the study ran."""
    chips = chosen_chips(data) if chips is None else chips
    top = best_seed(chips)
    rows = []
    for r in top[top.method.isin(["four_phase", "largest"])].itertuples(index=False):
        d = r._asdict()
        for w in data.workloads((r.technology, r.workload_set)):
            row = chips[chips.cell == r.cell].iloc[0]
            rows.append({"technology": r.technology, "workload_set": r.workload_set,
                         "aggregation": r.aggregation, "design": r.method, "cell": r.cell,
                         "key": r.key, "workload": w, "edap_j_s_mm2": row[f"edap.{w}"],
                         "loss_x": row[f"{LOSS_PREFIX}{w}"],
                         "weights_fit": bool(np.isfinite(row[f"{LOSS_PREFIX}{w}"])),
                         "feasible_design": d["feasible"]})
    return frame(rows, ["technology", "workload_set", "aggregation", "design", "cell", "key",
                        "workload", "edap_j_s_mm2", "loss_x", "weights_fit", "feasible_design"])


# ---- the cost of generality ------------------------------------------------------------------
def generality_points(data: StudyData, chips: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per group and aggregation: the best chip found for it by any single-chip method (the
    lowest objective over methods and seeds), its worst per-network loss factor and its
    max-aggregate EDAP (J s mm^2)."""
    chips = chosen_chips(data) if chips is None else chips
    one = chips[(chips.chips == 1) & chips.feasible.astype(bool)
                & (chips.method != "nsga2")].copy()
    one["_f"] = [fitness(v) for v in one.fitness]
    # ties (several methods find the same chip): name the most thorough search
    one["_m"] = [TIE_ORDER.index(m) if m in TIE_ORDER else len(TIE_ORDER) for m in one.method]
    one = one[np.isfinite(one._f)].sort_values(["_f", WORST, "_m"], kind="stable")
    best = one.groupby(["technology", "workload_set", "aggregation"], sort=False).head(1)
    cols = ["technology", "workload_set", "aggregation", "method", "seed", "cell", "key",
            WORST, "worst_network", "max_edap_j_s_mm2", "fitness", "objective_unit"]
    return in_order(data, best[cols].reset_index(drop=True)) if len(best) else frame([], cols)


def generality_front(data: StudyData, group: tuple[str, str]) -> pd.DataFrame:
    """The (worst per-network loss factor, max-aggregate EDAP) front of the group's NSGA-II
    runs: their fronts (pareto.csv) and best designs, merged over seeds, non-dominated in
    these two objectives; each network's loss factor against the group's reference."""
    names = data.workloads(group)
    c = data.group_cells(group)
    recs: list[dict] = []
    for cid in c.id[c.method == "nsga2"]:
        recs += [r for r in records(data, cid) if r["feasible"]]
        if cid in data.pareto:
            recs += [_record(row, names) for row in data.pareto[cid].to_dict("records")
                     if bool(row["feasible"])]
    cols = ["key", WORST, "worst_network", "max_edap_j_s_mm2", "area_mm2", "pareto"]
    if not recs:
        return frame([], cols)
    loss = data.losses(group, recs)
    out = pd.DataFrame({"key": [r["key"] for r in recs], WORST: loss[WORST],
                        "worst_network": loss["worst_network"],
                        "max_edap_j_s_mm2": [max_edap(r) for r in recs],
                        "area_mm2": [r["area_mm2"] for r in recs]})
    out = out[np.isfinite(out[WORST])].drop_duplicates("key").reset_index(drop=True)
    out["pareto"] = pareto_mask(out[[WORST, "max_edap_j_s_mm2"]].to_numpy(dtype=float))
    return out.sort_values([WORST, "max_edap_j_s_mm2"]).reset_index(drop=True)


def _record(row: dict, names: list[str]) -> dict:
    """A feasible design's pareto.csv row (`search.records.record_table`) as a
    best.json-like record."""
    return {"key": row["key"], "feasible": True, "area_mm2": row["area_mm2"],
            "cost_usd": row.get("cost_usd"),
            "workloads": {w: {"energy_j": row[f"energy_j.{w}"],
                              "latency_s": row[f"latency_s.{w}"],
                              "edap_j_s_mm2": row[f"energy_j.{w}"] * row[f"latency_s.{w}"]
                              * row["area_mm2"], "weights_fit": True} for w in names}}


# ---- energy-latency fronts -------------------------------------------------------------------
def pareto_mask(points: np.ndarray) -> np.ndarray:
    """(N,) bool: not dominated (all <=, one <) by another row; minimisation."""
    points = np.asarray(points, dtype=float)
    if not len(points):
        return np.zeros(0, bool)
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


def worst_case(frame_: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Feasible designs with worst-case energy (J) and latency (s) over the networks and
    their area (mm^2); `pareto`: non-dominated in (energy, latency), the two plotted axes."""
    ok = frame_[frame_["feasible"].astype(bool)]
    out = pd.DataFrame({
        "key": ok["key"].to_numpy(),
        "energy_j": ok[[f"energy_j.{w}" for w in names]].max(axis=1).to_numpy(dtype=float),
        "latency_s": ok[[f"latency_s.{w}" for w in names]].max(axis=1).to_numpy(dtype=float),
        "area_mm2": ok["area_mm2"].to_numpy(dtype=float)})
    out = out.drop_duplicates("key").reset_index(drop=True)
    out["pareto"] = pareto_mask(out[["energy_j", "latency_s"]].to_numpy())
    return out


def generalized_designs(data: StudyData, group: tuple[str, str]) -> tuple[pd.DataFrame, str]:
    """The group's single-chip designs for the energy-latency plot and where they come from:
    the design tables of the joint searches (every design they evaluated with `--save-all`,
    else the designs they kept: top designs, fronts, each network's best; the front over
    them is the front over every design), else the best designs and fronts every run kept."""
    names = data.workloads(group)
    c = data.group_cells(group)
    joint = c.id[c.method.isin(JOINT_METHODS)]
    cols = ["key", "area_mm2", "feasible", *[f"energy_j.{w}" for w in names],
            *[f"latency_s.{w}" for w in names]]
    if len(joint) and all(data.has_designs(cid) for cid in joint):
        every = all(data.all_designs(cid) for cid in joint)
        return (worst_case(pd.concat([data.designs(cid, cols) for cid in joint]), names),
                "every design the joint searches evaluated" if every else
                "the designs the joint searches kept: kept_designs.csv.gz")
    recs = [r for cid in c.id[c.method != "separate"] for r in data.best[cid]["best"]]
    rows = [{"key": r["key"], "area_mm2": r["area_mm2"], "feasible": r["feasible"],
             **{f"{m}.{w}": r["workloads"][w][m] for w in names
                for m in ("energy_j", "latency_s")}} for r in recs]
    for cid in c.id:
        if cid in data.pareto:
            rows += data.pareto[cid][[x for x in cols if x in data.pareto[cid]]].to_dict(
                "records")
    if not rows:
        return worst_case(pd.DataFrame(columns=cols), names), "no design"
    return (worst_case(pd.DataFrame(rows), names),
            "the best designs and fronts every run kept (no run kept every design)")
