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

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..hardware import adc
from ..hardware.constants import design_constants
from ..hardware.space import Designs
from ..hardware.technology import Technology
from ..workloads.layer import Workload
from .mapping import ceil_div, map_layers, reference_layer_arrays, slice_activity
from .psum import psum_bits_lost
from .xp import array_namespace, is_torch, namespace, to_numpy

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
    weight_arrays_required: np.ndarray  # (N,) arrays one resident copy of all weights needs
    executed_macs: np.ndarray  # (N,) MACs the mapping performs (= macs unless excluded)
    energy_breakdown_j: dict[str, np.ndarray] = field(default_factory=dict)
    area_breakdown_mm2: dict[str, np.ndarray] = field(default_factory=dict)
    layer_energy_j: np.ndarray | None = None  # (N, L)
    layer_latency_s: np.ndarray | None = None  # (N, L)
    layer_names: tuple[str, ...] = ()
    # endurance: the most writes one cell takes per inference (streamed weights, and matmul
    # operands under policy in_array), and inferences until it reaches cell_endurance_cycles
    cell_writes_per_inference: np.ndarray | None = None  # (N,)
    lifetime_inferences: np.ndarray | None = None  # (N,), inf when nothing is written
    psum_bits_lost: np.ndarray | None = None  # (N,) partial-sum bits the ADC drops (model/psum)

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
            **({} if self.psum_bits_lost is None
               else {"psum_bits_lost": float(self.psum_bits_lost[i])}),
            "feasible": bool(self.feasible[i]),
            "reason": str(self.reason[i]),
        }


def area_mm2(d: Designs, tech: Technology) -> dict[str, np.ndarray]:
    """Chip area by component, mm^2, shape (N,) each. Independent of the workload."""
    c = _design_constants(tech, d)  # node-scaled (hardware/scaling.py)
    xp = array_namespace(d["rows_per_array"])
    rows, cols = d["rows_per_array"], d["cols_per_array"]
    tiles = d["router_groups"] * d["tiles_per_group"]
    arrays = tiles * d["arrays_per_tile"]
    feature_m = d["technology_node_nm"] * 1e-9
    adc_bits = d["adc_bits"]
    adc_mm2 = c["adc_area_base_mm2"] + c["adc_area_per_bit_mm2"] * _on_host(
        adc.area_units, adc_bits, d["adc_type"])
    digital = c["digital_lanes_per_tile"] * c["digital_lane_area_mm2"]
    # the reference's chips have no matmul unit (CiMLoop maps attention matmuls like weights)
    if tech.matmul_policy != "digital" or tech.assumptions == "cimloop":
        digital = 0.0
    return {
        "cell_array": arrays * rows * cols * c["cell_area_f2"] * feature_m**2 * 1e6,
        "dac_row_drivers": arrays * rows * c["row_driver_area_mm2"] * driver_sizing(d, tech),
        "adc_column_periphery": arrays * cols
        * (c["column_periphery_area_mm2"] + adc_mm2 / c["cols_per_adc"]),
        "array_periphery": arrays * c["array_periphery_area_mm2"],
        "tile_buffers": tiles * (c["tile_area_mm2"] + d["arrays_per_tile"]
                                 * c["tile_buffer_area_per_array_mm2"]),
        "digital_units": tiles * digital,
        "routers": d["router_groups"] * c["router_area_mm2"],
        "global_buffer": d["glb_depth_words"] * GLB_WORD_BITS * c["glb_area_per_bit_mm2"],
        "chip_periphery": xp.full(d.n, c["chip_periphery_area_mm2"]),
    }


def _copy_limit(network: int | None, mapper: float | None) -> int | None:
    """The most copies a layer may have: the network's mapping choice and, under the
    reference's assumptions, the reach of its mapper (`mapper_max_copies`)."""
    limits = [v for v in (network, mapper) if v is not None]
    return int(min(limits)) if limits else None


