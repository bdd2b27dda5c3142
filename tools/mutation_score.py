"""Mutation score of the core packages: how many deliberately planted bugs the tests catch.

    python tools/mutation_score.py            # run mutmut (pyproject [tool.mutmut]), then score
    python tools/mutation_score.py --sample 150 --seed 1   # a random sample of the mutants
    python tools/mutation_score.py --report   # only score the mutants the last runs tried
    python tools/mutation_score.py --names mutants/sample.txt   # (re)run a saved sample

mutmut plants one small change at a time (an operator, a constant, a condition) in the
modules `[tool.mutmut] only_mutate` names and runs the tests that `pytest_add_cli_args_test_
selection` lists; a mutant the tests fail on is killed, and one they never finish on (a
timeout: an endless loop the mutant made) is caught too. Prints caught / total per module and
overall. Slow (a 120-mutant sample of the core packages took about 25 min here), so not
part of CI. mutmut keeps the result of a mutant whose function has not changed, even when
the tests have: delete mutants/ to score new tests against every mutant again. Some survivors are
equivalent mutants (the change cannot alter any result, e.g. `astype(np.float64)` ->
`astype(None)`), which no test can kill.

--sample N: every mutant is generated, then N of them, drawn at random (--seed), are run and
scored: an unbiased estimate of the whole score, with its 95 % interval (Wilson), where the
whole run takes hours. The drawn names are saved to mutants/sample.txt, so that the same
sample can be run again (`--names`) once tests are added for its survivors.
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")
#: mutmut runs the tests once in its own process, then forks one child per mutant; a thread
#: pool that OpenMP (PyTorch, BLAS) started before the fork hangs the child, which then
#: "times out" without any test failing. One thread per pool starts none.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
       "OPENBLAS_NUM_THREADS": "1"}


def score(only: set[str] | None = None) -> dict[str, collections.Counter]:
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name or (only is not None and name not in only) or status == "not checked":
            continue  # a mutant no run has tried (a sample's others) has no score
        module = name.rsplit(".", 1)[0]
        by_module[module][status] += 1
    return by_module


def all_names() -> list[str]:
    """Every generated mutant's name (after a run has generated them)."""
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return sorted(line.strip().rpartition(": ")[0] for line in out.splitlines()
                  if ": " in line)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % interval of a proportion k / n (Wilson score)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", action="store_true", help="score the last run only")
    ap.add_argument("--sample", type=int, default=None, help="run N random mutants only")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--names", type=Path, default=None,
                    help="run and score the mutants named in this file, one per line")
    args = ap.parse_args()
    chosen: set[str] | None = None
    if args.names is not None:
        chosen = {n.strip() for n in args.names.read_text().splitlines() if n.strip()}
        subprocess.run([str(MUTMUT), "run", *sorted(chosen)], cwd=ROOT, check=False, env=ENV)
    elif args.sample is not None:
        # generate every mutant without running one (a pattern that matches none), then draw
        subprocess.run([str(MUTMUT), "run", "no-such-mutant"], cwd=ROOT, check=False, env=ENV,
                       capture_output=True)
        names = all_names()
        chosen = set(random.Random(args.seed).sample(names, min(args.sample, len(names))))
        (ROOT / "mutants" / "sample.txt").write_text("".join(f"{n}\n" for n in sorted(chosen)))
        subprocess.run([str(MUTMUT), "run", *sorted(chosen)], cwd=ROOT, check=False, env=ENV)
    elif not args.report:
        subprocess.run([str(MUTMUT), "run"], cwd=ROOT, check=False, env=ENV)
    total = collections.Counter()
    for module, counts in sorted(score(chosen).items()):
        n = sum(counts.values())
        total.update(counts)
        caught = counts["killed"] + counts["timeout"]
        print(f"{module:40s} caught {caught:5d} / {n:5d}  ({100 * caught / n:5.1f} %)  "
              f"survived {counts['survived']}")
    n = sum(total.values())
    caught = total["killed"] + total["timeout"]
    low, high = wilson(caught, n)
    print(f"{'all':40s} caught {caught:5d} / {n:5d}  ({100 * caught / max(n, 1):5.1f} %, 95 % "
          f"interval {100 * low:.1f} to {100 * high:.1f} %)  {dict(total)}")


if __name__ == "__main__":
    main()
