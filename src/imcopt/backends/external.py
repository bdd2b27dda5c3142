"""`SubprocessBackend`: the adapter point for an external simulator (e.g. a CiMLoop flow).

imcopt runs `command` once per (design, workload) (`per="workload"`) or once per (design,
layer) (`per="layer"`; energies and latencies are summed over layers, the area is the
largest reported). The simulator gets one JSON object on stdin:

    {"technology": "rram", "design_key": "A_...", "design": {parameter: value, ...},
     "workload": "resnet18", "layers": [{"name": ..., "kind": ..., "C": ..., ...}, ...]}

and prints one JSON object on stdout:

    {"energy_j": float, "latency_s": float, "area_mm2": float,
     "feasible": bool (default true), "reason": str (default ""),
     "weight_arrays_required": float (default 0)}

A run that exceeds `timeout_s`, exits non-zero, or prints anything else is a failure: the
design is infeasible on that workload with the reason stored (never a good design). The
calls of one batch are independent, so executors (process pool, Dask) run them in parallel.
`tests/tiny_simulator.py` is a complete example.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from dataclasses import dataclass

import numpy as np

from ..failures import FAILED
from ..hardware import Designs, Technology
from ..workloads.layer import Layer, Workload
from .base import WorkloadMetrics, digest

PER = ("workload", "layer")


@dataclass(frozen=True)
class SubprocessBackend:
    command: tuple[str, ...]
    timeout_s: float = 60.0
    per: str = "workload"
    name: str = "subprocess"

    def __post_init__(self) -> None:
        if not self.command:
            raise ValueError("backend.command: give the simulator command, e.g. "
                             "['python', 'sim.py']")
        if self.per not in PER:
            raise ValueError(f"backend.per: {self.per!r} is not one of {', '.join(PER)}")
        if not self.timeout_s > 0:
            raise ValueError(f"backend.timeout_s: must be > 0, got {self.timeout_s}")
        object.__setattr__(self, "command", tuple(self.command))

    def version(self, technology: Technology) -> str:
        return f"cmd-{digest([list(self.command), self.per, technology.name])}"

    def evaluate(self, designs: Designs, workload: Workload,
                 technology: Technology) -> WorkloadMetrics:
        n = len(designs)
        out = WorkloadMetrics.failed(workload.name, [""] * n)
        keys = designs.keys()
        groups = [workload.layers] if self.per == "workload" else [[x] for x in workload.layers]
        for i in range(n):  # one external run per design (and layer): inherently sequential
            request = {"technology": technology.name, "design_key": keys[i],
                       "design": designs.row(i), "workload": workload.name}
            answers = []
            for layers in groups:
                answer = self._run({**request, "layers": [_layer(x) for x in layers]})
                if isinstance(answer, str):  # a failure: counted as such (imcopt.failures)
                    out.reason[i] = FAILED + answer
                    break
                answers.append(answer)
            else:
                out.energy_j[i] = sum(a["energy_j"] for a in answers)
                out.latency_s[i] = sum(a["latency_s"] for a in answers)
                out.area_mm2[i] = max(a["area_mm2"] for a in answers)
                out.weight_arrays_required[i] = sum(a["weight_arrays_required"] for a in answers)
                out.feasible[i] = all(a["feasible"] for a in answers)
                out.reason[i] = "; ".join(a["reason"] for a in answers if a["reason"])
        return out

    def _run(self, request: dict) -> dict | str:
        """The simulator's answer, or the failure reason (str)."""
        return run_simulator(self.command, request, self.timeout_s)


def run_simulator(command: tuple[str, ...] | list[str], request: dict, timeout_s: float,
                  what: str = "simulator") -> dict | str:
    """Run `command` with `request` as JSON on stdin; its answer (the protocol above, checked
    and with the optional fields filled in), or why it failed (str) after `timeout_s`, a
    non-zero exit or output that is not the expected JSON. The whole answer object is kept:
    fields beyond the protocol's travel along."""
    try:
        proc = subprocess.run(list(command), input=json.dumps(request), capture_output=True,
                              text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return f"{what} timed out after {timeout_s:g} s"
    except OSError as exc:
        return f"{what} could not start: {exc}"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [""])[-1][:200]
        return f"{what} failed (exit {proc.returncode}): {last}"
    try:
        doc = json.loads(proc.stdout)
        answer = {**doc, "energy_j": float(doc["energy_j"]),
                  "latency_s": float(doc["latency_s"]), "area_mm2": float(doc["area_mm2"]),
                  "feasible": bool(doc.get("feasible", True)),
                  "reason": str(doc.get("reason", "")),
                  "weight_arrays_required": float(doc.get("weight_arrays_required", 0.0))}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"{what} output is not the expected JSON ({exc.__class__.__name__}: {exc})"
    if not all(math.isfinite(answer[k]) and answer[k] >= 0
               for k in ("energy_j", "latency_s", "area_mm2")):
        return f"{what} returned a non-finite or negative metric"
    return answer


def _layer(layer: Layer) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v)
            for k, v in dataclasses.asdict(layer).items()}
