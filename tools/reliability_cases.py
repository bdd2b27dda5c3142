"""Hostile inputs for every `imcopt` command and the Python API, by kind, and the check that
each ends as it should. Used by tools/reliability_report.py (all of them, counted in
docs/reliability.md) and the tests (tests/test_reliability.py, tests/test_hostile.py).

Three shapes:
- `Case`: a bad command line. Clean = exit code 2 and exactly one line on stderr,
  `error: ...`, at most 300 characters, containing every expected fragment (the file, line,
  field or option concerned, an allowed value, a "did you mean"), and no traceback anywhere.
- `ApiCase`: a bad argument to a public Python function. Clean = it raises a ValueError
  (and, for a wrong type, also a TypeError) whose message is one line of at most 300
  characters containing every expected fragment; any other exception is not clean.
- `Trial`: hostile but valid input whose right outcome is not an error: a design the model
  fails on reported infeasible and never ranked, a damaged cache set aside and rebuilt, a
  finished search left alone, a report built from unusual but valid results, ... `run`
  returns None when the outcome is right, else what went wrong.

Nothing runs when the lists are built (`inventory` counts them cheaply); what cases need (a
finished study, a search folder, a checkpoint journal) is made on first use by `Fixtures`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ERROR_LINE_CHARS = 300
SMALL_SEARCH = {
    "technology": "rram", "workloads": ["resnet18", "alexnet"],
    "space": {"name": "rram", "values": {"voltage_v": [0.5, 0.7], "bits_per_cell": [1, 2, 4],
                                         "rows_per_array": [128, 256],
                                         "cols_per_array": [128, 256]}},
    "objective": {"aggregation": "max", "optima": None},
    "algorithm": {"name": "ga", "phases": [{"pop_size": 8, "n_gen": 3}]},
    "seed": 1,
}
TINY_STUDY = {
    "name": "tiny", "technologies": ["rram"], "workload_sets": {"two": ["resnet18", "alexnet"]},
    "methods": ["ga", "largest"], "aggregations": ["max"], "seeds": [1],
    "space_values": {"rram": SMALL_SEARCH["space"]["values"]},
    "budget": {"four_phase": [{"pop_size": 8, "n_gen": 2}], "ga": {"pop_size": 8, "n_gen": 3},
               "sampling": {"n_candidates": 20, "n_select": 10}},
    "top_k": 3,
}
#: a space of 128 designs (each parameter one or two values): exhaustive cells are instant
TINY_SPACE = {"voltage_v": [0.5, 0.7], "bits_per_cell": [1, 2], "rows_per_array": [128, 256],
              "cols_per_array": [128, 256], "clock_period_s": [1e-9],
              "router_groups": [8, 16], "tiles_per_group": [16, 32],
              "arrays_per_tile": [32, 64], "glb_depth_words": [16384]}
#: chips up to ~25,000 mm2 under a 5,000 mm2 limit: some are too large to make (no good die
#: per wafer, an infinite die cost) yet within the limit
HUGE_CHIPS = {"voltage_v": [0.7], "bits_per_cell": [2, 4], "rows_per_array": [256, 512],
              "cols_per_array": [256, 512], "clock_period_s": [1e-9], "router_groups": [8, 16],
              "tiles_per_group": [16, 32], "arrays_per_tile": [32, 64],
              "glb_depth_words": [16384]}
GOOD_CSV = ("network,layer_index,layer_name,layer_kind,N,G,C,M,R,S,P,Q,HStride,WStride\n"
            "tiny,0,conv1,conv,1,1,3,16,3,3,8,8,1,1\ntiny,1,fc,linear,1,1,1024,10,1,1,1,1,1,1\n")
DESIGN = "A_0.6_8_1e-09_512_32_8_64_32_4096"
KEPT = "kept_designs.csv.gz"  # a search's design table (designs.parquet only with --save-all)


def _with(doc: dict, changes: dict) -> dict:
    """A deep copy of `doc` with dotted keys (`a__b`) changed (None deletes)."""
    out = json.loads(json.dumps(doc))
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = out
        for p in path:
            node = node.setdefault(p, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return out


def _file(tmp: Path, name: str, content: str | bytes) -> str:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def _yaml(tmp: Path, name: str, doc: object) -> str:
    return _file(tmp, name, yaml.safe_dump(doc))


# ---- what cases need, made on first use ---------------------------------------------------
class Fixtures:
    """Finished runs and damaged copies of them, in `tmp`, made when a case first needs one."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = Path(tmp)
        self.env = {"IMCOPT_WORKLOADS_DIR": str(self.tmp / "user_workloads")}

    @cached_property
    def search_cfg(self) -> str:
        return _yaml(self.tmp, "fixture_search.yaml", SMALL_SEARCH)

    @cached_property
    def search(self) -> Path:
        """A finished `imcopt search` folder of SMALL_SEARCH."""
        out = self.tmp / "fixture_search"
        _invoke(["search", self.search_cfg, "--out", str(out), "--quiet"], self.env, check=True)
        return out

    @cached_property
    def journal(self) -> Path:
        """A search folder holding only a checkpoint journal of SMALL_SEARCH (an interrupted
        search, as a kill leaves it)."""
        from imcopt.search import load_config, run_search
        from imcopt.search.checkpoint import checkpoint_path

        cfg = load_config(self.search_cfg)
        path = checkpoint_path(self.tmp / "fixture_interrupted", cfg)
        run_search(cfg, checkpoint=path)
        return path

    @cached_property
    def study(self) -> Path:
        """A finished study folder of TINY_STUDY."""
        from imcopt.study import Study

        out = self.tmp / "fixture_study"
        Study(TINY_STUDY, out).run()
        return out

    def copy(self, src: Path, name: str) -> Path:
        dst = self.tmp / name
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst)
        return dst

    def cell(self, study: Path) -> Path:
        return sorted((study / "runs").iterdir())[0]


Args = tuple[str, ...] | Callable[[Fixtures], tuple[str, ...]]


@dataclass(frozen=True)
class Case:
    kind: str
    args: Args
    expect: tuple[str, ...] = ()  # fragments the error line must contain (case-insensitive)
    what: str = ""  # the label when `args` is made at run time
    locked: bool = False  # the --out folder (the last argument) is locked by another run

    @property
    def label(self) -> str:
        if self.what:
            return self.what
        assert isinstance(self.args, tuple)
        return "imcopt " + " ".join(a if len(a) < 60 else a[:57] + "..." for a in self.args)


@dataclass(frozen=True)
class ApiCase:
    kind: str
    label: str
    call: Callable[[Fixtures], object]
    expect: tuple[str, ...] = ()
    type_error: bool = False  # the exception must also be a TypeError


@dataclass(frozen=True)
class Trial:
    kind: str
    label: str
    run: Callable[[Fixtures], str | None]  # None: the outcome is right; else what is wrong


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None
    extra: dict = field(default_factory=dict)


def _invoke(args: list[str], env: dict | None = None, check: bool = False) -> Result:
    """Run `imcopt ARGS` in this process (stdout, stderr apart)."""
    from typer.testing import CliRunner

    from imcopt.cli import app

    r = CliRunner().invoke(app, args, env=env)
    out = Result(r.exit_code, r.stdout, r.stderr, r.exception)
    if check and r.exit_code != 0:
        raise RuntimeError(f"imcopt {' '.join(args)} failed ({r.exit_code}): "
                           f"{(r.stderr or r.stdout)[-500:]} {r.exception!r}")
    return out


def error_line_problem(r: Result, expect: tuple[str, ...]) -> str | None:
    """Why `r` is not a clean exit 2 with one `error:` line holding `expect`; None if it is."""
    lines = r.stderr.strip().splitlines()
    text = (r.stdout + r.stderr).lower()
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        return f"{type(r.exception).__name__}: {r.exception}"
    if "traceback" in text:
        return "a traceback"
    if r.exit_code != 2:
        return f"exit code {r.exit_code}"
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return f"{len(lines)} lines on stderr"
    if len(lines[0]) > ERROR_LINE_CHARS:
        return f"an error line of {len(lines[0])} characters"
    missing = [f for f in expect if f.lower() not in lines[0].lower()]
    return f"does not say {missing}" if missing else None


def run_case(case: Case, fix: Fixtures | None = None) -> tuple[bool, str]:
    """(clean?, what was printed) for one case, run in-process."""
    fix = fix or Fixtures(Path.cwd())
    args = case.args(fix) if callable(case.args) else case.args
    with _held_lock(Path(args[-1]) if case.locked else None):
        r = _invoke(list(args), fix.env)
    problem = error_line_problem(r, case.expect)
    printed = (r.stderr.strip() or r.stdout.strip())[:300]
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        printed = f"{type(r.exception).__name__}: {r.exception}"[:300]
    return problem is None, printed if problem is None else f"{problem}: {printed}"


@contextlib.contextmanager
def _held_lock(folder: Path | None) -> Iterator[None]:
    if folder is None:
        yield
        return
    from imcopt.outdir import locked

    with locked(folder):
        yield


def run_api_case(case: ApiCase, fix: Fixtures | None = None) -> tuple[bool, str]:
    fix = fix or Fixtures(Path.cwd())
    try:
        case.call(fix)
    except ValueError as exc:
        message = str(exc)
        if case.type_error and not isinstance(exc, TypeError):
            return False, f"{type(exc).__name__} is not a TypeError: {message[:200]}"
        if "\n" in message.strip() or len(message) > ERROR_LINE_CHARS:
            return False, f"a message of {len(message)} chars / several lines"
        missing = [f for f in case.expect if f.lower() not in message.lower()]
        if missing:
            return False, f"does not say {missing}: {message[:200]}"
        return True, f"{type(exc).__name__}: {message}"
    except Exception as exc:  # any other exception is what the case looks for
        return False, f"{type(exc).__name__}: {str(exc)[:200]}"
    return False, "no exception"


def run_trial(trial: Trial, fix: Fixtures | None = None) -> tuple[bool, str]:
    fix = fix or Fixtures(Path.cwd())
    try:
        problem = trial.run(fix)
    except Exception as exc:
        problem = f"{type(exc).__name__}: {str(exc)[:200]}"
    return problem is None, problem or "right outcome"