def driver_sizing(d: Designs, tech: Technology) -> np.ndarray:
    """How much wider (and so larger and more capacitive) a row driver must be at supply V to
    drive its wordline in the same time as at the nominal voltage: drive current per width
    grows as (V - Vt)^x, so width ~ ((Vnom - Vt) / (V - Vt))^x."""
    c = tech.c
    vt = c["driver_threshold_voltage_v"]
    xp = array_namespace(d["voltage_v"])
    return ((c["nominal_voltage_v"] - vt) / xp.maximum(d["voltage_v"] - vt, 5e-3)) ** c[
        "driver_sizing_exponent"]


def cycle_time_s(d: Designs, tech: Technology) -> np.ndarray:
    """Effective cycle: the clock period, stretched where the supply is too low for it.

    Logic delay follows the alpha-power law t ~ V / (V - Vt)^alpha, normalised to the
    technology's nominal voltage. The shortest cycle scales with the node's gate delay and
    the ADC's conversion time (hardware/adc.py).
    """
    c = _design_constants(tech, d)
    v = d["voltage_v"]
    xp = array_namespace(v)
    vt, alpha, vnom = c["threshold_voltage_v"], c["alpha_power"], c["nominal_voltage_v"]
    slow = (v / vnom) * ((vnom - vt) / xp.maximum(v - vt, 1e-3)) ** alpha
    return xp.maximum(d["clock_period_s"], c["min_cycle_nominal_s"] * slow
                      * _on_host(adc.min_cycle_factor, d["adc_bits"], d["adc_type"]))


def _design_constants(tech: Technology, d: Designs, column: bool = False) -> dict:
    """`hardware.constants.design_constants` (numpy code) for designs on any array backend:
    per-design constants are computed on the host and moved to the designs' device."""
    xp = array_namespace(d["rows_per_array"])
    if xp is np:
        return design_constants(tech, d, column)
    host = Designs({k: to_numpy(v) for k, v in d.values.items()}, d.n)
    return {k: xp.asarray(v) if isinstance(v, np.ndarray) else v
            for k, v in design_constants(tech, host, column).items()}


def _on_host(rule: Callable[..., np.ndarray], *args: object) -> object:
    """A per-design hardware rule (numpy code, e.g. hardware/adc.py) applied to arrays of
    any backend; the result comes back in the arguments' namespace."""
    xp = array_namespace(*args)
    if xp is np:
        return rule(*args)
    return xp.asarray(rule(*(to_numpy(a) if is_torch(a) else a for a in args)))


CHUNK_DESIGNS = 2048  # designs per block: keeps (block x layers) arrays in cache
#: designs per block on a torch device: big blocks amortise the per-operation overhead
TORCH_CHUNK_DESIGNS = {"cpu": 8192, "cuda": 262144}


