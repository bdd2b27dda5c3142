"""`Study`: run every cell of a study config, store each cell's outputs, resume.

Folder layout (DIR):
  study.yaml          the study config as given (resolved, all defaults filled in)
  study.json          cells and which are finished, and each group's loss reference (every
                      network's own optimum, `references.py`); rewritten atomically whenever
                      cells end
  runs/<cell-id>/     `imcopt search` outputs of one cell (kept_designs.csv.gz, convergence.csv,
                      best.json, run.json; designs.parquet with `save_all`)
  evaluations.sqlite  the persistent evaluation cache (see `cache` in the study config)

Each (technology, workload set) group first gets its loss reference (`references.py`: every
network's own optimum, found before the group's cells; a group where some network fits no
design is not searched). Then its exhaustive cells run (one scan), its separate and largest
cells replay their per-seed searches (run once per seed), and its other searches run in
lockstep (`search.lockstep`): each generation of all of them is evaluated in one model call
through the group's shared store, as are the per-seed searches. Every cell's results are what
it would give alone (its own seed, its own designs).
"""

from __future__ import annotations

import os
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
from ..executors import Executor, ExecutorConfig, InProcess, describe, make_executor
from ..hardware import get_space
from ..losses import Optima
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
from . import references
from .config import Cell, StudyConfig, StudyError, expand, load_study, search_config
from .shared import ScanResult, SharedEvaluator, scan

STATE = "study.json"
Event = Callable[[dict], None]


