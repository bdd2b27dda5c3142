"""Tests that try to break imcopt: random designs, mutated input files, bad CLI input, killed
runs, corrupted results, a model that fails.

The property and fuzz tests count the examples they run (EXAMPLES), and their number of
examples comes from IMCOPT_PROPERTY_EXAMPLES, so tools/reliability_report.py can run them
at a larger size and report the count.
"""

from __future__ import annotations

import filecmp
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imcopt.hardware import SPACES, get_space, load_technology
from imcopt.model import evaluate
from imcopt.objectives import Evaluator, Objective
from imcopt.storage import Journal, StorageError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from reliability_cases import (  # noqa: E402
    GOOD_CSV,
    SECTIONS,
    SMALL_SEARCH,
    TINY_STUDY,
    inventory,
)

EXAMPLES: Counter = Counter()
N_EXAMPLES = int(os.environ.get("IMCOPT_PROPERTY_EXAMPLES", "25"))
PROPERTY = settings(max_examples=N_EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WORKLOADS = ("resnet18", "mobilenet_v3", "vision_transformer", "gpt2_medium")
AREA_LIMIT_MM2 = 800.0


# ---- properties of the model over random designs of every space ---------------------------
def _evaluators() -> dict[str, Evaluator]:
    from imcopt.workloads import get

    return {name: Evaluator(get_space(name), load_technology(get_space(name).technology),
                            [get(w) for w in WORKLOADS], AREA_LIMIT_MM2, cache=False)
            for name in SPACES}


EVALUATORS = _evaluators()


def _psum_ok_by_hand(d, workloads, limit: float) -> np.ndarray:
    """Oracle of the precision constraint, layer by layer in plain Python: a column sum of
    r = min(parallel_rows, rows, K) products of an input slice (min(dac_bits, input bits))
    and a cell (min(bits_per_cell, weight bits)) needs ceil(log2(r (2^i-1)(2^c-1) + 1)) bits."""
    ok = []
    for n in range(d.n):
        need = 0
        for w in workloads:
            for layer in w.layers:
                if layer.kind == "matmul":
                    continue  # digital under the physical policy
                r = min(d["parallel_rows"][n], d["rows_per_array"][n],
                        layer.C * layer.R * layer.S)
                i = min(d["dac_bits"][n], layer.input_bits)
                c = min(d["bits_per_cell"][n], layer.weight_bits)
                need = max(need, math.ceil(math.log2(r * (2**i - 1) * (2**c - 1) + 1)))
        ok.append(need - d["adc_bits"][n] <= limit)
    return np.array(ok)


@pytest.mark.parametrize("space_name", sorted(SPACES))
@PROPERTY
@given(data=st.data())
def test_random_designs_have_sane_metrics_and_consistent_feasibility(space_name, data):
    ev = EVALUATORS[space_name]
    cards = ev.space.cardinalities
    genomes = np.array(data.draw(st.lists(st.tuples(*[st.integers(0, int(c) - 1)
                                                      for c in cards]),
                                          min_size=1, max_size=32)), dtype=np.int64)
    e = ev.evaluate(genomes)
    for name in ("energy_j", "latency_s", "area_mm2"):
        v = getattr(e, name)
        assert np.all(np.isfinite(v)) and np.all(v > 0), f"{name} not finite and > 0"
    assert not e.failed.any(), e.reason[e.failed]
    # feasibility is exactly: area within the limit, cells hold the bits, weights fit, and
    # no partial-sum bit lost beyond the technology's limit
    d = ev.space.decode(genomes)
    arrays = d["router_groups"] * d["tiles_per_group"] * d["arrays_per_tile"]
    bits_ok = d["bits_per_cell"] <= ev.technology.c["max_bits_per_cell"]
    fits = np.column_stack([evaluate(d, w, ev.technology, per_layer=False)
                            .weight_arrays_required <= arrays for w in ev.workloads])
    if ev.technology.weight_residency != "resident":  # streamed weights need not fit
        fits[:] = True
    psum_ok = _psum_ok_by_hand(d, ev.workloads, ev.technology.psum_bits_limit)
    expected = (e.area_mm2 <= AREA_LIMIT_MM2) & bits_ok & fits.all(axis=1) & psum_ok
    np.testing.assert_array_equal(e.feasible, expected)
    np.testing.assert_array_equal(ev.screen(genomes), expected)  # the cheap screen agrees
    assert np.all((e.reason == "") == e.feasible)
    fit = Objective("max").fitness(e)
    assert np.all(np.isinf(fit[~e.feasible])) and np.all(np.isfinite(fit[e.feasible]))
    EXAMPLES[f"random designs ({space_name})"] += 1


# ---- fuzzing the config and workload loaders -----------------------------------------------
def _valid_files() -> dict[str, tuple[str, bytes]]:
    tech = (ROOT / "src/imcopt/hardware/technologies/rram.yaml").read_bytes()
    return {
        "search config": ("search", yaml.safe_dump(SMALL_SEARCH).encode()),
        "search config (example)": ("search", (ROOT / "examples/rram_4net.yaml").read_bytes()),
        "study config": ("study", (ROOT / "examples/small_study.yaml").read_bytes()),
        "study config (tiny)": ("study", yaml.safe_dump(TINY_STUDY).encode()),
        "layer table": ("layers", GOOD_CSV.encode()),
        "technology": ("technology", tech),
    }


VALID_FILES = _valid_files()


def _load(kind: str, path: Path) -> object:
    from imcopt.search import load_config
    from imcopt.study import load_study
    from imcopt.workloads import load_layer_table

    loaders = {"search": load_config, "study": load_study, "layers": load_layer_table,
               "technology": load_technology}
    return loaders[kind](path)


@st.composite
def _mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """A few random byte flips, insertions, deletions or a truncation of `data`."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "swap_line"]))
        pos = draw(st.integers(0, max(0, len(out) - 1)))
        if op == "flip" and out:
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=8)
                                | st.sampled_from([b":", b"-", b"\n", b" ", b"'", b"[", b"{",
                                                   b",", b"nan", b"-1", b"0", b"\x00"]))
        elif op == "delete":
            del out[pos:pos + draw(st.integers(1, 16))]
        elif op == "truncate":
            del out[pos:]
        else:
            lines = bytes(out).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            out = bytearray(b"\n".join(lines))
    return bytes(out)


@pytest.mark.parametrize("name", sorted(VALID_FILES))
@PROPERTY
@given(data=st.data())
def test_loaders_on_mutated_files_load_or_raise_value_error(name, data, tmp_path_factory):
    kind, valid = VALID_FILES[name]
    blob = data.draw(_mutated(valid))
    path = tmp_path_factory.mktemp("fuzz") / ("f.csv" if kind == "layers" else "f.yaml")
    path.write_bytes(blob)
    try:
        _load(kind, path)
    except ValueError as exc:  # the family of every clean input error (WorkloadError, ...)
        message = str(exc)
        assert message and "\n" not in message.strip(), message
    EXAMPLES[f"mutated {name}"] += 1


def test_valid_files_load():
    for name, (kind, blob) in VALID_FILES.items():
        path = ROOT / "examples" / "rram_4net.yaml"
        if name != "search config (example)":
            path = Path(os.environ.get("TMPDIR", "/tmp")) / f"imcopt_valid_{os.getpid()}"
            path = path.with_suffix(".csv" if kind == "layers" else ".yaml")
            path.write_bytes(blob)
        assert _load(kind, path) is not None


# ---- a failing model: failures are data ------------------------------------------------------
def test_model_errors_and_bad_metrics_mark_designs_failed_never_ranked(monkeypatch, tmp_path):
    import imcopt.failures as failures
    from imcopt.search import run_search, write_results

    real = failures.evaluate

    calls = Counter()

    def flaky(designs, workload, tech, per_layer=False, device="numpy"):
        calls[workload.name] += 1
        if workload.name == "alexnet" and calls["alexnet"] == 2:
            raise RuntimeError("simulator crashed")  # the whole second batch fails
        m = real(designs, workload, tech, per_layer=per_layer, device=device)
        nan = (designs["voltage_v"] == 0.5) & (designs["rows_per_array"] == 128)
        negative = (designs["voltage_v"] == 0.7) & (designs["cols_per_array"] == 128)
        m.energy_j = np.where(nan, np.nan, m.energy_j)
        m.latency_s = np.where(negative, -m.latency_s, m.latency_s)
        return m

    monkeypatch.setattr(failures, "evaluate", flaky)
    from imcopt.workloads import get

    space = get_space("rram").restrict(**SMALL_SEARCH["space"]["values"])
    ev = Evaluator(space, load_technology("rram"), [get("resnet18"), get("alexnet")])
    rng = np.random.default_rng(0)
    for _ in range(2):  # the second batch raises on alexnet
        ev.evaluate(rng.integers(0, space.cardinalities, size=(40, space.n_var)))
    e = ev.evaluated()
    reasons = " ".join(e.reason[e.failed])
    assert "alexnet: failed: RuntimeError: simulator crashed" in reasons
    assert "failed: energy_j is nan" in reasons and "failed: latency_s is -" in reasons
    assert (~e.failed).any() and not e.feasible[e.failed].any()
    assert np.all(np.isinf(Objective("max").fitness(e)[e.failed]))
    assert np.all(np.isinf(e.energy_j[e.failed].max(axis=1)))  # stored as +inf, not ranked

    calls.clear()
    result = run_search(SMALL_SEARCH)  # a search over a failing model still finishes
    e = result.evaluator.evaluated()
    assert e.failed.any() and (~e.failed).any()
    for b in result.best():
        p = b["parameters"]
        assert not b["feasible"] or "failed" not in b["reason"]
        assert not b["feasible"] or (p["voltage_v"], p["cols_per_array"]) != (0.7, 128)
        assert not b["feasible"] or (p["voltage_v"], p["rows_per_array"]) != (0.5, 128)
    paths = write_results(result, tmp_path / "out", save_all=True)
    table = pd.read_parquet(paths["designs"])
    assert table.failed.sum() == e.failed.sum()
    assert table.loc[table.failed, "reason"].str.contains("failed: ").all()
    assert json.loads(paths["run"].read_text())["n_failed"] == int(e.failed.sum())
    assert all(not r["reason"].count("failed") for r in json.loads(
        paths["best"].read_text())["best"])


def test_failed_batch_keeps_a_reason_and_area(monkeypatch):
    import imcopt.failures as failures
    from imcopt.hardware import designs_from_keys
    from imcopt.workloads import get

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero in layer 3")

    monkeypatch.setattr(failures, "evaluate", broken)
    d = designs_from_keys(["A_0.6_8_1e-09_512_32_8_64_32_4096"] * 2)
    m = failures.evaluate_guarded(d, get("alexnet"), load_technology("rram"))
    assert not m.feasible.any()
    assert m.reason[0] == "failed: ZeroDivisionError: division by zero in layer 3"
    assert np.all(np.isinf(m.energy_j)) and np.all(np.isfinite(m.area_mm2))


# ---- checkpoint journal and corrupt results ---------------------------------------------------
def test_journal_drops_a_torn_tail_and_reports_corruption(tmp_path):
    j = Journal(tmp_path / "j.journal")
    for i in range(3):
        j.append(bytes([i]) * (10 + i))
    full = j.path.read_bytes()
    j.path.write_bytes(full[:-5])  # killed mid-append
    assert [len(r) for r in j.records()] == [10, 11]
    assert j.path.stat().st_size < len(full) - 5  # the torn record is cut off
    j.append(b"after")
    assert j.records()[-1] == b"after"
    raw = bytearray(j.path.read_bytes())
    raw[50] ^= 0xFF
    j.path.write_bytes(bytes(raw))
    with pytest.raises(StorageError, match=r"j\.journal"):
        j.records()


# ---- a real run killed at random points resumes to identical outputs ----------------------
KILL_SEARCH = {
    "technology": "rram", "workloads": ["resnet18", "alexnet", "mobilenet_v3"],
    "objective": {"aggregation": "max", "optima": None},
    "algorithm": {"name": "four_phase", "sampling": {"n_candidates": 400, "n_select": 100},
                  # long enough (~0.55 s of search after the first checkpoint on a quiet
                  # machine) that a kill 0-0.3 s after it lands mid-search
                  "phases": [{"pop_size": 40, "n_gen": 60},
                             {"pop_size": 40, "n_gen": 60, "crossover_eta": 7,
                              "mutation_prob": 0.5, "mutation_eta": 7}]},
    "seed": 5,
}
OUTPUTS = ("kept_designs.csv.gz", "convergence.csv", "best.json")


def imcopt_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from imcopt.cli import app; app()", *args]


def kill_and_resume(cfg: Path, out: Path, delay_s: float, sig: int = signal.SIGKILL
                    ) -> tuple[int, str]:
    """Start `imcopt search`, send `sig` `delay_s` after its checkpoint appears (after the
    start when negative), then re-run it to the end. Returns the killed run's exit status
    and the resumed run's stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = imcopt_cmd("search", str(cfg), "--out", str(out), "--quiet")
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if delay_s >= 0:
        while not list(out.glob(".checkpoint-*")) and p.poll() is None:
            time.sleep(0.005)
    time.sleep(abs(delay_s))
    p.send_signal(sig)
    p.communicate()
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return p.returncode, resumed.stdout


def test_search_killed_at_random_points_resumes_identically(tmp_path):
    from imcopt.search import run_search, write_results

    cfg = tmp_path / "kill.yaml"
    cfg.write_text(yaml.safe_dump(KILL_SEARCH))
    ref = tmp_path / "ref"
    write_results(run_search(KILL_SEARCH), ref)
    rng = random.Random(7)
    for trial in range(2):
        out = tmp_path / f"killed{trial}"
        rc, resumed = kill_and_resume(cfg, out, rng.uniform(0.0, 0.3))
        assert rc == -signal.SIGKILL
        assert "resuming from the checkpoint" in resumed
        for name in OUTPUTS:
            assert filecmp.cmp(out / name, ref / name, shallow=False), (trial, name)
        assert not list(out.glob(".checkpoint-*"))  # done: the checkpoint is removed


def test_sigint_stops_after_the_batch_and_says_how_to_resume(tmp_path):
    cfg = tmp_path / "kill.yaml"
    cfg.write_text(yaml.safe_dump(KILL_SEARCH))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = tmp_path / "out"
    p = subprocess.Popen(imcopt_cmd("search", str(cfg), "--out", str(out), "--quiet"), env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not list(out.glob(".checkpoint-*")) and p.poll() is None:
        time.sleep(0.01)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate()
    assert p.returncode == 130, err
    assert "interrupted" in err and f"imcopt search {cfg} --out {out}" in err
    assert "Traceback" not in err
    assert list(out.glob(".checkpoint-*"))


# ---- docs/reliability.md: generated, complete, all 100 %, counts that are the cases' --------
def doc_tables(text: str) -> dict[str, dict[str, tuple[int, int, str]]]:
    """{section title: {row label: (tried, right, share)}} of docs/reliability.md."""
    out: dict[str, dict[str, tuple[int, int, str]]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].split(":")[0]
            out[current] = {}
        elif current and line.startswith("| ") and not line.startswith("| ---"):
            cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
            if cells[1] in ("tried", "trials", "examples run"):
                continue
            out[current][cells[0]] = (int(cells[1]), int(cells[2]), cells[3])
    return {k: v for k, v in out.items() if v}


def test_reliability_doc_is_generated_and_shows_100_percent(tmp_path):
    text = (ROOT / "docs" / "reliability.md").read_text()
    assert "generated by tools/reliability_report.py" in text
    assert "PYTHONPATH=src python tools/reliability_report.py`" in text  # the full run
    tables = doc_tables(text)
    for title in (*SECTIONS, "Killed and interrupted runs", "Property and fuzz tests"):
        rows = tables[title]
        assert len(rows) >= 3, (title, rows)  # rows and the "all" line
        for label, (tried, ok, share) in rows.items():
            assert tried > 0 and ok == tried and share == "100 %", (title, label)
    # the doc cannot overstate: its counts are the cases tools/reliability_cases.py holds now
    for title, kinds in inventory(tmp_path).items():
        rows = tables[title]
        assert {k: rows[k][0] for k in rows if k != "all"} == dict(kinds), title
        assert rows["all"][0] == sum(kinds.values()), title
