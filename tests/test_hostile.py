"""Hostile input, by cause (issue #18): every case of tools/reliability_cases.py, one test per
kind, plus unit tests of the pieces that close each cause (YAML reading, output folders, the
evaluation cache, technology files, failed designs).

A bad command line ends in one `error:` line (<= 300 characters) and exit code 2; a bad Python
argument raises a ValueError (a TypeError too for a wrong type) naming it; hostile but valid
input gets the right outcome (see each trial).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from reliability_cases import (  # noqa: E402
    SMALL_SEARCH,
    Fixtures,
    api_cases,
    cases,
    inventory,
    run_api_case,
    run_case,
    run_trial,
    trials,
)

CLI_KINDS = ["unknown name", "empty set", "outside the space", "zero or negative size",
             "NaN or infinity", "wrong type", "missing file", "malformed file",
             "missing argument", "config that says nothing", "duplicate or coerced value",
             "empty list for a default", "layer size out of range", "workload name",
             "empty output folder", "technology file", "YAML bomb or huge input",
             "range or user code", "corrupt results", "output folder in use"]
TRIAL_KINDS = ["failed design never ranked", "damaged cache rebuilt",
               "finished or replaced output folder", "report on valid results",
               "output to a closed pipe"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The cases' files and the finished runs they damage, made once for this module."""
    tmp = tmp_path_factory.mktemp("hostile")
    return Fixtures(tmp), cases(tmp)


def test_the_kinds_here_are_every_kind_of_the_cases(tmp_path):
    counted = inventory(tmp_path)
    assert list(counted["Bad command lines"]) == CLI_KINDS
    assert list(counted["Hostile but valid inputs"]) == TRIAL_KINDS
    assert all(n >= 2 for section in counted.values() for n in section.values())


@pytest.mark.parametrize("kind", CLI_KINDS)
def test_bad_command_lines_end_in_one_clean_error_line(kind, hostile, monkeypatch):
    fix, all_cases = hostile
    monkeypatch.chdir(fix.tmp)  # a case that wrongly runs writes its outputs here
    bad = []
    for case in [c for c in all_cases if c.kind == kind]:
        clean, printed = run_case(case, fix)
        if not clean:
            bad.append(f"{case.label}: {printed}")
    assert not bad, "\n".join(bad)


def test_bad_python_arguments_raise_a_value_error_naming_them(hostile):
    fix, _ = hostile
    bad = [f"{c.label}: {p}" for c in api_cases() for ok, p in [run_api_case(c, fix)] if not ok]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("kind", TRIAL_KINDS)
def test_hostile_but_valid_inputs_get_the_right_outcome(kind, hostile, monkeypatch):
    fix, _ = hostile
    monkeypatch.chdir(fix.tmp)
    bad = [f"{t.label}: {p}" for t in trials() if t.kind == kind
           for ok, p in [run_trial(t, fix)] if not ok]
    assert not bad, "\n".join(bad)


def test_every_expected_fragment_is_specific(tmp_path):
    """No fragment a message matches by accident (a single letter: "c" is in "cannot"); a
    case about a data file expects that file's name."""
    data_options = {"-w", "--workload", "--tech", "--reference"}
    for case in cases(tmp_path):
        assert case.expect, case.label
        for frag in case.expect:
            assert len(frag.strip()) >= 3, (case.label, frag)
            assert frag.lower() not in "error: (see: imcopt --help)", (case.label, frag)
        if callable(case.args):
            continue
        # the file a case is about: the value of the last option when it is a data file, or
        # the file `workloads show/import` reads (unless the case is about the name)
        args = list(case.args)
        subject = args[-1] if len(args) > 1 and args[-2] in data_options else None
        if args[:2] in (["workloads", "show"], ["workloads", "import"]) and "/" in args[2] \
                and case.kind != "workload name":
            subject = args[2]
        if subject is not None and Path(subject).suffix in (".csv", ".yaml"):
            name = Path(subject).name
            assert any(name in frag for frag in case.expect), (case.label, name)
    for case in api_cases():
        assert case.expect and all(len(f) >= 3 for f in case.expect), case.label


