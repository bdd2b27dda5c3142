"""The study config (pydantic) and its expansion into cells.

A study is a grid: technologies x workload sets x methods x aggregations x seeds, with shared
settings (area limit, budgets). Every cell is one search run through `imcopt.search`.
The exhaustive optimum does not depend on the seed, so it is one cell per
(technology, workload set, aggregation); the NSGA-II front of (max-aggregate EDAP, worst
per-network loss) does not depend on the aggregation, so it is one cell per (technology,
workload set, seed), ranked by `max`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..backends import BackendConfig
from ..config import load_model
from ..executors import ExecutorConfig
from ..hardware import get_space, technology_names
from ..inputs import brief
from ..objectives import DEFAULT_AREA_LIMIT_MM2
from ..search.config import SEED_MAX, PhaseConfig, SamplingConfig, SearchConfig, load_config

METHODS = ("separate", "largest", "sequential", "ga", "ga_sampling", "four_phase", "exhaustive",
           "nsga2")
#: the methods a study runs by default (nsga2, the front, is asked for by name)
DEFAULT_METHODS = ("separate", "largest", "ga", "ga_sampling", "four_phase", "exhaustive")
#: method -> (strategy, algorithm) of `imcopt search`
METHOD_SEARCH = {"separate": ("separate", None), "largest": ("largest", None),
                 "sequential": ("sequential", "ga"), "ga": ("joint", "ga"),
                 "ga_sampling": ("joint", "four_phase"), "four_phase": ("joint", "four_phase"),
                 "exhaustive": ("joint", "exhaustive"), "nsga2": ("joint", "nsga2")}
AGGREGATIONS = ("max", "mean", "geomean", "product", "worst_regret", "el_cost", "edap_cost")
#: the aggregation that ranks the designs of the NSGA-II front (its EDAP axis)
FRONT_AGGREGATION = "max"
_STUDY_PHASES = [
    {"pop_size": 70, "n_gen": 10, "crossover_prob": 1.0, "crossover_eta": 3, "mutation_prob": 1.0,
     "mutation_eta": 3},
    {"pop_size": 70, "n_gen": 10, "crossover_prob": 0.9, "crossover_eta": 7, "mutation_prob": 0.5,
     "mutation_eta": 7},
    {"pop_size": 70, "n_gen": 10, "crossover_prob": 1.0, "crossover_eta": 15,
     "mutation_prob": 0.2, "mutation_eta": 15},
    {"pop_size": 70, "n_gen": 10, "crossover_prob": 1.0, "crossover_eta": 25,
     "mutation_prob": 0.05, "mutation_eta": 25},
]
_NAME = re.compile(r"[A-Za-z0-9_]+")


class StudyError(ValueError):
    """A study config or folder is invalid; the message is one line naming the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class BudgetConfig(_Strict):
    """Search budgets shared by every cell (defaults: the study's, ~3,300 objective calls)."""

    four_phase: list[PhaseConfig] = Field(
        default_factory=lambda: [PhaseConfig(**p) for p in _STUDY_PHASES], min_length=1)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    # plain GA: random initial population, one GA run (70 x 47 = ~3,300 calls); also the GA
    # of each level of the sequential method (levels below `exhaustive_below` designs are
    # enumerated) and NSGA-II's population and generations
    ga: PhaseConfig = Field(default_factory=lambda: PhaseConfig(pop_size=70, n_gen=47))
    # GA + Hamming sampling: one GA run after the evaluated sampling (500 + 70 x 40 calls)
    ga_sampling: PhaseConfig = Field(default_factory=lambda: PhaseConfig(pop_size=70, n_gen=40))
    # the algorithm of the per-workload searches of `separate` and `largest`
    baseline_algorithm: Literal["ga", "four_phase"] = "four_phase"
    feasible_only: bool = True
    exhaustive_chunk: int = Field(250_000, ge=1)
    exhaustive_below: int = Field(2000, ge=0)  # sequential: levels this small are enumerated


