"""Studies: config validation, cells, resume after an interruption equals one go."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from design_helpers import PHYSICAL_CIRCUIT
from imcopt.cli import app
from imcopt.hardware import get_space, load_technology
from imcopt.objectives import Evaluator
from imcopt.study import Study, StudyError, expand, load_study
from imcopt.study.shared import SharedEvaluator, scan
from imcopt.workloads import get

PHASE = {"crossover_prob": 1.0, "crossover_eta": 3, "mutation_prob": 1.0, "mutation_eta": 3}
TINY = {
    "name": "tiny",
    "technologies": ["rram"],
    "workload_sets": {"two": ["resnet18", "alexnet"]},
    "methods": ["separate", "largest", "sequential", "ga", "ga_sampling", "four_phase",
                "exhaustive", "nsga2"],
    "aggregations": ["max", "mean", "worst_regret"],
    "seeds": [1, 2],
    "space_values": {"rram": {"voltage_v": [0.5, 0.7], "bits_per_cell": [2, 4],
                              "clock_period_s": [1e-9, 4e-9], "rows_per_array": [128, 256],
                              "cols_per_array": [128, 256], "glb_depth_words": [2048, 8192],
                              **PHYSICAL_CIRCUIT}},
    "budget": {"four_phase": [{"pop_size": 8, "n_gen": 2, **PHASE},
                              {"pop_size": 8, "n_gen": 2, **PHASE}],
               "sampling": {"n_candidates": 30, "n_select": 15},
               "ga": {"pop_size": 8, "n_gen": 3}, "ga_sampling": {"pop_size": 8, "n_gen": 2}},
    "top_k": 3,
}


def _outputs(root: Path) -> dict[str, object]:
    """Everything a study stores that must not depend on interruptions (no wall times)."""
    doc = json.loads((root / "study.json").read_text())
    out: dict[str, object] = {
        "completed": {k: {m: v for m, v in s.items() if m != "wall_s"}
                      for k, s in doc["completed"].items()}}
    for run in sorted((root / "runs").iterdir()):
        for f in ("kept_designs.csv.gz", "convergence.csv", "best.json"):
            out[f"{run.name}/{f}"] = (run / f).read_bytes()
        r = json.loads((run / "run.json").read_text())
        out[f"{run.name}/run.json"] = (r["config"], r["n_calls"], r["n_evals"])
    return out


@pytest.fixture(scope="module")
def one_go(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("one_go")
    Study(TINY, root).run()
    return root


def test_cells() -> None:
    cells = expand(load_study(TINY))
    # exhaustive: one per aggregation, no seeds; nsga2 (the front): one per seed, ranked by max
    assert len(cells) == 6 * 3 * 2 + 3 + 2
    assert {c.aggregation for c in cells if c.method == "nsga2"} == {"max"}
    assert len({c.id for c in cells}) == len(cells)
    assert "rram-two-exhaustive-max-exact" in {c.id for c in cells}


def test_one_go_stores_every_cell(one_go: Path) -> None:
    doc = json.loads((one_go / "study.json").read_text())
    assert len(doc["completed"]) == len(doc["cells"]) == 41
    for c in doc["cells"]:
        assert (one_go / "runs" / c["id"] / "best.json").exists()
    ex = doc["completed"]["rram-two-exhaustive-max-exact"]["best_fitness"]
    for cid, s in doc["completed"].items():  # nothing beats the exhaustive optimum
        if "-max-" in cid and s["best_fitness"] is not None:
            assert s["best_fitness"] >= ex * (1 - 1e-12)


def test_interrupted_then_resumed_equals_one_go(one_go: Path, tmp_path: Path) -> None:
    class StopError(Exception):
        pass

    done_then = []

    def stop_after_four(e: dict) -> None:
        # cells run in lockstep end in batches: stop inside the first step after 4 have ended
        if e["event"] == "progress" and e["done"] >= 4:
            done_then.append(e["done"])
            raise StopError  # killed in the middle of the remaining cells

    with pytest.raises(StopError):
        Study(TINY, tmp_path).run(on_event=stop_after_four)
    stopped = done_then[0]
    assert 4 <= stopped < 41 - 7
    assert len(json.loads((tmp_path / "study.json").read_text())["completed"]) == stopped
    Study.open(tmp_path).run(max_cells=7)  # a second interruption, by cell count
    study = Study.open(tmp_path)
    assert len(study.completed) == stopped + 7 and len(study.cells) == 41
    study.run()
    assert not study.pending
    assert _outputs(tmp_path) == _outputs(one_go)


def test_cli_run_resume_and_errors(tmp_path: Path) -> None:
    import yaml

    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump({**TINY, "methods": ["four_phase", "exhaustive"],
                                   "aggregations": ["max"], "seeds": [3]}))
    runner = CliRunner()
    out = tmp_path / "out"
    r = runner.invoke(app, ["study", "run", str(cfg), "--out", str(out), "--max-cells", "1",
                            "--quiet"])
    assert r.exit_code == 0, r.output
    assert "1 left" in r.output
    r = runner.invoke(app, ["study", "resume", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert len(json.loads((out / "study.json").read_text())["completed"]) == 2
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({**TINY, "seeds": [9]}))
    r = runner.invoke(app, ["study", "run", str(other), "--out", str(out)])
    assert r.exit_code == 2 and "different study" in r.output
    bad = tmp_path / "bad.yaml"
    for data, field in (({**TINY, "methods": ["nope"]}, "methods.0"),
                        ({**TINY, "workload_sets": {"x": ["nonet"]}}, "workload_sets.x"),
                        ({**TINY, "technologies": ["dram"]}, "technologies"),
                        ({**TINY, "space_values": {"rram": {"foo": [1]}}},
                         "space_values.rram.foo"),
                        ({**TINY, "seed": 1}, "seed")):
        bad.write_text(yaml.safe_dump(data))
        r = runner.invoke(app, ["study", "run", str(bad), "--out", str(tmp_path / "b")])
        assert r.exit_code == 2, (field, r.output)
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: bad.yaml: {field}"), r.output
    r = runner.invoke(app, ["study", "resume", str(tmp_path / "nothing")])
    assert r.exit_code == 2


def test_shared_evaluator_matches_plain() -> None:
    space = get_space("rram").restrict(**TINY["space_values"]["rram"])
    tech, wls = load_technology("rram"), [get("resnet18"), get("alexnet")]
    g = space.sample(40, np.random.default_rng(0))
    plain = Evaluator(space, tech, wls)
    store = Evaluator(space, tech, wls)
    a = SharedEvaluator(space, tech, wls, store=store)
    b = SharedEvaluator(space, tech, wls, store=store)
    ea, e_plain = a.evaluate(g[:30]), plain.evaluate(g[:30])
    eb = b.evaluate(g[10:])  # 20 of these are in the store already
    assert np.array_equal(ea.energy_j, e_plain.energy_j)
    assert np.array_equal(eb.edap[:20], ea.edap[10:])
    assert a.n_evals == len(np.unique(g[:30], axis=0))
    assert b.n_evals == len(np.unique(g[10:], axis=0))  # per cell, as if run alone
    assert store.n_evals == len(np.unique(g, axis=0))
    assert len(b.evaluated()) == len(np.unique(g[10:], axis=0))  # sees only its own


def test_scan_finds_the_optimum_of_each_aggregation() -> None:
    space = get_space("rram").restrict(**TINY["space_values"]["rram"])
    ev = Evaluator(space, load_technology("rram"), [get("resnet18"), get("alexnet")])
    s = scan(ev, ["max", "mean"], keep=5, chunk=1000)
    assert s.n_designs == int(np.prod(space.cardinalities))
    from imcopt.hardware.space import mixed_radix
    from imcopt.objectives import Objective
    full = ev.evaluate(mixed_radix(space.cardinalities, 0, s.n_designs))
    for agg in ("max", "mean"):
        assert s.best_fitness[agg][0] == Objective(agg).fitness(full).min()
    edap = np.where(full.area_ok[:, None] & full.capacity_ok, full.edap, np.inf)
    assert np.array_equal(s.optima, edap[full.feasible].min(axis=0))


def test_errors_in_python() -> None:
    with pytest.raises(StudyError, match=r"aggregations\.0"):
        load_study({**TINY, "aggregations": ["worst"]})
    with pytest.raises(StudyError, match="not a study folder"):
        Study.open("/nonexistent/study")


def test_pruned_scan_keeps_the_exact_best() -> None:
    # the circuit knobs at one or two values each: 12,096 designs, not 5.4 M
    space = get_space("sram").restrict(voltage_v=[0.7], clock_period_s=[1e-9, 4e-9],
                                       glb_depth_words=[2048], router_groups=[2, 8],
                                       parallel_rows=[16, 64], adc_bits=[7], cols_per_adc=[8],
                                       dac_bits=[1], adc_type=[1])
    ev = Evaluator(space, load_technology("sram"),
                   [get(w) for w in ("resnet18", "vgg16", "alexnet", "mobilenet_v3")])
    aggs = ["max", "mean", "geomean", "worst_regret"]
    full = scan(ev, aggs, keep=10, chunk=300, prune=False, optima=(1e-5, 1e-3, 1e-6, 1e-7))
    # the layer bound: every aggregation and each workload's own optimum, exact
    pruned = scan(ev, aggs, keep=10, chunk=300, prune=True, optima=(1e-5, 1e-3, 1e-6, 1e-7))
    for agg in aggs:
        assert np.isfinite(full.best_fitness[agg]).all()
        assert np.array_equal(full.best[agg], pruned.best[agg])
        assert np.array_equal(full.best_fitness[agg], pruned.best_fitness[agg])
    assert pruned.exact == full.exact == (0, 1, 2, 3)
    np.testing.assert_array_equal(pruned.optima, full.optima)
    np.testing.assert_array_equal(pruned.optimum_genomes, full.optimum_genomes)
    # the workload bound (geomean has none: the layer bound or a full scan serve it)
    sub = scan(ev, ["max", "mean"], keep=10, chunk=300, prune=None)
    assert sub.n_evaluated < full.n_evaluated
    for agg in ("max", "mean"):
        assert np.array_equal(full.best[agg], sub.best[agg])


def test_sigkill_midway_then_resume_equals_one_go(one_go: Path, tmp_path: Path) -> None:
    """A real process killed with SIGKILL between (or inside) cells loses nothing."""
    import signal
    import subprocess
    import sys
    import time

    import yaml

    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(TINY))
    root = tmp_path / "killed"
    cli = [sys.executable, "-c", "from imcopt.cli import app; app()"]
    proc = subprocess.Popen([*cli, "study", "run", str(cfg), "--out", str(root), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = root / "study.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            done = len(json.loads(state.read_text())["completed"])
        except (OSError, ValueError, KeyError):
            done = 0
        if done >= 3:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the study ended before it could be killed"
    resumed = subprocess.run([*cli, "study", "resume", str(root), "--quiet"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert _outputs(root) == _outputs(one_go)


def test_separate_cells_replay_one_search_per_seed(one_go: Path) -> None:
    """A separate cell's outputs are those of running the separate strategy itself with the
    cell's aggregation: one search per seed serves every aggregation."""
    from imcopt.search import Trace
    from imcopt.search.runner import algorithm_spec
    from imcopt.search.strategies import separate
    from imcopt.study.config import Cell, search_config

    cfg = load_study(TINY)
    ref = json.loads((one_go / "study.json").read_text())["references"]["rram-two"]
    opt = tuple(ref["workloads"][w]["edap_j_s_mm2"] for w in ("resnet18", "alexnet"))
    for agg in ("mean", "worst_regret"):
        cell = Cell("rram", "two", ("resnet18", "alexnet"), "separate", agg, 2)
        sc = search_config(cfg, cell)
        space = get_space("rram").restrict(**TINY["space_values"]["rram"])
        ev = Evaluator(space, load_technology("rram"), [get("resnet18"), get("alexnet")])
        from imcopt.objectives import Objective

        res = separate(ev, Objective(agg, optima=opt), algorithm_spec(sc), 2, Trace(),
                       top_k=sc.top_k)
        stored = json.loads((one_go / "runs" / cell.id / "best.json").read_text())
        recs = stored["best"] or stored["closest_infeasible"]
        assert [r["key"] for r in recs] == space.keys(res.best)[: len(recs)]
        run = json.loads((one_go / "runs" / cell.id / "run.json").read_text())
        assert run["n_calls"] == ev.n_calls and run["n_evals"] == ev.n_evals


