"""The search config (pydantic): what `imcopt search CONFIG.yaml` reads."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..backends import BackendConfig
from ..config import load_model
from ..executors import ExecutorConfig
from ..hardware import (
    PARAMETERS,
    DesignError,
    Parameter,
    Technology,
    get_space,
    load_technology,
    technology_names,
)
from ..inputs import brief
from ..objectives import DEFAULT_AREA_LIMIT_MM2
from ..workloads import WorkloadError
from ..workloads import get as get_workload
from ..workloads import names as workload_names
from .verify import VerifyConfig


class ConfigError(ValueError):
    """A config is invalid; the message is one line naming the field and allowed values."""


class _Strict(BaseModel):
    # strict: a value of the wrong type is an error, never coerced ("3" is not 3, "yes" is
    # not true, 1.5 is not a seed)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


SEED_MAX = 2**32 - 1  # NumPy's and pymoo's seeds


def not_empty(v: list | dict | None, default: str) -> list | dict | None:
    """An empty list or mapping given explicitly is an error: it never means the default."""
    if v is not None and len(v) == 0:
        raise ValueError(f"empty; leave it out for {default}")
    return v


class SpaceConfig(_Strict):
    name: str = "rram"
    values: dict[str, list[float]] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        get_space(v)  # raises DesignError naming the known spaces
        return v


class PhaseConfig(_Strict):
    pop_size: int = Field(70, ge=2)
    n_gen: int = Field(10, ge=1)
    crossover_prob: float = Field(1.0, ge=0, le=1)
    crossover_eta: float = Field(3.0, gt=0)
    mutation_prob: float = Field(1.0, ge=0, le=1)
    mutation_eta: float = Field(3.0, gt=0)


class SamplingConfig(_Strict):
    n_candidates: int = Field(1000, ge=1)
    n_select: int = Field(500, ge=1)
    evaluate: bool = True


class TPEConfig(_Strict):
    """Optuna's TPE (search/tpe.py): trials asked and evaluated together, random start
    trials, multivariate TPE, genes as ordered integers or as categories."""

    batch: int = Field(10, ge=1)
    n_startup: int = Field(20, ge=1)
    multivariate: bool = True
    genes: Literal["ordinal", "categorical"] = "ordinal"


class AlgorithmConfig(_Strict):
    name: Literal["random", "ga", "four_phase", "nsga2", "tpe", "exhaustive"] = "four_phase"
    phases: list[PhaseConfig] | None = None  # default: the study's four phases (ga: 70 x 47)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    n_evals: int = Field(3300, ge=1)  # random and tpe: objective calls
    feasible_only: bool = True
    chunk: int | None = Field(None, ge=1)  # exhaustive; None: by the device
    # nsga2: the objectives of the front: worst-case energy, latency and area, or the
    # max-aggregate EDAP against the worst per-network loss factor (needs objective.optima)
    front: Literal["energy_latency_area", "max_edap_worst_loss"] = "energy_latency_area"
    tpe: TPEConfig = Field(default_factory=TPEConfig)

    @field_validator("phases")
    @classmethod
    def _phases(cls, v: list[PhaseConfig] | None) -> list[PhaseConfig] | None:
        return not_empty(v, "the default phases")  # type: ignore[return-value]


class ObjectiveConfig(_Strict):
    aggregation: Literal["max", "mean", "geomean", "product", "worst_regret", "weighted",
                         "el_cost", "edap_cost"] = "max"
    weights: dict[str, float] | None = None
    # each workload's own optimum, the reference of the per-network loss factors (loss_x):
    # "separate" searches each workload alone first (same algorithm and budget; best-known),
    # "exact" enumerates the space per workload, a mapping gives them; None: the best EDAP
    # on each workload among the run's own designs
    optima: dict[str, float] | Literal["separate", "exact"] | None = "separate"
    area_limit_mm2: float = Field(DEFAULT_AREA_LIMIT_MM2, gt=0)
    # a design whose ADC drops more partial-sum bits than this on a network is infeasible
    # there (model/psum.py): 0 (the default) asks every column sum to convert exactly; null
    # accepts any truncation (as the published study's set-up did)
    max_psum_bits_lost: float | None = Field(0, ge=0)

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        return not_empty(v, "equal weights")  # type: ignore[return-value]

    @field_validator("optima")
    @classmethod
    def _optima(cls, v: object) -> object:
        return not_empty(v, "'separate' (each workload's optimum searched first)"
                         ) if isinstance(v, dict) else v


class PrecisionConfig(_Strict):
    """Per-network weight and activation precision, searched with the hardware. Accuracy
    comes from the user: a table (.csv/.yaml: network, weight_bits, activation_bits, accuracy;
    a relative path is read from the config's folder) or a callback 'module:function' /
    'file.py:function'; it may be left out only when each bit list holds one value.
    replication: the caps on the copies of a layer's weights to search per network (1 = no
    replication, 0 = unlimited); absent: not searched, unlimited. Without this section every
    network runs at 8 bits, unlimited replication."""

    weight_bits: list[int] = Field(default_factory=lambda: [4, 6, 8], min_length=1)
    activation_bits: list[int] = Field(default_factory=lambda: [8], min_length=1)
    replication: list[int] | None = Field(None, min_length=1)
    accuracy: str | None = None
    min_accuracy: dict[str, float] = Field(default_factory=dict)
    networks: list[str] | None = None  # default: every workload

    @field_validator("weight_bits", "activation_bits")
    @classmethod
    def _bits(cls, v: list[int]) -> list[int]:
        if any(b < 1 or b > 16 for b in v):
            raise ValueError(f"bits must be 1..16, got {v}")
        if len(set(v)) != len(v):
            raise ValueError("a value is listed twice")
        return v

    @field_validator("networks")
    @classmethod
    def _networks(cls, v: list[str] | None) -> list[str] | None:
        return not_empty(v, "every workload")  # type: ignore[return-value]

    @field_validator("replication")
    @classmethod
    def _copies(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and any(c < 0 for c in v):
            raise ValueError(f"copies must be >= 1, or 0 for unlimited, got {v}")
        if v is not None and len(set(v)) != len(v):
            raise ValueError("a value is listed twice")
        return v


class SearchConfig(_Strict):
    technology: str = "rram"
    workloads: list[str] = Field(default_factory=lambda: ["resnet18", "vgg16", "alexnet",
                                                          "mobilenet_v3"], min_length=1)
    space: SpaceConfig = Field(default_factory=SpaceConfig)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)
    algorithm: AlgorithmConfig = Field(default_factory=AlgorithmConfig)
    strategy: Literal["joint", "separate", "largest", "sequential"] = "joint"
    start: dict[str, float] | None = None  # sequential: starting values (default: middle)
    exhaustive_below: int = Field(2000, ge=0)  # sequential: enumerate levels this small
    top_k: int = Field(10, ge=1)
    seed: int = Field(1, ge=0, le=SEED_MAX)
    precision: PrecisionConfig | None = None
    backend: BackendConfig = Field(default_factory=BackendConfig)  # see docs/scale.md
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    # `imcopt search --out DIR`: keep evaluations in DIR/evaluations.sqlite; auto: for every
    # backend but the analytical model (which computes a design faster than SQLite reads it)
    cache: bool | Literal["auto"] = "auto"
    verify: VerifyConfig | None = None  # re-evaluate the best designs with a slower backend

    @field_validator("technology")
    @classmethod
    def _tech(cls, v: str) -> str:
        if v.lower() not in technology_names():
            raise ValueError(f"unknown technology {brief(v)}; allowed: "
                             f"{', '.join(technology_names())}")
        return v.lower()

    def technology_model(self) -> Technology:
        """The technology this search evaluates with: its table, with the objective's bound
        on the partial-sum bits an ADC may drop (null: any)."""
        limit = self.objective.max_psum_bits_lost
        return load_technology(self.technology).with_settings(
            max_psum_bits_lost=float("inf") if limit is None else float(limit))

    @field_validator("start")
    @classmethod
    def _start(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        return not_empty(v, "the middle of each value list")  # type: ignore[return-value]

    @field_validator("workloads")
    @classmethod
    def _workloads(cls, v: list[str]) -> list[str]:
        known = workload_names()
        resolved: dict[str, str] = {}  # the network's name -> how the config gives it
        for w in v:
            try:  # a zoo or imported name, a layer-table file "file.csv" or "file.csv:network"
                name = get_workload(w).name
            except WorkloadError as exc:
                if w.endswith(".csv") or ".csv:" in w:  # a file: its own error says why
                    raise ValueError(" ".join(str(exc).split())) from None
                close = difflib.get_close_matches(w, known, n=2)
                hint = f" (did you mean {' or '.join(close)}?)" if close else ""
                raise ValueError(f"unknown workload {brief(w)}{hint}; allowed: "
                                 f"{', '.join(known)}, or a layer-table .csv "
                                 "(file.csv:network)") from None
            if name in resolved:
                same = "is listed twice" if resolved[name] == w else (
                    f"{brief(w)} and {brief(resolved[name])} are both named {name!r} (results "
                    "are kept per network name)")
                raise ValueError(f"a workload {same}")
            resolved[name] = w
        return v

    @model_validator(mode="after")
    def _verify_fits(self) -> SearchConfig:
        """A zigzag backend (search or verify) needs SRAM; verify cannot judge per-network
        precision (that search runs on the analytical model alone)."""
        for where, b in (("backend", self.backend),
                         ("verify.backend", self.verify.backend if self.verify else None)):
            if b is not None and b.name == "zigzag" and self.technology != "sram":
                raise ValueError(f"{where}: ZigZag models SRAM IMC only; technology is "
                                 f"{self.technology!r}")
        if self.verify is not None and self.precision is not None:
            raise ValueError("verify: not available with a precision section (per-network "
                             "precision is searched on the analytical model only)")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> SearchConfig:
        """Space values, start, weights and optima agree with the space and the workloads."""
        space = get_space(self.space.name)
        # a parameter may restrict the space's values or extend them (any parameter the model
        # knows, e.g. technology_node_nm); `Parameter` checks each value
        for p, vals in self.space.values.items():
            if p not in PARAMETERS:
                close = difflib.get_close_matches(p, list(PARAMETERS), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise ValueError(f"space.values.{p}: unknown parameter{hint}; allowed: "
                                 f"{', '.join(PARAMETERS)}")
            if not vals:
                raise ValueError(f"space.values.{p}: the value list is empty")
            try:
                Parameter(p, tuple(vals))
            except DesignError as exc:
                raise ValueError(f"space.values.{p}: {exc}") from None
        if self.start:
            try:
                restricted = space.restrict(**{k: tuple(v) for k, v in self.space.values.items()})
                mid = {n: p.values[0] for n, p in zip(restricted.names, restricted.parameters,
                                                      strict=True)}
                unknown = [k for k in self.start if k not in restricted.names]
                if unknown:
                    raise DesignError(f"unknown parameter {unknown[0]!r}; allowed: "
                                      f"{', '.join(restricted.names)}")
                restricted.encode({**mid, **self.start})
            except DesignError as exc:
                raise ValueError(f"start: {exc}") from None
        o = self.objective
        for what, given in (("weights", o.weights),
                            ("optima", o.optima if isinstance(o.optima, dict) else None)):
            if given is None:
                continue
            extra = [w for w in given if w not in self.workloads]
            if extra:
                raise ValueError(f"objective.{what}: {extra[0]!r} is not one of the workloads "
                                 f"({', '.join(self.workloads)})")
            if any(v < 0 or (what == "optima" and v <= 0) for v in given.values()):
                raise ValueError(f"objective.{what}: every value must be "
                                 f"{'> 0' if what == 'optima' else '>= 0'}")
        if o.weights is not None and o.aggregation != "weighted":
            raise ValueError("objective.weights: only used by aggregation 'weighted' (it is "
                             f"{o.aggregation!r})")
        return self


def search_identity(cfg: SearchConfig, inputs: dict | None = None) -> dict:
    """What makes two searches the same search, so that the same identity gives the same
    results: the config without how evaluations run (executor) or whether they are cached,
    and what its names stand for now (`search_inputs`, or `inputs` as stored). TPE's
    settings count only for TPE (so identities from before they existed still match)."""
    exclude: dict = {"executor": True, "cache": True}
    if cfg.algorithm.name != "tpe":
        exclude["algorithm"] = {"tpe"}
    return {**cfg.model_dump(mode="json", exclude=exclude),
            "inputs": search_inputs(cfg) if inputs is None else inputs}


def search_inputs(cfg: SearchConfig) -> dict:
    """What a config's names stand for today: the model's version (for the analytical model:
    imcopt's version and a hash of the technology's constants), each workload's layers (a
    layer table edited since is another workload) and the accuracy source's bytes."""
    import hashlib

    from ..backends import make_backend
    from ..backends.base import workload_id
    from ..hardware import load_technology

    inputs: dict = {"model": make_backend(cfg.backend).version(load_technology(cfg.technology)),
                    "workloads": [workload_id(get_workload(w)) for w in cfg.workloads]}
    source = cfg.precision.accuracy if cfg.precision is not None else None
    if source is not None:
        path = Path(source.rpartition(":")[0] if ".py:" in source else source)
        if path.is_file():
            inputs["accuracy"] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return inputs


