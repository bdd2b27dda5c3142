"""Provable lower bounds of each network's energy and latency from a few of its layers, which
let `exhaustive` skip (prune) designs that cannot reach the best.

Why they are lower bounds. When the layers of a network do not share the chip (weights
streamed from DRAM, or resident with every layer free to replicate over the whole chip as if
alone) and run one after another (`layer_schedule: sequential`), the model computes a layer's
energy and latency from the design and that layer alone (`model.cost._evaluate_block`: the
layers are independent columns of (N, L) arrays; only the capacity check sums over layers), and
the network's energy and latency are the sums over its layers. Every term is >= 0 (event counts
times energies per event; max(compute, movement) + write + fill cycles times the cycle), so the
sum over any subset of the layers is <= the total. Identical layers (same shape and bits) cost
the same, so each distinct layer is evaluated once and weighted by how often it occurs.

The layers not costed in full still count: each contributes its data-movement floor
(`model.floor`: the GLB, network and DRAM traffic and the cycles no mapping avoids, plus the
leakage over them), which is <= its energy and latency and costs no mapping. So a design's
bound on network w is its floor summed over all of w's layers, plus, for the picked layers,
how much more they cost in full than their floor (`LayerBound.lower`). With streamed weights
the floor alone is most of a layer's cost; where the floor is 0 (a policy with no bandwidth
bound and no fill), the picked layers carry the bound as before.

Every aggregation is non-decreasing in each network's energy and latency (max, mean, geomean,
product, weighted with weights >= 0, worst_regret with optima > 0, the cost ones with a cost
that depends on the area only), so the aggregate of the lower bounds, with the design's exact
area, is a lower bound of its aggregate. Designs the partial model fails on get the bound 0
(never pruned). `SLACK` absorbs rounding: a sum over a subset adds the same numbers in another
order than the full sum.

Layers sharing the chip (resident weights placed together, a pipelined schedule) couple the
layers, so no bound is offered there (`LayerBound.build` returns None) and `exhaustive`
evaluates every screened design.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..hardware.adc import check_design_codes
from ..hardware.fabrication import die_cost_usd
from ..hardware.space import Designs
from ..hardware.technology import Technology
from ..model.cost import _evaluate_block, area_mm2
from ..model.distinct import distinct_rows
from ..model.floor import TRAFFIC_COLUMNS, movement_cost, traffic_floor
from ..model.policy import policy_for
from ..objectives import Evaluator, Objective, aggregate
from ..workloads.layer import Layer, Workload

#: relative slack on every bound: prune only when bound * (1 - SLACK) > the threshold
SLACK = 1e-9
#: (design, layer) cells per block of the partial model runs
BLOCK_CELLS = 8192
#: designs on which the layers are ranked by their share of a network's energy and latency
SAMPLE_DESIGNS = 2000
#: of which `plan` scores its choices on the first this many that pass the screen
PLAN_DESIGNS = 256


def layers_independent(tech: Technology) -> bool:
    """Whether the model costs each layer of a network on its own (module docstring)."""
    pol = policy_for(tech.assumptions)
    shared_chip = tech.weight_residency == "resident" and not pol.replicate_whole_chip
    return tech.layer_schedule == "sequential" and not shared_chip


def bound_eligible(evaluator: Evaluator) -> bool:
    """The evaluator's energies and latencies are the analytical model's, run in process on
    numpy (so the bound's partial runs are the same model as its full ones), and its
    technology's layers are independent. A `ConstrainedEvaluator` qualifies unless each
    network runs at its own precision (a `JointSpace`): its constraints only make designs
    infeasible, which never lowers a value below the bound."""
    from ..executors import InProcess
    from .constrained import ConstrainedEvaluator
    from .precision import JointSpace

    if not (evaluator.device == "numpy" and evaluator._analytical
            and evaluator.cache_file is None and isinstance(evaluator.executor, InProcess | None)
            and layers_independent(evaluator.technology)):
        return False
    if isinstance(evaluator, ConstrainedEvaluator):
        return not isinstance(evaluator.space, JointSpace)
    cls = type(evaluator)
    return (cls._metrics is Evaluator._metrics
            and cls._compute_quietly is Evaluator._compute_quietly
            and cls.edap_on is Evaluator.edap_on)


@dataclasses.dataclass
class LayerBound:
    """Lower bounds of every network's energy and latency: every layer's data-movement floor,
    plus the full cost above it of some distinct layers (module docstring).

    order[w]: network w's distinct layers, heaviest first (mean share of its energy and
    latency above their floors on a sample of designs), as (index into `distinct`, times it
    occurs in the network). `lower(g, picks)` bounds with the picked layers in full:
    `first(counts)` picks each network's heaviest, `plan(objective, k)` the k that bound an
    objective best.
    """

    evaluator: Evaluator
    distinct: list[Layer]
    max_copies: list[int | None]  # of the network each distinct layer was first found in
    order: list[list[tuple[int, int]]]
    counts: np.ndarray  # (len(distinct), W) times each distinct layer occurs in each network
    # on a sample of screened designs: per distinct layer the energies and latencies in full
    # and their floors (S, len(distinct)) each, the areas (S,) and die costs (S,)
    sample: tuple[np.ndarray, ...] | None = None
    sample_genomes: np.ndarray | None = None  # the sample's designs (those that pass)

    @property
    def _all(self) -> Workload:
        """Every distinct layer as one workload (built once: its table is cached)."""
        if "_all_layers" not in self.__dict__:
            self.__dict__["_all_layers"] = Workload("floor", tuple(self.distinct))
        return self.__dict__["_all_layers"]

    @classmethod
    def build(cls, evaluator: Evaluator, sample: np.ndarray | None = None) -> LayerBound | None:
        """The bound for the evaluator's networks, or None where it is not valid
        (`bound_eligible`). sample: designs (genomes) that rank the layers by their share of
        energy and latency (default: `SAMPLE_DESIGNS` random ones); the ranking only decides
        how tight the bound is, never whether it is one."""
        if not bound_eligible(evaluator):
            return None
        distinct: list[Layer] = []
        copies: list[int | None] = []
        index: dict[tuple[Layer, int | None], int] = {}
        per_network: list[dict[int, int]] = []
        for wl in evaluator.workloads:
            c: dict[int, int] = {}
            for layer in wl.layers:
                key = (dataclasses.replace(layer, name="_"), wl.max_copies)
                if key not in index:
                    index[key] = len(distinct)
                    distinct.append(key[0])
                    copies.append(wl.max_copies)
                c[index[key]] = c.get(index[key], 0) + 1
            per_network.append(c)
        counts = np.zeros((len(distinct), len(per_network)))
        for w, c in enumerate(per_network):
            for i, k in c.items():
                counts[i, w] = k
        self = cls(evaluator, distinct, copies, [], counts)
        if sample is None:
            sample = evaluator.space.sample(SAMPLE_DESIGNS, 0)
        every = list(range(len(distinct)))
        d = evaluator.space.decode(sample)
        e, lat, area = self._layers(d, every)
        fe, fl = self._floors(d, np.eye(len(distinct)))
        keep = evaluator.screen(sample) if len(sample) else np.zeros(0, bool)
        cost = die_cost(evaluator, sample, area)
        assert cost is not None
        self.sample = (e[keep], lat[keep], fe[keep], fl[keep], area[keep], cost[keep])
        self.sample_genomes = np.asarray(sample)[keep]
        xe, xl = np.maximum(e - fe, 0.0), np.maximum(lat - fl, 0.0)  # above the floor
        for c in per_network:
            ids = np.array(list(c), dtype=np.int64)
            n = np.array([c[i] for i in ids], dtype=float)
            with np.errstate(all="ignore"):
                share = (xe[:, ids] * n / np.sum(xe[:, ids] * n, axis=1, keepdims=True)
                         + xl[:, ids] * n / np.sum(xl[:, ids] * n, axis=1, keepdims=True))
            weight = np.nan_to_num(np.nanmean(share, axis=0), nan=0.0) if len(share) else n
            rank = np.lexsort((ids, -weight))  # heaviest first; ties by first occurrence
            self.order.append([(int(ids[i]), int(n[i])) for i in rank])
        return self

    def n_layers(self, w: int) -> int:
        return len(self.order[w])

    def _layers(self, d: Designs, ids: list[int]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N, len(ids)) energy and latency of each distinct layer `ids` alone, (N,) area;
        NaN where the model fails."""
        ev = self.evaluator
        n = d.n
        e, lat = np.zeros((n, len(ids))), np.zeros((n, len(ids)))
        area = None
        groups: dict[int | None, list[int]] = {}
        for j, i in enumerate(ids):
            groups.setdefault(self.max_copies[i], []).append(j)
        for mc, cols in groups.items():
            wl = Workload("bound", tuple(self.distinct[ids[j]] for j in cols), max_copies=mc)
            # the model's per-block function directly: `cost.evaluate` adds what a bound does
            # not need (partial-sum check, reasons, breakdowns), and with few layers bigger
            # blocks than its own cost less Python per design (the same numbers: every
            # design's row is computed on its own)
            block = int(np.clip(BLOCK_CELLS // len(cols), 1024, BLOCK_CELLS))
            try:
                with np.errstate(all="ignore"):
                    check_design_codes(d)
                    for a in range(0, n, block):
                        out = _evaluate_block(d.take(slice(a, a + block)), wl, ev.technology,
                                              True)
                        m = len(out["area"])
                        e[a:a + m, cols] = out["layer_energy"].reshape(m, len(cols))
                        lat[a:a + m, cols] = out["layer_latency"].reshape(m, len(cols))
                        if area is None:
                            area = np.empty(n)
                        area[a:a + m] = out["area"]
            except Exception:  # a failed partial run bounds nothing
                e[:, cols], lat[:, cols] = np.nan, np.nan
        ok = np.isfinite(e) & np.isfinite(lat) & (e >= 0) & (lat >= 0)
        e, lat = np.where(ok, e, np.nan), np.where(ok, lat, np.nan)
        if area is None:
            area = self._area(d)
        return e, lat, np.asarray(area, dtype=np.float64)

    def _area(self, d: Designs) -> np.ndarray:
        """(N,) chip area in mm^2 of decoded designs (`Evaluator.area`)."""
        return (sum(area_mm2(d, self.evaluator.technology).values()) if d.n
                else np.zeros(0))

    def _floors(self, d: Designs, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, K) data-movement floors of energy and latency of the sums of distinct layers
        that `weights` (len(distinct), K) gives (`model.floor`; linear, so weights may be
        negative); NaN where the floor cannot be computed. The floor's bits and cycles
        depend on a few design parameters only (`TRAFFIC_COLUMNS`), so they are computed
        once per distinct combination of those."""
        n, k = d.n, weights.shape[1]
        if not n:
            return np.zeros((0, k)), np.zeros((0, k))
        try:
            with np.errstate(all="ignore"):
                first, inverse = distinct_rows(*(d[c] for c in TRAFFIC_COLUMNS))
                traffic = traffic_floor(d.take(first), self._all, self.evaluator.technology)
                sums = {name: (v @ weights)[inverse] for name, v in traffic.items()}
                return movement_cost(d, self.evaluator.technology, sums)
        except Exception:  # no floor: NaN, which bounds nothing
            return np.full((n, k), np.nan), np.full((n, k), np.nan)

    def first(self, counts: Sequence[int]) -> list[tuple[int, int, int]]:
        """Picks (network, distinct layer, times it occurs) of the first counts[w] distinct
        layers of each network w by its own ranking (`order`)."""
        return [(w, i, c) for w, k in enumerate(counts) for i, c in self.order[w][:k]]

    def floor_bounds(self, objective: Objective | None = None, network: int | None = None
                     ) -> bool:
        """Whether the floors alone bound the objective (or, with `network`, that network's
        EDAP) above 0 on every design of the sample: then the first bound of every design
        needs no layer in full."""
        if self.sample is None or not len(self.sample[4]):
            return False
        _, _, fe, fl, area, cost = self.sample
        el, ll = fe @ self.counts, fl @ self.counts
        if network is not None:
            b = el[:, network] * ll[:, network] * area
        else:
            assert objective is not None
            b = objective_bound(objective, el, ll, area, cost)
        return bool(np.all(b > 0))

    def plan(self, objective: Objective, size: int) -> list[tuple[int, int, int]]:
        """Up to `size` picks (network, distinct layer, times) chosen greedily for the
        objective: each adds the layer of a network of its subset that most raises the mean
        over the screened sample of log(bound / value), i.e. tightens its bound the most.
        Only how tight the bound is depends on this choice."""
        wls = range(len(self.order)) if objective.subset is None else objective.subset
        if objective.aggregation == "weighted" and objective.weights is not None:
            # a network weighted 0 adds nothing to the aggregate, so none to its bound
            cols = list(range(len(self.order))) if objective.subset is None \
                else list(objective.subset)
            wls = [w for w, wt in zip(cols, objective.weights, strict=True) if wt > 0]
        cand = [(w, i, c) for w in wls for i, c in self.order[w]]
        if self.sample is None or not len(self.sample[4]):
            return cand[:size]
        # (a few hundred designs rank the layers as well as thousands, at a tenth the cost)
        e, lat, fe, fl, area, cost = (a[:PLAN_DESIGNS] for a in self.sample)
        s, n_w = len(area), len(self.order)
        xe, xl = np.nan_to_num(e - fe), np.nan_to_num(lat - fl)  # above the floor

        def sums(picks: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
            el, ll = fe @ self.counts, fl @ self.counts
            for w, i, c in picks:
                el[:, w] += c * xe[:, i]
                ll[:, w] += c * xl[:, i]
            return el, ll

        with np.errstate(all="ignore"):
            true = np.log(objective_bound(objective, *sums(cand), area, cost))
            chosen: list[tuple[int, int, int]] = []
            if not self.floor_bounds(objective) and objective.aggregation in (
                    "geomean", "product"):  # a product bounds nothing until each has a layer
                chosen = [p for p in self.first([1] * n_w) if p[0] in wls]
            cand = [p for p in cand if p not in chosen]
            el, ll = sums(chosen)
            for _ in range(min(size - len(chosen), len(cand))):
                # every candidate at once: (candidates, S, W) sums with its layer added
                w, i, c = (np.array(v) for v in zip(*cand, strict=True))
                el_c = np.repeat(el[None], len(cand), axis=0)
                ll_c = np.repeat(ll[None], len(cand), axis=0)
                j = np.arange(len(cand))
                el_c[j, :, w] += c[:, None] * xe[:, i].T
                ll_c[j, :, w] += c[:, None] * xl[:, i].T
                b = objective_bound(objective, el_c.reshape(-1, n_w), ll_c.reshape(-1, n_w),
                                    np.tile(area, len(cand)), np.tile(cost, len(cand)))
                score = np.nanmean(np.maximum(np.log(b.reshape(len(cand), s)), -745.0) - true,
                                   axis=1)
                pick = cand.pop(int(np.nanargmax(score)) if np.isfinite(score).any() else 0)
                chosen.append(pick)
                el[:, pick[0]] += pick[2] * xe[:, pick[1]]
                ll[:, pick[0]] += pick[2] * xl[:, pick[1]]
        return chosen

    def lower(self, genomes: np.ndarray, picks: Sequence[tuple[int, int, int]],
              floor: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N, W) lower bounds of energy and latency: every network's floor over all its
        layers (`floor`; without it, 0) plus how much more the picked layers (network,
        distinct layer, times it occurs in the network; each pair at most once) cost in
        full than their floors; and the (N,) area. NaN (a bound of 0) where the model or
        the floor fails."""
        use: dict[int, int] = {}
        picked = np.zeros_like(self.counts)
        for w, i, c in picks:
            use.setdefault(i, len(use))
            picked[i, w] += c
        # the floors are linear in the layers: the unpicked layers' floors (or, without
        # `floor`, minus the picked ones') in one run of W columns
        d = self.evaluator.space.decode(genomes)  # once, for the floors and the layers
        e_lb, l_lb = self._floors(d, (self.counts if floor else 0.0) - picked)
        if use:
            e, lat, area = self._layers(d, list(use))
            for w, i, c in picks:
                e_lb[:, w] += c * e[:, use[i]]
                l_lb[:, w] += c * lat[:, use[i]]
        else:
            area = self._area(d)
        return e_lb, l_lb, np.asarray(area, dtype=np.float64)


def die_cost(evaluator: Evaluator, genomes: np.ndarray, area: np.ndarray,
          objective: Objective | None = None) -> np.ndarray | None:
    """(N,) die cost (the cost aggregations' factor; a function of the area and node only);
    None when `objective` does not use it."""
    if objective is not None and objective.aggregation not in ("el_cost", "edap_cost"):
        return None
    with np.errstate(all="ignore"):
        return die_cost_usd(area, evaluator.space.decode(genomes)["technology_node_nm"])


def objective_bound(objective: Objective, e_lb: np.ndarray, l_lb: np.ndarray,
                    area: np.ndarray, cost: np.ndarray | None = None) -> np.ndarray:
    """(N,) lower bound of the objective's aggregate from (N, W) lower bounds of energy and
    latency (module docstring: every aggregation is non-decreasing in them); 0 where the
    bound is not a number."""
    cols = slice(None) if objective.subset is None else list(objective.subset)
    with np.errstate(all="ignore"):
        b = aggregate(e_lb[:, cols], l_lb[:, cols], area, objective.aggregation,
                      weights=objective.weights, optima=objective.optima, cost=cost)
    return np.where(np.isnan(b), 0.0, b)


def prunable(bound: np.ndarray, threshold: float) -> np.ndarray:
    """(N,) bool: designs whose lower bound, less the slack, exceeds `threshold` (their value
    is then > threshold, so they can neither enter the best nor tie with its worst)."""
    return bound * (1.0 - SLACK) > threshold
