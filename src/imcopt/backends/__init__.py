"""Backends: what computes a design's metrics on a workload (see `base.Backend`).

| name | what |
| --- | --- |
| `analytical` | imcopt's cost model (default) |
| `replay` | recorded simulator results in the reference CSV format; other designs "not recorded" |
| `subprocess` | an external simulator run per (design, workload) or (design, layer) |
| `zigzag` | ZigZag-IMC (the `zigzag` extra) on each (design, workload); SRAM (docs/zigzag.md) |

`make_backend(BackendConfig | dict | Backend | None)` builds one from a config.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .analytical import AnalyticalBackend, Delayed
from .base import Backend, WorkloadMetrics, workload_id
from .batch import design_keys, evaluate_workloads
from .external import SubprocessBackend
from .replay import NOT_RECORDED, ReplayBackend, ReplayError
from .zigzag import INSTALL_HINT, ZigZagBackend, zigzag_available

BACKENDS = ("analytical", "replay", "subprocess", "zigzag")
#: settings only the zigzag backend reads (ZigZagBackend's options)
ZIGZAG_SETTINGS = ("imc_type", "lpf_limit", "spatial_mappings", "clock", "opt")
ZIGZAG_TIMEOUT_S = 3600.0  # ResNet-18 takes ~4 min at ZigZag's default mapper effort


class BackendConfig(BaseModel):
    """`backend:` of a search or study config."""

    model_config = ConfigDict(extra="forbid")
    name: Literal["analytical", "replay", "subprocess", "zigzag"] = "analytical"
    table: str | None = None  # replay: the recorded results (CSV, may be .gz)
    command: list[str] | None = None  # subprocess: the simulator command line
    per: Literal["workload", "layer"] = "workload"  # subprocess: one run per ...
    timeout_s: float = Field(60.0, gt=0)  # subprocess, zigzag (3600 unless set): per run
    # zigzag (ZigZagBackend): the IMC macro type, the mapper's effort, the clock, its goal
    imc_type: Literal["analog", "digital"] = "analog"
    lpf_limit: int = Field(6, ge=1)
    spatial_mappings: int = Field(3, ge=1)
    clock: Literal["max", "zigzag", "design"] = "max"
    opt: Literal["EDP", "energy", "latency"] = "EDP"

    @model_validator(mode="after")
    def _needs(self) -> BackendConfig:
        if self.name == "replay" and not self.table:
            raise ValueError("backend 'replay' needs table: PATH (reference CSV format)")
        if self.name == "subprocess" and not self.command:
            raise ValueError("backend 'subprocess' needs command: [program, arg, ...]")
        if self.name != "zigzag":
            # a setting changed from its default (a dumped config carries every default)
            extra = [k for k in ZIGZAG_SETTINGS
                     if getattr(self, k) != type(self).model_fields[k].default]
            if extra:
                raise ValueError(f"{extra[0]}: only for backend 'zigzag'")
        else:
            if not zigzag_available():
                raise ValueError(f"backend 'zigzag' needs ZigZag: {INSTALL_HINT}")
            if "timeout_s" not in self.model_fields_set:
                self.timeout_s = ZIGZAG_TIMEOUT_S
        return self


def make_backend(spec: BackendConfig | dict | Backend | None = None) -> Backend:
    """A backend from its config (None: the analytical model)."""
    if spec is None:
        return AnalyticalBackend()
    if isinstance(spec, dict):
        spec = BackendConfig.model_validate(spec)
    if not isinstance(spec, BackendConfig):
        return spec
    cfg = spec
    if cfg.name == "replay":
        return ReplayBackend(str(cfg.table))
    if cfg.name == "subprocess":
        return SubprocessBackend(tuple(cfg.command or ()), cfg.timeout_s, cfg.per)
    if cfg.name == "zigzag":
        return ZigZagBackend(cfg.imc_type, cfg.lpf_limit, cfg.spatial_mappings, cfg.clock,
                             cfg.opt, cfg.timeout_s)
    return AnalyticalBackend()


def parse_backend_option(text: str) -> dict:
    """The CLI's `--backend`: `analytical`, `replay:TABLE.csv`, `subprocess:COMMAND LINE` or
    `zigzag`."""
    import shlex

    name, _, arg = text.partition(":")
    if name not in BACKENDS:
        raise ValueError(f"--backend: {name!r} is not one of {', '.join(BACKENDS)}")
    if name == "replay":
        return {"name": name, "table": arg}
    if name == "subprocess":
        return {"name": name, "command": shlex.split(arg)}
    if name == "zigzag" and arg:
        raise ValueError("--backend zigzag: takes no ':' argument (its options go in the "
                         "config's backend section)")
    return {"name": name}


__all__ = ["BACKENDS", "NOT_RECORDED", "AnalyticalBackend", "Backend", "BackendConfig",
           "Delayed", "ReplayBackend", "ReplayError", "SubprocessBackend", "WorkloadMetrics",
           "ZigZagBackend", "design_keys", "evaluate_workloads", "make_backend",
           "parse_backend_option", "workload_id"]