def test_reference_is_the_best_of_the_separate_searches(one_go: Path) -> None:
    doc = json.loads((one_go / "study.json").read_text())
    ref = doc["references"]["rram-two"]
    assert ref["source"] == "best-known" and ref["infeasible"] == {}
    for w in ("resnet18", "alexnet"):
        own = [json.loads((one_go / "runs" / f"rram-two-separate-max-s{s}" / "best.json"
                           ).read_text())["per_workload_best"][w]["workloads"][w][
                               "edap_j_s_mm2"] for s in TINY["seeds"]]
        assert ref["workloads"][w]["edap_j_s_mm2"] == pytest.approx(min(own), rel=1e-12)


def test_exact_reference_and_a_set_no_chip_can_serve(tmp_path: Path) -> None:
    """optima: exact enumerates each network's optimum; a set with a network no chip can run
    is proved so before any search, its cells are not searched, and the report says so."""
    from imcopt.report import build_report
    from imcopt.search.optima import exact_optima

    # 2,048 or 4,096 arrays of at most 256 x 256 cells at <= 4 bits per cell: at most 134 M
    # weights, so alexnet's 61 M fit and vgg16's 138 M never do
    space_values = {"rram": {**TINY["space_values"]["rram"], "router_groups": [16],
                             "tiles_per_group": [32], "arrays_per_tile": [4, 8]}}
    cfg = {**TINY, "workload_sets": {"two": ["resnet18", "alexnet"],
                                     "big": ["vgg16", "alexnet"]},
           "methods": ["separate", "four_phase", "exhaustive"], "aggregations":
           ["max", "worst_regret"], "seeds": [1], "optima": "exact",
           "space_values": space_values}
    study = Study(cfg, tmp_path).run()
    doc = json.loads((tmp_path / "study.json").read_text())
    space = get_space("rram").restrict(**space_values["rram"])
    ev = Evaluator(space, load_technology("rram"), [get("resnet18"), get("alexnet")])
    opt, _ = exact_optima(ev)
    two = doc["references"]["rram-two"]
    assert two["source"] == "exact"
    assert [two["workloads"][w]["edap_j_s_mm2"] for w in ("resnet18", "alexnet")] == list(opt)
    big = doc["references"]["rram-big"]
    assert set(big["infeasible"]) == {"vgg16"}  # 138 M weights: no chip of this space
    for cid, s in doc["completed"].items():
        assert ("not_searched" in s) == cid.startswith("rram-big"), cid
        if cid.startswith("rram-big"):
            assert s["best_fitness"] is None and s["n_calls"] <= 4
    assert len(study.completed) == len(study.cells)
    build_report(tmp_path)
    page = (tmp_path / "report" / "index.html").read_text()
    assert "No chip can serve this set" in page and "vgg16" in page
    import pandas as pd

    head = pd.read_csv(tmp_path / "report" / "headline.csv")
    big_rows = head[head.workload_set == "big"]
    assert len(big_rows) and big_rows.note.str.contains("vgg16").all()
    assert (head[head.workload_set == "two"].optima_source == "exact").all()


