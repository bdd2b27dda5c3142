"""Run the reliability trials and write docs/reliability.md (its tables are generated here).

    PYTHONPATH=src python tools/reliability_report.py            # ~2-4 minutes
    PYTHONPATH=src python tools/reliability_report.py --quick    # fewer trials, to try it

Trials:
- hostile inputs: every case of tools/reliability_cases.py. Bad command lines (unknown
  names, empty sets, values outside the space, zero/negative sizes, NaN/inf, wrong types,
  missing and malformed files, corrupt results, and the causes of issue #18: configs that
  say nothing, duplicates and coercion, empty lists, absurd layer sizes, workload names,
  empty or busy output folders, technology files, YAML bombs): clean = exit code 2 and one
  line `error: ...` of at most 300 characters on stderr naming the file, line or field (the
  case's expected fragments), no traceback. Bad Python API arguments: a ValueError (also a
  TypeError for a wrong type) naming the argument. Hostile but valid inputs (failed designs,
  damaged caches, finished or replaced output folders, unusual results to report, a closed
  pipe): the right outcome, checked case by case.
- kill/resume: real `imcopt search` and `imcopt study run` processes killed with SIGKILL (or
  stopped with SIGINT) at random moments, then re-run / resumed; matched = the outputs
  (kept_designs.csv.gz, convergence.csv, best.json of every run) are byte-identical to an
  uninterrupted run's.
- property tests: the hypothesis tests of tests/test_reliability.py (random designs of every
  space; mutated config, study, technology and layer-table files), run with
  IMCOPT_PROPERTY_EXAMPLES examples each.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
OUTPUTS = ("kept_designs.csv.gz", "convergence.csv", "best.json")
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools"), str(ROOT / "tests")]


def imcopt_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from imcopt.cli import app; app()", *args]


def hostile_inputs(tmp: Path) -> dict[str, tuple[Counter, Counter, list[str]]]:
    """Every case of tools/reliability_cases.py, by section: (tried, right, what went wrong)
    per kind."""
    from reliability_cases import (
        SECTIONS,
        Fixtures,
        api_cases,
        cases,
        run_api_case,
        run_case,
        run_trial,
        trials,
    )

    os.chdir(tmp)  # a case that wrongly runs writes its outputs here
    fix = Fixtures(tmp)
    groups = [(SECTIONS[0], cases(tmp), run_case), (SECTIONS[1], api_cases(), run_api_case),
              (SECTIONS[2], trials(), run_trial)]
    out = {}
    for section, items, run in groups:
        tried, right, bad = Counter(), Counter(), []
        for item in items:
            ok, printed = run(item, fix)
            tried[item.kind] += 1
            right[item.kind] += ok
            if not ok:
                bad.append(f"{item.label}: {printed[:200]}")
        out[section] = (tried, right, bad)
    os.chdir(ROOT)
    return out


def _same(a: Path, b: Path) -> bool:
    return all((a / n).exists() and filecmp.cmp(a / n, b / n, shallow=False) for n in OUTPUTS)


def _interrupt(cmd: list[str], delay_s: float, sig: int, wait_for: Path | None) -> int | None:
    """Run cmd, send sig after delay_s (counted from when `wait_for` matches a file, if
    given); the exit status, or None when it finished before the signal."""
    p = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if wait_for is not None:
        while not list(wait_for.parent.glob(wait_for.name)) and p.poll() is None:
            time.sleep(0.005)
    time.sleep(delay_s)
    if p.poll() is not None:
        return None
    p.send_signal(sig)
    p.communicate()
    if sig == signal.SIGKILL and p.returncode == 0:
        return None  # it ended between the check above and the signal: not a trial
    return p.returncode


def search_trials(tmp: Path, n_kill: int, n_int: int, rng: random.Random) -> dict[str, tuple]:
    from imcopt.search import run_search, write_results
    from test_reliability import KILL_SEARCH

    cfg = tmp / "kill.yaml"
    cfg.write_text(yaml.safe_dump(KILL_SEARCH))
    ref = tmp / "ref"
    write_results(run_search(KILL_SEARCH), ref)
    out: dict[str, tuple] = {}
    for label, sig, n in (("imcopt search, SIGKILL at a random moment", signal.SIGKILL, n_kill),
                          ("imcopt search, SIGINT (Ctrl-C) at a random moment", signal.SIGINT,
                           n_int)):
        done = matched = late = 0
        while done < n:
            run = tmp / f"s{sig}_{done}"
            shutil.rmtree(run, ignore_errors=True)
            cmd = imcopt_cmd("search", str(cfg), "--out", str(run), "--quiet")
            # some kills during start-up (before any checkpoint), most during the search
            # (SIGINT only once the search runs: Ctrl-C during Python's start-up is Python's)
            early = sig == signal.SIGKILL and rng.random() < 0.2
            rc = _interrupt(cmd, (rng.uniform(0.2, 1.5) if early else rng.uniform(
                0.0, 0.6 if sig == signal.SIGKILL else 0.3)),
                            sig, None if early else run / ".checkpoint-*")
            if rc is None:
                continue  # finished before the signal: not a trial
            if sig == signal.SIGKILL:
                stopped_ok = rc == -signal.SIGKILL
            else:  # mid-search: exit 130 and the resume command; a Ctrl-C that lands while
                # Python shuts down after the outputs are complete ends it as Python does
                stopped_ok = rc == 130 or (rc in (0, -signal.SIGINT) and _same(run, ref))
                late += rc != 130
            again = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
            done += 1
            matched += (stopped_ok and again.returncode == 0 and _same(run, ref)
                        and not list(run.glob(".checkpoint-*")))
        if sig == signal.SIGINT and late:
            label += f" ({late} landed after the outputs were complete)"
        out[label] = (n, matched)
    return out


def study_trials(tmp: Path, n: int, rng: random.Random) -> dict[str, tuple]:
    study_cfg = ROOT / "examples" / "small_study.yaml"
    ref = tmp / "study_ref"
    t0 = time.monotonic()
    subprocess.run(imcopt_cmd("study", "run", str(study_cfg), "--out", str(ref), "--quiet"),
                   env=ENV, check=True, capture_output=True)
    whole_s = time.monotonic() - t0  # kills land within an uninterrupted run's time
    cells = sorted(p.name for p in (ref / "runs").iterdir())
    done = matched = 0
    while done < n:
        run = tmp / f"study_{done}"
        shutil.rmtree(run, ignore_errors=True)
        rc = _interrupt(imcopt_cmd("study", "run", str(study_cfg), "--out", str(run), "--quiet"),
                        rng.uniform(0.3, 1.0) * whole_s, signal.SIGKILL, None)
        if rc is None:
            continue
        # the state file exists from the study's first moment on; killed before it, the
        # study is simply started again
        again_cmd = (imcopt_cmd("study", "resume", str(run), "--quiet")
                     if (run / "study.json").exists() else
                     imcopt_cmd("study", "run", str(study_cfg), "--out", str(run), "--quiet"))
        again = subprocess.run(again_cmd, env=ENV, capture_output=True, text=True)
        done += 1
        got = sorted(p.name for p in (run / "runs").iterdir()) if (run / "runs").exists() else []
        matched += (rc == -signal.SIGKILL and again.returncode == 0 and got == cells
                    and all(_same(run / "runs" / c, ref / "runs" / c) for c in cells))
    return {"imcopt study run, SIGKILL at a random moment, then `study resume`": (n, matched)}


def property_trials() -> tuple[Counter, Counter]:
    """(examples passed, examples failed) per property; IMCOPT_PROPERTY_EXAMPLES is set."""
    import test_reliability as t

    failed: Counter = Counter()
    designs = t.test_random_designs_have_sane_metrics_and_consistent_feasibility
    runs = [(f"random designs ({space})", designs, {"space_name": space})
            for space in sorted(t.EVALUATORS)]
    runs += [(f"mutated {name}", t.test_loaders_on_mutated_files_load_or_raise_value_error,
              {"name": name, "tmp_path_factory": _TmpFactory()}) for name in sorted(t.VALID_FILES)]
    for label, test, kwargs in runs:
        try:
            test(**kwargs)
        except Exception as exc:  # a failing property is reported, not raised
            failed[label] += 1
            print(f"property {label} failed: {type(exc).__name__}: {exc}"[:500], flush=True)
    return t.EXAMPLES, failed


class _TmpFactory:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="imcopt_fuzz_"))
        self.n = 0

    def mktemp(self, name: str) -> Path:
        self.n += 1
        path = self.root / f"{name}{self.n}"
        path.mkdir()
        return path


def _pct(ok: int, n: int) -> str:
    return f"{100.0 * ok / n:.0f} %" if n else "-"


HEADINGS = {"Bad command lines": "clean exit 2",
            "Bad Python API arguments": "a ValueError naming the argument",
            "Hostile but valid inputs": "the right outcome"}


def _section(title: str, rows: tuple[Counter, Counter, list[str]], what: str) -> list[str]:
    tried, right, failures = rows
    lines = [f"## {title}: {HEADINGS[title]}", "", f"| kind | tried | {what} | share |",
             "| --- | ---: | ---: | ---: |"]
    for kind in tried:
        lines.append(f"| {kind} | {tried[kind]} | {right[kind]} | "
                     f"{_pct(right[kind], tried[kind])} |")
    n, ok = sum(tried.values()), sum(right.values())
    lines += [f"| **all** | **{n}** | **{ok}** | **{_pct(ok, n)}** |", ""]
    if failures:
        lines += ["Not right:", "", *[f"- `{f}`" for f in failures], ""]
    return lines


def render(hostile: dict[str, tuple[Counter, Counter, list[str]]], kills: dict[str, tuple],
           props: tuple[Counter, Counter], seconds: float, command: str) -> str:
    lines = [
        "# Reliability",
        "",
        "<!-- generated by tools/reliability_report.py: do not edit by hand -->",
        "",
        "Generated by running the trials, not typed: "
        f"`{command}` ({seconds:.0f} s on the machine it ran on). How each guarantee works is "
        "described below the tables; every case is in `tools/reliability_cases.py`, and the "
        "test suite re-counts them against these tables.",
        "",
    ]
    whats = {"Bad command lines": "clean exit 2", "Bad Python API arguments": "clean error",
             "Hostile but valid inputs": "right outcome"}
    for title, rows in hostile.items():
        lines += _section(title, rows, whats[title])
    lines += ["## Killed and interrupted runs: resumed to identical outputs", "",
              "| trial | trials | identical outputs | share |", "| --- | ---: | ---: | ---: |"]
    for label, (n_t, n_ok) in kills.items():
        lines.append(f"| {label} | {n_t} | {n_ok} | {_pct(n_ok, n_t)} |")
    n, ok = sum(v[0] for v in kills.values()), sum(v[1] for v in kills.values())
    lines += [f"| **all** | **{n}** | **{ok}** | **{_pct(ok, n)}** |", "",
              "## Property and fuzz tests", "",
              "| property | examples run | passed | share |", "| --- | ---: | ---: | ---: |"]
    passed, failed = props
    for name in sorted(set(passed) | set(failed)):
        n_run = passed[name] + failed[name]
        lines.append(f"| {name} | {n_run} | {passed[name]} | {_pct(passed[name], n_run)} |")
    n, ok = sum(passed.values()) + sum(failed.values()), sum(passed.values())
    lines += [f"| **all** | **{n}** | **{ok}** | **{_pct(ok, n)}** |", ""]
    lines.append(EXPLANATION)
    return "\n".join(lines) + "\n"


EXPLANATION = """## How it works

