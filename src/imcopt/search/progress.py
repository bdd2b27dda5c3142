"""What a search will do, for a progress display: its searches in order, each with the
objective calls it is expected to make, and a tracker that turns convergence rows (the
`on_progress` hook of `run_search`) into "separate: vgg16, 2 of 5" and a fraction done."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..hardware.space import DesignSpace
from .config import AlgorithmConfig, SearchConfig
from .runner import algorithm_spec


def calls_per_search(algorithm: AlgorithmConfig, cfg: SearchConfig) -> int | None:
    """Objective calls one run of the algorithm asks for (None: exhaustive, unknown)."""
    spec = algorithm_spec(cfg)
    if spec.name == "random":
        return spec.n_evals
    if spec.name == "exhaustive":
        return None
    if spec.name == "four_phase":
        sampled = spec.sampling.n_select if spec.sampling.evaluate else 0
        return sampled + sum(p.pop_size * p.n_gen for p in spec.phases)
    return spec.phases[0].pop_size * spec.phases[0].n_gen


def planned_searches(cfg: SearchConfig, space: DesignSpace, workloads: list[str]
                     ) -> list[tuple[str, int | None]]:
    """(search label as the convergence rows name it, expected calls) in run order."""
    per = calls_per_search(cfg.algorithm, cfg)
    plan: list[tuple[str, int | None]] = []
    # a per-network search ends by looking its best design up (its optimum), and the next
    # search starts by ranking the networks' bests together: calls beyond the algorithm's
    def plus(extra: int) -> int | None:
        return None if per is None else per + extra  # None: exhaustive, a count unknown

    separate = [(f"separate:{w}", plus(1)) for w in workloads]
    if cfg.objective.optima == "separate":
        plan += separate
    if cfg.strategy == "separate":
        plan += separate
        plan.append(("joint", len(workloads)))
    elif cfg.strategy == "largest":
        plan.append(("largest", per))
    elif cfg.strategy == "sequential":
        for level, names in space.levels().items():
            free = [space.names.index(n) for n in names]
            if free:
                size = int(np.prod(space.cardinalities[free]))
                plan.append((f"sequential:{level}", size if size <= cfg.exhaustive_below
                             else per))
    else:
        plan.append(("joint", plus(len(workloads) if cfg.objective.optima == "separate"
                                   else 0)))
    return plan


@dataclass
class Tracker:
    """Follows the convergence rows of a run through its planned searches."""

    plan: list[tuple[str, int | None]]
    index: int = 0
    start_calls: int = 0  # the run's calls when the current search began
    last_calls: int = 0
    _started: bool = field(default=False, repr=False)

    @property
    def total(self) -> int | None:
        """The calls of all searches (None when one of them cannot be estimated)."""
        calls = [c for _, c in self.plan]
        return None if any(c is None for c in calls) else int(sum(calls))  # type: ignore

    def update(self, row: dict) -> tuple[str, int]:
        """(label "separate: vgg16, 2 of 5", calls done by the plan's count) after `row`."""
        search = str(row.get("search", "joint"))
        if self._started and self.plan and not _same(search, self.plan[self.index][0]):
            for j in range(self.index + 1, len(self.plan)):
                if _same(search, self.plan[j][0]):
                    self.index, self.start_calls = j, self.last_calls
                    break
        self._started = True
        self.last_calls = int(row["n_calls"])
        done = sum(c or 0 for _, c in self.plan[: self.index])
        planned = self.plan[self.index][1] if self.plan else None
        if planned is not None:
            done += min(self.last_calls - self.start_calls, planned)
        name = search.replace(":", ": ", 1)
        return f"{name}, {self.index + 1} of {max(1, len(self.plan))}", done


def _same(search: str, planned: str) -> bool:
    return search == planned or search.startswith(planned + ":")
