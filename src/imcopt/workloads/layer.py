"""`Layer` and `Workload`: the shapes the cost model maps onto crossbars.

Dimensions follow Timeloop/CiMLoop (and so the reference layer table):
N batch, G groups, C input channels (the reduction), M output channels, R x S filter,
P x Q output map, strides. A layer computes, for every group g, output
O[n, g, m, p, q] = sum_{c, r, s} I[n, g, c, p*stride_h + r, q*stride_w + s] * W[g, m, c, r, s].

Kinds:
- ``conv``: weights x activations, any R, S (1x1 included);
- ``depthwise_conv``: G > 1 groups of C = M = 1 (the reference's convention);
- ``linear``: a fully connected layer, tokens in P (Q = 1) or a 1x1 map;
- ``matmul``: activation x activation (attention scores, attention x values). Neither operand
  is a trained weight, so it cannot stay resident in a crossbar; the cost model applies an
  explicit policy to it (see `imcopt.model`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

LAYER_KINDS = ("conv", "depthwise_conv", "linear", "matmul")

#: Integer dimensions every layer has, in table order.
DIMS = ("N", "G", "C", "M", "R", "S", "P", "Q", "stride_h", "stride_w")
BITS = ("input_bits", "weight_bits", "output_bits")
#: the largest dimension and bit width a layer may have, and the largest count of MACs or
#: values it may imply: the model's products of dimensions must stay exact in int64 and
#: float64 (2**53), far above any real network (GPT-3 layers: ~1e11 MACs)
MAX_DIM = 2**31 - 1
MAX_BITS = 32
MAX_COUNT = 2**53


class WorkloadError(ValueError):
    """A layer or workload definition is invalid; the message names the field."""


class WorkloadTypeError(WorkloadError, TypeError):
    """An argument is of the wrong type (e.g. a workload name that is not a string)."""


@dataclass(frozen=True)
class Layer:
    """One layer of a network, in Timeloop dimensions (see module docstring)."""

    name: str
    kind: str
    C: int
    M: int
    R: int = 1
    S: int = 1
    P: int = 1
    Q: int = 1
    N: int = 1
    G: int = 1
    stride_h: int = 1
    stride_w: int = 1
    input_bits: int = 8
    weight_bits: int = 8
    output_bits: int = 8

    def __post_init__(self) -> None:
        if self.kind not in LAYER_KINDS:
            raise WorkloadError(
                f"layer {self.name!r}: kind {self.kind!r} is not one of {', '.join(LAYER_KINDS)}"
            )
        for dim in (*DIMS, *BITS):
            value = getattr(self, dim)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise WorkloadError(
                    f"layer {self.name!r}: {dim} must be a positive integer, got {value!r}"
                )
            if value < 1:
                raise WorkloadError(
                    f"layer {self.name!r}: {dim} must be a positive integer, got {value}"
                )
            high = MAX_BITS if dim in BITS else MAX_DIM
            if value > high:
                raise WorkloadError(f"layer {self.name!r}: {dim} = {value} is larger than "
                                    f"{high:,}, the most a layer may have")
            object.__setattr__(self, dim, int(value))
        for what in ("macs", "input_values", "output_values"):
            if getattr(self, what) > MAX_COUNT:
                raise WorkloadError(f"layer {self.name!r}: {getattr(self, what):.3g} {what}; "
                                    f"more than 2**53 (the model's exact range)")
        if self.kind == "depthwise_conv" and not (self.C == 1 and self.M == 1):
            raise WorkloadError(
                f"layer {self.name!r}: a depthwise_conv has C = M = 1 per group (G groups), "
                f"got C={self.C}, M={self.M}"
            )

    @property
    def weights(self) -> int:
        """Number of weight (stationary-operand) values: G*C*M*R*S."""
        return self.G * self.C * self.M * self.R * self.S

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one inference: N*G*C*M*R*S*P*Q."""
        return self.N * self.G * self.C * self.M * self.R * self.S * self.P * self.Q

    @property
    def input_values(self) -> int:
        """Distinct input activations read (the input map of every group and channel)."""
        h = (self.P - 1) * self.stride_h + self.R
        w = (self.Q - 1) * self.stride_w + self.S
        return self.N * self.G * self.C * h * w

    @property
    def output_values(self) -> int:
        """Output activations written: N*G*M*P*Q."""
        return self.N * self.G * self.M * self.P * self.Q

    @property
    def has_weights(self) -> bool:
        """True when one operand is a trained weight that can stay in the arrays."""
        return self.kind != "matmul"

    def replace(self, **changes: object) -> Layer:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Workload:
    """A named network: an ordered tuple of layers run one after another (batch in N).

    max_copies: the most copies of a layer's weights the mapping may place on the chip to
    run several output positions at once (1 = no replication); None = as many as fit.
    """

    name: str
    layers: tuple[Layer, ...]
    description: str = ""
    source: str = field(default="", compare=False)
    max_copies: int | None = None

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise WorkloadError(f"workload name must be a non-empty string, got "
                                f"{str(self.name)[:60]!r}")
        layers = tuple(self.layers)
        if not layers:
            raise WorkloadError(f"workload {self.name!r} has no layers")
        for layer in layers:
            if not isinstance(layer, Layer):
                raise WorkloadError(f"workload {self.name!r}: {layer!r} is not a Layer")
        object.__setattr__(self, "layers", layers)
        if self.macs > MAX_COUNT:
            raise WorkloadError(f"workload {self.name!r}: {self.macs:.3g} MACs in all; more "
                                "than 2**53 (the model's exact range)")
        m = self.max_copies
        if m is not None and (isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 1):
            raise WorkloadError(f"workload {self.name!r}: max_copies must be an integer >= 1 "
                                f"or None (unlimited), got {m!r}")

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    @property
    def weights(self) -> int:
        """Trained weights of the network (activation x activation matmuls excluded)."""
        return sum(layer.weights for layer in self.layers if layer.has_weights)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def table(self) -> dict[str, np.ndarray]:
        """The layer table as int64 column arrays (plus `kind` as strings), for the model.
        Built once per workload (it is immutable) and handed out as read-only arrays."""
        cols = self.__dict__.get("_table")
        if cols is None:
            cols = {dim: np.array([getattr(layer, dim) for layer in self.layers], dtype=np.int64)
                    for dim in (*DIMS, *BITS)}
            cols["kind"] = np.array([layer.kind for layer in self.layers])
            for v in cols.values():
                v.flags.writeable = False
            object.__setattr__(self, "_table", cols)
        return dict(cols)

    def distinct(self) -> tuple[Workload, np.ndarray, np.ndarray]:
        """(the workload's distinct layers, in order of first occurrence; how often each
        occurs (int64); for every layer, its distinct layer's index). Layers are the same
        when every dimension, bit width and kind is (names aside), so they cost the same.
        Built once per workload."""
        got = self.__dict__.get("_distinct")
        if got is None:
            t = self.table()
            kinds = np.unique(t["kind"], return_inverse=True)[1]
            rows = np.column_stack([t[c] for c in (*DIMS, *BITS)] + [kinds])
            _, first, inverse, counts = np.unique(rows, axis=0, return_index=True,
                                                  return_inverse=True, return_counts=True)
            order = np.argsort(first, kind="stable")  # first occurrence order
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            layers = tuple(self.layers[i] for i in first[order])
            got = (Workload(self.name, layers, self.description, self.source, self.max_copies),
                   counts[order].astype(np.int64), rank[inverse.reshape(-1)])
            object.__setattr__(self, "_distinct", got)
        return got

    def summary(self) -> dict[str, object]:
        kinds: dict[str, int] = {}
        for layer in self.layers:
            kinds[layer.kind] = kinds.get(layer.kind, 0) + 1
        return {
            "name": self.name,
            "layers": len(self.layers),
            "weights": self.weights,
            "macs": self.macs,
            "kinds": kinds,
            "description": self.description,
        }


def make_workload(
    name: str, layers: Iterable[Layer], description: str = "", source: str = ""
) -> Workload:
    return Workload(name=name, layers=tuple(layers), description=description, source=source)


def conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution (PyTorch's formula)."""
    return math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1


def total(layers: Sequence[Layer], attr: str) -> int:
    return sum(getattr(layer, attr) for layer in layers)
