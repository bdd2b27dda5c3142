"""`run_search(config)`: config -> search -> `SearchResult`; `write_results` -> output folder.

Output folder: designs.csv (every evaluated design: parameters, per-workload metrics,
feasibility, reason, failed), convergence.csv (per generation), best.json (best designs with
each workload's loss against its own optimum where known), pareto.csv (NSGA-II), run.json
(resolved config, seed, imcopt version, wall time, evaluation and failure counts), and
checksums.json (SHA-256 of each, written last). Every file is written atomically
(`imcopt.storage`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..backends import make_backend
from ..executors import Executor, describe, make_executor
from ..hardware import get_space, load_technology
from ..hardware.space import DesignSpace
from ..objectives import Evaluator, Objective
from ..storage import write_csv, write_json, write_manifest
from ..workloads import get
from .algorithms import STUDY_PHASES, HammingSampling, Phase, Trace
from .checkpoint import JournalEvaluator, stop_on_sigint
from .config import SearchConfig, load_config
from .constrained import ConstrainedEvaluator
from .precision import JointSpace, load_accuracy
from .strategies import STRATEGY_FUNCTIONS, AlgorithmSpec, StrategyResult, separate

PLAIN_GA = Phase(70, 47, 1.0, 3, 1.0, 3)  # the study's baseline operators, ~3,300 evaluations
POLISH_TOP = 50  # per-network precision: the best distinct chips whose precision is then chosen


@dataclass
class SearchResult:
    config: SearchConfig
    evaluator: Evaluator
    objective: Objective
    strategy: StrategyResult
    trace: Trace
    optima: np.ndarray | None
    wall_time_s: float
    executor: dict | None = None  # what ran the evaluations (`executors.describe`)

    def designs(self) -> pd.DataFrame:
        """Every evaluated design, one row each."""
        return design_table(self.evaluator, self.objective, self.optima)

    def best(self) -> list[dict]:
        return best_records(self.evaluator, self.objective, self.strategy.best, self.optima)


def algorithm_spec(cfg: SearchConfig) -> AlgorithmSpec:
    """The algorithm settings a config asks for (the study's phases when none are given)."""
    a = cfg.algorithm
    if a.phases:
        phases = tuple(Phase(**p.model_dump()) for p in a.phases)
    else:
        phases = (PLAIN_GA,) if a.name in ("ga", "nsga2") else STUDY_PHASES
    return AlgorithmSpec(a.name, phases, HammingSampling(**a.sampling.model_dump()), a.n_evals,
                         a.feasible_only, a.chunk)


def run_search(config: SearchConfig | dict | str | Path,
               on_progress: Callable[[dict], None] | None = None, *,
               checkpoint: str | Path | None = None,
               device: str = "numpy",
               cache_file: str | Path | None = None,
               executor: Executor | None = None) -> SearchResult:
    """Run the search a config describes (a `SearchConfig`, dict or YAML path).

    checkpoint: a journal file (`checkpoint.checkpoint_path`); every evaluated batch is
    appended to it, and a re-run with the same config replays it to the identical result.
    A SIGINT then stops after the current batch (`checkpoint.SearchInterrupted`).
    device: where the cost model runs: numpy (default), cpu or cuda (PyTorch); the results
    are the same to 1e-6 relative. cache_file: a persistent evaluation cache (`imcopt search
    --out DIR` uses DIR/evaluations.sqlite); executor: overrides the config's (and is not
    closed here).
    """
    cfg = config if isinstance(config, SearchConfig) else load_config(config)
    with ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(make_executor(cfg.executor))
        result = _run_search(cfg, on_progress, cache_file if cfg.cache else None, executor,
                             device, checkpoint)
        result.executor = describe(executor)
        return result


def _run_search(cfg: SearchConfig, on_progress: Callable[[dict], None] | None,
                cache_file: str | Path | None, executor: Executor, device: str,
                checkpoint: str | Path | None) -> SearchResult:
    t0 = time.perf_counter()
    space = get_space(cfg.space.name)
    if cfg.space.values:
        space = space.restrict(**{k: tuple(v) for k, v in cfg.space.values.items()})
    ev = constrained_evaluator(cfg, space, device, executor=executor, cache_file=cache_file)
    if checkpoint is None:
        return _run(cfg, ev, on_progress, t0)
    ev.open_journal(checkpoint)
    with stop_on_sigint(ev):
        return _run(cfg, ev, on_progress, t0)


def _run(cfg: SearchConfig, ev: Evaluator, on_progress: Callable[[dict], None] | None,
         t0: float) -> SearchResult:
    space = ev.space
    trace = Trace(on_record=on_progress)
    spec = algorithm_spec(cfg)
    optima = None
    o = cfg.objective
    if o.optima == "separate":
        optima = separate(ev, Objective("max"), spec, cfg.seed, trace, cfg.top_k).optima
    elif isinstance(o.optima, dict):
        missing = [w for w in cfg.workloads if w not in o.optima]
        if missing:
            raise ValueError(f"objective.optima: no value for workload {missing[0]!r}")
        optima = np.array([o.optima[w] for w in cfg.workloads], dtype=float)
    weights = None
    if o.weights is not None:
        weights = tuple(float(o.weights.get(w, 0.0)) for w in cfg.workloads)
    obj = Objective(o.aggregation, weights=weights,
                    optima=None if optima is None else tuple(optima))
    kwargs: dict = {"top_k": cfg.top_k}
    if cfg.strategy == "sequential":
        kwargs["exhaustive_below"] = cfg.exhaustive_below
        if cfg.start:
            mid = {n: p.values[len(p.values) // 2] for n, p in zip(space.names, space.parameters,
                                                                     strict=True)}
            kwargs["start"] = space.encode({**mid, **cfg.start})[0]
    res = STRATEGY_FUNCTIONS[cfg.strategy](ev, obj, spec, cfg.seed, trace, **kwargs)
    if isinstance(ev.space, JointSpace):  # each network's cheapest precision on the best chips
        calls = ev.n_calls
        seen = ev.evaluated()
        ranked = seen.genomes[obj.rank(seen)]
        _, first = np.unique(ranked[:, : ev.space.n_hardware], axis=0, return_index=True)
        top = ranked[np.sort(first)[:POLISH_TOP]]  # the best distinct chips
        cand = np.unique(np.concatenate([res.best, ev.polish_precision(
            np.concatenate([res.best, top]))]), axis=0)
        res.best = cand[obj.rank(ev.evaluate(cand))][: cfg.top_k]
        res.notes["precision_polish_calls"] = ev.n_calls - calls
    if optima is None and res.optima is not None:
        optima = res.optima
    if o.optima == "separate" and optima is not None:
        # the separate searches only estimate each workload's optimum: the run may have met a
        # better design for a workload elsewhere, and a loss below 0 would mislead
        optima = best_known_optima(ev, optima)
    return SearchResult(cfg, ev, obj, res, trace, optima, time.perf_counter() - t0)


def best_known_optima(ev: Evaluator, optima: np.ndarray) -> np.ndarray:
    """Each workload's optimum estimate, lowered to the best EDAP (J s mm^2) that any feasible
    design the run evaluated reached on that workload."""
    e = ev.evaluated()
    ok = e.capacity_ok & e.area_ok[:, None]
    seen = np.where(ok, e.edap, np.inf).min(axis=0, initial=np.inf)
    return np.minimum(np.asarray(optima, dtype=float), seen)


@dataclass
class SearchEvaluator(JournalEvaluator, ConstrainedEvaluator):
    """The evaluator of `run_search`: per-network precision and constraints
    (`ConstrainedEvaluator`), with its model runs journaled for resume (`JournalEvaluator`,
    active once `open_journal` is called)."""


def constrained_evaluator(cfg: SearchConfig, space: DesignSpace, device: str = "numpy", *,
                          executor: Executor | None = None,
                          cache_file: str | Path | None = None) -> SearchEvaluator:
    """The evaluator a config asks for: the space joined with per-network precision when
    `precision` is set, with its accuracy and partial-sum constraints."""
    p = cfg.precision
    accuracy, minimum = None, {}
    if p is not None:
        space = JointSpace.build(space, p.networks or cfg.workloads, p.weight_bits,
                                 p.activation_bits, p.replication)
        accuracy = None if p.accuracy is None else load_accuracy(p.accuracy)
        minimum = dict(p.min_accuracy)
    return SearchEvaluator(space, load_technology(cfg.technology),
                                [get(w) for w in cfg.workloads], cfg.objective.area_limit_mm2,
                                accuracy=accuracy, min_accuracy=minimum,
                                max_psum_bits_lost=cfg.objective.max_psum_bits_lost,
                                device=device, backend=make_backend(cfg.backend),
                                executor=executor, cache_file=cache_file)


def design_table(ev: Evaluator, obj: Objective, optima: np.ndarray | None = None
                 ) -> pd.DataFrame:
    e = ev.evaluated()
    d = ev.space.decode(e.genomes) if len(e) else None
    df = pd.DataFrame({"key": ev.space.keys(e.genomes) if len(e) else []})
    for n in ev.space.names:
        df[n] = d[n] if d is not None else []
    df["area_mm2"] = e.area_mm2
    df["cost_usd"] = e.cost_usd
    df["feasible"] = e.feasible
    df["fitness"] = obj.fitness(e)
    df["reason"] = e.reason
    df["failed"] = e.failed
    for w, name in enumerate(ev.workload_names):
        df[f"energy_j.{name}"] = e.energy_j[:, w]
        df[f"latency_s.{name}"] = e.latency_s[:, w]
        df[f"edap.{name}"] = e.edap[:, w]
        df[f"weights_fit.{name}"] = e.capacity_ok[:, w]
        if optima is not None:
            df[f"loss_vs_optimum.{name}"] = e.edap[:, w] / optima[w] - 1.0
    if hasattr(ev, "report_columns"):
        for col, values in ev.report_columns(e.genomes).items():
            df[col] = values
    return df


def best_records(ev: Evaluator, obj: Objective, genomes: np.ndarray,
                 optima: np.ndarray | None) -> list[dict]:
    """The designs with parameters, fitness and per-workload metrics and losses."""
    all_ev = ev.evaluated()
    own = np.where(all_ev.capacity_ok & all_ev.area_ok[:, None], all_ev.edap, np.inf)
    best_seen = own.min(axis=0) if len(own) else np.full(len(ev.workloads), np.inf)
    calls = ev.n_calls
    e = ev.evaluate(genomes)
    ev.n_calls = calls  # a look-up, not a search evaluation
    fit = obj.fitness(e)
    extra = ev.report_columns(e.genomes) if hasattr(ev, "report_columns") else {}
    out = []
    for i in range(len(e)):
        per = {}
        for w, name in enumerate(ev.workload_names):
            per[name] = {
                "energy_j": float(e.energy_j[i, w]), "latency_s": float(e.latency_s[i, w]),
                "edap_j_s_mm2": float(e.edap[i, w]), "weights_fit": bool(e.capacity_ok[i, w]),
                "loss_vs_best_seen": _loss(e.edap[i, w], best_seen[w]),
                "loss_vs_optimum": None if optima is None else _loss(e.edap[i, w], optima[w]),
                **{k.split(".")[0]: _plain(v[i]) for k, v in extra.items()
                   if k.split(".", 1)[1] == name},
            }
        out.append({
            "rank": i + 1, "key": ev.space.keys(e.genomes[i:i + 1])[0],
            "parameters": ev.space.decode(e.genomes[i:i + 1]).row(0),
            "genome": e.genomes[i].tolist(), "feasible": bool(e.feasible[i]),
            "reason": str(e.reason[i]), "area_mm2": float(e.area_mm2[i]),
            "cost_usd": float(e.cost_usd[i]),
            "fitness": float(fit[i]) if np.isfinite(fit[i]) else None,
            "aggregation": obj.aggregation, "workloads": per,
        })
    return out


def _plain(value: object) -> float | int:
    return int(value) if isinstance(value, (np.integer, int)) else float(value)


def _loss(value: float, ref: float) -> float | None:
    return float(value / ref - 1.0) if np.isfinite(ref) and ref > 0 else None


def write_results(result: SearchResult, out: str | Path) -> dict[str, Path]:
    """Write the output folder; returns {what: path}."""
    from .. import __version__

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / f for k, f in (("designs", "designs.csv"), ("convergence",
             "convergence.csv"), ("best", "best.json"), ("run", "run.json"))}
    write_csv(paths["designs"], result.designs())
    write_csv(paths["convergence"], pd.DataFrame(result.trace.rows))
    best = result.best()
    s = result.strategy
    doc: dict = {"best": [b for b in best if b["feasible"]],
                 "infeasible_only": not any(b["feasible"] for b in best)}
    if doc["infeasible_only"]:
        doc["closest_infeasible"] = best[:1]
    if s.per_workload_best:
        doc["per_workload_best"] = {
            w: best_records(result.evaluator, result.objective, g[None, :], result.optima)[0]
            for w, g in s.per_workload_best.items()}
    if result.optima is not None:
        doc["optima_edap_j_s_mm2"] = dict(zip(result.evaluator.workload_names,
                                              map(float, result.optima), strict=True))
    write_json(paths["best"], doc)
    if s.pareto is not None:
        paths["pareto"] = out / "pareto.csv"
        front = best_records(result.evaluator, result.objective, s.pareto, result.optima)
        write_csv(paths["pareto"], pd.DataFrame([
            {"key": r["key"], "feasible": r["feasible"], "area_mm2": r["area_mm2"],
             **{f"{m}.{w}": v[m] for w, v in r["workloads"].items()
                for m in ("energy_j", "latency_s")}} for r in front]))
    run = {"imcopt_version": __version__, "seed": result.config.seed,
           "wall_time_s": result.wall_time_s, "n_calls": result.evaluator.n_calls,
           "n_evals": result.evaluator.n_evals,
           "n_failed": int(result.evaluator.evaluated().failed.sum()), "strategy_notes": s.notes,
           "executor": result.executor or describe(result.evaluator.executor),
           "config": result.config.model_dump(mode="json")}
    write_json(paths["run"], run, default=str)
    paths["checksums"] = write_manifest(out, list(paths.values()))
    return paths
