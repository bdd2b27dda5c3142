"""Loading a study folder's stored results (study.json, runs/<cell>/...) into tables.

The report reads what every run writes by default: study.json (cells, each group's loss
reference), and per cell best.json (its best designs with per-network metrics, each network's
own best, the loss reference), convergence.csv and run.json, verified against the cell's
checksums.json; pareto.csv where a cell wrote one. A cell's design table is an extra the
fronts use when it is there (`read_designs`): kept_designs.csv.gz (the designs a report needs:
top designs, fronts, each network's best), designs.parquet (every evaluated design, with
`--save-all`), or designs.csv in folders of older imcopt versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..losses import Optima, loss_columns
from ..storage import StorageError, read_csv, read_json, read_parquet, verify_manifest

#: the joint searches: one chip for every network, found by a search over the whole space
JOINT_METHODS = ("ga", "ga_sampling", "four_phase")
METHOD_LABELS = {"separate": "separate (one chip per network)", "largest": "largest network",
                 "sequential": "sequential (level by level)", "ga": "plain GA",
                 "ga_sampling": "GA + sampling", "four_phase": "four-phase GA",
                 "exhaustive": "exhaustive optimum", "nsga2": "NSGA-II front"}
#: the files a finished cell always has (the design table and pareto.csv are optional here;
#: every file checksums.json lists is verified)
RUN_REQUIRED = ("best.json", "convergence.csv", "run.json")
CELL_KEYS = ("id", "technology", "workload_set", "method", "aggregation", "seed")


class ReportError(ValueError):
    """The folder is not a study, or has no finished cells; one line."""


@dataclass
class StudyData:
    root: Path
    config: dict
    cells: pd.DataFrame  # one row per finished cell
    best: dict[str, dict] = field(default_factory=dict)  # cell id -> best.json
    convergence: dict[str, pd.DataFrame] = field(default_factory=dict)
    pareto: dict[str, pd.DataFrame] = field(default_factory=dict)  # cells with pareto.csv
    # (technology, workload set) -> each network's own optimum: the loss reference
    optima: dict[tuple[str, str], Optima] = field(default_factory=dict)
    # (technology, workload set) -> {network: why no design can run it}
    infeasible: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    # (technology, workload set) -> the networks' names as the results store them (a layer
    # table given by its path is named by the network it holds)
    names: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def area_limit_mm2(self) -> float:
        return float(self.config["area_limit_mm2"])

    def groups(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys(zip(self.cells.technology, self.cells.workload_set,
                                      strict=True)))

    def group_cells(self, group: tuple[str, str]) -> pd.DataFrame:
        c = self.cells
        return c[(c.technology == group[0]) & (c.workload_set == group[1])]

    def workloads(self, group: tuple[str, str]) -> list[str]:
        if group in self.names:
            return list(self.names[group])
        return list(self.config["workload_sets"][group[1]])

    @property
    def references(self) -> dict[tuple[str, str], dict[str, float]]:
        """(technology, workload set) -> {network: own optimum EDAP, J s mm^2}."""
        return {g: dict(zip(o.workloads, o.edap_j_s_mm2, strict=True))
                for g, o in self.optima.items()}

    def has_designs(self, cell_id: str) -> bool:
        """Whether the cell's folder has a design table (`read_designs`)."""
        return has_design_table(self.root / "runs" / cell_id)

    def all_designs(self, cell_id: str) -> bool:
        """Whether the cell's design table holds every design it evaluated."""
        return all_designs_saved(self.root / "runs" / cell_id)

    def designs(self, cell_id: str, columns: list[str] | None = None) -> pd.DataFrame:
        return read_designs(self.root / "runs" / cell_id, columns)

    def losses(self, group: tuple[str, str], records: list[dict]) -> dict[str, np.ndarray]:
        """The loss columns (`losses.loss_columns`) of best-design records against the
        group's reference: +inf where a design cannot run the network."""
        names = self.workloads(group)
        edap = np.array([[r["workloads"][w]["edap_j_s_mm2"] for w in names] for r in records],
                        dtype=float).reshape(len(records), len(names))
        runs = np.array([[bool(r["workloads"][w]["weights_fit"]) and runs_on_chip(
            r, self.area_limit_mm2) for w in names] for r in records], dtype=bool
                        ).reshape(len(records), len(names))
        return loss_columns(edap, self.optima[group].values, names, runs)