- **Bad input** (`imcopt.config`, `imcopt.inputs`, `search/config.py`, `study/config.py`,
  `cli.py`): configs are strict pydantic models: unknown settings are named (with a "did you
  mean" and the allowed names), a value of the wrong type is an error, never coerced ("3" is
  not 3, "yes" is not true), NaN and infinity, empty lists, non-positive sizes and seeds
  outside 0..2**32-1 are refused; an empty list or mapping never stands for the default. A
  config file that holds no settings (empty, only comments, `{}`) is an error, not the
  default job. YAML is read by `imcopt.inputs`: a key given twice is an error naming both
  lines; aliases are bounded (a "billion laughs" file is refused, a recursive alias too);
  text inputs are at most 20 MB. Space values, `start`, weights and optima are checked
  against the space and the workloads; two workloads with the same name are refused.
  Every such error is a `ValueError` that the CLI prints as one line `error: ...` of at most
  300 characters, with exit code 2 (`imcopt --debug ...` shows the traceback); a value
  echoed in a message is cut to a few dozen characters (its start and end, its length).
  Warnings are one line `warning: ...` too; the cost model's NumPy warnings are silenced
  where a bad value becomes a failed design instead.
- **Files users give** (`workloads/table.py`, `workloads/importers/timeloop.py`,
  `hardware/technology.py`): layer tables and Timeloop files name the file, line and column;
  a dimension must be a positive integer up to 2**31 - 1 (bits up to 32) and a layer's MACs
  and values at most 2**53, the range the model computes exactly. Technology files are
  validated like configs: unknown settings named, every constant the built-in tables have
  must be there (the required list is derived from the built-in tables, so a new constant
  is required by adding it to them), each value a finite number within the bound of its
  unit (energies and areas >= 0, voltages, times and rates > 0, exponents within [-10, 10]).
  Imported workload names are checked whole (1 to 100 letters, digits, `_.-`).
