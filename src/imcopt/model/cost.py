"""The analytical cost model: energy, latency and area of N designs on one workload.

A pure function of arrays. Design quantities are (N, 1) columns, layer quantities (1, L)
rows; broadcasting gives (N, L) per-layer results with no Python loop over designs. The
equations are written out, with every constant's meaning, in docs/model.md.

Chip template (the published study's): router_groups x tiles_per_group tiles, each with
arrays_per_tile crossbar arrays of rows_per_array x cols_per_array cells, a global buffer
(GLB) shared by the chip, a router per group, an off-chip DRAM. Mapping is weight
stationary: a layer's weight matrix (C*R*S rows x M columns per group, each weight split into
ceil(weight_bits / bits_per_cell) column slices) is tiled over arrays; idle capacity holds
replicas of a layer's weights so that several output positions run at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..hardware.space import Designs
from ..hardware.technology import Technology
from ..workloads.layer import Workload

ENERGY_COMPONENTS = (
    "cell_array", "dac_row_drivers", "adc", "shift_add", "tile_buffers", "global_buffer",
    "noc", "dram", "weight_writes", "digital_matmul", "leakage",
)
AREA_COMPONENTS = (
    "cell_array", "dac_row_drivers", "adc_column_periphery", "array_periphery",
    "tile_buffers", "digital_units", "routers", "global_buffer", "chip_periphery",
)
GLB_WORD_BITS = 2048


@dataclass
class Metrics:
    """Results of `evaluate`: per design (N,) and, when asked, per design and layer (N, L).

    All energies in J, latencies in s, areas in mm^2.
    """

    workload: str
    technology: str
    energy_j: np.ndarray  # (N,) total per inference
    latency_s: np.ndarray  # (N,) layers run one after another
    area_mm2: np.ndarray  # (N,)
    feasible: np.ndarray  # (N,) bool
    reason: np.ndarray  # (N,) str, "" when feasible
    macs: int
    utilization: np.ndarray  # (N,) MAC-weighted mean fraction of cells busy per layer
    weight_cells_required: np.ndarray  # (N,) cells for one resident copy of all weights
    energy_breakdown_j: dict[str, np.ndarray] = field(default_factory=dict)
    area_breakdown_mm2: dict[str, np.ndarray] = field(default_factory=dict)
    layer_energy_j: np.ndarray | None = None  # (N, L)
    layer_latency_s: np.ndarray | None = None  # (N, L)
    layer_names: tuple[str, ...] = ()

    @property
    def edap_j_s_mm2(self) -> np.ndarray:
        return self.energy_j * self.latency_s * self.area_mm2

    @property
    def tops_per_w(self) -> np.ndarray:
        return 2.0 * self.macs / self.energy_j / 1e12

    @property
    def tops(self) -> np.ndarray:
        return 2.0 * self.macs / self.latency_s / 1e12

    @property
    def tops_per_mm2(self) -> np.ndarray:
        return self.tops / self.area_mm2

    def totals(self, i: int) -> dict[str, float]:
        return {
            "energy_j": float(self.energy_j[i]),
            "latency_s": float(self.latency_s[i]),
            "area_mm2": float(self.area_mm2[i]),
            "edap_j_s_mm2": float(self.edap_j_s_mm2[i]),
            "tops_per_w": float(self.tops_per_w[i]),
            "tops_per_mm2": float(self.tops_per_mm2[i]),
            "utilization": float(self.utilization[i]),
            "feasible": bool(self.feasible[i]),
            "reason": str(self.reason[i]),
        }


def _ceil_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.ceil(a / b)


def area_mm2(d: Designs, tech: Technology) -> dict[str, np.ndarray]:
    """Chip area by component, mm^2, shape (N,) each. Independent of the workload."""
    c = tech.c
    rows, cols = d["rows_per_array"], d["cols_per_array"]
    tiles = d["router_groups"] * d["tiles_per_group"]
    arrays = tiles * d["arrays_per_tile"]
    feature_m = d["technology_node_nm"] * 1e-9
    adc_bits = d["adc_bits"]
    adc_mm2 = c["adc_area_base_mm2"] + c["adc_area_per_bit_mm2"] * adc_bits
    digital = c["digital_lanes_per_tile"] * c["digital_lane_area_mm2"]
    if tech.matmul_policy != "digital":
        digital = 0.0
    return {
        "cell_array": arrays * rows * cols * c["cell_area_f2"] * feature_m**2 * 1e6,
        "dac_row_drivers": arrays * rows * c["row_driver_area_mm2"],
        "adc_column_periphery": arrays * cols
        * (c["column_periphery_area_mm2"] + adc_mm2 / c["cols_per_adc"]),
        "array_periphery": arrays * c["array_periphery_area_mm2"],
        "tile_buffers": tiles * (c["tile_area_mm2"] + d["arrays_per_tile"]
                                 * c["tile_buffer_area_per_array_mm2"]),
        "digital_units": tiles * digital,
        "routers": d["router_groups"] * c["router_area_mm2"],
        "global_buffer": d["glb_depth_words"] * GLB_WORD_BITS * c["glb_area_per_bit_mm2"],
        "chip_periphery": np.full(d.n, c["chip_periphery_area_mm2"]),
    }


def cycle_time_s(d: Designs, tech: Technology) -> np.ndarray:
    """Effective cycle: the clock period, stretched where the supply is too low for it.

    Logic delay follows the alpha-power law t ~ V / (V - Vt)^alpha, normalised to the
    technology's nominal voltage.
    """
    c = tech.c
    v = d["voltage_v"]
    vt, alpha, vnom = c["threshold_voltage_v"], c["alpha_power"], c["nominal_voltage_v"]
    slow = (v / vnom) * ((vnom - vt) / np.maximum(v - vt, 1e-3)) ** alpha
    return np.maximum(d["clock_period_s"], c["min_cycle_nominal_s"] * slow)


def evaluate(
    designs: Designs, workload: Workload, tech: Technology, per_layer: bool = True
) -> Metrics:
    """Energy, latency and area of every design on one workload (see module docstring)."""
    c = tech.c
    t = workload.table()
    col = {k: v[:, None] for k, v in designs.values.items()}  # (N, 1)
    row = {k: v[None, :].astype(np.float64) for k, v in t.items() if k != "kind"}  # (1, L)
    is_mm = (t["kind"] == "matmul")[None, :]
    has_w = ~is_mm

    n = designs.n
    rows, cols = col["rows_per_array"], col["cols_per_array"]
    tiles = col["router_groups"] * col["tiles_per_group"]
    arrays = tiles * col["arrays_per_tile"]
    cells_chip = arrays * rows * cols
    vscale = col["voltage_v"] / c["nominal_voltage_v"]
    v2 = vscale**2

    # ---- mapping -------------------------------------------------------------------
    G, C, M = row["G"], row["C"], row["M"]
    K = C * row["R"] * row["S"]  # reduction length per group = rows used
    steps = row["N"] * row["P"] * row["Q"]  # output positions = input vectors per copy
    slices_w = _ceil_div(row["weight_bits"], col["bits_per_cell"])  # (N, L)
    slices_in = _ceil_div(row["input_bits"], c["dac_bits"])  # (1, L)
    wcols = M * slices_w  # columns per group
    row_tiles = _ceil_div(K, rows)
    col_tiles = _ceil_div(wcols, cols)
    weight_cells = np.where(has_w, G * K * wcols, 0.0)  # one copy, exact
    required = weight_cells.sum(axis=1, keepdims=True)  # (N, 1)

    resident = tech.weight_residency == "resident"
    if resident:
        # every layer's weights stay on chip; the spare cells hold replicas, shared out to
        # minimise sum(steps / copies) under sum(copies * cells) <= spare (Lagrange: copies
        # proportional to sqrt(steps / cells))
        spare = np.maximum(cells_chip - required, 0.0)
        w = np.where(has_w, np.sqrt(steps * weight_cells), 0.0)
        share = spare * np.sqrt(steps / np.maximum(weight_cells, 1.0)) / np.maximum(
            w.sum(axis=1, keepdims=True), 1.0)
        copies = 1.0 + np.floor(share)
        chunks = np.ones_like(weight_cells)
        feasible = (required <= cells_chip)[:, 0]
    else:
        # weights stream from DRAM layer by layer: a layer that fits gets as many copies as
        # the chip holds; a larger one runs in chunks that each fill the chip
        chunks = np.maximum(_ceil_div(weight_cells, cells_chip), 1.0)
        copies = np.maximum(np.floor(cells_chip / np.maximum(weight_cells, 1.0)), 1.0)
        feasible = np.ones(n, dtype=bool)
    copies = np.where(has_w, np.minimum(copies, steps), 1.0)
    serial_steps = np.ceil(steps / copies) * chunks  # (N, L) sequential VMMs per layer

    # ---- event counts ----------------------------------------------------------------
    macs = G * K * M * steps
    cell_reads = np.where(has_w, macs * slices_w * slices_in, 0.0)
    conversions = np.where(has_w, steps * G * row_tiles * wcols * slices_in, 0.0)
    row_drives = np.where(has_w, steps * G * K * col_tiles * slices_in, 0.0)
    psum_bits = row["output_bits"] * c["psum_bits_per_output_bit"]
    tile_bits = np.where(
        has_w, steps * G * (K * col_tiles * row["input_bits"] + M * row_tiles * psum_bits), 0.0)
    in_bits = _input_values(t)[None, :] * row["input_bits"]
    out_bits = G * M * steps * row["output_bits"]
    glb_bits = in_bits * chunks + out_bits
    mm_operand_bits = np.where(is_mm, G * C * M * row["weight_bits"], 0.0)  # 2nd operand
    glb_bits = glb_bits + mm_operand_bits
    glb_cap_bits = col["glb_depth_words"] * GLB_WORD_BITS
    spill_bits = 2.0 * np.maximum(in_bits + out_bits - glb_cap_bits, 0.0)
    stream_bits = 0.0 if resident else weight_cells  # one bit per SRAM cell
    dram_bits = stream_bits + spill_bits
    written_cells = 0.0 if resident else np.where(has_w, weight_cells * copies, 0.0)

    # ---- area and wires ---------------------------------------------------------------
    area_parts = area_mm2(designs, tech)
    area = sum(area_parts.values())
    hops = np.sqrt(col["router_groups"])
    wire_mm = 0.5 * np.sqrt(area)[:, None]

    # ---- energy (J), (N, L) per component ---------------------------------------------
    adc_bits = col["adc_bits"]
    e_adc = (c["adc_energy_per_step_j"] * (adc_bits + 1) * (1 + c["adc_energy_bit_slope"]
             * adc_bits) * vscale ** c["adc_voltage_exponent"])
    e_conv = e_adc + (c["column_drive_energy_j"] + c["bitline_energy_per_row_j"] * rows) * v2
    e_row = (c["row_drive_energy_j"] + c["wordline_energy_per_col_j"] * cols) * v2
    glb_mib = glb_cap_bits / 8 / 2**20
    e_glb_bit = c["glb_energy_per_bit_j"] * glb_mib ** c["glb_energy_capacity_exponent"] * v2
    mm_macs = np.where(is_mm, macs, 0.0)
    digital = tech.matmul_policy == "digital"
    energy = {
        "cell_array": cell_reads * c["cell_read_energy_j"]
        * vscale ** c["cell_voltage_exponent"],
        "dac_row_drivers": row_drives * e_row,
        "adc": conversions * e_conv,
        "shift_add": conversions * c["shift_add_energy_j"] * v2,
        "tile_buffers": tile_bits * c["tile_buffer_energy_per_bit_j"] * v2,
        "global_buffer": glb_bits * e_glb_bit,
        "noc": glb_bits * (c["router_energy_per_bit_j"] * hops
                          + c["wire_energy_per_bit_mm_j"] * wire_mm) * v2,
        "dram": dram_bits * c["dram_energy_per_bit_j"],
        "weight_writes": written_cells * c["cell_write_energy_j"],
        "digital_matmul": mm_macs * c["digital_mac_energy_j"]
        * (row["input_bits"] * row["weight_bits"] / 64.0) * v2 * digital,
    }

    # ---- latency (cycles, then s) ------------------------------------------------------
    t_cycle = cycle_time_s(designs, tech)[:, None]
    compute = serial_steps * slices_in * c["cols_per_adc"]
    mm_lanes = tiles * c["digital_lanes_per_tile"]
    compute = np.where(is_mm, _ceil_div(mm_macs, mm_lanes) if digital else 0.0, compute)
    glb_cycles = glb_bits / c["glb_bits_per_cycle"]
    noc_cycles = glb_bits / (c["router_bits_per_cycle"] * col["router_groups"])
    dram_cycles = dram_bits / (c["dram_bandwidth_bits_per_s"] * t_cycle)
    write_cycles = chunks * _ceil_div(np.minimum(written_cells, cells_chip), cols * arrays)
    cycles = (np.maximum(np.maximum(compute, glb_cycles), np.maximum(noc_cycles, dram_cycles))
              + write_cycles + c["layer_overhead_cycles"])
    if not digital:  # 'exclude': matmuls are reported in the workload, not run on the chip
        cycles = np.where(is_mm, 0.0, cycles)
        for k in energy:
            energy[k] = np.where(is_mm, 0.0, energy[k])
    layer_latency = cycles * t_cycle
    energy["leakage"] = c["leakage_power_w_per_mm2"] * area[:, None] * layer_latency * v2

    layer_energy = sum(energy.values())
    busy = np.where(has_w, weight_cells * copies / cells_chip, 0.0)
    util = (busy * macs).sum(axis=1) / max(float(macs.sum()), 1.0)
    reason = np.where(
        feasible, "",
        np.char.add(np.char.add("weights need ", required[:, 0].astype(np.int64).astype(str)),
                    np.char.add(" cells, chip has ", cells_chip[:, 0].astype(np.int64)
                                .astype(str))),
    )
    return Metrics(
        workload=workload.name,
        technology=tech.name,
        energy_j=layer_energy.sum(axis=1),
        latency_s=layer_latency.sum(axis=1),
        area_mm2=area,
        feasible=feasible,
        reason=reason,
        macs=int(workload.macs),
        utilization=util,
        weight_cells_required=required[:, 0],
        energy_breakdown_j={k: np.broadcast_to(v, layer_energy.shape).sum(axis=1)
                            for k, v in energy.items()},
        area_breakdown_mm2={k: np.broadcast_to(v, (n,)) for k, v in area_parts.items()},
        layer_energy_j=layer_energy if per_layer else None,
        layer_latency_s=layer_latency if per_layer else None,
        layer_names=tuple(layer.name for layer in workload.layers),
    )


def _input_values(t: dict[str, np.ndarray]) -> np.ndarray:
    h = (t["P"] - 1) * t["stride_h"] + t["R"]
    w = (t["Q"] - 1) * t["stride_w"] + t["S"]
    return (t["N"] * t["G"] * t["C"] * h * w).astype(np.float64)