# ---- the pieces, directly -------------------------------------------------------------------
def test_yaml_reading_refuses_duplicates_bombs_and_reads_exponent_floats():
    from imcopt.inputs import EMPTY, InputError, brief, load_yaml

    assert load_yaml("", "f") is EMPTY and load_yaml("# c\n", "f") is EMPTY
    assert load_yaml("---\n", "f") is None  # a document, null
    assert load_yaml("a: 1e-9\nb: [2E3, -1.5e+2]\nc: '1e3'", "f") == {
        "a": 1e-9, "b": [2000.0, -150.0], "c": "1e3"}
    assert load_yaml("base: &b {x: 1}\nuse: {<<: *b, x: 2}", "f")["use"] == {"x": 2}
    for text, words in (("a: 1\nb:\n  c: 2\n  c: 3\n", "f.yaml: line 4: key 'c' is given twice"),
                        ("a: &a [*a]", "f.yaml: line 1: a recursive alias"),
                        ("a: [1, 2", "f.yaml: not valid YAML")):
        with pytest.raises(InputError) as err:
            load_yaml(text, "f.yaml")
        assert words in str(err.value)

    def nested(levels: int) -> str:  # 10**(levels + 1) values once expanded
        return "a0: &a0 [1,2,3,4,5,6,7,8,9,10]\n" + "".join(
            f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, levels + 1))

    assert len(load_yaml(nested(4), "ok.yaml")["a4"]) == 10  # 10**5 values: fine
    with pytest.raises(InputError, match="more than 1,000,000 values"):
        load_yaml(nested(9), "bomb.yaml")  # 10**10: refused before it is built
    shown = brief("/very/long/" + "x" * 500 + "/file_name.csv")
    assert len(shown) < 110 and shown.endswith("file_name.csv' (527 chars)")


def test_configs_are_strict_and_empty_lists_are_not_defaults(tmp_path):
    from imcopt.search import ConfigError, load_config

    for change, words in (({"seed": "1"}, "seed"), ({"seed": True}, "seed"),
                          ({"top_k": 2.0}, "top_k"), ({"cache": "no"}, "cache"),
                          ({"seed": -1}, "seed"), ({"algorithm": {"phases": []}},
                                                   "algorithm.phases: empty"),
                          ({"objective": {"optima": {}}}, "objective.optima: empty")):
        with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
            load_config({**SMALL_SEARCH, **change})
    table = tmp_path / "t.csv"
    table.write_text("network,C,M\nalexnet,3,8\n")
    with pytest.raises(ConfigError, match="both named 'alexnet'"):
        load_config({**SMALL_SEARCH, "workloads": ["alexnet", str(table)]})
    assert load_config({**SMALL_SEARCH, "objective": {"area_limit_mm2": 800}})


def test_layer_dimensions_are_bounded_where_the_model_is_exact():
    from imcopt.workloads import Layer, WorkloadError
    from imcopt.workloads.layer import MAX_DIM

    Layer("ok", "conv", C=MAX_DIM, M=1)
    for kwargs, words in (({"C": MAX_DIM + 1, "M": 1}, "larger than"),
                          ({"C": 2**30, "M": 2**30, "P": 2**10}, "macs"),
                          ({"C": 3, "M": 8, "weight_bits": 33}, "weight_bits")):
        with pytest.raises(WorkloadError, match=words):
            Layer("big", "conv", **kwargs)


def test_imported_workload_names_are_checked_whole():
    from imcopt.workloads.user import valid_name

    assert valid_name("resnet18_v2.1-b") and valid_name("a" * 100)
    for name in ("nl\n", "", "a b", "../x", "_a", "a" * 101, None, 5, "a\x00"):
        assert not valid_name(name), name


def test_technology_required_constants_come_from_the_built_in_tables(tmp_path, monkeypatch):
    """A constant added to every built-in table is required of a technology file, with no
    list to edit; one only some tables have is not; bounds follow the unit."""
    import imcopt.hardware.technology as t
    from imcopt.hardware import DesignError

    raw = yaml.safe_load((t.TECH_DIR / "rram.yaml").read_text())
    folder = tmp_path / "techs"
    folder.mkdir()
    for name in ("rram", "sram"):
        doc = yaml.safe_load((t.TECH_DIR / f"{name}.yaml").read_text())
        doc["constants"]["new_energy_j"] = {"value": 1e-15, "unit": "J"}
        if name == "rram":
            doc["constants"]["rram_only_s"] = {"value": 1e-9, "unit": "s"}
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc))
    monkeypatch.setattr(t, "TECH_DIR", folder)
    t.builtin_schema.cache_clear()
    try:
        assert t.builtin_schema()["new_energy_j"] == "J" and "rram_only_s" not in t.builtin_schema()
        old = tmp_path / "old.yaml"
        old.write_text(yaml.safe_dump(raw))
        with pytest.raises(DesignError, match=r"constant new_energy_j .*is missing"):
            t.load_technology(old)
        raw["constants"]["new_energy_j"] = {"value": -1.0, "unit": "J"}
        old.write_text(yaml.safe_dump(raw))
        with pytest.raises(DesignError, match=r"new_energy_j\.value = -1 must be a finite "
                                              r"number >= 0 \(unit: J\)"):
            t.load_technology(old)
        raw["constants"]["new_energy_j"]["value"] = 2e-15
        old.write_text(yaml.safe_dump(raw))
        assert t.load_technology(old).c["new_energy_j"] == 2e-15
    finally:
        t.builtin_schema.cache_clear()
    assert t.constant_bound("any_exponent", "1").text() == "a finite number >= -10 and <= 10"
    assert not t.constant_bound("x_j", "J").admits(float("nan"))