def load_config(source: str | Path | dict) -> SearchConfig:
    """A validated `SearchConfig` from a YAML file or a dict; `ConfigError` (one line) if not."""
    # a ValueError beyond pydantic's own checks: e.g. DesignError from a space name
    cfg = load_model(source, SearchConfig, ConfigError, "config", "space.name")
    if cfg.precision is not None:
        if (isinstance(source, (str, Path)) and cfg.precision.accuracy is not None
                and not Path(cfg.precision.accuracy).is_absolute()):
            base = Path(source).resolve().parent
            if (base / cfg.precision.accuracy.split(":")[0]).exists():
                cfg.precision.accuracy = str(base / cfg.precision.accuracy)
        check_precision(cfg)
    return cfg


def check_precision(cfg: SearchConfig) -> None:
    """The precision section against the workloads and its accuracy source (ConfigError)."""
    from .precision import PrecisionError, check_accuracy, load_accuracy

    p = cfg.precision
    for field, names in (("networks", p.networks or []), ("min_accuracy", p.min_accuracy)):
        for n in names:
            if n not in cfg.workloads:
                raise ConfigError(f"precision.{field}: {n!r} is not one of the workloads "
                                  f"({', '.join(cfg.workloads)})")
    if p.accuracy is None:
        if len(p.weight_bits) > 1 or len(p.activation_bits) > 1 or p.min_accuracy:
            raise ConfigError("precision.accuracy: a table (.csv/.yaml) or callback "
                              "'module:function' is needed to search several weight_bits or "
                              "activation_bits or to set min_accuracy; without one give a "
                              "single value for each")
        return
    try:
        fn = load_accuracy(p.accuracy)
        searched = p.networks or cfg.workloads
        check_accuracy(fn, searched, p.weight_bits, p.activation_bits)
        check_accuracy(fn, [n for n in p.min_accuracy if n not in searched], [8], [8])
    except PrecisionError as exc:
        raise ConfigError(str(exc)) from None
