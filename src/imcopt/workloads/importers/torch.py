"""PyTorch modules -> workloads (needs the optional ``torch`` package; no weights needed).

`from_torch` runs the module once on a zero tensor of the given shape. It traces with
torch.fx, which sees modules and functions alike: Conv1d/Conv2d and Linear modules,
``fn.linear``/``fn.conv2d``, ``nn.MultiheadAttention`` (its Q, K, V and output projections and
the two attention matmuls) and ``fn.scaled_dot_product_attention``, and ``@`` / matmul / bmm
/ mm between tensors: with a parameter operand a linear layer, between two activations a
matmul layer (the same rules as the ONNX reader, `imcopt.workloads.importers._shapes`).
When fx cannot trace the module (data-dependent control flow), forward hooks on its modules
are used instead and activation x activation products in its code are not seen (a warning
says so). Other modules with parameters and MACs (ConvTranspose, Conv3d, RNNs, ...) are
listed in one `UnmappedOpsWarning`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import operator
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..layer import Layer, Workload, WorkloadError
from ._shapes import Unmapped, conv_layer, linear_layer, matmul_layer, prod


def from_torch(module: Any, input_shape: Sequence[int], name: str = "torch_model",
               input_dtype: str = "float32") -> Workload:
    """The layers of `module` run on one zero input of `input_shape` (batch first);
    `input_dtype` "int64" for token ids."""
    try:
        import torch
    except ImportError:
        raise WorkloadError("importing PyTorch modules needs torch: "
                            "pip install 'imcopt[torch]'") from None
    if not isinstance(module, torch.nn.Module):
        raise WorkloadError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    shape = tuple(int(v) for v in input_shape)
    if not shape or min(shape) < 1:
        raise WorkloadError(f"input_shape must be positive integers, got {list(input_shape)}")
    dtype = getattr(torch, input_dtype, None)
    if not isinstance(dtype, torch.dtype):
        raise WorkloadError(f"input_dtype {input_dtype!r} is not a torch dtype "
                            "(float32, int64, ...)")
    example = torch.zeros(shape, dtype=dtype)
    module = module.eval()
    unmapped = Unmapped()
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # ShapeProp prints its tracebacks
            layers = _trace_fx(module, example, unmapped)
    except Exception as fx_error:  # fx cannot follow data-dependent Python control flow
        unmapped = Unmapped()
        try:
            layers = _trace_hooks(module, example, unmapped)
        except Exception as exc:
            raise WorkloadError(f"{name}: running the module on a zero {input_dtype} input of "
                                f"shape {list(shape)} failed ({type(exc).__name__}: "
                                f"{' '.join(str(exc).split())[:200]})") from None
        warnings.warn(f"{name}: torch.fx could not trace the module "
                      f"({type(fx_error).__name__}); used forward hooks: products written as "
                      "code in forward() (activation x activation matmuls, F.linear) are not "
                      "seen", UserWarning, stacklevel=2)
    if not layers:
        raise WorkloadError(f"{name}: no Conv, Linear or matmul found in the module")
    unmapped.warn(name, layers)
    return Workload(name, tuple(layers), f"imported from PyTorch {type(module).__name__}",
                    source=f"torch:{type(module).__name__}")


def load_torch_factory(spec: str, input_shape: Sequence[int], name: str | None = None,
                       input_dtype: str = "float32") -> Workload:
    """``path/to/model.py:factory``: call `factory()` from that file and trace its module."""
    file, _, factory = spec.rpartition(":")
    path = Path(file)
    if not file or not factory or path.suffix != ".py" or not path.is_file():
        raise WorkloadError(f"{spec}: expected an existing 'file.py:factory'")
    module_spec = importlib.util.spec_from_file_location(f"_imcopt_user_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise WorkloadError(f"{path}: cannot be imported as Python")
    code = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(code)
    except Exception as exc:
        raise WorkloadError(f"{path}: failed to import ({type(exc).__name__}: {exc})") from None
    make = getattr(code, factory, None)
    if not callable(make):
        raise WorkloadError(f"{path}: has no callable {factory!r}")
    return from_torch(make(), input_shape, name or factory, input_dtype)


def module_layers(name: str, sub: Any, inputs: Sequence[Any], output: Any,
                  unmapped: Unmapped) -> list[Layer]:
    """Layers of one leaf module called on `inputs` (tensors) giving `output`."""
    import torch.nn as nn

    x = tuple(inputs[0].shape)
    out = tuple((output[0] if isinstance(output, tuple) else output).shape)
    if isinstance(sub, (nn.Conv1d, nn.Conv2d)):
        return [conv_layer(name, x, tuple(sub.weight.shape), out, sub.groups, sub.stride)]
    if isinstance(sub, nn.Linear):
        return [linear_layer(name, x, sub.in_features, sub.out_features)]
    if isinstance(sub, nn.MultiheadAttention):
        return _mha_layers(name, sub, inputs)
    own_params = next(sub.parameters(recurse=False), None) is not None
    if isinstance(sub, (nn.modules.conv._ConvNd, nn.RNNBase, nn.Bilinear)) or (
            own_params and not type(sub).__module__.startswith("torch.nn")):
        # (a module of the user's own seen by the hooks: its forward() code is not traced)
        unmapped.add(type(sub).__name__, _leaf_macs(sub, x, out))
    return []


def _mha_layers(name: str, mha: Any, inputs: Sequence[Any]) -> list[Layer]:
    q, k, v = (tuple(t.shape) for t in inputs[:3])
    if not mha.batch_first and len(q) == 3:  # (T, B, E) -> (B, T, E)
        q, k, v = ((s[1], s[0], s[2]) for s in (q, k, v))
    batch = q[0] if len(q) == 3 else 1
    tq, tk = q[-2], k[-2]
    heads, d_head = mha.num_heads, mha.embed_dim // mha.num_heads
    e = mha.embed_dim
    return [linear_layer(f"{name}.q", q, e, e), linear_layer(f"{name}.k", k, k[-1], e),
            linear_layer(f"{name}.v", v, v[-1], e),
            Layer(f"{name}.qk", "matmul", G=batch * heads, C=d_head, M=tk, P=tq),
            Layer(f"{name}.av", "matmul", G=batch * heads, C=tk, M=d_head, P=tq),
            linear_layer(f"{name}.out_proj", q, e, e)]


def _leaf_macs(sub: Any, x: tuple[int, ...], out: tuple[int, ...]) -> int | None:
    import torch.nn as nn

    if isinstance(sub, nn.modules.conv._ConvTransposeNd):
        return prod(x) * prod(sub.weight.shape[1:])
    if isinstance(sub, nn.modules.conv._ConvNd):
        return prod(out) * prod(sub.weight.shape[1:])
    return None


def _trace_hooks(module: Any, example: Any, unmapped: Unmapped) -> list[Layer]:
    import torch

    found: list[Layer] = []
    handles = []
    for sub_name, sub in module.named_modules():
        if next(sub.children(), None) is not None and not isinstance(
                sub, torch.nn.MultiheadAttention):
            continue

        def hook(m: Any, args: Any, output: Any, sub_name: str = sub_name) -> None:
            found.extend(module_layers(sub_name, m, args, output, unmapped))

        handles.append(sub.register_forward_hook(hook))
    try:
        with torch.no_grad():
            module(example)
    finally:
        for handle in handles:
            handle.remove()
    return found


class _Tracer:
    """A torch.fx tracer whose leaves are torch.nn modules without children and
    nn.MultiheadAttention (its functional form cannot be traced)."""

    @staticmethod
    def make() -> Any:
        import torch.fx
        import torch.nn as nn

        class Tracer(torch.fx.Tracer):
            def is_leaf_module(self, m: Any, qualname: str) -> bool:
                # trace into composite torch.nn modules (TransformerEncoderLayer, ...)
                return isinstance(m, nn.MultiheadAttention) or (
                    super().is_leaf_module(m, qualname) and next(m.children(), None) is None)

        return Tracer()


def _trace_fx(module: Any, example: Any, unmapped: Unmapped) -> list[Layer]:
    import torch
    import torch.fx
    import torch.nn.functional as fn
    from torch.fx.passes.shape_prop import ShapeProp

    graph = _Tracer.make().trace(module)
    gm = torch.fx.GraphModule(module, graph)
    with torch.no_grad():
        ShapeProp(gm).propagate(example)

    def shape(arg: Any) -> tuple[int, ...]:
        meta = arg.meta.get("tensor_meta") if isinstance(arg, torch.fx.Node) else None
        if meta is None:
            raise WorkloadError(f"node {arg}: no tensor shape after shape propagation")
        return tuple((meta if hasattr(meta, "shape") else meta[0]).shape)

    const: set[torch.fx.Node] = set()
    matmuls = {torch.matmul, operator.matmul, torch.bmm, torch.mm, "matmul", "bmm", "mm",
               "__matmul__"}
    layers: list[Layer] = []
    for node in gm.graph.nodes:
        args = [a for a in node.args if isinstance(a, torch.fx.Node)]
        if node.op == "get_attr" or (node.op in ("call_function", "call_method") and args
                                     and all(a in const for a in args)):
            const.add(node)
            continue
        if node.op == "call_module":
            sub = gm.get_submodule(node.target)
            inputs = [_Meta(shape(a)) for a in node.args if isinstance(a, torch.fx.Node)]
            layers += module_layers(str(node.target), sub, inputs, _Meta(shape(node)), unmapped)
        elif node.target in matmuls and len(args) >= 2:
            a, b = args[:2]
            layers.append(matmul_layer(node.name, shape(a), shape(b), a in const, b in const))
        elif node.target is fn.linear:
            w = shape(args[1])
            layers.append(linear_layer(node.name, shape(args[0]), w[1], w[0]))
        elif node.target in (fn.conv1d, fn.conv2d):
            stride = node.args[3] if len(node.args) > 3 else node.kwargs.get("stride", 1)
            groups = node.args[6] if len(node.args) > 6 else node.kwargs.get("groups", 1)
            strides = (stride, stride) if isinstance(stride, int) else tuple(stride)
            layers.append(conv_layer(node.name, shape(args[0]), shape(args[1]), shape(node),
                                     int(groups), strides))
        elif node.target is fn.scaled_dot_product_attention:
            q, k, v = (shape(a) for a in args[:3])
            layers += [matmul_layer(f"{node.name}.qk", q, (*k[:-2], k[-1], k[-2]), False, False),
                       matmul_layer(f"{node.name}.av", (*q[:-1], k[-2]), v, False, False)]
        elif node.target in (torch.einsum, torch.baddbmm, torch.addmm, fn.conv3d,
                             fn.conv_transpose2d):
            unmapped.add(getattr(node.target, "__name__", str(node.target)), None)
    return layers


class _Meta:
    """Stands in for a tensor where only its shape is needed."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape
