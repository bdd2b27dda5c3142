"""Best-design records (as `best.json` stores them) as one flat table, one row per design."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..losses import LOSS_PREFIX, WORST

#: the per-workload fields of a record, as table columns `<field>.<workload>`
WORKLOAD_FIELDS = ("energy_j", "latency_s", "edap_j_s_mm2", "loss_x")


def record_table(records: Sequence[dict], workloads: Sequence[str]) -> pd.DataFrame:
    """key, parameters, feasibility, area (mm^2), die cost (USD), fitness, the worst
    per-network loss factor and the network that pays it, then per workload its energy (J),
    latency (s), EDAP (J s mm^2) and loss factor (`loss_x.<workload>`)."""
    rows = []
    for r in records:
        row = {"key": r["key"], **r.get("parameters", {}), "feasible": r["feasible"],
               "area_mm2": r["area_mm2"], "cost_usd": r.get("cost_usd"),
               "fitness": r.get("fitness"), WORST: r.get(WORST),
               "worst_network": r.get("worst_network")}
        for w in workloads:
            rec = r["workloads"][w]
            for f in WORKLOAD_FIELDS:
                col = f"{LOSS_PREFIX}{w}" if f == "loss_x" else f"{f}.{w}"
                row[col] = rec.get(f)
        rows.append(row)
    return pd.DataFrame(rows)
