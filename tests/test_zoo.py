"""The built-in zoo against the layer files of the published study (shared/reference)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from imcopt.workloads import Layer, Workload, describe, get, names
from imcopt.workloads.layer import DIMS

REPO_ROOT = Path(__file__).resolve().parent.parent

#: reference `layer_kind` -> our kind
KIND = {"conv": "conv", "pointwise_conv": "conv", "depthwise_conv": "depthwise_conv",
        "linear": "linear", "attention_matmul": "matmul"}
#: reference column for each Layer dimension
COLUMN = {dim: dim for dim in DIMS} | {"stride_h": "HStride", "stride_w": "WStride"}

#: zoo name -> reference network, for the networks that reproduce the reference exactly
EXACT = {
    "alexnet": "alexnet", "vgg16": "vgg16", "resnet18": "resnet18",
    "mobilenet_v3": "mobilenet_v3", "densenet201": "densenet201",
    "msft_phi_1_5": "msft_phi_1_5", "resnet50_cimloop": "resnet50",
    "vision_transformer_cimloop": "vision_transformer", "gpt2_medium_cimloop": "gpt2_medium",
    "mobilebert_cimloop": "mobilebert", "dpt_large_cimloop": "dpt_large",
}
#: standard transformers: (tokens, heads, d_head, encoder layers)
STANDARD = {
    "vision_transformer": (197, 12, 64, 12), "gpt2_medium": (256, 16, 64, 24),
    "mobilebert": (139, 4, 32, 24), "dpt_large": (577, 16, 64, 24),
}
#: README / docs/original_study.md totals per reference network: layers, weights, MACs
#: (reference weights count the attention einsums' "weights" too)
TOTALS = {
    "alexnet": (8, 61.1e6, 0.71e9), "vgg16": (16, 138e6, 15.5e9),
    "resnet18": (21, 11.7e6, 1.81e9), "mobilenet_v3": (64, 5.45e6, 0.22e9),
    "resnet50": (62, 48.0e6, 7.49e9), "densenet201": (201, 19.8e6, 4.29e9),
    "mobilebert": (409, 20.8e6, 2.82e9), "vision_transformer": (98, 86.9e6, 16.9e9),
    "gpt2_medium": (145, 355e6, 90.5e9), "dpt_large": (227, 348e6, 241e9),
    "msft_phi_1_5": (145, 1.41e9, 1.45e12),
}


def reference_path() -> Path:
    return REPO_ROOT / ".." / "shared" / "reference" / "workload_layers.csv"


@pytest.fixture(scope="module")
def reference() -> dict[str, list[dict[str, str]]]:
    path = reference_path()
    if not path.is_file():
        pytest.skip(f"reference layer table not found at {path} (needs the shared/ checkout)")
    rows: dict[str, list[dict[str, str]]] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            rows.setdefault(row["network"], []).append(row)
    for net_rows in rows.values():
        net_rows.sort(key=lambda r: int(r["layer_index"]))
    return rows


def mismatch(net: str, index: int, layer: Layer, row: dict[str, str]) -> str | None:
    """None when `layer` equals reference `row` in kind and every dimension, else a message."""
    got = {"kind": layer.kind} | {dim: getattr(layer, dim) for dim in DIMS}
    want = {"kind": KIND[row["layer_kind"]]} | {dim: int(row[COLUMN[dim]]) for dim in DIMS}
    if got == want:
        return None
    diff = ", ".join(f"{k}: got {got[k]} want {want[k]}" for k in got if got[k] != want[k])
    return f"{net} layer {index} ({layer.name!r} vs reference {row['layer_file']}): {diff}"


def test_registered_names() -> None:
    expected = set(EXACT) | set(STANDARD) | {"resnet50", "vgg8"}
    assert set(names()) == expected
    for name in names():
        text = describe(name)
        assert text and "\n" not in text, name
        assert ("CiMLoop" in text) == name.endswith("_cimloop"), name
        assert get(name).description == text


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_layers(name: str, reference: dict[str, list[dict[str, str]]]) -> None:
    workload, rows = get(name), reference[EXACT[name]]
    assert len(workload) == len(rows), f"{name}: {len(workload)} layers, reference {len(rows)}"
    errors = [m for i, (layer, row) in enumerate(zip(workload, rows, strict=True))
              if (m := mismatch(name, i, layer, row))]
    assert not errors, "\n".join(errors[:10])


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_totals(name: str, reference: dict[str, list[dict[str, str]]]) -> None:
    workload, rows = get(name), reference[EXACT[name]]
    weights = sum(int(r["weights"]) for r in rows if r["layer_kind"] != "attention_matmul")
    assert workload.weights == weights
    assert workload.macs == sum(int(r["macs"]) for r in rows)


@pytest.mark.parametrize("network", sorted(TOTALS))
def test_published_totals(network: str) -> None:
    """The rounded totals of the reference README hold for the exact zoo variants."""
    name = next(k for k, v in EXACT.items() if v == network)
    workload = get(name)
    n_layers, weights, macs = TOTALS[network]
    assert len(workload) == n_layers
    all_weights = sum(layer.weights for layer in workload)  # incl. einsum operands
    assert all_weights == pytest.approx(weights, rel=0.006)
    assert workload.macs == pytest.approx(macs, rel=0.03)


def test_resnet50_is_torchvision() -> None:
    workload = get("resnet50")
    kinds = [layer.kind for layer in workload]
    assert kinds.count("conv") == 53 and kinds[-1] == "linear" and len(workload) == 54
    # torchvision's 25,557,032 parameters less 53,120 BN affine values and the 1,000 fc biases
    assert workload.weights == 25_502_912
    assert workload.macs == 4_089_184_256  # "4.09 GFLOPS" in the torchvision model table
    stage_sizes = [layer.P for layer in workload if layer.name.endswith(".0.conv3")]
    assert stage_sizes == [56, 28, 14, 7]


@pytest.mark.parametrize("name", sorted(STANDARD))
def test_standard_transformers(name: str, reference: dict[str, list[dict[str, str]]]) -> None:
    tokens, heads, d_head, depth = STANDARD[name]
    workload, rows = get(name), reference[name]
    ours = [layer for layer in workload if layer.kind != "matmul"]
    theirs = [row for row in rows if row["layer_kind"] != "attention_matmul"]
    assert len(ours) == len(theirs)
    errors = [m for i, (layer, row) in enumerate(zip(ours, theirs, strict=True))
              if (m := mismatch(name, i, layer, row))]
    assert not errors, "\n".join(errors[:10])
    matmuls = [layer for layer in workload if layer.kind == "matmul"]
    assert len(matmuls) == 2 * depth == len(rows) - len(theirs)
    for qk, av in zip(matmuls[::2], matmuls[1::2], strict=True):
        shapes = [(x.G, x.C, x.M, x.P, x.Q) for x in (qk, av)]
        assert shapes == [(heads, d_head, tokens, tokens, 1), (heads, tokens, d_head, tokens, 1)]
    assert all(m.macs == tokens * tokens * d_head * heads for m in matmuls)
    cimloop = get(f"{name}_cimloop")
    assert workload.weights == cimloop.weights
    assert workload.macs > cimloop.macs


def test_standard_attention_sits_between_qkv_and_projection() -> None:
    for name in STANDARD:
        layers = get(name).layers
        for i, layer in enumerate(layers):
            if layer.name.endswith(".qk"):
                assert layers[i + 1].name.endswith(".av"), name
                assert layers[i + 2].kind == "linear" and layers[i + 2].C == layers[i + 2].M


def test_layers_are_well_formed() -> None:
    for name in names():
        workload = get(name)
        assert isinstance(workload, Workload) and workload.name == name
        assert len({layer.name for layer in workload}) == len(workload), f"{name}: dup names"
        for layer in workload:
            if layer.kind == "depthwise_conv":
                assert layer.C == layer.M == 1 < layer.G
