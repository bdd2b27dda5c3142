"""`Study`: run every cell of a study config, store each cell's outputs, resume.

Folder layout (DIR):
  study.yaml          the study config as given (resolved, all defaults filled in)
  study.json          cells and which are finished; rewritten atomically whenever cells end
  runs/<cell-id>/     `imcopt search` outputs of one cell (kept_designs.csv.gz, convergence.csv,
                      best.json, run.json; designs.parquet with `save_all`)
  evaluations.sqlite  the persistent evaluation cache (see `cache` in the study config)

The searches of one (technology, workload set) run in lockstep (`search.lockstep`): each
generation of all of them is evaluated in one model call through the group's shared store.
Every cell's results are what it would give alone (its own seed, its own designs).
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from ..backends import make_backend
from ..cache import FILE as CACHE_FILE
from ..cache import cache_wanted
from ..executors import Executor, ExecutorConfig, describe, make_executor
from ..hardware import get_space, load_technology
from ..model.xp import check_device
from ..objectives import Evaluator, Objective
from ..outdir import SEARCH_REQUIRED, clear, locked
from ..search import SearchConfig, SearchResult, StrategyResult, Trace, write_results
from ..search.algorithms import Steps, run
from ..search.lockstep import lockstep
from ..search.runner import algorithm_spec
from ..search.strategies import STRATEGY_STEPS
from ..storage import StorageError, durable_batch, read_json, verify_manifest, write_json
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
                 device: str = "numpy", save_all: bool = False, force: bool = False) -> None:
        self.config = config if isinstance(config, StudyConfig) else load_study(config)
        self.save_all = save_all  # every run also writes designs.parquet (every design)
        self.out = Path(out)
        self.executor = executor  # None: the config's
        self.device = check_device(device)  # where the model runs (not part of the identity)
        self.force = force  # replace what the folder holds (another study, a search)
        self._executor: Executor | None = None  # the one in use while `run` runs
        self.cells = expand(self.config)
        self.completed: dict[str, dict] = {}
        self.damaged: dict[str, str] = {}  # finished cells whose files fail their checks
        self._stores: dict[tuple[str, str], Evaluator] = {}
        self._scans: dict[tuple[str, str], ScanResult] = {}
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
             device: str = "numpy", save_all: bool = False) -> Study:
        """The study stored in `out` (to resume it), optionally on another executor or
        device."""
        state = Path(out) / STATE
        if not state.exists():
            raise StudyError(f"{out}: no {STATE} here (not a study folder)")
        cfg = _read_state(state)["config"]
        return cls(load_study(cfg), out, executor, device, save_all)

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
                self.completed, self.force = {}, False
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
            try:
                self._run(emit, max_cells)
            finally:
                for store in self._stores.values():
                    store.flush()  # the persistent cache's last batch
        return self

    def _run(self, emit: Event, max_cells: int | None) -> None:
        """The pending cells group by group: the exhaustive ones first (one scan), then every
        search of the group in lockstep (`search.lockstep`: one model call per step)."""
        todo = self.pending if max_cells is None else self.pending[:max_cells]
        for group in dict.fromkeys(c.group for c in todo):
            cells = [c for c in todo if c.group == group]
            for cell in cells:
                emit({"event": "start", "done": len(self.completed), "cell": cell.id,
                      "total": len(self.cells)})
            for cell in (c for c in cells if c.method == "exhaustive"):
                running = self._start(cell, emit)
                res = self._exhaustive(cell, running.config, running.evaluator, running.trace)
                self._complete([(running, res)], emit)
            searches = [self._start(c, emit) for c in cells if c.method != "exhaustive"]
            if not searches:
                continue
            store = self._store(searches[0].cell)

            for ended in lockstep([r.steps for r in searches], store.ensure):
                self._complete([(searches[i], res) for i, res in ended], emit)

    def _start(self, cell: Cell, emit: Event) -> _Running:
        """A cell's evaluator (sharing the group's store), objective, trace and search steps
        (warnings recorded for study.json, not shown)."""
        sc = search_config(self.config, cell)
        ev = _evaluator(sc, SharedEvaluator, device=self.device)
        ev.store = self._store(cell)
        obj = Objective(cell.aggregation)

        def progress(row: dict) -> None:
            emit({"event": "progress", "done": len(self.completed), "row": row,
                  "cell": cell.id, "total": len(self.cells)})

        trace = Trace(on_record=progress)
        running = _Running(cell, sc, ev, obj, trace, time.perf_counter())
        if cell.method != "exhaustive":
            running.steps = _recording_warnings(STRATEGY_STEPS[sc.strategy](
                ev, obj, algorithm_spec(sc), sc.seed, trace, top_k=sc.top_k), running.warnings)
        return running

    def _complete(self, ended: list[tuple[_Running, StrategyResult]], emit: Event) -> None:
        """Write the outputs of cells that ended, then record them in study.json (all made
        durable together, before the state says they are done)."""
        summaries = []
        for store in self._stores.values():
            store.flush()  # evaluations first, then the cells that used them
        with durable_batch():
            for running, res in ended:
                summaries.append((running.cell, self._write_cell(running, res)))
        for cell, summary in summaries:
            self.completed[cell.id] = summary
        self._save()
        for cell, summary in summaries:
            emit({"event": "done", "done": len(self.completed), "summary": summary,
                  "cell": cell.id, "total": len(self.cells)})

    def _store(self, cell: Cell) -> Evaluator:
        if cell.group not in self._stores:
            self._stores = {}  # groups run one after another: keep one store in memory
            self._scans = {k: v for k, v in self._scans.items() if k == cell.group}
            sc = search_config(self.config, cell)
            self._stores[cell.group] = _evaluator(sc, Evaluator, **self._scale())
        return self._stores[cell.group]

    def _scale(self) -> dict:
        """The executor, persistent cache and device of this study's model runs."""
        keep = cache_wanted(self.config.cache, self.config.backend.name)
        cache = self.out / CACHE_FILE if keep else None
        return {"executor": self._executor, "cache_file": cache, "device": self.device}

    def run_cell(self, cell: Cell, progress: Callable[[dict], None] | None = None) -> dict:
        """Run one cell and write its outputs to runs/<cell-id>/; returns its summary."""
        def rows(event: dict) -> None:
            if progress is not None and event["event"] == "progress":
                progress(event["row"])

        running = self._start(cell, rows)
        if cell.method == "exhaustive":
            res = self._exhaustive(cell, running.config, running.evaluator, running.trace)
        else:
            res = run(running.steps)
        with durable_batch():
            return self._write_cell(running, res)

    def _write_cell(self, running: _Running, res: StrategyResult) -> dict:
        """runs/<cell-id>/ of a cell whose search ended; returns its summary for study.json."""
        ev, obj = running.evaluator, running.objective
        wall = time.perf_counter() - running.t0
        result = SearchResult(running.config, ev, obj, res, running.trace, None, wall,
                              describe(self._executor))
        folder = self.out / "runs" / running.cell.id
        if folder.exists():  # left over from an interrupted run
            shutil.rmtree(folder)
        write_results(result, folder, save_all=self.save_all)
        calls, evals = ev.n_calls, ev.n_evals
        fit = obj.fitness(ev.evaluate(res.best[:1])) if len(res.best) else np.array([np.inf])
        return {"wall_s": round(wall, 3), "n_calls": calls,
                "n_evals": evals, "n_failed": int(ev.evaluated().failed.sum()),
                "best_fitness": float(fit[0]) if np.isfinite(fit[0]) else None,
                "warnings": sorted({str(w.message) for w in running.warnings})}

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
        exact = [names[w] for w in s.exact]
        rest = [n for n in names if n not in exact]
        return StrategyResult(
            best, per_workload_best={names[w]: s.optimum_genomes[w] for w in np.flatnonzero(ok)},
            notes={"designs": s.n_designs, "evaluated_after_screen": s.n_evaluated,
                   "per_workload_best": "each workload's lowest EDAP among the designs that "
                   "pass the joint screen (area, and every workload's weights fit)"
                   + (f"; for {', '.join(rest)}: among the {s.n_evaluated} designs evaluated "
                      "on every workload" if rest else "")})


@dataclass
class _Running:
    """A cell while its search runs."""

    cell: Cell
    config: SearchConfig
    evaluator: SharedEvaluator
    objective: Objective
    trace: Trace
    t0: float
    steps: Steps[StrategyResult] | None = None
    warnings: list[warnings.WarningMessage] = field(default_factory=list)


def _recording_warnings(steps: Steps[StrategyResult], caught: list[warnings.WarningMessage]
                        ) -> Steps[StrategyResult]:
    """`steps` with the warnings each step raises recorded into `caught` (not shown)."""
    while True:
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always", UserWarning)
            try:
                batch = next(steps)
            except StopIteration as stop:
                caught.extend(got)
                return stop.value
        caught.extend(got)
        yield batch


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
