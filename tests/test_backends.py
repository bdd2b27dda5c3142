"""Backends (analytical, replay, subprocess) and the persistent evaluation cache."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from design_helpers import PHYSICAL_CIRCUIT
from imcopt.backends import (
    NOT_RECORDED,
    AnalyticalBackend,
    BackendConfig,
    ReplayBackend,
    SubprocessBackend,
    WorkloadMetrics,
    design_keys,
    make_backend,
)
from imcopt.cache import EvaluationCache
from imcopt.hardware import get_space, load_technology
from imcopt.objectives import Evaluator, Objective
from imcopt.search import load_config, run_search
from imcopt.workloads import get

SIM = Path(__file__).with_name("tiny_simulator.py")
SMALL = {"voltage_v": [0.5, 0.7], "bits_per_cell": [2, 4], "clock_period_s": [1e-9],
         "rows_per_array": [128, 256], "cols_per_array": [64, 128],
         "glb_depth_words": [2048], **PHYSICAL_CIRCUIT}
FIELDS = ("energy_j", "latency_s", "area_mm2", "capacity_ok", "capacity_violation", "reason")


def _space():
    return get_space("rram").restrict(**{k: tuple(v) for k, v in SMALL.items()})


def _same(a, b) -> None:
    for f in FIELDS:
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


def recorded_table(path: Path, genomes: np.ndarray, workloads=("resnet18", "alexnet")) -> Path:
    """A reference-format table of `genomes` with numbers unlike the model's (x 1.5)."""
    space, tech = _space(), load_technology("rram")
    d = space.decode(genomes)
    rows = []
    for w in workloads:
        m = AnalyticalBackend().evaluate(d, get(w), tech)
        rows.append(pd.DataFrame({
            "technology": "RRAM", "workload": w, "design_key": space.keys(genomes),
            "energy_j": m.energy_j * 1.5, "latency_s": m.latency_s * 1.5,
            "area_cm2": m.area_mm2 / 100 * 1.5}))
    pd.concat(rows).to_csv(path, index=False)
    return path


# ---- analytical ------------------------------------------------------------------------
def test_analytical_backend_equals_the_default_evaluator() -> None:
    space, tech, wls = _space(), load_technology("rram"), [get("resnet18"), get("alexnet")]
    g = space.sample(64, 3)
    _same(Evaluator(space, tech, wls).evaluate(g),
          Evaluator(space, tech, wls, backend=AnalyticalBackend()).evaluate(g))


def test_model_version_follows_the_technology_constants() -> None:
    tech = load_technology("rram")
    b = AnalyticalBackend()
    assert b.version(tech) == b.version(load_technology("rram"))
    name = next(iter(tech.constants))
    assert b.version(tech) != b.version(tech.with_constants(**{name: tech.c[name] * 2}))


# ---- replay ----------------------------------------------------------------------------
def test_replay_answers_recorded_designs_and_marks_the_rest_unavailable(tmp_path: Path) -> None:
    space, tech = _space(), load_technology("rram")
    every = space.all_genomes()
    recorded = every[::3]
    table = recorded_table(tmp_path / "rec.csv", recorded)
    wls = [get("resnet18"), get("alexnet")]
    ev = Evaluator(space, tech, wls, backend=make_backend({"name": "replay",
                                                          "table": str(table)}))
    e = ev.evaluate(every)
    ref = pd.read_csv(table)
    known = np.isin(space.keys(every), space.keys(recorded))
    assert known.sum() == len(recorded) and (~known).sum() > 0
    for w, name in enumerate(("resnet18", "alexnet")):
        want = ref[ref.workload == name].set_index("design_key")["energy_j"]
        keys = np.array(space.keys(every))[known]
        assert np.array_equal(e.energy_j[known, w], want.loc[keys].to_numpy())
    assert np.allclose(e.area_mm2[known], ref.set_index("design_key")["area_cm2"].groupby(
        level=0).first().loc[np.array(space.keys(every))[known]].to_numpy() * 100)
    assert not e.feasible[~known].any()
    assert all(NOT_RECORDED in r for r in e.reason[~known])
    assert np.all(np.isinf(Objective("max").fitness(e)[~known]))


