"""Layer and workload objects, the layer-table loader and name lookup."""

from pathlib import Path

import pytest

from imcopt.workloads import (
    Layer,
    Workload,
    WorkloadError,
    get,
    get_many,
    load_layer_table,
    names,
    write_layer_table,
)


def test_layer_counts():
    layer = Layer("c", "conv", C=3, M=64, R=11, S=11, P=55, Q=55, stride_h=4, stride_w=4)
    assert layer.weights == 3 * 64 * 121
    assert layer.macs == 3 * 64 * 121 * 55 * 55
    assert layer.input_values == 3 * (54 * 4 + 11) ** 2
    assert layer.output_values == 64 * 55 * 55


@pytest.mark.parametrize("changes,field", [
    ({"kind": "pool"}, "kind"), ({"C": 0}, "C"), ({"P": -1}, "P"), ({"M": 2.5}, "M"),
    ({"G": True}, "G"), ({"kind": "depthwise_conv", "G": 4, "C": 2}, "C = M = 1"),
])
def test_bad_layers_name_the_field(changes, field):
    base = {"name": "x", "kind": "conv", "C": 4, "M": 4}
    with pytest.raises(WorkloadError, match=field):
        Layer(**{**base, **changes})


def test_empty_workload_and_set_rejected():
    with pytest.raises(WorkloadError, match="no layers"):
        Workload("empty", ())
    with pytest.raises(WorkloadError, match="empty"):
        get_many([])


def test_matmul_layers_hold_no_weights():
    wl = Workload("t", (Layer("fc", "linear", C=8, M=8, P=4),
                        Layer("qk", "matmul", C=4, M=4, P=4, G=2)))
    assert wl.weights == 64
    assert wl.macs == 8 * 8 * 4 + 2 * 4 * 4 * 4


def test_unknown_name_suggests_close_match():
    with pytest.raises(WorkloadError, match="Did you mean 'resnet18'"):
        get("resnet19")


def test_table_round_trip(tmp_path: Path):
    wls = [get("mobilenet_v3"), get("gpt2_medium")]
    path = tmp_path / "t.csv"
    write_layer_table(wls, path)
    back = load_layer_table(path)
    assert list(back) == ["mobilenet_v3", "gpt2_medium"]
    for wl in wls:
        assert back[wl.name].layers == wl.layers
    assert get(f"{path}:gpt2_medium").layers == wls[1].layers


def test_single_network_csv_by_path(tmp_path: Path):
    path = tmp_path / "one.csv"
    write_layer_table([get("alexnet")], path)
    assert get(str(path)).macs == get("alexnet").macs


@pytest.mark.parametrize("text,message", [
    ("", "empty"),
    ("network,C\nx,3\n", "missing required column"),
    ("network,C,M\nx,3,abc\n", "'M' = 'abc' is not a number"),
    ("network,C,M\nx,3,0\n", "positive integer"),
    ("network,C,M,layer_kind\nx,3,4,pool\n", "layer_kind 'pool'"),
    ("network,C,M\n", "no layer rows"),
    ("network,C,M\n,3,4\n", "'network' is empty"),
])
def test_malformed_tables_give_file_line_and_column(tmp_path: Path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(WorkloadError, match=message) as err:
        load_layer_table(path)
    assert "bad.csv" in str(err.value)


def test_missing_file():
    with pytest.raises(WorkloadError, match="does not exist"):
        load_layer_table("/nonexistent/x.csv")


def test_zoo_has_the_eleven_reference_networks():
    for name in ("alexnet", "vgg16", "resnet18", "mobilenet_v3", "resnet50", "densenet201",
                 "mobilebert", "vision_transformer", "gpt2_medium", "dpt_large", "msft_phi_1_5"):
        assert name in names()
