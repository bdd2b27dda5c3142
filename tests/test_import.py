"""Bring-your-own-network import: PyTorch, Timeloop/CiMLoop YAML, CSV, by name in the CLI.

ONNX import is tested in test_import_onnx.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import imcopt
from imcopt.cli import app
from imcopt.workloads import (
    Layer,
    UnmappedOpsWarning,
    Workload,
    WorkloadError,
    get,
    load,
    user_names,
    write_layer_table,
)

runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, list(args))


def dims(layer: Layer) -> tuple:
    """Everything but the name."""
    d = layer.as_dict()
    d.pop("name")
    return tuple(d.values())


# ---- PyTorch ------------------------------------------------------------------------------
def torch_net():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1)
            self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
            self.q, self.k, self.v = nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(16, 16)
            self.head = nn.Linear(16, 10)

        def forward(self, x):
            t = self.dw(self.stem(x)).flatten(2).transpose(1, 2)  # [B, 64, 16]
            b, n, _ = t.shape

            def heads(z):
                return z.reshape(b, n, 2, 8).transpose(1, 2)

            q, k, v = heads(self.q(t)), heads(self.k(t)), heads(self.v(t))
            att = (q @ k.transpose(-2, -1)).softmax(-1)
            ctx = torch.matmul(att, v).transpose(1, 2).reshape(b, n, 16)
            return self.head(ctx.mean(1))

    return torch, Net()


TORCH_LAYERS = [
    Layer("stem", "conv", C=3, M=16, R=3, S=3, P=8, Q=8, stride_h=2, stride_w=2),
    Layer("dw", "depthwise_conv", G=16, C=1, M=1, R=3, S=3, P=8, Q=8),
    Layer("q", "linear", C=16, M=16, P=64),
    Layer("k", "linear", C=16, M=16, P=64),
    Layer("v", "linear", C=16, M=16, P=64),
    Layer("matmul", "matmul", G=2, C=8, M=64, P=64),
    Layer("matmul_1", "matmul", G=2, C=64, M=8, P=64),
    Layer("head", "linear", C=16, M=10),
]


def test_from_torch_exact_layers():
    _, net = torch_net()
    wl = imcopt.workloads.from_torch(net, (1, 3, 16, 16), name="net")
    assert wl.name == "net" and list(wl.layers) == TORCH_LAYERS


def test_from_torch_multihead_attention_sdpa_and_unmapped():
    torch = pytest.importorskip("torch")
    nn, fn = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mha = nn.MultiheadAttention(32, 4, batch_first=True)
            self.up = nn.ConvTranspose1d(32, 8, 2)

        def forward(self, x):  # x: [B, T, 32]
            y, _ = self.mha(x, x, x)
            q = y.reshape(1, 10, 4, 8).transpose(1, 2)
            z = fn.scaled_dot_product_attention(q, q, q)
            return z.sum() + self.up(x.transpose(1, 2)).sum()

    with pytest.warns(UnmappedOpsWarning, match=r"ConvTranspose1d x1 \("):
        wl = imcopt.workloads.from_torch(Net(), (1, 10, 32), name="att")
    assert [layer.name for layer in wl] == [
        "mha.q", "mha.k", "mha.v", "mha.qk", "mha.av", "mha.out_proj",
        "scaled_dot_product_attention.qk", "scaled_dot_product_attention.av"]
    assert wl[3] == Layer("mha.qk", "matmul", G=4, C=8, M=10, P=10)
    assert wl[4] == Layer("mha.av", "matmul", G=4, C=10, M=8, P=10)
    assert dims(wl[6]) == dims(wl[3]) and dims(wl[7]) == dims(wl[4])


def test_from_torch_conv1d_is_a_one_row_conv():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv1d(4, 8, 3, stride=2, padding=1))
    assert list(imcopt.workloads.from_torch(net, (1, 4, 17)).layers) == [
        Layer("0", "conv", C=4, M=8, R=1, S=3, P=1, Q=9, stride_w=2)]


def test_cli_imports_a_torch_factory(tmp_path):
    pytest.importorskip("torch")
    code = tmp_path / "model.py"
    code.write_text("import torch.nn as nn\n\ndef make():\n    return nn.Sequential("
                    "nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 4))\n")
    result = cli("workloads", "import", f"{code}:make", "--name", "tiny", "--input-shape",
                 "1,3,8,8")
    assert result.exit_code == 0, result.output
    assert list(get("tiny").layers) == [
        Layer("0", "conv", C=3, M=8, R=3, S=3, P=6, Q=6), Layer("3", "linear", C=288, M=4)]
    assert cli("workloads", "import", f"{code}:make", "--name", "tiny2").exit_code == 2


# ---- Timeloop / CiMLoop YAML --------------------------------------------------------------
CIMLOOP_FILE = """{{{{include_text('../problem_base.yaml')}}}}
problem:
  <<<: *problem_base
  instance: {{{instance}}}
  name: {name}
  dnn_name: demo
  histograms:
    Inputs: [0.1, 0.8, 0.1]