class Study:
    """A study in folder `out`. `Study(config, out).run()`; `Study.open(out).run()` resumes."""

    def __init__(self, config: StudyConfig | dict | str | Path, out: str | Path,
                 executor: Executor | ExecutorConfig | dict | None = None,
                 device: str = "numpy", save_all: bool = False, force: bool = False,
                 jobs: int | None = 1) -> None:
        self.config = config if isinstance(config, StudyConfig) else load_study(config)
        if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int)
                                 or jobs < 1):
            raise StudyError(f"jobs: expected an integer >= 1 (processes for the study's "
                             f"groups) or None (one per core), got {jobs!r}")
        # processes running the groups at once (None: one per core; `parallel`: a script
        # that asks for more than one must start from `if __name__ == "__main__":`, as the
        # worker processes import it)
        self.jobs = jobs
        # in a group process: where finished cells and references go (`parallel`)
        self._sink: Callable[[tuple], None] | None = None
        self.save_all = save_all  # every run also writes designs.parquet (every design)
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
        # group -> warnings raised while its reference was found (for its next cell)
        self._reference_warnings: dict[tuple[str, str], list] = {}
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
             device: str = "numpy", save_all: bool = False, jobs: int | None = 1) -> Study:
        """The study stored in `out` (to resume it), optionally on another executor or
        device."""
        state = Path(out) / STATE
        if not state.exists():
            raise StudyError(f"{out}: no {STATE} here (not a study folder)")
        cfg = _read_state(state)["config"]
        return cls(load_study(cfg), out, executor, device, save_all, jobs=jobs)

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
        # strict JSON (no NaN or Infinity), on one line: rewritten after every batch of cells
        write_json(self.out / STATE, doc, indent=None)

    # ---- running ------------------------------------------------------------------------
    def run(self, on_event: Event | None = None, max_cells: int | None = None) -> Study:
        """Run the pending cells (at most `max_cells`); state is saved whenever cells end
        (those that end together, once).

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
            try:
                self._run(emit, max_cells)
            finally:
                for store in self._stores.values():
                    store.flush()  # the persistent cache's last batch
        return self

    def _run(self, emit: Event, max_cells: int | None) -> None:
        """The pending cells group by group (`_run_group`); the groups are independent, so
        with `jobs` > 1 they run in that many processes at once (`parallel.run_groups`)."""
        todo = self.pending if max_cells is None else self.pending[:max_cells]
        groups = {g: [c for c in todo if c.group == g] for g in dict.fromkeys(c.group
                                                                             for c in todo)}
        jobs = self.group_processes(len(groups))
        if jobs > 1:
            from .parallel import run_groups

            run_groups(self, list(groups.values()), emit, jobs)
            return
        for cells in groups.values():
            self._run_group(cells, emit)

    def group_processes(self, n_groups: int) -> int:
        """Processes for the groups: `jobs` (None: one per core), at most one per group, where
        the model runs in process on numpy with no persistent cache; else 1 (an executor
        that spreads the evaluations already uses the machine; a cache file takes one writer)."""
        if n_groups < 2 or self.device != "numpy" or self._scale()["cache_file"] is not None:
            return 1
        if not isinstance(self._executor, InProcess):
            return 1
        if self.jobs is not None:
            return min(self.jobs, n_groups)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        return max(1, min(cores, n_groups))

    def _run_group(self, cells: list[Cell], emit: Event) -> None:
        """One group's pending cells: the group's loss reference first (its per-seed searches
        in lockstep), then the cells that need no search of their own, recorded together
        (exhaustive: one scan; separate and largest: replays; a group no chip can serve: not
        searched), then every other search of the group in lockstep (`search.lockstep`: one
        model call per step)."""
        for cell in cells:
            emit({"event": "start", "done": len(self.completed), "cell": cell.id,
                  "total": len(self.cells)})
        ref = self.reference(cells[0], self._progress(cells[0], emit))
        if not ref.infeasible:  # the replayed searches of the group's pending cells
            self._run_seed_searches(cells[0], [(c.method, c.seed) for c in cells
                                               if c.method in references.SEED_SEARCH_METHODS])
        alone = [self._start(c, emit) for c in cells if not self._searches(c, ref)]
        if alone:  # recorded together: one rewrite of the state for all of them
            self._complete([(r, r.result) for r in alone], emit)
        searches = [self._start(c, emit) for c in cells if self._searches(c, ref)]
        if not searches:
            return
        store = self._store(searches[0].cell)
        for ended in lockstep([r.steps for r in searches], store.ensure):
            self._complete([(searches[i], res) for i, res in ended], emit)

    @staticmethod
    def _searches(cell: Cell, ref: references.GroupReference) -> bool:
        """Whether the cell runs a search of its own (else its result needs no model run
        beyond the group's scan or per-seed searches)."""
        return not ref.infeasible and (cell.method != "exhaustive"
                                       and cell.method not in references.SEED_SEARCH_METHODS)

    def _progress(self, cell: Cell, emit: Event) -> Callable[[dict], None]:
        def progress(row: dict) -> None:
            emit({"event": "progress", "done": len(self.completed), "row": row,
                  "cell": cell.id, "total": len(self.cells)})

        return progress

    def _start(self, cell: Cell, emit: Event) -> _Running:
        """A cell's evaluator (sharing the group's store), objective (with the group's loss
        reference), trace, and either its search steps or, for a cell that needs no search
        of its own, its result (warnings recorded for study.json, not shown)."""
        t0 = time.perf_counter()
        progress = self._progress(cell, emit)
        with warnings.catch_warnings(record=True) as caught:
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
        running = _Running(cell, sc, ev, obj, trace, t0, group_ref)
        running.warnings.extend(caught)
        running.warnings.extend(self._reference_warnings.pop(cell.group, []))
        if self._searches(cell, group_ref):
            running.steps = _recording_warnings(STRATEGY_STEPS[sc.strategy](
                ev, obj, algorithm_spec(sc), sc.seed, trace, top_k=sc.top_k), running.warnings)
            return running
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            if infeasible:
                running.result = self._not_searched(group_ref, ev, obj, trace)
            elif cell.method == "exhaustive":
                running.result = self._exhaustive(cell, sc, ev, trace, ref)
            else:
                search = self._seed_search(cell, cell.method, sc.seed)
                running.result = references.replay(search, ev, obj, trace, sc.top_k)
                running.messages.extend(search.warnings)
        running.warnings.extend(caught)
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
        self.record_done([(cell.id, summary) for cell, summary in summaries], emit)

    def record_done(self, summaries: list[tuple[str, dict]], emit: Event) -> None:
        """Record finished cells (their outputs already written) in study.json; in a group
        process, hand them to the process that owns the state instead."""
        if self._sink is not None:
            self._sink(("done", summaries))
            return
        for cid, summary in summaries:
            self.completed[cid] = summary
        self._save()
        for cid, summary in summaries:
            emit({"event": "done", "done": len(self.completed), "summary": summary,
                  "cell": cid, "total": len(self.cells)})

    def record_reference(self, gid: str, ref: dict) -> None:
        """Record a group's loss reference in study.json (or hand it on, as `record_done`)."""
        self.references[gid] = ref
        if self._sink is not None:
            self._sink(("reference", (gid, ref)))
        else:
            self._save()

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
        keep = cache_wanted(self.config.cache, self.config.backend.name)
        cache = self.out / CACHE_FILE if keep else None
        return {"executor": self._executor, "cache_file": cache, "device": self.device}

    def run_cell(self, cell: Cell, progress: Callable[[dict], None] | None = None) -> dict:
        """Run one cell and write its outputs to runs/<cell-id>/; returns its summary."""
        def rows(event: dict) -> None:
            if progress is not None and event["event"] == "progress":
                progress(event["row"])

        running = self._start(cell, rows)
        res = running.result if running.steps is None else run(running.steps)
        with durable_batch():
            return self._write_cell(running, res)

    def _write_cell(self, running: _Running, res: StrategyResult) -> dict:
        """runs/<cell-id>/ of a cell whose search ended; returns its summary for study.json."""
        ev, obj = running.evaluator, running.objective
        ref, infeasible = running.reference.optima, running.reference.infeasible
        wall = time.perf_counter() - running.t0
        result = SearchResult(running.config, ev, obj, res, running.trace, ref.values, wall,
                              ref.source, executor=describe(self._executor))
        folder = self.out / "runs" / running.cell.id
        if folder.exists():  # left over from an interrupted run
            shutil.rmtree(folder)
        write_results(result, folder, save_all=self.save_all)
        calls, evals = ev.n_calls, ev.n_evals
        top = result.best()[:1] if len(res.best) else []
        fit = top[0]["fitness"] if top else None
        return {"wall_s": round(wall, 3), "n_calls": calls,
                "n_evals": evals, "n_failed": int(ev.evaluated().failed.sum()),
                "best_fitness": fit,
                "worst_network_loss_x": top[0]["worst_network_loss_x"] if fit is not None
                else None,
                **({"not_searched": "; ".join(infeasible.values())} if infeasible else {}),
                "warnings": sorted({str(w.message) for w in running.warnings}
                                   | set(running.messages))}

    # ---- the loss reference ----------------------------------------------------------------
    def reference(self, cell: Cell, progress: Callable[[dict], None] | None = None
                  ) -> references.GroupReference:
        """The group's loss reference (each network's own optimum, and the networks no design
        can run), computed before its first cell and kept in study.json. Warnings raised
        meanwhile (outside the per-seed searches, which keep their own) go to the next cell
        of the group that starts."""
        gid = f"{cell.technology}-{cell.workload_set}"
        if gid not in self.references:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
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
                    pairs = [("separate", seed) for seed in self.config.seeds]
                    self._run_seed_searches(cell, pairs, mark)
                    ref = references.from_searches(plain, [
                        self._seed_search(cell, m, seed) for m, seed in pairs])
                found = references.complete(ref, plain, chunk).to_json()
            self._reference_warnings.setdefault(cell.group, []).extend(caught)
            self.record_reference(gid, found)
        return references.GroupReference.from_json(self.references[gid])

    def _seed_search(self, cell: Cell, method: str, seed: int,
                     progress: Callable[[dict], None] | None = None) -> references.SeedSearch:
        """The group's search of `method` (separate or largest) for `seed`, run once."""
        self._run_seed_searches(cell, [(method, seed)], progress)
        return self._seed_searches[(cell.group, method, seed)]

    def _run_seed_searches(self, cell: Cell, pairs: list[tuple[str, int | None]],
                           progress: Callable[[dict], None] | None = None) -> None:
        """Run the group's per-seed searches of the (method, seed) `pairs` not run yet, in
        lockstep (one model call per step through the group's store)."""
        store = self._store(cell)
        keys = list(dict.fromkeys((cell.group, m, s) for m, s in pairs))
        keys = [k for k in keys if k not in self._seed_searches]
        steps, caught = [], []
        for _, method, seed in keys:
            sc = search_config(self.config, Cell(cell.technology, cell.workload_set,
                                                 cell.workloads, method, "max", seed))
            ev = _evaluator(sc, SharedEvaluator, device=self.device)
            ev.store = store
            caught.append([])
            steps.append(_recording_warnings(references.seed_search_steps(
                ev, method, algorithm_spec(sc), sc.seed, sc.top_k, progress), caught[-1]))
        for ended in lockstep(steps, store.ensure):
            for i, search in ended:
                search.warnings = sorted({str(w.message) for w in caught[i]})
                self._seed_searches[keys[i]] = search

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
    """A cell while its search runs: its steps, or (no search of its own) its result."""

    cell: Cell
    config: SearchConfig
    evaluator: SharedEvaluator
    objective: Objective
    trace: Trace
    t0: float
    reference: references.GroupReference
    steps: Steps[StrategyResult] | None = None
    result: StrategyResult | None = None
    warnings: list[warnings.WarningMessage] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # warnings of a replayed search


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
