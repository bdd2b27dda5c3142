"""What per-network precision buys (issue 9 bar). Run: python benchmarks/bench_precision.py

RRAM, 4 networks (resnet18, vgg16, alexnet, mobilenet_v3), `max` aggregation, 800 mm^2,
four-phase GA, seeds 1..3:

1. fixed 8 bits: the joint search of examples/rram_4net.yaml;
2. per-network precision: examples/rram_4net_precision.yaml (weights and activations 4, 6 or
   8 bits per network, each network within its minimum accuracy of the ILLUSTRATIVE table
   examples/data/accuracy_illustrative.csv).

Prints, per seed, each network's EDAP at the best design of each search, the ratio
(precision / fixed; < 1 is better) and whether the precision design is at least as good on
every network (the `max` aggregation only weighs the network that sets the max, so the best
design may give a little away on another); the best design the precision search evaluated
that is at least as good on every network; and the fixed-8 optimum's hardware with each
network at its cheapest allowed precision (the hardware unchanged).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from imcopt.search.config import load_config
from imcopt.search.runner import run_search

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def best_edap(result) -> tuple[np.ndarray, dict]:
    b = result.best()[0]
    return np.array([v["edap_j_s_mm2"] for v in b["workloads"].values()]), b


def cheapest_precision_on(hardware_genome: np.ndarray, precision_result) -> np.ndarray:
    """Each network's best EDAP on `hardware_genome` over its accuracy-feasible precisions."""
    ev = precision_result.evaluator
    space = ev.space
    n_hw = space.n_hardware
    soft = space.cardinalities[n_hw:]
    grid = np.stack(np.meshgrid(*[np.arange(c) for c in soft], indexing="ij"), -1)
    grid = grid.reshape(-1, len(soft))
    genomes = np.column_stack([np.repeat(hardware_genome[None, :], len(grid), 0), grid])
    e = ev.evaluate(genomes)
    edap = np.where(e.capacity_ok & e.area_ok[:, None], e.edap, np.inf)
    return edap.min(axis=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    fixed_cfg = load_config(EXAMPLES / "rram_4net.yaml")
    fixed_cfg.objective.optima = None
    prec_cfg = load_config(EXAMPLES / "rram_4net_precision.yaml")
    names = list(fixed_cfg.workloads)
    all_ratios, agg_ratios = [], []
    for seed in range(1, args.seeds + 1):
        fixed_cfg.seed = prec_cfg.seed = seed
        t0 = time.perf_counter()
        fixed = run_search(fixed_cfg)
        t1 = time.perf_counter()
        prec = run_search(prec_cfg)
        t2 = time.perf_counter()
        e_fixed, b_fixed = best_edap(fixed)
        e_prec, b_prec = best_edap(prec)
        seen = prec.evaluator.evaluated()  # the search's own designs, before the look-up below
        dominating = seen.feasible & np.all(seen.edap <= e_fixed[None, :], axis=1)
        same_hw = cheapest_precision_on(np.asarray(b_fixed["genome"]), prec)
        print(f"seed {seed}: fixed-8 search {t1 - t0:.1f} s, precision search {t2 - t1:.1f} s")
        print(f"  fixed-8 best:   {b_fixed['key']}  max-agg {b_fixed['fitness']:.4g}")
        print(f"  precision best: {b_prec['key']}  max-agg {b_prec['fitness']:.4g}")
        print(f"  {'network':14s} {'EDAP fixed-8':>13s} {'EDAP prec.':>11s} {'ratio':>7s} "
              f"{'bits (w/a)':>10s} {'accuracy':>8s} {'same hw':>8s}")
        for w, name in enumerate(names):
            info = b_prec["workloads"][name]
            print(f"  {name:14s} {e_fixed[w]:13.4g} {e_prec[w]:11.4g} "
                  f"{e_prec[w] / e_fixed[w]:7.3f} "
                  f"{info['weight_bits']:>6d}/{info['activation_bits']:<3d} "
                  f"{info['accuracy']:8.1f} {same_hw[w] / e_fixed[w]:8.3f}")
        if dominating.any():
            fit = prec.objective.fitness(seen)
            i = np.flatnonzero(dominating)[np.argmin(fit[dominating])]
            key = prec.evaluator.space.keys(seen.genomes[i:i + 1])[0]
            print(f"  best searched design at least as good as fixed-8 on every network "
                  f"({int(dominating.sum())} such designs evaluated): {key}, max-agg "
                  f"{fit[i]:.4g}, EDAP ratios "
                  + ", ".join(f"{v:.3f}" for v in seen.edap[i] / e_fixed))
        else:
            print("  no searched design is at least as good as fixed-8 on every network")
        ratio = e_prec / e_fixed
        all_ratios.append(ratio)
        agg_ratios.append(b_prec["fitness"] / b_fixed["fitness"])
        print(f"  precision best at least as good on every network: "
              f"{bool(np.all(ratio <= 1.0))}; fixed-8 hardware with chosen precision: "
              f"{bool(np.all(same_hw <= e_fixed))}")
    r = np.array(all_ratios)
    print("median EDAP ratio per network (precision / fixed-8): "
          + ", ".join(f"{n} {v:.3f}" for n, v in zip(names, np.median(r, axis=0), strict=True)))
    print("max-aggregation fitness ratio (precision / fixed-8): "
          + ", ".join(f"{v:.3f}" for v in agg_ratios))


if __name__ == "__main__":
    main()
