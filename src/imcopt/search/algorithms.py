"""Search algorithms on a `DesignProblem`: random search, the plain GA, the four-phase GA and
NSGA-II (pymoo), each recording convergence per generation into a `Trace`.

Every algorithm only evaluates designs through the problem's `Evaluator`; the designs it
found are read back from the evaluator (see `best_genomes`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.algorithms.soo.nonconvex.ga import GA
from pymoo.core.callback import Callback
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.optimize import minimize

from .problem import DesignProblem
from .sampling import hamming_population, random_genes


@dataclass(frozen=True)
class Phase:
    """One GA run: population, generations (the initial population counts as the first, as
    in pymoo), SBX and PM probabilities and distribution indices."""

    pop_size: int = 70
    n_gen: int = 10
    crossover_prob: float = 1.0
    crossover_eta: float = 3.0
    mutation_prob: float = 1.0
    mutation_eta: float = 3.0


#: docs/original_study.md §3.4: exploration, transition, convergence, fine-tuning
STUDY_PHASES = (
    Phase(70, 10, 1.0, 3, 1.0, 3),
    Phase(70, 10, 0.9, 7, 0.5, 7),
    Phase(70, 10, 1.0, 15, 0.2, 15),
    Phase(70, 10, 1.0, 25, 0.05, 25),
)


@dataclass(frozen=True)
class HammingSampling:
    """Phase-1 sampling of the four-phase GA (docs/original_study.md §3.3)."""

    n_candidates: int = 1000
    n_select: int = 500
    evaluate: bool = True


@dataclass
class Trace:
    """Convergence rows, one per generation (or random-search batch)."""

    rows: list[dict] = field(default_factory=list)
    on_record: Callable[[dict], None] | None = None
    search: str = "joint"  # which search of a strategy records (e.g. separate:resnet18)

    def record(self, problem: DesignProblem, phase: str, generation: int,
               pop_best: float) -> None:
        ev = problem.evaluator
        fit = problem.objective.fitness(ev.evaluated())
        self.rows.append({
            "search": self.search, "phase": phase, "generation": generation, "n_calls": ev.n_calls,
            "n_evals": ev.n_evals, "population_best": pop_best,
            "best_so_far": float(fit.min()) if len(fit) else float("inf"),
        })
        if self.on_record:
            self.on_record(self.rows[-1])


class _Record(Callback):
    def __init__(self, trace: Trace, problem: DesignProblem, phase: str) -> None:
        super().__init__()
        self.trace, self.problem, self.phase = trace, problem, phase

    def notify(self, algorithm: object) -> None:
        pop = algorithm.pop  # type: ignore[attr-defined]
        f, cv = pop.get("F")[:, 0], pop.get("CV")[:, 0]
        best = float(f[cv <= 0].min()) if np.any(cv <= 0) else float("inf")
        self.trace.record(self.problem, self.phase, algorithm.n_gen, best)  # type: ignore


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def ga(
    problem: DesignProblem,
    phase: Phase,
    initial: np.ndarray,
    seed: int,
    trace: Trace,
    label: str = "ga",
) -> object:
    """One pymoo GA run (SBX + PM with rounding on the index genome, duplicates removed)."""
    algorithm = GA(pop_size=phase.pop_size, sampling=np.asarray(initial, dtype=float),
                   eliminate_duplicates=True, **_operators(phase))
    return minimize(problem, algorithm, ("n_gen", phase.n_gen), seed=seed,
                    callback=_Record(trace, problem, label), verbose=False)


def _operators(phase: Phase) -> dict[str, object]:
    """SBX + PM on the real relaxation of the index genome, rounded back (as the study)."""
    return {
        "crossover": SBX(prob=phase.crossover_prob, eta=phase.crossover_eta, vtype=float,
                         repair=RoundingRepair()),
        "mutation": PM(prob=phase.mutation_prob, eta=phase.mutation_eta, vtype=float,
                       repair=RoundingRepair()),
    }


def run_random(problem: DesignProblem, n_evals: int, seed: int, trace: Trace, *,
               batch: int = 100, feasible_only: bool = False) -> None:
    """Uniform random search: `n_evals` designs in batches."""
    rng = np.random.default_rng(seed)
    for b, start in enumerate(range(0, n_evals, batch)):
        x = random_genes(problem, min(batch, n_evals - start), rng, feasible_only)
        fit = problem.objective.fitness(problem.evaluate_full(x))
        trace.record(problem, "random", b + 1, float(fit.min()))


def run_ga(problem: DesignProblem, phase: Phase, seed: int, trace: Trace, *,
           feasible_only: bool = False) -> None:
    """The plain GA: a random initial population, then `phase` as the one GA run."""
    rng = np.random.default_rng(seed)
    initial = random_genes(problem, phase.pop_size, rng, feasible_only)
    ga(problem, phase, initial, _seed(rng), trace, "ga")


def best_genes(problem: DesignProblem, k: int) -> np.ndarray:
    """The k best distinct designs evaluated so far by the problem's real objective
    (feasible by fitness first, then infeasible by violation), as genes of its free
    parameters; only designs that agree with the problem's frozen parameters qualify."""
    ev = problem.evaluator.evaluated()
    frozen = np.setdiff1d(np.arange(problem.evaluator.space.n_var), problem.free)
    match = np.all(ev.genomes[:, frozen] == problem.base[frozen], axis=1)
    ev = ev.take(np.flatnonzero(match))
    return ev.genomes[problem.objective.rank(ev)[:k]][:, problem.free]


