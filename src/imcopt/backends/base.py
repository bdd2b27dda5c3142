"""The backend protocol: what answers "energy, latency, area of these designs on this workload".

A backend is a small picklable object (it travels to executor workers) with
- `name`: stored in the evaluation cache key;
- `version(technology)`: the model version, also in the cache key (a new version never
  reuses old results);
- `evaluate(designs, workload, technology) -> WorkloadMetrics`.

A design a backend cannot answer (not recorded, simulator crashed or timed out) comes back
infeasible with its reason, energy_j = latency_s = area_mm2 = inf: never as a good design.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import Protocol, runtime_checkable

import numpy as np

from ..hardware import Designs, Technology
from ..workloads.layer import Workload


@dataclass
class WorkloadMetrics:
    """Per-design results on one workload: (N,) arrays; energies in J, latencies in s,
    areas in mm^2; `weight_arrays_required`: arrays one resident copy of the weights needs."""

    workload: str
    energy_j: np.ndarray
    latency_s: np.ndarray
    area_mm2: np.ndarray
    feasible: np.ndarray
    weight_arrays_required: np.ndarray
    reason: np.ndarray

    def __len__(self) -> int:
        return len(self.energy_j)

    @classmethod
    def failed(cls, workload: str, reasons: list[str]) -> WorkloadMetrics:
        """Results for designs that could not be evaluated: infeasible, inf metrics."""
        n = len(reasons)
        inf = np.full(n, np.inf)
        return cls(workload, inf, inf.copy(), inf.copy(), np.zeros(n, bool), inf.copy(),
                   np.asarray(reasons, dtype=object))

    def take(self, index: np.ndarray) -> WorkloadMetrics:
        return WorkloadMetrics(self.workload, *(getattr(self, f.name)[index]
                                                for f in fields(self)[1:]))


@runtime_checkable
class Backend(Protocol):
    name: str

    def version(self, technology: Technology) -> str: ...

    def evaluate(self, designs: Designs, workload: Workload,
                 technology: Technology) -> WorkloadMetrics: ...


def digest(obj: object) -> str:
    """A short stable hash of a JSON-able object."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def workload_id(workload: Workload) -> str:
    """`name#hash-of-layers` (then `@copies<N>` with a replication cap): two workloads with
    one name but other layers or caps never share cached results."""
    cap = "" if workload.max_copies is None else f"@copies{workload.max_copies}"
    return f"{workload.name}#{digest([repr(layer) for layer in workload.layers])}{cap}"