def test_search_on_replay_only_reports_recorded_designs(tmp_path: Path) -> None:
    space = _space()
    recorded = space.all_genomes()[::2]
    table = recorded_table(tmp_path / "rec.csv", recorded)
    res = run_search({"workloads": ["resnet18", "alexnet"],
                      "space": {"name": "rram", "values": SMALL},
                      "objective": {"optima": None},
                      "algorithm": {"name": "ga", "phases": [{"pop_size": 10, "n_gen": 3}]},
                      "backend": {"name": "replay", "table": str(table)}})
    df = res.designs()
    rec = set(space.keys(recorded))
    assert df["feasible"].any()
    assert set(df.loc[df["feasible"], "key"]) <= rec
    missing = ~df["key"].isin(rec)
    assert (df.loc[missing, "reason"].str.contains(NOT_RECORDED)).all()
    assert res.best()[0]["key"] in rec


def test_replay_on_the_published_reference_table() -> None:
    path = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
    table = path / "cimloop_results.csv.gz"
    if not table.is_file():
        pytest.skip("reference table not present")
    key = "A_0.6_8_1e-09_512_32_8_64_32_4096"  # the study's best ela_mean RRAM design
    space = get_space("rram_study")
    g = space.genomes_from_keys([key])
    ev = Evaluator(space, load_technology("rram"), [get("resnet18"), get("vgg16")],
                   backend=ReplayBackend(str(table)))
    e = ev.evaluate(g)
    ref = pd.read_csv(table)
    row = ref[(ref.design_key == key) & (ref.workload == "vgg16")].iloc[0]
    assert e.energy_j[0, 1] == row["energy_j"] and e.latency_s[0, 1] == row["latency_s"]


def test_backend_config_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"replay.*table"):
        load_config({"backend": {"name": "replay"}})
    with pytest.raises(ValueError, match=r"backend\.name"):
        load_config({"backend": {"name": "spice"}})
    with pytest.raises(ValueError, match=r"backend\.table: file"):
        ReplayBackend("/nonexistent.csv")


# ---- subprocess ------------------------------------------------------------------------
def _sim(*args: str, timeout_s: float = 20.0, per: str = "workload") -> SubprocessBackend:
    return SubprocessBackend((sys.executable, str(SIM), *args), timeout_s, per)


def test_subprocess_backend_runs_the_simulator_and_records_failures() -> None:
    space, tech, wl = _space(), load_technology("rram"), get("resnet18")
    g = space.encode({"voltage_v": [0.5, 0.7, 0.7, 0.5], "bits_per_cell": [2, 2, 4, 2],
                      "clock_period_s": 1e-9, "rows_per_array": [128, 256, 128, 128],
                      "cols_per_array": [128, 128, 128, 64], "router_groups": 8,
                      "tiles_per_group": 16, "arrays_per_tile": 32, "glb_depth_words": 2048,
                      **{k: v[0] for k, v in PHYSICAL_CIRCUIT.items()}})
    d = space.decode(g)
    m = _sim("--fail-rows", "256", "--hang-cols", "64", "--garbage-bits", "4",
             timeout_s=1.5).evaluate(d, wl, tech)
    assert m.feasible.tolist() == [True, False, False, False]
    assert "failed (exit 3): tiny_simulator: mapping failed" in m.reason[1]
    assert "not the expected JSON" in m.reason[2]
    assert "timed out after 1.5 s" in m.reason[3]
    from imcopt.failures import failed_mask

    assert failed_mask(m.reason).tolist() == [False, True, True, True]  # counted as failures
    assert np.all(np.isinf(m.energy_j[1:]))
    sys.path.insert(0, str(SIM.parent))
    try:
        from tiny_simulator import metrics
    finally:
        sys.path.pop(0)
    layers = [{**x.__dict__} for x in wl.layers]
    want = metrics({"design": d.row(0), "layers": layers})
    assert m.energy_j[0] == pytest.approx(want["energy_j"], rel=1e-12)
    per_layer = _sim(per="layer").evaluate(d.take(slice(0, 1)), wl, tech)
    assert per_layer.energy_j[0] == pytest.approx(want["energy_j"], rel=1e-9)
    assert per_layer.latency_s[0] == pytest.approx(want["latency_s"], rel=1e-9)


def test_subprocess_backend_in_a_search_config(tmp_path: Path) -> None:
    cfg = {"workloads": ["alexnet"], "space": {"name": "rram", "values": SMALL},
           "objective": {"optima": None},
           "algorithm": {"name": "random", "n_evals": 6},
           "backend": {"name": "subprocess", "command": [sys.executable, str(SIM)],
                       "timeout_s": 20}}
    res = run_search(cfg, cache_file=tmp_path / "c.sqlite")
    assert res.evaluator.n_evals == len(res.designs()) > 0
    assert res.designs()["feasible"].all()


