"""The zigzag backend (design -> ZigZag inputs, runs, failures) and two-fidelity search
(`verify:`). The translation and the verify step run without ZigZag (the verifier is then
tests/tiny_simulator.py behind the subprocess backend); the runs of ZigZag itself skip when
the zigzag extra is absent (CI installs it)."""

from __future__ import annotations

import importlib.util
import json
import math
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from imcopt.backends import BackendConfig, ZigZagBackend, make_backend
from imcopt.backends.batch import design_keys
from imcopt.backends.external import run_simulator
from imcopt.backends.zigzag_inputs import (
    CELL_AREA_MM2,
    TranslationError,
    glb_costs,
    period_s,
    translate,
)
from imcopt.hardware import Designs, load_technology
from imcopt.search import load_config, run_search, write_results
from imcopt.search.config import ConfigError
from imcopt.workloads import Layer, Workload

SIM = Path(__file__).with_name("tiny_simulator.py")
HAVE_ZIGZAG = importlib.util.find_spec("zigzag") is not None
needs_zigzag = pytest.mark.skipif(not HAVE_ZIGZAG, reason="zigzag extra not installed")
SRAM = load_technology("sram")
TWO = Workload("two", (Layer("conv_a", "conv", C=16, M=32, R=3, S=3, P=8, Q=8),
                       Layer("fc", "linear", C=2048, M=10)))
DESIGN = {"rows_per_array": 128, "cols_per_array": 64, "router_groups": 2, "tiles_per_group": 4,
          "arrays_per_tile": 8, "adc_bits": 6, "glb_depth_words": 8192, "clock_period_s": 4e-9,
          "bits_per_cell": 1, "offchip_memory": 1}


# ---- the translation (no ZigZag needed) ----------------------------------------------------
def test_translation_of_a_design_golden_values() -> None:
    z = translate(DESIGN, TWO, SRAM)
    arr = z.accelerator["operational_array"]
    # 64 cols / 8-bit weights = 8 weights per row; 2 x 4 x 8 = 64 macros
    assert arr["sizes"] == [8, 128, 64] and arr["dimensions"] == ["D1", "D2", "D3"]
    assert arr["adc_resolution"] == 6 and arr["imc_type"] == "analog"
    assert arr["input_precision"] == [8, 8]
    assert arr["bit_serial_precision"] == 8  # the SRAM technology's dac_bits
    mem = z.accelerator["memories"]
    glb = mem["glb"]
    assert glb["size"] == 8192 * 2048  # 2 MiB: a row of the CACTI table
    assert (glb["r_cost"], glb["w_cost"], glb["area"]) == pytest.approx(
        (1392.95, 2332.14, 8.43321), rel=1e-12)
    assert glb["served_dimensions"] == ["D1", "D2", "D3"]  # one buffer for all macros
    assert glb["ports"][0]["bandwidth_max"] == 2048
    # LPDDR4: 409.6 Gbit/s x 4 ns = 1638.4 bits -> 1632 (whole bytes); 6 pJ/bit
    dram = mem["dram"]["ports"][0]
    assert dram["bandwidth_max"] == dram["bandwidth_min"] == 1632
    assert mem["dram"]["r_cost"] == pytest.approx(6 * 1632)
    assert mem["cells"]["size"] == 8 and mem["cells"]["area"] == pytest.approx(8 * 0.127e-6)
    assert mem["input_regs"]["served_dimensions"] == ["D1"]  # an input feeds a whole row
    assert mem["output_regs"]["served_dimensions"] == ["D2"]  # a column sums down the rows
    slow = z.with_clock(10e-9)["memories"]["dram"]  # 4096 bits per 10 ns cycle
    assert slow["ports"][0]["bandwidth_max"] == 4096
    assert slow["r_cost"] == pytest.approx(6 * 4096)
    assert z.accelerator["memories"]["dram"]["ports"][0]["bandwidth_max"] == 1632  # unchanged


