"""A search's output folder, in proportion to what a reader needs.

Always written (`write_results`):

- `kept_designs.csv.gz` (gzip-compressed CSV; `pandas.read_csv` reads it as it is): the
  designs a report needs, one row each with its parameters, feasibility, reason, per-workload
  metrics and loss factors (`loss_x.<workload>`, `worst_network_loss_x`, `worst_network`:
  the columns of `design_table`): the run's top-k
  by its objective (column `top_rank`, 1 = best; 0 = not in the top k), the designs
  non-dominated in (worst-case energy J, worst-case latency s, area mm^2) among the feasible
  ones (`pareto.worst_case`), the designs non-dominated in (energy, latency, area) on each
  workload among those feasible there (`pareto.<workload>`), and each workload's own best design
  (lowest EDAP feasible there: `best_for.<workload>`, what "loss vs its own optimum" refers to).
  A front over these rows is the front over every evaluated design.
- `convergence.csv` (per generation), `best.json` (best designs with each workload's loss
  factor against its own optimum, and that reference with its source under `optima`),
  `pareto.csv` (NSGA-II), `run.json` (resolved config, seed, imcopt version, wall time,
  evaluation and failure counts, the executor used), with `verify:` `verify.csv` (the verified
  designs, both fidelities side by side; best.json then ranks by the verifier:
  search/verify.py), and `checksums.json` (SHA-256 of each, written last).

With `save_all`: also `designs.parquet`, every evaluated design (same columns; Parquet, zstd).
Every file is written atomically (`imcopt.storage`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..executors import describe
from ..losses import LOSS_PREFIX, WORST, loss_columns
from ..objectives import Evaluation, Evaluator, Objective
from ..storage import durable_batch, write_csv, write_json, write_manifest, write_parquet
from .records import record_table
from .verify import verification_table, verified_best

if TYPE_CHECKING:
    from .runner import SearchResult

KEPT = "kept_designs.csv.gz"
ALL = "designs.parquet"


def design_table(ev: Evaluator, obj: Objective, optima: np.ndarray | None = None,
                 rows: np.ndarray | None = None) -> pd.DataFrame:
    """Evaluated designs (all, or the given rows of `ev.evaluated()`), one row each."""
    return pd.DataFrame(design_columns(ev, obj, optima, rows))


def design_columns(ev: Evaluator, obj: Objective, optima: np.ndarray | None = None,
                   rows: np.ndarray | None = None) -> dict[str, object]:
    """The columns of `design_table` (built as a dict: a frame grows slowly column by
    column)."""
    e = ev.evaluated() if rows is None else ev.evaluated().take(rows)
    d = ev.space.decode(e.genomes) if len(e) else None
    cols: dict[str, object] = {"key": ev.space.keys(e.genomes) if len(e) else []}
    for n in ev.space.names:
        cols[n] = d[n] if d is not None else []
    cols.update({"area_mm2": e.area_mm2, "cost_usd": e.cost_usd, "feasible": e.feasible,
                 "fitness": obj.fitness(e), "reason": e.reason, "failed": e.failed})
    for w, name in enumerate(ev.workload_names):
        cols[f"energy_j.{name}"] = e.energy_j[:, w]
        cols[f"latency_s.{name}"] = e.latency_s[:, w]
        cols[f"edap.{name}"] = e.edap[:, w]
        cols[f"weights_fit.{name}"] = e.capacity_ok[:, w]
    if optima is not None:
        cols.update(design_losses(e, optima, ev.workload_names))
    if hasattr(ev, "report_columns"):
        cols.update(ev.report_columns(e.genomes))
    return cols


def front_mask(points: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(N,) bool: rows with `ok` that no other `ok` row dominates (minimisation)."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    out = np.zeros(len(points), bool)
    idx = np.flatnonzero(ok)
    if len(idx):
        out[idx[NonDominatedSorting().do(points[idx], only_non_dominated_front=True)]] = True
    return out


def kept_flags(e: Evaluation, obj: Objective, names: list[str], top_k: int
               ) -> dict[str, np.ndarray]:
    """Why each evaluated design is kept (see the module docstring); a row is kept when any
    flag is set."""
    n = len(e)
    top = np.zeros(n, np.int64)
    top[obj.rank(e)[:top_k]] = np.arange(1, min(top_k, n) + 1)
    flags: dict[str, np.ndarray] = {"top_rank": top}
    worst = np.column_stack([e.energy_j.max(axis=1), e.latency_s.max(axis=1), e.area_mm2])
    flags["pareto.worst_case"] = front_mask(worst, e.feasible)
    for w, name in enumerate(names):
        ok = e.capacity_ok[:, w] & e.area_ok
        points = np.column_stack([e.energy_j[:, w], e.latency_s[:, w], e.area_mm2])
        flags[f"pareto.{name}"] = front_mask(points, ok)
        best = np.zeros(n, bool)
        edap = np.where(ok, e.edap[:, w], np.inf)
        if n and np.isfinite(edap.min()):
            best[int(np.argmin(edap))] = True
        flags[f"best_for.{name}"] = best
    return flags


def kept_table(ev: Evaluator, obj: Objective, optima: np.ndarray | None, top_k: int,
               also: np.ndarray | None = None) -> pd.DataFrame:
    """`kept_designs.csv.gz`: the kept rows of `design_table` (plus the designs `also` names,
    e.g. the strategy's best), in evaluation order, with their flags."""
    e = ev.evaluated()
    flags = kept_flags(e, obj, ev.workload_names, top_k)
    keep = np.zeros(len(e), bool)
    for v in flags.values():
        keep |= v.astype(bool)
    if also is not None and len(also):
        keep |= _rows_of(e.genomes, also)
    rows = np.flatnonzero(keep)
    cols = design_columns(ev, obj, optima, rows)
    cols.update({name: v[rows] for name, v in flags.items()})
    return pd.DataFrame(cols)


def _rows_of(genomes: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """(N,) bool: which rows of `genomes` are among `wanted`."""
    view = np.dtype((np.void, genomes.dtype.itemsize * genomes.shape[1]))
    a = np.ascontiguousarray(genomes).view(view).ravel()
    b = np.ascontiguousarray(np.asarray(wanted, dtype=genomes.dtype)).view(view).ravel()
    return np.isin(a, b)


def workload_bests(ev: Evaluator) -> tuple[np.ndarray, tuple[str | None, ...]]:
    """Each workload's lowest EDAP (J s mm^2) among the evaluated designs feasible for it
    (area limit, its weights fit; +inf if none), and those designs' keys."""
    e = ev.evaluated()
    if not len(e):
        return np.full(len(ev.workloads), np.inf), (None,) * len(ev.workloads)
    own = np.where(e.capacity_ok & e.area_ok[:, None], e.edap, np.inf)
    j = own.argmin(axis=0)
    best = own[j, np.arange(own.shape[1])]
    keys = ev.space.keys(e.genomes[j])
    return best, tuple(k if np.isfinite(b) else None for k, b in zip(keys, best, strict=True))


def best_records(ev: Evaluator, obj: Objective, genomes: np.ndarray,
                 optima: np.ndarray | None) -> list[dict]:
    """The designs with parameters, fitness and per-workload metrics and loss factors
    (EDAP / the workload's own optimum, `imcopt.losses`; the best EDAP the run met on each
    workload when `optima` is None)."""
    if optima is None:
        optima = workload_bests(ev)[0]
    calls = ev.n_calls
    e = ev.evaluate(genomes)
    ev.n_calls = calls  # a look-up, not a search evaluation
    fit = obj.fitness(e)
    extra = ev.report_columns(e.genomes) if hasattr(ev, "report_columns") else {}
    loss = design_losses(e, optima, ev.workload_names)
    keys = ev.space.keys(e.genomes) if len(e) else []
    out = []
    for i in range(len(e)):
        per = {}
        for w, name in enumerate(ev.workload_names):
            per[name] = {
                "energy_j": float(e.energy_j[i, w]), "latency_s": float(e.latency_s[i, w]),
                "edap_j_s_mm2": float(e.edap[i, w]), "weights_fit": bool(e.capacity_ok[i, w]),
                "loss_x": _plain(loss[f"{LOSS_PREFIX}{name}"][i]),
                **{k.split(".")[0]: _plain(v[i]) for k, v in extra.items()
                   if k.split(".", 1)[1] == name},
            }
        out.append({
            "rank": i + 1, "key": keys[i],
            "parameters": ev.space.decode(e.genomes[i:i + 1]).row(0),
            "genome": e.genomes[i].tolist(), "feasible": bool(e.feasible[i]),
            "reason": str(e.reason[i]), "area_mm2": float(e.area_mm2[i]),
            "cost_usd": float(e.cost_usd[i]),
            "fitness": float(fit[i]) if np.isfinite(fit[i]) else None,
            "aggregation": obj.aggregation, WORST: _plain(loss[WORST][i]),
            "worst_network": str(loss["worst_network"][i]) or None, "workloads": per,
        })
    return out


def design_losses(e: Evaluation, optima: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """The loss columns (`losses.loss_columns`) of evaluated designs: +inf on a workload the
    design cannot run (over the area limit, or its weights do not fit)."""
    return loss_columns(e.edap, optima, names, e.capacity_ok & e.area_ok[:, None])


def _plain(value: object) -> float | int:
    return int(value) if isinstance(value, (np.integer, int)) else float(value)


def write_results(result: SearchResult, out: str | Path, overwrite: bool = False, *,
                  save_all: bool = False) -> dict[str, Path]:
    """Write the output folder (module docstring); returns {what: path}. The files are made
    durable together at the end (`storage.durable_batch`). A folder holding a study, or
    another search's results, is refused (`outdir.FolderError`) unless `overwrite`; imcopt's
    files of an earlier run there that this one does not write (pareto.csv, designs.parquet,
    verify.csv, report/) are removed, so the folder never mixes two runs."""
    from ..outdir import check_folder, refuse_other_run
    from .config import search_identity

    out = check_folder(Path(out))
    identity = search_identity(result.config)
    if not overwrite:
        refuse_other_run(out, identity)
    with durable_batch():
        return _write(result, out, save_all, identity)


def _write(result: SearchResult, out: Path, save_all: bool, identity: dict
           ) -> dict[str, Path]:
    from .. import __version__
    from ..outdir import remove_stale

    paths = {k: out / f for k, f in (("kept", KEPT), ("convergence", "convergence.csv"),
                                     ("best", "best.json"), ("run", "run.json"))}
    s = result.strategy
    ev, obj = result.evaluator, result.objective
    reference = result.reference  # each workload's own optimum: the loss factors' reference
    also = [s.best, *[g[None, :] for g in s.per_workload_best.values()]]
    write_csv(paths["kept"], kept_table(ev, obj, reference.values, result.config.top_k,
                                        np.concatenate(also)))
    if save_all:
        paths["designs"] = write_parquet(out / ALL, result.designs())
    write_csv(paths["convergence"], pd.DataFrame(result.trace.rows))
    best = result.best()
    doc: dict = {"best": [b for b in best if b["feasible"]],
                 "infeasible_only": not any(b["feasible"] for b in best)}
    if doc["infeasible_only"]:
        doc["closest_infeasible"] = best[:1]
    if s.per_workload_best:
        doc["per_workload_best"] = {
            w: best_records(ev, obj, g[None, :], reference.values)[0]
            for w, g in s.per_workload_best.items()}
    doc["optima"] = reference.to_json()  # the loss factors' reference, and its source
    if result.verification is not None:
        doc = verified_best(doc, result.verification, ev)
        paths["verify"] = out / "verify.csv"
        write_csv(paths["verify"], verification_table(result.verification, ev))
    write_json(paths["best"], doc)
    if s.pareto is not None:
        paths["pareto"] = out / "pareto.csv"
        front = best_records(ev, obj, s.pareto, reference.values)
        write_csv(paths["pareto"], record_table(front, ev.workload_names))
    run = {"imcopt_version": __version__, "seed": result.config.seed,
           "wall_time_s": result.wall_time_s, "n_calls": ev.n_calls, "n_evals": ev.n_evals,
           "n_failed": int(ev.evaluated().failed.sum()), "strategy_notes": s.notes,
           "executor": result.executor or describe(ev.executor),
           "all_designs_saved": save_all,
           "config": result.config.model_dump(mode="json"),
           "inputs": identity["inputs"]}
    if result.verification is not None:
        run["verify"] = result.verification.summary()
    write_json(paths["run"], run, default=str)
    remove_stale(out, [p.name for p in paths.values()])  # e.g. an earlier --save-all's table
    paths["checksums"] = write_manifest(out, list(paths.values()))
    return paths
