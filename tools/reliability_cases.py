"""Bad inputs for every `imcopt` command, by kind, and the check that each ends cleanly.

A case is clean when the command exits with code 2 and prints exactly one line on stderr,
`error: ...`, that contains every expected fragment (the field's name, an allowed value, a
"did you mean"), and no traceback anywhere. Used by tools/reliability_report.py (all cases)
and tests/test_reliability.py.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
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
GOOD_CSV = ("network,layer_index,layer_name,layer_kind,N,G,C,M,R,S,P,Q,HStride,WStride\n"
            "tiny,0,conv1,conv,1,1,3,16,3,3,8,8,1,1\ntiny,1,fc,linear,1,1,1024,10,1,1,1,1,1,1\n")


@dataclass(frozen=True)
class Case:
    kind: str
    args: tuple[str, ...]
    expect: tuple[str, ...] = ()  # fragments the error line must contain (case-insensitive)

    @property
    def label(self) -> str:
        return "imcopt " + " ".join(a if len(a) < 60 else a[:57] + "..." for a in self.args)


def _search_with(tmp: Path, name: str, **changes: object) -> str:
    """A search config file: SMALL_SEARCH with dotted keys changed (None deletes)."""
    doc = json.loads(json.dumps(SMALL_SEARCH))
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = doc
        for p in path:
            node = node.setdefault(p, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    path = tmp / f"search_{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _study_with(tmp: Path, name: str, **changes: object) -> str:
    doc = json.loads(json.dumps(TINY_STUDY))
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = doc
        for p in path:
            node = node.setdefault(p, {})
        node[last] = value
    path = tmp / f"study_{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _file(tmp: Path, name: str, content: str | bytes) -> str:
    path = tmp / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def cases(tmp: Path) -> list[Case]:
    """Every bad-input case; files they need are written under `tmp`."""
    s, st, f = (lambda n, **k: _search_with(tmp, n, **k)), (lambda n, **k: _study_with(
        tmp, n, **k)), (lambda n, c: _file(tmp, n, c))
    c: list[Case] = []
    add = c.append
    # ---- unknown names (with did-you-mean where one is close) ------------------------------
    add(Case("unknown name", ("evaluate", "--tech", "rrm"), ("rrm", "rram")))
    add(Case("unknown name", ("evaluate", "-w", "resnt18"), ("resnt18", "did you mean",
                                                             "resnet18")))
    add(Case("unknown name", ("evaluate", "-d", "rows_per_aray=128"),
             ("rows_per_aray", "did you mean", "rows_per_array")))
    add(Case("unknown name", ("workloads", "show", "vgg61"), ("vgg61", "vgg16")))
    add(Case("unknown name", ("space", "show", "--tech", "sramm"), ("sramm", "did you mean",
                                                                    "sram")))
    add(Case("unknown name", ("search", s("w", workloads=["resnet18", "alexnte"])),
             ("workloads", "alexnte", "did you mean", "alexnet")))
    add(Case("unknown name", ("search", s("t", technology="rarm")), ("technology", "rram")))
    add(Case("unknown name", ("search", s("sp", space__name="rarm")), ("space", "rram")))
    add(Case("unknown name", ("search", s("p", space__values={"rows_per_aray": [128]})),
             ("space.values", "rows_per_aray", "did you mean", "rows_per_array")))
    add(Case("unknown name", ("search", s("agg", objective__aggregation="maxx")),
             ("objective.aggregation", "max", "mean")))
    add(Case("unknown name", ("search", s("alg", algorithm__name="nsga")),
             ("algorithm.name", "nsga2")))
    add(Case("unknown name", ("search", s("strat", strategy="jiont")), ("strategy", "joint")))
    add(Case("unknown name", ("search", s("key", sed=3)), ("sed", "unknown setting",
                                                          "did you mean", "seed")))
    add(Case("unknown name", ("search", s("wkey", objective__weights={"vgg": 1.0},
                                          objective__aggregation="weighted")),
             ("objective.weights", "vgg")))
    add(Case("unknown name", ("study", "run", st("m", methods=["four_phse"])),
             ("methods", "four_phase")))
    add(Case("unknown name", ("study", "run", st("w", workload_sets={"a": ["alexnt"]})),
             ("workload_sets.a", "alexnt", "alexnet")))
    add(Case("unknown name", ("study", "run", st("t", technologies=["rarm"])),
             ("technologies", "rram")))
    add(Case("unknown name", ("study", "run", st("sv", space_values={"rram": {"rows": [128]}})),
             ("space_values.rram", "rows", "rows_per_array")))
    add(Case("unknown name", ("study", "run", st("k", seed=[1])), ("seed", "unknown setting",
                                                                   "seeds")))
    add(Case("unknown name", ("nosuch",), ("nosuch",)))
    add(Case("unknown name", ("evaluate", "--bogus"), ("--bogus",)))
    add(Case("unknown name", ("calibrate", "--reference", f("ref.csv", "a,b\n1,2\n"),
                              "--tech", "rarm"), ("rarm", "rram")))
    # ---- empty sets --------------------------------------------------------------------------
    add(Case("empty set", ("search", s("e", workloads=[])), ("workloads", "at least 1")))
    add(Case("empty set", ("study", "run", st("e1", workload_sets={})),
             ("workload_sets", "at least 1")))
    add(Case("empty set", ("study", "run", st("e2", workload_sets={"a": []})),
             ("workload_sets.a", "at least")))
    add(Case("empty set", ("study", "run", st("e3", methods=[])), ("methods", "at least 1")))
    add(Case("empty set", ("study", "run", st("e4", seeds=[])), ("seeds", "at least 1")))
    add(Case("empty set", ("search", s("e5", space__values={"rows_per_array": []})),
             ("space.values", "rows_per_array", "empty")))
    add(Case("empty set", ("evaluate", "-d", ","), ("--design", "empty")))
    add(Case("empty set", ("evaluate", "-w", f("empty.csv", GOOD_CSV.splitlines()[0] + "\n")),
             ("empty.csv", "no layer")))
    # ---- values outside the space ------------------------------------------------------------
    add(Case("outside the space", ("search", s("o1", space__values={"adc_type": [3]})),
             ("space.values", "adc_type", "3", "1, 2")))
    add(Case("outside the space", ("search", s("o2", strategy="sequential",
                                               start={"rows_per_array": 100})),
             ("start", "rows_per_array", "100")))
    add(Case("outside the space", ("search", s("o3", strategy="sequential",
                                               start={"rowz": 128})),
             ("start", "rowz", "rows_per_array")))
    add(Case("outside the space", ("search", s("o4", objective__weights={"resnet18": 1.0},
                                               objective__aggregation="max")),
             ("objective.weights", "weighted")))
    add(Case("outside the space", ("evaluate", "--tech", "sram", "-d", "bits_per_cell=99"),
             ("bits_per_cell",)))
    add(Case("outside the space", ("calibrate", "--reference", f("ref2.csv", "a,b\n1,2\n"),
                                   "--held-out", "1.5"), ("held", "1")))
    # ---- zero or negative sizes --------------------------------------------------------------
    for i, (key, value, frag) in enumerate([
            ("objective__area_limit_mm2", 0, "area_limit_mm2"),
            ("objective__area_limit_mm2", -800, "area_limit_mm2"),
            ("top_k", 0, "top_k"), ("algorithm__n_evals", -1, "n_evals"),
            ("algorithm__chunk", 0, "chunk"), ("exhaustive_below", -5, "exhaustive_below"),
            ("algorithm__sampling__n_candidates", 0, "n_candidates")]):
        add(Case("zero or negative size", ("search", s(f"z{i}", **{key: value})), (frag,)))
    add(Case("zero or negative size", ("search", s("z7", algorithm__phases=[
        {"pop_size": 0, "n_gen": 3}])), ("algorithm.phases.0.pop_size", "2")))
    add(Case("zero or negative size", ("search", s("z8", algorithm__phases=[
        {"pop_size": 8, "n_gen": 0}])), ("n_gen", "1")))
    add(Case("zero or negative size", ("search", s("z9", space__values={
        "rows_per_array": [-128]})), ("rows_per_array", "-128")))
    add(Case("zero or negative size", ("study", "run", st("z1", area_limit_mm2=0)),
             ("area_limit_mm2",)))
    add(Case("zero or negative size", ("study", "run", st("z2", top_k=-1)), ("top_k",)))
    add(Case("zero or negative size", ("study", "run", st("z3", budget__ga={
        "pop_size": 1, "n_gen": 3})), ("budget.ga.pop_size",)))
    add(Case("zero or negative size", ("study", "run", st("z4"), "--max-cells", "-1"),
             ("--max-cells",)))
    for value in ("0", "-256"):
        add(Case("zero or negative size", ("evaluate", "-d", f"rows_per_array={value}"),
                 ("rows_per_array", "> 0")))
    bad_c = GOOD_CSV.replace("1,1,3,16,3,3", "1,1,0,16,3,3")
    add(Case("zero or negative size", ("evaluate", "-w", f("zero_c.csv", bad_c)), ("C",)))
    bad_m = GOOD_CSV.replace("1024,10", "1024,-10")
    add(Case("zero or negative size", ("workloads", "show", f("neg_m.csv", bad_m)), ("M",)))
    # ---- NaN and infinity --------------------------------------------------------------------
    for i, (key, value, frag) in enumerate([
            ("objective__area_limit_mm2", float("nan"), "area_limit_mm2"),
            ("objective__area_limit_mm2", float("inf"), "area_limit_mm2"),
            ("algorithm__phases", [{"pop_size": 8, "n_gen": 3,
                                    "crossover_prob": float("nan")}], "crossover_prob"),
            ("objective__weights", {"resnet18": float("nan"), "alexnet": 1.0}, "weights"),
            ("objective__optima", {"resnet18": float("inf"), "alexnet": 1.0}, "optima"),
            ("space__values", {"voltage_v": [float("nan")]}, "voltage_v"),
            ("start", {"voltage_v": float("inf")}, "start")]):
        changes = {key: value}
        if key == "objective__weights":
            changes["objective__aggregation"] = "weighted"
        add(Case("NaN or infinity", ("search", s(f"n{i}", **changes)), (frag,)))
    add(Case("NaN or infinity", ("study", "run", st("n1", area_limit_mm2=float("nan"))),
             ("area_limit_mm2",)))
    for value in ("nan", "inf", "-inf"):
        add(Case("NaN or infinity", ("evaluate", "-d", f"voltage_v={value}"),
                 ("voltage_v", "finite")))
    add(Case("NaN or infinity", ("evaluate", "-w", f("nan.csv", GOOD_CSV.replace(
        "3,16,3,3", "nan,16,3,3"))), ("C",)))
    add(Case("NaN or infinity", ("validate", "--reference", f("ref3.csv", "a\n1\n"),
                                 "--node-nm", "nan"), ("node",)))
    # ---- wrong types -------------------------------------------------------------------------
    for i, (key, value, frag) in enumerate([
            ("seed", "one", "seed"), ("seed", 1.5, "seed"), ("workloads", "resnet18",
                                                              "workloads"),
            ("top_k", [3], "top_k"), ("algorithm", "ga", "algorithm"),
            ("space__values", {"rows_per_array": "128"}, "rows_per_array"),
            ("algorithm__feasible_only", "maybe", "feasible_only")]):
        add(Case("wrong type", ("search", s(f"t{i}", **{key: value})), (frag,)))
    add(Case("wrong type", ("study", "run", st("t1", seeds="1")), ("seeds",)))
    add(Case("wrong type", ("study", "run", st("t2", workload_sets=["resnet18"])),
             ("workload_sets",)))
    add(Case("wrong type", ("study", "run", st("t3"), "--max-cells", "two"), ("--max-cells",)))
    add(Case("wrong type", ("evaluate", "-d", "voltage_v=high"), ("voltage_v", "number")))
    add(Case("wrong type", ("evaluate", "-d", "tiles_per_group=3.5"), ("tiles_per_group",
                                                                       "integer")))
    add(Case("wrong type", ("evaluate", "-d", "A_0.6_eight_1e-09_512_32_8_64_32_4096"),
             ("design key",)))
    add(Case("wrong type", ("evaluate", "-w", f("strcol.csv", GOOD_CSV.replace(
        "3,16,3,3", "three,16,3,3"))), ("C",)))
    add(Case("wrong type", ("search", f("list.yaml", "- a\n- b\n")), ("mapping",)))
    add(Case("wrong type", ("study", "run", f("scalar.yaml", "42\n")), ("mapping",)))
    # ---- missing or malformed files ----------------------------------------------------------
    missing = str(tmp / "does_not_exist")
    add(Case("missing file", ("search", missing + ".yaml"), ("does_not_exist", "not exist")))
    add(Case("missing file", ("study", "run", missing + ".yaml"), ("does_not_exist",)))
    add(Case("missing file", ("study", "resume", missing), ("does_not_exist", "study")))
    add(Case("missing file", ("report", missing), ("does_not_exist", "study.json")))
    add(Case("missing file", ("evaluate", "-w", missing + ".csv"), ("does_not_exist",)))
    add(Case("missing file", ("evaluate", "-w", missing + ".csv:net"), ("does_not_exist",)))
    add(Case("missing file", ("evaluate", "--tech", missing + ".yaml"), ("does_not_exist",)))
    add(Case("missing file", ("validate", "--reference", missing + ".csv"), ("does_not_exist",)))
    add(Case("missing file", ("search", s("mf", workloads=[missing + ".csv"])),
             ("workloads", "does_not_exist")))
    add(Case("malformed file", ("search", f("bad.yaml", "technology: [rram\n")), ("yaml",)))
    add(Case("malformed file", ("search", f("bin.yaml", bytes(range(256)))), ("bin.yaml",)))
    add(Case("malformed file", ("study", "run", f("bad_study.yaml", "name: x\n  : :\n")),
             ("yaml",)))
    add(Case("malformed file", ("evaluate", "-w", f("nocols.csv", "a,b\n1,2\n")),
             ("nocols.csv", "network")))
    add(Case("malformed file", ("evaluate", "-w", f("binary.csv", b"\xff\xfe\x00net\x00")),
             ("binary.csv",)))
    add(Case("malformed file", ("evaluate", "--tech", f("tech.yaml", "constants: 5\n")),
             ("tech.yaml",)))
    add(Case("malformed file", ("validate", "--reference", f("ref4.csv", "x,y\n1,2\n")),
             ("ref4.csv",)))
    add(Case("malformed file", ("workloads", "show", f("two.csv", GOOD_CSV + GOOD_CSV.split(
        "\n", 1)[1].replace("tiny", "tinier"))), ("two.csv", "tiny")))
    add(Case("missing argument", ("study", "run"), ("config",)))
    add(Case("missing argument", ("search", "--out"), ("--out",)))
    return c


def corrupt_cases(tmp: Path, study_dir: Path, search_dir: Path, journal: Path,
                  search_cfg: str) -> list[Case]:
    """Results damaged after a run (a finished study, a search's checkpoint journal)."""
    out: list[Case] = []

    def copy(name: str) -> Path:
        dst = tmp / name
        shutil.copytree(study_dir, dst)
        return dst

    d = copy("st_trunc")
    state = d / "study.json"
    state.write_bytes(state.read_bytes()[: len(state.read_bytes()) // 2])
    out.append(Case("corrupt results", ("study", "resume", str(d)), ("study.json", "corrupt")))
    out.append(Case("corrupt results", ("report", str(d)), ("study.json", "corrupt")))
    d = copy("st_flip")
    run = next(p for p in (d / "runs").iterdir())
    csv = run / "kept_designs.csv.gz"
    raw = bytearray(csv.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    csv.write_bytes(bytes(raw))
    out.append(Case("corrupt results", ("report", str(d)), ("kept_designs.csv.gz", "checksum")))
    d = copy("st_best")
    best = next(p for p in (d / "runs").iterdir()) / "best.json"
    best.write_text(best.read_text()[:100])
    out.append(Case("corrupt results", ("report", str(d)), ("best.json",)))
    d = copy("st_gone")
    next(p for p in (d / "runs").iterdir()).joinpath("convergence.csv").unlink()
    out.append(Case("corrupt results", ("report", str(d)), ("convergence.csv", "missing")))
    d = tmp / "search_flip"
    shutil.copytree(search_dir, d)
    j = d / journal.name
    raw = bytearray(j.read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    j.write_bytes(bytes(raw))
    out.append(Case("corrupt results", ("search", search_cfg, "--out", str(d), "--quiet"),
                    (journal.name, "delete")))
    return out


def run_case(case: Case) -> tuple[bool, str]:
    """(clean?, what was printed) for one case, run in-process."""
    from typer.testing import CliRunner

    from imcopt.cli import app

    r = CliRunner().invoke(app, list(case.args))
    err = r.stderr.strip()
    lines = err.splitlines()
    text = (r.stdout + r.stderr).lower()
    clean = (r.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ")
             and "traceback" not in text
             and all(frag.lower() in lines[0].lower() for frag in case.expect)
             and (r.exception is None or isinstance(r.exception, SystemExit)))
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        err = f"{type(r.exception).__name__}: {r.exception}"
    return clean, err or r.stdout.strip()[:200]
