"""Torchvision-style PyTorch definitions of zoo networks import to the zoo's layers, through
`from_torch` and through an ONNX export (no weights are downloaded: random init)."""

from __future__ import annotations

import warnings

import pytest

from imcopt.workloads import Layer, from_torch, get, load
from imcopt.workloads.zoo.transformers import vit

torch = pytest.importorskip("torch")
nn = torch.nn


def dims(layer: Layer) -> tuple:
    d = layer.as_dict()
    d.pop("name")
    return tuple(d.values())


class BasicBlock(nn.Module):
    def __init__(self, c: int, m: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, m, 3, stride, 1, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(m), nn.ReLU()
        self.conv2 = nn.Conv2d(m, m, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(m)
        self.downsample = (nn.Sequential(nn.Conv2d(c, m, 1, stride, bias=False),
                                         nn.BatchNorm2d(m)) if stride != 1 or c != m else None)

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision.models.resnet18's modules and forward, written out."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1, self.relu, self.maxpool = nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)
        widths, c = (64, 128, 256, 512), 64
        for i, m in enumerate(widths, start=1):
            stride = 1 if i == 1 else 2
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(c, m, stride),
                                                     BasicBlock(m, m, 1)))
            c = m
        self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(512, 1000)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class EncoderBlock(nn.Module):
    def __init__(self, d: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.self_attention = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, ffn), nn.GELU(), nn.Linear(ffn, d))

    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.self_attention(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class ViT(nn.Module):
    """torchvision's VisionTransformer layout (patch conv, class token, MHA blocks, head)."""

    def __init__(self, image: int, patch: int, layers: int, d: int, heads: int, ffn: int,
                 classes: int) -> None:
        super().__init__()
        self.conv_proj = nn.Conv2d(3, d, patch, stride=patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, d))
        self.layers = nn.Sequential(*[EncoderBlock(d, heads, ffn) for _ in range(layers)])
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, classes)

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.head(self.ln(self.layers(x))[:, 0])


def export(module, shape, path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.zeros(shape),), str(path), dynamo=False)


def test_resnet18_from_torch_is_the_zoo_network_and_so_is_its_onnx_export(tmp_path):
    torch.manual_seed(0)
    net, zoo = ResNet18(), get("resnet18")
    assert from_torch(net, (1, 3, 224, 224)).layers == zoo.layers  # names included
    pytest.importorskip("onnx")
    export(net, (1, 3, 224, 224), tmp_path / "resnet18.onnx")
    assert [dims(x) for x in load(tmp_path / "resnet18.onnx")] == [dims(x) for x in zoo]


def test_vit_with_multihead_attention_matches_the_zoo_layout(tmp_path):
    config = {"image": 32, "patch": 8, "layers": 2, "heads": 4, "ffn": 128}
    net = ViT(d=64, classes=10, **config)
    zoo = vit(d_model=64, classes=10, **config)
    imported = from_torch(net, (1, 3, 32, 32), name="vit")
    assert [dims(x) for x in imported] == [dims(x) for x in zoo]
    pytest.importorskip("onnx")
    export(net, (1, 3, 32, 32), tmp_path / "vit.onnx")
    onnx_layers = load(tmp_path / "vit.onnx")
    # the exporter fuses Q, K, V into one in_proj product: same MACs, one layer fewer each
    assert onnx_layers.macs == imported.macs
    kinds = [x.kind for x in onnx_layers]
    assert kinds.count("matmul") == 4 and len(kinds) == len(zoo) - 2 * 2
