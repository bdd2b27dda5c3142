"""`Study`: run every cell of a study config, store each cell's outputs, resume.

Folder layout (DIR):
  study.yaml          the study config as given (resolved, all defaults filled in)
  study.json          cells and which are finished, and each group's loss reference (every
                      network's own optimum, `references.py`); rewritten atomically after
                      every cell
  runs/<cell-id>/     `imcopt search` outputs of one cell (designs.csv, convergence.csv,
                      best.json, run.json)
  evaluations.sqlite  the persistent evaluation cache (unless `cache: false`)
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import yaml

from ..backends import make_backend
from ..cache import FILE as CACHE_FILE
from ..executors import Executor, ExecutorConfig, make_executor
from ..hardware import get_space
from ..losses import Optima
from ..model.xp import check_device
from ..objectives import Evaluator, Objective
from ..outdir import SEARCH_REQUIRED, clear, locked
from ..search import SearchConfig, SearchResult, StrategyResult, Trace, write_results
from ..search.runner import algorithm_spec
from ..search.strategies import STRATEGY_FUNCTIONS
from ..storage import StorageError, read_json, verify_manifest, write_json
from ..storage import write_text as _atomic_write
from ..workloads import get
from . import references
from .config import Cell, StudyConfig, StudyError, expand, load_study, search_config
from .shared import ScanResult, SharedEvaluator, scan

STATE = "study.json"
Event = Callable[[dict], None]


class Study:
    """A study in folder `out`. `Study(config, out).run()`; `Study.open(out).run()` resumes."""

    def __init__(self, config: StudyConfig | dict | str | Path, out: str | Path,
                 executor: Executor | ExecutorConfig | dict | None = None,
                 device: str = "numpy", force: bool = False) -> None:
        self.config = config if isinstance(config, StudyConfig) else load_study(config)
        self.out = Path(out)
        self.executor = executor  # None: the config's
        self.device = check_device(device)  # where the model runs (not part of the identity)
        self.force = force  # replace what the folder holds (another study, a search)
        self._executor: Executor | None = None  # the one in use while `run` runs
        self.cells = expand(self.config)
        self.completed: dict[str, dict] = {}
        self.damaged: dict[str, str] = {}  # finished cells whose files fail their checks
        # group id -> its loss reference (`Optima.to_json()` + "infeasible": {network: why})
        self.references: dict[str, dict] = {}
        self._stores: dict[tuple[str, str], Evaluator] = {}
        self._scans: dict[tuple[str, str], ScanResult] = {}
        self._seed_searches: dict[tuple, references.SeedSearch] = {}
        state = self.out / STATE
        if not force and not state.exists() and (self.out / "run.json").exists():
            raise StudyError(f"--out {self.out}: holds a search (run.json); a study needs a "
                             "folder of its own: use another folder, or --force to replace it")
        if state.exists() and not force:
            doc = _read_state(state)
            if _stored_identity(doc) != _identity(self.config):
                raise StudyError(f"--out {self.out}: holds a different study; use another "
                                 "folder, `imcopt study resume` to continue that one, or "
                                 "--force to replace it")
            self.completed = dict(doc.get("completed", {}))
            self.references = dict(doc.get("references", {}))
            self._check_cells()

    def _check_cells(self) -> None:
        """Drop the finished cells whose files are missing or fail their checksums (a warning
        each): `run` runs them again."""
        for cid in list(self.completed):
            try:
                verify_manifest(self.out / "runs" / cid, SEARCH_REQUIRED)
            except StorageError as exc:
                self.damaged[cid] = str(exc)
                del self.completed[cid]
                warnings.warn(f"cell {cid}: {exc.args[0].split('; re-run')[0]}; it runs again",
                              UserWarning, stacklevel=3)

    @classmethod
    def open(cls, out: str | Path, executor: Executor | ExecutorConfig | dict | None = None,
             device: str = "numpy") -> Study:
        """The study stored in `out` (to resume it), optionally on another executor or
        device."""
        state = Path(out) / STATE
        if not state.exists():
            raise StudyError(f"{out}: no {STATE} here (not a study folder)")
        cfg = _read_state(state)["config"]
        return cls(load_study(cfg), out, executor, device)

    # ---- state --------------------------------------------------------------------------
    @property
    def pending(self) -> list[Cell]:
        return [c for c in self.cells if c.id not in self.completed]

    def _save(self) -> None:
        from .. import __version__

        self.out.mkdir(parents=True, exist_ok=True)
        doc = {"name": self.config.name, "imcopt_version": __version__,
               "config": self.config.model_dump(mode="json"),
               "cells": [{**c.record(), "done": c.id in self.completed} for c in self.cells],
               "completed": self.completed, "references": self.references}
        write_json(self.out / STATE, doc, indent=1)  # strict JSON: no NaN or Infinity

    # ---- running ------------------------------------------------------------------------
    def run(self, on_event: Event | None = None, max_cells: int | None = None) -> Study:
        """Run the pending cells (at most `max_cells`); state is saved after every cell.

        on_event gets dicts: {"event": "start"|"progress"|"done", "cell": id, "done": n,
        "total": n, ...}; "progress" carries the search's convergence row.
        """
        emit = on_event or (lambda _e: None)
        with ExitStack() as stack:
            stack.enter_context(locked(self.out))  # one run per folder at a time
            if self.force:
                clear(self.out)  # another study or a search: replaced, as asked
                self.completed, self.references, self.force = {}, {}, False
            cfg_file = self.out / "study.yaml"
            if not cfg_file.exists():
                _atomic_write(cfg_file, yaml.safe_dump(self.config.model_dump(mode="json"),
                                                       sort_keys=False))
            self._save()
            self._executor = self.executor
            if self.executor is None or isinstance(self.executor, ExecutorConfig | dict):
                self._executor = stack.enter_context(make_executor(  # made here, closed here
                    self.executor or self.config.executor))
            for store in self._stores.values():
                store.executor = self._executor
            self._run(emit, max_cells)
        return self

    def _run(self, emit: Event, max_cells: int | None) -> None:
        total = len(self.cells)
        for n, cell in enumerate(self.pending):
            if max_cells is not None and n >= max_cells:
                break
            base = {"cell": cell.id, "total": total}
            emit({"event": "start", "done": len(self.completed), **base})

            def progress(row: dict, _b: dict = base) -> None:
                emit({"event": "progress", "done": len(self.completed), "row": row, **_b})

            summary = self.run_cell(cell, progress)
            self.completed[cell.id] = summary
            self._save()
            emit({"event": "done", "done": len(self.completed), "summary": summary, **base})

    def _store(self, cell: Cell) -> Evaluator:
        if cell.group not in self._stores:
            self._stores = {}  # groups run one after another: keep one store in memory
            self._scans = {k: v for k, v in self._scans.items() if k == cell.group}
            self._seed_searches = {}
            sc = search_config(self.config, cell)
            self._stores[cell.group] = _evaluator(sc, Evaluator, **self._scale())
        return self._stores[cell.group]

    def _scale(self) -> dict:
        """The executor, persistent cache and device of this study's model runs."""
        cache = self.out / CACHE_FILE if self.config.cache else None
        return {"executor": self._executor, "cache_file": cache, "device": self.device}

    def run_cell(self, cell: Cell, progress: Callable[[dict], None] | None = None) -> dict:
        """Run one cell and write its outputs to runs/<cell-id>/; returns its summary."""
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:  # kept in study.json, not shown
            warnings.simplefilter("always", UserWarning)
            group_ref = self.reference(cell, progress)
            ref, infeasible = group_ref.optima, group_ref.infeasible
            known = (dict(zip(cell.workloads, ref.edap_j_s_mm2, strict=True)) if ref.known
                     else None)
            sc = search_config(self.config, cell, known)
            ev = _evaluator(sc, SharedEvaluator, device=self.device)
            ev.store = self._store(cell)
            optima = tuple(ref.values) if known is not None else (
                # no chip can run every network: every fitness is +inf whatever the optima
                (1.0,) * len(ref.workloads) if infeasible else None)
            obj = Objective(cell.aggregation, optima=optima)
            trace = Trace(on_record=progress)
            if infeasible:
                res = self._not_searched(group_ref, ev, obj, trace)
            elif cell.method == "exhaustive":
                res = self._exhaustive(cell, sc, ev, trace, ref)
            elif cell.method in references.SEED_SEARCH_METHODS:
                res = references.replay(self._seed_search(cell, cell.method, sc.seed), ev, obj,
                                        trace, sc.top_k)
            else:
                res = STRATEGY_FUNCTIONS[sc.strategy](ev, obj, algorithm_spec(sc), sc.seed, trace,
                                                      top_k=sc.top_k)
        result = SearchResult(sc, ev, obj, res, trace, ref.values, time.perf_counter() - t0,
                              ref.source)
        folder = self.out / "runs" / cell.id
        if folder.exists():  # left over from an interrupted run
            shutil.rmtree(folder)
        write_results(result, folder)
        calls, evals = ev.n_calls, ev.n_evals
        top = result.best()[:1] if len(res.best) else []
        fit = top[0]["fitness"] if top else None
        return {"wall_s": round(time.perf_counter() - t0, 3), "n_calls": calls,
                "n_evals": evals, "n_failed": int(ev.evaluated().failed.sum()),
                "best_fitness": fit,
                "worst_network_loss_x": top[0]["worst_network_loss_x"] if fit is not None
                else None,
                **({"not_searched": "; ".join(infeasible.values())} if infeasible else {}),
                "warnings": sorted({str(w.message) for w in caught})}

    # ---- the loss reference ----------------------------------------------------------------
    def reference(self, cell: Cell, progress: Callable[[dict], None] | None = None
                  ) -> references.GroupReference:
        """The group's loss reference (each network's own optimum, and the networks no design
        can run), computed before its first cell and kept in study.json."""
        gid = f"{cell.technology}-{cell.workload_set}"
        if gid not in self.references:
            sc = search_config(self.config, cell)
            plain = _evaluator(sc, Evaluator, **self._scale())
            chunk = self.config.budget.exhaustive_chunk
            infeasible = references.unrunnable(plain, chunk)
            if infeasible:
                ref = references.not_searched(plain, infeasible)
            elif self.config.optima == "exact":
                ref = references.exact(plain, chunk)
            else:
                mark = None if progress is None else (
                    lambda row: progress({**row, "loss_reference": True}))
                ref = references.from_searches(plain, [
                    self._seed_search(cell, "separate", seed, mark)
                    for seed in self.config.seeds])
            self.references[gid] = references.complete(ref, plain, chunk).to_json()
            self._save()
        return references.GroupReference.from_json(self.references[gid])

    def _seed_search(self, cell: Cell, method: str, seed: int,
                     progress: Callable[[dict], None] | None = None) -> references.SeedSearch:
        """The group's search of `method` (separate or largest) for `seed`, run once."""
        key = (cell.group, method, seed)
        if key not in self._seed_searches:
            sc = search_config(self.config, Cell(cell.technology, cell.workload_set,
                                                 cell.workloads, method, "max", seed))
            ev = _evaluator(sc, SharedEvaluator, device=self.device)
            ev.store = self._store(cell)
            self._seed_searches[key] = references.run_seed_search(
                ev, method, algorithm_spec(sc), seed, sc.top_k, progress)
        return self._seed_searches[key]

    def _not_searched(self, ref: references.GroupReference, ev: SharedEvaluator,
                      obj: Objective, trace: Trace) -> StrategyResult:
        """A cell of a group where some network fits no design: no search (no design can
        serve every network); the other networks' optima are reported, all infeasible."""
        found = [g for g in ref.genomes if g is not None]
        genomes = (np.unique(np.asarray(found, dtype=np.int64), axis=0) if found
                   else ev.space.sample(1, 0))
        order = obj.rank(ev.evaluate(genomes))
        f = float("inf")
        trace.rows.append({"search": "joint", "phase": "not searched", "generation": 0,
                           "n_calls": ev.n_calls, "n_evals": ev.n_evals, "population_best": f,
                           "best_so_far": f})
        return StrategyResult(genomes[order], notes={"not_searched": ref.infeasible})

    def _exhaustive(self, cell: Cell, sc: SearchConfig, ev: SharedEvaluator,
                    trace: Trace, ref: Optima) -> StrategyResult:
        """The optimum by enumeration: one scan per group serves every aggregation."""
        if cell.group not in self._scans:
            plain = _evaluator(sc, Evaluator, **self._scale())
            self._scans[cell.group] = scan(plain, self.config.aggregations,
                                           keep=max(100, sc.top_k),
                                           chunk=self.config.budget.exhaustive_chunk,
                                           optima=ref.values if ref.known else None)
        s = self._scans[cell.group]
        best = s.best[cell.aggregation][:sc.top_k]
        ok = np.isfinite(s.optima)
        ev.evaluate(np.concatenate([best, s.optimum_genomes[ok]]))
        ev.n_calls, ev.n_evals = s.n_designs, s.n_evaluated
        f = float(s.best_fitness[cell.aggregation][0]) if len(best) else float("inf")
        trace.rows.append({"phase": "exhaustive", "generation": 1, "n_calls": s.n_designs,
                           "n_evals": s.n_evaluated, "population_best": f, "best_so_far": f})
        if trace.on_record:
            trace.on_record(trace.rows[-1])
        names = ev.workload_names
        return StrategyResult(
            best, per_workload_best={names[w]: s.optimum_genomes[w] for w in np.flatnonzero(ok)},
            notes={"designs": s.n_designs, "evaluated_after_screen": s.n_evaluated,
                   "per_workload_best": "each workload's lowest EDAP among the designs that "
                   "pass the joint screen (area, and every workload's weights fit)"})


def _read_state(state: Path) -> dict:
    """study.json, or a StudyError naming the file when it is cut short or corrupt."""
    try:
        doc = read_json(state)
    except StorageError as exc:
        raise StudyError(f"{exc} (study state)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict) or not isinstance(
            doc.get("completed", {}), dict):
        raise StudyError(f"{state}: not a study state (no config / completed cells); it is "
                         "corrupt, or not written by imcopt")
    return doc


def _evaluator(sc: SearchConfig, cls: type, **scale: object) -> Evaluator:
    space = get_space(sc.space.name)
    if sc.space.values:
        space = space.restrict(**{k: tuple(v) for k, v in sc.space.values.items()})
    return cls(space, sc.technology_model(), [get(w) for w in sc.workloads],
               sc.objective.area_limit_mm2, backend=make_backend(sc.backend), **scale)


def _identity(cfg: StudyConfig) -> dict:
    """What makes two study configs the same study (executor and cache do not)."""
    return cfg.model_dump(mode="json", exclude={"executor", "cache"})


def _stored_identity(doc: dict) -> dict | None:
    """`_identity` of a stored study's config (defaults of newer settings filled in)."""
    try:
        return _identity(load_study(doc.get("config") or {}))
    except StudyError:
        return None
