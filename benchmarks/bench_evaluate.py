"""Design-layer evaluations per second of the cost model.

    python benchmarks/bench_evaluate.py [--designs 100000] [--tech rram] [--repeats 3]

Evaluates N random designs of the technology's default space on the 4-network set
(resnet18, vgg16, alexnet, mobilenet_v3: 109 layers) and prints the best of `repeats`
timings as design-layer evaluations per second. Pin one core for the figure README quotes:
`taskset -c 0 python benchmarks/bench_evaluate.py`.
"""

from __future__ import annotations

import argparse
import os
import time

# one core: elementwise numpy is single-threaded anyway, this keeps BLAS from spreading
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from imcopt.hardware import get_space, load_technology  # noqa: E402
from imcopt.model import evaluate  # noqa: E402
from imcopt.workloads import FOUR_NETWORKS, get  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--designs", type=int, default=100_000)
    ap.add_argument("--tech", default="rram", choices=("rram", "sram"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    space = get_space(args.tech)
    tech = load_technology(args.tech)
    workloads = [get(name) for name in FOUR_NETWORKS]
    layers = sum(len(w) for w in workloads)
    designs = space.decode(space.sample(args.designs, 0))
    evaluate(designs.take(slice(0, 100)), workloads[0], tech)  # warm-up

    best = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for w in workloads:
            evaluate(designs, w, tech, per_layer=False)
        best = min(best, time.perf_counter() - t0)
    rate = args.designs * layers / best
    print(f"technology           {args.tech}")
    print(f"designs              {args.designs}")
    print(f"layers (4 networks)  {layers}")
    print(f"best of {args.repeats} runs        {best:.3f} s")
    print(f"design-layer evals/s {rate:,.0f}")


if __name__ == "__main__":
    main()