def run_four_phase(
    problem: DesignProblem,
    seed: int,
    trace: Trace,
    *,
    phases: Sequence[Phase] = STUDY_PHASES,
    sampling: HammingSampling = HammingSampling(),
    feasible_only: bool = False,
) -> None:
    """The four-phase GA: phase 1 from diversity-enhanced sampling, every later phase a fresh
    GA seeded with the best designs found so far by the real aggregate (no duplicates;
    topped up with random designs when fewer exist)."""
    rng = np.random.default_rng(seed)
    for i, phase in enumerate(phases):
        if i == 0:
            initial = hamming_population(
                problem, rng, n_candidates=sampling.n_candidates, n_select=sampling.n_select,
                keep=phase.pop_size, evaluate=sampling.evaluate, feasible_only=feasible_only)
        else:
            initial = best_genes(problem, phase.pop_size)
        if len(initial) < phase.pop_size:
            extra = random_genes(problem, phase.pop_size - len(initial), rng, feasible_only)
            initial = np.unique(np.concatenate([initial, extra]), axis=0)
        ga(problem, phase, initial, _seed(rng), trace, f"phase{i + 1}")


def run_nsga2(problem: DesignProblem, phase: Phase, seed: int, trace: Trace, *,
              feasible_only: bool = False) -> np.ndarray:
    """NSGA-II on (energy, latency, area); returns the final non-dominated genes."""
    rng = np.random.default_rng(seed)
    initial = random_genes(problem, phase.pop_size, rng, feasible_only)
    algorithm = NSGA2(pop_size=phase.pop_size, sampling=np.asarray(initial, dtype=float),
                      eliminate_duplicates=True, **_operators(phase))
    trace_cb = _ParetoRecord(trace, problem)
    res = minimize(problem, algorithm, ("n_gen", phase.n_gen), seed=_seed(rng),
                   callback=trace_cb, verbose=False)
    x = res.X if res.X is not None else np.empty((0, problem.n_var))
    return np.rint(np.atleast_2d(x)).astype(np.int64)


class _ParetoRecord(_Record):
    def __init__(self, trace: Trace, problem: DesignProblem) -> None:
        super().__init__(trace, problem, "nsga2")

    def notify(self, algorithm: object) -> None:
        pop = algorithm.pop  # type: ignore[attr-defined]
        fit = self.problem.objective.fitness(self.problem.evaluate_full(pop.get("X")))
        self.problem.evaluator.n_calls -= len(fit)  # a look-up, not a search evaluation
        self.trace.record(self.problem, self.phase, algorithm.n_gen, float(fit.min()))  # type: ignore
