"""`ReplayBackend`: answers from recorded simulator results in the reference CSV format
(`technology, workload, design_key, energy_j, latency_s, area_mm2 | area_cm2`, optional
`weight_cells_required_orig_rule`, `weights_fit_on_chip_orig_rule`), e.g. the published
study's CiMLoop results (docs/original_study.md §5).

A search on this backend runs on the recorded numbers and is restricted to recorded designs:
every other design is infeasible with reason "not recorded" (inf metrics), never good.
Designs match by the parameters a recorded key names: the nine searched ones and the node,
and any `|name=value` after them (as `DesignSpace.keys` writes them); a parameter a key leaves
out is whatever the recorded simulator used, and matches any value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..hardware import KEY_FIELDS, PARAMETERS, Designs, Technology
from ..hardware.space import _fmt, parse_key
from ..workloads.layer import Workload
from .base import WorkloadMetrics, digest

NOT_RECORDED = "not recorded"
_TABLES: dict[tuple[str, float], dict[tuple[str, str], pd.DataFrame]] = {}  # per process


class ReplayError(ValueError):
    """The recorded table cannot be used; the message names the file and the problem."""


def _load(path: str) -> dict[tuple[str, str], pd.DataFrame]:
    """{(technology, workload): frame indexed by canonical design key}, cached per process."""
    p = Path(path)
    if not p.is_file():
        raise ReplayError(f"backend.table: file {path!r} does not exist")
    stamp = (str(p.resolve()), os.path.getmtime(p))
    if stamp not in _TABLES:
        from ..validation import ValidationError, read_reference

        try:
            df = read_reference(p)
        except ValidationError as exc:
            raise ReplayError(f"backend.table: {exc}") from None
        keys = pd.unique(df["design_key"])
        canon = {}
        for key in keys:
            values = parse_key(str(key))
            values.setdefault("technology_node_nm", 32)
            canon[key] = _canonical(values, sorted(set(values) - set(NAMED)))
        df["key"] = df["design_key"].map(canon)
        if "technology_node_nm" in df.columns:  # the node is in the canonical key already
            df = df.drop(columns="technology_node_nm")
        df["extra_parameters"] = df["key"].map(
            lambda k: ",".join(p.split("=")[0] for p in k.split("|")[1:]))
        _TABLES[stamp] = {(str(t), str(w)): g.drop_duplicates("key").set_index("key")
                          for (t, w), g in df.groupby(["technology", "workload"])}
    return _TABLES[stamp]


NAMED = (*KEY_FIELDS, "technology_node_nm")


def _canonical(values: dict, extra: list[str]) -> str:
    fields = [_fmt(values[n], PARAMETERS[n].integer) for n in NAMED]
    tail = "".join(f"|{n}={_fmt(values[n], PARAMETERS[n].integer)}" for n in extra)
    return "A_" + "_".join(fields) + tail


def _design_keys(designs: Designs, extra: list[str]) -> list[str]:
    """Canonical keys of designs over the named fields and the parameters `extra`."""
    names = [*NAMED, *extra]
    rows = zip(*(designs[n].tolist() for n in names), strict=True)
    return [_canonical(dict(zip(names, r, strict=True)), extra) for r in rows]


@dataclass(frozen=True)
class ReplayBackend:
    table: str
    name: str = "replay"

    def __post_init__(self) -> None:
        if not Path(self.table).is_file():
            raise ReplayError(f"backend.table: file {self.table!r} does not exist")

    def version(self, technology: Technology) -> str:
        p = Path(self.table)
        return f"table-{digest([p.name, p.stat().st_size, p.stat().st_mtime_ns])}"

    def evaluate(self, designs: Designs, workload: Workload,
                 technology: Technology) -> WorkloadMetrics:
        tables = _load(self.table)
        frame = None
        for name in (workload.name, workload.name.removesuffix("_cimloop")):
            frame = tables.get((technology.name.lower(), name))
            if frame is not None:
                break
        n = len(designs)
        if frame is None or n == 0:
            return WorkloadMetrics.failed(workload.name, [NOT_RECORDED] * n)
        pos = np.full(n, -1)
        for extra, sub in frame.groupby("extra_parameters", sort=False):
            names = [e for e in str(extra).split(",") if e]
            found = sub.index.get_indexer(_design_keys(designs, names))
            pos = np.where(found >= 0, frame.index.get_indexer(sub.index[found]), pos)
        hit = pos >= 0
        out = WorkloadMetrics.failed(workload.name, [NOT_RECORDED] * n)
        rows = frame.iloc[pos[hit]]
        out.energy_j[hit] = rows["energy_j"].to_numpy(float)
        out.latency_s[hit] = rows["latency_s"].to_numpy(float)
        out.area_mm2[hit] = rows["area_mm2"].to_numpy(float)
        cells = designs["rows_per_array"][hit] * designs["cols_per_array"][hit]
        required = (rows["weight_cells_required_orig_rule"].to_numpy(float) / cells
                    if "weight_cells_required_orig_rule" in rows else np.zeros(hit.sum()))
        out.weight_arrays_required[hit] = required
        fits = (rows["weights_fit_on_chip_orig_rule"].astype(str).str.lower() == "true"
                ).to_numpy() if "weights_fit_on_chip_orig_rule" in rows else np.ones(hit.sum())
        ok = fits.astype(bool) | (technology.weight_residency != "resident")
        out.feasible[hit] = ok
        out.reason[hit] = np.where(ok, "", "weights do not fit on chip (recorded rule)")
        return out
