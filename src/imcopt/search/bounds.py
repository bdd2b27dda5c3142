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
from ..hardware.technology import Technology
from ..model.cost import _evaluate_block
from ..model.policy import policy_for
from ..objectives import Evaluator, Objective, aggregate
from ..workloads.layer import Layer, Workload

#: relative slack on every bound: prune only when bound * (1 - SLACK) > the threshold
SLACK = 1e-9
#: (design, layer) cells per block of the partial model runs
BLOCK_CELLS = 8192
#: designs on which the layers are ranked by their share of a network's energy and latency
SAMPLE_DESIGNS = 2000


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
    """Lower bounds of every network's energy and latency from some of its distinct layers.

    order[w]: network w's distinct layers, heaviest first (mean share of its energy and
    latency on a sample of designs), as (index into `distinct`, times it occurs in the
    network). `partial(g, picks)` sums the picked layers: `first(counts)` picks each
    network's heaviest, `plan(objective, k)` the k that bound an objective best.
    """

    evaluator: Evaluator
    distinct: list[Layer]
    max_copies: list[int | None]  # of the network each distinct layer was first found in
    order: list[list[tuple[int, int]]]
    # the sample's per-layer energies and latencies (S, len(distinct)), areas (S,), costs
    sample: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

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
        counts: list[dict[int, int]] = []
        for wl in evaluator.workloads:
            c: dict[int, int] = {}
            for layer in wl.layers:
                key = (dataclasses.replace(layer, name="_"), wl.max_copies)
                if key not in index:
                    index[key] = len(distinct)
                    distinct.append(key[0])
                    copies.append(wl.max_copies)
                c[index[key]] = c.get(index[key], 0) + 1
            counts.append(c)
        self = cls(evaluator, distinct, copies, [])
        if sample is None:
            sample = evaluator.space.sample(SAMPLE_DESIGNS, 0)
        e, lat, area = self._layers(sample, list(range(len(distinct))))
        keep = evaluator.screen(sample) if len(sample) else np.zeros(0, bool)
        cost = die_cost(evaluator, sample, area)
        assert cost is not None
        self.sample = (e[keep], lat[keep], area[keep], cost[keep])
        for c in counts:
            ids = np.array(list(c), dtype=np.int64)
            n = np.array([c[i] for i in ids], dtype=float)
            with np.errstate(all="ignore"):
                share = (e[:, ids] * n / np.sum(e[:, ids] * n, axis=1, keepdims=True)
                         + lat[:, ids] * n / np.sum(lat[:, ids] * n, axis=1, keepdims=True))
            weight = np.nan_to_num(np.nanmean(share, axis=0), nan=0.0) if len(share) else n
            rank = np.lexsort((ids, -weight))  # heaviest first; ties by first occurrence
            self.order.append([(int(ids[i]), int(n[i])) for i in rank])
        return self

    def n_layers(self, w: int) -> int:
        return len(self.order[w])

    def _layers(self, genomes: np.ndarray, ids: list[int]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N, len(ids)) energy and latency of each distinct layer `ids` alone, (N,) area;
        zeros (a valid lower bound) where the model fails."""
        ev = self.evaluator
        n = len(genomes)
        e, lat = np.zeros((n, len(ids))), np.zeros((n, len(ids)))
        d = ev.space.decode(genomes)
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
            except Exception:  # a failed partial run bounds nothing: 0
                e[:, cols], lat[:, cols] = 0.0, 0.0
        ok = np.isfinite(e) & np.isfinite(lat) & (e >= 0) & (lat >= 0)
        e, lat = np.where(ok, e, 0.0), np.where(ok, lat, 0.0)
        if area is None:
            area = ev.area(genomes) if n else np.zeros(0)
        return e, lat, np.asarray(area, dtype=np.float64)

    def first(self, counts: Sequence[int]) -> list[tuple[int, int, int]]:
        """Picks (network, distinct layer, times it occurs) of the first counts[w] distinct
        layers of each network w by its own ranking (`order`)."""
        return [(w, i, c) for w, k in enumerate(counts) for i, c in self.order[w][:k]]

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
        if self.sample is None or not len(self.sample[2]):
            return cand[:size]
        e, lat, area, cost = self.sample
        n_w = len(self.order)

        def sums(picks: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
            el, ll = np.zeros((len(area), n_w)), np.zeros((len(area), n_w))
            for w, i, c in picks:
                el[:, w] += c * e[:, i]
                ll[:, w] += c * lat[:, i]
            return el, ll

        with np.errstate(all="ignore"):
            true = np.log(objective_bound(objective, *sums(cand), area, cost))
            # a product over the networks bounds nothing (0) until each has a layer
            chosen = ([p for p in self.first([1] * n_w) if p[0] in wls]
                      if objective.aggregation in ("geomean", "product") else [])
            cand = [p for p in cand if p not in chosen]
            el, ll = sums(chosen)
            for _ in range(min(size - len(chosen), len(cand))):
                scores = []
                for w, i, c in cand:
                    el[:, w] += c * e[:, i]
                    ll[:, w] += c * lat[:, i]
                    b = objective_bound(objective, el, ll, area, cost)
                    scores.append(np.nanmean(np.maximum(np.log(b), -745.0) - true))
                    el[:, w] -= c * e[:, i]
                    ll[:, w] -= c * lat[:, i]
                pick = cand.pop(int(np.nanargmax(scores)) if np.isfinite(scores).any() else 0)
                chosen.append(pick)
                el[:, pick[0]] += pick[2] * e[:, pick[1]]
                ll[:, pick[0]] += pick[2] * lat[:, pick[1]]
        return chosen

    def partial(self, genomes: np.ndarray, picks: Sequence[tuple[int, int, int]]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N, W) lower bounds of energy and latency from the picked layers (network,
        distinct layer, times it occurs in the network; each pair at most once), 0 for the
        networks with none, and the (N,) area."""
        use: dict[int, int] = {}
        for _, i, _ in picks:
            use.setdefault(i, len(use))
        e, lat, area = self._layers(genomes, list(use))
        n_w = len(self.order)
        e_lb, l_lb = np.zeros((len(genomes), n_w)), np.zeros((len(genomes), n_w))
        for w, i, c in picks:
            e_lb[:, w] += c * e[:, use[i]]
            l_lb[:, w] += c * lat[:, use[i]]
        return e_lb, l_lb, area


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
