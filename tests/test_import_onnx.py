"""ONNX import: exact layers of small graphs, the zoo round trip (identical layer table and
evaluation), PyTorch export cross-check, malformed files."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import imcopt
from imcopt.hardware import get_space, load_technology
from imcopt.workloads import Layer, UnmappedOpsWarning, get, load, user_names
from test_import import TORCH_LAYERS, assert_one_line_error, cli, dims, torch_net

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from imcopt.workloads.importers.onnx import onnx_to_workload  # noqa: E402
from onnx_build import value, weight, workload_to_onnx  # noqa: E402


# ---- ONNX ---------------------------------------------------------------------------------
def small_onnx() -> onnx.ModelProto:
    """conv 3x3/2 pad 1 -> depthwise 3x3 -> grouped 1x1 -> ConvTranspose (unmapped) ->
    tokens -> Q, K, V (MatMul with weights) -> QK^T, AV (two heads) -> Gemm head."""
    n = helper.make_node
    c = lambda name, vals: n("Constant", [], [name], value=helper.make_tensor(  # noqa: E731
        name + "_t", TensorProto.INT64, [len(vals)], vals))
    nodes = [
        n("Conv", ["x", "w1"], ["c1"], name="stem", strides=[2, 2], pads=[1, 1, 1, 1]),
        n("Conv", ["c1", "w2"], ["c2"], name="dw", group=8, pads=[1, 1, 1, 1]),
        n("Conv", ["c2", "w3"], ["c3"], name="grouped", group=2),
        n("ConvTranspose", ["c3", "wt"], ["up"], name="up"),
        c("s_tok", [1, 16, 64]), n("Reshape", ["c3", "s_tok"], ["t0"]),
        n("Transpose", ["t0"], ["tok"], perm=[0, 2, 1]),  # [1, 64 tokens, 16]
        n("MatMul", ["tok", "wq"], ["q0"], name="q"),
        n("Transpose", ["wk_t"], ["wk"], perm=[1, 0]),  # a transposed weight is a weight
        n("MatMul", ["tok", "wk"], ["k0"], name="k"),
        n("MatMul", ["tok", "wv"], ["v0"], name="v"),
        c("s_h", [1, 64, 2, 8]),
        n("Reshape", ["q0", "s_h"], ["q1"]), n("Transpose", ["q1"], ["qh"], perm=[0, 2, 1, 3]),
        n("Reshape", ["k0", "s_h"], ["k1"]), n("Transpose", ["k1"], ["kT"], perm=[0, 2, 3, 1]),
        n("Reshape", ["v0", "s_h"], ["v1"]), n("Transpose", ["v1"], ["vh"], perm=[0, 2, 1, 3]),
        n("MatMul", ["qh", "kT"], ["sc"], name="qk"),
        n("Softmax", ["sc"], ["att"], axis=-1),
        n("MatMul", ["att", "vh"], ["ctx"], name="av"),
        c("s_flat", [1, 64 * 16]), n("Reshape", ["ctx", "s_flat"], ["flat"]),
        n("Gemm", ["flat", "wf"], ["out"], name="head", transB=1),
    ]
    inits = [weight("w1", [8, 3, 3, 3]), weight("w2", [8, 1, 3, 3]), weight("w3", [16, 4, 1, 1]),
             weight("wt", [16, 4, 2, 2]), weight("wq", [16, 16]), weight("wk_t", [16, 16]),
             weight("wv", [16, 16]), weight("wf", [10, 1024])]
    graph = helper.make_graph(nodes, "small", [value("x", ["batch", 3, 16, 16])],
                              [value("out", None), value("up", None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


SMALL_LAYERS = [
    Layer("stem", "conv", C=3, M=8, R=3, S=3, P=8, Q=8, stride_h=2, stride_w=2),
    Layer("dw", "depthwise_conv", G=8, C=1, M=1, R=3, S=3, P=8, Q=8),
    Layer("grouped", "conv", G=2, C=4, M=8, P=8, Q=8),
    Layer("q", "linear", C=16, M=16, P=64),
    Layer("k", "linear", C=16, M=16, P=64),
    Layer("v", "linear", C=16, M=16, P=64),
    Layer("qk", "matmul", G=2, C=8, M=64, P=64),
    Layer("av", "matmul", G=2, C=64, M=8, P=64),
    Layer("head", "linear", C=1024, M=10),
]


def test_onnx_small_model_layers_exactly_and_one_warning(tmp_path):
    path = tmp_path / "small.onnx"
    onnx.save(small_onnx(), path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wl = load(path)
    assert wl.name == "small" and list(wl.layers) == SMALL_LAYERS
    unmapped = [w for w in caught if issubclass(w.category, UnmappedOpsWarning)]
    assert len(unmapped) == 1
    # ConvTranspose: 16*8*8 inputs x 4*2*2 = 16384 MACs
    share = 100 * 16384 / (wl.macs + 16384)
    assert f"ConvTranspose x1 ({share:.2f}% of MACs)" in str(unmapped[0].message)
    assert any("symbolic input dims batch taken as 1" in str(w.message) for w in caught)


ZOO_ROUND_TRIP = ("resnet18", "mobilenet_v3", "vision_transformer", "vision_transformer_cimloop",
                  "gpt2_medium")


@pytest.mark.parametrize("name", ZOO_ROUND_TRIP)
def test_zoo_onnx_round_trip_identical_layers_and_results(name, tmp_path):
    zoo = get(name)
    path = tmp_path / f"{name}.onnx"
    onnx.save(workload_to_onnx(zoo), path)
    assert path.stat().st_size < 200_000  # dims only, no weights
    result = cli("workloads", "import", str(path), "--name", f"my_{name}")
    assert result.exit_code == 0, result.output
    imported = get(f"my_{name}")  # by name, from the user folder's layer table
    assert imported.layers == zoo.layers
    for col, values in zoo.table().items():
        assert np.array_equal(imported.table()[col], values), col
    for tech in ("rram", "sram"):
        space = get_space(tech)
        designs = space.decode(space.sample(6, rng=0))
        for policy in ("digital", "in_array"):
            technology = load_technology(tech).with_settings(matmul_policy=policy)
            a = imcopt.evaluate(designs, zoo, technology)
            b = imcopt.evaluate(designs, imported, technology)
            for metric in ("energy_j", "latency_s", "area_mm2", "feasible", "layer_energy_j",
                           "layer_latency_s", "cell_writes_per_inference"):
                assert np.array_equal(getattr(a, metric), getattr(b, metric)), (tech, metric)


def test_every_zoo_network_round_trips_to_the_same_layers():
    for name in imcopt.workloads.names():
        zoo = get(name)
        assert onnx_to_workload(workload_to_onnx(zoo), name).layers == zoo.layers, name


def test_onnx_both_operands_trained_is_folded_and_activation_left_weight_is_linear():
    nodes = [helper.make_node("MatMul", ["wa", "wb"], ["folded"], name="folded"),
             helper.make_node("MatMul", ["w", "x"], ["y"], name="wx")]
    graph = helper.make_graph(nodes, "g", [value("x", [1, 32, 7])],
                              [value("y", None), value("folded", None)],
                              [weight("wa", [4, 4]), weight("wb", [4, 4]), weight("w", [5, 32])])
    wl = onnx_to_workload(helper.make_model(graph), "g")
    assert list(wl.layers) == [Layer("wx", "linear", C=32, M=5, P=7)]


def test_from_torch_matches_its_onnx_export(tmp_path):
    torch, net = torch_net()
    path = tmp_path / "net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 3, 16, 16),), str(path), dynamo=False)
    assert [dims(layer) for layer in load(path)] == [dims(layer) for layer in TORCH_LAYERS]


# ---- malformed files: one line naming the file, exit 2 ------------------------------------
def test_malformed_onnx_gives_one_line_naming_the_file(tmp_path):
    good = tmp_path / "good.onnx"
    onnx.save(small_onnx(), good)
    data = good.read_bytes()
    files = {f"truncated{i}.onnx": data[:cut]
             for i, cut in enumerate((len(data) // 3, len(data) // 2, len(data) - 7))}
    files |= {"empty.onnx": b"", "garbage.onnx": b"\x08\x07garbage\xff\xff\xff"}
    for file, raw in files.items():
        (tmp_path / file).write_bytes(raw)
        assert_one_line_error(tmp_path / file)
    assert_one_line_error(tmp_path / "missing.onnx")
    assert user_names() == []


def test_onnx_3d_conv_and_control_flow_products_are_reported_not_dropped():
    branch = helper.make_graph(
        [helper.make_node("MatMul", ["v", "wb"], ["r"])], "branch", [], [value("r", [1, 4])],
        [weight("wb", [8, 4])])
    nodes = [helper.make_node("Conv", ["x3", "w3"], ["y3"], name="c3d"),
             helper.make_node("Gemm", ["v", "wg"], ["g"], name="fc"),
             helper.make_node("If", ["cond"], ["r"], then_branch=branch, else_branch=branch)]
    graph = helper.make_graph(
        nodes, "g", [value("x3", [1, 2, 4, 4, 4]), value("v", [1, 8]),
                     helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [value("y3", None), value("g", None), value("r", None)],
        [weight("w3", [3, 2, 2, 2, 2]), weight("wg", [8, 5])])
    with pytest.warns(UnmappedOpsWarning) as caught:
        wl = onnx_to_workload(helper.make_model(graph), "g")
    assert list(wl.layers) == [Layer("fc", "linear", C=8, M=5)]
    message = str(caught[0].message)
    conv_macs = 3 * 27 * 16  # output 1x3x3x3x3 = 81 values x 2*2*2*2 = 16 MACs each: 1296
    assert conv_macs == 81 * 16
    assert f"Conv 3-D x1 ({100 * conv_macs / (conv_macs + 40):.2f}% of MACs)" in message
    assert "MatMul inside If x2 (MACs unknown)" in message


def test_cli_import_prints_the_warning_and_json(tmp_path):
    import json

    path = tmp_path / "small.onnx"
    onnx.save(small_onnx(), path)
    result = cli("workloads", "import", str(path), "--name", "small_net", "--json")
    assert result.exit_code == 0, result.output
    assert any(line.startswith("warning: ") and "ConvTranspose x1" in line
               for line in result.output.splitlines())
    doc = json.loads(result.stdout)
    assert doc["layers"] == len(SMALL_LAYERS) and doc["saved"].endswith("small_net.csv")
    assert any("ConvTranspose" in w for w in doc["warnings"])
    assert list(get("small_net").layers) == SMALL_LAYERS