- **Python API** (`api.py`, `hardware/space.py`): a bad argument raises a `ValueError`
  subclass naming it (`DesignError`, `WorkloadError`, ...); one of the wrong type is also a
  `TypeError` (`DesignTypeError`, `WorkloadTypeError`, `TechnologyTypeError`).
- **Atomic files** (`imcopt.storage`): every output file (search folder, study state, cell
  folders, report, calibration and validation outputs, layer tables) is written to a
  temporary file, fsync'ed and renamed over the target, so a kill leaves the old file or the
  new one. JSON is written strictly (no `NaN` or `Infinity`: a non-finite number is `null`).
  Each search output folder gets `checksums.json` (SHA-256 of every file) written last;
  `imcopt report` needs it, checks that it lists every output and that each is unchanged,
  and names a file that was cut short, changed or deleted.
- **Output folders** (`imcopt.outdir`): a search or study holds an exclusive lock on its
  folder (`flock` on `.imcopt.lock`; the kernel drops it when the process ends, killed or
  not), so a second run on the same folder stops at once. A search refuses a folder that
  holds another search (its run.json differs), another search's checkpoint, search files of
  unknown origin or a study, and a study refuses a search's folder or another study, unless
  `--force` (which removes imcopt's files there, and only those). A finished search run
  again on its folder says it is complete and does nothing (`--force` runs it again); one
  whose outputs are damaged is run again. `write_results` refuses another search's folder
  unless `overwrite=True`, and removes the earlier run's files it does not write.
- **Search checkpoint** (`search/checkpoint.py`): every batch the cost model evaluates is
  appended to `OUT/.checkpoint-<config hash>.journal` (checksummed records, fsync'ed in
  groups: the first batch at once, then at most one write every 0.5 s, so a kill loses only
  the batches not written yet, which the resumed run computes again; the hash leaves out how
  evaluations run, so a search resumes on any executor). Re-running the same command replays
  the search from the start with the same seed; each batch is read back from the journal
  instead of being computed, so the result is byte-identical and no design is evaluated
  twice. A record cut short by a kill is dropped; a damaged one is reported by file name.
  Ctrl-C lets the current batch finish, then exits with code 130 and prints the command that
  resumes. The journal is removed once the outputs are written.
- **Studies** (`study/runner.py`): `study.json` is rewritten atomically whenever cells end
  (after their files are durable); `imcopt study resume DIR` runs the cells not finished,
  and the finished cells whose files are missing or fail their checksums (a warning names
  each); a cell's results do not depend on which cells ran before it.
- **Evaluation cache** (`imcopt.cache`; kept with `cache: true`, or by default for backends
  other than the analytical model): a damaged `evaluations.sqlite` (not SQLite,
  malformed pages, another program's database) is renamed `evaluations.sqlite.damaged-...`
  with a one-line warning and a new one is started; the run's results are the same.
- **Failures are data** (`imcopt.failures`): a model run that raises marks its whole batch
  failed on that workload; a NaN, infinite, zero or negative energy, latency or area, or an
  EDAP too large for a float, marks the design failed, in a search, a study, `imcopt
  evaluate` and `imcopt.evaluate` alike. Failed designs are infeasible (fitness +inf, never
  ranked), keep their reason (`failed: ...`) in `kept_designs.csv.gz` and `designs.parquet`
  (column `failed`), are counted in `run.json` (`n_failed`), in each study cell's summary
  and in the report. A die too large for one good die per wafer (an infinite die cost) is
  infeasible whatever the area limit.

## Limits

- A study resumes per cell: the cell running when a study is killed runs again from its start
  (to the same result); within `imcopt search` the checkpoint is per batch.
- Exhaustive scans (`algorithm: exhaustive`, the study's exhaustive cells) are not journaled
  (they would store the whole space); a killed scan starts again.
- Evaluation time-outs need an executor that can stop a model run; the in-process evaluator
  has none, so only errors and bad metrics are turned into failures.
- Output-folder locks use `flock` (POSIX); on a system without it runs are not locked, and
  `flock` may not hold across machines on some network file systems.
- The hypothesis tests are derandomized (the same examples on every run), so the counts above
  are reproducible; `IMCOPT_PROPERTY_EXAMPLES` sets how many (25 in the test suite).
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer trials (not for the doc)")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    os.environ["IMCOPT_PROPERTY_EXAMPLES"] = "40" if args.quick else "200"  # before the import
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    scale = 1 if args.quick else 4
    with tempfile.TemporaryDirectory(prefix="imcopt_reliability_") as d:
        tmp = Path(d)
        hostile = hostile_inputs(tmp)
        for section, (tried, right, _) in hostile.items():
            print(f"{section}: {sum(right.values())}/{sum(tried.values())} right", flush=True)
        kills = search_trials(tmp, 2 * scale, scale, rng)
        kills.update(study_trials(tmp, scale, rng))
        print("kill/resume:", kills, flush=True)
        props = property_trials()
        print("property examples:", sum(props[0].values()), "failed:", sum(props[1].values()),
              flush=True)
    command = "PYTHONPATH=src python tools/reliability_report.py" + (
        " --quick" if args.quick else "")
    DOC.write_text(render(hostile, kills, props, time.perf_counter() - t0, command))
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
