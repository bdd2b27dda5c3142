"""The Python face of the CLI: `imcopt.evaluate(...)` mirrors `imcopt evaluate`.

Bad arguments raise a `ValueError` subclass naming the argument (`DesignError`,
`WorkloadError`, ...; those about an argument's type are also `TypeError`s). A design the
model fails on, or whose energy, latency or area is not a finite positive number, comes back
infeasible with a reason `failed: ...` and its metrics +inf (`imcopt.failures`), as in a
search: never feasible, never a NaN that looks like a number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .defaults import DEFAULT_DESIGNS
from .failures import evaluate_guarded
from .hardware import (
    Designs,
    DesignSpace,
    DesignTypeError,
    Technology,
    designs_from_keys,
    load_technology,
)
from .model import Metrics
from .model.xp import namespace
from .workloads import Workload, get
from .workloads.layer import WorkloadTypeError

DesignsLike = Designs | str | Sequence[str] | Mapping[str, object] | np.ndarray



def default_design(technology: str) -> Designs:
    """The technology's default design (`DEFAULT_DESIGNS`; another technology: RRAM's), every
    parameter the key does not hold at its default value (`hardware.space.DEFAULT_VALUES`)."""
    return designs_from_keys([DEFAULT_DESIGNS.get(str(technology).lower(),
                                                  DEFAULT_DESIGNS["rram"])])


def as_designs(designs: DesignsLike, space: DesignSpace | None = None) -> Designs:
    """Designs from keys (`A_...`), a {parameter: values} mapping, or genomes of `space`."""
    if isinstance(designs, Designs):
        return designs
    if isinstance(designs, str):
        return designs_from_keys([designs])
    if isinstance(designs, Mapping):
        return Designs.from_values(designs)  # type: ignore[arg-type]
    if isinstance(designs, np.ndarray):
        if designs.dtype.kind in "iuf":
            if space is None:
                raise DesignTypeError("designs: genome arrays need the design space they "
                                      "index (space=...)")
            if not isinstance(space, DesignSpace):
                raise DesignTypeError(f"space: expected a DesignSpace, got "
                                      f"{type(space).__name__}")
            return space.decode(designs)
        return designs_from_keys(designs.ravel().tolist())
    if isinstance(designs, (list, tuple)):
        return designs_from_keys(list(designs))
    raise DesignTypeError(f"designs: expected a design key 'A_...', a list of keys, a mapping "
                          f"{{parameter: values}}, genomes (with space=) or Designs, got "
                          f"{type(designs).__name__}")


def _workload(w: object) -> Workload:
    return w if isinstance(w, Workload) else get(w)  # type: ignore[arg-type]


def _technology(technology: object) -> Technology:
    return load_technology(technology)  # type: ignore[arg-type]


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise DesignTypeError(f"{name}: expected True or False, got {type(value).__name__}")
    return bool(value)


def evaluate(
    designs: DesignsLike,
    workload: Workload | str,
    technology: Technology | str = "rram",
    *,
    space: DesignSpace | None = None,
    per_layer: bool = True,
    device: str = "numpy",
) -> Metrics:
    """Evaluate designs (keys, values or genomes) on one workload (object or zoo name). A
    {parameter: values} mapping changes the technology's default design (`DEFAULT_DESIGNS`,
    `imcopt space show`): a parameter it leaves out keeps that design's value.

    device: numpy (default), cpu (PyTorch on the CPU) or cuda (PyTorch on a GPU)."""
    return _run(designs, [workload], technology, space, per_layer, device)[0]


def evaluate_many(
    designs: DesignsLike,
    workloads: Sequence[Workload | str],
    technology: Technology | str = "rram",
    *,
    space: DesignSpace | None = None,
    per_layer: bool = False,
    device: str = "numpy",
) -> dict[str, Metrics]:
    """`evaluate` on several workloads; {workload name: Metrics}."""
    if isinstance(workloads, (str, Workload)) or not isinstance(workloads, Sequence):
        raise WorkloadTypeError(f"workloads: expected a list of workload names or Workloads, "
                                f"got {type(workloads).__name__}")
    if not workloads:
        raise WorkloadTypeError("workloads: the list is empty; give at least one workload")
    return {m.workload: m for m in _run(designs, workloads, technology, space, per_layer,
                                        device)}


def _run(designs: DesignsLike, workloads: Sequence[Workload | str],
         technology: Technology | str, space: DesignSpace | None, per_layer: bool,
         device: str) -> list[Metrics]:
    """The arguments checked (each error names its argument), then every workload's metrics
    with failures marked."""
    per_layer = _flag("per_layer", per_layer)
    namespace(device)  # an unknown device, no torch, no GPU: an error, not failed designs
    tech = _technology(technology)
    wls = [_workload(w) for w in workloads]
    if isinstance(designs, Mapping):  # unset parameters: the technology's default design
        base = default_design(tech.name).row(0)
        designs = {**{k: v for k, v in base.items() if k not in designs}, **designs}
    d = as_designs(designs, space)
    return [evaluate_guarded(d, wl, tech, device=device, per_layer=per_layer) for wl in wls]
