"""Strategies: how the workloads are searched.

joint: one search for one design serving every workload (the objective's aggregation).
separate: one search per workload, each for its own EDAP; gives each workload's optimum.
largest: a search for the workload with the most MACs only; its best designs are then
  ranked on all workloads.
sequential: one level of parameters at a time (device, circuit, architecture, system, as
  `DesignSpace.levels()`), the others frozen at the best design so far, which is carried to
  the next level automatically. Small levels are enumerated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

import numpy as np

from ..objectives import Evaluator, Objective
from .algorithms import (
    STUDY_PHASES,
    HammingSampling,
    Phase,
    Steps,
    Trace,
    best_genes,
    evaluate,
    four_phase,
    nsga2,
    plain_ga,
    random_search,
    run,
)
from .exhaustive import enumerate_genomes, exhaustive
from .problem import DesignProblem
from .tpe import TPESettings, tpe

ALGORITHMS = ("random", "ga", "four_phase", "nsga2", "tpe", "exhaustive")
STRATEGIES = ("joint", "separate", "largest", "sequential")


@dataclass(frozen=True)
class AlgorithmSpec:
    """Which algorithm and its settings. `phases[0]` is the GA/NSGA-II setting."""

    name: str = "four_phase"
    phases: tuple[Phase, ...] = STUDY_PHASES
    sampling: HammingSampling = field(default_factory=HammingSampling)
    n_evals: int = 3300  # random search and TPE
    feasible_only: bool = True  # initial designs screened for area and weight capacity
    chunk: int | None = None  # exhaustive; None: by the evaluator's device
    front: str = "energy_latency_area"  # nsga2: the objectives (`problem.OBJECTIVES`)
    tpe: TPESettings = field(default_factory=TPESettings)  # tpe (search/tpe.py)

    def __post_init__(self) -> None:
        if self.name not in ALGORITHMS:
            raise ValueError(f"algorithm {self.name!r} is not one of {', '.join(ALGORITHMS)}")


@dataclass
class StrategyResult:
    best: np.ndarray  # (k, n_var) genomes, best first by the strategy's ranking
    optima: np.ndarray | None = None  # (W,) each workload's own optimum EDAP, when known
    per_workload_best: dict[str, np.ndarray] = field(default_factory=dict)
    pareto: np.ndarray | None = None  # (k, n_var) NSGA-II front
    notes: dict = field(default_factory=dict)


def algorithm_steps(problem: DesignProblem, spec: AlgorithmSpec, seed: int,
                    trace: Trace) -> Steps[np.ndarray | None]:
    """Run `spec` on `problem` (search steps); designs land in the evaluator. NSGA-II returns
    its front."""
    first = spec.phases[0]
    if spec.name == "random":
        yield from random_search(problem, spec.n_evals, seed, trace,
                                 feasible_only=spec.feasible_only)
    elif spec.name == "ga":
        yield from plain_ga(problem, first, seed, trace, feasible_only=spec.feasible_only)
    elif spec.name == "four_phase":
        yield from four_phase(problem, seed, trace, phases=spec.phases, sampling=spec.sampling,
                              feasible_only=spec.feasible_only)
    elif spec.name == "nsga2":
        return problem.full((yield from nsga2(problem, first, seed, trace,
                                              feasible_only=spec.feasible_only)))
    elif spec.name == "tpe":
        yield from tpe(problem, spec.n_evals, seed, trace, settings=spec.tpe,
                       feasible_only=spec.feasible_only)
    else:
        res = exhaustive(problem.evaluator, problem.objective, free=problem.free,
                         base=problem.base, chunk=spec.chunk)
        problem.evaluator.add(res.best)
        trace.record(problem, "exhaustive", 1, float(res.fitness.min()))
    return None


def run_algorithm(problem: DesignProblem, spec: AlgorithmSpec, seed: int,
                  trace: Trace) -> np.ndarray | None:
    """Run `spec` on `problem`; designs land in the evaluator. NSGA-II returns its front."""
    return run(algorithm_steps(problem, spec, seed, trace))


def _top(problem: DesignProblem, k: int) -> np.ndarray:
    return problem.full(best_genes(problem, k))


def joint_steps(ev: Evaluator, obj: Objective, spec: AlgorithmSpec, seed: int, trace: Trace,
                top_k: int = 10) -> Steps[StrategyResult]:
    mode = spec.front if spec.name == "nsga2" else "aggregate"
    problem = DesignProblem(ev, obj, mode=mode)
    front = yield from algorithm_steps(problem, spec, seed, trace)
    return StrategyResult(_top(DesignProblem(ev, obj), top_k), pareto=front)


def separate_steps(ev: Evaluator, obj: Objective, spec: AlgorithmSpec, seed: int,
                   trace: Trace, top_k: int = 10) -> Steps[StrategyResult]:
    bests, optima = {}, np.full(len(ev.workloads), np.inf)
    for w, wl in enumerate(ev.workloads):
        own = Objective("max", subset=(w,))  # E_w * L_w * A = EDAP_w
        problem = DesignProblem(ev, own)
        trace.search = f"separate:{wl.name}"
        yield from algorithm_steps(problem, spec, seed + w, trace)
        g = _top(problem, 1)
        bests[wl.name] = g[0]
        optima[w] = float(own.fitness(ev.evaluate(g))[0])
    trace.search = "joint"
    stacked = np.unique(np.stack(list(bests.values())), axis=0)
    order = obj.rank(ev.evaluate(stacked))
    return StrategyResult(stacked[order][:top_k], optima=optima, per_workload_best=bests)


def largest_steps(ev: Evaluator, obj: Objective, spec: AlgorithmSpec, seed: int,
                  trace: Trace, top_k: int = 10) -> Steps[StrategyResult]:
    w = int(np.argmax([wl.macs for wl in ev.workloads]))
    problem = DesignProblem(ev, Objective("max", subset=(w,)))
    trace.search = f"largest:{ev.workloads[w].name}"
    yield from algorithm_steps(problem, spec, seed, trace)
    trace.search = "joint"
    own_best = _top(problem, top_k)
    order = obj.rank(ev.evaluate(own_best))
    return StrategyResult(own_best[order], per_workload_best={ev.workloads[w].name: own_best[0]},
                          notes={"largest_workload": ev.workloads[w].name})


def sequential_steps(ev: Evaluator, obj: Objective, spec: AlgorithmSpec, seed: int,
                     trace: Trace, top_k: int = 10, start: np.ndarray | None = None,
                     exhaustive_below: int = 2000) -> Steps[StrategyResult]:
    """Level by level; `start` defaults to the middle value of every parameter, or, when that
    design fails the area or capacity screen, to the screened-feasible design nearest to it
    (a level search cannot leave an infeasible start when no single level fixes it)."""
    space = ev.space
    base = (_feasible_middle(ev, obj, seed) if start is None
            else np.asarray(start, dtype=np.int64))
    chain = []
    for i, (level, names) in enumerate(space.levels().items()):  # LEVELS (+ software)
        free = [space.names.index(n) for n in names]
        if not free:
            continue
        problem = DesignProblem(ev, obj, free=free, base=base)
        trace.search = f"sequential:{level}"
        size = int(np.prod(space.cardinalities[free]))
        if size <= exhaustive_below:
            yield from evaluate(problem, enumerate_genomes(space.cardinalities[free], 0, size))
            trace.record(problem, level, 1, float("nan"))
        else:
            yield from algorithm_steps(problem, spec, seed + i, trace)
        base = _top(problem, 1)[0]
        chain.append({"level": level, "parameters": [space.names[j] for j in free],
                      "designs": size, "best": space.keys(base[None, :])[0]})
    trace.search = "joint"
    return StrategyResult(base[None, :], notes={"levels": chain})


def _feasible_middle(ev: Evaluator, obj: Objective, seed: int, n: int = 20_000) -> np.ndarray:
    middle = ev.space.cardinalities // 2
    if ev.screen(middle[None, :], obj.subset)[0]:
        return middle
    rng = np.random.default_rng(seed)
    cand = ev.space.sample(n, rng)
    ok = cand[ev.screen(cand, obj.subset)]
    if not len(ok):
        return middle  # nothing feasible in the sample: start in the middle anyway
    return ok[int(np.argmin((ok != middle).sum(axis=1)))]


def _driven(steps: Callable[..., Steps[StrategyResult]]) -> Callable[..., StrategyResult]:
    """The strategy `steps` describes, run to its end."""
    @wraps(steps)
    def strategy(*args: object, **kwargs: object) -> StrategyResult:
        return run(steps(*args, **kwargs))

    return strategy


#: strategy name -> its search steps (for `lockstep`) and the same run to the end
STRATEGY_STEPS = {"joint": joint_steps, "separate": separate_steps, "largest": largest_steps,
                  "sequential": sequential_steps}
STRATEGY_FUNCTIONS = {name: _driven(f) for name, f in STRATEGY_STEPS.items()}
joint = STRATEGY_FUNCTIONS["joint"]
separate = STRATEGY_FUNCTIONS["separate"]
largest = STRATEGY_FUNCTIONS["largest"]
sequential = STRATEGY_FUNCTIONS["sequential"]
