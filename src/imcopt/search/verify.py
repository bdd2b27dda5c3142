"""Two-fidelity search: the analytical model searches and screens, a slower backend (ZigZag,
a simulator behind `subprocess`, recorded results) re-evaluates the best k designs, and the
final ranking is the verifier's.

    verify: {backend: zigzag, top_k: 5}          # or backend: {name: zigzag, lpf_limit: 3, ...}

The candidates are the k best distinct designs the analytical search found (its best list,
then every evaluated design by the analytical objective), feasible ones only. The verifier
evaluates them through the run's executor and evaluation cache, a few designs at a time so
that an interrupted run keeps (and a re-run reuses) every finished design. They are ranked
by the same aggregation on the verifier's numbers; an aggregation that needs each workload's
optimum (worst_regret, weighted with optima) uses the best EDAP each workload reached among
the verified designs, as the verifier's optima are unknown. A design the verifier fails on
is ranked last with its reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..backends import BackendConfig, make_backend
from ..objectives import Evaluation, Evaluator, Objective

if TYPE_CHECKING:
    from pathlib import Path

    from ..executors import Executor
    from .runner import SearchResult


class VerifyConfig(BaseModel):
    """`verify:` of a search config: which backend re-evaluates how many of the best designs."""

    model_config = ConfigDict(extra="forbid")
    backend: BackendConfig
    top_k: int = Field(5, ge=1)

    @field_validator("backend", mode="before")
    @classmethod
    def _by_name(cls, v: object) -> object:
        return {"name": v} if isinstance(v, str) else v


@dataclass
class Verification:
    """The k candidates (analytical rank order) under both fidelities and the verifier's
    ranking of them (`order`: indices, best first)."""

    backend: str
    version: str
    analytical: Evaluation
    verified: Evaluation
    analytical_fitness: np.ndarray
    fitness: np.ndarray
    objective: Objective
    order: np.ndarray
    wall_time_s: float

    @property
    def genomes(self) -> np.ndarray:
        return self.analytical.genomes

    def rank_correlation(self) -> dict:
        """Spearman's rho and Kendall's tau between the two fidelities' fitness values over
        the candidates both rank (finite fitness); None with fewer than 3."""
        from scipy import stats

        ok = np.isfinite(self.fitness) & np.isfinite(self.analytical_fitness)
        n = int(ok.sum())
        if n < 3:
            return {"n": n, "spearman": None, "kendall": None}
        a, v = self.analytical_fitness[ok], self.fitness[ok]
        return {"n": n, "spearman": float(stats.spearmanr(a, v).statistic),
                "kendall": float(stats.kendalltau(a, v).statistic)}

    def summary(self) -> dict:
        return {"backend": self.backend, "backend_version": self.version,
                "top_k": len(self.fitness), "n_failed": int(self.verified.failed.sum()),
                "n_feasible": int(np.isfinite(self.fitness).sum()),
                "wall_time_s": self.wall_time_s, "rank_correlation": self.rank_correlation()}


def candidates(result: SearchResult, k: int) -> np.ndarray:
    """The k best distinct feasible designs of the analytical search, best first."""
    ev, obj = result.evaluator, result.objective
    seen = ev.evaluated()
    ranked = seen.genomes[obj.rank(seen)]
    pool = np.concatenate([np.asarray(result.strategy.best, dtype=np.int64).reshape(
        -1, seen.genomes.shape[1]), ranked])
    _, first = np.unique(pool, axis=0, return_index=True)
    pool = pool[np.sort(first)]
    calls = ev.n_calls
    fit = obj.fitness(ev.evaluate(pool)) if len(pool) else np.empty(0)
    ev.n_calls = calls  # a look-up, not a search evaluation
    return pool[np.isfinite(fit)][:k]


def verify(result: SearchResult, executor: Executor | None = None,
           cache_file: str | Path | None = None,
           on_progress: Callable[[dict], None] | None = None) -> Verification:
    """Re-evaluate the analytical search's best `verify.top_k` designs with the verify
    backend and rank them by its numbers."""
    from .runner import constrained_evaluator

    t0 = time.perf_counter()
    cfg = result.config
    spec = cfg.verify
    ev = result.evaluator
    genomes = candidates(result, spec.top_k)
    calls = ev.n_calls
    analytical = ev.evaluate(genomes)
    ev.n_calls = calls
    vcfg = cfg.model_copy(update={"backend": spec.backend})
    vev = constrained_evaluator(vcfg, ev.space, executor=executor, cache_file=cache_file)
    step = max(1, executor.workers if executor is not None else 1)
    for start in range(0, len(genomes), step):  # each step lands in the cache on its own
        vev.evaluate(genomes[start:start + step])
        vev.flush()  # the cache writes in batches: a kill loses no finished simulation
        if on_progress is not None:
            on_progress({"phase": f"verify ({spec.backend.name})", "generation": start // step,
                         "n_calls": vev.n_calls, "n_evals": vev.n_evals,
                         "best_so_far": float("nan")})
    verified = vev.evaluate(genomes) if len(genomes) else vev.evaluated()
    obj = verifier_objective(result.objective, verified)
    backend = make_backend(spec.backend)
    return Verification(spec.backend.name, backend.version(vev.technology), analytical,
                        verified, result.objective.fitness(analytical), obj.fitness(verified),
                        obj, obj.rank(verified), time.perf_counter() - t0)


def verifier_objective(objective: Objective, verified: Evaluation) -> Objective:
    """The analytical objective's aggregation on the verifier's numbers; optima (when the
    aggregation has them) from the best verified EDAP per workload."""
    if objective.optima is None:
        return objective
    ok = verified.capacity_ok & verified.area_ok[:, None]
    best = np.where(ok, verified.edap, np.inf).min(axis=0, initial=np.inf)
    if objective.subset is not None:
        best = best[list(objective.subset)]
    if not np.all(np.isfinite(best) & (best > 0)):
        best = np.where(np.isfinite(best) & (best > 0), best, 1.0)  # no feasible design there
    return Objective(objective.aggregation, objective.subset, objective.weights, tuple(best))


def _metrics(e: Evaluation, i: int, names: list[str], fitness: float) -> dict:
    return {"fitness": float(fitness) if np.isfinite(fitness) else None,
            "area_mm2": float(e.area_mm2[i]), "cost_usd": float(e.cost_usd[i]),
            "workloads": {w: {"energy_j": float(e.energy_j[i, j]),
                              "latency_s": float(e.latency_s[i, j]),
                              "edap_j_s_mm2": float(e.edap[i, j])}
                          for j, w in enumerate(names)}}


def verification_records(v: Verification, ev: Evaluator) -> list[dict]:
    """The candidates in the verifier's order: its numbers at the top level (as in the
    analytical best list), the analytical ones under "analytical"."""
    names = ev.workload_names
    keys = ev.space.keys(v.genomes)
    out = []
    for rank, i in enumerate(v.order):
        rec = {"rank": rank + 1, "rank_analytical": int(i) + 1, "key": keys[i],
               "parameters": ev.space.decode(v.genomes[i:i + 1]).row(0),
               "genome": v.genomes[i].tolist(), "backend": v.backend,
               "feasible": bool(v.verified.feasible[i]), "reason": str(v.verified.reason[i]),
               "aggregation": v.objective.aggregation,
               **_metrics(v.verified, i, names, v.fitness[i]),
               "analytical": _metrics(v.analytical, i, names, v.analytical_fitness[i])}
        out.append(rec)
    return out


def verification_table(v: Verification, ev: Evaluator) -> pd.DataFrame:
    """One row per candidate, verifier's order: both fidelities' numbers side by side
    (columns `<metric>.<backend>` and `<metric>.analytical`, per workload `<metric>.<w>...`)."""
    label = v.backend if v.backend != "analytical" else "verified"
    rows = []
    for r in verification_records(v, ev):
        row = {"rank": r["rank"], "rank_analytical": r["rank_analytical"], "key": r["key"],
               "feasible": r["feasible"], "reason": r["reason"]}
        for name, m in ((label, r), ("analytical", r["analytical"])):
            row[f"fitness.{name}"] = m["fitness"]
            row[f"area_mm2.{name}"] = m["area_mm2"]
        for w in r["workloads"]:
            for metric in ("energy_j", "latency_s", "edap_j_s_mm2"):
                for name, m in ((label, r), ("analytical", r["analytical"])):
                    row[f"{metric}.{w}.{name}"] = m["workloads"][w][metric]
        rows.append(row)
    return pd.DataFrame(rows)


def verified_best(doc: dict, v: Verification, ev: Evaluator) -> dict:
    """best.json with the verifier's ranking as "best" (its feasible designs; the others under
    "verify_failed"), the analytical list kept as "analytical_best", and a "verify" summary."""
    recs = verification_records(v, ev)
    rest = {k: val for k, val in doc.items() if k != "best"}
    return {"best": [r for r in recs if r["feasible"]], "verify": v.summary(),
            "verify_failed": [r for r in recs if not r["feasible"]],
            "analytical_best": doc["best"], **rest}


def console_rows(v: Verification, ev: Evaluator) -> tuple[str, list[str], list[list]]:
    """(title, headers, rows) of the verifier's ranking for the CLI."""
    rows = [[r["rank"], r["rank_analytical"], r["key"],
             r["fitness"] if r["fitness"] is not None else r["reason"] or "infeasible",
             r["analytical"]["fitness"], r["area_mm2"], r["analytical"]["area_mm2"]]
            for r in verification_records(v, ev)]
    rc = v.rank_correlation()
    corr = "" if rc["spearman"] is None else f"; Spearman {rc['spearman']:.2f} over {rc['n']}"
    title = (f"best designs ranked by {v.backend} ({v.objective.aggregation}; "
             f"{v.wall_time_s:.0f} s{corr})")
    return title, ["#", "analytical #", "design", f"fitness {v.backend}", "fitness analytical",
                   f"area_mm2 {v.backend}", "area_mm2 analytical"], rows