def test_translation_of_layers_keeps_shapes_and_macs() -> None:
    conv = Layer("c", "conv", C=16, M=32, R=3, S=5, P=6, Q=7, stride_h=2, stride_w=1)
    dw = Layer("dw", "depthwise_conv", C=1, M=1, G=24, R=3, S=3, P=10, Q=10)
    wl = Workload("w", (conv, dw, Layer("fc", "linear", C=100, M=10, P=4)))
    layers = translate(DESIGN, wl, SRAM).layers
    first = dict(zip(layers[0]["loop_dims"], layers[0]["loop_sizes"], strict=True))
    assert first == {"B": 1, "K": 32, "G": 1, "OX": 7, "OY": 6, "C": 16, "FX": 5, "FY": 3}
    assert layers[0]["pr_loop_sizes"] == [(7 - 1) * 1 + 5, (6 - 1) * 2 + 3]  # IX, IY
    assert layers[0]["dimension_relations"] == ["ix=1*ox+1*fx", "iy=2*oy+1*fy"]
    assert [x["operand_source"] for x in layers] == [{"W": 0, "I": 0}, {"W": 1, "I": 0},
                                                     {"W": 2, "I": 1}]  # a chain
    for x, layer in zip(layers, wl.layers, strict=True):  # every MAC is there
        assert math.prod(x["loop_sizes"]) == layer.macs


def test_translation_defaults_and_unknown_parameters() -> None:
    z = translate({"rows_per_array": 64, "bits_per_cell": 1, "some_future_knob": 3.0}, TWO,
                  SRAM)
    arr = z.accelerator["operational_array"]
    # absent: imcopt's defaults (512 cols -> 64 weights, 8 x 16 x 32 arrays, 5-bit ADC)
    assert arr["sizes"] == [64, 64, 8 * 16 * 32] and arr["adc_resolution"] == 5
    assert translate({**DESIGN, "input_bits_per_cycle": 2}, TWO, SRAM).accelerator[
        "operational_array"]["bit_serial_precision"] == 2
    odd = translate({**DESIGN, "input_bits_per_cycle": 3}, TWO, SRAM)
    assert odd.accelerator["operational_array"]["bit_serial_precision"] == 2
    assert any("input bits per cycle 3 -> 2" in n for n in odd.notes)
    six = Workload("six", (Layer("a", "conv", C=8, M=8, weight_bits=6),))
    z6 = translate(DESIGN, six, SRAM)
    assert z6.accelerator["operational_array"]["input_precision"] == [8, 8]
    assert z6.layers[0]["operand_precision"]["W"] == 8 and z6.notes
    assert translate(DESIGN, TWO, SRAM, "digital").accelerator["operational_array"][
        "adc_resolution"] == 0


def test_translation_refuses_what_zigzag_cannot_model() -> None:
    with pytest.raises(TranslationError, match="holds no 8-bit weight"):
        translate({**DESIGN, "cols_per_array": 4}, TWO, SRAM)
    with pytest.raises(TranslationError, match="SRAM IMC only"):
        translate({**DESIGN, "bits_per_cell": 2}, TWO, SRAM)
    with pytest.raises(TranslationError, match="power of two"):
        translate({**DESIGN, "rows_per_array": 96}, TWO, SRAM, "digital")
    d = Designs.from_values({**DESIGN, "cols_per_array": 4})
    m = ZigZagBackend().evaluate(d, TWO, SRAM)  # failures are data, never raised
    assert not m.feasible[0] and "failed: " in m.reason[0] and np.isinf(m.energy_j[0])


def test_glb_costs_interpolate_the_cacti_table_in_log_log() -> None:
    mib = 2**20
    r1, w1, a1 = glb_costs(mib, 2048)
    assert (r1, w1, a1) == pytest.approx((711.047, 1179.68, 5.07826), rel=1e-12)
    mid = glb_costs(mib * math.sqrt(2), 2048)  # halfway between 1 and 2 MiB in log size
    assert mid == pytest.approx((math.sqrt(711.047 * 1392.95), math.sqrt(1179.68 * 2332.14),
                                 math.sqrt(5.07826 * 8.43321)), rel=1e-9)
    assert glb_costs(mib, 1024)[0] == pytest.approx(711.047 / 2)  # per access of half the bus


def test_clock_policies() -> None:
    assert period_s("max", 14e-9, 4e-9) == 14e-9
    assert period_s("max", 2e-9, 4e-9) == 4e-9
    assert period_s("zigzag", 2e-9, 4e-9) == 2e-9
    assert period_s("design", 14e-9, 4e-9) == 4e-9
    with pytest.raises(ValueError, match="clock"):
        period_s("fast", 1e-9, 1e-9)


def test_backend_config_checks() -> None:
    with pytest.raises(ValueError, match="lpf_limit: only for backend 'zigzag'"):
        BackendConfig(name="subprocess", command=["x"], lpf_limit=3)
    with pytest.raises(ValueError, match="clock"):
        ZigZagBackend(clock="fast")
    base = {"technology": "sram", "workloads": ["resnet18"], "space": {"name": "sram"}}
    with pytest.raises(ConfigError, match="verify: not available with a precision"):
        load_config({**base, "verify": {"backend": "analytical"},
                     "precision": {"weight_bits": [8]}})
    assert load_config({**base, "verify": {"backend": "analytical"}}).verify.top_k == 5


