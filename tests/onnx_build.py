"""Builds ONNX graphs for the import tests: a zoo network's layers, one node per layer.

Weights are initializers with dims and no data (shape inference needs only the dims), so a
graph of ViT-B size stays a few kB.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from imcopt.workloads import Layer, Workload


def weight(name: str, dims: list[int]) -> TensorProto:
    tensor = TensorProto()
    tensor.name, tensor.data_type = name, TensorProto.FLOAT
    tensor.dims.extend(dims)
    return tensor


def value(name: str, dims: list[int]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def layer_nodes(layer: Layer, i: int):
    """(nodes, graph inputs, initializers, output) computing `layer` from fresh inputs."""
    x, w, y = f"x{i}", f"w{i}", f"y{i}"
    if layer.kind in ("conv", "depthwise_conv") or layer.R > 1 or layer.S > 1 or layer.Q > 1:
        h = (layer.P - 1) * layer.stride_h + layer.R
        wd = (layer.Q - 1) * layer.stride_w + layer.S
        node = helper.make_node("Conv", [x, w], [y], name=layer.name, group=layer.G,
                                strides=[layer.stride_h, layer.stride_w])
        return ([node], [value(x, [layer.N, layer.G * layer.C, h, wd])],
                [weight(w, [layer.G * layer.M, layer.C, layer.R, layer.S])], y)
    if layer.kind == "linear" and layer.P == 1:  # a classifier: Gemm on [N, C], W stored M x C
        node = helper.make_node("Gemm", [x, w], [y], name=layer.name, transB=1)
        return [node], [value(x, [layer.N, layer.C])], [weight(w, [layer.M, layer.C])], y
    if layer.kind == "linear":  # tokens: [N, P, C] @ [C, M]
        node = helper.make_node("MatMul", [x, w], [y], name=layer.name)
        return ([node], [value(x, [layer.N, layer.P, layer.C])],
                [weight(w, [layer.C, layer.M])], y)
    # activation x activation: [1, G, P, C] @ [1, G, C, M], both graph inputs
    a, b = f"a{i}", f"b{i}"
    node = helper.make_node("MatMul", [a, b], [y], name=layer.name)
    return ([node], [value(a, [1, layer.G, layer.P, layer.C]),
                     value(b, [1, layer.G, layer.C, layer.M])], [], y)


def workload_to_onnx(workload: Workload) -> onnx.ModelProto:
    nodes, inputs, inits, outputs = [], [], [], []
    for i, layer in enumerate(workload.layers):
        n, ins, ws, y = layer_nodes(layer, i)
        nodes += n
        inputs += ins
        inits += ws
        outputs.append(helper.make_tensor_value_info(y, TensorProto.FLOAT, None))
    graph = helper.make_graph(nodes, workload.name, inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
