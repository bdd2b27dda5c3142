"""Enumerate and screen a space's designs on the evaluator's array device (PyTorch).

An exhaustive scan spends most of its time before the model: enumerating genomes, decoding
them, and screening them on area and weight capacity (`Evaluator.screen`), which removes
almost every design of the study's spaces. On a GPU these steps run on the device too, so
only the designs that pass ever reach the host: `DeviceScreen(...)(start, stop, subset)`
returns the same genomes as `g[evaluator.screen(g, subset)]` for the designs numbered
start..stop-1 (mixed-radix order of the `free` parameters, the others from `base`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..hardware.space import Designs
from ..model.cost import area_mm2
from ..model.xp import namespace, to_numpy
from ..objectives import Evaluator

#: the parameters the arrays a workload needs depend on (see `Evaluator.screen`)
GEOMETRY = ("rows_per_array", "cols_per_array", "bits_per_cell")


class DeviceScreen:
    """Genomes that pass `Evaluator.screen`, found on the evaluator's device."""

    def __init__(self, evaluator: Evaluator, free: np.ndarray, base: np.ndarray) -> None:
        space = evaluator.space
        self.xp = xp = namespace(evaluator.device)
        self.evaluator, self.free, self.base = evaluator, list(free), np.asarray(base)
        self.cards = [int(c) for c in space.cardinalities[self.free]]
        self.values = {p.name: xp.asarray(np.asarray(p.values, dtype=np.float64))
                       for p in space.parameters}
        self.constant = space.decode(self.base[None, :]).row(0)  # parameters not in the space
        # the arrays each workload needs, by (rows, cols, bits) gene: computed on the host
        # for every combination the space holds, then looked up on the device
        axes = [space.parameter(n).values if n in space.names else (self.constant[n],)
                for n in GEOMETRY]
        self.geo_shape = [len(a) for a in axes]
        mesh = np.meshgrid(*[np.asarray(a, dtype=np.float64) for a in axes], indexing="ij")
        self.geo = np.column_stack([m.ravel() for m in mesh])
        self.required: dict[int, object] = {}

    def _required(self, w: int) -> object:
        if w not in self.required:
            self.required[w] = self.xp.asarray(self.evaluator._required_arrays(w, self.geo))
        return self.required[w]

    def __call__(self, start: int, stop: int, subset: Sequence[int] | None) -> np.ndarray:
        xp, space, ev = self.xp, self.evaluator.space, self.evaluator
        n = stop - start
        flat = xp.arange(start, stop)
        digits = [None] * len(self.free)
        for j in range(len(self.free) - 1, -1, -1):
            digits[j], flat = flat % self.cards[j], flat // self.cards[j]
        where = {col: j for j, col in enumerate(self.free)}
        genes = [digits[where[col]] if col in where else xp.full(n, int(self.base[col]),
                                                                  dtype=xp.int64)
                 for col in range(space.n_var)]
        by_name = dict(zip(space.names, genes, strict=True))
        values = {name: (self.values[name][by_name[name]] if name in by_name
                         else xp.full(n, float(v))) for name, v in self.constant.items()}
        d = Designs(values, n)
        tech = ev.technology
        ok = sum(area_mm2(d, tech).values()) <= ev.area_limit_mm2
        ok &= d["bits_per_cell"] <= tech.c["max_bits_per_cell"]
        if tech.weight_residency == "resident":
            arrays = d["router_groups"] * d["tiles_per_group"] * d["arrays_per_tile"]
            gene = [by_name[name] if name in by_name else xp.zeros(n, dtype=xp.int64)
                    for name in GEOMETRY]
            _, nc, nb = self.geo_shape
            index = (gene[0] * nc + gene[1]) * nb + gene[2]
            for w in range(len(ev.workloads)) if subset is None else subset:
                ok &= self._required(w)[index] <= arrays
        kept = to_numpy(xp.stack(genes, axis=1)[ok]).astype(np.int64)
        # the partial-sum bound is checked on the host, for the designs left
        return kept[ev.precision_ok(space.decode(kept), subset)] if len(kept) else kept