# ---- verify, with a fast stand-in verifier --------------------------------------------------
def _toy_fitness(row: dict, wl: Workload) -> float:
    sys.path.insert(0, str(SIM.parent))
    try:
        from tiny_simulator import metrics
    finally:
        sys.path.pop(0)
    m = metrics({"design": row, "layers": [x.as_dict() for x in wl.layers]})
    return m["energy_j"] * m["latency_s"] * m["area_mm2"]


def _small_search(verify: dict, **extra: object) -> dict:
    return {"technology": "sram", "workloads": ["alexnet"], "seed": 3,
            "space": {"name": "sram", "values": {"rows_per_array": [32, 64, 128],
                                                  "cols_per_array": [32, 64, 128],
                                                  "router_groups": [1, 2, 4],
                                                  "tiles_per_group": [2, 4],
                                                  "arrays_per_tile": [2, 4, 8]}},
            "objective": {"optima": None}, "algorithm": {"name": "random", "n_evals": 80},
            "top_k": 5, "verify": verify, **extra}


def test_verify_ranks_by_the_verifier_and_keeps_both_fidelities(tmp_path: Path) -> None:
    sim = {"name": "subprocess", "command": [sys.executable, str(SIM)], "timeout_s": 30}
    res = run_search(_small_search({"backend": sim, "top_k": 6}),
                     cache_file=tmp_path / "evaluations.sqlite")
    v = res.verification
    assert v is not None and len(v.fitness) == 6
    paths = write_results(res, tmp_path)
    best = json.loads(paths["best"].read_text())
    wl = res.evaluator.workloads[0]
    toy = [_toy_fitness(b["parameters"], wl) for b in best["best"]]
    assert [b["fitness"] for b in best["best"]] == pytest.approx(toy, rel=1e-9)
    assert toy == sorted(toy)  # the final ranking is the verifier's
    ranks = [b["rank_analytical"] for b in best["best"]]
    assert sorted(ranks) == list(range(1, 7)) and ranks != sorted(ranks)  # they disagree here
    by_analytical = sorted(best["best"], key=lambda b: b["rank_analytical"])
    fits = [b["analytical"]["fitness"] for b in by_analytical]
    assert fits == sorted(fits)  # the candidates came in the analytical order
    analytical_keys = [b["key"] for b in best["analytical_best"]]
    assert [b["key"] for b in by_analytical][:5] == analytical_keys  # its top 5, then one more
    assert best["verify"]["backend"] == "subprocess" and best["verify"]["n_failed"] == 0
    table = pd.read_csv(paths["verify"])
    assert table["key"].tolist() == [b["key"] for b in best["best"]]
    assert table["fitness.subprocess"].tolist() == pytest.approx(toy, rel=1e-9)
    assert "energy_j.alexnet.analytical" in table and "latency_s.alexnet.subprocess" in table
    assert json.loads(paths["run"].read_text())["verify"]["rank_correlation"]["n"] == 6
    # a re-run takes the verified numbers from the evaluation cache: plant one and see it
    db = sqlite3.connect(tmp_path / "evaluations.sqlite")
    key = best["best"][-1]["key"]
    cached = design_keys(res.evaluator.space.decode(res.evaluator.space.genomes_from_keys([key])))
    db.execute("UPDATE evaluations SET energy_j = energy_j * 1e-6 WHERE design_key = ? AND "
               "context IN (SELECT id FROM contexts WHERE backend = 'subprocess')", cached)
    db.commit()
    db.close()
    again = run_search(_small_search({"backend": sim, "top_k": 6}),
                       cache_file=tmp_path / "evaluations.sqlite")
    first = again.evaluator.space.keys(again.verification.genomes[again.verification.order[:1]])
    assert first == [key]


def test_verify_failures_rank_last_with_their_reason(tmp_path: Path) -> None:
    sim = {"name": "subprocess", "command": [sys.executable, str(SIM), "--fail-rows", "64"]}
    res = run_search(_small_search({"backend": sim, "top_k": 6}))
    best = json.loads(write_results(res, tmp_path)["best"].read_text())
    failed = best["verify_failed"]
    assert failed and all(b["parameters"]["rows_per_array"] == 64 for b in failed)
    assert all("mapping failed" in b["reason"] and b["fitness"] is None for b in failed)
    assert all(b["parameters"]["rows_per_array"] != 64 for b in best["best"])
    assert best["verify"]["n_failed"] == len(failed)
    assert [b["rank"] for b in best["best"] + failed] == list(range(1, 7))


