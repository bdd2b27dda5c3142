"""`evaluate_workloads`: one batch of designs on several workloads through a backend, an
executor and (optionally) the persistent cache.

Per workload, the designs the cache does not hold are split into chunks (one per in-process
call; 4 per worker otherwise, for load balance) and every (workload, chunk) task goes through
the executor; the new results are stored in the cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ..hardware import KEY_FIELDS, PARAMETERS, Designs, Technology
from ..hardware.space import _fmt
from ..workloads.layer import Workload
from .base import Backend, WorkloadMetrics, workload_id

if TYPE_CHECKING:
    from ..cache import EvaluationCache
    from ..executors import Executor

CHUNKS_PER_WORKER = 4
_EXTRA = [n for n in PARAMETERS if n not in (*KEY_FIELDS, "technology_node_nm")]


def design_keys(designs: Designs) -> list[str]:
    """Cache keys: the reference key with the node (`Designs.keys(with_node=True)`), then
    `|name=value` of the parameters the reference key leaves out (e.g. adc_bits). Each
    distinct value is formatted once, so this costs ~1 us per design."""
    names = (*KEY_FIELDS, "technology_node_nm", *_EXTRA)
    cols = []
    for j, name in enumerate(names):
        prefix = "A_" if j == 0 else "_" if name not in _EXTRA else f"|{name}="
        uniq, inverse = np.unique(designs[name], return_inverse=True)
        text = np.array([prefix + _fmt(v, PARAMETERS[name].integer) for v in uniq.tolist()],
                        dtype=object)
        cols.append(text[inverse.reshape(-1)].tolist())
    return ["".join(parts) for parts in zip(*cols, strict=True)]


def _run(backend: Backend, technology: Technology, task: tuple[Workload, Designs]
         ) -> WorkloadMetrics:
    workload, designs = task
    return backend.evaluate(designs, workload, technology)


def evaluate_workloads(designs: Designs, workloads: Sequence[Workload], technology: Technology,
                       backend: Backend, executor: Executor | None = None,
                       cache: EvaluationCache | None = None) -> list[WorkloadMetrics]:
    """Metrics of every design on every workload, in the given orders."""
    from ..executors import InProcess

    ex = executor if executor is not None else InProcess()
    n = len(designs)
    keys = design_keys(designs) if cache is not None else []
    out: list[WorkloadMetrics | None] = [None] * len(workloads)
    todo: list[tuple[int, np.ndarray, int]] = []  # (workload, missing designs, context)
    for w, wl in enumerate(workloads):
        missing, ctx = np.arange(n), -1
        if cache is not None:
            ctx = cache.context(backend.name, backend.version(technology), technology.name,
                                workload_id(wl))
            found, hit = cache.get(ctx, keys, wl.name)
            missing = np.flatnonzero(~found)
            if len(hit):
                out[w] = _blank(wl.name, n)
                _fill(out[w], np.flatnonzero(found), hit)
        if len(missing):
            todo.append((w, missing, ctx))
    parts = max(1, ex.workers * CHUNKS_PER_WORKER) if ex.workers > 1 else 1
    tasks, where = [], []
    for w, missing, _ctx in todo:
        for idx in np.array_split(missing, min(parts, len(missing))):
            tasks.append((workloads[w], designs.take(idx)))
            where.append((w, idx))
    results = ex.map(partial(_run, backend, technology), tasks) if tasks else []
    for (w, idx), res in zip(where, results, strict=True):
        if out[w] is None:
            out[w] = _blank(workloads[w].name, n)
        _fill(out[w], idx, res)
    if cache is not None:
        for w, missing, ctx in todo:
            cache.stage(ctx, [keys[i] for i in missing], out[w].take(missing))
    for w, wl in enumerate(workloads):
        if out[w] is None:  # no designs at all
            out[w] = _blank(wl.name, n)
    return out  # type: ignore[return-value]


def _blank(workload: str, n: int) -> WorkloadMetrics:
    return WorkloadMetrics.failed(workload, [""] * n)


def _fill(target: WorkloadMetrics, index: np.ndarray, part: WorkloadMetrics) -> None:
    for f in ("energy_j", "latency_s", "area_mm2", "feasible", "weight_arrays_required",
              "reason"):
        getattr(target, f)[index] = getattr(part, f)
