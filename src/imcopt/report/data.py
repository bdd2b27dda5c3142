"""Loading a study folder's stored results (study.json, runs/<cell>/...) into tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..outdir import SEARCH_REQUIRED
from ..storage import StorageError, read_csv, read_json, read_parquet, verify_manifest

JOINT_METHODS = ("ga", "ga_sampling", "four_phase")
METHOD_LABELS = {"separate": "separate", "largest": "largest network", "ga": "plain GA",
                 "ga_sampling": "GA + sampling", "four_phase": "four-phase GA",
                 "exhaustive": "exhaustive optimum"}


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
    # (technology, workload set) -> {workload: lowest EDAP seen feasible on that workload}
    references: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    # (technology, workload set) -> the networks' names as the results store them (a layer
    # table given by its path is named by the network it holds)
    names: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def groups(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys(zip(self.cells.technology, self.cells.workload_set,
                                      strict=True)))

    def workloads(self, group: tuple[str, str]) -> list[str]:
        if group in self.names:
            return list(self.names[group])
        return list(self.config["workload_sets"][group[1]])

    def designs(self, cell_id: str, columns: list[str] | None = None) -> pd.DataFrame:
        return read_designs(self.root / "runs" / cell_id, columns)


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


def required_outputs(run: Path) -> tuple[str, ...]:
    """The files a run folder's checksums.json must list (`outdir.SEARCH_REQUIRED`; in a
    folder of an older imcopt version, its designs.csv in place of kept_designs.csv.gz)."""
    return tuple(_designs_csv(run) if n == "kept_designs.csv.gz" else n
                 for n in SEARCH_REQUIRED)


def all_designs_saved(run: Path) -> bool:
    """Whether `read_designs(run)` holds every design the run evaluated."""
    return (run / "designs.parquet").exists() or not (run / "kept_designs.csv.gz").exists()


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
            verify_manifest(run, required_outputs(run))
            data.best[cid] = read_json(run / "best.json")
            data.convergence[cid] = read_csv(run / "convergence.csv")
        except StorageError as exc:
            raise ReportError(f"{exc.args[0].split('; re-run')[0]}; `imcopt study resume` on "
                              "this study runs that cell again") from None
    limit = float(doc["config"]["area_limit_mm2"])
    for g in data.groups():
        ids = cells.id[(cells.technology == g[0]) & (cells.workload_set == g[1])]
        data.names[g] = stored_workloads(root / "runs" / ids.iloc[0])
        names = data.workloads(g)
        ref = dict.fromkeys(names, np.inf)
        cols = ["area_mm2", "cost_usd", *[f"edap.{w}" for w in names],
                *[f"weights_fit.{w}" for w in names]]
        for cid in ids:
            d = data.designs(cid, cols)
            for w in names:
                ok = ((d.area_mm2 <= limit) & np.isfinite(d.cost_usd.astype(float))
                      & d[f"weights_fit.{w}"].astype(bool))
                if ok.any():
                    ref[w] = min(ref[w], float(d.loc[ok, f"edap.{w}"].min()))
        data.references[g] = ref
    return data


def stored_workloads(run: Path) -> list[str]:
    """The networks of a run folder, in order, from its design table's header
    (`energy_j.<name>`; designs.parquet has the same columns)."""
    header = read_csv(run / _designs_csv(run), nrows=0).columns
    return [c.split(".", 1)[1] for c in header if c.startswith("energy_j.")]


def fitness(v: float | None) -> float:
    """A stored best fitness; None or NaN (no feasible design) is +inf."""
    return np.inf if v is None or not np.isfinite(float(v)) else float(v)
