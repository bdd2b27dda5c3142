"""ONNX graphs -> workloads (needs the optional ``onnx`` package).

Shape inference gives every tensor's shape; then, in graph order, each Conv (1-D or 2-D,
grouped and depthwise included), Gemm and MatMul becomes a `Layer` by the rules of
`imcopt.workloads.importers._shapes`. An operand is *trained* when it is an initializer, a
Constant, or computed from those alone (a transposed or dequantised weight); a MatMul or Gemm
of a trained and an activation operand is a linear layer, one of two activations a matmul.
Symbolic input dims (a dynamic batch) are taken as 1. Other operations that perform MACs
(ConvTranspose, 3-D Conv, quantised or integer conv/matmul, Einsum, recurrent cells, fused
attention, products inside If/Loop/Scan bodies) are left out and listed in one
`UnmappedOpsWarning` with their count and share of MACs (where their shapes tell).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ..layer import Layer, Workload, WorkloadError
from ._shapes import Unmapped, conv_layer, matmul_layer, prod
from .onnx_fold import resolve_shapes, strip_weights

#: ops with MACs that are not mapped to layers (reported, never silently dropped)
UNMAPPED_MAC_OPS = ("ConvTranspose", "ConvInteger", "QLinearConv", "MatMulInteger",
                    "QLinearMatMul", "Einsum", "LSTM", "GRU", "RNN", "Attention",
                    "MultiHeadAttention", "DeformConv", "FusedConv", "FusedMatMul", "FusedGemm",
                    "QAttention")
MAPPED_OPS = ("Conv", "MatMul", "Gemm")


def load_onnx(path: str | Path, name: str | None = None) -> Workload:
    """Read an ``.onnx`` file into a `Workload` named `name` (default: the file's stem).

    Raises `WorkloadError` naming the file when it is not a valid ONNX model.
    """
    try:
        import onnx
    except ImportError:
        raise WorkloadError("reading ONNX files needs the onnx package: "
                            "pip install 'imcopt[onnx]'") from None
    path = Path(path)
    try:
        model = onnx.load(str(path), load_external_data=False)  # shapes only, no weights
    except Exception as exc:  # protobuf raises DecodeError and friends
        raise WorkloadError(f"{path}: not a readable ONNX model "
                            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
                            ) from None
    if not model.graph.node:
        raise WorkloadError(f"{path}: the ONNX graph has no nodes (empty or truncated file)")
    return onnx_to_workload(model, name or path.stem, source=str(path))


def onnx_to_workload(model: Any, name: str, source: str = "<onnx model>") -> Workload:
    """An in-memory ``onnx.ModelProto`` as a `Workload` (see module docstring)."""
    import onnx

    model = onnx.ModelProto.FromString(model.SerializeToString())  # leave the caller's alone
    strip_weights(model)
    symbolic = _fix_symbolic_inputs(model)
    needed = [i for n in model.graph.node if n.op_type in MAPPED_OPS
              for i in (*n.input[:2], n.output[0])]
    try:
        model = resolve_shapes(model, needed)
    except Exception as exc:
        raise WorkloadError(f"{source}: ONNX shape inference failed "
                            f"({' '.join(str(exc).split())[:300]})") from None
    graph = model.graph
    shapes = _shapes(graph)
    const = {t.name for t in graph.initializer}  # folded shape values included
    for node in graph.node:
        if node.op_type == "Constant" or (node.input and all(
                i in const or i == "" for i in node.input)):
            const.update(node.output)
    layers: list[Layer] = []
    unmapped = Unmapped()
    for index, node in enumerate(graph.node):
        layer_name = node.name or (node.output[0] if node.output else f"{node.op_type}_{index}")
        where = f"{source}: node {layer_name!r} ({node.op_type})"
        if node.op_type == "Conv" and len(_shape(shapes, node.input[1], where)) not in (3, 4):
            w, out = _shape(shapes, node.input[1], where), _shape(shapes, node.output[0], where)
            unmapped.add(f"Conv {len(w) - 2}-D", prod(out) * prod(w[1:]))
        elif node.op_type == "Conv":
            layers.append(_conv(node, shapes, layer_name, where))
        elif node.op_type in ("MatMul", "Gemm"):
            a, b = (_shape(shapes, i, where) for i in node.input[:2])
            if node.op_type == "Gemm":
                attrs = _attrs(node)
                a = a[::-1] if attrs.get("transA", 0) else a
                b = b[::-1] if attrs.get("transB", 0) else b
            a_const, b_const = node.input[0] in const, node.input[1] in const
            if a_const and b_const:  # folded at export, no work at inference
                continue
            layers.append(matmul_layer(layer_name, a, b, a_const, b_const))
        elif node.op_type in UNMAPPED_MAC_OPS:
            unmapped.add(node.op_type, _unmapped_macs(node, shapes))
        for op in _subgraph_mac_ops(node):  # control flow: If, Loop, Scan bodies
            unmapped.add(f"{op} inside {node.op_type}", None)
    if not layers:
        raise WorkloadError(f"{source}: no Conv, Gemm or MatMul node to map to layers")
    unmapped.warn(source, layers)
    if symbolic:
        warnings.warn(f"{source}: symbolic input dims {', '.join(sorted(symbolic))} taken as 1",
                      UserWarning, stacklevel=2)
    return Workload(name, tuple(layers), f"imported from {source}", source=source)


def _subgraph_mac_ops(node: Any) -> list[str]:
    """MAC ops in the subgraphs (If branches, Loop/Scan bodies) of `node`, recursively."""
    import onnx

    found = []
    for attr in node.attribute:
        graphs = ([attr.g] if attr.type == onnx.AttributeProto.GRAPH else
                  list(attr.graphs) if attr.type == onnx.AttributeProto.GRAPHS else [])
        for graph in graphs:
            for inner in graph.node:
                if inner.op_type in (*MAPPED_OPS, *UNMAPPED_MAC_OPS):
                    found.append(inner.op_type)
                found += _subgraph_mac_ops(inner)
    return found


def _fix_symbolic_inputs(model: Any) -> set[str]:
    """Set every symbolic or missing graph-input dim to 1; returns the names it replaced."""
    replaced: set[str] = set()
    initializers = {t.name for t in model.graph.initializer}
    for value in model.graph.input:
        if value.name in initializers or not value.type.HasField("tensor_type"):
            continue
        for dim in value.type.tensor_type.shape.dim:
            if not dim.HasField("dim_value") or dim.dim_value <= 0:
                replaced.add(dim.dim_param or "?")
                dim.dim_value = 1
    return replaced


def _shapes(graph: Any) -> dict[str, list[int] | None]:
    out: dict[str, list[int] | None] = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        tensor = value.type.tensor_type
        if not tensor.HasField("shape"):
            out[value.name] = None
            continue
        dims = [d.dim_value if d.HasField("dim_value") else 0 for d in tensor.shape.dim]
        out[value.name] = dims if all(d > 0 for d in dims) else None
    for tensor in graph.initializer:
        out[tensor.name] = list(tensor.dims)
    return out


def _shape(shapes: dict[str, list[int] | None], tensor: str, where: str) -> list[int]:
    shape = shapes.get(tensor)
    if shape is None:
        raise WorkloadError(f"{where}: the shape of {tensor!r} is unknown after shape "
                            "inference; export the model with fixed input shapes")
    return shape


def _attrs(node: Any) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv(node: Any, shapes: dict[str, list[int] | None], name: str, where: str) -> Layer:
    x, w = (_shape(shapes, i, where) for i in node.input[:2])
    out = _shape(shapes, node.output[0], where)
    attrs = _attrs(node)
    strides = list(attrs.get("strides", [1] * (len(w) - 2)))
    try:
        return conv_layer(name, x, w, out, int(attrs.get("group", 1)), strides)
    except WorkloadError as exc:
        raise WorkloadError(f"{where}: {exc}") from None


def _unmapped_macs(node: Any, shapes: dict[str, list[int] | None]) -> int | None:
    """MACs of an op left out, when its shapes say; None when they do not."""
    def get(i: int, outputs: bool = False) -> list[int] | None:
        names = node.output if outputs else node.input
        return shapes.get(names[i]) if i < len(names) else None

    op = node.op_type
    out = get(0, outputs=True)
    if op == "ConvTranspose" and (x := get(0)) and (w := get(1)):
        return prod(x) * prod(w[1:])  # weight [C, M/g, k...]: each input meets M/g * k values
    if op in ("ConvInteger", "QLinearConv") and out:
        w = get(3 if op == "QLinearConv" else 1)
        return prod(out) * prod(w[1:]) if w else None
    if op in ("MatMulInteger", "QLinearMatMul") and out:
        a = get(0)
        return prod(out) * a[-1] if a else None
    return None