# ---- the persistent cache --------------------------------------------------------------
def test_cache_round_trip_and_keys(tmp_path: Path) -> None:
    space, tech, wls = _space(), load_technology("rram"), [get("resnet18"), get("alexnet")]
    g = space.sample(40, 5)
    plain = Evaluator(space, tech, wls).evaluate(g)
    first = Evaluator(space, tech, wls, cache_file=tmp_path / "c.sqlite")
    _same(plain, first.evaluate(g))
    assert first.cache_file.misses == 2 * len(np.unique(g, axis=0))
    first.flush()  # the cache writes in batches
    again = Evaluator(space, tech, wls, cache_file=tmp_path / "c.sqlite")
    _same(plain, again.evaluate(g))
    assert again.cache_file.misses == 0 and again.cache_file.hits > 0
    other = load_technology("rram").with_constants(
        **{next(iter(tech.constants)): tech.c[next(iter(tech.constants))] * 3})
    changed = Evaluator(space, other, wls, cache_file=tmp_path / "c.sqlite")
    changed.evaluate(g)
    assert changed.cache_file.hits == 0  # a new model version never reuses old results
    keys = design_keys(space.decode(g[:2]))
    assert keys[0].startswith("A_") and "|adc_bits=" in keys[0]


def test_cache_stores_failures_and_infinities(tmp_path: Path) -> None:
    c = EvaluationCache(tmp_path / "c.sqlite")
    ctx = c.context("b", "v", "rram", "w#1")
    m = WorkloadMetrics.failed("w", ["boom", "not recorded"])
    m.energy_j[0] = np.nan
    c.put(ctx, ["k1", "k2"], m)
    found, got = c.get(ctx, ["k2", "k3", "k1"], "w")
    assert found.tolist() == [True, False, True]
    assert got.reason.tolist() == ["not recorded", "boom"]
    assert np.isinf(got.latency_s).all() and np.isnan(got.energy_j[1])


def _writer(path: str, start: int, n: int) -> None:
    c = EvaluationCache(path)
    ctx = c.context("b", "v", "rram", "w")
    for i in range(start, start + n, 10):
        keys = [f"k{j}" for j in range(i, i + 10)]
        m = WorkloadMetrics("w", *(np.arange(i, i + 10, dtype=float) for _ in range(3)),
                            np.ones(10, bool), np.zeros(10), np.array([""] * 10, object))
        c.put(ctx, keys, m)


def test_cache_concurrent_writers(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, s, 400)) for s in (0, 200, 400)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    c = EvaluationCache(path)
    found, got = c.get(c.context("b", "v", "rram", "w"), [f"k{j}" for j in range(800)])
    assert found.all() and np.array_equal(got.energy_j, np.arange(800.0))


KILLED = """
import sys, numpy as np
sys.path.insert(0, {src!r})
from imcopt.backends import WorkloadMetrics
from imcopt.cache import EvaluationCache
c = EvaluationCache({path!r}); ctx = c.context("b", "v", "rram", "w")
i = 0
while True:
    keys = [f"k{{j}}" for j in range(i, i + 50)]
    v = np.arange(i, i + 50, dtype=float)
    c.put(ctx, keys, WorkloadMetrics("w", v, v, v, np.ones(50, bool), v,
                                     np.array([""] * 50, object)))
    print(i, flush=True)
    i += 50
"""


