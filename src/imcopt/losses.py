"""What each network loses on a shared chip: its EDAP there over its own optimum, a factor.

A chip serving several networks is rarely the best chip for any one of them. For network w
and design d, `loss_x(d, w) = EDAP_w(d) / EDAP_w*`, where EDAP_w* (J s mm^2) is the lowest
EDAP any design of the space reaches on w alone (feasible for w: within the area limit, its
weights fit). 1.00x is no loss; 1.46x means the network's energy x latency x area on the
shared chip is 1.46 times what a chip made for it alone gives. `worst_network_loss_x` is the
largest factor over the networks: what the most disadvantaged network pays for generality.

Each workload's optimum is labelled by where it comes from (`Optima.source`):
  exact       enumeration of the whole space for that workload alone (`exact_optima`)
  best-known  the lowest EDAP met by a search for it alone (`strategy: separate`), lowered to
              the best feasible EDAP on it among every design evaluated since; the true
              optimum may be lower, and then the factor understates the loss
  given       values the user gave (config `objective.optima`)
A design that cannot run a network (weights do not fit, or over the area limit) has an
infinite factor for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SOURCES = ("exact", "best-known", "given")
WORST = "worst_network_loss_x"
LOSS_PREFIX = "loss_x."


@dataclass(frozen=True)
class Optima:
    """Each workload's own optimum EDAP (J s mm^2), where it comes from, and the design that
    reaches it when known (its key)."""

    workloads: tuple[str, ...]
    edap_j_s_mm2: tuple[float, ...]
    source: str = "best-known"
    keys: tuple[str | None, ...] | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"optima source {self.source!r} is not one of {', '.join(SOURCES)}")
        if len(self.workloads) != len(self.edap_j_s_mm2):
            raise ValueError("optima: one EDAP per workload is needed")

    @property
    def values(self) -> np.ndarray:
        return np.asarray(self.edap_j_s_mm2, dtype=float)

    @property
    def known(self) -> bool:
        """Every workload has a finite, positive optimum (else no factor can be formed)."""
        v = self.values
        return bool(np.all(np.isfinite(v) & (v > 0)))

    def lowered(self, seen: Sequence[float], keys: Sequence[str | None] | None = None
                ) -> Optima:
        """A best-known estimate lowered to EDAPs met since (an exact or given optimum stays:
        nothing feasible can beat the first, and the second is the user's choice)."""
        if self.source != "best-known":
            return self
        seen = np.asarray(seen, dtype=float)
        lower = seen < self.values
        new_keys = list(self.keys or [None] * len(self.workloads))
        if keys is not None:
            new_keys = [k if low else old for k, low, old in zip(keys, lower, new_keys,
                                                                   strict=True)]
        return Optima(self.workloads, tuple(np.where(lower, seen, self.values).tolist()),
                      self.source, tuple(new_keys))

    def to_json(self) -> dict:
        keys = self.keys or (None,) * len(self.workloads)
        return {"source": self.source, "workloads": {
            w: {"edap_j_s_mm2": v if np.isfinite(v) else None, "key": k}
            for w, v, k in zip(self.workloads, self.edap_j_s_mm2, keys, strict=True)}}

    @classmethod
    def from_json(cls, doc: dict) -> Optima:
        ws = doc["workloads"]
        return cls(tuple(ws), tuple(np.inf if ws[w]["edap_j_s_mm2"] is None
                                    else float(ws[w]["edap_j_s_mm2"]) for w in ws),
                   doc["source"], tuple(ws[w].get("key") for w in ws))


def loss_factors(edap: np.ndarray, optima: Sequence[float], runs: np.ndarray | None = None
                 ) -> np.ndarray:
    """(N, W) EDAP / own optimum. `runs` (N, W) bool: whether the design can run the workload
    (else +inf, known optimum or not). NaN where the design runs the workload but its optimum
    is unknown (not finite and > 0)."""
    edap = np.atleast_2d(np.asarray(edap, dtype=float))
    opt = np.asarray(optima, dtype=float).reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = edap / opt[None, :]
    f = np.where((np.isfinite(opt) & (opt > 0))[None, :], f, np.nan)
    return f if runs is None else np.where(np.atleast_2d(runs), f, np.inf)


def loss_columns(edap: np.ndarray, optima: Sequence[float], names: Sequence[str],
                 runs: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The loss columns of a table of N designs: `worst_network_loss_x`, `worst_network`
    (the network that loses most) and `loss_x.<network>`, in that order."""
    f = loss_factors(edap, optima, runs)
    n = f.shape[0]
    cols: dict[str, np.ndarray] = {}
    if f.shape[1] and n:
        known = ~np.isnan(f).all(axis=1)
        filled = np.where(np.isnan(f), -np.inf, f)
        worst = filled.argmax(axis=1)
        cols[WORST] = np.where(known, filled[np.arange(n), worst], np.nan)
        cols["worst_network"] = np.where(known, np.asarray(names, dtype=object)[worst], "")
    else:
        cols[WORST] = np.full(n, np.nan)
        cols["worst_network"] = np.full(n, "", dtype=object)
    for w, name in enumerate(names):
        cols[f"{LOSS_PREFIX}{name}"] = f[:, w]
    return cols


def format_factor(x: float | None) -> str:
    """A loss factor as people read it: 1.46x; `cannot run` for +inf; `-` when unknown."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    if not np.isfinite(x):
        return "cannot run"
    return f"{x:.2f}x" if x < 10 else f"{x:.1f}x" if x < 100 else f"{x:,.0f}x"
