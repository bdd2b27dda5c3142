"""`Study`: run every cell of a study config, store each cell's outputs, resume.

Folder layout (DIR):
  study.yaml          the study config as given (resolved, all defaults filled in)
  study.json          cells and which are finished; rewritten atomically after every cell
  runs/<cell-id>/     `imcopt search` outputs of one cell (designs.csv, convergence.csv,
                      best.json, run.json)
  evaluations.sqlite  the persistent evaluation cache (unless `cache: false`)
"""

from __future__ import annotations

import json
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
from ..executors import Executor, ExecutorConfig, describe, make_executor
from ..hardware import get_space, load_technology
from ..model.xp import check_device
from ..objectives import Evaluator, Objective
from ..search import SearchConfig, SearchResult, StrategyResult, Trace, write_results
from ..search.runner import algorithm_spec
from ..search.strategies import STRATEGY_FUNCTIONS
from ..storage import StorageError, read_json
from ..storage import write_text as _atomic_write
from ..workloads import get
from .config import Cell, StudyConfig, StudyError, expand, load_study, search_config
from .shared import ScanResult, SharedEvaluator, scan

STATE = "study.json"
Event = Callable[[dict], None]


class Study:
    """A study in folder `out`. `Study(config, out).run()`; `Study.open(out).run()` resumes."""

    def __init__(self, config: StudyConfig | dict | str | Path, out: str | Path,
                 executor: Executor | ExecutorConfig | dict | None = None,
                 device: str = "numpy") -> None:
        self.config = config if isinstance(config, StudyConfig) else load_study(config)
        self.out = Path(out)
        self.executor = executor  # None: the config's
        self.device = check_device(device)  # where the model runs (not part of the identity)
        self._executor: Executor | None = None  # the one in use while `run` runs
        self.cells = expand(self.config)
        self.completed: dict[str, dict] = {}
        self._stores: dict[tuple[str, str], Evaluator] = {}
        self._scans: dict[tuple[str, str], ScanResult] = {}
        state = self.out / STATE
        if state.exists():
            doc = _read_state(state)
            if _stored_identity(doc) != _identity(self.config):
                raise StudyError(f"--out {self.out}: holds a different study; use another "
                                 "folder, or `imcopt study resume` to continue that one")
            self.completed = doc.get("completed", {})

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
               "completed": self.completed}
        _atomic_write(self.out / STATE, json.dumps(doc, indent=1))

    # ---- running ------------------------------------------------------------------------
    def run(self, on_event: Event | None = None, max_cells: int | None = None) -> Study:
        """Run the pending cells (at most `max_cells`); state is saved after every cell.

        on_event gets dicts: {"event": "start"|"progress"|"done", "cell": id, "done": n,
        "total": n, ...}; "progress" carries the search's convergence row.
        """
        emit = on_event or (lambda _e: None)
        self.out.mkdir(parents=True, exist_ok=True)
        cfg_file = self.out / "study.yaml"
        if not cfg_file.exists():
            _atomic_write(cfg_file, yaml.safe_dump(self.config.model_dump(mode="json"),
                                                   sort_keys=False))
        self._save()
        with ExitStack() as stack:
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
        sc = search_config(self.config, cell)
        ev = _evaluator(sc, SharedEvaluator, device=self.device)
        ev.store = self._store(cell)
        obj = Objective(cell.aggregation)
        trace = Trace(on_record=progress)
        with warnings.catch_warnings(record=True) as caught:  # kept in study.json, not shown
            warnings.simplefilter("always", UserWarning)
            if cell.method == "exhaustive":
                res = self._exhaustive(cell, sc, ev, trace)
            else:
                res = STRATEGY_FUNCTIONS[sc.strategy](ev, obj, algorithm_spec(sc), sc.seed, trace,
                                                      top_k=sc.top_k)
        result = SearchResult(sc, ev, obj, res, trace, None, time.perf_counter() - t0,
                              describe(self._executor))
        folder = self.out / "runs" / cell.id
        if folder.exists():  # left over from an interrupted run
            shutil.rmtree(folder)
        write_results(result, folder)
        calls, evals = ev.n_calls, ev.n_evals
        fit = obj.fitness(ev.evaluate(res.best[:1])) if len(res.best) else np.array([np.inf])
        return {"wall_s": round(time.perf_counter() - t0, 3), "n_calls": calls,
                "n_evals": evals, "n_failed": int(ev.evaluated().failed.sum()),
                "best_fitness": float(fit[0]) if np.isfinite(fit[0]) else None,
                "warnings": sorted({str(w.message) for w in caught})}

    def _exhaustive(self, cell: Cell, sc: SearchConfig, ev: SharedEvaluator,
                    trace: Trace) -> StrategyResult:
        """The optimum by enumeration: one scan per group serves every aggregation."""
        if cell.group not in self._scans:
            plain = _evaluator(sc, Evaluator, **self._scale())
            self._scans[cell.group] = scan(plain, self.config.aggregations,
                                           keep=max(100, sc.top_k),
                                           chunk=self.config.budget.exhaustive_chunk)
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
    return cls(space, load_technology(sc.technology), [get(w) for w in sc.workloads],
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
