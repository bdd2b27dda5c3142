"""Objectives: per-workload metrics of genome batches and their aggregation across workloads.

`Evaluator` runs the cost model on every workload for a batch of index genomes (vectorised,
with an in-memory cache keyed by genome so a design seen before costs nothing) and returns an
`Evaluation`: energy and latency per design and workload, one area per design, feasibility
(weight capacity on every workload, area limit) and a reason when infeasible.

`aggregate` turns (N, W) energies and latencies and (N,) areas into one number per design:

| name | formula |
| --- | --- |
| `max` | max_w E_w * max_w L_w * A (the study's "ela") |
| `mean` | mean_w E_w * mean_w L_w * A (the study's "ela_mean") |
| `geomean` | geometric mean over w of E_w * L_w * A |
| `product` | A * prod_w E_w * prod_w L_w (the study's "ela_all") |
| `worst_regret` | max_w EDAP_w / EDAP_w* (each workload's own optimum, must be given) |
| `weighted` | sum_w weight_w * EDAP_w (weights normalised to sum 1), or of EDAP_w / EDAP_w* |
|  | when optima are given |
| `el_cost` | max_w E_w * max_w L_w * C (C: die cost, USD; the study's cost experiment) |
| `edap_cost` | max_w E_w * max_w L_w * A * C (the study's "ela_cost") |

`Objective.fitness` gives +inf to every infeasible design: infeasible is never good. A design
the model fails on (an exception, a NaN or negative metric) is infeasible with a reason
`failed: ...` (`imcopt.failures`), so it is stored and counted, never ranked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .failures import evaluate_guarded, failed_mask, mark_bad_metrics
from .hardware.fabrication import die_cost_usd
from .hardware.space import Designs, DesignSpace, genome_codes, mixed_radix
from .hardware.technology import Technology
from .model.cost import area_mm2, evaluate
from .model.psum import psum_bits_lost
from .model.xp import namespace
from .workloads.layer import Workload

if TYPE_CHECKING:
    from .backends import Backend
    from .cache import EvaluationCache
    from .executors import Executor

AGGREGATIONS = ("max", "mean", "geomean", "product", "worst_regret", "weighted", "el_cost",
                "edap_cost")
DEFAULT_AREA_LIMIT_MM2 = 800.0
#: the parameters the screen's weight-capacity check depends on (`Evaluator.capacity_table`)
CAPACITY_PARAMETERS = ("bits_per_cell", "rows_per_array", "cols_per_array", "router_groups",
                       "tiles_per_group", "arrays_per_tile")
MAX_CAPACITY_TABLE = 2_000_000  # combinations; bigger value lists screen designs one by one
MAX_SCREENED_SET = 3_000_000  # capacity candidates screened at once by `screened_set`
# capacity candidates listed at once (`capacity_candidates`): the spaces with circuit knobs
# hold ~1e10 designs, whose candidates would not fit in memory
MAX_CAPACITY_CANDIDATES = 20_000_000


class ObjectiveError(ValueError):
    """An objective or aggregation is set up wrongly; the message names the field."""


def aggregate(
    energy_j: np.ndarray,
    latency_s: np.ndarray,
    area: np.ndarray,
    how: str = "max",
    *,
    weights: Sequence[float] | None = None,
    optima: Sequence[float] | None = None,
    cost: np.ndarray | None = None,
) -> np.ndarray:
    """One score per design from (N, W) energies/latencies and (N,) areas (and die costs in
    USD for the cost aggregations); lower is better."""
    e, lat = np.atleast_2d(energy_j), np.atleast_2d(latency_s)
    a = np.asarray(area, dtype=np.float64).reshape(-1)
    edap = e * lat * a[:, None]
    if how == "max":
        return e.max(axis=1) * lat.max(axis=1) * a
    if how == "mean":
        return e.mean(axis=1) * lat.mean(axis=1) * a
    if how == "geomean":
        with np.errstate(divide="ignore"):
            return np.exp(np.log(edap).mean(axis=1))
    if how == "product":
        return a * np.prod(e, axis=1) * np.prod(lat, axis=1)
    if how == "worst_regret":
        if optima is None:
            raise ObjectiveError("aggregation 'worst_regret' needs each workload's optimum "
                                 "(optima=[...], one per workload)")
        return (edap / _per_workload(optima, e.shape[1], "optima")).max(axis=1)
    if how == "weighted":
        w = (np.ones(e.shape[1]) if weights is None
             else _per_workload(weights, e.shape[1], "weights"))
        if np.any(w < 0) or w.sum() <= 0:
            raise ObjectiveError("weights must be >= 0 and not all 0")
        norm = edap if optima is None else edap / _per_workload(optima, e.shape[1], "optima")
        return norm @ (w / w.sum())
    if how in ("el_cost", "edap_cost"):
        if cost is None:
            raise ObjectiveError(f"aggregation {how!r} needs each design's die cost (cost=...)")
        return e.max(axis=1) * lat.max(axis=1) * np.asarray(cost).reshape(-1) * (
            a if how == "edap_cost" else 1.0)
    raise ObjectiveError(f"aggregation {how!r} is not one of {', '.join(AGGREGATIONS)}")


def _per_workload(values: Sequence[float], n: int, what: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.shape != (n,):
        raise ObjectiveError(f"{what}: expected {n} values (one per workload), got {v.size}")
    if what == "optima" and (np.any(~np.isfinite(v)) or np.any(v <= 0)):
        raise ObjectiveError("optima must be finite and > 0")
    return v


@dataclass
class Evaluation:
    """Results for N genomes on W workloads."""

    genomes: np.ndarray  # (N, n_var) int
    energy_j: np.ndarray  # (N, W)
    latency_s: np.ndarray  # (N, W)
    area_mm2: np.ndarray  # (N,)
    capacity_ok: np.ndarray  # (N, W) bool: the model's feasibility on that workload
    capacity_violation: np.ndarray  # (N, W) <= 0 when the weights fit
    area_limit_mm2: float
    reason: np.ndarray  # (N,) str ("" when feasible on every workload; may be an object array)
    cost_usd: np.ndarray  # (N,) fabrication cost of one good die (hardware/fabrication.py)

    def __len__(self) -> int:
        return self.genomes.shape[0]

    @property
    def edap(self) -> np.ndarray:
        """(N, W) energy x latency x area per workload, J s mm^2."""
        return self.energy_j * self.latency_s * self.area_mm2[:, None]

    @property
    def manufacturable(self) -> np.ndarray:
        """(N,) bool: at least one good die per wafer (a finite die cost)."""
        return np.isfinite(self.cost_usd)

    @property
    def area_ok(self) -> np.ndarray:
        """(N,) bool: within the area limit, and small enough to make (`manufacturable`)."""
        return (self.area_mm2 <= self.area_limit_mm2) & self.manufacturable

    @property
    def area_violation(self) -> np.ndarray:
        """(N,) relative area excess; <= 0 within the limit (> 0 for a die too large to
        make, whatever the limit)."""
        with np.errstate(invalid="ignore"):
            excess = self.area_mm2 / self.area_limit_mm2 - 1.0
        return np.where(self.manufacturable, excess, np.maximum(excess, 1e-6))

    def feasible_on(self, subset: Sequence[int] | None = None) -> np.ndarray:
        cap = self.capacity_ok if subset is None else self.capacity_ok[:, list(subset)]
        return self.area_ok & cap.all(axis=1)

    @property
    def feasible(self) -> np.ndarray:
        return self.feasible_on(None)

    @property
    def failed(self) -> np.ndarray:
        """(N,) bool: the model failed on the design (error, non-finite or negative metric)."""
        return failed_mask(self.reason)

    def take(self, index: np.ndarray | slice) -> Evaluation:
        return Evaluation(self.genomes[index], self.energy_j[index], self.latency_s[index],
                          self.area_mm2[index], self.capacity_ok[index],
                          self.capacity_violation[index], self.area_limit_mm2,
                          self.reason[index], self.cost_usd[index])


class GenomeIndex:
    """Rows of the genomes stored so far, by genome code (`hardware.space.genome_codes`):
    int64 codes are kept sorted and looked up as arrays; byte codes (spaces too large for
    int64) in a dict."""

    def __init__(self) -> None:
        self._codes = np.empty(0, np.int64)
        self._rows = np.empty(0, np.int64)
        self._dict: dict[bytes, int] = {}

    def rows(self, codes: np.ndarray) -> np.ndarray:
        """(N,) row of each code, -1 where not stored."""
        if codes.dtype == object:
            return np.array([self._dict.get(c, -1) for c in codes], dtype=np.int64)
        if not len(self._codes):
            return np.full(len(codes), -1, np.int64)
        pos = np.minimum(np.searchsorted(self._codes, codes), len(self._codes) - 1)
        return np.where(self._codes[pos] == codes, self._rows[pos], -1)

    def add(self, codes: np.ndarray, first_row: int) -> None:
        """Store distinct new codes as rows first_row, first_row + 1, ..."""
        rows = np.arange(first_row, first_row + len(codes), dtype=np.int64)
        if codes.dtype == object:
            self._dict.update(zip(codes.tolist(), rows.tolist(), strict=True))
            return
        order = np.argsort(codes, kind="stable")
        at = np.searchsorted(self._codes, codes[order])
        self._codes = np.insert(self._codes, at, codes[order])
        self._rows = np.insert(self._rows, at, rows[order])


class EvaluationTable:
    """Evaluations appended batch by batch into preallocated columns that double when full,
    so that adding a generation costs its own size, not the size of everything before it;
    `view()` gives read-only views of the rows so far. Reasons are held as Python strings
    (an object column): rows copied from one table to another share them, where fixed-width
    text would cost each table 4 bytes per character of the longest reason."""

    _GROW = ("genomes", "energy_j", "latency_s", "area_mm2", "capacity_ok",
             "capacity_violation", "reason", "cost_usd")

    def __init__(self, n_var: int, n_workloads: int, capacity: int = 1024) -> None:
        self.n, self.area_limit_mm2 = 0, float("nan")
        w = (capacity, n_workloads)
        self.cols: dict[str, np.ndarray] = {
            "genomes": np.empty((capacity, n_var), np.int64), "energy_j": np.empty(w),
            "latency_s": np.empty(w), "area_mm2": np.empty(capacity),
            "capacity_ok": np.empty(w, bool), "capacity_violation": np.empty(w),
            "reason": np.empty(capacity, object), "cost_usd": np.empty(capacity)}
        self._view: Evaluation | None = None

    def __len__(self) -> int:
        return self.n

    def append(self, ev: Evaluation) -> None:
        m = len(ev)
        self.area_limit_mm2 = ev.area_limit_mm2
        cap = len(self.cols["area_mm2"])
        if self.n + m > cap:
            size = max(cap, 1)
            while size < self.n + m:
                size *= 2
            for name, col in self.cols.items():
                grown = np.empty((size, *col.shape[1:]), col.dtype)
                grown[:self.n] = col[:self.n]
                self.cols[name] = grown
        for name in self._GROW:
            self.cols[name][self.n:self.n + m] = getattr(ev, name)
        self.n += m
        self._view = None

    def view(self) -> Evaluation:
        if self._view is None:
            parts = {}
            for name, col in self.cols.items():
                v = col[:self.n]
                v.flags.writeable = False
                parts[name] = v
            self._view = Evaluation(area_limit_mm2=self.area_limit_mm2, **parts)
        return self._view


@dataclass(frozen=True)
class Objective:
    """An aggregation over a subset of the evaluator's workloads (all when `subset` is None)."""

    aggregation: str = "max"
    subset: tuple[int, ...] | None = None
    weights: tuple[float, ...] | None = None
    optima: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.aggregation not in AGGREGATIONS:
            raise ObjectiveError(f"aggregation {self.aggregation!r} is not one of "
                                 f"{', '.join(AGGREGATIONS)}")
        if self.aggregation == "worst_regret" and self.optima is None:
            raise ObjectiveError("aggregation 'worst_regret' needs optima")

    def _cols(self, x: np.ndarray) -> np.ndarray:
        return x if self.subset is None else x[:, list(self.subset)]

    def raw(self, ev: Evaluation) -> np.ndarray:
        """The aggregate from the model's numbers, feasible or not (finite where the model is)."""
        return aggregate(self._cols(ev.energy_j), self._cols(ev.latency_s), ev.area_mm2,
                         self.aggregation, weights=self.weights, optima=self.optima,
                         cost=ev.cost_usd)

    def feasible(self, ev: Evaluation) -> np.ndarray:
        return ev.feasible_on(self.subset)

    def fitness(self, ev: Evaluation) -> np.ndarray:
        """The aggregate, +inf for every design infeasible on a workload of the subset."""
        return np.where(self.feasible(ev), self.raw(ev), np.inf)

    def violation(self, ev: Evaluation) -> np.ndarray:
        """(N, 1 + W') constraint values for pymoo (<= 0 satisfied): area, then capacity."""
        return np.column_stack([ev.area_violation, self._cols(ev.capacity_violation)])

    def rank(self, ev: Evaluation) -> np.ndarray:
        """Indices best first: feasible by fitness, then infeasible by total violation."""
        fit = self.fitness(ev)
        cv = np.maximum(self.violation(ev), 0.0).sum(axis=1)
        return np.lexsort((np.nan_to_num(self.raw(ev), nan=np.inf), cv, ~np.isfinite(fit)))


