"""Initial populations: uniform random (optionally screened for feasibility) and the study's
diversity-enhanced sampling (greedy max-min Hamming selection, optionally evaluated)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator

import numpy as np

from ..hardware.space import hamming
from .problem import DesignProblem

MAX_SCREEN_ROUNDS = 50
POOL_AFTER_ROUNDS = 3  # still short after this many rounds: enumerate what passes instead


MAX_DISTANCE_MATRIX = 16_000_000  # Hamming-selection candidates^2 held at once (int16)


def random_genes(
    problem: DesignProblem, n: int, rng: np.random.Generator, feasible_only: bool = False
) -> np.ndarray:
    """n random gene vectors of the problem's free parameters.

    feasible_only: redraw until every vector passes the cheap checks (area limit, weight
    capacity on the objective's workloads); screening runs no full model evaluation. The
    draws are uniform over the designs that pass: the weight-capacity genes come from the
    combinations that pass that check (`Evaluator.capacity_table`, when the problem searches
    them all), the other genes at random, and the screen decides. When few pass (still short
    after `POOL_AFTER_ROUNDS` rounds), the rest is drawn from all of them at once
    (`Evaluator.screened_set`). If the feasible region is too small to fill `n`, the rest is
    random (with a warning).
    """
    card = problem.xu.astype(np.int64) + 1

    def uniform(m: int) -> np.ndarray:
        return rng.integers(0, card[None, :], size=(m, len(card)))

    if not feasible_only:
        return uniform(n)
    draw, possible = _proposal(problem, card, rng)
    draw = draw or uniform
    found: list[np.ndarray] = []
    have, share = 0, 0.05  # the share of draws that pass, updated as they come
    for round_ in range(MAX_SCREEN_ROUNDS if possible else 0):
        if round_ == POOL_AFTER_ROUNDS and (pool := _screened_pool(problem)) is not None:
            # rare passes: draw the rest from every design that passes (same distribution)
            if len(pool):
                found.append(pool[rng.integers(0, len(pool), n - have)])
                have = n
            break
        m = int(min(max(1.5 * (n - have) / share, 64), max(20 * n, 20_000)))
        x = draw(m)
        ok = problem.evaluator.screen(problem.full(x), problem.objective.subset)
        found.append(x[ok])
        have += int(ok.sum())
        share = max(ok.mean(), 1e-4)
        if have >= n:
            break
    out = np.concatenate(found)[:n] if found else np.empty((0, len(card)), np.int64)
    if len(out) < n:
        warnings.warn(f"only {len(out)} of {n} screened-feasible designs found; the rest are "
                      "random", stacklevel=2)
        out = np.concatenate([out, uniform(n - len(out))])
    return out


def _screened_pool(problem: DesignProblem) -> np.ndarray | None:
    """Every design the screen passes, as genes of the problem (which must search the whole
    space), or None (a subspace, or too many candidates to enumerate)."""
    if not np.array_equal(problem.free, np.arange(problem.evaluator.space.n_var)):
        return None
    return problem.evaluator.screened_set(problem.objective.subset)


def _proposal(problem: DesignProblem, card: np.ndarray, rng: np.random.Generator
              ) -> tuple[Callable[[int], np.ndarray] | None, bool]:
    """(draw, possible): draws of m gene vectors whose weight-capacity genes pass the
    screen's capacity check (uniform over such designs; None when that check cannot be
    drawn from), and False when no combination passes it, so no design passes the screen."""
    found = problem.evaluator.capacity_table(problem.objective.subset)
    if found is None:
        return None, True
    genes, table = found
    where = {int(g): i for i, g in enumerate(problem.free)}
    if not all(int(g) in where for g in genes):
        return None, True  # some capacity genes are frozen: screen uniform draws instead
    pos = [where[int(g)] for g in genes]
    cells = np.flatnonzero(table.ravel())
    if not len(cells):
        return None, False

    others = np.setdiff1d(np.arange(len(card)), pos)

    def draw(m: int) -> np.ndarray:
        x = np.empty((m, len(card)), dtype=np.int64)
        x[:, others] = rng.integers(0, card[None, others], size=(m, len(others)))
        x[:, pos] = np.column_stack(np.unravel_index(cells[rng.integers(0, len(cells), m)],
                                                     table.shape))
        return x

    return draw, True


def max_min_hamming(candidates: np.ndarray, k: int) -> np.ndarray:
    """Indices of k candidates chosen greedily: start with the first, then repeatedly the one
    whose smallest Hamming distance to those chosen is largest (ties: lowest index)."""
    m = len(candidates)
    k = min(k, m)
    rows = _distance_rows(candidates)
    chosen = [0]
    dmin = rows(0).astype(np.int16)
    dmin[0] = -1
    for _ in range(k - 1):
        j = int(np.argmax(dmin))
        chosen.append(j)
        np.minimum(dmin, rows(j), out=dmin)  # the chosen stay at -1
        dmin[j] = -1
    return np.asarray(chosen, dtype=np.int64)


def _distance_rows(candidates: np.ndarray) -> Callable[[int], np.ndarray]:
    """Row j of the candidates' Hamming distance matrix: the whole matrix at once, gene by
    gene, when it has at most `MAX_DISTANCE_MATRIX` entries, else row by row."""
    m, n_var = candidates.shape
    if m * m > MAX_DISTANCE_MATRIX:
        return lambda j: hamming(candidates, candidates[j])
    small = np.uint8 if candidates.max(initial=0) < 256 and n_var < 256 else np.int64
    genes = candidates.astype(small)
    dist = np.zeros((m, m), dtype=np.uint8 if small is np.uint8 else np.int16)
    for g in range(n_var):
        col = genes[:, g]
        dist += col[:, None] != col[None, :]
    return lambda j: dist[j]


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
