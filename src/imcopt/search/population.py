"""Generations of the GA family as array programs.

A population is integer gene arrays with their objective values (F), total constraint
violations (CV) and, for NSGA-II, non-domination rank and crowding distance. One generation is
a handful of whole-array steps: binary tournaments, pymoo's SBX and PM on every mating at once
(the operators' own array code, `_do`), rounding, duplicate removal by genome code, survival.
The rules are pymoo's `GA` and `NSGA2` with `eliminate_duplicates=True`:

- tournament (GA): the smaller CV wins if either parent is infeasible, else the smaller F;
  ties at random. NSGA-II: CV, then Pareto dominance, then the larger crowding distance.
- crossover happens for a mating with the operator's `prob`, mutation for an offspring with
  its `prob`; SBX and PM work on the real relaxation of the index genome, rounded back.
- offspring equal to each other, to the population or to earlier offspring are dropped, and
  mating repeats (at most `MAX_MATING_ROUNDS` times) until `n` new designs exist; when none
  can be made the search stops.
- survival (GA): sort by CV, then F (stable), keep `pop_size`. NSGA-II: feasible designs by
  non-dominated rank, the splitting front by crowding distance (ties at random); then the
  least infeasible.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pymoo.operators.survival.rank_and_crowding.metrics import get_crowding_function
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
from pymoo.util.randomized_argsort import randomized_argsort

from ..hardware.space import genome_codes

MAX_MATING_ROUNDS = 100  # pymoo's n_max_iterations
FIRST_NEW_SHARE = 0.6  # a GA's first round mates 1 / this as many pairs as children needed
ROUND_MARGIN = 1.3  # and a third more, so that one round usually makes enough new children


@dataclass
class Population:
    X: np.ndarray  # (n, n_var) int64 genes
    F: np.ndarray  # (n, n_obj) objective values (finite)
    CV: np.ndarray  # (n,) total constraint violation, 0 when feasible
    fitness: np.ndarray | None = None  # (n,) the objective's fitness (+inf infeasible)
    rank: np.ndarray | None = None  # NSGA-II: non-domination rank (feasible designs)
    crowding: np.ndarray | None = None  # NSGA-II: crowding distance

    def __len__(self) -> int:
        return len(self.X)

    def take(self, idx: np.ndarray) -> Population:
        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx]

        return Population(self.X[idx], self.F[idx], self.CV[idx], pick(self.fitness),
                          pick(self.rank), pick(self.crowding))

    def merge(self, other: Population) -> Population:
        """Both populations' designs (rank and crowding are not carried: survival sets them)."""
        fit = (None if self.fitness is None or other.fitness is None
               else np.concatenate([self.fitness, other.fitness]))
        return Population(np.concatenate([self.X, other.X]), np.concatenate([self.F, other.F]),
                          np.concatenate([self.CV, other.CV]), fit)


def _pairs(n_pop: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) contestants drawn from concatenated random permutations (as pymoo)."""
    n_perms = math.ceil(2 * n / n_pop)
    perms = np.argsort(rng.random((n_perms, n_pop)), axis=1).ravel()
    return perms[: 2 * n].reshape(n, 2)


def _decide(a: np.ndarray, b: np.ndarray, va: np.ndarray, vb: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    """Winners of contests a vs b on values (smaller wins; ties at random)."""
    coin = rng.random(len(a)) < 0.5
    return np.where(va < vb, a, np.where(vb < va, b, np.where(coin, a, b)))


def fitness_tournament(pop: Population, n: int, rng: np.random.Generator) -> np.ndarray:
    """n winners of binary tournaments by CV (when either is infeasible), else by F."""
    p = _pairs(len(pop), n, rng)
    a, b = p[:, 0], p[:, 1]
    infeasible = (pop.CV[a] > 0) | (pop.CV[b] > 0)
    va = np.where(infeasible, pop.CV[a], pop.F[a, 0])
    vb = np.where(infeasible, pop.CV[b], pop.F[b, 0])
    return _decide(a, b, va, vb, rng)


def dominance_tournament(pop: Population, n: int, rng: np.random.Generator) -> np.ndarray:
    """NSGA-II's: by CV when either is infeasible, else by Pareto dominance, else by the larger
    crowding distance; ties at random."""
    p = _pairs(len(pop), n, rng)
    a, b = p[:, 0], p[:, 1]
    fa, fb = pop.F[a], pop.F[b]
    a_dom = np.all(fa <= fb, axis=1) & np.any(fa < fb, axis=1)
    b_dom = np.all(fb <= fa, axis=1) & np.any(fb < fa, axis=1)
    crowd = pop.crowding if pop.crowding is not None else np.zeros(len(pop))
    # smaller is better: dominance as -1/0/+1, crowding negated
    va = np.where(a_dom, -1.0, np.where(b_dom, 1.0, -crowd[a]))
    vb = np.where(a_dom, 1.0, np.where(b_dom, -1.0, -crowd[b]))
    infeasible = (pop.CV[a] > 0) | (pop.CV[b] > 0)
    va = np.where(infeasible, pop.CV[a], va)
    vb = np.where(infeasible, pop.CV[b], vb)
    return _decide(a, b, va, vb, rng)


def _cross(problem: object, crossover: object, parents: np.ndarray,
           rng: np.random.Generator) -> np.ndarray:
    """Two children per mating (parents: (2, n_matings, n_var) float), all first children
    then all second ones; a mating not crossed copies its parents."""
    n_matings = parents.shape[1]
    out = parents.copy()
    cross = rng.random(n_matings) < float(crossover.prob.value)  # type: ignore[attr-defined]
    if cross.any():
        q = crossover._do(problem, parents, random_state=rng)  # type: ignore[attr-defined]
        out[:, cross] = q[:, cross]
    return out.reshape(-1, parents.shape[-1])


def _mutate(problem: object, mutation: object, x: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    """Polynomial mutation of each row with the operator's probability."""
    mutated = mutation._do(problem, x, random_state=rng)  # type: ignore[attr-defined]
    hit = rng.random(len(x)) <= float(mutation.prob.value)  # type: ignore[attr-defined]
    out = x.copy()
    out[hit] = mutated[hit]
    return out


