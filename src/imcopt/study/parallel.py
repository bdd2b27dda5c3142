"""A study's groups in several processes at once.

The (technology, workload set) groups of a study share nothing: each has its own loss
reference, store of evaluations, scan and searches, all seeded. So `Study.run` with `jobs` > 1
hands whole groups to that many worker processes (started fresh: `spawn`), the largest
first, each worker taking the next group when it is done with one. A worker writes its cells'
output folders as it would in process and sends everything that goes into study.json (the
group's loss reference, each finished cell's summary) and its progress events to the parent,
which alone writes study.json, in the order they arrive, and holds the folder's lock. Every
cell's results are those of a run in one process; only the order in which cells finish, and
their wall times, differ. A worker that fails stops the study with its traceback; the cells
recorded by then are kept (`imcopt study resume` runs the rest).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
import traceback
from typing import TYPE_CHECKING, Any

from .config import Cell, StudyError

if TYPE_CHECKING:
    from .runner import Event, Study

#: seconds between checks that the workers are still alive while none reports
POLL_S = 1.0


def group_cost(cells: list[Cell]) -> tuple[int, int]:
    """How much work a group is, roughly, to hand out the largest first: its networks, then
    its cells."""
    return len(cells[0].workloads), len(cells)


def run_groups(study: Study, groups: list[list[Cell]], emit: Event, jobs: int) -> None:
    """Run `groups` (each the pending cells of one group) in `jobs` worker processes and
    record what they send in `study` (module docstring)."""
    ctx = multiprocessing.get_context("spawn")
    tasks: Any = ctx.Queue()
    results: Any = ctx.Queue()
    for cells in sorted(groups, key=group_cost, reverse=True):
        tasks.put([c.id for c in cells])
    for _ in range(jobs):
        tasks.put(None)  # no more groups
    spec = {"config": study.config.model_dump(mode="json"), "out": str(study.out),
            "save_all": study.save_all, "references": dict(study.references),
            "parent": os.getpid()}
    workers = [ctx.Process(target=_work, args=(spec, tasks, results), daemon=True)
               for _ in range(jobs)]
    for w in workers:
        w.start()
    finished = 0
    try:
        while finished < jobs:
            try:
                kind, payload = results.get(timeout=POLL_S)
            except queue.Empty:
                dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
                if dead:
                    raise StudyError(f"a study worker process ended with exit code {dead[0]} "
                                     "(killed?); the finished cells are kept: imcopt study "
                                     f"resume {study.out}") from None
                continue
            if kind == "event":
                emit({**payload, "done": len(study.completed), "total": len(study.cells)})
            elif kind == "reference":
                study.record_reference(*payload)
            elif kind == "done":
                study.record_done(payload, emit)
            elif kind == "finished":
                finished += 1
            else:  # "error"
                raise StudyError(f"a study worker process failed; the finished cells are "
                                 f"kept (imcopt study resume {study.out}):\n{payload}")
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
            w.join()


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when the study process that started it
    dies (PR_SET_PDEATHSIG): a study killed with SIGKILL must not leave workers writing
    into its folder, which a resume then writes too. (Elsewhere `_work`'s sends check.)"""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
        except (OSError, AttributeError):
            pass


def _work(spec: dict, tasks: Any, results: Any) -> None:
    """A worker: run the groups it takes from `tasks` with a study object of its own, which
    hands what goes into study.json to `results` instead of writing it."""
    from .runner import Study

    _die_with_parent()

    def send(message: tuple) -> None:
        if os.getppid() != spec["parent"]:  # the study process is gone: stop here
            os._exit(1)
        results.put(message)

    try:
        # force: the parent has read and checked the folder; this one only runs cells
        study = Study(spec["config"], spec["out"], save_all=spec["save_all"], force=True)
        study.force = False
        study.references = dict(spec["references"])
        study._sink = send
        from ..executors import InProcess

        study._executor = InProcess()
        by_id = {c.id: c for c in study.cells}
        while (ids := tasks.get()) is not None:
            study._run_group([by_id[i] for i in ids], lambda e: send(("event", e)))
        send(("finished", None))
    except BaseException:  # the parent reports it, with the traceback
        results.put(("error", traceback.format_exc()))
