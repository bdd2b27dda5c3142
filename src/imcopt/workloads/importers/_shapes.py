"""Shape rules shared by the ONNX and PyTorch importers: tensor shapes -> `Layer`.

Conventions (the zoo's and the layer table's, so that a zoo network round-trips):
- a convolution takes N from the batch dim, G from its groups, C and M per group, R x S from
  the kernel and P x Q from the output map; a 1-D convolution is a 1 x k kernel on a 1 x L map;
  `infer_kind` names it (depthwise when G > 1 and C = M = 1, linear for a 1x1 kernel on a
  map one wide, else conv);
- x @ W with a trained W (a linear layer) on x of shape [..., C]: rank 2 ([T, C], a batch
  of vectors or tokens flattened by an exporter) gives P = T; rank 3 or more
  ([B, T1, ..., C]) gives N = B and P = T1 * ... (tokens). (N and P cost the same.)
- A @ B with both operands activations (attention) is kind ``matmul``: all leading (batch)
  dims of the product become groups G (each is a different pair of matrices), N = 1,
  P = rows of A, C = the reduction, M = columns of B.
Dilation is not a layer field: a dilated convolution keeps its R x S (and so its MACs); only
its input footprint is approximated.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

from ..layer import Layer, WorkloadError
from ..table import infer_kind

Shape = Sequence[int]


class UnmappedOpsWarning(UserWarning):
    """Operations that perform MACs but were not turned into layers."""


def prod(values: Sequence[int]) -> int:
    return math.prod(int(v) for v in values)


def conv_layer(name: str, x: Shape, w: Shape, out: Shape, group: int,
               strides: Sequence[int]) -> Layer:
    """A Conv (1-D or 2-D) from its input, weight and output shapes (channels first)."""
    if len(w) not in (3, 4) or len(out) != len(w) or len(x) != len(w):
        raise WorkloadError(f"{name}: only 1-D and 2-D convolutions map to layers, "
                            f"got weight shape {list(w)}")
    if len(w) == 3:  # [M, C/g, k]: a 1 x k kernel on a 1 x L map
        w, out, strides = (w[0], w[1], 1, w[2]), (out[0], out[1], 1, out[2]), (1, strides[-1])
    fields = {"N": int(out[0]), "G": int(group), "C": int(w[1]), "M": int(w[0]) // int(group),
              "R": int(w[2]), "S": int(w[3]), "P": int(out[2]), "Q": int(out[3]),
              "stride_h": int(strides[0]), "stride_w": int(strides[1])}
    return Layer(name, infer_kind(fields), **fields)


def linear_layer(name: str, x: Shape, c: int, m: int) -> Layer:
    """x @ W with W trained (C x M), x of shape [..., C] (see module docstring)."""
    lead = [int(v) for v in x[:-1]]
    n = lead[0] if len(lead) > 1 else 1
    p = prod(lead[1:]) if len(lead) > 1 else prod(lead)
    return Layer(name, "linear", C=int(c), M=int(m), N=n, P=p)


def matmul_layer(name: str, a: Shape, b: Shape, a_const: bool, b_const: bool) -> Layer:
    """A @ B (numpy matmul semantics); a trained operand (const) makes it a linear layer."""
    a2 = [1, *a] if len(a) == 1 else [int(v) for v in a]
    b2 = [*b, 1] if len(b) == 1 else [int(v) for v in b]
    if len(a2) < 2 or len(b2) < 2 or a2[-1] != b2[-2]:
        raise WorkloadError(f"{name}: cannot multiply shapes {list(a)} and {list(b)}")
    c, p, m = a2[-1], a2[-2], b2[-1]
    a_lead, b_lead = a2[:-2], b2[:-2]
    width = max(len(a_lead), len(b_lead))
    a_pad = [1] * (width - len(a_lead)) + a_lead
    b_pad = [1] * (width - len(b_lead)) + b_lead
    lead = [max(x, y) for x, y in zip(a_pad, b_pad, strict=True)]
    if b_const and not a_const:
        if prod(b_lead) > 1:  # one trained matrix per leading index of W
            return Layer(name, "linear", G=prod(b_lead), C=c, M=m,
                         P=p * prod(lead) // prod(b_lead))
        return linear_layer(name, [*a_lead, p, c], c, m)
    if a_const and not b_const:  # W @ x: W is M x C, the columns of x are the steps
        if prod(a_lead) > 1:
            return Layer(name, "linear", G=prod(a_lead), C=c, M=p,
                         P=m * prod(lead) // prod(a_lead))
        return linear_layer(name, [*b_lead, m, c], c, p)
    return Layer(name, "matmul", G=prod(lead), C=c, M=m, P=p)


class Unmapped:
    """Collects operations with MACs that were not mapped, for one warning at the end."""

    def __init__(self) -> None:
        self.ops: dict[str, list[int | None]] = {}

    def add(self, op: str, macs: int | None) -> None:
        self.ops.setdefault(op, []).append(macs)

    def warn(self, source: str, layers: Sequence[Layer]) -> None:
        """One `UnmappedOpsWarning` listing every op type, its count and share of MACs."""
        if not self.ops:
            return
        known = sum(m for ms in self.ops.values() for m in ms if m is not None)
        total = sum(layer.macs for layer in layers) + known
        parts = []
        for op, macs in sorted(self.ops.items()):
            counted = [m for m in macs if m is not None]
            share = (f"{100.0 * sum(counted) / total:.2f}% of MACs" if counted and total
                     else "MACs unknown")
            if counted and len(counted) < len(macs):
                share += f", {len(macs) - len(counted)} with unknown MACs"
            parts.append(f"{op} x{len(macs)} ({share})")
        warnings.warn(f"{source}: not mapped to layers (left out of the workload): "
                      + "; ".join(parts), UnmappedOpsWarning, stacklevel=3)
