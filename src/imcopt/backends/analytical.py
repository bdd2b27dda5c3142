"""The analytical cost model (`imcopt.model.evaluate`) as a backend, and `Delayed`, a wrapper
that makes any backend slow (to exercise executors as with a real simulator)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..failures import evaluate_guarded
from ..hardware import Designs, Technology
from ..workloads.layer import Workload
from .base import Backend, WorkloadMetrics, digest


@dataclass(frozen=True)
class AnalyticalBackend:
    """The cost model on `device` (numpy, cpu or cuda: `model.xp`); a model error or a bad
    metric marks the designs failed (`imcopt.failures`) instead of raising."""

    name: str = "analytical"
    device: str = "numpy"

    def version(self, technology: Technology) -> str:
        """Package version + a hash of the technology's constants and settings."""
        from .. import __version__

        return f"{__version__}+{digest(technology.to_yaml_dict())}"

    def evaluate(self, designs: Designs, workload: Workload,
                 technology: Technology) -> WorkloadMetrics:
        m = evaluate_guarded(designs, workload, technology, device=self.device)
        return WorkloadMetrics(m.workload, m.energy_j, m.latency_s, m.area_mm2, m.feasible,
                               m.weight_arrays_required, m.reason.astype(object))


@dataclass(frozen=True)
class Delayed:
    """`inner` plus `delay_s` seconds of sleep per design (a stand-in for a slow simulator
    run once per design and workload, in executor tests and benchmarks); same name and
    version as `inner`."""

    inner: Backend
    delay_s: float

    @property
    def name(self) -> str:
        return self.inner.name

    def version(self, technology: Technology) -> str:
        return self.inner.version(technology)

    def evaluate(self, designs: Designs, workload: Workload,
                 technology: Technology) -> WorkloadMetrics:
        time.sleep(self.delay_s * len(designs))
        return self.inner.evaluate(designs, workload, technology)
