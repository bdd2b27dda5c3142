"""Mutation score of the core packages: how many deliberately planted bugs the tests catch.

    python tools/mutation_score.py            # run mutmut (pyproject [tool.mutmut]), then score
    python tools/mutation_score.py --report   # only score the last run (mutants/ kept)

mutmut plants one small change at a time (an operator, a constant, a condition) in the
modules `[tool.mutmut] only_mutate` names and runs the tests that `pytest_add_cli_args_test_
selection` lists; a mutant the tests fail on is killed. Prints killed / total per module and
overall. Slow (about 1.4 mutants a second here), so not part of CI. Some survivors are
equivalent mutants (the change cannot alter any result, e.g. `astype(np.float64)` ->
`astype(None)`), which no test can kill.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")


def score() -> dict[str, collections.Counter]:
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name:
            continue
        module = name.rsplit(".", 1)[0]
        by_module[module][status] += 1
    return by_module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", action="store_true", help="score the last run only")
    args = ap.parse_args()
    if not args.report:
        subprocess.run([str(MUTMUT), "run"], cwd=ROOT, check=False)
    total = collections.Counter()
    for module, counts in sorted(score().items()):
        n = sum(counts.values())
        total.update(counts)
        print(f"{module:40s} killed {counts['killed']:5d} / {n:5d}  "
              f"({100 * counts['killed'] / n:5.1f} %)  survived {counts['survived']}")
    n = sum(total.values())
    print(f"{'all':40s} killed {total['killed']:5d} / {n:5d}  ({100 * total['killed'] / n:5.1f} %)"
          f"  {dict(total)}")


if __name__ == "__main__":
    main()