def offspring(problem: object, pop: Population, n: int, crossover: object, mutation: object,
              tournament: Callable[[Population, int, np.random.Generator], np.ndarray],
              rng: np.random.Generator, new_share: float = 1.0) -> tuple[np.ndarray, float]:
    """Up to n new distinct gene vectors, none already in `pop` (empty: none could be made),
    and the share of the children of the last round that were new.

    pymoo mates ceil(missing / 2) pairs per round and repeats; here a round mates as many
    more pairs as the share of new children (`new_share`: e.g. the last generation's, then
    the last round's) says are needed: matings are independent given the population, so the
    first n new children are alike in distribution, in fewer rounds. At most pymoo's most
    matings, `MAX_MATING_ROUNDS` x ceil(n / 2)."""
    cards = np.asarray(problem.xu, dtype=np.int64) + 1  # type: ignore[attr-defined]
    seen = genome_codes(pop.X, cards)
    out: list[np.ndarray] = []
    have, spent, budget = 0, 0, MAX_MATING_ROUNDS * math.ceil(n / 2)
    while have < n and spent < budget:
        n_matings = min(budget - spent, math.ceil(
            (n - have) / 2 / max(new_share, 0.02) * ROUND_MARGIN))
        spent += n_matings
        winners = tournament(pop, 2 * n_matings, rng).reshape(n_matings, 2)
        parents = np.swapaxes(pop.X[winners], 0, 1).astype(float)
        children = np.around(_cross(problem, crossover, parents, rng))
        children = np.around(_mutate(problem, mutation, children, rng)).astype(np.int64)
        codes = genome_codes(children, cards)
        first = np.sort(np.unique(codes, return_index=True)[1])  # repeats in the batch
        first = first[~np.isin(codes[first], seen)]  # and designs seen before
        new_share = len(first) / len(children)
        first = first[: n - have]
        out.append(children[first])
        seen = np.concatenate([seen, codes[first]])
        have += len(first)
    kids = np.concatenate(out) if out else np.empty((0, pop.X.shape[1]), np.int64)
    return kids, new_share


def fitness_survival(pop: Population, n: int, rng: np.random.Generator) -> Population:
    """The n best by (CV, F), stable."""
    return pop.take(np.lexsort((pop.F[:, 0], pop.CV))[:n])


def rank_and_crowding_survival(pop: Population, n: int, rng: np.random.Generator
                               ) -> Population:
    """NSGA-II: feasible designs front by front (the splitting front by crowding distance,
    ties at random), then infeasible ones by CV; rank and crowding set on the survivors."""
    feasible = np.flatnonzero(pop.CV <= 0)
    infeasible = np.flatnonzero(pop.CV > 0)
    infeasible = infeasible[np.argsort(pop.CV[infeasible], kind="stable")]
    chosen: list[int] = []
    rank = np.full(len(pop), np.inf)
    crowding = np.zeros(len(pop))
    n_feasible = min(len(feasible), n)
    if n_feasible:
        F = pop.F[feasible].astype(float)
        crowd = get_crowding_function("cd")
        for k, front in enumerate(NonDominatedSorting().do(F, n_stop_if_ranked=n_feasible)):
            take = np.arange(len(front))
            if len(chosen) + len(front) > n_feasible:
                n_remove = len(chosen) + len(front) - n_feasible
                cd = crowd.do(F[front], n_remove=n_remove)
                take = randomized_argsort(cd, order="descending", method="numpy",
                                          random_state=rng)[:-n_remove]
            else:
                cd = crowd.do(F[front], n_remove=0)
            rank[feasible[front]] = k
            crowding[feasible[front]] = cd
            chosen.extend(feasible[front[take]].tolist())
            if len(chosen) >= n_feasible:
                break
    chosen.extend(infeasible[: n - len(chosen)].tolist())
    idx = np.asarray(chosen, dtype=np.int64)
    out = pop.take(idx)
    out.rank, out.crowding = rank[idx], crowding[idx]
    return out


def non_dominated(pop: Population) -> np.ndarray:
    """Indices of the feasible designs no other feasible design dominates (the least
    infeasible design when none is feasible)."""
    feasible = np.flatnonzero(pop.CV <= 0)
    if not len(feasible):
        return np.atleast_1d(np.argmin(pop.CV))
    front = NonDominatedSorting().do(pop.F[feasible].astype(float),
                                     only_non_dominated_front=True)
    return feasible[np.sort(front)]
