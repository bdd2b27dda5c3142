"""Initial populations: uniform random (optionally screened for feasibility) and the study's
diversity-enhanced sampling (greedy max-min Hamming selection, optionally evaluated)."""

from __future__ import annotations

import warnings
from collections.abc import Generator

import numpy as np

from ..hardware.space import hamming
from .problem import DesignProblem

MAX_SCREEN_ROUNDS = 50


def random_genes(
    problem: DesignProblem, n: int, rng: np.random.Generator, feasible_only: bool = False
) -> np.ndarray:
    """n random gene vectors of the problem's free parameters.

    feasible_only: redraw until every vector passes the cheap checks (area limit, weight
    capacity on the objective's workloads); screening runs no full model evaluation. If the
    feasible region is too small to fill `n`, the rest is random (with a warning).
    """
    card = problem.xu.astype(np.int64) + 1
    draw = lambda m: rng.integers(0, card[None, :], size=(m, len(card)))  # noqa: E731
    if not feasible_only:
        return draw(n)
    found: list[np.ndarray] = []
    have = 0
    for _ in range(MAX_SCREEN_ROUNDS):
        x = draw(max(20 * n, 20_000))
        ok = problem.evaluator.screen(problem.full(x), problem.objective.subset)
        found.append(x[ok])
        have += int(ok.sum())
        if have >= n:
            break
    out = np.concatenate(found)[:n]
    if len(out) < n:
        warnings.warn(f"only {len(out)} of {n} screened-feasible designs found; the rest are "
                      "random", stacklevel=2)
        out = np.concatenate([out, draw(n - len(out))])
    return out


def max_min_hamming(candidates: np.ndarray, k: int) -> np.ndarray:
    """Indices of k candidates chosen greedily: start with the first, then repeatedly the one
    whose smallest Hamming distance to those chosen is largest (ties: lowest index)."""
    m = len(candidates)
    k = min(k, m)
    chosen = [0]
    dmin = hamming(candidates, candidates[0])
    dmin[0] = -1
    for _ in range(k - 1):
        j = int(np.argmax(dmin))
        chosen.append(j)
        dmin = np.minimum(dmin, hamming(candidates, candidates[j]))
        dmin[chosen] = -1
    return np.asarray(chosen, dtype=np.int64)


def hamming_population(
    problem: DesignProblem,
    rng: np.random.Generator,
    *,
    n_candidates: int = 1000,
    n_select: int = 500,
    keep: int = 70,
    evaluate: bool = True,
    feasible_only: bool = False,
) -> Generator[np.ndarray, None, np.ndarray]:
    """The study's phase-1 sampler (search steps, see `algorithms`): `n_select` most diverse
    of `n_candidates` random designs; with `evaluate`, all of them are evaluated and the best
    `keep` by the objective (feasible first) returned, otherwise the first `keep` selected."""
    cand = random_genes(problem, n_candidates, rng, feasible_only)
    cand = np.unique(cand, axis=0)
    cand = cand[rng.permutation(len(cand))]
    sel = cand[max_min_hamming(cand, n_select)]
    if not evaluate:
        return sel[:keep]
    yield problem.full(sel)
    ev = problem.evaluate_full(sel)
    return sel[problem.objective.rank(ev)[:keep]]
