"""The Python face of the CLI: `imcopt.evaluate(...)` mirrors `imcopt evaluate`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .hardware import Designs, DesignSpace, Technology, designs_from_keys, load_technology
from .model import Metrics
from .model import evaluate as _evaluate
from .workloads import Workload, get

DesignsLike = Designs | str | Sequence[str] | Mapping[str, object] | np.ndarray


def as_designs(designs: DesignsLike, space: DesignSpace | None = None) -> Designs:
    """Designs from keys (`A_...`), a {parameter: values} mapping, or genomes of `space`."""
    if isinstance(designs, Designs):
        return designs
    if isinstance(designs, str):
        return designs_from_keys([designs])
    if isinstance(designs, Mapping):
        return Designs.from_values(designs)  # type: ignore[arg-type]
    if isinstance(designs, np.ndarray) and designs.dtype.kind in "iuf":
        if space is None:
            raise ValueError("genome arrays need the design space they index (space=...)")
        return space.decode(designs)
    return designs_from_keys(list(designs))  # type: ignore[arg-type]


def evaluate(
    designs: DesignsLike,
    workload: Workload | str,
    technology: Technology | str = "rram",
    *,
    space: DesignSpace | None = None,
    per_layer: bool = True,
    device: str = "numpy",
) -> Metrics:
    """Evaluate designs (keys, values or genomes) on one workload (object or zoo name).

    device: numpy (default), cpu (PyTorch on the CPU) or cuda (PyTorch on a GPU)."""
    tech = load_technology(technology) if not isinstance(technology, Technology) else technology
    wl = get(workload) if isinstance(workload, str) else workload
    return _evaluate(as_designs(designs, space), wl, tech, per_layer=per_layer, device=device)


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
    tech = load_technology(technology) if not isinstance(technology, Technology) else technology
    d = as_designs(designs, space)
    out = {}
    for w in workloads:
        wl = get(w) if isinstance(w, str) else w
        out[wl.name] = _evaluate(d, wl, tech, per_layer=per_layer, device=device)
    return out
