"""A tiny external simulator for the `subprocess` backend's tests (and an example of the
protocol in `imcopt.backends.external`): reads one JSON request on stdin, prints metrics.

Options: --sleep S (seconds per run), --fail-rows R (exit 3 for designs with R rows per
array), --hang-cols C (sleep 60 s for designs with C columns: a timeout), --garbage-bits B
(print non-JSON for designs with B bits per cell).
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def metrics(request: dict) -> dict:
    """A toy model: energy grows with MACs and the ADC, latency with MACs per array."""
    d = request["design"]
    macs = sum(x["N"] * x["G"] * x["C"] * x["M"] * x["R"] * x["S"] * x["P"] * x["Q"]
               for x in request["layers"])
    arrays = d["router_groups"] * d["tiles_per_group"] * d["arrays_per_tile"]
    energy_j = macs * 1e-13 * d["voltage_v"] ** 2 * (1 + d["adc_bits"] / 8)
    latency_s = macs / (arrays * d["rows_per_array"]) * d["clock_period_s"]
    area_mm2 = arrays * d["rows_per_array"] * d["cols_per_array"] * 1e-6 + 1.0
    return {"energy_j": energy_j, "latency_s": latency_s, "area_mm2": area_mm2}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sleep", type=float, default=0.0)
    ap.add_argument("--fail-rows", type=float)
    ap.add_argument("--hang-cols", type=float)
    ap.add_argument("--garbage-bits", type=float)
    args = ap.parse_args()
    request = json.load(sys.stdin)
    d = request["design"]
    time.sleep(args.sleep)
    if d["rows_per_array"] == args.fail_rows:
        print("tiny_simulator: mapping failed", file=sys.stderr)
        return 3
    if d["cols_per_array"] == args.hang_cols:
        time.sleep(60)
    if d["bits_per_cell"] == args.garbage_bits:
        print("not json")
        return 0
    print(json.dumps(metrics(request)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