def test_output_folder_states(tmp_path):
    """claim_search: new, resume (its journal), complete (verified), rerun (damaged), and a
    different search refused unless forced; the lock excludes a second holder."""
    from imcopt.outdir import COMPLETE, NEW, RERUN, RESUME, FolderError, claim_search, locked
    from imcopt.search import load_config, run_search, write_results
    from imcopt.search.checkpoint import checkpoint_path
    from imcopt.search.config import search_identity

    cfg = load_config(SMALL_SEARCH)
    ident = search_identity(cfg)
    out = tmp_path / "o"
    journal = checkpoint_path(out, cfg)
    assert claim_search(tmp_path / "fresh", ident, journal)[0] == NEW
    result = run_search(cfg, checkpoint=journal)
    assert claim_search(out, ident, journal)[0] == RESUME
    write_results(result, out)
    journal.unlink()
    assert claim_search(out, ident, journal)[0] == COMPLETE
    other = search_identity(load_config({**SMALL_SEARCH, "seed": 9}))
    with pytest.raises(FolderError, match="differs in seed"):
        claim_search(out, other, checkpoint_path(out, load_config({**SMALL_SEARCH, "seed": 9})))
    (out / "best.json").write_text("{}")
    (out / "evaluations.sqlite").write_bytes(b"a cache")
    (out / "notes.txt").write_text("the user's")
    assert claim_search(out, ident, journal)[0] == RERUN
    assert not (out / "run.json").exists()  # imcopt's files removed, the others kept
    assert (out / "evaluations.sqlite").exists() and (out / "notes.txt").exists()
    with locked(out), pytest.raises(FolderError, match="another imcopt run"), locked(out):
        pass
    with locked(out):  # released: taken again
        pass


def test_output_folder_rules_know_every_file_a_search_writes(tmp_path):
    """The folder rules (`outdir`: stray outputs refused, `--force` and stale-file removal)
    cover every file `write_results` writes, `--save-all`'s designs.parquet included, and a
    finished folder holds every required file."""
    from imcopt.outdir import SEARCH_FILES, SEARCH_REQUIRED, clear
    from imcopt.search import load_config, run_search, write_results

    result = run_search(load_config(SMALL_SEARCH))
    written = write_results(result, tmp_path / "all", save_all=True)
    assert {p.name for p in written.values()} <= set(SEARCH_FILES)
    assert "designs.parquet" in {p.name for p in written.values()}
    plain = write_results(result, tmp_path / "plain")
    assert set(SEARCH_REQUIRED) <= {p.name for p in plain.values()}
    (tmp_path / "all" / "notes.txt").write_text("the user's")
    clear(tmp_path / "all")
    assert [p.name for p in (tmp_path / "all").iterdir()] == ["notes.txt"]