def evaluate(
    designs: Designs, workload: Workload, tech: Technology, per_layer: bool = True,
    device: str = "numpy",
) -> Metrics:
    """Energy, latency and area of every design on one workload (see module docstring).

    Designs are processed in blocks of `CHUNK_DESIGNS`, so memory stays bounded and the
    working arrays stay in cache; the result is the same as one big block.
    device: numpy (default), or cpu / cuda to compute with PyTorch float64 tensors there
    (see `model.xp`); the Metrics hold numpy arrays either way.
    """
    n, n_layers = designs.n, len(workload)
    xp = namespace(device)
    chunk = CHUNK_DESIGNS if xp is np else TORCH_CHUNK_DESIGNS[xp.device.type]
    on_device = designs if xp is np else Designs(
        {k: xp.asarray(v) for k, v in designs.values.items()}, n)
    blocks = [
        _evaluate_block(on_device.take(slice(i, i + chunk)), workload, tech, per_layer)
        for i in range(0, n, chunk)
    ]

    def cat(get: str) -> np.ndarray:
        return to_numpy(xp.concatenate([b[get] for b in blocks]))

    energy_breakdown = {k: to_numpy(xp.concatenate([b["energy_parts"][k] for b in blocks]))
                        for k in blocks[0]["energy_parts"]}
    area_breakdown = {k: to_numpy(xp.concatenate([b["area_parts"][k] for b in blocks]))
                      for k in blocks[0]["area_parts"]}
    feasible = cat("feasible")
    required, available = cat("required"), cat("available")
    reason = np.full(n, "", dtype=object)
    bits, rows, cols = (designs[k].astype(np.int64).tolist()
                        for k in ("bits_per_cell", "rows_per_array", "cols_per_array"))
    max_bits = int(tech.c["max_bits_per_cell"])
    too_many_bits = designs["bits_per_cell"] > max_bits
    for i in np.flatnonzero(too_many_bits).tolist():
        reason[i] = (f"{tech.name} cells hold at most {max_bits} bit(s); "
                     f"bits_per_cell = {bits[i]}")
    needed, have = required.astype(np.int64).tolist(), available.astype(np.int64).tolist()
    for i in np.flatnonzero(~feasible & ~too_many_bits).tolist():
        reason[i] = (f"weights need {needed[i]} arrays of {rows[i]}x{cols[i]} cells, "
                     f"the chip has {have[i]}")
    return Metrics(
        workload=workload.name,
        technology=tech.name,
        energy_j=cat("energy"),
        latency_s=cat("latency"),
        area_mm2=cat("area"),
        feasible=feasible,
        reason=reason.astype(str),
        macs=int(workload.macs),
        utilization=cat("util"),
        executed_macs=cat("executed"),
        weight_arrays_required=required,
        energy_breakdown_j=energy_breakdown,
        area_breakdown_mm2=area_breakdown,
        layer_energy_j=cat("layer_energy").reshape(n, n_layers) if per_layer else None,
        layer_latency_s=cat("layer_latency").reshape(n, n_layers) if per_layer else None,
        layer_names=tuple(layer.name for layer in workload.layers),
        cell_writes_per_inference=cat("cell_writes"),
        lifetime_inferences=_lifetime(cat("cell_writes"), tech.c["cell_endurance_cycles"]),
        psum_bits_lost=psum_bits_lost(designs, workload, tech),
    )


