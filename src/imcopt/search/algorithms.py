"""Search algorithms on a `DesignProblem`: random search, the plain GA, the four-phase GA and
NSGA-II, each recording convergence per generation into a `Trace`.

Every algorithm is written as *steps*, a generator: before it evaluates a batch of designs it
yields the batch's full genomes, and when resumed it evaluates them through the problem's
`Evaluator`. `run(steps)` drives one search; `lockstep.lockstep` drives many and evaluates all
their yielded batches in one model call first (a study's searches on one technology and
workload set), so that each search then finds its batch cached. Yielding is only a hint: a
search's results do not depend on who drives it.

Generations are array programs (`population`): integer gene arrays, pymoo's SBX and PM on the
whole mating batch, survival by sorting; every algorithm only evaluates designs through the
problem's `Evaluator`, and the designs it found are read back from it (see `best_genes`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM

from ..objectives import Evaluation
from .population import (
    FIRST_NEW_SHARE,
    Population,
    dominance_tournament,
    fitness_survival,
    fitness_tournament,
    non_dominated,
    offspring,
    rank_and_crowding_survival,
)
from .problem import DesignProblem
from .sampling import hamming_population, random_genes

T = TypeVar("T")
#: a search as a generator: yields full genomes it is about to evaluate, returns its result
Steps = Generator[np.ndarray, None, T]


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
    # (evaluator, objective) -> (designs already scored, best so far): the evaluator's
    # designs only grow, so each record scores the new ones only
    _seen: dict = field(default_factory=dict, repr=False)

    def record(self, problem: DesignProblem, phase: str, generation: int,
               pop_best: float) -> None:
        ev = problem.evaluator
        key = (id(ev), problem.objective)
        done, best = self._seen.get(key, (0, float("inf")))
        table = ev.evaluated()
        if len(table) > done:
            new = problem.objective.fitness(table.take(slice(done, len(table))))
            best = min(best, float(new.min()))
        self._seen[key] = (len(table), best)
        self.rows.append({
            "search": self.search, "phase": phase, "generation": generation, "n_calls": ev.n_calls,
            "n_evals": ev.n_evals, "population_best": pop_best, "best_so_far": best,
        })
        if self.on_record:
            self.on_record(self.rows[-1])


# ---- driving steps ----------------------------------------------------------------------------
def run(steps: Steps[T]) -> T:
    """Drive one search to its end; returns its result."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def evaluate(problem: DesignProblem, x: np.ndarray) -> Steps[Evaluation]:
    """Yield a batch of genes (as full genomes), then evaluate it."""
    yield problem.full(x)
    return problem.evaluate_full(x)


def _evaluated(problem: DesignProblem, x: np.ndarray) -> Steps[Population]:
    ev = yield from evaluate(problem, x)
    f, g = problem.objectives(ev)
    return Population(x, f, np.maximum(g, 0.0).sum(axis=1), fitness=problem.objective.fitness(ev))


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _operators(phase: Phase) -> tuple[SBX, PM]:
    """SBX + PM on the real relaxation of the index genome, rounded back (as the study)."""
    return (SBX(prob=phase.crossover_prob, eta=phase.crossover_eta),
            PM(prob=phase.mutation_prob, eta=phase.mutation_eta))


def _distinct(x: np.ndarray) -> np.ndarray:
    """Rows of `x` as integer genes, repeats dropped (first kept, order kept)."""
    x = np.rint(np.atleast_2d(np.asarray(x, dtype=float))).astype(np.int64)
    return x[np.sort(np.unique(x, axis=0, return_index=True)[1])] if len(x) else x


def _best(pop: Population) -> float:
    fit = pop.fitness if pop.fitness is not None else np.full(len(pop), np.inf)
    return float(fit.min()) if len(fit) else float("inf")


# ---- the GA family ------------------------------------------------------------------------------
def ga(problem: DesignProblem, phase: Phase, initial: np.ndarray, seed: int, trace: Trace,
       label: str = "ga") -> Steps[Population]:
    """One GA run (pymoo's GA rules, `population`): `initial` (repeats dropped) is the first
    generation, then up to `phase.n_gen - 1` generations of `pop_size` new offspring each."""
    rng = np.random.default_rng(seed)
    crossover, mutation = _operators(phase)
    pop = yield from _evaluated(problem, _distinct(initial))
    trace.record(problem, label, 1, _best(pop))
    share = FIRST_NEW_SHARE
    for generation in range(2, phase.n_gen + 1):
        kids, share = offspring(problem, pop, phase.pop_size, crossover, mutation,
                                fitness_tournament, rng, share)
        if not len(kids):  # nothing new can be made: the run has converged
            break
        pop = fitness_survival(pop.merge((yield from _evaluated(problem, kids))),
                               phase.pop_size, rng)
        trace.record(problem, label, generation, _best(pop))
    return pop