"""


def test_timeloop_folder_natural_order_and_variants(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    files = {
        "1.yaml": CIMLOOP_FILE.format(instance="C: 3, M: 64, P: 55, Q: 55, R: 11, S: 11, "
                                      "HStride: 4, WStride: 4", name="Conv2d"),
        "2.yaml": CIMLOOP_FILE.format(instance="G: 16, P: 112, Q: 112, R: 3, S: 3",
                                      name="Conv2d"),
        "10.yaml": CIMLOOP_FILE.format(instance="M: 64, C: 197, P: 12", name="ViTSelfAttention"),
        "11.yaml": CIMLOOP_FILE.format(instance="C: 1024, M: 3072, P: 256, X: 4, Y: 6, Z: 8",
                                       name="Conv1D"),
        # older Timeloop: dims directly under problem, lower-case strides
        "20.yaml": "problem:\n  shape: {name: CNN-Layer}\n  C: 64\n  M: 128\n  R: 3\n  S: 3\n"
                   "  P: 28\n  Q: 28\n  N: 2\n  Hstride: 2\n  Wstride: 2\n",
    }
    for file, text in files.items():
        (folder / file).write_text(text)
    (folder / "notes.txt").write_text("not a layer")
    wl = load(folder)
    assert wl.name == "demo" and list(wl.layers) == [
        Layer("1", "conv", C=3, M=64, R=11, S=11, P=55, Q=55, stride_h=4, stride_w=4),
        Layer("2", "depthwise_conv", G=16, C=1, M=1, R=3, S=3, P=112, Q=112),
        Layer("10", "matmul", C=197, M=64, P=12),
        Layer("11", "linear", C=1024, M=3072, P=256, input_bits=4, weight_bits=6),
        Layer("20", "conv", N=2, C=64, M=128, R=3, S=3, P=28, Q=28, stride_h=2, stride_w=2),
    ]


def test_timeloop_zoo_round_trip(tmp_path):
    zoo = get("vision_transformer_cimloop")
    for i, layer in enumerate(zoo.layers):
        inst = ", ".join(f"{k}: {getattr(layer, a)}" for k, a in
                         (("N", "N"), ("G", "G"), ("C", "C"), ("M", "M"), ("R", "R"), ("S", "S"),
                          ("P", "P"), ("Q", "Q"), ("HStride", "stride_h"),
                          ("WStride", "stride_w")))
        name = {"matmul": "ViTSelfAttention", "linear": "Linear"}.get(layer.kind, "Conv2d")
        (tmp_path / f"{i:02d}.yaml").write_text(CIMLOOP_FILE.format(instance=inst, name=name))
    wl = load(tmp_path)
    assert [dims(x) for x in wl] == [dims(x) for x in zoo]


# ---- CSV and the user folder --------------------------------------------------------------
def test_csv_import_and_use_by_name_everywhere(tmp_path):
    path = tmp_path / "two.csv"
    write_layer_table([get("alexnet"), Workload("mini", (Layer("fc", "linear", C=8, M=4),))],
                      path)
    with pytest.raises(WorkloadError, match="holds 2 networks"):
        load(path)
    assert load(f"{path}:alexnet").layers == get("alexnet").layers
    assert cli("workloads", "import", f"{path}:alexnet", "--name", "alex2").exit_code == 0
    assert user_names() == ["alex2"] and get("alex2").layers == get("alexnet").layers
    assert "alex2" in cli("workloads", "list").stdout
    result = cli("evaluate", "-w", "alex2", "--json")
    assert result.exit_code == 0 and "alex2" in result.stdout
    bad = cli("evaluate", "-w", "alex3")
    assert bad.exit_code == 2 and "Did you mean 'alex2'" in bad.output
    assert cli("workloads", "import", f"{path}:alexnet", "--name", "alex2").exit_code == 2
    assert cli("workloads", "import", f"{path}:alexnet", "--name", "alex2",
               "--force").exit_code == 0
    assert cli("workloads", "import", f"{path}:alexnet", "--name", "alexnet").exit_code == 2


# ---- malformed files: one line naming the file, exit 2 ------------------------------------
def assert_one_line_error(path: Path) -> None:
    result = cli("workloads", "import", str(path), "--name", "x")
    assert result.exit_code == 2, (path.name, result.output)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), (path.name, result.output)
    assert path.name in lines[0], (path.name, lines[0])


MALFORMED = {
    "bad_yaml.yaml": "problem:\n  instance: {C: 3, M: [\n",
    "no_problem.yaml": "architecture: {}\n",
    "text_dim.yaml": "problem:\n  instance: {C: BATCH, M: 4}\n",
    "empty.csv": "",
    "truncated.csv": "network,layer_index,C,M,R\nnet,0,3,64,3\nnet,1,6",
    "bad_value.csv": "network,C,M\nnet,3,x\n",
    "model.txt": "?",
}


def test_malformed_yaml_csv_give_one_line_naming_the_file(tmp_path):
    for file, text in MALFORMED.items():
        (tmp_path / file).write_text(text)
        assert_one_line_error(tmp_path / file)
    assert_one_line_error(tmp_path / "missing.yaml")
    assert "line 2" in cli("workloads", "import", str(tmp_path / "bad_yaml.yaml"), "--name",
                           "x").output
    assert user_names() == []


def test_cli_torch_token_model_and_bad_factories(tmp_path):
    pytest.importorskip("torch")
    code = tmp_path / "lm.py"
    code.write_text("import torch.nn as nn\n\ndef make():\n    return nn.Sequential("
                    "nn.Embedding(100, 16), nn.Linear(16, 100))\n\nnot_callable = 3\n")
    ok = cli("workloads", "import", f"{code}:make", "--name", "lm", "--input-shape", "1,12",
             "--input-dtype", "int64")
    assert ok.exit_code == 0, ok.output
    assert list(get("lm").layers) == [Layer("1", "linear", C=16, M=100, P=12)]
    for spec, words in ((f"{code}:make", "failed"),  # float ids into an embedding
                        (f"{code}:not_callable", "no callable"),
                        (f"{code}:missing", "no callable"),
                        (f"{tmp_path / 'none.py'}:make", "expected an existing")):
        result = cli("workloads", "import", spec, "--name", "x", "--input-shape", "1,12")
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and words in lines[0], result.output


REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference"


def test_timeloop_reader_rebuilds_the_reference_layer_table(tmp_path):
    """The study's layer files, rebuilt from the reference table's explicit dims, load back to
    the reference's layers (kind, dims, bits, order) for every network."""
    import csv
    from collections import defaultdict

    from imcopt.workloads import load_layer_table

    table = REFERENCE / "workload_layers.csv"
    if not table.is_file():
        pytest.skip(f"reference layer table not found at {table} (needs the shared/ checkout)")
    reference = load_layer_table(table)
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with table.open() as fh:
        for row in csv.DictReader(fh):
            rows[row["network"]].append(row)
    for network, entries in rows.items():
        folder = tmp_path / network
        folder.mkdir()
        for row in entries:
            instance = ", ".join(kv.replace("=", ": ") for kv in row["explicit_dims"].split())
            (folder / row["layer_file"]).write_text(
                CIMLOOP_FILE.format(instance=instance, name=row["layer_name"]))
        assert [dims(x) for x in load(folder)] == [dims(x) for x in reference[network]], network
