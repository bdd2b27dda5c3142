"""Failures are data: a model run that raises, or a metric that is not a finite positive
number, marks the designs concerned *failed* instead of stopping the search or ranking them.

`evaluate_guarded` wraps `model.evaluate` for the objective layer: an exception on a batch
marks every design of that batch failed on that workload (reason `failed: <Error>: <msg>`);
a NaN, infinite, zero or negative energy, latency or area marks that design failed (reason
`failed: <metric> is <value>`), and so does an EDAP too large for a float (`failed:
edap_j_s_mm2 overflows`). Failed designs are infeasible, their metrics are stored as +inf (so
every aggregate, and so the fitness, is +inf: never ranked), and their reason says why.
`Evaluation.failed` finds them again from the reason. The Python API (`imcopt.evaluate`)
and `imcopt evaluate` go through `evaluate_guarded` too.
"""

from __future__ import annotations

import numpy as np

from .hardware.space import Designs
from .hardware.technology import Technology
from .model.cost import Metrics, area_mm2, evaluate
from .workloads.layer import Workload

FAILED = "failed: "


def evaluate_guarded(designs: Designs, workload: Workload, tech: Technology,
                     device: str = "numpy", per_layer: bool = False) -> Metrics:
    """`evaluate(designs, workload, tech, per_layer, device)`, failures marked, never raised,
    and no NumPy warning printed (an overflow or a NaN ends as a failed design, not as a
    RuntimeWarning with a source line)."""
    try:
        with np.errstate(all="ignore"):
            m = evaluate(designs, workload, tech, per_layer=per_layer, device=device)
    except Exception as exc:
        return _failed_batch(designs, workload, tech, f"{type(exc).__name__}: "
                             + " ".join(str(exc).split())[:200])
    return mark_bad_metrics(m)


def mark_bad_metrics(m: Metrics) -> Metrics:
    """Designs with a non-finite or non-positive energy, latency or area, or an EDAP too large
    for a float: failed, energy and latency +inf (never feasible, never ranked)."""
    reason = np.asarray(m.reason, dtype=object).copy()
    bad_any = np.zeros(len(reason), bool)
    for name in ("energy_j", "latency_s", "area_mm2"):
        v = np.asarray(getattr(m, name), dtype=np.float64)
        bad = ~np.isfinite(v) | (v <= 0)
        for i in np.flatnonzero(bad).tolist():
            reason[i] = "; ".join(filter(None, [reason[i], f"{FAILED}{name} is {v[i]:g}"]))
        bad_any |= bad
    with np.errstate(all="ignore"):  # each finite, their product too large for a float
        edap = np.asarray(m.energy_j * m.latency_s * m.area_mm2, dtype=np.float64)
    for i in np.flatnonzero(~bad_any & ~np.isfinite(edap)).tolist():
        reason[i] = "; ".join(filter(None, [reason[i], f"{FAILED}edap_j_s_mm2 overflows"]))
        bad_any[i] = True
    if not bad_any.any():
        return m
    m.feasible = np.asarray(m.feasible, bool) & ~bad_any
    for name in ("energy_j", "latency_s", "area_mm2"):
        v = np.asarray(getattr(m, name), dtype=np.float64)
        setattr(m, name, np.where(~np.isfinite(v) | (v <= 0), np.inf, v))
    m.energy_j = np.where(bad_any, np.inf, m.energy_j)
    m.latency_s = np.where(bad_any, np.inf, m.latency_s)
    m.reason = reason.astype(str)
    return m


def _failed_batch(designs: Designs, workload: Workload, tech: Technology, why: str) -> Metrics:
    n = designs.n
    try:
        with np.errstate(all="ignore"):
            area = sum(area_mm2(designs, tech).values())
        area = np.where(np.isfinite(area) & (area > 0), area, np.inf)
    except Exception:
        area = np.full(n, np.inf)
    inf = np.full(n, np.inf)
    return Metrics(workload=workload.name, technology=tech.name, energy_j=inf, latency_s=inf.copy(),
                   area_mm2=np.asarray(area, dtype=np.float64), feasible=np.zeros(n, bool),
                   reason=np.full(n, FAILED + why).astype(str), macs=int(workload.macs),
                   utilization=np.full(n, np.nan), weight_arrays_required=inf.copy(),
                   executed_macs=np.zeros(n))


def failed_mask(reason: np.ndarray) -> np.ndarray:
    """(N,) bool: the designs whose reason records a failure."""
    r = np.asarray(reason, dtype=str)
    return np.char.find(r, FAILED.strip()) >= 0 if r.size else np.zeros(r.shape, bool)
