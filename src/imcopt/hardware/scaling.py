"""Technology-node scaling: how the model's 32 nm constants move to another CMOS node.

The technology tables give every constant at the reference node (32 nm, the published
study's). A design's `technology_node_nm` rescales them with four factors, each exactly 1 at
32 nm, so a calibration done at 32 nm stays where it is:

* logic area: (F / 32 nm)^2 x the FinFET inflation below. Constant-field scaling (Dennard et
  al., IEEE JSSC 1974); the same F^2 rule as MNSIM 2.0 (driver area x (node/65)^2) and
  NeuroSim's periphery. With the inflation, 7 nm logic is ~10x denser than 32 nm (published
  densities: ~6-9x), not the 21x of F^2 alone.
* logic energy at a fixed supply: the layout's linear dimension. Switched capacitance C ~ F
  (Dennard 1974) while the pitches follow F (down to 22 nm); below 22 nm the pitches shrink
  more slowly than the node's name, and C follows them: F x sqrt(inflation) (the inflation
  below), 0.31x of 32 nm at 7 nm, 0.27x at 5 nm, 0.20x at 1 nm, where F alone would say
  0.22x, 0.16x, 0.03x. The supply is its own knob (`voltage_v`). Check against NeuroSim
  V1.4's VGG-8 chip (its supplies 0.85, 0.70, 0.60 V factored out): chip energy falls 0.40x
  and 0.27x from 22 to 5 and 1 nm; this rule gives 0.39x and 0.29x, F alone 0.23x and 0.05x.
* delay at a fixed supply: the same factor (C V / I, with I ~ width).
* FinFET / nanosheet cell inflation: 1 down to 22 nm; 326/280, 420/280, 551/280, 840/280,
  11520/280 at 14, 10, 7, 5, 1 nm. NeuroSim V1.4's 6T SRAM cell is 280 F^2 at 22 nm and above,
  326 F^2 at 14, 420 at 10, 551 at 7, 840 at 5 (19.2 F x 43.75 F) and 11,520 at 1 nm
  (80 F x 144 F): fin, gate and metal pitches stop following the node's name. Standard cells
  and a 1T1R RRAM cell, whose footprint is its access transistor's, take the same inflation.
  (NeuroSim's own logic pitches agree: contacted gate pitch x M2 pitch is 10.2 F x 6 F at
  5 nm and 40 F x 16 F at 1 nm, 4 and 43 times a planar node's ~3.8 F x 3.8 F.)

Cross-check (tests/test_scaling.py): NeuroSim's per-node SAR ADC power (b = 16.7, 8.90, 4.38,
2.57, 0.885 uW at 45, 32, 22, 14, 7 nm) falls faster than F because it also lowers the supply
per node; F x (Vdd_node / Vdd_32)^2 reproduces its direction at every node.

Which constant takes which factor is `CONSTANT_SCALING` (technology-specific overrides in
`TECHNOLOGY_OVERRIDES`): the RRAM cell's read and write energies are set by the device
(V_read^2 G t, SET/RESET), not by the CMOS node; the SRAM cell's are bitline charge and scale
like logic. Wires: capacitance per mm stays ~0.2 pF/mm across nodes (ITRS interconnect
tables), so energy per bit per mm is node-independent and wires gain only through the
shorter distances of a smaller chip. Off-chip DRAM does not depend on the chip's node.
Leakage power per mm^2 is held constant (a power-gated low-power process) [M]. The chip's
I/O periphery (`chip_periphery_area_mm2`: pads, ESD) does not shrink with the node.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

REFERENCE_NODE_NM = 32.0
#: the nodes the documented factors cover (others are interpolated in log(node))
NODES_NM = (1, 5, 7, 10, 14, 22, 32, 45, 65, 130)
#: NeuroSim V1.4 6T SRAM cell area in F^2 per node (280 F^2 at 22 nm and above)
SRAM_CELL_F2 = {1: 11520.0, 5: 840.0, 7: 551.0, 10: 420.0, 14: 326.0, 22: 280.0}
PLANAR_CELL_F2 = 280.0

FACTORS = ("logic_area", "logic_energy", "delay", "cell_area", "sram_macro",
           "area_per_capacitance", "none")

#: constant name -> the factor it is multiplied by (constants not listed do not scale)
CONSTANT_SCALING: dict[str, str] = {
    # capacitances and energies of CMOS circuits: C ~ F (C V^2 at a fixed supply)
    "cell_gate_capacitance_f": "logic_energy",
    "cell_junction_capacitance_f": "logic_energy",
    "dac_capacitance_per_bit_f": "logic_energy",
    "sample_capacitance_f": "logic_energy",
    "adc_walden_fom_j": "logic_energy",
    "comparator_energy_j": "logic_energy",
    "logic_energy_per_bit_j": "logic_energy",
    "wl_switch_energy_j": "logic_energy",
    "row_register_energy_j": "logic_energy",
    "wl_switch_area_mm2": "logic_area",
    "sram_energy_per_bit_j": "logic_energy",
    "router_energy_per_bit_j": "logic_energy",
    "digital_mac_energy_j": "logic_energy",
    # delays
    "min_cycle_nominal_s": "delay",
    "adc_decision_time_s": "delay",
    "pulse_unit_s": "delay",
    # sensing a column: its capacitance (~ the linear dimension) charged by a cell current
    "read_pulse_s": "delay",
    # areas of CMOS circuits
    "row_decoder_area_mm2": "logic_area",
    "dac_area_per_bit_mm2": "logic_area",
    "comparator_area_mm2": "logic_area",
    "adc_area_base_mm2": "logic_area",
    "adc_area_per_step_mm2": "logic_area",
    "column_periphery_area_mm2": "logic_area",
    "shift_add_area_per_bit_mm2": "logic_area",
    "write_driver_area_per_row_mm2": "logic_area",
    "write_driver_area_per_col_mm2": "logic_area",
    "array_periphery_area_mm2": "logic_area",
    "tile_area_mm2": "logic_area",
    "router_area_mm2": "logic_area",
    "digital_lane_area_mm2": "logic_area",
    # a driver's width per farad of load is node-independent (gate capacitance per um of
    # width barely moves), its area per um of width shrinks with F
    "driver_area_per_farad_mm2": "area_per_capacitance",
    # chip I/O pads and ESD are set by the bond pitch, not the node
    "chip_periphery_area_mm2": "none",
    # SRAM macro: its bit cell, F^2 times the FinFET inflation (F^2 itself is `logic_area`)
    "sram_area_per_bit_mm2": "sram_macro",
    # the cell array's F^2 count: cell_area_f2 x F^2 (the F^2 is in the model), inflated
    "cell_area_f2": "cell_area",
}
#: technology name -> {constant: factor} where a cell technology differs from CMOS logic
TECHNOLOGY_OVERRIDES: dict[str, dict[str, str]] = {}


def _node(node_nm: np.ndarray | float) -> np.ndarray:
    f = np.asarray(node_nm, dtype=np.float64)
    if np.any(~np.isfinite(f)) or np.any(f <= 0):
        raise ValueError(f"technology_node_nm must be finite and > 0, got {node_nm!r}")
    return f


def logic_area_factor(node_nm: np.ndarray | float) -> np.ndarray:
    """Area of a CMOS circuit relative to 32 nm: (F / 32 nm)^2."""
    return (_node(node_nm) / REFERENCE_NODE_NM) ** 2


def linear_dimension_factor(node_nm: np.ndarray | float) -> np.ndarray:
    """The layout's linear dimensions relative to 32 nm: F / 32 nm down to 22 nm; below, F
    times the square root of the cell inflation (the pitches stop following the name)."""
    return _node(node_nm) / REFERENCE_NODE_NM * np.sqrt(finfet_cell_factor(node_nm))


def logic_energy_factor(node_nm: np.ndarray | float) -> np.ndarray:
    """Energy of a CMOS circuit at a fixed supply relative to 32 nm: switched capacitance
    follows the layout's linear dimensions (`linear_dimension_factor`)."""
    return linear_dimension_factor(node_nm)


