"""`run_search(config)`: config -> search -> `SearchResult`; `write_results` (`outputs`) ->
output folder. With `verify:` in the config the best designs are then re-evaluated by a
slower backend (search/verify.py).
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
from ..cache import cache_wanted
from ..executors import Executor, describe, make_executor
from ..hardware import get_space
from ..hardware.space import DesignSpace
from ..losses import Optima
from ..objectives import Evaluator, Objective
from ..workloads import get
from .algorithms import STUDY_PHASES, HammingSampling, Phase, Trace
from .checkpoint import JournalEvaluator, stop_on_sigint
from .config import SearchConfig, load_config
from .constrained import ConstrainedEvaluator
from .optima import exact_optima
from .outputs import best_records, design_table, workload_bests, write_results
from .precision import JointSpace, load_accuracy
from .strategies import STRATEGY_FUNCTIONS, AlgorithmSpec, StrategyResult, separate
from .tpe import TPESettings
from .verify import Verification, verify

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
    optima_source: str = "best-known"  # exact, best-known or given (`imcopt.losses`)
    verification: Verification | None = None  # `verify:` in the config (search/verify.py)
    executor: dict | None = None  # what ran the evaluations (`executors.describe`)

    def designs(self) -> pd.DataFrame:
        """Every evaluated design, one row each (`outputs.design_table`)."""
        return design_table(self.evaluator, self.objective, self.reference.values)

    def best(self) -> list[dict]:
        return best_records(self.evaluator, self.objective, self.strategy.best,
                            self.reference.values)

    @property
    def reference(self) -> Optima:
        """Each workload's own optimum, the reference of the loss factors: the run's optima
        (lowered to the best EDAP it met when they are best-known), or, when the run has
        none, the best EDAP it met on each workload."""
        ev = self.evaluator
        seen, keys = workload_bests(ev)
        if self.optima is None:
            return Optima(tuple(ev.workload_names), tuple(seen.tolist()), "best-known", keys)
        return Optima(tuple(ev.workload_names), tuple(map(float, self.optima)),
                      self.optima_source).lowered(seen, keys)


def algorithm_spec(cfg: SearchConfig) -> AlgorithmSpec:
    """The algorithm settings a config asks for (the study's phases when none are given)."""
    a = cfg.algorithm
    if a.phases:
        phases = tuple(Phase(**p.model_dump()) for p in a.phases)
    else:
        phases = (PLAIN_GA,) if a.name in ("ga", "nsga2") else STUDY_PHASES
    return AlgorithmSpec(a.name, phases, HammingSampling(**a.sampling.model_dump()), a.n_evals,
                         a.feasible_only, a.chunk, a.front, TPESettings(**a.tpe.model_dump()))


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
    closed here). With `verify:` in the config the best designs are then re-evaluated by
    the verify backend (`SearchResult.verification`, search/verify.py).
    """
    cfg = config if isinstance(config, SearchConfig) else load_config(config)
    with ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(make_executor(cfg.executor))
        keep = cache_wanted(cfg.cache, cfg.backend.name)
        result = _run_search(cfg, on_progress, cache_file if keep else None, executor,
                             device, checkpoint)
        result.executor = describe(executor)
        if cfg.verify is not None:  # two fidelities: the slower backend ranks the best k
            keep = cache_wanted(cfg.cache, cfg.verify.backend.name)
            result.verification = verify(result, executor, cache_file if keep else None,
                                         on_progress)
        return result


def _run_search(cfg: SearchConfig, on_progress: Callable[[dict], None] | None,
                cache_file: str | Path | None, executor: Executor, device: str,
                checkpoint: str | Path | None) -> SearchResult:
    t0 = time.perf_counter()
    space = get_space(cfg.space.name)
    if cfg.space.values:
        space = space.restrict(**{k: tuple(v) for k, v in cfg.space.values.items()})
    ev = constrained_evaluator(cfg, space, device, executor=executor, cache_file=cache_file)
    try:
        if checkpoint is None:
            return _run(cfg, ev, on_progress, t0)
        ev.open_journal(checkpoint)
        with stop_on_sigint(ev):
            try:
                return _run(cfg, ev, on_progress, t0)
            finally:
                ev.flush_journal()  # batches not written yet (a kill would only lose these)
    finally:
        ev.flush()  # the persistent cache's last batch


def _run(cfg: SearchConfig, ev: Evaluator, on_progress: Callable[[dict], None] | None,
         t0: float) -> SearchResult:
    space = ev.space
    trace = Trace(on_record=on_progress)
    spec = algorithm_spec(cfg)
    optima = None
    o = cfg.objective
    source = {"separate": "best-known", "exact": "exact"}.get(str(o.optima), "given")
    if o.optima == "separate":
        optima = separate(ev, Objective("max"), spec, cfg.seed, trace, cfg.top_k).optima
    elif o.optima == "exact":
        optima = exact_optima(ev)[0]
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
    return SearchResult(cfg, ev, obj, res, trace, optima, time.perf_counter() - t0,
                        "best-known" if o.optima is None else source)


def best_known_optima(ev: Evaluator, optima: np.ndarray) -> np.ndarray:
    """Each workload's optimum estimate, lowered to the best EDAP (J s mm^2) that any feasible
    design the run evaluated reached on that workload."""
    return np.minimum(np.asarray(optima, dtype=float), workload_bests(ev)[0])


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
    return SearchEvaluator(space, cfg.technology_model(),
                                [get(w) for w in cfg.workloads], cfg.objective.area_limit_mm2,
                                accuracy=accuracy, min_accuracy=minimum,
                                max_psum_bits_lost=cfg.objective.max_psum_bits_lost,
                                device=device, backend=make_backend(cfg.backend),
                                executor=executor, cache_file=cache_file)


__all__ = ["PLAIN_GA", "SearchResult", "algorithm_spec", "best_known_optima", "run_search",
           "workload_bests", "write_results"]