@dataclass
class Evaluator:
    """Evaluates genome batches of `space` on every workload, with a cache and counters.

    n_calls: genomes asked for (objective calls, duplicates and cache hits included);
    n_evals: distinct designs the cost model actually evaluated.
    device: the model's arrays: numpy (default), cpu or cuda (PyTorch; see `model.xp`).
    backend (default the analytical model), executor (default in-process) and cache_file (a
    persistent `EvaluationCache`, used while `cache` is on): see docs/scale.md.
    """

    space: DesignSpace
    technology: Technology
    workloads: Sequence[Workload]
    area_limit_mm2: float = DEFAULT_AREA_LIMIT_MM2
    cache: bool = True
    device: str = "numpy"
    backend: Backend | None = None
    executor: Executor | None = None
    cache_file: EvaluationCache | str | Path | None = None
    n_calls: int = 0
    n_evals: int = 0
    _index: GenomeIndex = field(default_factory=lambda: GenomeIndex(), repr=False)
    _table: EvaluationTable | None = field(default=None, repr=False)
    _required: dict = field(default_factory=dict, repr=False)  # screen look-ups

    def __post_init__(self) -> None:
        self.workloads = list(self.workloads)
        if not self.workloads:
            raise ObjectiveError("workloads: at least one workload is needed")
        if not self.area_limit_mm2 > 0:
            raise ObjectiveError(f"area_limit_mm2 must be > 0, got {self.area_limit_mm2}")
        namespace(self.device)  # fails early: unknown device, no torch, no GPU
        if isinstance(self.cache_file, str | Path):
            from .cache import EvaluationCache

            self.cache_file = EvaluationCache(self.cache_file)

    @property
    def workload_names(self) -> list[str]:
        return [w.name for w in self.workloads]

    # ---- the model ---------------------------------------------------------------------
    def _compute(self, genomes: np.ndarray) -> Evaluation:
        with np.errstate(all="ignore"):  # out-of-range values end as failed designs
            return self._compute_quietly(genomes)

    def _compute_quietly(self, genomes: np.ndarray) -> Evaluation:
        d = self.space.decode(genomes)
        ms = self._metrics(d)
        arrays = d["router_groups"] * d["tiles_per_group"] * d["arrays_per_tile"]
        ok = np.column_stack([m.feasible for m in ms])
        short = np.column_stack([m.weight_arrays_required / arrays - 1.0 for m in ms])
        if self.technology.weight_residency != "resident":
            short = np.full_like(short, -1.0)
        short = np.where(ok, np.minimum(short, 0.0), np.maximum(short, 1e-6))
        short = np.where(np.isfinite(short), short, 1.0)  # failed designs: violated
        reason = np.full(len(d), "", dtype=object)
        area = ms[0].area_mm2
        cost = die_cost_usd(area, d["technology_node_nm"])
        for i in np.flatnonzero(area > self.area_limit_mm2):
            reason[i] = f"area {area[i]:.1f} mm2 > limit {self.area_limit_mm2:g} mm2"
        for i in np.flatnonzero(~np.isfinite(cost) & (area <= self.area_limit_mm2)):
            reason[i] = (f"area {area[i]:.1f} mm2: not one good die per 300 mm wafer (die "
                         "cost infinite)")
        for m in ms:
            for i in np.flatnonzero(~m.feasible):
                reason[i] = "; ".join(filter(None, [reason[i], f"{m.workload}: {m.reason[i]}"]))
        self.n_evals += len(d)
        return Evaluation(np.asarray(genomes, dtype=np.int64), np.column_stack(
            [m.energy_j for m in ms]), np.column_stack([m.latency_s for m in ms]), area, ok,
            short, self.area_limit_mm2, reason.astype(str), cost)

    def _metrics(self, d: Designs, workloads: Sequence[Workload] | None = None) -> list:
        """Per-workload metrics of decoded designs: through the backend, the executor and
        the persistent cache when any is set."""
        wls = self.workloads if workloads is None else workloads
        disk = self.cache_file if self.cache else None
        from .backends import AnalyticalBackend, evaluate_workloads, make_backend
        from .executors import InProcess

        if disk is None and self._analytical and isinstance(self.executor, InProcess | None):
            return [evaluate_guarded(d, w, self.technology, device=self.device) for w in wls]

        backend = make_backend(self.backend)
        if isinstance(backend, AnalyticalBackend):  # the model runs on the evaluator's device
            backend = AnalyticalBackend(device=self.device)
        return [mark_bad_metrics(m) for m in evaluate_workloads(
            d, wls, self.technology, backend, self.executor, disk)]

    @property
    def _analytical(self) -> bool:
        """Whether the backend is the analytical model (then `screen` may use it)."""
        from .backends import AnalyticalBackend

        return self.backend is None or isinstance(self.backend, AnalyticalBackend)

    def evaluate(self, genomes: np.ndarray) -> Evaluation:
        """Metrics of N genomes (N x n_var) on every workload; cached designs are reused."""
        x = self.space.check_genomes(genomes)
        self.n_calls += len(x)
        if not self.cache:
            return self._compute(x)
        rows = self._ensure(x)
        return self.evaluated().take(rows)

    def ensure(self, genomes: np.ndarray) -> None:
        """Evaluate whatever of `genomes` is not cached yet (counts no calls, returns
        nothing: a prefetch)."""
        if self.cache:
            self._ensure(self.space.check_genomes(genomes))

    def _ensure(self, x: np.ndarray) -> np.ndarray:
        """Rows of `x` in the cache, computing the missing ones (distinct, first-seen order)."""
        codes = genome_codes(x, self.space.cardinalities)
        rows = self._index.rows(codes)
        missing = np.flatnonzero(rows < 0)
        if len(missing):
            first = missing[np.sort(np.unique(codes[missing], return_index=True)[1])]
            self._append(self._compute(x[first]), codes[first])
            rows[missing] = self._index.rows(codes[missing])
        return rows

    def add(self, ev: Evaluation) -> None:
        """Put already computed results (e.g. from an exhaustive scan) into the cache."""
        codes = genome_codes(ev.genomes, self.space.cardinalities)
        new = np.flatnonzero(self._index.rows(codes) < 0)
        new = new[np.sort(np.unique(codes[new], return_index=True)[1])]
        if len(new):
            self._append(ev.take(new), codes[new])

    def flush(self) -> None:
        """Write what the persistent cache holds in memory (it writes in batches)."""
        if self.cache_file is not None and not isinstance(self.cache_file, str | Path):
            self.cache_file.flush()

    def evaluated(self) -> Evaluation:
        """Every distinct design evaluated so far, in first-seen order (read-only views)."""
        if self._table is None:
            return self._compute(np.empty((0, self.space.n_var), dtype=np.int64))
        return self._table.view()

    def _append(self, ev: Evaluation, codes: np.ndarray) -> None:
        if self._table is None:
            self._table = EvaluationTable(self.space.n_var, len(self.workloads))
        self._index.add(codes, len(self._table))
        self._table.append(ev)

    # ---- cheap screening (no full model run) ------------------------------------------------
    def area(self, genomes: np.ndarray) -> np.ndarray:
        """(N,) chip area in mm^2; depends on the design only."""
        return sum(area_mm2(self.space.decode(genomes), self.technology).values())

    def screen(self, genomes: np.ndarray, subset: Sequence[int] | None = None) -> np.ndarray:
        """(N,) bool: within the area limit, makeable (a finite die cost), no column sum
        truncated beyond the technology's limit (`precision_ok`) and (resident weights) the
        weights of every workload in `subset` fit. The arrays a workload needs
        depend only on rows, columns and bits per cell, so they are computed once per
        distinct combination; the area (the dearer check) only for the designs that pass the
        others.
        With another backend than the analytical model every design passes (only the
        backend may judge it)."""
        x = self.space.check_genomes(genomes)
        if not self._analytical:
            return np.ones(len(x), dtype=bool)
        ok = self._capacity_ok(x, subset)
        rest = np.flatnonzero(ok)
        if len(rest):
            d = self.space.decode(x[rest])
            with np.errstate(all="ignore"):
                area = sum(area_mm2(d, self.technology).values())
                ok[rest] = (area <= self.area_limit_mm2) & np.isfinite(
                    die_cost_usd(area, d["technology_node_nm"]))
            ok[rest] &= self.precision_ok(d, subset)
        return ok

    def precision_ok(self, d: Designs, subset: Sequence[int] | None = None) -> np.ndarray:
        """(N,) bool: no workload in `subset` has a column sum the ADC truncates by more than
        the technology allows (`Technology.psum_bits_limit`; depends on the design only)."""
        ok = np.ones(d.n, dtype=bool)
        limit = self.technology.psum_bits_limit
        if not np.isfinite(limit):
            return ok
        for w in range(len(self.workloads)) if subset is None else subset:
            ok &= psum_bits_lost(d, self.workloads[w], self.technology) <= limit
        return ok

    def _capacity_ok(self, x: np.ndarray, subset: Sequence[int] | None) -> np.ndarray:
        """The screen's cheap part: the cells hold the bits and (resident weights) the weights
        of every workload in `subset` fit; depends on `CAPACITY_PARAMETERS` only."""
        def val(name: str) -> np.ndarray:
            return self.space.values_of(x, name)

        ok = val("bits_per_cell") <= self.technology.c["max_bits_per_cell"]
        if self.technology.weight_residency == "resident":
            arrays = val("router_groups") * val("tiles_per_group") * val("arrays_per_tile")
            code = ((val("rows_per_array").astype(np.int64) << 24)
                    + (val("cols_per_array").astype(np.int64) << 8)
                    + val("bits_per_cell").astype(np.int64))
            uniq, inverse = np.unique(code, return_inverse=True)
            geo = np.column_stack([uniq >> 24, (uniq >> 8) & 0xFFFF, uniq & 0xFF]).astype(float)
            for w in range(len(self.workloads)) if subset is None else subset:
                ok &= self._required_arrays(w, geo)[inverse.reshape(-1)] <= arrays
        return ok

    def capacity_table(self, subset: Sequence[int] | None = None
                       ) -> tuple[np.ndarray, np.ndarray] | None:
        """(genes, table): the screen's cheap part over every combination of the values of
        the `CAPACITY_PARAMETERS` the space searches (`genes`: their positions in a genome;
        `table[i, j, ...]`: whether values i, j, ... pass). Every design the screen passes has
        True here, so drawing those combinations, the other genes at random, then screening
        is the same as screening uniform random designs, with far fewer rejected. None when
        the screen has no such part (another backend than the analytical model)."""
        genes = np.array([i for i, n in enumerate(self.space.names)
                          if n in CAPACITY_PARAMETERS], dtype=np.int64)
        cards = self.space.cardinalities[genes]
        if not self._analytical or float(np.prod(cards, dtype=float)) > MAX_CAPACITY_TABLE:
            return None
        key = ("capacity", None if subset is None else tuple(subset))
        if key not in self._required:
            x = np.zeros((int(np.prod(cards)), self.space.n_var), dtype=np.int64)
            x[:, genes] = mixed_radix(cards, 0, len(x))
            self._required[key] = (genes, self._capacity_ok(x, subset).reshape(tuple(cards)))
        return self._required[key]  # type: ignore[return-value]

    def capacity_candidates(self, subset: Sequence[int] | None = None,
                            limit: int = MAX_CAPACITY_CANDIDATES) -> np.ndarray | None:
        """Sorted numbers (mixed-radix order of the whole space) of the designs whose
        weight-capacity genes pass (`capacity_table`): a superset of what the screen passes.
        None without a capacity table, or when there are more than `limit` of them."""
        found = self.capacity_table(subset)
        if found is None:
            return None
        genes, table = found
        cards = self.space.cardinalities
        others = np.setdiff1d(np.arange(len(cards)), genes)
        if int(table.sum()) * float(np.prod(cards[others], dtype=float)) > limit:
            return None
        strides = np.append(np.cumprod(cards[::-1])[::-1][1:], 1)
        passing = np.column_stack(np.nonzero(table)) @ strides[genes]
        rest = mixed_radix(cards[others], 0, int(np.prod(cards[others]))) @ strides[others]
        return np.sort((passing[:, None] + rest[None, :]).ravel())

    def screened_set(self, subset: Sequence[int] | None = None,
                     limit: int = MAX_SCREENED_SET) -> np.ndarray | None:
        """Every design of the space the screen passes for `subset` (genomes, enumeration
        order), found by screening the `capacity_candidates` once and remembered; None when
        there are more than `limit` candidates (too dear) or no capacity table."""
        key = ("screened", None if subset is None else tuple(subset))
        if key not in self._required:
            numbers = self.capacity_candidates(subset, limit)
            if numbers is None:
                return None
            parts = []
            for start in range(0, len(numbers), 250_000):
                g = np.column_stack(np.unravel_index(numbers[start:start + 250_000],
                                                     self.space.cardinalities))
                parts.append(g[self.screen(g, subset)])
            self._required[key] = np.concatenate(parts) if parts else np.empty(
                (0, self.space.n_var), np.int64)
        return self._required[key]  # type: ignore[return-value]

    def edap_on(self, genomes: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
        """(EDAP, feasible) of N genomes on workload `w` alone; no cache, counts no calls."""
        d = self.space.decode(genomes)
        if self._analytical:
            m = evaluate_guarded(d, self.workloads[w], self.technology, device=self.device)
        else:
            m = self._metrics(d, [self.workloads[w]])[0]
        with np.errstate(all="ignore"):
            edap = m.energy_j * m.latency_s * m.area_mm2
            made = np.isfinite(die_cost_usd(m.area_mm2, d["technology_node_nm"]))
        return edap, m.feasible & (m.area_mm2 <= self.area_limit_mm2) & made

    def _required_arrays(self, w: int, geo: np.ndarray) -> np.ndarray:
        wl = self.workloads[w]
        out = np.empty(len(geo))
        todo = []
        for i, g in enumerate(geo):
            key = f"{wl.name}|{g.tobytes().hex()}"
            if key in self._required:
                out[i] = self._required[key]
            else:
                todo.append(i)
        if todo:
            probe = {"rows_per_array": geo[todo, 0], "cols_per_array": geo[todo, 1],
                     "bits_per_cell": geo[todo, 2]}
            d = Designs.from_values(probe, n=len(todo), fixed=self.space.fixed)
            req = evaluate(d, wl, self.technology, per_layer=False).weight_arrays_required
            for i, r in zip(todo, req, strict=True):
                out[i] = r
                self._required[f"{wl.name}|{geo[i].tobytes().hex()}"] = r
        return out


def aggregate_unit(how: str, n_workloads: int = 1, normalised: bool = False) -> str:
    """The unit of an aggregate (what `fitness` is measured in); `normalised`: the weighted
    aggregation divides by each workload's optimum."""
    if how == "worst_regret" or (how == "weighted" and normalised):
        return "x (EDAP / own optimum)"
    if how == "product":
        return f"J^{n_workloads} s^{n_workloads} mm2"
    return {"el_cost": "J s USD", "edap_cost": "J s mm2 USD"}.get(how, "J s mm2")


#: what each aggregation measures, in words (console and report)
AGGREGATE_MEANING = {
    "max": "worst-case energy x worst-case latency x area",
    "mean": "mean energy x mean latency x area",
    "geomean": "geometric mean of the networks' EDAP",
    "product": "area x product of energies x product of latencies",
    "worst_regret": "largest per-network loss factor (EDAP / own optimum)",
    "weighted": "weighted sum of the networks' EDAP",
    "el_cost": "worst-case energy x worst-case latency x die cost",
    "edap_cost": "worst-case energy x worst-case latency x area x die cost",
}
