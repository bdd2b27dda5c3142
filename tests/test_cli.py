"""The `imcopt` command line: every command runs, JSON parses, bad input gives one line."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

import imcopt
from imcopt.api import DEFAULT_DESIGNS
from imcopt.cli import app
from imcopt.workloads import FOUR_NETWORKS, names

DEFAULT_DESIGN = DEFAULT_DESIGNS["rram"]

runner = CliRunner()


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def run_json(*args: str):
    return json.loads(run(*args, "--json").stdout)


def test_version():
    assert run("--version").stdout.strip() == f"imcopt {imcopt.__version__}"


def test_help_lists_commands():
    out = run("--help").stdout
    for word in ("evaluate", "workloads", "space", "--debug"):
        assert word in out


def test_workloads_list():
    out = run("workloads", "list").stdout
    for name in names():
        assert name in out
    rows = run_json("workloads", "list")
    assert [r["name"] for r in rows] == names()
    alexnet = next(r for r in rows if r["name"] == "alexnet")
    assert alexnet["layers"] == 8 and alexnet["macs"] == imcopt.workloads.get("alexnet").macs


def test_workloads_show_table_and_json():
    out = run("workloads", "show", "resnet18").stdout
    assert "layer4.1.conv2" in out and "total" in out and "11,678,912" in out
    doc = run_json("workloads", "show", "resnet18")
    wl = imcopt.workloads.get("resnet18")
    assert doc["layers"] == len(doc["layer_table"]) == len(wl)
    assert sum(r["macs"] for r in doc["layer_table"]) == doc["macs"] == wl.macs
    assert sum(r["weights"] for r in doc["layer_table"]) == doc["weights"] == wl.weights
    first = doc["layer_table"][0]
    assert (first["C"], first["M"], first["R"], first["stride_h"]) == (3, 64, 7, 2)


def test_workloads_show_layer_table_csv(tmp_path):
    path = tmp_path / "nets.csv"
    imcopt.workloads.write_layer_table(
        [imcopt.workloads.get("alexnet"), imcopt.workloads.get("resnet18")], path)
    doc = run_json("workloads", "show", f"{path}:alexnet")
    assert doc["name"] == "alexnet" and doc["layers"] == 8
    err = run("workloads", "show", str(path), code=2).stderr
    assert "file.csv:network" in err or "path.csv:network" in err


def test_workloads_show_matmul_has_no_weights():
    doc = run_json("workloads", "show", "vision_transformer")
    matmuls = [r for r in doc["layer_table"] if r["kind"] == "matmul"]
    assert matmuls and all(r["weights"] == 0 for r in matmuls)


@pytest.mark.parametrize(("tech", "size"), [
    ("rram", 10_886_400_000), ("sram", 3_657_830_400), ("rram_study", 12_096_000),
    ("sram_study", 4_064_256), ("sram_study4", 1_512_000)])
def test_space_show(tech, size):
    out = run("space", "show", "--tech", tech).stdout
    assert f"{size:,}" in out and "rows_per_array" in out and "architecture" in out
    doc = run_json("space", "show", "--tech", tech)
    assert doc["size"] == size == math.prod(p["count"] for p in doc["parameters"])
    assert set(doc["levels"]) == {"device", "circuit", "architecture", "system"}
    study = {"technology_node_nm": 32, "adc_bits": 5, "adc_type": 2, "parallel_rows": 4096,
             "cols_per_adc": 1, "dac_bits": 8, "input_encoding": 3, "offchip_memory": 1}
    fixed = {**(study if tech.endswith(("_study", "_study4")) else {}),
             **({"bits_per_cell": 1} if tech.startswith("sram") else {})}
    assert doc["fixed"] == fixed


def test_evaluate_no_options_runs_the_default_job():
    out = run("evaluate").stdout
    assert DEFAULT_DESIGN in out
    for name in FOUR_NETWORKS:
        assert name in out
    for header in ("energy (J)", "latency (s)", "area (mm2)", "EDAP (J*s*mm2)", "TOPS/W",
                   "energy by component (J)", "area by component (mm2)", "cell_array"):
        assert header in out


@pytest.mark.parametrize("tech", ["rram", "sram"])
def test_evaluate_json_resnet18(tech):
    doc = run_json("evaluate", "--tech", tech, "--workload", "resnet18")
    assert doc["technology"] == tech
    assert doc["design"]["key"] == DEFAULT_DESIGNS[tech]
    assert list(doc["workloads"]) == ["resnet18"]
    w = doc["workloads"]["resnet18"]
    for key in ("energy_j", "latency_s", "area_mm2", "edap_j_s_mm2", "tops_per_w"):
        assert math.isfinite(w["totals"][key]) and w["totals"][key] > 0, key
    assert w["totals"]["feasible"] is True
    assert sum(w["energy_breakdown_j"].values()) == pytest.approx(w["totals"]["energy_j"])
    assert sum(w["area_breakdown_mm2"].values()) == pytest.approx(w["totals"]["area_mm2"])
    assert "layers" not in w
    # the Python API gives the same numbers
    m = imcopt.evaluate(DEFAULT_DESIGNS[tech], "resnet18", tech)
    assert w["totals"]["energy_j"] == pytest.approx(float(m.energy_j[0]))


def test_evaluate_per_layer():
    out = run("evaluate", "-w", "alexnet", "--per-layer").stdout
    assert "alexnet per layer" in out and "classifier.7" in out
    doc = run_json("evaluate", "-w", "alexnet", "-w", "resnet18", "--per-layer")
    assert list(doc["workloads"]) == ["alexnet", "resnet18"]
    layers = doc["workloads"]["alexnet"]["layers"]
    assert len(layers) == 8 and layers[-1]["name"] == "classifier.7"
    total = doc["workloads"]["alexnet"]["totals"]
    assert sum(r["energy_j"] for r in layers) == pytest.approx(total["energy_j"])
    assert sum(r["latency_s"] for r in layers) == pytest.approx(total["latency_s"])


def test_evaluate_design_pairs():
    doc = run_json("evaluate", "-w", "resnet18", "--design",
                   "voltage_v=0.6,bits_per_cell=8,rows_per_array=256")
    params = doc["design"]["parameters"]
    assert (params["voltage_v"], params["bits_per_cell"], params["rows_per_array"]) == (0.6, 8, 256)
    # an unset parameter keeps the default design's value (A_0.7_2_2e-09_512_512_8_...: 512
    # columns, 8 router groups): one default design everywhere
    assert params["cols_per_array"] == 512 and params["router_groups"] == 8
    plain = run_json("evaluate", "-w", "resnet18")
    same = run_json("evaluate", "-w", "resnet18", "--design", "voltage_v=0.7")
    assert plain["design"] == same["design"]
    for tech in ("rram", "sram"):  # `space show` names the default `evaluate` starts from
        shown = run_json("space", "show", "--tech", tech)["default_design"]
        assert shown["key"] == run_json("evaluate", "--tech", tech, "-w", "alexnet"
                                        )["design"]["key"] == DEFAULT_DESIGNS[tech]
        assert shown["note"] is None  # inside the technology's space
    # a key with an override
    doc = run_json("evaluate", "-w", "resnet18", "-d", f"{DEFAULT_DESIGN},rows_per_array=256")
    assert doc["design"]["key"] == DEFAULT_DESIGN.replace("_512_", "_256_")


def test_evaluate_infeasible_design_reports_cells():
    doc = run_json("evaluate", "-w", "vgg16", "-d", "A_0.5_1_1e-09_32_32_1_4_4_2048")
    totals = doc["workloads"]["vgg16"]["totals"]
    assert totals["feasible"] is False
    assert "cells" in totals["reason"]
    out = run("evaluate", "-w", "vgg16", "-d", "A_0.5_1_1e-09_32_32_1_4_4_2048").stdout
    assert "cells" in out


def test_design_outside_space_gives_a_note_on_stderr():
    result = run("evaluate", "--tech", "sram", "-w", "resnet18", "--json", "-d", DEFAULT_DESIGN)
    assert "bits_per_cell" in result.stderr
    doc = json.loads(result.stdout)  # stdout stays pure JSON
    # an SRAM cell holds one bit: the model says so rather than pricing 8-bit cells
    totals = doc["workloads"]["resnet18"]["totals"]
    assert totals["feasible"] is False and "at most 1 bit" in totals["reason"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["evaluate", "--workload", "resnet19"], "resnet18"),
        (["evaluate", "--design", "A_1_2"], "A_1_2"),
        (["evaluate", "--tech", "foo"], "foo"),
        (["evaluate", "--design", "voltage_v=abc"], "abc"),
        (["evaluate", "--design", "voltage=0.6"], "voltage_v"),
        (["evaluate", "--design", "bits_per_cell=1.5"], "integer"),
        (["evaluate", "--design", "rows_per_array"], "name=value"),
        (["workloads", "show", "resnet19"], "resnet18"),
        (["workloads", "show", "missing.csv:net"], "missing.csv"),
        (["space", "show", "--tech", "rrm"], "rram"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, expected):
    result = run(*args, code=2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_debug_shows_the_exception():
    result = runner.invoke(app, ["--debug", "evaluate", "--workload", "resnet19"])
    assert result.exit_code != 0
    assert isinstance(result.exception, imcopt.workloads.WorkloadError)