# ---- bad command lines ---------------------------------------------------------------------
def cases(tmp: Path) -> list[Case]:
    """Every bad command line; the files they need are written under `tmp`."""
    tmp = Path(tmp)

    def s(n: str, **k: object) -> str:
        return _yaml(tmp, f"search_{n}.yaml", _with(SMALL_SEARCH, k))

    def st(n: str, **k: object) -> str:
        return _yaml(tmp, f"study_{n}.yaml", _with(TINY_STUDY, k))

    def f(n: str, content: str | bytes) -> str:
        return _file(tmp, n, content)

    c: list[Case] = []
    add = c.append
    # ---- unknown names (with did-you-mean where one is close) ------------------------------
    add(Case("unknown name", ("evaluate", "--tech", "rrm"), ("'rrm'", "rram")))
    add(Case("unknown name", ("evaluate", "-w", "resnt18"), ("resnt18", "did you mean",
                                                             "resnet18")))
    add(Case("unknown name", ("evaluate", "-d", "rows_per_aray=128"),
             ("rows_per_aray", "did you mean", "rows_per_array")))
    add(Case("unknown name", ("workloads", "show", "vgg61"), ("vgg61", "vgg16")))
    add(Case("unknown name", ("space", "show", "--tech", "sramm"), ("sramm", "did you mean",
                                                                    "sram")))
    add(Case("unknown name", ("search", s("w", workloads=["resnet18", "alexnte"])),
             ("workloads", "alexnte", "did you mean", "alexnet")))
    add(Case("unknown name", ("search", s("t", technology="rarm")), ("technology", "'rarm'",
                                                                     "rram")))
    add(Case("unknown name", ("search", s("sp", space__name="rarm")), ("space.name", "rram")))
    add(Case("unknown name", ("search", s("p", space__values={"rows_per_aray": [128]})),
             ("space.values", "rows_per_aray", "did you mean", "rows_per_array")))
    add(Case("unknown name", ("search", s("agg", objective__aggregation="maxx")),
             ("objective.aggregation", "'max'", "'mean'")))
    add(Case("unknown name", ("search", s("alg", algorithm__name="nsga")),
             ("algorithm.name", "nsga2")))
    add(Case("unknown name", ("search", s("strat", strategy="jiont")), ("strategy", "'joint'")))
    add(Case("unknown name", ("search", s("key", sed=3)), ("sed", "unknown setting",
                                                          "did you mean", "seed")))
    add(Case("unknown name", ("search", s("wkey", objective__weights={"vgg": 1.0},
                                          objective__aggregation="weighted")),
             ("objective.weights", "'vgg'")))
    add(Case("unknown name", ("study", "run", st("m", methods=["four_phse"])),
             ("methods", "four_phase")))
    add(Case("unknown name", ("study", "run", st("w", workload_sets={"a": ["alexnt"]})),
             ("workload_sets.a", "alexnt", "alexnet")))
    add(Case("unknown name", ("study", "run", st("t", technologies=["rarm"])),
             ("technologies", "'rarm'", "rram")))
    add(Case("unknown name", ("study", "run", st("sv", space_values={"rram": {"rows": [128]}})),
             ("space_values.rram", "rows", "rows_per_array")))
    add(Case("unknown name", ("study", "run", st("k", seed=[1])), ("seed", "unknown setting",
                                                                   "seeds")))
    add(Case("unknown name", ("nosuch",), ("nosuch",)))
    add(Case("unknown name", ("evaluate", "--bogus"), ("--bogus",)))
    add(Case("unknown name", ("calibrate", "--reference", f("ref.csv", "a,b\n1,2\n"),
                              "--tech", "rarm"), ("'rarm'", "rram")))
    # ---- empty sets --------------------------------------------------------------------------
    add(Case("empty set", ("search", s("e", workloads=[])), ("workloads", "at least 1")))
    add(Case("empty set", ("study", "run", st("e1", workload_sets={})),
             ("workload_sets", "at least 1")))
    add(Case("empty set", ("study", "run", st("e2", workload_sets={"a": []})),
             ("workload_sets.a", "at least")))
    add(Case("empty set", ("study", "run", st("e3", methods=[])), ("methods", "at least 1")))
    add(Case("empty set", ("study", "run", st("e4", seeds=[])), ("seeds", "at least 1")))
    add(Case("empty set", ("search", s("e5", space__values={"rows_per_array": []})),
             ("space.values.rows_per_array", "empty")))
    add(Case("empty set", ("evaluate", "-d", ","), ("--design", "empty")))
    add(Case("empty set", ("evaluate", "-w", f("empty.csv", GOOD_CSV.splitlines()[0] + "\n")),
             ("empty.csv", "no layer")))
    # ---- values outside the space ------------------------------------------------------------
    add(Case("outside the space", ("search", s("o1", space__values={"adc_type": [3]})),
             ("space.values.adc_type", "value 3", "1, 2")))
    add(Case("outside the space", ("search", s("o2", strategy="sequential",
                                               start={"rows_per_array": 100})),
             ("start", "rows_per_array = 100", "allowed")))
    add(Case("outside the space", ("search", s("o3", strategy="sequential",
                                               start={"rowz": 128})),
             ("start", "'rowz'", "rows_per_array")))
    add(Case("outside the space", ("search", s("o4", objective__weights={"resnet18": 1.0},
                                               objective__aggregation="max")),
             ("objective.weights", "'weighted'")))
    add(Case("outside the space", ("evaluate", "--tech", "sram", "-d", "bits_per_cell=99"),
             ("bits_per_cell", "<= 32")))
    add(Case("outside the space", ("calibrate", "--reference", f("ref2.csv", "a,b\n1,2\n"),
                                   "--held-out", "1.5"), ("--held-out 1.5", "[0, 1)")))
    # ---- zero or negative sizes --------------------------------------------------------------
    for i, (key, value, frag) in enumerate([
            ("objective__area_limit_mm2", 0, "objective.area_limit_mm2"),
            ("objective__area_limit_mm2", -800, "objective.area_limit_mm2"),
            ("top_k", 0, "top_k"), ("algorithm__n_evals", -1, "algorithm.n_evals"),
            ("algorithm__chunk", 0, "algorithm.chunk"),
            ("exhaustive_below", -5, "exhaustive_below"),
            ("algorithm__sampling__n_candidates", 0, "algorithm.sampling.n_candidates")]):
        add(Case("zero or negative size", ("search", s(f"z{i}", **{key: value})),
                 (frag, "greater than")))
    add(Case("zero or negative size", ("search", s("z7", algorithm__phases=[
        {"pop_size": 0, "n_gen": 3}])), ("algorithm.phases.0.pop_size", "greater than or "
                                         "equal to 2")))
    add(Case("zero or negative size", ("search", s("z8", algorithm__phases=[
        {"pop_size": 8, "n_gen": 0}])), ("algorithm.phases.0.n_gen", "equal to 1")))
    add(Case("zero or negative size", ("search", s("z9", space__values={
        "rows_per_array": [-128]})), ("space.values.rows_per_array", "-128")))
    add(Case("zero or negative size", ("study", "run", st("z1", area_limit_mm2=0)),
             ("area_limit_mm2", "greater than 0")))
    add(Case("zero or negative size", ("study", "run", st("z2", top_k=-1)),
             ("top_k", "greater than or equal to 1")))
    add(Case("zero or negative size", ("study", "run", st("z3", budget__ga={
        "pop_size": 1, "n_gen": 3})), ("budget.ga.pop_size", "equal to 2")))
    add(Case("zero or negative size", ("study", "run", st("z4"), "--max-cells", "-1"),
             ("--max-cells", "greater than or equal to 1")))
    for value in ("0", "-256"):
        add(Case("zero or negative size", ("evaluate", "-d", f"rows_per_array={value}"),
                 ("rows_per_array", "> 0")))
    bad_c = GOOD_CSV.replace("1,1,3,16,3,3", "1,1,0,16,3,3")
    add(Case("zero or negative size", ("evaluate", "-w", f("zero_c.csv", bad_c)),
             ("zero_c.csv:2", "column 'C' = '0'", "positive integer")))
    bad_m = GOOD_CSV.replace("1024,10", "1024,-10")
    add(Case("zero or negative size", ("workloads", "show", f("neg_m.csv", bad_m)),
             ("neg_m.csv:3", "column 'M' = '-10'", "positive integer")))
    # ---- NaN and infinity --------------------------------------------------------------------
    for i, (key, value, frag) in enumerate([
            ("objective__area_limit_mm2", float("nan"), "objective.area_limit_mm2"),
            ("objective__area_limit_mm2", float("inf"), "objective.area_limit_mm2"),
            ("algorithm__phases", [{"pop_size": 8, "n_gen": 3,
                                    "crossover_prob": float("nan")}],
             "algorithm.phases.0.crossover_prob"),
            ("objective__weights", {"resnet18": float("nan"), "alexnet": 1.0},
             "objective.weights.resnet18"),
            ("objective__optima", {"resnet18": float("inf"), "alexnet": 1.0},
             "objective.optima"),
            ("space__values", {"voltage_v": [float("nan")]}, "space.values.voltage_v.0"),
            ("start", {"voltage_v": float("inf")}, "start.voltage_v")]):
        changes = {key: value}
        if key == "objective__weights":
            changes["objective__aggregation"] = "weighted"
        add(Case("NaN or infinity", ("search", s(f"n{i}", **changes)), (frag, "finite")))
    add(Case("NaN or infinity", ("study", "run", st("n1", area_limit_mm2=float("nan"))),
             ("area_limit_mm2", "finite")))
    for value in ("nan", "inf", "-inf"):
        add(Case("NaN or infinity", ("evaluate", "-d", f"voltage_v={value}"),
                 ("voltage_v", "finite")))
    add(Case("NaN or infinity", ("evaluate", "-w", f("nan.csv", GOOD_CSV.replace(
        "3,16,3,3", "nan,16,3,3"))), ("nan.csv:2", "column 'C' = 'nan'", "positive integer")))
    add(Case("NaN or infinity", ("validate", "--reference", f("ref3.csv", "a\n1\n"),
                                 "--node-nm", "nan"), ("node_nm (--node-nm)", "finite")))
    # ---- wrong types -------------------------------------------------------------------------
    for i, (key, value, frag) in enumerate([
            ("seed", "one", "seed"), ("seed", 1.5, "seed"), ("workloads", "resnet18",
                                                              "workloads"),
            ("top_k", [3], "top_k"), ("algorithm", "ga", "algorithm"),
            ("space__values", {"rows_per_array": "128"}, "space.values.rows_per_array"),
            ("algorithm__feasible_only", "maybe", "algorithm.feasible_only")]):
        add(Case("wrong type", ("search", s(f"t{i}", **{key: value})), (frag, "valid")))
    add(Case("wrong type", ("study", "run", st("t1", seeds="1")), ("seeds", "valid list")))
    add(Case("wrong type", ("study", "run", st("t2", workload_sets=["resnet18"])),
             ("workload_sets", "valid dictionary")))
    add(Case("wrong type", ("study", "run", st("t3"), "--max-cells", "two"),
             ("--max-cells", "valid integer")))
    add(Case("wrong type", ("evaluate", "-d", "voltage_v=high"), ("voltage_v", "'high'",
                                                                 "not a number")))
    add(Case("wrong type", ("evaluate", "-d", "tiles_per_group=3.5"), ("tiles_per_group",
                                                                       "integer")))
    add(Case("wrong type", ("evaluate", "-d", "A_0.6_eight_1e-09_512_32_8_64_32_4096"),
             ("design key", "bits_per_cell = 'eight'")))
    add(Case("wrong type", ("evaluate", "-w", f("strcol.csv", GOOD_CSV.replace(
        "3,16,3,3", "three,16,3,3"))), ("strcol.csv:2", "column 'C' = 'three'", "not a number")))
    add(Case("wrong type", ("search", f("list.yaml", "- a\n- b\n")), ("list.yaml",
                                                                    "mapping of settings")))
    add(Case("wrong type", ("study", "run", f("scalar.yaml", "42\n")), ("scalar.yaml",
                                                                      "mapping of settings")))
    # ---- missing or malformed files ----------------------------------------------------------
    missing = str(tmp / "does_not_exist")
    add(Case("missing file", ("search", missing + ".yaml"), ("does_not_exist.yaml",
                                                             "does not exist")))
    add(Case("missing file", ("study", "run", missing + ".yaml"), ("does_not_exist.yaml",
                                                                   "does not exist")))
    add(Case("missing file", ("study", "resume", missing), ("does_not_exist", "no study.json")))
    add(Case("missing file", ("report", missing), ("does_not_exist", "no study.json")))
    add(Case("missing file", ("evaluate", "-w", missing + ".csv"), ("does_not_exist.csv",
                                                                   "does not exist")))
    add(Case("missing file", ("evaluate", "-w", missing + ".csv:net"), ("does_not_exist.csv",
                                                                       "does not exist")))
    add(Case("missing file", ("evaluate", "--tech", missing + ".yaml"), ("does_not_exist.yaml",
                                                                        "does not exist")))
    add(Case("missing file", ("validate", "--reference", missing + ".csv"),
             ("does_not_exist.csv", "does not exist")))
    add(Case("missing file", ("search", s("mf", workloads=[missing + ".csv"])),
             ("workloads", "does_not_exist.csv", "does not exist")))
    add(Case("malformed file", ("search", f("bad.yaml", "technology: [rram\n")),
             ("bad.yaml", "not valid YAML at line")))
    add(Case("malformed file", ("search", f("bin.yaml", bytes(range(256)))), ("bin.yaml",
                                                                             "not a text")))
    add(Case("malformed file", ("study", "run", f("bad_study.yaml", "name: x\n  : :\n")),
             ("bad_study.yaml", "not valid YAML at line 2")))
    add(Case("malformed file", ("evaluate", "-w", f("nocols.csv", "a,b\n1,2\n")),
             ("nocols.csv", "missing required column", "network")))
    add(Case("malformed file", ("evaluate", "-w", f("binary.csv", b"\xff\xfe\x00net\x00")),
             ("binary.csv", "not a text")))
    add(Case("malformed file", ("evaluate", "--tech", f("tech.yaml", "constants: 5\n")),
             ("tech.yaml", "'constants' must be a table")))
    add(Case("malformed file", ("validate", "--reference", f("ref4.csv", "x,y\n1,2\n")),
             ("ref4.csv", "missing column", "technology")))
    add(Case("malformed file", ("workloads", "show", f("two.csv", GOOD_CSV + GOOD_CSV.split(
        "\n", 1)[1].replace("tiny", "tinier"))), ("two.csv", "2 networks", "tinier")))
    add(Case("missing argument", ("study", "run"), ("missing argument 'config'",)))
    add(Case("missing argument", ("search", "--out"), ("option '--out'", "requires an "
                                                                         "argument")))
    c += _hostile_cases(tmp, s, st, f)
    c += _results_cases()
    return c


