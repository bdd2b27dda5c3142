"""Helpers shared by the zoo modules: layer constructors and the `network` decorator."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..layer import Layer, Workload, conv_out, make_workload
from ..registry import register


def conv(name: str, c: int, m: int, k: int, size: int, stride: int = 1,
         padding: int | None = None) -> tuple[Layer, int]:
    """A k x k convolution on a size x size map; returns the layer and its output size."""
    pad = k // 2 if padding is None else padding
    out = conv_out(size, k, stride, pad)
    return Layer(name, "conv", C=c, M=m, R=k, S=k, P=out, Q=out,
                 stride_h=stride, stride_w=stride), out


def fc(name: str, c: int, m: int, tokens: int = 1) -> Layer:
    """A fully connected layer applied to `tokens` vectors (also: a 1x1 conv on a 1x1 map)."""
    return Layer(name, "linear", C=c, M=m, P=tokens)


def network(name: str, description: str
            ) -> Callable[[Callable[[], Sequence[Layer]]], Callable[[], Workload]]:
    """Register a zero-argument function returning layers as the zoo network `name`."""

    def wrap(layers: Callable[[], Sequence[Layer]]) -> Callable[[], Workload]:
        def build() -> Workload:
            return make_workload(name, layers(), description, source="imcopt zoo")

        build.__name__ = build.__qualname__ = layers.__name__
        build.__doc__ = description
        register(name, description)(build)
        return build

    return wrap