TWO_GROUPS = {**TINY, "name": "two_groups",
              "workload_sets": {"two": ["resnet18", "alexnet"],
                                "pair": ["alexnet", "mobilenet_v3"]},
              "methods": ["separate", "ga", "four_phase", "exhaustive"],
              "aggregations": ["max", "worst_regret"], "seeds": [1]}


def test_groups_in_processes_give_what_one_process_gives(tmp_path: Path) -> None:
    Study(TWO_GROUPS, tmp_path / "one").run()
    events: list[dict] = []
    study = Study(TWO_GROUPS, tmp_path / "two", jobs=2)
    study.run(on_event=events.append)
    assert study.group_processes(2) == 2  # it ran its two groups in two processes
    assert _outputs(tmp_path / "two") == _outputs(tmp_path / "one")
    one = json.loads((tmp_path / "one" / "study.json").read_text())
    two = json.loads((tmp_path / "two" / "study.json").read_text())
    assert two["references"] == one["references"] and len(two["references"]) == 2
    done = [e["done"] for e in events if e["event"] == "done"]
    assert done == sorted(done) and done[-1] == len(study.cells) == len(two["completed"])
    assert {e["cell"] for e in events if e["event"] == "start"} == {c.id for c in study.cells}
    assert any(e["event"] == "progress" for e in events)


