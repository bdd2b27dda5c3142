"""How much of each network's cost the data-movement floor (model/floor.py) is, and how fast.

    python benchmarks/bench_floor.py [--space sram_study] [--tech sram] [--designs 20000]

On random designs of the space that pass its screen (800 mm2; partial-sum truncation
accepted, as in the published study), for each of the study's nine
networks: the medians of floor / model for the network's energy, latency and EDAP, the share
of designs whose floor EDAP alone exceeds the network's lowest EDAP among them (what the
exhaustive search can drop without costing a layer), and the seconds the floors (every layer
at once, as the branch and bound computes them) and the full model take for those designs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from imcopt.hardware import get_space, load_technology
from imcopt.model import evaluate
from imcopt.objectives import Evaluator
from imcopt.search.bounds import LayerBound
from imcopt.workloads import get

NETWORKS = ("resnet18", "vgg16", "alexnet", "mobilenet_v3", "gpt2_medium", "mobilebert",
            "densenet201", "resnet50", "vision_transformer")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default="sram_study")
    ap.add_argument("--tech", default="sram")
    ap.add_argument("--designs", type=int, default=20_000)
    args = ap.parse_args()
    # partial-sum truncation accepted, as the published study's set-up (examples/paper.yaml)
    space = get_space(args.space)
    tech = load_technology(args.tech).with_settings(max_psum_bits_lost=float("inf"))
    wls = [get(n) for n in NETWORKS]
    ev = Evaluator(space, tech, wls, 800.0)
    g = space.sample(args.designs, 5)
    g = g[ev.screen(g)]
    bound = LayerBound.build(ev)
    if bound is None:
        raise SystemExit(f"no layer bound for {args.tech} (its layers share the chip)")
    t0 = time.perf_counter()
    e_lb, l_lb, area = bound.lower(g, [])
    t_floor = time.perf_counter() - t0
    d = space.decode(g)
    t0 = time.perf_counter()
    full = [evaluate(d, wl, tech, per_layer=False) for wl in wls]
    t_model = time.perf_counter() - t0
    print(f"{args.space} on {args.tech}: {len(g)} designs that pass the screen")
    print(f"{'network':20s} {'energy':>7s} {'latency':>8s} {'EDAP':>6s} {'dropped':>8s}")
    for w, (wl, m) in enumerate(zip(wls, full, strict=True)):
        edap = m.energy_j * m.latency_s * m.area_mm2
        floor_edap = e_lb[:, w] * l_lb[:, w] * area
        best = edap[m.feasible].min()
        print(f"{wl.name:20s} {np.median(e_lb[:, w] / m.energy_j):7.2f} "
              f"{np.median(l_lb[:, w] / m.latency_s):8.2f} {np.median(floor_edap / edap):6.2f} "
              f"{np.mean(floor_edap > best):8.1%}")
    print(f"floors of all {sum(len(w) for w in wls)} layers: {t_floor:.2f} s; the model on "
          f"the same designs and networks: {t_model:.2f} s")


if __name__ == "__main__":
    main()
