"""Layer tables in the CSV format of ``shared/reference/workload_layers.csv``.

Required columns: ``network``, ``C``, ``M``; optional: ``layer_index`` (sort order),
``layer_name``, ``layer_kind``, ``N``, ``G``, ``R``, ``S``, ``P``, ``Q``, ``HStride``,
``WStride``, ``input_bits_X``, ``weight_bits_Y``, ``output_bits_Z`` (missing ones default to 1,
or 8 for the bits). Any other column is ignored, so the reference file itself loads as is.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from pathlib import Path

from ..inputs import MAX_YAML_BYTES, brief, read_text
from ..storage import write_text
from .layer import BITS, MAX_BITS, MAX_DIM, Layer, Workload, WorkloadError

#: reference `layer_kind` -> our kind
KIND_FROM_TABLE = {
    "conv": "conv",
    "pointwise_conv": "conv",
    "depthwise_conv": "depthwise_conv",
    "linear": "linear",
    "attention_matmul": "matmul",
    "matmul": "matmul",
}
#: our kind -> the word written to a table
KIND_TO_TABLE = {"conv": "conv", "depthwise_conv": "depthwise_conv", "linear": "linear",
                 "matmul": "attention_matmul"}

_INT_COLUMNS = {
    "N": ("N", 1), "G": ("G", 1), "C": ("C", None), "M": ("M", None), "R": ("R", 1),
    "S": ("S", 1), "P": ("P", 1), "Q": ("Q", 1), "HStride": ("stride_h", 1),
    "WStride": ("stride_w", 1), "input_bits_X": ("input_bits", 8),
    "weight_bits_Y": ("weight_bits", 8), "output_bits_Z": ("output_bits", 8),
}
TABLE_COLUMNS = ["network", "layer_index", "layer_name", "layer_kind", *_INT_COLUMNS]


def infer_kind(fields: dict[str, int]) -> str:
    if fields["G"] > 1 and fields["C"] == 1 and fields["M"] == 1:
        return "depthwise_conv"
    if fields["R"] == fields["S"] == 1 and fields["Q"] == 1:
        return "linear"
    return "conv"


def _parse_row(row: dict[str, str], where: str) -> tuple[str, int, Layer]:
    network = (row.get("network") or "").strip()
    if not network:
        raise WorkloadError(f"{where}: column 'network' is empty")
    fields: dict[str, int] = {}
    for column, (attr, default) in _INT_COLUMNS.items():
        raw = (row.get(column) or "").strip()
        if raw == "":
            if default is None:
                raise WorkloadError(f"{where}: column {column!r} is missing or empty")
            fields[attr] = default
            continue
        try:
            value = float(raw)
        except ValueError:
            raise WorkloadError(f"{where}: column {column!r} = {brief(raw)} is not a "
                                "number") from None
        if not math.isfinite(value) or value != int(value) or value < 1:
            raise WorkloadError(f"{where}: column {column!r} = {brief(raw)} must be a "
                                "positive integer")
        high = MAX_BITS if attr in BITS else MAX_DIM
        if value > high:
            raise WorkloadError(f"{where}: column {column!r} = {brief(raw)} is larger than "
                                f"{high:,}, the most a layer may have")
        fields[attr] = int(value)
    raw_kind = (row.get("layer_kind") or "").strip()
    if raw_kind:
        if raw_kind not in KIND_FROM_TABLE:
            raise WorkloadError(
                f"{where}: layer_kind {brief(raw_kind)} is not one of "
                f"{', '.join(KIND_FROM_TABLE)}"
            )
        kind = KIND_FROM_TABLE[raw_kind]
    else:
        kind = infer_kind(fields)
    index_raw = (row.get("layer_index") or "").strip()
    try:
        index = int(index_raw) if index_raw else -1
    except ValueError:
        raise WorkloadError(f"{where}: layer_index {brief(index_raw)} is not an "
                            "integer") from None
    name = (row.get("layer_name") or "").strip() or f"layer{index}"
    try:
        return network, index, Layer(name=name, kind=kind, **fields)
    except WorkloadError as exc:
        raise WorkloadError(f"{where}: {exc}") from None


def load_layer_table(
    path: str | Path, networks: Iterable[str] | None = None
) -> dict[str, Workload]:
    """Read a layer-table CSV; returns {network name: Workload} in file order of networks.

    Raises `WorkloadError` with the file, line and column on any malformed entry.
    """
    path = Path(path)
    if not path.is_file():
        raise WorkloadError(f"layer table {str(path)!r} does not exist")
    wanted = set(networks) if networks is not None else None
    rows: dict[str, list[tuple[int, int, Layer]]] = {}
    text = read_text(path, WorkloadError, limit=10 * MAX_YAML_BYTES)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if reader.fieldnames is None:
            raise WorkloadError(f"{path}: the file is empty (no header line)")
        missing = {"network", "C", "M"} - set(reader.fieldnames)
        if missing:
            raise WorkloadError(f"{path}: missing required column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            if wanted is not None and (row.get("network") or "").strip() not in wanted:
                continue
            network, index, layer = _parse_row(row, f"{path}:{line}")
            rows.setdefault(network, []).append((index, line, layer))
    except csv.Error as exc:
        raise WorkloadError(f"{path}:{reader.line_num}: not a valid CSV line ({exc})") from None
    if not rows:
        raise WorkloadError(f"{path}: no layer rows found")
    out: dict[str, Workload] = {}
    for network, entries in rows.items():
        entries.sort(key=lambda e: (e[0], e[1]))
        out[network] = Workload(network, tuple(e[2] for e in entries), source=str(path))
    return out


def write_layer_table(workloads: Iterable[Workload], path: str | Path) -> None:
    """Write workloads as a layer table that `load_layer_table` reads back identically."""
    fh = io.StringIO(newline="")
    writer = csv.writer(fh)
    writer.writerow(TABLE_COLUMNS)
    for workload in workloads:
        for index, layer in enumerate(workload.layers):
            writer.writerow(
                [workload.name, index, layer.name, KIND_TO_TABLE[layer.kind]]
                + [getattr(layer, attr) for attr, _ in _INT_COLUMNS.values()]
            )
    write_text(path, fh.getvalue())
