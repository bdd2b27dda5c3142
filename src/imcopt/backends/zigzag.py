"""`ZigZagBackend`: ZigZag-IMC (pip `zigzag-dse`, the `zigzag` extra) as a backend.

Per (design, workload) the design and network are translated into ZigZag's accelerator,
mapping and workload inputs (`zigzag_inputs.translate`), and ZigZag runs in its own Python
process (`python -m imcopt.backends.zigzag_run`) through `external.run_simulator`: a run
that exceeds `timeout_s`, crashes or prints something else is a failure, stored as data
(infeasible, reason `failed: ...`), never a good design. Runs are independent, so executors
(process pool, Dask) run several at once; the evaluation cache keys them by this backend's
version (ZigZag's version, the translation's and the options). docs/zigzag.md says what maps.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from ..failures import FAILED
from ..hardware import Designs, Technology
from ..workloads.layer import Workload
from .base import WorkloadMetrics, digest
from .external import run_simulator
from .zigzag_inputs import CLOCKS, IMC_TYPES, TRANSLATION_VERSION, TranslationError, translate

OPTIMISE = ("EDP", "energy", "latency")
INSTALL_HINT = "pip install 'imcopt[zigzag]'"


def zigzag_available() -> bool:
    return importlib.util.find_spec("zigzag") is not None


def zigzag_version() -> str:
    try:
        return metadata.version("zigzag-dse")
    except metadata.PackageNotFoundError:
        return "absent"


@dataclass(frozen=True)
class ZigZagBackend:
    """ZigZag's IMC cost model (SRAM macros, 28 nm) on imcopt designs.

    imc_type: analog (ADCs of `adc_bits`) or digital (adder trees, no ADC).
    lpf_limit, spatial_mappings: ZigZag's mapper effort (its defaults 6 and 3; 3 and 1 run
    several times faster). clock: max | zigzag | design (`zigzag_run`). opt: what ZigZag's
    mapper minimises per layer. timeout_s: per (design, workload) run.
    """

    imc_type: str = "analog"
    lpf_limit: int = 6
    spatial_mappings: int = 3
    clock: str = "max"
    opt: str = "EDP"
    timeout_s: float = 3600.0
    name: str = "zigzag"

    def __post_init__(self) -> None:
        for field, value, allowed in (("imc_type", self.imc_type, IMC_TYPES),
                                      ("clock", self.clock, CLOCKS), ("opt", self.opt, OPTIMISE)):
            if value not in allowed:
                raise ValueError(f"backend.{field}: {value!r} is not one of {', '.join(allowed)}")
        for field, value in (("lpf_limit", self.lpf_limit),
                             ("spatial_mappings", self.spatial_mappings)):
            if int(value) < 1:
                raise ValueError(f"backend.{field}: must be >= 1, got {value}")
        if not self.timeout_s > 0:
            raise ValueError(f"backend.timeout_s: must be > 0, got {self.timeout_s}")

    def version(self, technology: Technology) -> str:
        used = {k: technology.c.get(k) for k in ("dac_bits", "glb_bits_per_cycle")}
        options = [self.imc_type, self.lpf_limit, self.spatial_mappings, self.clock, self.opt]
        return f"zigzag-dse-{zigzag_version()}+t{TRANSLATION_VERSION}-{digest([options, used])}"

    def request(self, design: dict, workload: Workload, technology: Technology) -> dict:
        """The JSON request of one run (raises `TranslationError`)."""
        z = translate(design, workload, technology, self.imc_type)
        return {"accelerator": z.accelerator, "mapping": z.mapping, "layers": z.layers,
                "dram_bits_per_s": z.dram_bits_per_s,
                "dram_energy_per_bit_pj": z.dram_energy_per_bit_pj,
                "design_period_s": z.design_period_s, "clock": self.clock,
                "lpf_limit": self.lpf_limit, "spatial_mappings": self.spatial_mappings,
                "opt": self.opt, "notes": list(z.notes)}

    def evaluate(self, designs: Designs, workload: Workload,
                 technology: Technology) -> WorkloadMetrics:
        n = len(designs)
        out = WorkloadMetrics.failed(workload.name, [""] * n)
        command = (sys.executable, "-m", "imcopt.backends.zigzag_run")
        for i in range(n):  # one ZigZag process per design: executors parallelise across them
            try:
                request = self.request(designs.row(i), workload, technology)
            except TranslationError as exc:
                out.reason[i] = FAILED + str(exc)
                continue
            if not zigzag_available():
                out.reason[i] = FAILED + f"ZigZag is not installed ({INSTALL_HINT})"
                continue
            answer = run_simulator(command, request, self.timeout_s, what="ZigZag")
            if isinstance(answer, str):
                out.reason[i] = FAILED + answer
                continue
            out.energy_j[i] = answer["energy_j"]
            out.latency_s[i] = answer["latency_s"]
            out.area_mm2[i] = answer["area_mm2"]
            out.weight_arrays_required[i] = 0.0  # ZigZag tiles what does not fit: no bound
            out.feasible[i] = True
        out.reason[:] = np.where(out.feasible, "", out.reason)
        return out
