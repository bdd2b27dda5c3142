"""What a per-network weight replication cap buys (issue 9). Run:
python benchmarks/bench_replication.py

SRAM (streamed weights), 4 networks (resnet18, vgg16, alexnet, mobilenet_v3), `max`
aggregation, 800 mm^2, four-phase GA, seeds 1..3:

1. fixed: every network replicates its weights into as many arrays as fit (the model's
   default), the same config without its `precision` section;
2. searched: examples/sram_4net_software.yaml (each network's cap 1, 4, 16 or unlimited,
   8-bit precision).

Prints, per seed, each network's EDAP at the best design of each search and the ratio
(searched / fixed; < 1 is better), the caps chosen, and the fixed optimum's chip with each
network at its cheapest cap (the hardware unchanged: at least as good by construction).
Then, away from the optimum: over --sample random chips of the SRAM space within the area
limit, each network's EDAP at its cheapest cap / unlimited (quartiles).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from imcopt.search.config import load_config
from imcopt.search.runner import run_search

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sram_4net_software.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sample", type=int, default=1000)
    args = ap.parse_args()
    soft_cfg = load_config(EXAMPLE)
    fixed_cfg = soft_cfg.model_copy(update={"precision": None})
    names = list(soft_cfg.workloads)
    ratios, fit_ratios, same_hw_ratios = [], [], []
    for seed in range(1, args.seeds + 1):
        fixed_cfg.seed = soft_cfg.seed = seed
        t0 = time.perf_counter()
        fixed = run_search(fixed_cfg)
        t1 = time.perf_counter()
        soft = run_search(soft_cfg)
        t2 = time.perf_counter()
        b_fixed, b_soft = fixed.best()[0], soft.best()[0]
        e_fixed = np.array([b_fixed["workloads"][n]["edap_j_s_mm2"] for n in names])
        e_soft = np.array([b_soft["workloads"][n]["edap_j_s_mm2"] for n in names])
        ev = soft.evaluator
        unlimited = ev.space.parameters[ev.space.n_hardware + 2].values.index(0)
        g = np.concatenate([b_fixed["genome"], [0, 0, unlimited] * len(names)])[None, :]
        polished = ev.evaluate(ev.polish_precision(g))
        same_hw = polished.edap[0]
        same_fit = soft.objective.fitness(polished)[0]
        print(f"seed {seed}: fixed search {t1 - t0:.1f} s, replication search {t2 - t1:.1f} s")
        print(f"  fixed best:    {b_fixed['key']}  max-agg {b_fixed['fitness']:.4g}")
        print(f"  searched best: {b_soft['key']}  max-agg {b_soft['fitness']:.4g}")
        print(f"  {'network':14s} {'EDAP fixed':>11s} {'EDAP search':>12s} {'ratio':>7s} "
              f"{'cap':>4s} {'same hw':>8s}")
        for w, name in enumerate(names):
            print(f"  {name:14s} {e_fixed[w]:11.4g} {e_soft[w]:12.4g} "
                  f"{e_soft[w] / e_fixed[w]:7.3f} {b_soft['workloads'][name]['replication']:4d} "
                  f"{same_hw[w] / e_fixed[w]:8.3f}")
        ratios.append(e_soft / e_fixed)
        fit_ratios.append(b_soft["fitness"] / b_fixed["fitness"])
        same_hw_ratios.append(same_fit / b_fixed["fitness"])
    r = np.array(ratios)
    print("median EDAP ratio per network (searched / fixed): "
          + ", ".join(f"{n} {v:.3f}" for n, v in zip(names, np.median(r, axis=0), strict=True)))
    print("best design at least as good on every network: "
          f"{int(np.all(r <= 1 + 1e-12, axis=1).sum())} of {len(r)} seeds")
    print("max-aggregation fitness ratio (searched / fixed): "
          + ", ".join(f"{v:.3f}" for v in fit_ratios))
    print("fixed optimum's chip, each network at its cheapest cap (fitness ratio): "
          + ", ".join(f"{v:.3f}" for v in same_hw_ratios))
    random_chips(soft.evaluator, names, args.sample)


def random_chips(ev, names: list[str], n: int) -> None:
    """Each network's EDAP at its cheapest cap / unlimited on random chips within the area
    limit."""
    space = ev.space
    hw = space.hardware.sample(n, 0)
    unlimited = space.parameters[space.n_hardware + 2].values.index(0)
    g = np.column_stack([hw, np.tile([0, 0, unlimited], (n, len(names)))])
    g = g[ev.evaluate(g).area_ok]
    before, after = ev.evaluate(g), ev.evaluate(ev.polish_precision(g))
    ratio = after.edap / before.edap
    print(f"{len(g)} random chips within the area limit, EDAP at the cheapest cap / unlimited "
          "(25/50/75 %): " + "; ".join(
              f"{name} " + "/".join(f"{q:.3f}" for q in np.percentile(ratio[:, w], [25, 50, 75]))
              for w, name in enumerate(names)))


if __name__ == "__main__":
    main()