def test_a_damaged_cache_is_set_aside_and_handles_to_it_go_stale(tmp_path):
    from imcopt.backends.base import WorkloadMetrics
    from imcopt.cache import EvaluationCache

    path = tmp_path / "evaluations.sqlite"
    path.write_bytes(b"\x00" * 5000)
    cache = EvaluationCache(path)
    with pytest.warns(UserWarning, match="set aside"):
        ctx = cache.context("analytical", "v1", "rram", "alexnet")
    assert len(list(tmp_path.glob("evaluations.sqlite.damaged-*"))) == 1
    m = WorkloadMetrics("alexnet", np.ones(2), np.ones(2), np.ones(2), np.ones(2, bool),
                        np.ones(2), np.array(["", ""], dtype=object))
    cache.put(ctx, ["A_1", "A_2"], m)
    assert cache.get(ctx, ["A_1", "A_3"])[0].tolist() == [True, False]
    cache.close()
    with sqlite3.connect(path) as db:  # damage it while the handle is held
        db.execute("DROP TABLE evaluations")
        db.execute("CREATE TABLE evaluations (x)")
    stale = ctx
    with pytest.warns(UserWarning, match="not an imcopt evaluation cache"):
        found, _ = cache.get(stale, ["A_1"])
    assert not found.any()
    cache.put(stale, ["A_9"], m.take(np.array([0])))  # computed against the old file: dropped
    fresh = cache.context("analytical", "v1", "rram", "alexnet")
    assert fresh != stale and not cache.get(fresh, ["A_9"])[0].any()


def test_rows_staged_for_a_file_set_aside_are_found_but_never_written(tmp_path, monkeypatch):
    """Batched writes (`stage`) meet a damaged file: rows staged under a handle of the file
    set aside are still found while held, but not written to the new file (their context
    ids belong to the old one); rows staged under a fresh handle are."""
    import imcopt.cache as c
    from imcopt.backends.base import WorkloadMetrics

    monkeypatch.setattr(c, "FLUSH_EVERY_S", 1e9)  # written on flush only
    path = tmp_path / "evaluations.sqlite"
    m = WorkloadMetrics("alexnet", np.ones(1), np.ones(1), np.ones(1), np.ones(1, bool),
                        np.ones(1), np.array([""], dtype=object))
    cache = c.EvaluationCache(path)
    stale = cache.context("analytical", "v1", "rram", "alexnet")
    cache.put(stale, ["A_1"], m)
    cache.close()
    with sqlite3.connect(path) as db:  # damaged while the handle is held
        db.execute("DROP TABLE evaluations")
        db.execute("CREATE TABLE evaluations (x)")
    cache.stage(stale, ["A_5"], m)
    with pytest.warns(UserWarning, match="set aside"):
        found, _ = cache.get(stale, ["A_5", "A_1"])
    assert found.tolist() == [True, False]  # staged: held; A_1: in the file set aside
    cache.flush()
    fresh = cache.context("analytical", "v1", "rram", "alexnet")
    assert fresh != stale and len(cache) == 0  # the stale handle's rows were dropped
    cache.stage(fresh, ["A_6"], m)
    cache.flush()
    assert len(cache) == 1 and cache.get(fresh, ["A_6", "A_5"])[0].tolist() == [True, False]


def test_failed_and_unmanufacturable_designs_are_never_feasible():
    import imcopt
    from imcopt.hardware import get_space, load_technology
    from imcopt.objectives import Evaluator, Objective
    from imcopt.storage import json_safe
    from imcopt.workloads import get

    m = imcopt.evaluate({"voltage_v": [1e300, 0.6]}, "resnet18", per_layer=False)
    assert m.feasible.tolist() == [False, m.feasible[1]] and np.isinf(m.energy_j[0])
    assert "failed: energy_j is inf" in m.reason[0]
    m = imcopt.evaluate({"glb_depth_words": 1e300, "rows_per_array": 512}, "resnet18")
    assert not m.feasible[0] and "edap_j_s_mm2 overflows" in m.reason[0]
    # 8,192 arrays of 256 x 256: ~1,700 mm2; 16,384: ~3,500 mm2, below the limit but with no
    # good die per wafer
    space = get_space("rram").restrict(router_groups=(8, 16), tiles_per_group=(16,),
                                       arrays_per_tile=(64,), rows_per_array=(256,),
                                       cols_per_array=(256,))
    ev = Evaluator(space, load_technology("rram"), [get("resnet18")], area_limit_mm2=5000.0)
    e = ev.evaluate(space.all_genomes()[::13])
    big = ~np.isfinite(e.cost_usd) & (e.area_mm2 <= 5000.0)
    assert big.any() and not e.feasible[big].any() and not ev.screen(e.genomes)[big].any()
    assert np.all(np.isinf(Objective("el_cost").fitness(e)[big]))
    assert np.all(e.area_violation[big] > 0)
    assert json.dumps(json_safe({"a": np.float64("inf"), "b": [np.nan, 1]}),
                      allow_nan=False) == '{"a": null, "b": [null, 1]}'
