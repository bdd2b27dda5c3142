"""CiMLoop / Timeloop problem YAML files -> workloads (one file per layer).

Reads the layer files of the published study (``workspace/models/workloads/<net>/*.yaml``)
and plain Timeloop problems. Accepted layouts: ``problem: {instance: {...}}`` (Timeloop v0.3+,
CiMLoop) and ``problem: {C: .., M: .., ...}`` (older Timeloop, dims directly under
``problem``). Dims: N, G, C, M, R, S, P, Q, strides as ``Hstride``/``Wstride`` (any case), and
the bits X, Y, Z (input, weight, output); missing dims are 1 and missing bits 8. CiMLoop's
Jinja lines (``{{include_text(...)}}``) and merge keys onto its base problem (``<<<:
*problem_base``) are skipped, as the base only holds those defaults. The kind comes from the
problem's ``name``: an attention or matmul name gives ``matmul``, Linear/Gemm/Conv1D (GPT-2's
linear) ``linear``, otherwise it is inferred from the shape as in the layer table. Files in a
folder are layers in natural order of their names (2.yaml before 10.yaml).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ...inputs import brief, read_text, read_yaml
from ..layer import Layer, Workload, WorkloadError
from ..table import infer_kind

_DIMS = {"n": "N", "g": "G", "c": "C", "m": "M", "r": "R", "s": "S", "p": "P", "q": "Q",
         "hstride": "stride_h", "wstride": "stride_w", "x": "input_bits", "y": "weight_bits",
         "z": "output_bits"}
_IGNORED = {"h", "w", "hdilation", "wdilation"}  # input size follows from P, Q, R, S
_TEMPLATE_LINE = re.compile(r"^\s*(\{\{.*\}\}|\{%.*%\}|<<<?\s*:\s*\*\S+)\s*$")


def natural_key(path: Path) -> list[Any]:
    """Sort key putting 2.yaml before 10.yaml."""
    return [int(part) if part.isdigit() else part.lower()
            for part in re.split(r"(\d+)", path.name)]


def layer_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if p.suffix in (".yaml", ".yml")
                        and p.is_file()), key=natural_key)
        if not files:
            raise WorkloadError(f"{path}: no .yaml layer files in this folder")
        return files
    return [path]


def load_timeloop(path: str | Path, name: str | None = None) -> Workload:
    """A Timeloop/CiMLoop problem file, or a folder of them, as a `Workload`.

    Raises `WorkloadError` naming the file and the field on malformed input.
    """
    path = Path(path)
    files = layer_files(path)
    layers = [read_problem(f, f.stem) for f in files]
    return Workload(name or (path.name if path.is_dir() else path.stem), tuple(layers),
                    f"imported from {path}", source=str(path))


def read_problem(path: Path, layer_name: str) -> Layer:
    """One problem file as a layer named `layer_name`."""
    # template lines become blank, so YAML error line numbers stay the file's
    raw = read_text(path, WorkloadError)
    text = "\n".join("" if _TEMPLATE_LINE.match(line) else line for line in raw.splitlines())
    doc = read_yaml(path, WorkloadError, text=text)
    problem = doc.get("problem") if isinstance(doc, dict) else None
    if not isinstance(problem, dict):
        raise WorkloadError(f"{path}: expected a top-level 'problem:' mapping")
    instance = problem.get("instance", problem)
    if not isinstance(instance, dict):
        raise WorkloadError(f"{path}: 'problem: instance:' must be a mapping of dims")
    fields: dict[str, int] = {}
    for key, value in instance.items():
        attr = _DIMS.get(key.lower()) if isinstance(key, str) else None
        if attr is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise WorkloadError(f"{path}: instance {brief(key)} = {brief(value)} must be a "
                                "positive integer (template variables are not resolved)")
        fields[attr] = value
    if not fields:
        raise WorkloadError(f"{path}: the problem instance gives none of the dims "
                            "N, G, C, M, R, S, P, Q (not a Timeloop layer)")
    dims = {d: fields.get(d, 1) for d in ("N", "G", "C", "M", "R", "S", "P", "Q")}
    kind_name = problem.get("name", "")
    kind_name = kind_name.lower() if isinstance(kind_name, str) else ""
    if "attention" in kind_name or "matmul" in kind_name or "einsum" in kind_name:
        kind = "matmul"
    elif kind_name in ("linear", "gemm", "conv1d") and dims["G"] == 1:
        kind = "linear"
    else:
        kind = infer_kind(dims)
    try:
        return Layer(layer_name, kind, **{**fields, **dims})
    except WorkloadError as exc:
        raise WorkloadError(f"{path}: {exc}") from None
