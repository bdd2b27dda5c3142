"""What a person reads in a terminal: 80 columns, full keys, coded parameters by name, the
winner's losses; a progress display that names the search it is in."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from imcopt.cli import app
from imcopt.hardware import PARAMETERS, get_space
from imcopt.hardware.names import code_names, display
from imcopt.search import load_config
from imcopt.search.progress import Tracker, planned_searches
from test_search import SMALL_CONFIG


def test_every_coded_parameter_names_each_code() -> None:
    coded = [n for n, p in PARAMETERS.items() if p.choices is not None]
    assert {"adc_type", "offchip_memory"} <= set(coded)
    for name in coded:  # a new coded parameter (input_encoding ...) must name its codes
        names = code_names(name)
        assert names is not None and set(names) == set(PARAMETERS[name].choices), name
    assert (display("adc_type", 1), display("adc_type", 2.0)) == ("SAR", "flash")
    assert [display("offchip_memory", c) for c in (1, 2, 3, 4)] == [
        "LPDDR4", "DDR4", "GDDR5", "HBM2"]
    assert display("rows_per_array", 128.0) == "128" and display("voltage_v", 0.7) == "0.7"


def test_evaluate_and_space_show_print_codes_by_name(tmp_path) -> None:
    r = CliRunner().invoke(app, ["evaluate", "-w", "alexnet", "--design",
                                 "adc_type=2,offchip_memory=4"], env={"COLUMNS": "100"})
    assert r.exit_code == 0, r.output
    assert re.search(r"adc_type\s+│\s+flash", r.output)
    assert re.search(r"offchip_memory\s+│\s+HBM2", r.output)
    r = CliRunner().invoke(app, ["space", "show", "--tech", "sram"], env={"COLUMNS": "100"})
    assert "default design: A_0.7_1_2e-09_512_512_8_16_32_16384" in r.output
    assert "adc_type=SAR" in r.output and "offchip_memory=LPDDR4" in r.output


def test_search_console_at_80_columns(tmp_path) -> None:
    import json

    import yaml

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({**SMALL_CONFIG, "objective": {
        "aggregation": "max", "optima": "separate", "area_limit_mm2": 300}}))
    r = CliRunner().invoke(app, ["search", str(cfg), "--out", str(tmp_path / "o"), "--quiet"],
                           env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    keys = {b["key"] for b in json.loads((tmp_path / "o" / "best.json").read_text())["best"]}
    # every line fits in 80 columns but the keys' own (which the terminal wraps)
    assert max(len(line) for line in lines if not any(k in line for k in keys)) <= 80

    best = json.loads((tmp_path / "o" / "best.json").read_text())["best"]
    for b in best[:5]:  # every key whole on its line, and its rank's row has its worst loss
        assert any(re.search(rf"^\s*{b['rank']} {re.escape(b['key'])}$", line)
                   for line in r.output.splitlines()), b["key"]
        row = next(line for line in lines if re.match(rf"\s*{b['rank']}\s+\d", line))
        assert re.search(r"\d\.\d\dx", row)
    w = best[0]
    assert f"winner {w['key']}: area" in r.output
    for name, m in w["workloads"].items():  # the winner per network: E, L, EDAP, loss
        row = next(line for line in lines if line.strip().startswith(name + " "))
        assert f"{m['energy_j']:.4g}" in row and f"{m['latency_s']:.4g}" in row
        assert f"{m['loss_x']:.2f}x" in row
    assert "adc_type=SAR" in r.output


def test_progress_names_each_search_with_its_place() -> None:
    cfg = load_config({**SMALL_CONFIG, "objective": {"optima": "separate"}})
    plan = planned_searches(cfg, get_space("rram"), ["alexnet", "resnet18"])
    per = 100 + 4 * 20 * 4  # SMALL_CONFIG: 100 sampled designs, four phases of 20 x 4
    # each network's search ends with its best looked up (+1), the joint one starts by
    # ranking the networks' bests (+2)
    assert plan == [("separate:alexnet", per + 1), ("separate:resnet18", per + 1),
                    ("joint", per + 2)]
    t = Tracker(plan)
    assert t.total == 3 * per + 4
    from imcopt.search import run_search

    # the plan is what a run asks for, or a little more: pymoo drops duplicate offspring,
    # which in this 1,536-design space leaves some generations short
    real = run_search(cfg).evaluator.n_calls
    assert 0.85 * t.total <= real <= t.total
    rows = [("separate:alexnet", 40), ("separate:alexnet", per + 1), ("separate:resnet18",
            per + 31), ("separate:resnet18", 2 * per + 2), ("joint", 2 * per + 82),
            ("joint", 3 * per + 4)]
    seen = [t.update({"search": s, "n_calls": c}) for s, c in rows]
    assert [label for label, _ in seen] == [
        "separate: alexnet, 1 of 3", "separate: alexnet, 1 of 3",
        "separate: resnet18, 2 of 3", "separate: resnet18, 2 of 3", "joint, 3 of 3",
        "joint, 3 of 3"]
    assert [done for _, done in seen] == [c for _, c in rows]