class StudyConfig(_Strict):
    name: str = "study"
    technologies: list[str] = Field(default_factory=lambda: ["rram"], min_length=1)
    workload_sets: dict[str, list[str]] = Field(min_length=1)
    methods: list[Literal["separate", "largest", "sequential", "ga", "ga_sampling",
                          "four_phase", "exhaustive", "nsga2"]] = Field(
        default_factory=lambda: list(DEFAULT_METHODS), min_length=1)
    aggregations: list[Literal["max", "mean", "geomean", "product", "worst_regret", "el_cost",
                               "edap_cost"]] = Field(
        default_factory=lambda: ["max"], min_length=1)
    # each network's own optimum, the reference of the per-network loss factors and of the
    # worst_regret aggregation: "separate" searches each network alone (the baseline
    # algorithm and budget, every seed; best-known), "exact" enumerates the space per network
    optima: Literal["separate", "exact"] = "separate"
    seeds: list[int] = Field(default_factory=lambda: [1], min_length=1)
    area_limit_mm2: float = Field(DEFAULT_AREA_LIMIT_MM2, gt=0)
    # partial-sum bits an ADC may drop (as a search config's objective.max_psum_bits_lost;
    # null: any, the published study's set-up)
    max_psum_bits_lost: float | None = Field(0, ge=0)
    # per technology: the design space (default: the technology's own, e.g. rram; the
    # published study's are rram_study, sram_study, sram_study4)
    spaces: dict[str, str] = Field(default_factory=dict)
    # per technology: restricted value lists of the design space (as a search config's
    # space.values)
    space_values: dict[str, dict[str, list[float]]] = Field(default_factory=dict)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    top_k: int = Field(10, ge=1)
    backend: BackendConfig = Field(default_factory=BackendConfig)  # see docs/scale.md
    # how evaluations run; not part of the study's identity (resume may use another)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    cache: bool | Literal["auto"] = "auto"  # DIR/evaluations.sqlite, as a search config's

    @field_validator("technologies")
    @classmethod
    def _techs(cls, v: list[str]) -> list[str]:
        v = [t.lower() for t in v]
        for t in v:
            if t not in technology_names():
                raise ValueError(f"unknown technology {brief(t)}; allowed: "
                                 f"{', '.join(technology_names())}")
            get_space(t)
        if len(set(v)) != len(v):
            raise ValueError("a technology is listed twice")
        return v

    @field_validator("workload_sets")
    @classmethod
    def _sets(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for name in v:
            if not _NAME.fullmatch(name):
                raise ValueError(f"set name {brief(name)}: use letters, digits and _ only")
        return v

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int]) -> list[int]:
        bad = [s for s in v if not 0 <= s <= SEED_MAX]
        if bad:
            raise ValueError(f"seed {bad[0]} is outside 0..{SEED_MAX}")
        return v

    @field_validator("methods", "aggregations", "seeds")
    @classmethod
    def _unique(cls, v: list) -> list:
        if len(set(v)) != len(v):
            raise ValueError("a value is listed twice")
        return v


@dataclass(frozen=True)
class Cell:
    technology: str
    workload_set: str
    workloads: tuple[str, ...]
    method: str
    aggregation: str
    seed: int | None  # None: seed-independent (exhaustive)

    @property
    def id(self) -> str:
        s = "exact" if self.seed is None else f"s{self.seed}"
        return f"{self.technology}-{self.workload_set}-{self.method}-{self.aggregation}-{s}"

    @property
    def group(self) -> tuple[str, str]:
        """Cells of one group share technology and workloads, hence their evaluations."""
        return self.technology, self.workload_set

    def record(self) -> dict:
        return {"id": self.id, "technology": self.technology, "workload_set": self.workload_set,
                "workloads": list(self.workloads), "method": self.method,
                "aggregation": self.aggregation, "seed": self.seed}