def test_cache_survives_kill_9_with_whole_batches(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite")
    src = str(Path(__file__).resolve().parents[1] / "src")
    proc = subprocess.Popen([sys.executable, "-c", KILLED.format(src=src, path=path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for _ in range(20):  # let it commit a few batches, then kill it mid-write
        proc.stdout.readline()
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    c = EvaluationCache(path)
    n = len(c)
    assert n >= 1000 and n % 50 == 0  # only whole transactions
    found, got = c.get(c.context("b", "v", "rram", "w"), [f"k{j}" for j in range(n)])
    assert found.all() and np.array_equal(got.energy_j, np.arange(float(n)))
    c.put(c.context("b", "v", "rram", "w"), ["new"], WorkloadMetrics.failed("w", ["x"]))
    assert len(c) == n + 1  # still writable


def test_backend_config_defaults() -> None:
    assert isinstance(make_backend(None), AnalyticalBackend)
    assert isinstance(make_backend(BackendConfig(name="subprocess", command=["x"])),
                      SubprocessBackend)


# ---- CLI -------------------------------------------------------------------------------
def test_cli_search_backend_cache_and_executor_options(tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from imcopt.cli import app

    space = _space()
    table = recorded_table(tmp_path / "rec.csv", space.all_genomes()[::2])
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({
        "workloads": ["resnet18", "alexnet"], "space": {"name": "rram", "values": SMALL},
        "objective": {"optima": None}, "algorithm": {"name": "random", "n_evals": 20}}))
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["search", str(cfg), "--out", str(out), "--quiet",
                                 "--backend", f"replay:{table}", "--save-all"])
    assert r.exit_code == 0, r.output
    designs = pd.read_parquet(out / "designs.parquet")
    assert designs["reason"].fillna("").str.contains(NOT_RECORDED).any()
    assert len(EvaluationCache(out / "evaluations.sqlite")) == 2 * len(designs)
    r = CliRunner().invoke(app, ["search", str(cfg), "--out", str(tmp_path / "n"), "--quiet",
                                 "--no-cache"])
    assert r.exit_code == 0 and not (tmp_path / "n" / "evaluations.sqlite").exists()
    for args, msg in ((["--scheduler", "tcp://127.0.0.1:1", "--processes", "2"],
                       "error: --scheduler and --processes"),
                      (["--backend", "spice"], "error: --backend: 'spice' is not one of"),
                      (["--backend", "replay:/nonexistent.csv"], "error: backend.table")):
        r = CliRunner().invoke(app, ["search", str(cfg), "--out", str(tmp_path / "x"),
                                     "--quiet", *args])
        assert r.exit_code == 2 and r.output.startswith(msg), r.output


def test_cli_study_on_a_process_pool(tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from imcopt.cli import app

    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump({
        "technologies": ["rram"],
        "workload_sets": {"two": ["resnet18", "alexnet"], "one": ["alexnet"]},
        "methods": ["exhaustive"], "space_values": {"rram": SMALL}}))
    r = CliRunner().invoke(app, ["study", "run", str(cfg), "--out", str(tmp_path / "s"),
                                 "--quiet", "--max-cells", "1"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["study", "resume", str(tmp_path / "s"), "--quiet",
                                 "--processes", "1"])  # another executor, same study
    assert r.exit_code == 0, r.output
    assert "2/2 done" in r.output


def test_exhaustive_on_replay_finds_the_best_recorded_design(tmp_path: Path) -> None:
    space = _space()
    recorded = space.all_genomes()[1::3]
    table = recorded_table(tmp_path / "rec.csv", recorded)
    res = run_search({"workloads": ["resnet18", "alexnet"],
                      "space": {"name": "rram", "values": SMALL},
                      "objective": {"optima": None, "area_limit_mm2": 400},
                      "algorithm": {"name": "exhaustive"},
                      "backend": {"name": "replay", "table": str(table)}})
    ref = pd.read_csv(table)
    ref["area_mm2"] = ref["area_cm2"] * 100
    per = ref.groupby("design_key").agg(e=("energy_j", "max"), l=("latency_s", "max"),
                                        a=("area_mm2", "first"))
    per = per[per.a <= 400]
    assert res.best()[0]["key"] == (per.e * per.l * per.a).idxmin()


def test_study_on_replay_reports_only_recorded_designs(tmp_path: Path) -> None:
    import json

    from imcopt.study import Study

    space = _space()
    recorded = space.all_genomes()[::2]
    table = recorded_table(tmp_path / "rec.csv", recorded)
    study = Study({"technologies": ["rram"], "workload_sets": {"two": ["resnet18", "alexnet"]},
                   "methods": ["exhaustive", "ga"], "space_values": {"rram": SMALL},
                   "budget": {"ga": {"pop_size": 8, "n_gen": 3}},
                   "backend": {"name": "replay", "table": str(table)}}, tmp_path / "s").run()
    rec = set(space.keys(recorded))
    for cell in study.cells:
        best = json.loads((tmp_path / "s" / "runs" / cell.id / "best.json").read_text())
        assert best["best"] and {b["key"] for b in best["best"]} <= rec