def _hostile_cases(tmp: Path, s: Callable, st: Callable, f: Callable) -> list[Case]:
    """The causes of issue #18 (each with several cases)."""
    c: list[Case] = []
    add = c.append
    # 1. a config that says nothing is an error, never the default job
    kind = "config that says nothing"
    add(Case(kind, ("search", f("empty.yaml", "")), ("empty.yaml", "holds no settings")))
    add(Case(kind, ("search", f("comments.yaml", "# nothing here\n\n   # nor here\n")),
             ("comments.yaml", "holds no settings")))
    add(Case(kind, ("search", f("dashes.yaml", "---\n...\n")), ("dashes.yaml",
                                                                 "holds no settings")))
    add(Case(kind, ("search", f("braces.yaml", "{}\n")), ("braces.yaml", "holds no settings")))
    add(Case(kind, ("search", f("null.yaml", "~\n")), ("null.yaml", "holds no settings")))
    add(Case(kind, ("study", "run", f("empty_study.yaml", "\n\n")), ("empty_study.yaml",
                                                                     "holds no settings")))
    add(Case(kind, ("evaluate", "--tech", f("empty_tech.yaml", "# no constants\n")),
             ("empty_tech.yaml", "'constants' table")))
    # 2. silent coercion and duplicates
    kind = "duplicate or coerced value"
    add(Case(kind, ("search", f("dup.yaml", "technology: rram\ntechnology: sram\n")),
             ("dup.yaml", "line 2", "key 'technology' is given twice")))
    add(Case(kind, ("search", f("dup_nested.yaml", "objective:\n  aggregation: max\n  "
                                "aggregation: mean\n")),
             ("dup_nested.yaml", "line 3", "'aggregation' is given twice")))
    add(Case(kind, ("study", "run", f("dup_study.yaml", "name: a\nname: b\nworkload_sets: "
                                      "{x: [alexnet]}\n")),
             ("dup_study.yaml", "line 2", "'name' is given twice")))
    add(Case(kind, ("evaluate", "-d", "rows_per_array=128,rows_per_array=256"),
             ("--design", "rows_per_array is given twice")))
    add(Case(kind, ("evaluate", "-d", ""), ("--design is empty",)))
    add(Case(kind, ("evaluate", "-d", " , "), ("--design is empty",)))
    add(Case(kind, ("search", s("c1", seed="1")), ("seed", "valid integer")))
    add(Case(kind, ("search", s("c2", top_k=3.0)), ("top_k", "valid integer")))
    add(Case(kind, ("search", s("c3", algorithm__feasible_only="yes")),
             ("algorithm.feasible_only", "valid boolean")))
    add(Case(kind, ("search", s("c4", objective__area_limit_mm2="800")),
             ("objective.area_limit_mm2", "valid number")))
    add(Case(kind, ("search", s("c5", cache=1)), ("cache", "valid boolean")))
    # 3. an empty list or mapping never means the default
    kind = "empty list for a default"
    add(Case(kind, ("search", s("l1", algorithm__phases=[])), ("algorithm.phases",
                                                               "empty; leave it out")))
    add(Case(kind, ("search", s("l2", objective__aggregation="weighted",
                                objective__weights={})), ("objective.weights", "empty")))
    add(Case(kind, ("search", s("l3", objective__optima={})), ("objective.optima", "empty")))
    add(Case(kind, ("search", s("l4", strategy="sequential", start={})), ("start", "empty")))
    add(Case(kind, ("search", s("l5", precision={"weight_bits": [8], "networks": []})),
             ("precision.networks", "empty")))
    add(Case(kind, ("study", "run", st("l6", budget__four_phase=[])),
             ("budget.four_phase", "at least 1")))
    # 5. layer sizes past int64, infinite, or absurd
    kind = "layer size out of range"
    for name, value, frag in (("inf_c.csv", "inf", "'inf'"), ("huge_c.csv", "1e30", "'1e30'"),
                              ("minf_c.csv", "-inf", "'-inf'"),
                              ("big_c.csv", "99999999999999999999", "larger than")):
        add(Case(kind, ("workloads", "show", f(name, GOOD_CSV.replace("1,1,3,16,3,3",
                                                                       f"1,1,{value},16,3,3"))),
                 (f"{name}:2", "column 'C'", frag)))
    add(Case(kind, ("evaluate", "-w", f("product.csv", GOOD_CSV.replace(
        "1,1,3,16,3,3,8,8", "1,1,2000000000,2000000000,3,3,8,8"))),
             ("product.csv:2", "macs", "2**53")))
    add(Case(kind, ("workloads", "import", f("tl_big/1.yaml", "problem:\n  instance: {C: "
                                             "10000000000000, M: 8}\n"), "--name", "tlbig"),
             ("1.yaml", "C = 10000000000000", "larger than")))
    add(Case(kind, ("workloads", "import", f("tl_float/1.yaml", "problem:\n  instance: {C: "
                                             "1e30, M: 8}\n"), "--name", "tlfloat"),
             ("1.yaml", "instance 'C' = 1e+30", "positive integer")))
    add(Case(kind, ("evaluate", "-w", f("bits.csv", GOOD_CSV.replace(
        "WStride\n", "WStride,weight_bits_Y\n").replace(",1,1\n", ",1,1,64\n"))),
             ("bits.csv:2", "weight_bits_Y", "larger than 32")))
    # 6. workload names: the whole name is checked (no trailing newline)
    kind = "workload name"
    good = f("named.csv", GOOD_CSV)
    for name in ("nl\n", "", "../up", "a b", "_under", "x" * 101):
        add(Case(kind, ("workloads", "import", good, "--name", name),
                 ("workload name", "letters, digits")))
    add(Case(kind, ("workloads", "import", good, "--name", "alexnet"),
             ("'alexnet' is a built-in network",)))
    # 8. an empty output folder name is an error, not the current directory
    kind = "empty output folder"
    cfg = s("out")
    add(Case(kind, ("search", cfg, "--out", ""), ("--out", "folder name is empty")))
    add(Case(kind, ("search", cfg, "--out", "   "), ("--out", "folder name is empty")))
    add(Case(kind, ("study", "run", st("out"), "--out", ""), ("--out", "folder name is empty")))
    add(Case(kind, ("study", "resume", ""), ("DIR", "folder name is empty")))
    add(Case(kind, ("report", ""), ("DIR", "folder name is empty")))
    add(Case(kind, ("validate", "--reference", f("ref5.csv", "a\n1\n"), "--out", ""),
             ("--out", "folder name is empty")))
    # 12. technology files validated like configs
    kind = "technology file"
    base = yaml.safe_load((ROOT / "src/imcopt/hardware/technologies/rram.yaml").read_text())

    def tech(name: str, edit: Callable[[dict], None]) -> str:
        doc = json.loads(json.dumps(base))
        edit(doc)
        return f(name, yaml.safe_dump(doc, sort_keys=False))

    def const(key: str, value: object) -> Callable[[dict], None]:
        return lambda d: d["constants"][key].__setitem__("value", value)

    add(Case(kind, ("evaluate", "--tech", f("t_empty.yaml", "constants: {}\n")),
             ("t_empty.yaml", "constant nominal_voltage_v", "is missing")))
    add(Case(kind, ("evaluate", "--tech", tech("t_missing.yaml", lambda d: d["constants"].pop(
        "adc_walden_fom_j"))), ("t_missing.yaml", "adc_walden_fom_j is missing")))
    add(Case(kind, ("evaluate", "--tech", tech("t_typo.yaml", lambda d: d["constants"].__setitem__(
        "comparator_energy", d["constants"].pop("comparator_energy_j")))),
             ("t_typo.yaml", "comparator_energy_j", "misspelling")))
    add(Case(kind, ("evaluate", "--tech", tech("t_neg.yaml", const("comparator_energy_j", -1e-12))),
             ("t_neg.yaml", "constants.comparator_energy_j.value", ">= 0")))
    add(Case(kind, ("evaluate", "--tech", tech("t_nan.yaml", const("adc_walden_fom_j",
                                                                   float("nan")))),
             ("t_nan.yaml", "constants.adc_walden_fom_j.value", "finite")))
    add(Case(kind, ("evaluate", "--tech", tech("t_inf_area.yaml", const("tile_area_mm2",
                                                                        float("inf")))),
             ("t_inf_area.yaml", "constants.tile_area_mm2.value")))
    add(Case(kind, ("evaluate", "--tech", tech("t_exp.yaml", const("lp_current_exponent", 1e6))),
             ("t_exp.yaml", "constants.lp_current_exponent.value", "<= 10")))
    add(Case(kind, ("evaluate", "--tech", tech("t_volt.yaml", const("nominal_voltage_v", 0.0))),
             ("t_volt.yaml", "constants.nominal_voltage_v.value", "> 0")))
    add(Case(kind, ("evaluate", "--tech", tech("t_bool.yaml",
                                               const("layer_overhead_cycles", True))),
             ("t_bool.yaml", "constants.layer_overhead_cycles.value", "not a number")))
    add(Case(kind, ("evaluate", "--tech", tech("t_str.yaml",
                                               const("layer_overhead_cycles", "eight"))),
             ("t_str.yaml", "constants.layer_overhead_cycles.value", "not a number")))
    add(Case(kind, ("evaluate", "--tech", tech("t_key.yaml", lambda d: d.__setitem__(
        "weight_residence", "resident"))), ("t_key.yaml", "'weight_residence' is unknown",
                                            "did you mean weight_residency")))
    add(Case(kind, ("evaluate", "--tech", tech("t_fit.yaml", lambda d: d["constants"][
        "layer_overhead_cycles"].__setitem__("fit", "no"))),
             ("t_fit.yaml", "constants.layer_overhead_cycles.fit", "true or false")))
    add(Case(kind, ("evaluate", "--tech", tech("t_policy.yaml", lambda d: d.__setitem__(
        "matmul_policy", "analog"))), ("t_policy.yaml", "matmul_policy 'analog'",
                                       "digital")))
    add(Case(kind, ("evaluate", "--tech", f("t_dup.yaml", (
        ROOT / "src/imcopt/hardware/technologies/rram.yaml").read_text().replace(
        "\nconstants:\n", "\nconstants:\n  layer_overhead_cycles: {value: 4}\n", 1))),
             ("t_dup.yaml", "key 'layer_overhead_cycles' is given twice")))
    # 13. YAML alias bombs and huge inputs: bounded, never echoed whole
    kind = "YAML bomb or huge input"
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{n}: &{n} [{','.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefghi", "bcdefghij",
                                                                     strict=True))
    add(Case(kind, ("search", f("bomb.yaml", bomb + "technology: *j\n")),
             ("bomb.yaml", "more than 1,000,000 values", "aliases")))
    add(Case(kind, ("workloads", "import", f("tl_bomb/1.yaml", bomb + "problem:\n  instance: "
                                             "{C: *j, M: 8}\n"), "--name", "bomb"),
             ("1.yaml", "more than 1,000,000 values")))
    add(Case(kind, ("evaluate", "--tech", f("tech_bomb.yaml", bomb + "constants: *j\n")),
             ("tech_bomb.yaml", "more than 1,000,000 values")))
    add(Case(kind, ("search", f("recursive.yaml", "a: &a [*a]\n")), ("recursive.yaml",
                                                                   "recursive alias")))
    add(Case(kind, ("workloads", "import", f("tl_small_bomb/1.yaml", "a: &a [1,2,3,4,5,6,7,8]"
                                             "\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nproblem:\n "
                                             " instance: {C: *b, M: 8}\n"), "--name", "sb"),
             ("1.yaml", "instance 'C'", "<list of 8>", "positive integer")))
    add(Case(kind, ("search", f("long_value.yaml", "technology: " + "x" * 5_000_000 + "\n")),
             ("long_value.yaml", "technology", "chars)")))
    add(Case(kind, ("search", f("huge.yaml", "seed: 1\n" + "#" * (21 * 2**20) + "\n")),
             ("huge.yaml", "bytes; more than")))
    add(Case(kind, ("evaluate", "-w", "w" * 100_000), ("unknown workload", "chars)")))
    # weak but worth mending: a seed out of range names the field; a user's callback error
    kind = "range or user code"
    add(Case(kind, ("search", s("seed_neg", seed=-1)), ("seed", "greater than or equal to 0")))
    add(Case(kind, ("search", s("seed_big", seed=2**40)), ("seed", "less than or equal to")))
    add(Case(kind, ("study", "run", st("seeds_neg", seeds=[1, -3])), ("seeds", "seed -3")))
    f("cb_raises.py", "def acc(network, w, a):\n    return {}[network]\n")
    add(Case(kind, ("search", s("cb1", precision={"weight_bits": [4, 8],
                                                  "accuracy": "cb_raises.py:acc"})),
             ("your callback", "KeyError", "cb_raises.py:2")))
    f("cb_import.py", "x = 1 / 0\n\ndef acc(network, w, a):\n    return 1.0\n")
    add(Case(kind, ("search", s("cb2", precision={"weight_bits": [4, 8],
                                                  "accuracy": "cb_import.py:acc"})),
             ("importing your module", "ZeroDivisionError", "cb_import.py:1")))
    return c


