"""Analytical model vs ZigZag-IMC on ResNet-18. Run: python benchmarks/bench_zigzag.py
(needs the zigzag extra: pip install 'imcopt[zigzag]'; ~15 min here with the defaults).

1. ZigZag's own shipped examples (zigzag/inputs/hardware/{aimc,dimc}.yaml: one 128-row macro
   of 128 8-bit weights, 256 KiB buffer; its default_imc mapping and resnet18.onnx), four ways:
   (a) ZigZag as shipped; (a') its hardware and mapping on imcopt's ResNet-18 layers (as the
   translation writes them); (b) the same macro as an imcopt design through the zigzag
   backend's translation (also its memories and DRAM), at ZigZag's clock; (c) imcopt's
   analytical model for that design (SRAM, 0.9 V, 28 nm, ZigZag's clock, 8-bit ADC; the
   model's 8 input bits per cycle, which a design cannot change yet).
2. A small SRAM search on ResNet-18 (`max` = EDAP, four-phase GA; voltage and clock fixed, as
   ZigZag models neither) verified by ZigZag (`verify: {backend: zigzag, top_k: K}`): both
   fidelities' energy, latency, area, EDAP and ranks, and the rank correlation over the top
   K; then the same for R random designs of that space (a spread of designs, where the
   ranking means more than among near-equal finalists).

The mapper: ZigZag's cheap setting (lpf_limit 3, 1 spatial mapping) unless --full-mapper
(its defaults 6 and 3, several times slower).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

from imcopt import evaluate
from imcopt.backends import ZigZagBackend
from imcopt.backends.external import run_simulator
from imcopt.backends.zigzag_inputs import workload_layers
from imcopt.executors import make_executor
from imcopt.hardware import Designs, load_technology
from imcopt.objectives import Evaluator
from imcopt.search import run_search
from imcopt.workloads import get

SPACE = {"voltage_v": [0.85], "clock_period_s": [4e-9], "rows_per_array": [32, 64, 128, 256],
         "cols_per_array": [32, 64, 128, 256], "router_groups": [1, 2, 4, 8],
         "tiles_per_group": [2, 4, 8], "arrays_per_tile": [4, 8, 16, 32],
         "glb_depth_words": [2048, 4096, 8192, 16384]}


def mapper(full: bool) -> dict:
    return {"lpf_limit": 6, "spatial_mappings": 3} if full else {"lpf_limit": 3,
                                                                  "spatial_mappings": 1}


def zigzag_as_shipped(example: str, settings: dict, layers: list[dict] | None = None) -> dict:
    """ZigZag's own hardware and mapping inputs, its API, in this process; its resnet18.onnx
    or the given layers (ZigZag's workload format)."""
    import zigzag
    from zigzag.api import get_hardware_performance_zigzag

    from imcopt.backends.zigzag_run import _without_report_files

    logging.basicConfig(level=logging.ERROR)
    _without_report_files()  # as in the backend's runs: no report files
    inputs = Path(zigzag.__file__).parent / "inputs"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        e_pj, cycles, tclk_ns, area, _ = get_hardware_performance_zigzag(
            layers if layers is not None else str(inputs / "workload" / "resnet18.onnx"),
            str(inputs / "hardware" / f"{example}.yaml"),
            str(inputs / "mapping" / "default_imc.yaml"), opt="EDP", dump_folder=tmp,
            in_memory_compute=True, lpf_limit=settings["lpf_limit"],
            nb_spatial_mappings_generated=settings["spatial_mappings"],
            loma_show_progress_bar=False)
    return {"energy_j": e_pj * 1e-12, "latency_s": cycles * tclk_ns * 1e-9, "area_mm2": area,
            "tclk_ns": tclk_ns, "s": time.perf_counter() - t0}


def example_design(example: str) -> dict:
    """ZigZag's aimc/dimc macro as an imcopt design: 128 rows x 1024 cells (128 8-bit
    weights), one macro, 256 KiB buffer (1024 words of 2048 bits), 8-bit ADC."""
    return {"rows_per_array": 128, "cols_per_array": 1024, "router_groups": 1,
            "tiles_per_group": 1, "arrays_per_tile": 1, "glb_depth_words": 1024,
            "adc_bits": 8, "bits_per_cell": 1, "voltage_v": 0.9, "technology_node_nm": 28}


def part1(settings: dict) -> None:
    tech = load_technology("sram")
    wl = get("resnet18")
    print("\n== 1. ResNet-18 on ZigZag's shipped examples "
          f"(mapper lpf_limit {settings['lpf_limit']}, {settings['spatial_mappings']} "
          "spatial mapping(s))")
    head = f"{'example':7} {'how':38} {'energy_j':>10} {'latency_s':>10} {'area_mm2':>9} {'s':>6}"
    print(head)
    for example in ("aimc", "dimc"):
        shipped = zigzag_as_shipped(example, settings)
        layers = zigzag_as_shipped(example, settings, workload_layers(wl, 8, 8))
        design = example_design(example)
        imc = "analog" if example == "aimc" else "digital"
        backend = ZigZagBackend(imc, clock="zigzag", timeout_s=3600, **settings)
        extra = {"input_bits_per_cycle": 2 if imc == "analog" else 1}
        t0 = time.perf_counter()
        answer = run_simulator((sys.executable, "-m", "imcopt.backends.zigzag_run"),
                               backend.request({**design, **extra}, wl, tech), 3600)
        ours = {**answer, "s": time.perf_counter() - t0}
        t0 = time.perf_counter()
        clock = {"clock_period_s": shipped["tclk_ns"] * 1e-9}
        m = evaluate(Designs.from_values({**design, **clock}), wl, tech, per_layer=False)
        model = {"energy_j": m.energy_j[0], "latency_s": m.latency_s[0],
                 "area_mm2": m.area_mm2[0], "s": time.perf_counter() - t0}
        for how, r in (("(a) ZigZag, shipped inputs", shipped),
                       ("(a') same, imcopt's ResNet-18 layers", layers),
                       ("(b) ZigZag, imcopt design translated", ours),
                       ("(c) imcopt analytical, same design", model)):
            print(f"{example:7} {how:38} {r['energy_j']:10.3e} {r['latency_s']:10.3e} "
                  f"{r['area_mm2']:9.3f} {r['s']:6.1f}")
        print(f"{example:7} ZigZag tclk {shipped['tclk_ns']:.3f} ns; ratios (c)/(a): energy "
              f"{model['energy_j'] / shipped['energy_j']:.2f}, latency "
              f"{model['latency_s'] / shipped['latency_s']:.2f}, area "
              f"{model['area_mm2'] / shipped['area_mm2']:.2f}")


def compare(keys: list[str], a: dict, z: dict, label: str) -> None:
    """Both fidelities side by side, ranks by EDAP, rank correlations per metric."""
    edap_a, edap_z = (d["energy_j"] * d["latency_s"] * d["area_mm2"] for d in (a, z))
    ok = np.isfinite(edap_z) & np.isfinite(edap_a)
    rank_a = stats.rankdata(np.where(ok, edap_a, np.inf)).astype(int)
    rank_z = stats.rankdata(np.where(ok, edap_z, np.inf)).astype(int)
    print(f"\n{label}: {len(keys)} designs ({int(ok.sum())} verified)")
    print(f"{'design':36} {'E anal':>9} {'E zz':>9} {'L anal':>9} {'L zz':>9} {'A anal':>8} "
          f"{'A zz':>8} {'EDAP anal':>10} {'EDAP zz':>10} {'rk a':>4} {'rk z':>4}")
    for i in np.argsort(rank_a, kind="stable"):
        print(f"{keys[i]:36} {a['energy_j'][i]:9.3e} {z['energy_j'][i]:9.3e} "
              f"{a['latency_s'][i]:9.3e} {z['latency_s'][i]:9.3e} {a['area_mm2'][i]:8.2f} "
              f"{z['area_mm2'][i]:8.2f} {edap_a[i]:10.3e} {edap_z[i]:10.3e} {rank_a[i]:4d} "
              f"{rank_z[i]:4d}")
    for metric, x, y in (("energy", a["energy_j"], z["energy_j"]),
                         ("latency", a["latency_s"], z["latency_s"]),
                         ("area", a["area_mm2"], z["area_mm2"]), ("EDAP", edap_a, edap_z)):
        rho = stats.spearmanr(x[ok], y[ok]).statistic
        tau = stats.kendalltau(x[ok], y[ok]).statistic
        ratio = np.median(y[ok] / x[ok])
        print(f"  {metric:8} Spearman {rho:+.2f}  Kendall {tau:+.2f}  median ZigZag/analytical "
              f"{ratio:.2f}")
    best_a, best_z = int(np.argmin(np.where(ok, edap_a, np.inf))), int(
        np.argmin(np.where(ok, edap_z, np.inf)))
    print(f"  best by analytical: {keys[best_a]} (ZigZag's rank {rank_z[best_a]}); best by "
          f"ZigZag: {keys[best_z]} (analytical rank {rank_a[best_z]})")


def part2(settings: dict, top_k: int, n_random: int, workers: int, seed: int) -> None:
    print(f"\n== 2. small SRAM search on ResNet-18, verified by ZigZag (top {top_k}, "
          f"{n_random} random designs; {workers} worker(s))")
    cfg = {"technology": "sram", "workloads": ["resnet18"], "seed": seed,
           "space": {"name": "sram", "values": SPACE}, "objective": {"optima": None},
           "algorithm": {"name": "four_phase"}, "top_k": top_k,
           "executor": ({"kind": "processes", "workers": workers} if workers > 1
                        else {"kind": "inprocess"}),
           "verify": {"backend": {"name": "zigzag", **settings}, "top_k": top_k}}
    t0 = time.perf_counter()
    res = run_search(cfg)
    v = res.verification
    space = res.evaluator.space
    print(f"search + verify {time.perf_counter() - t0:.0f} s (verify {v.wall_time_s:.0f} s, "
          f"{v.wall_time_s / max(1, len(v.fitness)):.0f} s per design); space "
          f"{space.size:,} designs")
    def cols(e):
        return {"energy_j": e.energy_j[:, 0], "latency_s": e.latency_s[:, 0],
                "area_mm2": e.area_mm2}

    compare(space.keys(v.genomes), cols(v.analytical), cols(v.verified),
            f"top {top_k} of the analytical search")
    print(f"  verify's own summary: {v.rank_correlation()}")
    if n_random:
        genomes = space.sample(n_random, seed)
        tech = load_technology("sram")
        wl = [get("resnet18")]
        with make_executor(cfg["executor"]) as ex:
            t0 = time.perf_counter()
            z = Evaluator(space, tech, wl, backend=ZigZagBackend(**settings),
                          executor=ex).evaluate(genomes)
            seconds = time.perf_counter() - t0
        a = Evaluator(space, tech, wl).evaluate(genomes)
        compare(space.keys(genomes), cols(a), cols(z),
                f"{n_random} random designs ({seconds:.0f} s of ZigZag)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full-mapper", action="store_true", help="ZigZag's default mapper effort")
    ap.add_argument("--top-k", type=int, default=8)
    ap.add_argument("--random", type=int, default=8, help="random designs to compare (0: none)")
    ap.add_argument("--workers", type=int, default=1, help="ZigZag runs at once")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-examples", action="store_true")
    args = ap.parse_args()
    settings = mapper(args.full_mapper)
    t0 = time.perf_counter()
    if not args.skip_examples:
        part1(settings)
    part2(settings, args.top_k, args.random, args.workers, args.seed)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
