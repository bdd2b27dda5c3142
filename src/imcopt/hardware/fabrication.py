"""Fabrication cost of one die: wafer price per node, dies per wafer and yield.

    cost_usd = wafer_price(node) / (dies_per_wafer(A) * yield(A))
    dies_per_wafer(A) = pi (d/2)^2 / A - pi d / sqrt(2 A)       (d = 300 mm wafer)
    yield(A) = (1 + A D0 / alpha)^-alpha                       (negative binomial)

Wafer prices: TSMC foundry sale price per 300 mm wafer, 2020 (Khan & Mann, "AI Chips: What
They Are and Why They Matter", CSET 2020, appendix table): 90 nm $1,650, 65 nm $1,937,
40 nm $2,274, 28 nm $2,891, 20 nm $3,677, 16/12 nm $3,984, 10 nm $5,992, 7 nm $9,346,
5 nm $16,988. Nodes between them (45, 32, 22, 14 nm) are interpolated in log(node).
Defect density D0 = 0.1 /cm^2 and clustering alpha = 3 for every node: a mature process
(TSMC reported D0 ~ 0.09 /cm^2 for N7 and N5 in 2020) [M]; the dies-per-wafer formula is the
standard one with edge loss (e.g. Hennessy & Patterson, Computer Architecture, ch. 1).

Cost per mm^2 relative to 32 nm (any one die size): 7 nm 3.54, 10 nm 2.27, 14 nm 1.69,
22 nm 1.30, 45 nm 0.83, 65 nm 0.73; the published study's undocumented factors, inferred from
its data, were 3.871, 2.243, 1.498, 1.283, 1.000 (32 nm), 0.606 (docs/original_study.md §1.4).
"""

from __future__ import annotations

import numpy as np

#: node (nm) -> foundry sale price of a 300 mm wafer, USD (CSET 2020; 16 nm stands for 16/12)
WAFER_PRICE_USD = {90: 1650.0, 65: 1937.0, 40: 2274.0, 28: 2891.0, 20: 3677.0, 16: 3984.0,
                   10: 5992.0, 7: 9346.0, 5: 16988.0}
WAFER_DIAMETER_MM = 300.0
DEFECT_DENSITY_PER_MM2 = 0.1 / 100.0  # 0.1 defects per cm^2
YIELD_CLUSTERING = 3.0


def wafer_price_usd(node_nm: np.ndarray | float) -> np.ndarray:
    """Price of one wafer at `node_nm`, log-interpolated between the table's nodes and held
    constant outside them."""
    node = np.asarray(node_nm, dtype=np.float64)
    nodes = np.array(sorted(WAFER_PRICE_USD), dtype=np.float64)
    prices = np.array([WAFER_PRICE_USD[int(n)] for n in nodes])
    return np.exp(np.interp(np.log(node), np.log(nodes), np.log(prices)))


def dies_per_wafer(area_mm2: np.ndarray | float) -> np.ndarray:
    a = np.asarray(area_mm2, dtype=np.float64)
    d = WAFER_DIAMETER_MM
    return np.pi * (d / 2) ** 2 / a - np.pi * d / np.sqrt(2 * a)


def die_yield(area_mm2: np.ndarray | float) -> np.ndarray:
    a = np.asarray(area_mm2, dtype=np.float64)
    return (1 + a * DEFECT_DENSITY_PER_MM2 / YIELD_CLUSTERING) ** -YIELD_CLUSTERING


def die_cost_usd(area_mm2: np.ndarray | float, node_nm: np.ndarray | float) -> np.ndarray:
    """Cost of one good die (USD); +inf when not one whole die fits the wafer."""
    good = dies_per_wafer(area_mm2) * die_yield(area_mm2)
    with np.errstate(divide="ignore"):
        return np.where(good >= 1.0, wafer_price_usd(node_nm) / np.maximum(good, 1e-300),
                        np.inf)