# ---- ZigZag itself ----------------------------------------------------------------------------
def _parsed(accelerator: dict, tmp_path: Path, name: str):
    from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage

    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(accelerator))
    return AcceleratorParserStage.parse_accelerator(str(path))


@needs_zigzag
@pytest.mark.parametrize("example", ["aimc", "dimc"])
def test_translated_macro_is_zigzags_own_example(example: str, tmp_path: Path) -> None:
    """ZigZag's shipped aimc/dimc macro (128 rows x 128 8-bit weights, one macro; aimc: 8-bit
    ADC, 2 input bits per cycle; dimc: 1) written as an imcopt design: same cycle time, same
    periphery area (the example gives its cells no area, the translation a 6T cell's)."""
    import zigzag

    shipped = Path(zigzag.__file__).parent / "inputs" / "hardware" / f"{example}.yaml"
    ref = _parsed(yaml.safe_load(shipped.read_text()), tmp_path, "ref").operational_array
    design = {**DESIGN, "rows_per_array": 128, "cols_per_array": 1024, "router_groups": 1,
              "tiles_per_group": 1, "arrays_per_tile": 1, "adc_bits": 8,
              "input_bits_per_cycle": 2 if example == "aimc" else 1}
    imc = "analog" if example == "aimc" else "digital"
    ours = _parsed(translate(design, TWO, SRAM, imc).accelerator, tmp_path, "ours")
    arr = ours.operational_array
    assert arr.tclk == pytest.approx(ref.tclk, rel=1e-12)
    cells = 128 * 128 * 8 * CELL_AREA_MM2
    assert arr.area - cells == pytest.approx(ref.area, rel=1e-9)
    assert ref.area > 0 and arr.tclk > 0


@needs_zigzag
def test_zigzag_runs_a_two_layer_network(tmp_path: Path) -> None:
    """ZigZag end to end (its cheap mapper): metrics finite and above what any mapping must
    spend: every weight bit read once from DRAM (6 pJ/bit, at most 1632 bits per 4 ns cycle),
    the cells' area."""
    backend = ZigZagBackend(lpf_limit=3, spatial_mappings=1, timeout_s=600)
    small = {**DESIGN, "router_groups": 1, "tiles_per_group": 2, "arrays_per_tile": 2}
    d = Designs.from_values({k: [v, v] for k, v in small.items()} | {"rows_per_array": [64, 128]})
    m = backend.evaluate(d, TWO, SRAM)
    assert m.feasible.all(), m.reason
    weight_bits = sum(x.weights for x in TWO.layers) * 8
    assert np.all(m.energy_j >= weight_bits * 6e-12)
    assert np.all(m.latency_s >= weight_bits / 1632 * 4e-9)
    cells = 4 * d["rows_per_array"] * 64 * CELL_AREA_MM2
    assert np.all(m.area_mm2 > cells)
    # the area is ZigZag's: its macro model plus the memories, for the accelerator sent
    request = backend.request(d.row(1), TWO, SRAM)
    acc = _parsed(request["accelerator"], tmp_path, "acc")
    area = acc.operational_array.area + sum(
        level.memory_instance.area for level in acc.memory_hierarchy.mem_level_list)
    assert m.area_mm2[1] == pytest.approx(area, rel=1e-9)
    answer = run_simulator((sys.executable, "-m", "imcopt.backends.zigzag_run"), request, 600)
    assert isinstance(answer, dict), answer
    z = answer["zigzag"]
    assert z["period_s"] == max(z["tclk_ns"] * 1e-9, 4e-9)  # clock "max"
    assert answer["latency_s"] == pytest.approx(z["latency_cycles"] * z["period_s"])
    assert answer["energy_j"] == pytest.approx(z["energy_pj"] * 1e-12)
    assert answer["energy_j"] == pytest.approx(m.energy_j[1], rel=1e-12)  # deterministic
    late = backend.__class__(lpf_limit=3, spatial_mappings=1, timeout_s=0.2)
    t = late.evaluate(d.take(slice(0, 1)), TWO, SRAM)
    assert not t.feasible[0] and "ZigZag timed out after 0.2 s" in t.reason[0]


