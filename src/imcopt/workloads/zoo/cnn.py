"""Convolutional networks: AlexNet, VGG-16, ResNets and DenseNet-201.

Each network is generated from its architecture hyper-parameters; spatial sizes follow
`conv_out`. Layer order is module order (as torchvision defines the modules), which is also the
order of the reference layer files.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..layer import Layer, conv_out
from ._common import conv, fc, network

#: a `plain_cnn` entry: (out channels, kernel, stride, padding), or "M" for a max-pool
ConvSpec = tuple[int, int, int, int] | str


def plain_cnn(features: Sequence[ConvSpec], *, pool: tuple[int, int], pooled: int,
              hidden: Sequence[int], classes: int = 1000, image: int = 224) -> list[Layer]:
    """A conv/ReLU/max-pool stack, an adaptive average pool to `pooled` x `pooled` and an MLP.

    Names follow torchvision (``features.<i>`` counts ReLU and pool modules too).
    """
    layers: list[Layer] = []
    size, channels, index = image, 3, 0
    for spec in features:
        if spec == "M":
            size = conv_out(size, pool[0], pool[1])
            index += 1
            continue
        assert not isinstance(spec, str)
        m, k, stride, pad = spec
        layer, size = conv(f"features.{index}", channels, m, k, size, stride, pad)
        layers.append(layer)
        channels, index = m, index + 2
    width = channels * pooled * pooled
    for i, m in enumerate([*hidden, classes]):
        layers.append(fc(f"classifier.{3 * i + 1}", width, m))
        width = m
    return layers


def resnet(block: str, layers: Sequence[int], widths: Sequence[int], *,
           out_widths: Sequence[int] | None = None, stem: Sequence[int] = (64,),
           avg_down: bool = False, classes: int = 1000, image: int = 224) -> list[Layer]:
    """A ResNet: stem, four stages of `block` ("basic" or "bottleneck"), global pool, fc.

    `widths` are the 3x3 widths per stage; `out_widths` the stage outputs (default: widths for
    basic, 4 x widths for bottleneck blocks). `stem` lists the stem conv widths: one entry is
    the 7x7/2 stem, several a deep 3x3 stem (first one stride 2). The stride of a stage sits in
    its first 3x3 conv (torchvision v1.5). `avg_down`: the shortcut downsamples with an average
    pool then a stride-1 1x1 conv (ResNet-D) instead of a strided 1x1 conv.
    """
    if block not in ("basic", "bottleneck"):
        raise ValueError(f"unknown ResNet block {block!r}")
    if out_widths is None:
        out_widths = [w * (1 if block == "basic" else 4) for w in widths]
    out: list[Layer] = []
    size, channels = image, 3
    if len(stem) == 1:
        layer, size = conv("conv1", 3, stem[0], 7, size, 2)
        out.append(layer)
        channels = stem[0]
    else:
        for i, m in enumerate(stem):
            layer, size = conv(f"conv1.{3 * i}", channels, m, 3, size, 2 if i == 0 else 1)
            out.append(layer)
            channels = m
    size = conv_out(size, 3, 2, 1)  # max-pool 3x3/2
    for s, (blocks, width, width_out) in enumerate(zip(layers, widths, out_widths, strict=True)):
        for b in range(blocks):
            prefix = f"layer{s + 1}.{b}"
            stride = 2 if s > 0 and b == 0 else 1
            size_in = size
            if block == "basic":
                first, size = conv(f"{prefix}.conv1", channels, width, 3, size, stride)
                second, _ = conv(f"{prefix}.conv2", width, width_out, 3, size)
                out += [first, second]
            else:
                first, _ = conv(f"{prefix}.conv1", channels, width, 1, size)
                second, size = conv(f"{prefix}.conv2", width, width, 3, size, stride)
                third, _ = conv(f"{prefix}.conv3", width, width_out, 1, size)
                out += [first, second, third]
            if stride != 1 or channels != width_out:
                if avg_down:
                    down, _ = conv(f"{prefix}.downsample.1", channels, width_out, 1, size)
                else:
                    down, _ = conv(f"{prefix}.downsample.0", channels, width_out, 1, size_in,
                                   stride)
                out.append(down)
            channels = width_out
    out.append(fc("fc", channels, classes))
    return out


def densenet(growth: int, blocks: Sequence[int], *, init_features: int = 64,
             bn_size: int = 4, compression: float = 0.5, classes: int = 1000,
             image: int = 224) -> list[Layer]:
    """A DenseNet-BC: 7x7/2 stem, dense blocks of (1x1 to bn_size*growth, 3x3 to growth),
    transitions (1x1 at the block's resolution, then 2x2 average pool), classifier."""
    layers: list[Layer] = []
    first, size = conv("features.conv0", 3, init_features, 7, image, 2)
    layers.append(first)
    size = conv_out(size, 3, 2, 1)  # max-pool
    channels = init_features
    for i, n in enumerate(blocks, start=1):
        for j in range(1, n + 1):
            prefix = f"features.denseblock{i}.denselayer{j}"
            a, _ = conv(f"{prefix}.conv1", channels, bn_size * growth, 1, size)
            b, _ = conv(f"{prefix}.conv2", bn_size * growth, growth, 3, size)
            layers += [a, b]
            channels += growth
        if i < len(blocks):
            reduced = int(channels * compression)
            t, _ = conv(f"features.transition{i}.conv", channels, reduced, 1, size)
            layers.append(t)
            channels, size = reduced, conv_out(size, 2, 2)
    layers.append(fc("classifier", channels, classes))
    return layers


_VGG8 = [(128, 3, 1, 1)] * 2 + ["M"] + [(256, 3, 1, 1)] * 2 + ["M"] + [(512, 3, 1, 1)] * 2 \
    + ["M"]
_ALEXNET = [(64, 11, 4, 2), "M", (192, 5, 1, 2), "M", (384, 3, 1, 1), (256, 3, 1, 1),
            (256, 3, 1, 1), "M"]
_VGG16 = [(64, 3, 1, 1)] * 2 + ["M"] + [(128, 3, 1, 1)] * 2 + ["M"] \
    + ([(256, 3, 1, 1)] * 3 + ["M"]) + ([(512, 3, 1, 1)] * 3 + ["M"]) * 2


@network("alexnet", "AlexNet (torchvision alexnet; Krizhevsky et al. 2012), 224x224 input")
def alexnet() -> list[Layer]:
    return plain_cnn(_ALEXNET, pool=(3, 2), pooled=6, hidden=(4096, 4096))


@network("vgg16", "VGG-16 (torchvision vgg16, configuration D; Simonyan & Zisserman 2015), "
         "224x224 input")
def vgg16() -> list[Layer]:
    return plain_cnn(_VGG16, pool=(2, 2), pooled=7, hidden=(4096, 4096))


@network("vgg8", "VGG-8 for CIFAR-10 as NeuroSim V1.4 benchmarks it (NetWork_VGG8.csv: 6 3x3 "
         "convs of 128/128/256/256/512/512 with 2x2 max-pools, fc 8192-1024-10), 32x32 input")
def vgg8() -> list[Layer]:
    return plain_cnn(_VGG8, pool=(2, 2), pooled=4, hidden=(1024,), classes=10, image=32)


@network("resnet18", "ResNet-18 (torchvision resnet18; He et al. 2016), 224x224 input")
def resnet18() -> list[Layer]:
    return resnet("basic", (2, 2, 2, 2), (64, 128, 256, 512))


@network("resnet50", "ResNet-50 (torchvision resnet50, v1.5; He et al. 2016), 224x224 input")
def resnet50() -> list[Layer]:
    return resnet("bottleneck", (3, 4, 6, 3), (64, 128, 256, 512))


@network("resnet50_cimloop", "Modified ResNet-50 reproducing the CiMLoop layer files of the "
         "published study (its 'resnet50'): 3-conv 32/32/64 stem, average-pool shortcuts "
         "(ResNet-D), 4/4/6/4 blocks, inner widths 88/176/360/720 (not 3/4/6/3 and 64..512); "
         "224x224 input")
def resnet50_cimloop() -> list[Layer]:
    return resnet("bottleneck", (4, 4, 6, 4), (88, 176, 360, 720),
                  out_widths=(256, 512, 1024, 2048), stem=(32, 32, 64), avg_down=True)


@network("densenet201", "DenseNet-201 (torchvision densenet201; Huang et al. 2017; growth 32, "
         "blocks 6/12/48/32), 224x224 input")
def densenet201() -> list[Layer]:
    return densenet(32, (6, 12, 48, 32))
