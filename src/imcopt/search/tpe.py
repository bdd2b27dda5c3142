"""Optuna's TPE (tree-structured Parzen estimator) as a search of a `DesignProblem`.

Each gene is one Optuna parameter over its index range: `suggest_int(0, cardinality - 1)`
(`genes="ordinal"`, the value lists are ordered) or a categorical over the indices
(`genes="categorical"`). Trials are asked in batches (`batch`, with Optuna's constant liar so
that a batch spreads out), the batch's genomes are evaluated in one `Evaluator` call and the
values told back. The value told is log(objective) for a feasible design and, for an
infeasible one, `INFEASIBLE` plus its total constraint violation (a penalty: TPE only ranks
values, so every infeasible design ranks below every feasible one, the less violating first).
The budget is `n_evals` objective calls (trials), as for random search. With `feasible_only`
the first `n_startup` trials are screened-feasible random designs (as the other algorithms'
initial designs); otherwise TPE draws its own random start.

Optuna is an optional dependency: `pip install 'imcopt[optuna]'`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from .algorithms import Steps, Trace, evaluate
from .problem import DesignProblem
from .sampling import random_genes

INFEASIBLE = 1e9  # the value told for an infeasible design, plus its violation
GENE_ENCODINGS = ("ordinal", "categorical")


@dataclass(frozen=True)
class TPESettings:
    """TPE's settings: trials per batch, random start trials, Optuna's multivariate TPE
    and how a gene is suggested (`GENE_ENCODINGS`)."""

    batch: int = 10
    n_startup: int = 20
    multivariate: bool = True
    genes: str = "ordinal"

    def __post_init__(self) -> None:
        if self.genes not in GENE_ENCODINGS:
            raise ValueError(f"tpe.genes {self.genes!r} is not one of "
                             f"{', '.join(GENE_ENCODINGS)}")
        if self.batch < 1 or self.n_startup < 1:
            raise ValueError("tpe.batch and tpe.n_startup must be >= 1")


def import_optuna() -> ModuleType:
    """Optuna, or an ImportError that says how to install it."""
    try:
        import optuna
    except ImportError as exc:
        raise ImportError("algorithm 'tpe' needs Optuna, which is not installed: "
                          "pip install 'imcopt[optuna]'") from exc
    return optuna


def tell_values(fitness: np.ndarray, violation: np.ndarray) -> np.ndarray:
    """The values told to Optuna: log(fitness) when feasible, else the penalty."""
    cv = np.nan_to_num(np.maximum(violation, 0.0).sum(axis=1), nan=1e6, posinf=1e6)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(fitness)
    return np.where(np.isfinite(logs), logs, INFEASIBLE + cv)


def tpe(problem: DesignProblem, n_evals: int, seed: int, trace: Trace, *,
        settings: TPESettings = TPESettings(), feasible_only: bool = False) -> Steps[None]:
    """TPE for `n_evals` trials in batches (module docstring); designs land in the
    evaluator."""
    optuna = import_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    card = problem.xu.astype(np.int64) + 1
    names = [f"g{i}" for i in range(len(card))]
    dist = (optuna.distributions.IntDistribution if settings.genes == "ordinal" else
            lambda lo, hi: optuna.distributions.CategoricalDistribution(range(lo, hi + 1)))
    space = {n: dist(0, int(c) - 1) for n, c in zip(names, card, strict=True)}
    with warnings.catch_warnings():  # multivariate and constant_liar are "experimental"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=settings.n_startup, multivariate=settings.multivariate,
            constant_liar=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    if feasible_only:
        start = random_genes(problem, min(settings.n_startup, n_evals),
                             np.random.default_rng(seed), True)
        for row in start:
            study.enqueue_trial(dict(zip(names, map(int, row), strict=True)))
    done, b = 0, 0
    while done < n_evals:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            trials = [study.ask(space) for _ in range(min(settings.batch, n_evals - done))]
        x = np.array([[t.params[n] for n in names] for t in trials], dtype=np.int64)
        ev = yield from evaluate(problem, x)
        fit = problem.objective.fitness(ev)
        for t, v in zip(trials, tell_values(fit, problem.objective.violation(ev)),
                        strict=True):
            study.tell(t, float(v))
        done, b = done + len(trials), b + 1
        trace.record(problem, "tpe", b, float(fit.min()))