def expand(cfg: StudyConfig) -> list[Cell]:
    """Every cell, grouped by (technology, workload set); methods in config order."""
    cells = []
    for tech in cfg.technologies:
        for wset, wls in cfg.workload_sets.items():
            for method in cfg.methods:
                aggs = [FRONT_AGGREGATION] if method == "nsga2" else cfg.aggregations
                for agg in aggs:
                    seeds: list[int | None] = [None] if method == "exhaustive" else list(cfg.seeds)
                    cells += [Cell(tech, wset, tuple(wls), method, agg, s) for s in seeds]
    return cells


def search_config(cfg: StudyConfig, cell: Cell, optima: dict[str, float] | None = None
                  ) -> SearchConfig:
    """The `imcopt search` config of one cell (stored in its run.json); `optima`: each
    workload's own optimum EDAP (the study's reference), which the worst_regret aggregation
    and the NSGA-II front need (None: left out)."""
    strategy, algo = METHOD_SEARCH[cell.method]
    b = cfg.budget
    algo = algo or b.baseline_algorithm
    if cell.method in ("ga", "nsga2") or algo == "ga":
        phases = [b.ga]
    elif cell.method == "ga_sampling":
        phases = [b.ga_sampling]
    else:
        phases = b.four_phase
    front = "max_edap_worst_loss" if cell.method == "nsga2" else "energy_latency_area"
    return load_config({
        "technology": cell.technology, "workloads": list(cell.workloads),
        "space": {"name": cfg.spaces.get(cell.technology, cell.technology),
                  "values": cfg.space_values.get(cell.technology, {})},
        "objective": {"aggregation": cell.aggregation, "optima": optima,
                      "area_limit_mm2": cfg.area_limit_mm2,
                      "max_psum_bits_lost": cfg.max_psum_bits_lost},
        "algorithm": {"name": algo, "phases": [p.model_dump() for p in phases],
                      "sampling": b.sampling.model_dump(), "feasible_only": b.feasible_only,
                      "chunk": b.exhaustive_chunk, "front": front},
        "strategy": strategy, "top_k": cfg.top_k, "exhaustive_below": b.exhaustive_below,
        "seed": 1 if cell.seed is None else cell.seed,
        "backend": cfg.backend.model_dump(),
    })


def load_study(source: str | Path | dict) -> StudyConfig:
    """A validated `StudyConfig` from a YAML file or a dict; `StudyError` (one line; for a
    file, starting with its name) if not."""
    cfg = load_model(source, StudyConfig, StudyError, "study", "technologies")
    try:
        _check_cells(cfg)
    except StudyError as exc:
        if isinstance(source, dict):
            raise
        raise StudyError(f"{Path(source).name}: {exc}") from None
    return cfg


def _check_cells(cfg: StudyConfig) -> None:
    """Workloads and space values, as a search config checks them (StudyError)."""
    for tech in cfg.technologies:
        for wset, wls in cfg.workload_sets.items():
            try:
                search_config(cfg, Cell(tech, wset, tuple(wls), "four_phase",
                                        cfg.aggregations[0], cfg.seeds[0]))
            except ValueError as exc:
                field = str(exc).split(":", 1)
                where = (f"workload_sets.{wset}" if field[0] == "workloads"
                         else f"space_values.{tech}{field[0].removeprefix('space.values')}"
                         if field[0].startswith("space") else field[0])
                raise StudyError(f"{where}: {field[-1].strip()}") from None
    for tech, space in cfg.spaces.items():
        if tech not in cfg.technologies:
            raise StudyError(f"spaces.{tech}: not one of the study's technologies")
        if get_space(space).technology != tech:
            raise StudyError(f"spaces.{tech}: space {space!r} is for {get_space(space).technology}")
    for tech, values in cfg.space_values.items():
        if tech not in cfg.technologies:
            raise StudyError(f"space_values.{tech}: not one of the study's technologies")
        names = get_space(cfg.spaces.get(tech, tech)).names
        for p in values:
            if p not in names:
                raise StudyError(f"space_values.{tech}.{p}: unknown parameter; allowed: "
                                 f"{', '.join(names)}")