def delay_factor(node_nm: np.ndarray | float) -> np.ndarray:
    """Gate delay at a fixed supply relative to 32 nm: C V / I with C and I both following
    the linear dimensions' capacitance and width, so as `linear_dimension_factor`."""
    return linear_dimension_factor(node_nm)


def finfet_cell_factor(node_nm: np.ndarray | float) -> np.ndarray:
    """How many more F^2 a transistor-limited cell needs than at planar nodes (1 at >= 22 nm;
    NeuroSim's SRAM table below; log-log interpolated between its nodes, held below 1 nm)."""
    f = _node(node_nm)
    nodes = np.array(sorted(SRAM_CELL_F2), dtype=np.float64)
    ratio = np.array([SRAM_CELL_F2[int(n)] / PLANAR_CELL_F2 for n in nodes])
    out = np.exp(np.interp(np.log(f), np.log(nodes), np.log(ratio)))
    return np.where(f >= 22.0, 1.0, out)


def factors(node_nm: np.ndarray | float) -> dict[str, np.ndarray]:
    """Every scaling factor for `node_nm` (same shape), by factor name."""
    cell = finfet_cell_factor(node_nm)
    area = logic_area_factor(node_nm) * cell
    return {
        "logic_area": area,
        "logic_energy": logic_energy_factor(node_nm),
        "delay": delay_factor(node_nm),
        "cell_area": cell,
        "sram_macro": area,
        "area_per_capacitance": area / logic_energy_factor(node_nm),
        "none": np.ones_like(area),
    }


def constant_factor_names(technology: str) -> dict[str, str]:
    """constant -> factor name for one technology (overrides applied)."""
    return {**CONSTANT_SCALING, **TECHNOLOGY_OVERRIDES.get(technology, {})}


def scale_constants(
    constants: Mapping[str, float], technology: str, node_nm: np.ndarray
) -> dict[str, float | np.ndarray]:
    """The constants at each design's node: scalars that do not scale stay scalars; the
    others become arrays shaped like `node_nm`. At 32 nm every value is unchanged."""
    node = _node(node_nm)
    if np.all(node == REFERENCE_NODE_NM):
        return dict(constants)
    fac = factors(node)
    which = constant_factor_names(technology)
    return {k: (v * fac[which[k]] if which.get(k, "none") != "none" else v)
            for k, v in constants.items()}
