"""Shape resolution for ONNX graphs whose shapes depend on computed values.

Exporters often compute a Reshape or Expand target at run time (``Shape -> Gather -> Concat``,
``ConstantOfShape -> Where``), which plain shape inference cannot follow. `resolve_shapes`
folds such small integer computations into initializers, evaluating each node with ONNX's
reference runtime, and runs shape inference again until nothing more folds. Weights are
never evaluated: `strip_weights` first keeps only the dims of every large initializer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: initializers and folded values up to this many elements keep their data
SMALL = 4096
MAX_ROUNDS = 64


def strip_weights(model: Any) -> None:
    """Drop the data of initializers above `SMALL` elements (shape inference needs dims only)."""
    for tensor in model.graph.initializer:
        if int(np.prod(tensor.dims, dtype=np.int64)) > SMALL:
            for field in ("float_data", "int32_data", "int64_data", "double_data",
                          "uint64_data", "string_data"):
                tensor.ClearField(field)
            tensor.ClearField("raw_data")
            tensor.ClearField("external_data")
            tensor.data_location = 0


def infer(model: Any) -> Any:
    import onnx

    del model.graph.value_info[:]  # stale partial shapes would block the new ones
    return onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)


def resolve_shapes(model: Any, needed: list[str]) -> Any:
    """Infer shapes, folding value computations until every tensor in `needed` has a shape
    (or nothing more folds). Returns the inferred model."""
    from onnx import numpy_helper

    model = infer(model)
    for _ in range(MAX_ROUNDS):
        known = _known_shapes(model.graph)
        if all(name in known for name in needed):
            break
        values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer
                  if _has_data(t)}
        opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                    default=17)
        folded = []
        for node in model.graph.node:
            outputs = _fold(node, values, known, opset)
            if outputs is not None:
                values.update(outputs)
                folded.append((node, outputs))
        if not folded:
            break
        drop = {id(node) for node, _ in folded}
        kept = [n for n in model.graph.node if id(n) not in drop]
        del model.graph.node[:]
        model.graph.node.extend(kept)
        for _, outputs in folded:
            model.graph.initializer.extend(numpy_helper.from_array(np.asarray(v), k)
                                           for k, v in outputs.items())
        model = infer(model)
    return model


def _has_data(tensor: Any) -> bool:
    return bool(tensor.raw_data or tensor.float_data or tensor.int32_data or tensor.int64_data
                or tensor.double_data or tensor.uint64_data) or not list(tensor.dims) or (
        int(np.prod(tensor.dims)) == 0)


def _known_shapes(graph: Any) -> set[str]:
    out = {t.name for t in graph.initializer}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        tensor = value.type.tensor_type
        if tensor.HasField("shape") and all(d.HasField("dim_value")
                                            for d in tensor.shape.dim):
            out.add(value.name)
    return out


def _fold(node: Any, values: dict[str, np.ndarray], known: set[str], opset: int
          ) -> dict[str, np.ndarray] | None:
    """The outputs of `node` when they are small and computable, else None."""
    if node.domain not in ("", "ai.onnx") or any(o in values for o in node.output):
        return None
    inputs = [i for i in node.input if i]
    if node.op_type == "Shape" or not all(i in values for i in inputs):
        return None  # Shape folds through data propagation once its input's shape is known
    if node.op_type != "Constant" and not inputs:
        return None  # random generators and the like
    try:
        outputs = _run(node, {i: values[i] for i in inputs}, opset)
    except Exception:  # an op the reference runtime lacks: leave it
        return None
    if any(np.asarray(v).size > SMALL for v in outputs.values()):
        return None
    return outputs


def _run(node: Any, feeds: dict[str, np.ndarray], opset: int) -> dict[str, np.ndarray]:
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    def info(name: str, array: np.ndarray) -> Any:
        return helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(array.dtype), list(array.shape))

    graph = helper.make_graph([node], "fold", [info(k, v) for k, v in feeds.items()],
                              [helper.make_empty_tensor_value_info(o) for o in node.output
                               if o])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    results = ReferenceEvaluator(model).run(None, feeds)
    return dict(zip([o for o in node.output if o], results, strict=True))
