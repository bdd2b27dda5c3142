"""`ConstrainedEvaluator`: an `Evaluator` that runs each network at its own precision and
weight replication cap (when the space is a `JointSpace`) and adds per-network constraints:
a minimum accuracy (from the user's accuracy table or callback) and a most partial-sum bits
the ADC may drop.

A design that breaks a constraint on a network is infeasible on that network (its
`capacity_ok` column is False, its violation positive, and `reason` says which rule), so every
search, ranking and output treats it like any other infeasible design.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..failures import evaluate_guarded
from ..hardware.space import Designs
from ..model.cost import Metrics
from ..model.psum import psum_bits_lost
from ..objectives import Evaluation, Evaluator
from ..workloads.layer import Workload
from .precision import (
    DEFAULT_BITS,
    SOFTWARE_KNOBS,
    UNLIMITED_COPIES,
    AccuracyFn,
    JointDesigns,
    JointSpace,
    at_precision,
    at_replication,
)


@dataclass
class ConstrainedEvaluator(Evaluator):
    accuracy: AccuracyFn | None = None
    min_accuracy: Mapping[str, float] = field(default_factory=dict)
    max_psum_bits_lost: float | None = None
    _variants: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        unknown = [n for n in self.min_accuracy if n not in self.workload_names]
        if unknown:
            raise ValueError(f"min_accuracy: {unknown[0]!r} is not one of the workloads "
                             f"({', '.join(self.workload_names)})")
        if self.min_accuracy and self.accuracy is None:
            raise ValueError("min_accuracy needs an accuracy table or callback (accuracy=...)")

    # ---- precision ------------------------------------------------------------------------
    def precision(self, d: Designs, w: int) -> tuple[np.ndarray, np.ndarray]:
        """(weight bits, activation bits) per design on workload `w`."""
        if isinstance(d, JointDesigns):
            return d.precision(self.workloads[w].name)
        return np.full(d.n, float(DEFAULT_BITS)), np.full(d.n, float(DEFAULT_BITS))

    def _variant(self, w: int, wb: int, ab: int, copies: int = UNLIMITED_COPIES) -> Workload:
        key = (w, wb, ab, copies)
        if key not in self._variants:
            self._variants[key] = at_replication(at_precision(self.workloads[w], wb, ab),
                                                 copies)
        return self._variants[key]

    def _groups(self, d: Designs, w: int) -> list[tuple[np.ndarray, Workload]]:
        """(design indices, workload at their setting), one per distinct (weight bits,
        activation bits, replication cap)."""
        wb, ab = self.precision(d, w)
        copies = (d.replication(self.workloads[w].name) if isinstance(d, JointDesigns)
                  else np.full(d.n, float(UNLIMITED_COPIES)))
        sets, inverse = np.unique(np.column_stack([wb, ab, copies]), axis=0,
                                  return_inverse=True)
        return [(np.flatnonzero(inverse.reshape(-1) == g),
                 self._variant(w, int(p[0]), int(p[1]), int(p[2])))
                for g, p in enumerate(sets)]

    def _metrics_on(self, d: Designs, w: int) -> Metrics:
        """Workload `w` of a `JointSpace`, each design at its own precision (analytical)."""
        groups = self._groups(d, w)
        if len(groups) == 1:
            return evaluate_guarded(d, groups[0][1], self.technology, device=self.device)
        parts = [(idx, evaluate_guarded(d.take(idx), wl, self.technology, device=self.device))
                 for idx, wl in groups]
        return _scatter(parts, d.n)

    def _metrics(self, d: Designs, workloads: Sequence[Workload] | None = None) -> list:
        if not isinstance(self.space, JointSpace):
            # one precision per network: the backend, executor and cache of `Evaluator`
            return super()._metrics(d, workloads)
        return [self._metrics_on(d, self.workloads.index(wl))
                for wl in (self.workloads if workloads is None else workloads)]

    # ---- constraints ----------------------------------------------------------------------
    def _psum_bits_lost(self, d: Designs, w: int) -> np.ndarray:
        """(N,) partial-sum bits the ADC drops on workload `w` at each design's precision;
        computed here, not taken from the metrics, so that it holds for every backend and
        for results read back from a persistent cache."""
        if not isinstance(self.space, JointSpace):
            return psum_bits_lost(d, self.workloads[w], self.technology)
        out = np.zeros(d.n)
        for idx, wl in self._groups(d, w):  # _groups: one per distinct precision
            out[idx] = psum_bits_lost(d.take(idx), wl, self.technology)
        return out

    def accuracies(self, d: Designs) -> np.ndarray:
        """(N, W) accuracy per design and network (NaN without an accuracy source)."""
        out = np.full((d.n, len(self.workloads)), np.nan)
        if self.accuracy is None:
            return out
        for w, wl in enumerate(self.workloads):
            wb, ab = self.precision(d, w)
            pairs, inverse = np.unique(np.column_stack([wb, ab]), axis=0, return_inverse=True)
            acc = np.array([float(self.accuracy(wl.name, int(p[0]), int(p[1]))) for p in pairs])
            out[:, w] = acc[inverse.reshape(-1)]
        return out

    def _compute(self, genomes: np.ndarray) -> Evaluation:
        ev = super()._compute(genomes)
        if not len(ev):
            return ev
        if not self.min_accuracy and self.max_psum_bits_lost is None:
            return ev  # no per-network constraint to add
        d = self.space.decode(genomes)
        n_w = len(self.workloads)
        lost = (np.column_stack([self._psum_bits_lost(d, w) for w in range(n_w)])
                if self.max_psum_bits_lost is not None else np.zeros((len(ev), n_w)))
        acc = self.accuracies(d)
        excess = np.zeros_like(lost)
        reason = np.asarray(ev.reason, dtype=object).copy()
        for w, name in enumerate(self.workload_names):
            floor = self.min_accuracy.get(name)
            if floor is not None:
                short = (floor - acc[:, w]) / max(abs(floor), 1e-9)
                excess[:, w] = np.maximum(excess[:, w], short)
                _append_reasons(reason, short > 0, acc[:, w],
                                lambda a, n=name, f=floor: f"{n}: accuracy {a:g} < minimum {f:g}")
            if self.max_psum_bits_lost is not None:
                limit = self.max_psum_bits_lost
                over = (lost[:, w] - limit) / max(limit, 1.0)
                excess[:, w] = np.maximum(excess[:, w], over)
                _append_reasons(reason, over > 0, lost[:, w],
                                lambda b, n=name, m=limit: f"{n}: ADC drops {b:g} partial-sum "
                                                           f"bits > {m:g}")
        broken = excess > 0
        if broken.any():
            ev.capacity_ok = ev.capacity_ok & ~broken
            ev.capacity_violation = np.where(
                broken, np.maximum(np.maximum(ev.capacity_violation, excess), 1e-6),
                ev.capacity_violation)
            ev.reason = reason.astype(str)
        return ev

    def edap_on(self, genomes: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
        ev = self._compute(np.asarray(genomes))
        self.n_evals -= len(ev)  # a look-up, as the base class's
        return ev.edap[:, w], ev.capacity_ok[:, w] & ev.area_ok

    def screen(self, genomes: np.ndarray, subset=None) -> np.ndarray:
        """As `Evaluator.screen`, plus the minimum accuracies (a table look-up). With searched
        precision the weight capacity depends on the bits, so it is left to the model."""
        d = self.space.decode(genomes)
        if isinstance(self.space, JointSpace):
            ok = self.area(genomes) <= self.area_limit_mm2
            ok &= d["bits_per_cell"] <= self.technology.c["max_bits_per_cell"]
        else:
            ok = super().screen(genomes, subset)
        acc = self.accuracies(d)
        for w in range(len(self.workloads)) if subset is None else subset:
            floor = self.min_accuracy.get(self.workload_names[w])
            if floor is not None:
                ok &= acc[:, w] >= floor
        return ok

    def capacity_table(self, subset: Sequence[int] | None = None
                       ) -> tuple[np.ndarray, np.ndarray] | None:
        """None with searched precision (the screen leaves the weight capacity to the
        model there); else `Evaluator.capacity_table` (the accuracy floors only narrow the
        screen further)."""
        return None if isinstance(self.space, JointSpace) else super().capacity_table(subset)

    # ---- software choice for fixed hardware --------------------------------------------------
    def polish_precision(self, genomes: np.ndarray) -> np.ndarray:
        """The genomes with each network's software setting (precision and, where searched,
        replication cap) replaced by the one that minimises that network's EDAP on the same
        hardware among those feasible there (kept where none is). A network's metrics depend
        only on the hardware and its own setting, so the choice is per network: (designs x
        networks x settings) evaluations, no search."""
        space = self.space
        x = space.check_genomes(genomes).copy()
        if not isinstance(space, JointSpace) or not len(x):
            return x
        for w, name in enumerate(self.workload_names):
            cols = [space.names.index(f"{k}.{name}") for k in SOFTWARE_KNOBS
                    if f"{k}.{name}" in space.names]
            if not cols:
                continue
            cards = space.cardinalities[cols]
            combos = np.stack(np.meshgrid(*[np.arange(c) for c in cards], indexing="ij"),
                              -1).reshape(-1, len(cols))
            trial = np.repeat(x, len(combos), axis=0)
            trial[:, cols] = np.tile(combos, (len(x), 1))
            e = self.evaluate(trial)
            edap = np.where(e.capacity_ok[:, w] & e.area_ok, e.edap[:, w], np.inf)
            edap = edap.reshape(len(x), len(combos))
            pick = edap.argmin(axis=1)
            found = np.isfinite(edap[np.arange(len(x)), pick])
            x[np.ix_(np.flatnonzero(found), cols)] = combos[pick[found]]
        return x

    # ---- report -----------------------------------------------------------------------------
    def report_columns(self, genomes: np.ndarray) -> dict[str, np.ndarray]:
        """Per design: each network's precision (and replication cap where searched, 0 =
        unlimited), accuracy and partial-sum bits lost."""
        if not len(genomes):
            return {}
        d = self.space.decode(genomes)
        acc = self.accuracies(d)
        out: dict[str, np.ndarray] = {}
        for w, name in enumerate(self.workload_names):
            wb, ab = self.precision(d, w)
            out[f"weight_bits.{name}"] = wb.astype(int)
            out[f"activation_bits.{name}"] = ab.astype(int)
            if f"replication.{name}" in self.space.names:
                out[f"replication.{name}"] = d.replication(name).astype(int)
            out[f"psum_bits_lost.{name}"] = self._psum_bits_lost(d, w)
            if self.accuracy is not None:
                out[f"accuracy.{name}"] = acc[:, w]
            if isinstance(self.space, JointSpace):
                out[f"edap_vs_fixed_software.{name}"] = self._gain(d, w)
        return out

    def _gain(self, d: Designs, w: int) -> np.ndarray:
        """(N,) what the software knobs buy on each chip: EDAP on workload `w` at the design's
        precision (and replication cap) / EDAP of the same chip at 8-bit weights and
        activations with unlimited replication."""
        def edap(m: Metrics) -> np.ndarray:
            return m.energy_j * m.latency_s * m.area_mm2

        fixed = evaluate_guarded(d, self.workloads[w], self.technology, device=self.device)
        with np.errstate(invalid="ignore", divide="ignore"):
            return edap(self._metrics_on(d, w)) / edap(fixed)


def _scatter(parts: list[tuple[np.ndarray, Metrics]], n: int) -> Metrics:
    """One `Metrics` of n designs from metrics of disjoint index subsets (totals only)."""
    first = parts[0][1]

    def put(attr: str, dtype: object = np.float64) -> np.ndarray:
        out = np.empty(n, dtype=dtype)
        for idx, m in parts:
            out[idx] = getattr(m, attr)
        return out

    return Metrics(
        workload=first.workload, technology=first.technology, energy_j=put("energy_j"),
        latency_s=put("latency_s"), area_mm2=put("area_mm2"), feasible=put("feasible", bool),
        reason=put("reason", object).astype(str), macs=first.macs,
        utilization=put("utilization"), weight_arrays_required=put("weight_arrays_required"),
        executed_macs=put("executed_macs"), psum_bits_lost=put("psum_bits_lost"))


def _append_reasons(reason: np.ndarray, mask: np.ndarray, values: np.ndarray,
                    message: Callable[[float], str]) -> None:
    """Append `message(value)` to `reason` (object array, "; "-joined) where `mask` holds: one
    message formatted per distinct value, since an exhaustive scan breaks millions of designs
    on a handful of numbers."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return
    distinct, inverse = np.unique(values[idx], return_inverse=True)
    text = np.array([message(float(v)) for v in distinct], dtype=object)[inverse.reshape(-1)]
    old = reason[idx]
    reason[idx] = np.where(old == "", text, old + "; " + text)