@needs_zigzag
def test_verify_with_zigzag_end_to_end(tmp_path: Path) -> None:
    table = tmp_path / "two.csv"
    table.write_text("network,layer_index,layer_name,layer_kind,C,M,R,S,P,Q\n"
                     "two,0,conv_a,conv,16,32,3,3,8,8\ntwo,1,fc,linear,2048,10,1,1,1,1\n")
    cfg = _small_search({"backend": {"name": "zigzag", "lpf_limit": 3, "spatial_mappings": 1},
                         "top_k": 2}, workloads=[f"{table}:two"])
    res = run_search(cfg, cache_file=tmp_path / "evaluations.sqlite")
    best = json.loads(write_results(res, tmp_path / "out")["best"].read_text())
    assert best["verify"]["backend"] == "zigzag" and best["verify"]["top_k"] == 2
    assert len(best["best"]) == 2, best["verify_failed"]
    fits = [b["fitness"] for b in best["best"]]
    assert fits == sorted(fits) and all(f > 0 for f in fits)
    for b in best["best"]:
        w = b["workloads"]["two"]
        assert w["edap_j_s_mm2"] == pytest.approx(w["energy_j"] * w["latency_s"] * b["area_mm2"])
        assert b["fitness"] == pytest.approx(w["edap_j_s_mm2"])  # max over one workload
        assert b["analytical"]["fitness"] > 0
    db = sqlite3.connect(tmp_path / "evaluations.sqlite")
    stored = db.execute("SELECT COUNT(*) FROM evaluations JOIN contexts ON context = id "
                        "WHERE backend = 'zigzag'").fetchone()[0]
    assert stored == 2
    assert make_backend({"name": "zigzag"}).timeout_s == 3600.0


def test_cli_search_prints_the_verifiers_ranking_last(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from imcopt.cli import app

    sim = {"name": "subprocess", "command": [sys.executable, str(SIM)], "timeout_s": 30}
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(_small_search({"backend": sim, "top_k": 3})))
    out = CliRunner().invoke(app, ["search", str(cfg), "--out", str(tmp_path / "o"), "--quiet"])
    assert out.exit_code == 0, out.output
    text = out.output
    assert text.index("analytical search: best designs") < text.index(
        "best designs ranked by subprocess")
    best = json.loads((tmp_path / "o" / "best.json").read_text())
    # the console shows the key's reference part (its `|name=value` tail may be cut to fit)
    assert best["best"][0]["key"].split("|")[0] in text.split("ranked by subprocess")[1]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_small_search({"backend": sim, "top_k": 0})))
    out = CliRunner().invoke(app, ["search", str(bad), "--out", str(tmp_path / "b")])
    assert out.exit_code == 2 and "verify.top_k" in out.output


@needs_zigzag
def test_the_zigzag_example_config_loads() -> None:
    root = Path(__file__).resolve().parents[1]
    cfg = load_config(root / "examples" / "sram_verify_zigzag.yaml")
    assert cfg.verify.backend.name == "zigzag" and cfg.verify.top_k == 5
    assert make_backend(cfg.verify.backend).lpf_limit == 3


def test_a_dumped_backend_config_loads_again() -> None:
    for spec in ({"name": "subprocess", "command": ["x"]}, {"name": "analytical"}):
        cfg = BackendConfig.model_validate(spec)
        assert BackendConfig.model_validate(cfg.model_dump(mode="json")) == cfg


def test_verify_reports_each_simulated_step_and_the_rank_correlation() -> None:
    from imcopt.search.verify import console_rows, verify
    sim = {"name": "subprocess", "command": [sys.executable, str(SIM)], "timeout_s": 30}
    res = run_search(_small_search({"backend": sim, "top_k": 4}))
    events: list[dict] = []
    v = verify(res, on_progress=events.append)
    # one design per step in process: each step simulates one more design
    assert [e["n_evals"] for e in events] == [1, 2, 3, 4]
    assert [e["generation"] for e in events] == [0, 1, 2, 3]
    # Spearman's rho by hand: 1 - 6 sum d^2 / (n (n^2 - 1)) on the ranks (no ties here)
    ra = np.argsort(np.argsort(v.analytical_fitness))
    rv = np.argsort(np.argsort(v.fitness))
    rho = 1 - 6 * float(np.sum((ra - rv) ** 2)) / (4 * (16 - 1))
    title, _headers, rows = console_rows(v, res.evaluator)
    assert f"; Spearman {rho:.2f} over 4)" in title and len(rows) == 4