def read_designs(run: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A run folder's designs: every evaluated one when the run saved them all
    (designs.parquet, `--save-all`), else those it kept (kept_designs.csv.gz: top-k, fronts, each
    workload's best; every front and per-workload best is the same as over all designs).
    Folders of older imcopt versions have designs.csv (every design)."""
    if (run / "designs.parquet").exists():
        return read_parquet(run / "designs.parquet", columns)
    return read_csv(run / _designs_csv(run), usecols=columns)


def _designs_csv(run: Path) -> str:
    """The design table of a run folder read as CSV: kept_designs.csv.gz, or designs.csv in
    a folder of an older imcopt version."""
    return "kept_designs.csv.gz" if (run / "kept_designs.csv.gz").exists() else "designs.csv"


def has_design_table(run: Path) -> bool:
    """Whether a run folder has any design table `read_designs` reads."""
    return any((run / n).is_file() for n in ("designs.parquet", "kept_designs.csv.gz",
                                             "designs.csv"))


def all_designs_saved(run: Path) -> bool:
    """Whether `read_designs(run)` holds every design the run evaluated."""
    return (run / "designs.parquet").exists() or not (run / "kept_designs.csv.gz").exists()


def runs_on_chip(record: dict, limit_mm2: float) -> bool:
    """The record's chip is within the area limit (and can be made: a finite die cost);
    a record of several chips says so itself (`area_ok`)."""
    if "area_ok" in record:
        return bool(record["area_ok"])
    cost = record.get("cost_usd")
    return record["area_mm2"] <= limit_mm2 and (cost is None or np.isfinite(cost))


def fitness(v: float | None) -> float:
    """A stored best fitness; None or NaN (no feasible design) is +inf."""
    return np.inf if v is None or not np.isfinite(float(v)) else float(v)


def load(root: str | Path) -> StudyData:
    root = Path(root)
    state = root / "study.json"
    if not state.exists():
        raise ReportError(f"{root}: no study.json or run.json here (run `imcopt study run` or "
                          "`imcopt search` first)")
    doc = read_json(state)
    if not isinstance(doc, dict) or "cells" not in doc or "config" not in doc:
        raise ReportError(f"{state}: not a study state (corrupt, or not written by imcopt)")
    try:
        done = doc.get("completed", {})
        rows = [{**{k: v for k, v in c.items() if k != "done"}, **done[c["id"]]}
                for c in doc["cells"] if c["id"] in done]
        float(doc["config"]["area_limit_mm2"])
        if any(k not in c for c in rows for k in CELL_KEYS):
            raise KeyError("cell")
    except (KeyError, TypeError, AttributeError, ValueError):
        raise ReportError(f"{state}: not a study state (its cells or config are malformed; "
                          "corrupt, or not written by imcopt)") from None
    if not rows:
        raise ReportError(f"{root}: no finished cells yet")
    cells = pd.DataFrame(rows)
    data = StudyData(root, doc["config"], cells)
    for cid in cells.id:
        run = root / "runs" / cid
        try:  # a file cut short or changed since the run: named, not used
            verify_manifest(run, RUN_REQUIRED)
            data.best[cid] = read_json(run / "best.json")
            data.convergence[cid] = read_csv(run / "convergence.csv")
            if (run / "pareto.csv").is_file():
                data.pareto[cid] = read_csv(run / "pareto.csv")
        except StorageError as exc:
            raise ReportError(f"{exc.args[0].split('; re-run')[0]}; `imcopt study resume` on "
                              "this study runs that cell again") from None
    stored = doc.get("references", {})
    for g in data.groups():
        ids = data.group_cells(g).id
        data.names[g] = stored_workloads(data.best[ids.iloc[0]], data.workloads(g))
        data.optima[g] = _reference(data, g, stored.get(f"{g[0]}-{g[1]}"))
        data.infeasible[g] = dict((stored.get(f"{g[0]}-{g[1]}") or {}).get("infeasible", {}))
    return data


def _reference(data: StudyData, group: tuple[str, str], stored: dict | None) -> Optima:
    """The group's loss reference: the one the study computed before its cells, lowered to
    the best EDAP any of its runs met on each network (an exact one stays)."""
    names = data.workloads(group)
    ref = (Optima.from_json(stored) if stored else
           Optima(tuple(names), (np.inf,) * len(names), "best-known"))
    for cid in data.group_cells(group).id:
        b = data.best[cid]
        if "optima" in b:
            o = Optima.from_json(b["optima"])
            ref = ref.lowered(o.values, o.keys)
        elif data.has_designs(cid):  # folders written before best.json held the optima
            ref = ref.lowered(*_designs_bests(data, cid, names))
    return ref


def _designs_bests(data: StudyData, cell_id: str, names: list[str]
                   ) -> tuple[np.ndarray, list[str | None]]:
    limit = data.area_limit_mm2
    d = data.designs(cell_id, ["key", "area_mm2", "cost_usd", *[f"edap.{w}" for w in names],
                               *[f"weights_fit.{w}" for w in names]])
    area_ok = (d.area_mm2 <= limit) & np.isfinite(d.cost_usd.astype(float))
    best, keys = [], []
    for w in names:
        ok = area_ok & d[f"weights_fit.{w}"].astype(bool)
        if ok.any():
            i = d.loc[ok, f"edap.{w}"].astype(float).idxmin()
            best.append(float(d.loc[i, f"edap.{w}"]))
            keys.append(str(d.loc[i, "key"]))
        else:
            best.append(np.inf)
            keys.append(None)
    return np.array(best), keys


def stored_workloads(best: dict, default: list[str]) -> list[str]:
    """The networks of a run, in order, as its best.json names them."""
    for section in ("best", "closest_infeasible"):
        recs = best.get(section) or []
        if recs:
            return list(recs[0]["workloads"])
    if "optima" in best:
        return list(best["optima"]["workloads"])
    return default
