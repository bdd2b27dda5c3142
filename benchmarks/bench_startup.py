"""Start-up of the command line: `imcopt --help` and `imcopt evaluate` (default design, the
four networks), each run as a fresh process; and one `imcopt.evaluate` call by names.

    python benchmarks/bench_startup.py [--repeats 7]

Prints the fastest and the median wall time of each command over the repeats (the fastest is
the figure least disturbed by other jobs on a shared machine), the import time of
`imcopt.cli` alone in a fresh interpreter, and the mean time of `imcopt.evaluate(key,
"resnet18", "rram")` after the first call (names resolved, technology file read, per call).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    exe = shutil.which("imcopt")
    base = [exe] if exe else [sys.executable, "-c", "from imcopt.cli import app; app()"]
    runs = {
        "python -c 'import imcopt.cli'": [sys.executable, "-c", "import imcopt.cli"],
        "imcopt --help": [*base, "--help"],
        "imcopt evaluate": [*base, "evaluate"],
    }
    for label, cmd in runs.items():
        t = timed(cmd, args.repeats)
        print(f"{label:32s} fastest {min(t):.3f} s, median {statistics.median(t):.3f} s "
              f"({args.repeats} runs)")
    import imcopt

    key = "A_0.6_8_1e-09_512_32_8_64_32_4096"
    imcopt.evaluate(key, "resnet18", "rram")
    t0 = time.perf_counter()
    for _ in range(50):
        imcopt.evaluate(key, "resnet18", "rram")
    print(f"{'imcopt.evaluate(key, names)':32s} {(time.perf_counter() - t0) / 50 * 1e3:.1f} ms "
          "per call (mean of 50, after the first)")


if __name__ == "__main__":
    main()