def _evaluate_block(
    designs: Designs, workload: Workload, tech: Technology, per_layer: bool
) -> dict:
    c = _design_constants(tech, designs, column=True)  # node-scaled, per off-chip memory
    t = workload.table()
    n, n_layers = designs.n, len(workload)
    xp = array_namespace(designs["rows_per_array"])
    col = {k: v[:, None] for k, v in designs.values.items()}  # (N, 1)
    cimloop = tech.assumptions == "cimloop"
    # CiMLoop maps attention matmuls as if one operand were stationary weights; policy
    # in_array maps them so too, but writes that operand into the arrays at every inference
    in_array = tech.matmul_policy == "in_array" and not cimloop
    is_mm = (t["kind"] == "matmul") & (not cimloop) & (not in_array)
    w_idx, mm_idx = np.flatnonzero(~is_mm), np.flatnonzero(is_mm)

    rows, cols = col["rows_per_array"], col["cols_per_array"]
    tiles = col["router_groups"] * col["tiles_per_group"]
    arrays = tiles * col["arrays_per_tile"]
    vscale = col["voltage_v"] / c["nominal_voltage_v"]
    v2 = vscale**2
    # the study's CiMLoop passes the supply only to the NeuroSim array components (row
    # drivers, cells, column readout): its buffers, routers and digital units keep their
    # nominal energy (VOLTAGE_ENERGY_SCALE = 1)
    v2_digital = 1.0 if cimloop else v2
    area_parts = area_mm2(designs, tech)
    area = sum(area_parts.values())
    t_cycle = (col["clock_period_s"] if cimloop else cycle_time_s(designs, tech)[:, None])
    glb_cap_bits = col["glb_depth_words"] * GLB_WORD_BITS
    glb_mib = glb_cap_bits / 8 / 2**20
    # energy of moving one bit GLB <-> tiles: the buffer access, router hops and wire
    e_glb_bit = (c["glb_energy_per_bit_j"] * glb_mib ** c["glb_energy_capacity_exponent"]
                 * v2_digital)
    e_noc_bit = (c["router_energy_per_bit_j"] * xp.sqrt(col["router_groups"])
                 + c["wire_energy_per_bit_mm_j"] * 0.5 * xp.sqrt(area)[:, None]) * v2_digital
    noc_bits_per_cycle = c["router_bits_per_cycle"] * col["router_groups"]
    dram_bits_per_cycle = c["dram_bandwidth_bits_per_s"] * t_cycle

    def layer_rows(idx: np.ndarray) -> dict[str, np.ndarray]:
        return {k: xp.asarray(v[idx][None, :], dtype=xp.float64) for k, v in t.items()
                if k != "kind"}

    def data_movement(r: dict[str, np.ndarray], extra_glb_bits: np.ndarray, passes: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """GLB, NoC and DRAM traffic of a layer: (glb bits, dram bits, energies)."""
        in_bits = _input_values(r) * r["input_bits"]
        out_bits = r["G"] * r["M"] * r["N"] * r["P"] * r["Q"] * r["output_bits"]
        glb_bits = in_bits * passes + out_bits + extra_glb_bits
        # activations that do not fit the GLB go to DRAM and back (the study's CiMLoop
        # systems park them in a free, unlimited top buffer instead)
        spill_bits = 0.0 * in_bits if cimloop else 2.0 * xp.maximum(
            in_bits + out_bits - glb_cap_bits, 0.0)
        return glb_bits, spill_bits, {
            "global_buffer": glb_bits * e_glb_bit,
            "noc": glb_bits * e_noc_bit,
        }

    def movement_cycles(glb_bits: np.ndarray, dram_bits: np.ndarray) -> np.ndarray:
        if cimloop:  # the study's CiMLoop runs show no bandwidth bound: 1 cycle per step
            return xp.zeros_like(glb_bits)
        return xp.maximum(xp.maximum(glb_bits / c["glb_bits_per_cycle"],
                                     glb_bits / noc_bits_per_cycle),
                          dram_bits / dram_bits_per_cycle)

    energy = {k: xp.zeros((n, n_layers)) for k in ENERGY_COMPONENTS}
    cycles = xp.zeros((n, n_layers))
    util = xp.zeros(n)
    required = xp.zeros((n, 1))
    executed = xp.zeros((n, 1))
    cell_writes = xp.zeros(n)

    if len(w_idx):
        r = layer_rows(w_idx)
        K = r["C"] * r["R"] * r["S"]
        steps = r["N"] * r["P"] * r["Q"]
        resident = tech.weight_residency == "resident"
        # the reference's mapper splits one dimension of a layer over the router groups,
        # padding the last share (mapping.router_group_share); imcopt's own mapping runs
        # ragged tails on every group instead
        layer_arrays = reference_layer_arrays(
            col["router_groups"], col["tiles_per_group"], col["arrays_per_tile"], r
        ) if cimloop else arrays
        mp, required = map_layers(
            rows=rows, cols=cols, arrays=layer_arrays, bits_per_cell=col["bits_per_cell"], G=r["G"],
            K=K, M=r["M"], steps=steps, weight_bits=r["weight_bits"], resident=resident,
            replicate_whole_chip=cimloop, pack_groups=not cimloop,
            max_copies=_copy_limit(workload.max_copies,
                                   c["mapper_max_copies"] if cimloop else None),
        )
        slices_in = ceil_div(r["input_bits"], c["dac_bits"])
        macs = r["G"] * K * r["M"] * steps
        wcols = r["M"] * mp.slices
        conversions = steps * r["G"] * mp.row_tiles * wcols * slices_in
        row_drives = steps * r["G"] * K * mp.col_tiles * slices_in
        psum_bits = r["output_bits"] * c["psum_bits_per_output_bit"]
        tile_bits = steps * r["G"] * (K * mp.col_tiles * r["input_bits"]
                                      + r["M"] * mp.row_tiles * psum_bits)
        # matmul operands written into the arrays (policy in_array) come from the GLB
        rewritten = xp.asarray((t["kind"][w_idx] == "matmul")[None, :] & in_array, dtype=bool)
        operand_bits = xp.where(rewritten, r["G"] * K * r["M"] * r["weight_bits"], 0.0)
        # a chunk re-reads the inputs of the groups it holds: one group's weight tiles over
        # the chip's arrays (= chunks for an ungrouped layer; 1 for a depthwise one that fits)
        input_passes = xp.maximum(ceil_div(mp.row_tiles * mp.col_tiles, layer_arrays), 1.0)
        glb_bits, spill_bits, moved = data_movement(r, operand_bits, input_passes)
        streamed_bits = 0.0 if resident else r["G"] * K * r["M"] * r["weight_bits"] - operand_bits
        dram_bits = streamed_bits + spill_bits
        written_cells = 0.0 if resident else mp.weight_cells * (1.0 if cimloop else mp.copies)
        written_cells = xp.where(rewritten, mp.weight_cells * mp.copies, written_cells)
        # the first copy of a written layer comes from off chip; its replicas are copied on
        # chip into the other arrays (CiMLoop reads each streamed weight from DRAM once)
        first_written = xp.where(written_cells > 0, mp.weight_cells, 0.0)
        replica_cells = xp.where(written_cells > 0, mp.weight_cells * (mp.copies - 1.0), 0.0)
        adc_bits = col["adc_bits"]
        e_adc = (c["adc_energy_per_step_j"]
                 * _on_host(adc.energy_steps, adc_bits, col["adc_type"],
                            c["adc_energy_bit_slope"])
                 * vscale ** c["adc_voltage_exponent"])
        e_conv = e_adc + (c["column_drive_energy_j"] + c["bitline_energy_per_row_j"] * rows) * v2
        e_row = (c["row_drive_energy_j"] * driver_sizing(designs, tech)[:, None]
                 * (c["row_drive_reference_cols"] / cols) ** c["row_drive_width_exponent"]
                 + c["wordline_energy_per_col_j"] * cols) * v2
        # every cell read costs a fixed access energy plus a part that follows the stored
        # level (read current); weights are data, so the level is an expectation
        activity = slice_activity(r["weight_bits"], col["bits_per_cell"],
                                  c["weight_std_fraction"])
        cell_reads = macs * slices_in
        part = {
            "cell_array": cell_reads * (c["cell_access_energy_j"] * mp.slices
                                        + c["cell_read_energy_j"] * activity)
            * vscale ** c["cell_voltage_exponent"],
            "dac_row_drivers": row_drives * e_row,
            "adc": conversions * e_conv,
            "shift_add": conversions * c["shift_add_energy_j"] * v2_digital,
            "tile_buffers": tile_bits * c["tile_buffer_energy_per_bit_j"] * v2_digital,
            "dram": dram_bits * c["dram_energy_per_bit_j"],
            "weight_writes": (first_written * c["cell_write_energy_j"]
                              + replica_cells * c["replica_write_energy_j"])
            * vscale ** c["write_voltage_exponent"],
            **moved,
        }
        for k, v in part.items():
            energy[k][:, w_idx] = v
        compute = mp.serial_steps * slices_in * c["cycles_per_input_slice"]
        # one row per array per cycle (CiMLoop charges no time for loading weights)
        write_cycles = 0.0 if cimloop else mp.chunks * ceil_div(
            xp.minimum(written_cells, arrays * rows * cols), cols * arrays)
        # a written row takes cell_write_time_s (all arrays in parallel), at least a cycle
        write_cycles = write_cycles * xp.where(
            rewritten, xp.maximum(xp.ceil(c["cell_write_time_s"] / t_cycle), 1.0), 1.0)
        cycles[:, w_idx] = (xp.maximum(compute, movement_cycles(glb_bits, dram_bits))
                            + write_cycles + c["layer_overhead_cycles"])
        # each written layer rewrites its cells once per chunk; streamed layers share cells,
        # resident ones (weights and in-array operands) have arrays of their own
        writes = xp.where(written_cells > 0, mp.chunks, 0.0) * xp.ones((n, 1))
        cell_writes = xp.amax(writes, axis=1) if resident else writes.sum(axis=1)
        # MACs the arrays perform, counted from conversions: each conversion sums one
        # column slice over the rows of its row tile (K / row_tiles on average)
        executed[:, 0] += (conversions / (mp.slices * slices_in) * (K / mp.row_tiles)).sum(axis=1)
        busy = xp.minimum(mp.arrays_per_copy * mp.copies / arrays, 1.0)
        util = (busy * macs).sum(axis=1) / macs.sum()

    if len(mm_idx) and tech.matmul_policy == "digital":
        # activation x activation: both operands come from the GLB to a digital MAC unit
        r = layer_rows(mm_idx)
        mm_macs = r["G"] * r["C"] * r["M"] * r["R"] * r["S"] * r["N"] * r["P"] * r["Q"]
        operand_bits = r["G"] * r["C"] * r["M"] * r["weight_bits"]
        glb_bits, spill_bits, moved = data_movement(r, operand_bits, 1.0)
        moved["digital_matmul"] = (mm_macs * c["digital_mac_energy_j"]
                                   * (r["input_bits"] * r["weight_bits"] / 64.0) * v2)
        moved["dram"] = spill_bits * c["dram_energy_per_bit_j"]
        for k, v in moved.items():
            energy[k][:, mm_idx] = v
        executed[:, 0] += mm_macs.sum()
        compute = ceil_div(mm_macs, tiles * c["digital_lanes_per_tile"])
        cycles[:, mm_idx] = (xp.maximum(compute, movement_cycles(glb_bits, spill_bits))
                             + c["layer_overhead_cycles"])

    layer_latency = cycles * t_cycle
    if not cimloop:
        energy["leakage"] = (c["leakage_power_w_per_mm2"] * area[:, None] * layer_latency * v2)
    layer_energy = sum(energy.values())
    feasible = (required <= arrays)[:, 0] if tech.weight_residency == "resident" else xp.ones(
        n, dtype=xp.bool)
    feasible &= designs["bits_per_cell"] <= c["max_bits_per_cell"]
    return {
        "energy": layer_energy.sum(axis=1),
        "latency": layer_latency.sum(axis=1),
        "area": area,
        "feasible": feasible,
        "required": required[:, 0],
        "available": arrays[:, 0],
        "util": util,
        "executed": executed[:, 0],
        "cell_writes": cell_writes,
        "energy_parts": {k: v.sum(axis=1) for k, v in energy.items()},
        "area_parts": {k: xp.broadcast_to(v, (n,)) for k, v in area_parts.items()},
        "layer_energy": layer_energy.ravel() if per_layer else None,
        "layer_latency": layer_latency.ravel() if per_layer else None,
    }


def _lifetime(cell_writes: np.ndarray, endurance: float) -> np.ndarray:
    """Inferences until the most-written cell reaches its endurance (inf: never written)."""
    with np.errstate(divide="ignore"):
        return np.where(cell_writes > 0, endurance / cell_writes, np.inf)


def _input_values(t: dict[str, np.ndarray]) -> np.ndarray:
    h = (t["P"] - 1) * t["stride_h"] + t["R"]
    w = (t["Q"] - 1) * t["stride_w"] + t["S"]
    return t["N"] * t["G"] * t["C"] * h * w