def _results_cases() -> list[Case]:
    """Damaged results and output folders that hold something else (made at run time)."""
    c: list[Case] = []
    add = c.append
    kind = "corrupt results"

    def study_damaged(name: str, damage: Callable[[Path], None], command: str = "report"
                      ) -> Callable[[Fixtures], tuple[str, ...]]:
        def make(fix: Fixtures) -> tuple[str, ...]:
            d = fix.copy(fix.study, name)
            damage(d)
            return (command, str(d)) if command == "report" else ("study", "resume", str(d))
        return make

    def search_damaged(name: str, damage: Callable[[Path], None]
                       ) -> Callable[[Fixtures], tuple[str, ...]]:
        def make(fix: Fixtures) -> tuple[str, ...]:
            d = fix.copy(fix.search, name)
            damage(d)
            return ("report", str(d))
        return make

    def truncate(path: Path) -> None:
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])

    def flip(path: Path) -> None:
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        path.write_bytes(bytes(raw))

    def cell(d: Path) -> Path:
        return sorted((d / "runs").iterdir())[0]

    add(Case(kind, study_damaged("st_trunc", lambda d: truncate(d / "study.json"), "resume"),
             ("study.json", "cut short or corrupt"), "imcopt study resume <study.json cut>"))
    add(Case(kind, study_damaged("st_trunc2", lambda d: truncate(d / "study.json")),
             ("study.json", "cut short or corrupt"), "imcopt report <study.json cut short>"))
    add(Case(kind, study_damaged("st_flip", lambda d: flip(cell(d) / "kept_designs.csv.gz")),
             ("kept_designs.csv.gz", "checksum mismatch", "study resume"),
             "imcopt report <a cell's kept_designs.csv.gz changed>"))
    add(Case(kind, study_damaged("st_best", lambda d: (cell(d) / "best.json").write_text("{")),
             ("best.json", "checksum mismatch"), "imcopt report <a cell's best.json cut>"))
    add(Case(kind, study_damaged("st_gone", lambda d: (cell(d) / "convergence.csv").unlink()),
             ("convergence.csv", "missing"), "imcopt report <a cell's convergence.csv gone>"))
    add(Case(kind, study_damaged("st_nosum", lambda d: (cell(d) / "checksums.json").unlink()),
             ("checksums.json", "missing", "cannot be verified"),
             "imcopt report <a cell's checksums.json deleted>"))
    add(Case(kind, study_damaged("st_list", lambda d: (cell(d) / "checksums.json").write_text(
        "[1]")), ("checksums.json", "not a checksum manifest"),
             "imcopt report <a cell's checksums.json is [1]>"))
    add(Case(kind, study_damaged("st_cells", lambda d: (d / "study.json").write_text(
        json.dumps({"config": {}, "cells": [{"id": 1}], "completed": {"1": {}}}))),
             ("study.json", "not a study state"), "imcopt report <study.json cells malformed>"))
    add(Case(kind, search_damaged("se_nosum", lambda d: (d / "checksums.json").unlink()),
             ("checksums.json", "missing"), "imcopt report <search: checksums.json deleted>"))
    add(Case(kind, search_damaged("se_trunc", lambda d: (
        (d / "checksums.json").unlink(), truncate(d / "kept_designs.csv.gz"))),
             ("checksums.json", "missing"),
             "imcopt report <search: kept_designs.csv.gz cut, checksums.json deleted>"))
    add(Case(kind, search_damaged("se_empty", lambda d: (d / "checksums.json").write_text("{}")),
             ("checksums.json", "does not list best.json"),
             "imcopt report <search: checksums.json is {}>"))
    add(Case(kind, search_damaged("se_escape", lambda d: (d / "checksums.json").write_text(
        json.dumps({**json.loads((d / "checksums.json").read_text()), "../x": "0"}))),
             ("checksums.json", "'../x'", "not a file of this folder"),
             "imcopt report <search: checksums.json lists ../x>"))

    def journal_flipped(fix: Fixtures) -> tuple[str, ...]:
        d = fix.copy(fix.journal.parent, "search_flip")
        j = d / fix.journal.name
        raw = bytearray(j.read_bytes())
        raw[len(raw) // 3] ^= 0xFF
        j.write_bytes(bytes(raw))
        return ("search", fix.search_cfg, "--out", str(d), "--quiet")

    add(Case(kind, journal_flipped, (".journal", "delete"),
             "imcopt search <its checkpoint journal damaged>"))
    # 9. output folders are never silently replaced or mixed
    kind = "output folder in use"

    def other_search(fix: Fixtures) -> tuple[str, ...]:
        cfg = _yaml(fix.tmp, "other_seed.yaml", _with(SMALL_SEARCH, {"seed": 2}))
        return ("search", cfg, "--out", str(fix.copy(fix.search, "of_other")), "--quiet")

    def into_study(fix: Fixtures) -> tuple[str, ...]:
        return ("search", fix.search_cfg, "--out", str(fix.copy(fix.study, "of_study")))

    def study_into_search(fix: Fixtures) -> tuple[str, ...]:
        cfg = _yaml(fix.tmp, "of_tiny.yaml", TINY_STUDY)
        return ("study", "run", cfg, "--out", str(fix.copy(fix.search, "of_search")))

    def other_study(fix: Fixtures) -> tuple[str, ...]:
        cfg = _yaml(fix.tmp, "of_other_study.yaml", _with(TINY_STUDY, {"seeds": [7]}))
        return ("study", "run", cfg, "--out", str(fix.copy(fix.study, "of_other_study")))

    def other_journal(fix: Fixtures) -> tuple[str, ...]:
        cfg = _yaml(fix.tmp, "other_seed.yaml", _with(SMALL_SEARCH, {"seed": 2}))
        return ("search", cfg, "--out", str(fix.copy(fix.journal.parent, "of_journal")))

    def stray(fix: Fixtures) -> tuple[str, ...]:
        d = fix.tmp / "of_stray"
        d.mkdir(exist_ok=True)
        (d / "kept_designs.csv.gz").write_text("key\nA_1\n")
        return ("search", fix.search_cfg, "--out", str(d))

    def a_file(fix: Fixtures) -> tuple[str, ...]:
        return ("search", fix.search_cfg, "--out", _file(fix.tmp, "of_file", "x"))

    def busy_search(fix: Fixtures) -> tuple[str, ...]:
        return ("search", fix.search_cfg, "--quiet", "--out", str(fix.tmp / "of_busy"))

    def busy_study(fix: Fixtures) -> tuple[str, ...]:
        cfg = _yaml(fix.tmp, "of_tiny.yaml", TINY_STUDY)
        return ("study", "run", cfg, "--quiet", "--out", str(fix.tmp / "of_busy_study"))

    for make, expect, what in (
            (other_search, ("holds the results of a different search", "differs in seed",
                            "--force"), "search <--out holds another search>"),
            (into_study, ("holds a study", "--force"), "search <--out holds a study>"),
            (study_into_search, ("holds a search", "--force"),
             "study run <--out holds a search>"),
            (other_study, ("holds a different study", "--force"),
             "study run <--out holds another study>"),
            (other_journal, ("interrupted search with another config", ".journal"),
             "search <--out holds another search's checkpoint>"),
            (stray, ("kept_designs.csv.gz", "without their run.json"),
             "search <--out holds a kept_designs.csv.gz of unknown origin>"),
            (a_file, ("of_file", "is a file, not a folder"), "search <--out is a file>")):
        add(Case(kind, make, expect, f"imcopt {what}"))
    for make, what in ((busy_search, "search"), (busy_study, "study run")):
        add(Case(kind, make, ("another imcopt run", "is writing to this folder"),
                 f"imcopt {what} <--out locked by a running {what.split()[0]}>", locked=True))
    return c


# ---- the Python API -----------------------------------------------------------------------
def api_cases() -> list[ApiCase]:
    """Bad arguments to public functions: a ValueError (a TypeError too for a wrong type)
    that names the argument, never an IndexError, AttributeError or a NumPy shape error."""
    import imcopt

    def ev(*args: object, **kw: object) -> Callable[[Fixtures], object]:
        return lambda fix: imcopt.evaluate(*args, **kw)

    designs, other, config = "designs argument", "other arguments", "config argument"
    c = [
        ApiCase(designs, "evaluate({'rows_per_array': []}, 'alexnet')",
                ev({"rows_per_array": []}, "alexnet"), ("rows_per_array", "empty")),
        ApiCase(designs, "evaluate({'rows_per_array': [[128, 256], [512]]}, ...) (ragged)",
                ev({"rows_per_array": [[128, 256], [512]]}, "alexnet"),
                ("rows_per_array", "flat list")),
        ApiCase(designs, "evaluate({'rows_per_array': [128, 256], 'voltage_v': [0.5, 0.6, 0.7]})",
                ev({"rows_per_array": [128, 256], "voltage_v": [0.5, 0.6, 0.7]}, "alexnet"),
                ("expected 1 or",)),
        ApiCase(designs, "evaluate({None: 128}, 'alexnet')", ev({None: 128}, "alexnet"),
                ("designs", "parameter names must be strings"), type_error=True),
        ApiCase(designs, "evaluate([None], 'alexnet')", ev([None], "alexnet"),
                ("designs[0]", "design key"), type_error=True),
        ApiCase(designs, "evaluate([DESIGN, 5], 'alexnet')", ev([DESIGN, 5], "alexnet"),
                ("designs[1]", "int"), type_error=True),
        ApiCase(designs, "evaluate(None, 'alexnet')", ev(None, "alexnet"), ("designs",),
                type_error=True),
        ApiCase(designs, "evaluate({'voltage_v': 'high'}, 'alexnet')",
                ev({"voltage_v": "high"}, "alexnet"), ("voltage_v", "str"), type_error=True),
        ApiCase(other, "evaluate(DESIGN, None)", ev(DESIGN, None), ("workload", "NoneType"),
                type_error=True),
        ApiCase(other, "evaluate(DESIGN, 'alexnet', technology=None)",
                ev(DESIGN, "alexnet", technology=None), ("technology", "NoneType"),
                type_error=True),
        ApiCase(other, "evaluate(DESIGN, 'alexnet', per_layer='yes')",
                ev(DESIGN, "alexnet", per_layer="yes"), ("per_layer",), type_error=True),
        ApiCase(other, "evaluate(DESIGN, 'alexnet', device='tpu')",
                ev(DESIGN, "alexnet", device="tpu"), ("device 'tpu'",)),
        ApiCase(designs, "evaluate(genomes, 'alexnet') without space=",
                ev(__import__("numpy").zeros((2, 9), int), "alexnet"), ("space=",),
                type_error=True),
        ApiCase(other, "evaluate_many(DESIGN, 'alexnet') (a name, not a list)",
                lambda fix: imcopt.evaluate_many(DESIGN, "alexnet"),
                ("workloads", "list"), type_error=True),
        ApiCase(other, "evaluate_many(DESIGN, [])", lambda fix: imcopt.evaluate_many(DESIGN, []),
                ("workloads", "empty")),
        ApiCase(other, "get_space(None)", lambda fix: imcopt.get_space(None), ("space",),
                type_error=True),
        ApiCase(other, "get_space(['rram'])", lambda fix: imcopt.get_space(["rram"]),
                ("space", "list"), type_error=True),
        ApiCase(other, "load_technology(3)", lambda fix: imcopt.load_technology(3),
                ("technology", "int"), type_error=True),
        ApiCase(other, "workloads.get(None)",
                lambda fix: __import__("imcopt.workloads").workloads.get(None),
                ("workload", "NoneType"), type_error=True),
        ApiCase(config, "search.run_search(None)", lambda fix: imcopt.search.run_search(None),
                ("config", "NoneType")),
        ApiCase(config, "search.run_search({'seed': '1'})",
                lambda fix: imcopt.search.run_search({"seed": "1"}), ("seed", "integer")),
        ApiCase(config, "Study(None, out)", lambda fix: imcopt.Study(None, fix.tmp / "api_s"),
                ("study", "NoneType")),
    ]
    return c


# ---- hostile but valid: the right outcome -------------------------------------------------
def _strict_json(text: str) -> object:
    """json.loads that refuses NaN and Infinity (which Python writes and no JSON parser
    reads)."""
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _no_warning_noise(r: Result) -> str | None:
    text = r.stdout + r.stderr
    for bad in ("RuntimeWarning", "Traceback", "warnings.warn"):
        if bad in text:
            return f"prints {bad!r}"
    return None


def trials() -> list[Trial]:
    """Hostile but valid inputs and the outcome each must have."""
    t: list[Trial] = []
    add = t.append
    # 4. a failed or non-finite design is never feasible and never ranked
    kind = "failed design never ranked"

    def cli_json(fix: Fixtures) -> str | None:
        r = _invoke(["evaluate", "-d", f"{DESIGN},voltage_v=1e300", "-w", "alexnet",
                     "--json"], fix.env)
        if r.exit_code != 0:
            return f"exit {r.exit_code}: {r.stderr[-200:]}"
        doc = _strict_json(r.stdout)
        tot = doc["workloads"]["alexnet"]["totals"]
        if tot["feasible"] or not re.search(r"failed: energy_j is (nan|inf)", tot["reason"]):
            return f"feasible={tot['feasible']}, reason={tot['reason']!r}"
        return _no_warning_noise(r)

    def cli_table(fix: Fixtures) -> str | None:
        r = _invoke(["evaluate", "-d", f"{DESIGN},clock_period_s=1e-300,voltage_v=1e300",
                     "-w", "alexnet", "-w", "resnet18"], fix.env)
        if r.exit_code != 0 or "failed:" not in r.stdout:
            return f"exit {r.exit_code}, no 'failed:' in the table"
        rows = [ln for ln in r.stdout.splitlines() if ln.startswith("│ alexnet")]
        if not rows or " yes " in rows[0]:
            return f"alexnet's row says feasible: {rows[:1]}"
        return _no_warning_noise(r)

    def api(fix: Fixtures) -> str | None:
        import numpy as np

        import imcopt
        with __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("error")  # a RuntimeWarning is a failure
            m = imcopt.evaluate({"voltage_v": [1e300, 0.6], "glb_depth_words": [4096, 1e300]},
                                "alexnet", per_layer=False)
        if m.feasible.any() or not np.all(np.isinf(m.energy_j)):
            return f"feasible {m.feasible}, energy {m.energy_j}"
        if not all("failed:" in r for r in m.reason):
            return f"reasons {list(m.reason)}"
        return None

    def huge_search(fix: Fixtures, aggregation: str, name: str) -> str | None:
        cfg = _yaml(fix.tmp, f"{name}.yaml", _with(SMALL_SEARCH, {
            "space__values": HUGE_CHIPS, "objective__area_limit_mm2": 5000.0,
            "objective__aggregation": aggregation,
            "algorithm": {"name": "random", "n_evals": 200, "feasible_only": False},
            "top_k": 40}))
        out = fix.tmp / name
        r = _invoke(["search", cfg, "--out", str(out), "--quiet", "--save-all"], fix.env)
        if r.exit_code != 0:
            return f"exit {r.exit_code}: {r.stderr[-300:]}"
        best = _strict_json((out / "best.json").read_text())
        ranked = best["best"]
        if not ranked or any(b["cost_usd"] is None or b["fitness"] is None for b in ranked):
            return f"{len(ranked)} ranked designs, some with no finite cost or fitness"
        import numpy as np
        import pandas as pd

        d = pd.read_parquet(out / "designs.parquet")  # every evaluated design (--save-all)
        unmade = d[~np.isfinite(d.cost_usd) & (d.area_mm2 <= 5000.0)]
        if unmade.empty:
            return "the space has no design too large to make (the trial tests nothing)"
        if unmade.feasible.any() or not unmade.reason.str.contains("good die").all():
            return "a design with an infinite die cost is feasible"
        return None

    def study_json(fix: Fixtures) -> str | None:
        from imcopt.study import Study

        out = fix.tmp / "huge_study"
        Study(_with(TINY_STUDY, {"space_values": {"rram": HUGE_CHIPS}, "area_limit_mm2": 5000.0,
                                 "methods": ["ga", "exhaustive"],
                                 "aggregations": ["max", "edap_cost"]}), out).run()
        for path in [out / "study.json", *out.glob("runs/*/best.json")]:
            doc = _strict_json(path.read_text())
            for b in doc.get("best", []):
                if b["cost_usd"] is None or not b["feasible"]:
                    return f"{path}: a ranked design with no finite cost"
        return None

    add(Trial(kind, "imcopt evaluate -d ...,voltage_v=1e300 --json: valid JSON, infeasible, "
              "no RuntimeWarning", cli_json))
    add(Trial(kind, "imcopt evaluate -d ...,clock_period_s=1e-300,voltage_v=1e300: the table "
              "says failed, not feasible", cli_table))
    add(Trial(kind, "imcopt.evaluate(voltage 1e300 / GLB 1e300 words): infeasible, +inf, no "
              "warning", api))
    add(Trial(kind, "imcopt search, 5,000 mm2 limit, max: no design with an infinite die cost "
              "ranked; valid JSON", lambda fix: huge_search(fix, "max", "huge_max")))
    add(Trial(kind, "imcopt search, 5,000 mm2 limit, el_cost: no design with an infinite die "
              "cost ranked", lambda fix: huge_search(fix, "el_cost", "huge_cost")))
    add(Trial(kind, "a study with a 5,000 mm2 limit (max, edap_cost): study.json and every "
              "best.json valid JSON, nothing infinite ranked", study_json))
    # 7. a damaged evaluation cache is set aside and rebuilt, with one warning
    kind = "damaged cache rebuilt"

    def cached_cfg(fix: Fixtures) -> str:
        """SMALL_SEARCH keeping the evaluation cache (`cache: auto`, the default, keeps none
        for the analytical model); the same search (`search_identity` leaves `cache` out)."""
        return _yaml(fix.tmp, "cached_search.yaml", _with(SMALL_SEARCH, {"cache": True}))

    def cache_case(fix: Fixtures, name: str, damage: Callable[[Path], None]) -> str | None:
        out = fix.tmp / name
        out.mkdir(exist_ok=True)
        damage(out / "evaluations.sqlite")
        r = _invoke(["search", cached_cfg(fix), "--out", str(out), "--quiet"], fix.env)
        warns = [ln for ln in r.stderr.splitlines() if ln.startswith("warning: ")]
        if r.exit_code != 0:
            return f"exit {r.exit_code}: {r.stderr[-300:]}"
        if len(warns) != 1 or "evaluations.sqlite" not in warns[0] or "set aside" not in warns[0]:
            return f"warnings: {warns} (stderr {r.stderr[-200:]!r})"
        if (out / KEPT).read_bytes() != (fix.search / KEPT).read_bytes():
            return "results differ from a run without the damaged cache"
        if not list(out.glob("evaluations.sqlite.damaged-*")):
            return "the damaged file was not kept"
        return None

    def real_cache(fix: Fixtures, path: Path) -> None:
        """A copy of a real cache of the fixture search (WAL folded in), its data pages
        damaged."""
        import sqlite3

        source = fix.tmp / "cache_source"
        if not (source / "evaluations.sqlite").exists():
            _invoke(["search", cached_cfg(fix), "--out", str(source), "--quiet"], fix.env,
                    check=True)
        with contextlib.closing(sqlite3.connect(source / "evaluations.sqlite")) as src, \
                contextlib.closing(sqlite3.connect(path)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
        path.write_bytes(_damage_pages(path.read_bytes()))

    add(Trial(kind, "search --out holding a evaluations.sqlite of random bytes",
              lambda fix: cache_case(fix, "cache_garbage", lambda p: p.write_bytes(
                  os.urandom(3000)))))
    add(Trial(kind, "search --out holding a evaluations.sqlite of text",
              lambda fix: cache_case(fix, "cache_text", lambda p: p.write_text("not sqlite"))))
    add(Trial(kind, "search --out holding another program's SQLite database",
              lambda fix: cache_case(fix, "cache_other", _other_sqlite)))
    add(Trial(kind, "search --out holding a real cache with its pages damaged",
              lambda fix: cache_case(fix, "cache_pages", lambda p: real_cache(fix, p))))
    # 9. a finished search is left alone; --force replaces; damaged outputs are rebuilt
    kind = "finished or replaced output folder"

    def finished(fix: Fixtures) -> str | None:
        out = fix.copy(fix.search, "fin_again")
        before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
        r = _invoke(["search", fix.search_cfg, "--out", str(out), "--quiet"], fix.env)
        after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
        if r.exit_code != 0 or "complete" not in r.stdout or "nothing to do" not in r.stdout:
            return f"exit {r.exit_code}, said {r.stdout.strip()[:200]!r}"
        changed = [n for n in before if before[n] != after.get(n) and n != ".imcopt.lock"]
        return f"changed {changed}" if changed else None

    def other_executor(fix: Fixtures) -> str | None:
        out = fix.copy(fix.search, "fin_exec")
        r = _invoke(["search", fix.search_cfg, "--out", str(out), "--quiet", "--no-cache"],
                    fix.env)
        return None if r.exit_code == 0 and "nothing to do" in r.stdout else (
            f"exit {r.exit_code}: {(r.stdout + r.stderr)[:200]}")

    def force_same(fix: Fixtures) -> str | None:
        out = fix.copy(fix.search, "fin_force")
        r = _invoke(["search", fix.search_cfg, "--out", str(out), "--quiet", "--force"],
                    fix.env)
        if r.exit_code != 0 or "objective calls" not in r.stdout:
            return f"exit {r.exit_code}: did not run again ({r.stdout[:200]!r})"
        same = all((out / n).read_bytes() == (fix.search / n).read_bytes()
                   for n in (KEPT, "convergence.csv", "best.json"))
        return None if same else "the re-run differs from the first run"

    def force_study(fix: Fixtures) -> str | None:
        out = fix.copy(fix.study, "fin_force_study")
        (out / "report").mkdir()
        r = _invoke(["search", fix.search_cfg, "--out", str(out), "--quiet", "--force"],
                    fix.env)
        if r.exit_code != 0:
            return f"exit {r.exit_code}: {r.stderr[-200:]}"
        left = [n for n in ("study.json", "study.yaml", "runs", "report") if (out / n).exists()]
        return f"left the study's {left}" if left else None

    def rebuilt(fix: Fixtures) -> str | None:
        out = fix.copy(fix.search, "fin_damaged")
        flip = bytearray((out / KEPT).read_bytes())
        flip[100] ^= 0x01
        (out / KEPT).write_bytes(bytes(flip))
        r = _invoke(["search", fix.search_cfg, "--out", str(out), "--quiet"], fix.env)
        if r.exit_code != 0 or "damaged" not in r.stdout:
            return f"exit {r.exit_code}: {r.stdout[:200]!r}"
        same = (out / KEPT).read_bytes() == (fix.search / KEPT).read_bytes()
        return None if same else "not rebuilt to the same results"

    def resume_cell(fix: Fixtures) -> str | None:
        out = fix.copy(fix.study, "fin_resume")
        cell = fix.cell(out)
        ref = (cell / KEPT).read_bytes()
        (cell / KEPT).write_bytes(ref[: len(ref) // 2])
        r = _invoke(["study", "resume", str(out), "--quiet"], fix.env)
        if r.exit_code != 0 or "1 cells run" not in r.stdout:
            return f"exit {r.exit_code}: {(r.stdout + r.stderr)[:300]!r}"
        if f"warning: cell {cell.name}" not in r.stderr:
            return f"no warning naming the cell: {r.stderr[:200]!r}"
        if (cell / KEPT).read_bytes() != ref:
            return "the cell was not run again to the same results"
        rep = _invoke(["report", str(out)], fix.env)
        return None if rep.exit_code == 0 else f"report then fails: {rep.stderr[:200]}"

    def study_json_left(fix: Fixtures) -> str | None:
        out = fix.copy(fix.study, "fin_study_again")
        cfg = _yaml(fix.tmp, "fin_tiny.yaml", TINY_STUDY)
        r = _invoke(["study", "run", cfg, "--out", str(out), "--quiet"], fix.env)
        return None if r.exit_code == 0 and "0 cells run" in r.stdout else (
            f"exit {r.exit_code}: {(r.stdout + r.stderr)[:200]!r}")

    def api_overwrite(fix: Fixtures) -> str | None:
        from imcopt.outdir import FolderError
        from imcopt.search import run_search, write_results

        out = fix.copy(fix.search, "fin_api")
        other = run_search(_with(SMALL_SEARCH, {"seed": 3}))
        try:
            write_results(other, out)
        except FolderError as exc:
            if "different search" not in str(exc):
                return f"refused, but says {exc}"
        else:
            return "write_results replaced another search's results"
        write_results(other, out, overwrite=True)
        return None

    add(Trial(kind, "imcopt search, again on its finished --out: says complete, changes "
              "nothing", finished))
    add(Trial(kind, "imcopt search, again on its finished --out with --no-cache: still "
              "complete", other_executor))
    add(Trial(kind, "imcopt search --force on its finished --out: runs again, same results",
              force_same))
    add(Trial(kind, "imcopt search --force on a study folder: the study's files are removed",
              force_study))
    add(Trial(kind, f"imcopt search on its --out with {KEPT} damaged: rebuilt, said so",
              rebuilt))
    add(Trial(kind, f"imcopt study resume with a cell's {KEPT} cut short: the cell runs "
              "again", resume_cell))
    add(Trial(kind, "imcopt study run again on a finished study: 0 cells run", study_json_left))
    add(Trial(kind, "write_results into another search's folder: refused unless overwrite",
              api_overwrite))
    # 11. the report builds from any valid results
    kind = "report on valid results"

    def study_report(fix: Fixtures, name: str, **changes: object) -> str | None:
        from imcopt.report import build_report
        from imcopt.study import Study

        out = fix.tmp / name
        doc = _with(TINY_STUDY, {"space_values": {"rram": TINY_SPACE}, **changes})
        Study(doc, out).run()
        index = build_report(out)
        return None if index.is_file() and index.stat().st_size > 500 else "no report page"

    def csv_search(fix: Fixtures) -> str | None:
        table = _file(fix.tmp, "rep_tiny.csv", GOOD_CSV)
        cfg = _yaml(fix.tmp, "rep_csv.yaml", _with(SMALL_SEARCH, {"workloads": [table,
                                                                                "alexnet"]}))
        out = fix.tmp / "rep_csv_search"
        r = _invoke(["search", cfg, "--out", str(out), "--quiet"], fix.env)
        rep = _invoke(["report", str(out)], fix.env)
        if r.exit_code or rep.exit_code:
            return f"exit {r.exit_code}/{rep.exit_code}: {(r.stderr + rep.stderr)[-300:]}"
        return None if "tiny" in (out / "report" / "index.html").read_text() else "no 'tiny'"

    for method in ("ga", "largest", "separate", "four_phase", "exhaustive"):
        add(Trial(kind, f"imcopt report on a study whose only method is {method}",
                  lambda fix, m=method: study_report(fix, f"rep_{m}", methods=[m])))
    add(Trial(kind, "imcopt report on a study with no feasible design (1 mm2 limit)",
              lambda fix: study_report(fix, "rep_none", area_limit_mm2=1.0,
                                       methods=["ga", "four_phase"])))
    add(Trial(kind, "imcopt report on a study of a layer-table CSV given by its path",
              lambda fix: study_report(fix, "rep_csv_study", workload_sets={"t": [_file(
                  fix.tmp, "rep_tiny2.csv", GOOD_CSV), "alexnet"]}, methods=["ga"])))
    add(Trial(kind, "imcopt report on a search of a layer-table CSV given by its path",
              csv_search))
    # `--json` into a closed pipe, and one-line warnings
    kind = "output to a closed pipe"
    for command in ("evaluate --per-layer --json | head -c 10",
                    "workloads show densenet201 --json | head -c 10",
                    "workloads list --json | true", "space show --json | true"):
        add(Trial(kind, f"imcopt {command}: ends quietly",
                  lambda fix, c=command: _closed_pipe(fix, c)))
    return t


def _other_sqlite(path: Path) -> None:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE evaluations (name TEXT, score REAL)")
        db.execute("INSERT INTO evaluations VALUES ('x', 1.0)")
        db.commit()


def _damage_pages(data: bytes) -> bytes:
    """An SQLite file with every page after the second overwritten (the header and the
    schema intact: the damage shows only when the data is read)."""
    page = int.from_bytes(data[16:18], "big") or 4096
    return data[:2 * page] + bytes([0xA5]) * (len(data) - 2 * page)


def _closed_pipe(fix: Fixtures, command: str) -> str | None:
    """`imcopt COMMAND | READER` in a real shell: the reader leaves early (`true` at once)."""
    env = {**os.environ, **fix.env, "PYTHONPATH": str(ROOT / "src")}
    cli = f"{sys.executable} -c 'from imcopt.cli import app; app()'"
    p = subprocess.run(["bash", "-c", f"{cli} {command} >/dev/null; "
                                      "echo \"rc=${PIPESTATUS[0]}\" >&2"],
                       env=env, capture_output=True, text=True, timeout=120)
    err = [ln for ln in p.stderr.splitlines() if not ln.startswith("rc=")]
    if err:
        return f"stderr: {' | '.join(err)[:200]}"
    rc = p.stderr.strip().splitlines()[-1]
    return None if rc in ("rc=0", "rc=1", "rc=141") else f"exit {rc}"


# ---- counting ------------------------------------------------------------------------------
SECTIONS = ("Bad command lines", "Bad Python API arguments", "Hostile but valid inputs")


def inventory(tmp: Path) -> dict[str, Counter]:
    """{section: {kind: number of cases}} of everything above, without running anything."""
    return {SECTIONS[0]: Counter(c.kind for c in cases(tmp)),
            SECTIONS[1]: Counter(c.kind for c in api_cases()),
            SECTIONS[2]: Counter(t.kind for t in trials())}
