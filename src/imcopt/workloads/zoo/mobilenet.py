"""MobileNetV3 (Howard et al. 2019), built from its bottleneck configuration table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..layer import Layer, conv_out
from ._common import conv, fc, network


class Bneck(NamedTuple):
    """One row of the MobileNetV3 table: depthwise kernel, expanded width, output width,
    squeeze-and-excitation, stride (the activation does not change the shapes)."""

    kernel: int
    expanded: int
    out: int
    se: bool
    stride: int


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round to a multiple of `divisor`, not going below 90% of `value` (torchvision rule)."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


def depthwise(name: str, channels: int, k: int, size: int, stride: int) -> tuple[Layer, int]:
    out = conv_out(size, k, stride, k // 2)
    return Layer(name, "depthwise_conv", G=channels, C=1, M=1, R=k, S=k, P=out, Q=out,
                 stride_h=stride, stride_w=stride), out


def mobilenet_v3(rows: Sequence[Bneck], *, stem: int = 16, last_conv: int = 960,
                 last_channel: int = 1280, classes: int = 1000, image: int = 224,
                 se_ratio: float = 0.25) -> list[Layer]:
    """MobileNetV3: 3x3/2 stem, inverted-residual blocks (1x1 expand unless the width does not
    change, kxk depthwise, SE as two 1x1 convs on the pooled 1x1 map, 1x1 project), a 1x1 conv
    to `last_conv`, global pool and two classifier layers. Names follow torchvision."""
    layers: list[Layer] = []
    first, size = conv("features.0.0", 3, stem, 3, image, 2)
    layers.append(first)
    channels = stem
    for i, row in enumerate(rows, start=1):
        prefix, part = f"features.{i}.block", 0
        if row.expanded != channels:
            expand, _ = conv(f"{prefix}.{part}.0", channels, row.expanded, 1, size)
            layers.append(expand)
            part += 1
        dw, size = depthwise(f"{prefix}.{part}.0", row.expanded, row.kernel, size, row.stride)
        layers.append(dw)
        part += 1
        if row.se:
            squeeze = make_divisible(row.expanded * se_ratio)
            layers += [fc(f"{prefix}.{part}.fc1", row.expanded, squeeze),
                       fc(f"{prefix}.{part}.fc2", squeeze, row.expanded)]
            part += 1
        project, _ = conv(f"{prefix}.{part}.0", row.expanded, row.out, 1, size)
        layers.append(project)
        channels = row.out
    last, _ = conv(f"features.{len(rows) + 1}.0", channels, last_conv, 1, size)
    layers += [last, fc("classifier.0", last_conv, last_channel),
               fc("classifier.3", last_channel, classes)]
    return layers


#: torchvision's mobilenet_v3_large table
LARGE = [Bneck(*row) for row in (
    (3, 16, 16, False, 1), (3, 64, 24, False, 2), (3, 72, 24, False, 1),
    (5, 72, 40, True, 2), (5, 120, 40, True, 1), (5, 120, 40, True, 1),
    (3, 240, 80, False, 2), (3, 200, 80, False, 1), (3, 184, 80, False, 1),
    (3, 184, 80, False, 1), (3, 480, 112, True, 1), (3, 672, 112, True, 1),
    (5, 672, 160, True, 2), (5, 960, 160, True, 1), (5, 960, 160, True, 1),
)]


@network("mobilenet_v3", "MobileNetV3-Large (torchvision mobilenet_v3_large; Howard et al. "
         "2019), SE blocks as 1x1 layers on the pooled map, 224x224 input")
def mobilenet_v3_large() -> list[Layer]:
    return mobilenet_v3(LARGE)
