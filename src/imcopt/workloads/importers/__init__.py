"""Bring your own network: ONNX, PyTorch, Timeloop/CiMLoop YAML and layer-table CSV.

`load(path)` picks the reader from the path; `from_torch(module, input_shape)` traces a
PyTorch module. ONNX and PyTorch are optional and imported only when used. Every reader
raises `WorkloadError` naming the file and what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..layer import Workload, WorkloadError
from ..table import load_layer_table
from ..user import check_name, save_user
from ._shapes import UnmappedOpsWarning
from .onnx import load_onnx
from .timeloop import load_timeloop
from .torch import from_torch, load_torch_factory

FORMATS = ("onnx", "timeloop", "csv")


def load(path: str | Path, name: str | None = None) -> Workload:
    """A workload from a file: ``.onnx``, a Timeloop/CiMLoop ``.yaml`` layer file or a folder
    of them, or a layer-table ``.csv`` (``file.csv:network`` picks one of several)."""
    text = str(path)
    if ".csv:" in text:
        text, network = text.rsplit(":", 1)
    else:
        network = None
    p = Path(text)
    if not p.exists():
        raise WorkloadError(f"{p}: no such file or folder")
    suffix = p.suffix.lower()
    if suffix == ".onnx":
        return load_onnx(p, name)
    if p.is_dir() or suffix in (".yaml", ".yml"):
        return load_timeloop(p, name)
    if suffix == ".csv":
        tables = load_layer_table(p)
        if network is None and len(tables) > 1:
            raise WorkloadError(f"{p}: holds {len(tables)} networks ({', '.join(tables)}); "
                                "use 'path.csv:network' to pick one")
        if network is not None and network not in tables:
            raise WorkloadError(f"{p}: no network {network!r}; it holds {', '.join(tables)}")
        wl = tables[network] if network else next(iter(tables.values()))
        return Workload(name or wl.name, wl.layers, f"imported from {p}", source=str(p))
    raise WorkloadError(f"{p}: unknown workload format {suffix or '(no suffix)'!r}; allowed: "
                        ".onnx, .yaml/.yml (or a folder of them), .csv")


def import_workload(path: str | Path, name: str, input_shape: Sequence[int] | None = None,
                    overwrite: bool = False, input_dtype: str = "float32"
                    ) -> tuple[Workload, Path]:
    """Read a network (`load`, or ``file.py:factory`` traced with `input_shape`) and save it
    under `name` in the user folder (`imcopt.workloads.user_dir()`), where every command finds
    it by name. Returns the workload and the saved file."""
    check_name(name)  # before reading anything
    text = str(path)
    if text.rpartition(":")[0].endswith(".py"):
        if input_shape is None:
            raise WorkloadError(f"{text}: a PyTorch factory needs an input shape "
                                "(--input-shape 1,3,224,224)")
        workload = load_torch_factory(text, input_shape, name, input_dtype)
    else:
        workload = load(text, name)
    workload = Workload(name, workload.layers, workload.description, source=workload.source)
    return workload, save_user(workload, name, overwrite=overwrite)


__all__ = ["FORMATS", "UnmappedOpsWarning", "from_torch", "import_workload", "load", "load_onnx",
           "load_timeloop", "load_torch_factory"]
