"""The pymoo `Problem`: integer index genomes of a design space (or of some of its
parameters, the others frozen), evaluated through an `Evaluator`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pymoo.core.problem import Problem

from ..objectives import Evaluation, Evaluator, Objective

OBJECTIVES = ("aggregate", "energy_latency_area", "max_edap_worst_loss")


class DesignProblem(Problem):
    """Minimise an `Objective` (one objective), the aggregated (energy, latency, area), or
    (max-aggregate EDAP, worst per-network loss factor) for the cost-of-generality front
    (this mode needs the objective's optima: each workload's own optimum EDAP).

    free: indices of the space's parameters that are searched (default all); the others
    take their values from `base` (a full genome). G holds the area constraint and one
    weight-capacity constraint per workload of the objective (<= 0 satisfied).
    """

    def __init__(
        self,
        evaluator: Evaluator,
        objective: Objective,
        *,
        mode: str = "aggregate",
        free: Sequence[int] | None = None,
        base: np.ndarray | None = None,
    ) -> None:
        if mode not in OBJECTIVES:
            raise ValueError(f"mode {mode!r} is not one of {', '.join(OBJECTIVES)}")
        if mode == "max_edap_worst_loss" and objective.optima is None:
            raise ValueError("the max_edap_worst_loss front needs each workload's optimum "
                             "(objective.optima)")
        space = evaluator.space
        self.evaluator, self.objective, self.mode = evaluator, objective, mode
        self.free = np.arange(space.n_var) if free is None else np.asarray(free, dtype=np.int64)
        self.base = (np.zeros(space.n_var, dtype=np.int64) if base is None
                     else np.asarray(base, dtype=np.int64).copy())
        n_w = len(evaluator.workloads) if objective.subset is None else len(objective.subset)
        card = space.cardinalities[self.free]
        n_obj = {"aggregate": 1, "energy_latency_area": 3, "max_edap_worst_loss": 2}[mode]
        super().__init__(n_var=len(self.free), n_obj=n_obj,
                         n_ieq_constr=1 + n_w, xl=np.zeros(len(self.free)), xu=card - 1,
                         vtype=int)
        self._top = card - 1  # the largest index of each searched gene (int)
        self._all_free = np.array_equal(self.free, np.arange(space.n_var))

    def full(self, x: np.ndarray) -> np.ndarray:
        """Searched genes (N x n_free, maybe float) -> full genomes of the space."""
        x = np.atleast_2d(np.asarray(x))
        genes = x if np.issubdtype(x.dtype, np.integer) else np.rint(x)
        genes = np.clip(genes, 0, self._top).astype(np.int64)
        if self._all_free:
            return genes
        out = np.repeat(self.base[None, :], len(x), axis=0)
        out[:, self.free] = genes
        return out

    def evaluate_full(self, x: np.ndarray) -> Evaluation:
        return self.evaluator.evaluate(self.full(x))

    def objectives(self, ev: Evaluation) -> tuple[np.ndarray, np.ndarray]:
        """(F, G) of evaluated designs as pymoo reads them: (N, n_obj) objective values
        (NaN and +inf as 1e300) and (N, n_ieq_constr) constraints, <= 0 satisfied."""
        if self.mode == "aggregate":
            f = self.objective.raw(ev)[:, None]
        elif self.mode == "max_edap_worst_loss":
            o = self.objective
            f = np.column_stack([Objective("max", o.subset).raw(ev), Objective(
                "worst_regret", o.subset, optima=o.optima).raw(ev)])
        else:
            f = np.column_stack(_components(ev, self.objective))
        return np.nan_to_num(f, nan=1e300, posinf=1e300), self.objective.violation(ev)

    def _evaluate(self, x: np.ndarray, out: dict, *args: object, **kwargs: object) -> None:
        out["F"], out["G"] = self.objectives(self.evaluate_full(x))


def _components(ev: Evaluation, objective: Objective) -> tuple[np.ndarray, ...]:
    """Energy and latency aggregated across workloads the way the aggregation does it."""
    e, lat = objective._cols(ev.energy_j), objective._cols(ev.latency_s)
    how = objective.aggregation
    if how == "mean":
        return e.mean(axis=1), lat.mean(axis=1), ev.area_mm2
    if how == "geomean":
        return (np.exp(np.log(e).mean(axis=1)), np.exp(np.log(lat).mean(axis=1)), ev.area_mm2)
    return e.max(axis=1), lat.max(axis=1), ev.area_mm2
