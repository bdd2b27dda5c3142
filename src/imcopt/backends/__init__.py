"""Backends: what computes a design's metrics on a workload (see `base.Backend`).

| name | what |
| --- | --- |
| `analytical` | imcopt's cost model (default) |
| `replay` | recorded simulator results in the reference CSV format; other designs "not recorded" |
| `subprocess` | an external simulator run per (design, workload) or (design, layer) |

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

BACKENDS = ("analytical", "replay", "subprocess")


class BackendConfig(BaseModel):
    """`backend:` of a search or study config."""

    model_config = ConfigDict(extra="forbid")
    name: Literal["analytical", "replay", "subprocess"] = "analytical"
    table: str | None = None  # replay: the recorded results (CSV, may be .gz)
    command: list[str] | None = None  # subprocess: the simulator command line
    per: Literal["workload", "layer"] = "workload"  # subprocess: one run per ...
    timeout_s: float = Field(60.0, gt=0)  # subprocess: per run

    @model_validator(mode="after")
    def _needs(self) -> BackendConfig:
        if self.name == "replay" and not self.table:
            raise ValueError("backend 'replay' needs table: PATH (reference CSV format)")
        if self.name == "subprocess" and not self.command:
            raise ValueError("backend 'subprocess' needs command: [program, arg, ...]")
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
    return AnalyticalBackend()


def parse_backend_option(text: str) -> dict:
    """The CLI's `--backend`: `analytical`, `replay:TABLE.csv` or `subprocess:COMMAND LINE`."""
    import shlex

    name, _, arg = text.partition(":")
    if name not in BACKENDS:
        raise ValueError(f"--backend: {name!r} is not one of {', '.join(BACKENDS)}")
    if name == "replay":
        return {"name": name, "table": arg}
    if name == "subprocess":
        return {"name": name, "command": shlex.split(arg)}
    return {"name": name}


__all__ = ["BACKENDS", "NOT_RECORDED", "AnalyticalBackend", "Backend", "BackendConfig",
           "Delayed", "ReplayBackend", "ReplayError", "SubprocessBackend", "WorkloadMetrics",
           "design_keys", "evaluate_workloads", "make_backend", "parse_backend_option",
           "workload_id"]
