"""Cross-validation of the calibration (`imcopt calibrate --cv`): scored rows are never fitted."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from imcopt.cli import app
from imcopt.crossval import chip_arrays, cross_validate, folds, sourced
from imcopt.hardware import load_technology
from test_validation import synthetic_reference


def test_sourced_puts_every_constant_back_at_its_source():
    tech = load_technology("rram")
    fitted = [k for k, c in tech.constants.items() if c.source_value not in (None, c.value)]
    assert fitted  # the shipped table is fitted
    start = sourced(tech)
    for k in fitted:
        assert start.c[k] == tech.constants[k].source_value
    assert start.calibration == {"status": "sourced"}


def test_chip_arrays_read_from_keys():
    assert chip_arrays(["A_0.6_8_1e-09_512_32_8_64_32_4096"]).tolist() == [8 * 64 * 32]


def test_folds_leave_each_network_out_once_and_the_largest_chips():
    ref = pd.DataFrame({"workload": ["a", "a", "b", "c"], "design_key": [
        "A_0.6_8_1e-09_512_32_1_4_4_4096", "A_0.6_8_1e-09_512_32_8_64_32_4096",
        "A_0.6_8_1e-09_512_32_2_4_4_4096", "A_0.6_8_1e-09_512_32_4_4_4_4096"]})
    by_net = folds(ref, "networks")
    assert [f for f, _ in by_net] == ["a", "b", "c"]
    assert sum(m.sum() for _, m in by_net) == len(ref)
    (name, largest), = folds(ref, "chip_size")
    # the 80th percentile of 16, 32, 64, 16384 arrays: 64 + 0.4 (16384 - 64) = 6592
    assert largest.tolist() == [False, True, False, False] and name == "arrays>=6592"
    with pytest.raises(ValueError, match="networks, chip_size"):
        folds(ref, "layers")


def test_scored_rows_do_not_move_the_fit(tmp_path):
    """Garbage in the left-out network's reference numbers changes its score, never the fit."""
    path = synthetic_reference(tmp_path, n=30, workloads=("alexnet", "resnet18"))
    clean = cross_validate(path, technologies=["rram"], max_evaluations=2)
    bad = pd.read_csv(path)
    bad.loc[bad.workload == "alexnet", "energy_j"] *= np.exp(
        np.random.default_rng(1).normal(0, 2, (bad.workload == "alexnet").sum()))
    bad.to_csv(path, index=False)
    dirty = cross_validate(path, technologies=["rram"], max_evaluations=2)
    a, b = clean.set_index("fold"), dirty.set_index("fold")
    # fold alexnet: fitted on resnet18 only -> the same fit, a worse alexnet energy score
    assert a.loc["alexnet", "fit_cost"] == b.loc["alexnet", "fit_cost"]
    assert b.loc["alexnet", "rho_energy_j"] < a.loc["alexnet", "rho_energy_j"] - 0.3
    # fold resnet18: fitted on the garbage -> a different fit
    assert a.loc["resnet18", "fit_cost"] != b.loc["resnet18", "fit_cost"]
    assert set(clean["workload"]) == {"alexnet", "resnet18"}
    assert (clean["rho_area_mm2"] > 0.9).all() and clean["free_constants"].min() >= 1


def test_cli_cv_json(tmp_path):
    path = synthetic_reference(tmp_path, n=20, workloads=("alexnet", "resnet18"))
    run = CliRunner().invoke(app, ["calibrate", "--reference", str(path), "--tech", "rram",
                                   "--cv", "networks", "--max-evaluations", "1", "--json",
                                   "--out", str(tmp_path / "cv")])
    assert run.exit_code == 0, run.output
    rows = json.loads(run.stdout)
    assert {r["workload"] for r in rows} == {"alexnet", "resnet18"}
    assert {"technology", "rho_energy_j", "rho_latency_s", "rho_area_mm2", "rho_edap",
            "top10_overlap"} <= set(rows[0])
    assert (tmp_path / "cv" / "cv_networks.csv").is_file()
    bad = CliRunner().invoke(app, ["calibrate", "--reference", str(path), "--cv", "layer"])
    assert bad.exit_code == 2 and "networks, chip_size" in bad.output