def test_jobs_is_checked_and_falls_back_to_one_process(tmp_path: Path) -> None:
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(StudyError, match="jobs: expected an integer >= 1"):
            Study(TWO_GROUPS, tmp_path / "x", jobs=bad)
    study = Study(TWO_GROUPS, tmp_path / "x", jobs=4)
    from imcopt.executors import InProcess

    study._executor = InProcess()
    assert study.group_processes(2) == 2  # at most one per group
    assert study.group_processes(1) == 1
    cached = Study({**TWO_GROUPS, "cache": True}, tmp_path / "y", jobs=4)
    cached._executor = InProcess()
    assert cached.group_processes(2) == 1  # one writer for the cache file


def test_sigkill_of_a_parallel_study_leaves_no_worker_then_resume_equals_one_go(
        tmp_path: Path) -> None:
    """Killing the study process kills its group processes too (nothing keeps writing into
    the folder), and a resume finishes it as one go would have."""
    import signal
    import subprocess
    import sys
    import time

    import yaml

    # searches long enough that the groups are still running when the study is killed
    slow = {**TWO_GROUPS, "methods": ["separate", "ga", "exhaustive"],
            "budget": {**TWO_GROUPS["budget"], "ga": {"pop_size": 16, "n_gen": 60}}}
    Study(slow, tmp_path / "one").run()
    cfg = tmp_path / "two.yaml"
    cfg.write_text(yaml.safe_dump(slow))
    root = tmp_path / "killed"
    cli = [sys.executable, "-c", "from imcopt.cli import app; app()"]
    proc = subprocess.Popen([*cli, "study", "run", str(cfg), "--out", str(root), "--quiet",
                             "--jobs", "2"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    def state(pid: int) -> tuple[int, str] | None:
        """(parent pid, state letter) of a live process, from /proc; None once it is gone."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return int(fields[1]), fields[0]

    workers: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        runs = root / "runs"
        if runs.exists() and sum(1 for _ in runs.iterdir()) >= 2:
            workers = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                       and (state(int(p.name)) or (0, ""))[0] == proc.pid]
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the study ended before it could be killed"
    # the group processes (and the queue's resource tracker) die with it
    assert len(workers) >= 2
    time.sleep(0.5)
    alive = [pid for pid in workers if (state(pid) or (0, "Z"))[1] not in "ZX"]
    assert not alive, f"processes of the killed study still run: {alive}"
    resumed = subprocess.run([*cli, "study", "resume", str(root), "--quiet", "--jobs", "2"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert _outputs(root) == _outputs(tmp_path / "one")