def random_search(problem: DesignProblem, n_evals: int, seed: int, trace: Trace, *,
                  batch: int = 100, feasible_only: bool = False) -> Steps[None]:
    """Uniform random search: `n_evals` designs in batches."""
    rng = np.random.default_rng(seed)
    for b, start in enumerate(range(0, n_evals, batch)):
        x = random_genes(problem, min(batch, n_evals - start), rng, feasible_only)
        fit = problem.objective.fitness((yield from evaluate(problem, x)))
        trace.record(problem, "random", b + 1, float(fit.min()))


def plain_ga(problem: DesignProblem, phase: Phase, seed: int, trace: Trace, *,
             feasible_only: bool = False) -> Steps[Population]:
    """The plain GA: a random initial population, then `phase` as the one GA run."""
    rng = np.random.default_rng(seed)
    initial = random_genes(problem, phase.pop_size, rng, feasible_only)
    return (yield from ga(problem, phase, initial, _seed(rng), trace, "ga"))


def best_genes(problem: DesignProblem, k: int) -> np.ndarray:
    """The k best distinct designs evaluated so far by the problem's real objective
    (feasible by fitness first, then infeasible by violation), as genes of its free
    parameters; only designs that agree with the problem's frozen parameters qualify."""
    ev = problem.evaluator.evaluated()
    frozen = np.setdiff1d(np.arange(problem.evaluator.space.n_var), problem.free)
    match = np.all(ev.genomes[:, frozen] == problem.base[frozen], axis=1)
    ev = ev.take(np.flatnonzero(match))
    return ev.genomes[problem.objective.rank(ev)[:k]][:, problem.free]


def four_phase(
    problem: DesignProblem,
    seed: int,
    trace: Trace,
    *,
    phases: Sequence[Phase] = STUDY_PHASES,
    sampling: HammingSampling = HammingSampling(),
    feasible_only: bool = False,
) -> Steps[None]:
    """The four-phase GA: phase 1 from diversity-enhanced sampling, every later phase a fresh
    GA seeded with the best designs found so far by the real aggregate (no duplicates;
    topped up with random designs when fewer exist)."""
    rng = np.random.default_rng(seed)
    for i, phase in enumerate(phases):
        if i == 0:
            initial = yield from hamming_population(
                problem, rng, n_candidates=sampling.n_candidates, n_select=sampling.n_select,
                keep=phase.pop_size, evaluate=sampling.evaluate, feasible_only=feasible_only)
        else:
            initial = best_genes(problem, phase.pop_size)
        if len(initial) < phase.pop_size:
            extra = random_genes(problem, phase.pop_size - len(initial), rng, feasible_only)
            initial = np.unique(np.concatenate([initial, extra]), axis=0)
        yield from ga(problem, phase, initial, _seed(rng), trace, f"phase{i + 1}")


def nsga2(problem: DesignProblem, phase: Phase, seed: int, trace: Trace, *,
          feasible_only: bool = False) -> Steps[np.ndarray]:
    """NSGA-II on (energy, latency, area) (pymoo's NSGA2 rules, `population`); returns the
    final population's non-dominated feasible genes."""
    rng = np.random.default_rng(seed)
    initial = random_genes(problem, phase.pop_size, rng, feasible_only)
    rng = np.random.default_rng(_seed(rng))
    crossover, mutation = _operators(phase)
    pop = yield from _evaluated(problem, _distinct(initial))
    pop = rank_and_crowding_survival(pop, len(pop), rng)
    trace.record(problem, "nsga2", 1, _best(pop))
    share = FIRST_NEW_SHARE
    for generation in range(2, phase.n_gen + 1):
        kids, share = offspring(problem, pop, phase.pop_size, crossover, mutation,
                                dominance_tournament, rng, share)
        if not len(kids):
            break
        pop = rank_and_crowding_survival(pop.merge((yield from _evaluated(problem, kids))),
                                         phase.pop_size, rng)
        trace.record(problem, "nsga2", generation, _best(pop))
    return pop.X[non_dominated(pop)]


# ---- the same, driven to the end ----------------------------------------------------------------
def run_random(problem: DesignProblem, n_evals: int, seed: int, trace: Trace, *,
               batch: int = 100, feasible_only: bool = False) -> None:
    run(random_search(problem, n_evals, seed, trace, batch=batch, feasible_only=feasible_only))


def run_ga(problem: DesignProblem, phase: Phase, seed: int, trace: Trace, *,
           feasible_only: bool = False) -> None:
    run(plain_ga(problem, phase, seed, trace, feasible_only=feasible_only))


def run_four_phase(problem: DesignProblem, seed: int, trace: Trace, *,
                   phases: Sequence[Phase] = STUDY_PHASES,
                   sampling: HammingSampling = HammingSampling(),
                   feasible_only: bool = False) -> None:
    run(four_phase(problem, seed, trace, phases=phases, sampling=sampling,
                   feasible_only=feasible_only))


def run_nsga2(problem: DesignProblem, phase: Phase, seed: int, trace: Trace, *,
              feasible_only: bool = False) -> np.ndarray:
    """NSGA-II on (energy, latency, area); returns the final non-dominated genes."""
    return run(nsga2(problem, phase, seed, trace, feasible_only=feasible_only))
