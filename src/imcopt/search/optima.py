"""Each workload's own optimum EDAP, the reference of the per-network loss (`imcopt.losses`).

`exact_optima` enumerates the whole space once per workload: every design within the area
limit that holds that workload's weights is evaluated on it alone, so the optimum is exact
(label `exact`). It costs one model run per (design, layer) of each workload, which for the
full spaces and many networks is minutes to hours; the default is the per-network searches of
`strategy: separate` (label `best-known`).
"""

from __future__ import annotations

import numpy as np

from ..hardware.space import mixed_radix
from ..objectives import Evaluator, Objective
from .bounds import bound_eligible
from .exhaustive import PRUNE_FROM, PRUNE_UP_TO, exhaustive, screened

CHUNK_DESIGNS = 250_000


def exact_optima(ev: Evaluator, chunk: int = CHUNK_DESIGNS, prune: bool | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """((W,) lowest EDAP in J s mm^2, (W, n_var) genomes reaching it) over every design of
    `ev.space` feasible for each workload alone; +inf (genome 0) where none is.

    prune: find them by branch and bound instead (`exhaustive(per_workload=True)`: designs
    whose lower bound of a workload's EDAP exceeds the best found are not evaluated on it;
    the same optima and genomes). None: where a bound is valid and the space holds at least
    `exhaustive.PRUNE_FROM` designs."""
    space, n_w = ev.space, len(ev.workloads)
    cards, total = space.cardinalities, space.size
    if ((prune or (prune is None and total >= PRUNE_FROM)) and total <= PRUNE_UP_TO
            and bound_eligible(ev)):
        res = exhaustive(ev, Objective("max"), chunk=chunk, keep=1, per_workload=True,
                         prune=True)
        return res.optima, res.optimum_genomes
    opt = np.full(n_w, np.inf)
    genomes = np.zeros((n_w, space.n_var), np.int64)
    for start in range(0, total, chunk):
        g = mixed_radix(cards, start, min(total, start + chunk))
        g = g[ev.screen(g, [])]  # area (and die) only: shared by every workload
        for w in range(n_w):
            gw = g[ev.screen(g, [w])] if len(g) else g
            if not len(gw):
                continue
            edap, ok = ev.edap_on(gw, w)
            edap = np.where(ok, edap, np.inf)
            j = int(np.argmin(edap))
            if edap[j] < opt[w]:
                opt[w], genomes[w] = edap[j], gw[j]
    return opt, genomes


def first_feasible(ev: Evaluator, w: int, chunk: int = CHUNK_DESIGNS) -> np.ndarray | None:
    """A design of `ev.space` feasible for workload `w` alone (area limit, its weights fit),
    found by enumerating the space through the cheap screen and evaluating only the designs
    that pass it (only the designs whose weight-capacity genes pass are enumerated); None
    when there is none: a proof that no design of the space can run it."""
    for _, g in screened(ev, chunk, [w]):
        if len(g):
            ok = np.flatnonzero(ev.edap_on(g, w)[1])
            if len(ok):
                return g[ok[0]]
    return None
