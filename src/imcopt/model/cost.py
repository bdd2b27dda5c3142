"""The cost model: energy, latency and area of N designs on one workload.

This module only composes. The circuits are in `components/` (one module per block, each with
its equation and sources), the layer-to-array mapping in `mapping.py`, speed and schedule in
`timing.py`, and every choice of how they combine (replication, bandwidth bounds, which supply
a block sees, ...) in the technology's `policy.py` object. Design quantities are (N, 1)
columns, layer quantities (1, L) rows; broadcasting gives (N, L) per-layer results with no
Python loop over designs. docs/model.md writes the whole model out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..hardware.constants import design_constants
from ..hardware.space import Designs
from ..hardware.technology import Technology
from ..workloads.layer import Workload
from . import timing
from .components import adc, array, buffers, digital, dram, drivers, noc
from .distinct import distinct_rows
from .mapping import (
    ceil_div,
    input_destinations,
    limit_copies,
    map_layers,
    reference_layer_arrays,
    row_phases,
)
from .policy import Policy, policy_for
from .psum import psum_bits_lost
from .xp import array_namespace, namespace, to_numpy

ENERGY_COMPONENTS = (
    "cell_array", "dac_row_drivers", "adc", "shift_add", "tile_buffers", "global_buffer",
    "noc", "dram", "weight_writes", "digital_matmul", "leakage",
)
AREA_COMPONENTS = (
    "cell_array", "dac_row_drivers", "adc_column_periphery", "array_periphery",
    "array_whitespace", "tile_buffers", "digital_units", "routers", "global_buffer",
    "chip_periphery",
)
#: the components inside one macro (array, its drivers, readout and shift-add): what a
#: published macro's TOPS/W and TOPS/mm^2 cover
MACRO_ENERGY = ("cell_array", "dac_row_drivers", "adc", "shift_add")
MACRO_AREA = ("cell_array", "dac_row_drivers", "adc_column_periphery", "array_periphery",
              "array_whitespace")
GLB_WORD_BITS = buffers.GLB_WORD_BITS


@dataclass
class Metrics:
    """Results of `evaluate`: per design (N,) and, when asked, per design and layer (N, L).

    All energies in J, latencies in s, areas in mm^2.
    """

    workload: str
    technology: str
    energy_j: np.ndarray  # (N,) total per inference
    latency_s: np.ndarray  # (N,) per inference (layer schedule of the technology)
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


def _constants(tech: Technology, d: Designs, column: bool = False) -> dict:
    """`hardware.constants.design_constants` (node-scaled, per memory type; numpy code) for
    designs on any array backend: computed on the host, moved to the designs' device."""
    xp = array_namespace(d["rows_per_array"])
    if xp is np:
        return design_constants(tech, d, column)
    host = Designs({k: to_numpy(v) for k, v in d.values.items()}, d.n)
    return {k: xp.asarray(v) if isinstance(v, np.ndarray) else v
            for k, v in design_constants(tech, host, column).items()}


def _supply(c: dict, pol: Policy, supply_v: np.ndarray) -> dict:
    """The supplies and speed factors a design's blocks see under a policy."""
    vnom = c["nominal_voltage_v"]
    digital_v = supply_v if pol.digital_follows_supply else vnom + 0.0 * supply_v
    if pol.clock_stretches:
        sizing, slow = 1.0 + 0.0 * supply_v, timing.slowdown(c, supply_v)
    else:
        sizing = timing.driver_sizing(c, supply_v, c["lp_threshold_voltage_v"],
                                      c["lp_current_exponent"])
        slow = 1.0 + 0.0 * supply_v
    return {"v": supply_v, "v2": (supply_v / vnom) ** 2, "digital_v": digital_v,
            "digital_v2": (digital_v / vnom) ** 2, "sizing": sizing, "slowdown": slow}


def _switch(c: dict, pol: Policy, cols: np.ndarray, sizing: np.ndarray) -> np.ndarray:
    """Relative width of a row's wordline switch under the policy's circuit rules."""
    ir_drop = pol.neurosim_switches and c["wl_switch_ir_drop_sized"] > 0
    return drivers.switch_width(c, cols, sizing, ir_drop)


def area_mm2(d: Designs, tech: Technology) -> dict[str, np.ndarray]:
    """Chip area by component, mm^2, shape (N,) each. Independent of the workload."""
    c = _constants(tech, d)
    pol = policy_for(tech.assumptions)
    xp = array_namespace(d["rows_per_array"])
    rows, cols = d["rows_per_array"], d["cols_per_array"]
    tiles = d["router_groups"] * d["tiles_per_group"]
    arrays = tiles * d["arrays_per_tile"]
    node_m = d["technology_node_nm"] * 1e-9
    sizing = _supply(c, pol, d["voltage_v"])["sizing"]
    switch = _switch(c, pol, cols, sizing)
    bit_cols = array.bit_columns(tech.cell, cols, d["bits_per_cell"])
    c_wl = array.wordline_capacitance_f(c, bit_cols, node_m)
    adcs = adc.adcs_per_array(cols, d["cols_per_adc"])
    acc_bits = digital.accumulator_bits(8.0, 8.0, rows)  # built for 8-bit operands
    written = pol.write_periphery or tech.weight_residency == "streamed"
    # per array: the cells, the row circuits (beside the array), the column circuits (below)
    cells = array.cell_area_mm2(c, rows, bit_cols, node_m)
    row_drivers = drivers.row_area_mm2(c, c_wl, d["dac_bits"], sizing,
                                       chain=pol.driver_chain, switch=switch)
    if pol.weight_drivers_as_row_drivers and tech.weight_residency == "streamed":
        row_drivers = 2.0 * row_drivers
    row_side = rows * (row_drivers + (c["write_driver_area_per_row_mm2"] if written else 0.0))
    col_side = (cols * (c["column_periphery_area_mm2"]
                        + (c["write_driver_area_per_col_mm2"] if written else 0.0))
                + adcs * (adc.adc_area_mm2(c, d["adc_bits"], d["adc_type"])
                          + (acc_bits * c["shift_add_area_per_bit_mm2"] if pol.shift_add
                             else 0.0)))
    # edge periphery is pitch-matched to the array: the empty corner of the bounding box
    whitespace = (row_side * col_side / cells if pol.array_bounding_box
                  else 0.0 * cells)
    digital_unit = (pol.digital_unit and tech.matmul_policy == "digital")
    tile_bits = buffers.tile_buffer_capacity_bits(c, d["arrays_per_tile"], rows, cols)
    return {
        "cell_array": arrays * cells,
        "dac_row_drivers": arrays * row_side,
        "adc_column_periphery": arrays * col_side,
        "array_periphery": arrays * c["array_periphery_area_mm2"],
        "array_whitespace": arrays * whitespace,
        "tile_buffers": tiles * (c["tile_area_mm2"] + buffers.buffer_area_mm2(c, tile_bits)),
        "digital_units": tiles * (digital.matmul_unit_area_mm2(c) if digital_unit else 0.0),
        "routers": noc.area_mm2(c, d["router_groups"]),
        "global_buffer": buffers.buffer_area_mm2(
            c, buffers.glb_capacity_bits(d["glb_depth_words"])),
        "chip_periphery": xp.full(d.n, c["chip_periphery_area_mm2"]),
    }


def cycle_time_s(d: Designs, tech: Technology) -> np.ndarray:
    """The effective cycle of each design (N,): the clock, stretched where a low supply
    cannot meet it (under a policy that stretches the clock)."""
    c = _constants(tech, d)
    if policy_for(tech.assumptions).clock_stretches:
        return timing.stretched_cycle_s(c, d["clock_period_s"], d["voltage_v"])
    return d["clock_period_s"]


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
    from ..hardware import adc as adc_codes

    adc_codes.check_design_codes(designs)
    n, n_layers = designs.n, len(workload)
    xp = namespace(device)
    chunk = CHUNK_DESIGNS if xp is np else TORCH_CHUNK_DESIGNS[xp.device.type]
    on_device = designs if xp is np else Designs(
        {k: xp.asarray(v) for k, v in designs.values.items()}, n)
    if n == 0:  # no designs: a default one's results, none of its rows (the same fields)
        return _no_rows(evaluate(Designs.from_values({}), workload, tech, per_layer, device))
    # layers that run one after another: identical ones cost the same, so each distinct
    # layer is costed once and counted as often as it occurs (a pipeline's order matters)
    if tech.layer_schedule == "sequential":
        costed, counts, layer_of = workload.distinct()
    else:
        costed, counts, layer_of = workload, None, np.arange(n_layers)
    blocks = [
        _evaluate_block(on_device.take(slice(i, i + chunk)), costed, tech, per_layer, counts)
        for i in range(0, n, chunk)
    ]

    def cat(get: str) -> np.ndarray:
        return to_numpy(xp.concatenate([b[get] for b in blocks]))

    energy_breakdown = {k: to_numpy(xp.concatenate([b["energy_parts"][k] for b in blocks]))
                        for k in blocks[0]["energy_parts"]}
    area_breakdown = {k: to_numpy(xp.concatenate([b["area_parts"][k] for b in blocks]))
                      for k in blocks[0]["area_parts"]}
    lost = psum_bits_lost(designs, workload, tech)
    feasible, reason = _feasibility(designs, tech, cat("feasible"), cat("required"),
                                    cat("available"), lost)
    return Metrics(
        workload=workload.name,
        technology=tech.name,
        energy_j=cat("energy"),
        latency_s=cat("latency"),
        area_mm2=cat("area"),
        feasible=feasible,
        reason=reason,
        macs=int(workload.macs),
        utilization=cat("util"),
        executed_macs=cat("executed"),
        weight_arrays_required=cat("required"),
        energy_breakdown_j=energy_breakdown,
        area_breakdown_mm2=area_breakdown,
        layer_energy_j=(cat("layer_energy").reshape(n, len(costed))[:, layer_of] if per_layer
                        else None),
        layer_latency_s=(cat("layer_latency").reshape(n, len(costed))[:, layer_of] if per_layer
                         else None),
        layer_names=tuple(layer.name for layer in workload.layers),
        cell_writes_per_inference=cat("cell_writes"),
        lifetime_inferences=_lifetime(cat("cell_writes"), tech.c["cell_endurance_cycles"]),
        psum_bits_lost=lost,
    )


def _no_rows(m: Metrics) -> Metrics:
    """`m` with none of its designs (every per-design array cut to length 0)."""
    def cut(v: object) -> object:
        if isinstance(v, np.ndarray):
            return v[:0]
        return {k: x[:0] for k, x in v.items()} if isinstance(v, dict) else v

    return dataclasses.replace(m, **{f.name: cut(getattr(m, f.name))
                                     for f in dataclasses.fields(m)})


def _feasibility(designs: Designs, tech: Technology, capacity_ok: np.ndarray,
                 required: np.ndarray, available: np.ndarray, lost: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Feasible flags and one reason per infeasible design (capacity, cell bits, precision)."""
    reason = np.full(designs.n, "", dtype=object)
    max_bits = int(tech.c["max_bits_per_cell"])
    too_many_bits = designs["bits_per_cell"] > max_bits
    limit = tech.psum_bits_limit
    truncates = lost > limit
    # later reasons win; each distinct set of numbers is formatted once
    _set_reasons(reason, truncates, (designs["adc_bits"], lost), lambda adc, n: (
        f"the {adc}-bit ADC drops {n} partial-sum bits (allowed: {limit:g}; fewer "
        "parallel_rows, dac_bits or bits_per_cell, or more adc_bits, keep them)"))
    _set_reasons(reason, ~capacity_ok, (required, designs["rows_per_array"],
                                         designs["cols_per_array"], available),
                 lambda need, r, c, have: f"weights need {need} arrays of {r}x{c} cells, the "
                                          f"chip has {have}")
    _set_reasons(reason, too_many_bits, (designs["bits_per_cell"],), lambda b: (
        f"{tech.name} cells hold at most {max_bits} bit(s); bits_per_cell = {b}"))
    feasible = capacity_ok & ~too_many_bits & ~truncates
    return feasible, reason.astype(str)


def _set_reasons(reason: np.ndarray, mask: np.ndarray, columns: tuple[np.ndarray, ...],
                 text: Callable[..., str]) -> None:
    """reason[mask] = text(*integers of that design's columns), formatted once per distinct
    row of the columns (thousands of infeasible designs share a handful of reasons)."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return
    picked = [np.asarray(col)[idx].astype(np.int64) for col in columns]
    first, inverse = distinct_rows(*picked)
    texts = np.array([text(*(int(col[i]) for col in picked)) for i in first.tolist()],
                     dtype=object)
    reason[idx] = texts[inverse]


def layer_kinds(kinds: np.ndarray, tech: Technology) -> tuple[np.ndarray, bool]:
    """Which layers are mapped onto the arrays (L,) bool, and whether attention matmuls are
    written into them at every inference. Attention matmuls are mapped like weights under
    the reference policy, or written into the arrays under matmul policy in_array; else
    they run on the tiles' digital units (policy digital) or cost nothing (exclude)."""
    pol = policy_for(tech.assumptions)
    in_array = tech.matmul_policy == "in_array" and not pol.matmul_as_weights
    return (kinds != "matmul") | pol.matmul_as_weights | in_array, in_array


def _chip(c: dict, pol: Policy, col: dict, area: np.ndarray) -> dict:
    """A design's chip-level figures (N, 1): its cycle, arrays, tiles, supplies, GLB capacity,
    energy per bit of the GLB and the network, the network's bits per cycle; `area` (N, 1)
    mm^2 sets the network's wire length."""
    tiles = col["router_groups"] * col["tiles_per_group"]
    supply = _supply(c, pol, col["voltage_v"])
    glb_bits_cap = buffers.glb_capacity_bits(col["glb_depth_words"])
    return {
        "cycle": (timing.stretched_cycle_s(c, col["clock_period_s"], col["voltage_v"])
                  if pol.clock_stretches else col["clock_period_s"]),
        "arrays": tiles * col["arrays_per_tile"], "tiles": tiles, "supply": supply,
        "glb_capacity": glb_bits_cap,
        "e_glb_bit": buffers.access_energy_per_bit_j(c, glb_bits_cap) * supply["digital_v2"],
        "e_noc_bit": noc.energy_per_bit_j(c, col["router_groups"], area,
                                          supply["digital_v"], pol.global_wires),
        "noc_bits_per_cycle": noc.bits_per_cycle(c, col["router_groups"]),
    }


def _traffic(pol: Policy, chip: dict, r: dict, input_passes: np.ndarray | float,
             operand_bits: np.ndarray, streamed_bits: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A layer's input bits and the bits it moves through the GLB, the network and DRAM:
    its inputs (read `input_passes` times), outputs and in-array or digital operands through
    the GLB; activations beyond the GLB's capacity out to DRAM and back; streamed weights
    from DRAM (and over the network, under the policy's rule)."""
    in_bits = _input_values(r) * r["input_bits"]
    out_bits = r["G"] * r["M"] * r["N"] * r["P"] * r["Q"] * r["output_bits"]
    glb_bits = in_bits * input_passes + out_bits + operand_bits
    spill = (dram.spill_bits(in_bits, out_bits, chip["glb_capacity"]) if pol.spill_to_dram
             else 0.0 * in_bits)
    dram_bits = streamed_bits + spill
    noc_bits = glb_bits + (streamed_bits if pol.streamed_weights_cross_noc else 0.0)
    return in_bits, glb_bits, noc_bits, dram_bits


def _evaluate_block(
    designs: Designs, workload: Workload, tech: Technology, per_layer: bool,
    counts: np.ndarray | None = None,
) -> dict:
    """One block of designs on a workload; counts (L,): how often each layer occurs in the
    network (None: once), which the totals over layers weigh."""
    pol = policy_for(tech.assumptions)
    c = _constants(tech, designs, column=True)  # node-scaled, per off-chip memory
    t = workload.table()
    n, n_layers = designs.n, len(workload)
    xp = array_namespace(designs["rows_per_array"])
    col = {k: v[:, None] for k, v in designs.values.items()}  # (N, 1)
    as_weights, in_array = layer_kinds(t["kind"], tech)
    w_idx, mm_idx = np.flatnonzero(as_weights), np.flatnonzero(~as_weights)

    area_parts = area_mm2(designs, tech)
    area = sum(area_parts.values())
    chip = _chip(c, pol, col, area[:, None])
    cycle, arrays, supply = chip["cycle"], chip["arrays"], chip["supply"]

    count = np.ones(n_layers) if counts is None else np.asarray(counts, dtype=np.float64)
    times = xp.asarray(count[None, :], dtype=xp.float64)  # (1, L): the totals weigh them

    def layer_rows(idx: np.ndarray) -> dict[str, np.ndarray]:
        rows = {k: xp.asarray(v[idx][None, :], dtype=xp.float64) for k, v in t.items()
                if k != "kind"}
        rows["count"] = xp.asarray(count[idx][None, :], dtype=xp.float64)
        return rows

    energy = {k: xp.zeros((n, n_layers)) for k in ENERGY_COMPONENTS}
    cycles = xp.zeros((n, n_layers))
    out = {"required": xp.zeros((n, 1)), "executed": xp.zeros((n, 1)), "util": xp.zeros(n),
           "cell_writes": xp.zeros(n)}
    if len(w_idx):
        rewritten = xp.asarray((t["kind"][w_idx] == "matmul")[None, :] & in_array, dtype=bool)
        parts, cyc, extra = _weight_layers(c, pol, tech, col, chip, layer_rows(w_idx),
                                           rewritten, workload.max_copies)
        for k, v in parts.items():
            energy[k][:, w_idx] = v
        cycles[:, w_idx] = cyc
        out.update(extra)
    if len(mm_idx) and tech.matmul_policy == "digital":
        parts, cyc, executed = _matmul_layers(c, pol, col, chip, layer_rows(mm_idx))
        for k, v in parts.items():
            energy[k][:, mm_idx] = v
        cycles[:, mm_idx] = cyc
        out["executed"] = out["executed"] + executed

    layer_latency = cycles * cycle
    if pol.leakage:
        # the bounding box's empty corners hold no transistors: they do not leak
        leaking = area - area_parts["array_whitespace"]
        energy["leakage"] = digital.leakage_energy_j(c, leaking[:, None], layer_latency,
                                                     supply["v2"])
    layer_energy = sum(energy.values())
    if tech.layer_schedule == "pipelined":
        rows_of = {k: xp.asarray(t[k][None, :], dtype=xp.float64) for k in ("R", "P")}
        latency = timing.pipelined_latency_s(layer_latency, rows_of["R"], rows_of["P"])
    else:
        latency = (layer_latency * times).sum(axis=1)
    capacity_ok = ((out["required"] <= arrays)[:, 0] if tech.weight_residency == "resident"
                   else xp.ones(n, dtype=xp.bool))
    return {
        "energy": (layer_energy * times).sum(axis=1),
        "latency": latency,
        "area": area,
        "feasible": capacity_ok,
        "required": out["required"][:, 0],
        "available": arrays[:, 0],
        "util": out["util"],
        "executed": out["executed"][:, 0],
        "cell_writes": out["cell_writes"],
        "energy_parts": {k: (v * times).sum(axis=1) for k, v in energy.items()},
        "area_parts": {k: xp.broadcast_to(v, (n,)) for k, v in area_parts.items()},
        "layer_energy": layer_energy.ravel() if per_layer else None,
        "layer_latency": layer_latency.ravel() if per_layer else None,
    }


def _weight_layers(c: dict, pol: Policy, tech: Technology, col: dict, chip: dict,
                   r: dict, rewritten: np.ndarray, network_copies: int | None
                   ) -> tuple[dict, np.ndarray, dict]:
    """Energy by component and cycles (N, L) of the layers mapped onto the arrays."""
    xp = array_namespace(col["rows_per_array"])
    supply, cycle, arrays = chip["supply"], chip["cycle"], chip["arrays"]
    rows, cols, bits_per_cell = col["rows_per_array"], col["cols_per_array"], col["bits_per_cell"]
    node_m = col["technology_node_nm"] * 1e-9
    K = r["C"] * r["R"] * r["S"]
    steps = r["N"] * r["P"] * r["Q"]
    macs = r["G"] * K * r["M"] * steps
    resident = tech.weight_residency == "resident"
    layer_arrays = (reference_layer_arrays(col["router_groups"], col["tiles_per_group"],
                                           col["arrays_per_tile"], r)
                    if pol.split_one_dimension else arrays)
    mp, required = map_layers(
        rows=rows, cols=cols, arrays=layer_arrays, bits_per_cell=bits_per_cell, G=r["G"], K=K,
        M=r["M"], steps=steps, weight_bits=r["weight_bits"], resident=resident,
        replicate_whole_chip=pol.replicate_whole_chip, pack_groups=pol.pack_groups,
        max_copies=network_copies, counts=r["count"],
        balance_pipeline=tech.layer_schedule == "pipelined",
        output_rows=(r["P"] if pol.replicate_whole_chip
                     and c["cimloop_replicates_output_rows_only"] else None))

    # --- one array step: the input slices, the rows read together, the pulse, the ADC
    dac_bits, encoding = col["dac_bits"], col["input_encoding"]
    parallel = rows if pol.all_rows_at_once else col["parallel_rows"]
    phases = row_phases(K, rows, parallel)
    slices_in = drivers.input_slices(r["input_bits"], dac_bits)
    density = c[pol.input_bit_density]
    read_pulse = c[pol.read_pulse]
    unit_pulse = read_pulse if pol.unit_pulse_is_read_pulse else c["pulse_unit_s"]
    pulse_s, weighted_s = drivers.pulse_times_s(encoding, dac_bits, read_pulse, unit_pulse,
                                                density)
    if pol.analog_step_timing:
        conversion_s = adc.conversion_time_s(c, col["adc_bits"], col["adc_type"],
                                             supply["slowdown"])
        step = timing.step_cycles(pulse_s, conversion_s, col["cols_per_adc"], cycle)
        sample_rate = (col["cols_per_adc"] / (step * cycle) if pol.adc_speed_penalty
                       else 0.0 * step)
    else:
        step = c["cimloop_cycles_per_slice"] + 0.0 * cycle
        sample_rate = 0.0 * step

    # --- data movement: GLB, network, DRAM
    operand_bits, streamed = weight_layer_operands(r, rewritten, resident)
    # a chunk re-reads the inputs of the groups it holds: one group's weight tiles over
    # the chip's arrays (= chunks for an ungrouped layer; 1 for a depthwise one that fits)
    input_passes = xp.maximum(ceil_div(mp.row_tiles * mp.col_tiles, layer_arrays), 1.0)
    in_bits, glb_bits, noc_bits, dram_bits = _traffic(pol, chip, r, input_passes,
                                                      operand_bits, streamed)
    if pol.split_one_dimension and not pol.network_multicasts:
        # each router group that needs an input receives its own copy
        noc_bits = noc_bits + in_bits * input_passes * (
            input_destinations(col["router_groups"], r) - 1.0)
    movement = _movement_cycles(c, pol, chip, glb_bits, noc_bits, dram_bits)
    if pol.feed_limited_copies:
        # copies beyond those the GLB and network can keep busy only cost writes
        # the fewest copies whose serial steps fit in the movement time: each copy has
        # floor(movement / time per step) steps' worth of time
        per_step = mp.chunks * slices_in * phases * step
        slots = xp.maximum(xp.floor(movement / per_step), 1.0)
        mp = limit_copies(mp, xp.ceil(steps / slots), steps)

    # --- events
    wcols = r["M"] * mp.slices
    conversions = steps * r["G"] * mp.row_tiles * phases * wcols * slices_in
    row_drives = steps * r["G"] * K * mp.col_tiles * slices_in
    level = array.stored_level(r["weight_bits"], bits_per_cell, c["weight_std_fraction"])
    mean_in, _, _ = drivers.slice_statistics(dac_bits, density)
    psum_bits = r["output_bits"] * c["psum_bits_per_output_bit"]
    # the tile buffer reads an input once per step and its bus broadcasts it to every column
    # tile (without multicast, sends it to each); partial sums come back once per row tile
    fanout = 1.0 if pol.network_multicasts else mp.col_tiles
    tile_bits = steps * r["G"] * (K * r["input_bits"] * fanout
                                  + r["M"] * mp.row_tiles * psum_bits)
    written = 0.0 if resident else mp.weight_cells * (1.0 if pol.replicate_whole_chip
                                                       else mp.copies)
    written = xp.where(rewritten, mp.weight_cells * mp.copies, written)
    first_written = xp.where(written > 0, mp.weight_cells, 0.0)
    replica_cells = xp.where(written > 0, mp.weight_cells * (mp.copies - 1.0), 0.0)

    # --- energies per event (components)
    c_wl = array.wordline_capacitance_f(
        c, array.bit_columns(tech.cell, cols, bits_per_cell), node_m)
    c_bl = array.bitline_capacitance_f(c, rows, node_m)
    if tech.cell == "rram":
        # a weight's cells together: its slices, with their levels summed
        e_weight_read = array.rram_read_energy_j(c, mp.slices, level, weighted_s)
    else:
        e_weight_read = array.sram_read_energy_j(c, level, mean_in, supply["v"])
    reads = tech.cell == "rram" or pol.sram_read_energy  # the reference drops SRAM reads
    column_activity = mean_in * level / mp.slices
    e_write = array.cell_write_energy_j(c, tech.cell, c_bl, c_wl, cols, supply["v"])
    if pol.sram_write_as_set and tech.cell == "sram":
        # the reference's plug-in: the cell file's SET pulse through the access transistor
        # (whose current falls at a low supply), plus the weight drivers' row write
        e_write = (c["cimloop_sram_set_energy_j"] / supply["sizing"]
                   + c["cimloop_weight_driver_energy_j"] * (rows + 3.0) / 131.0
                   * _switch(c, pol, cols, supply["sizing"]) * supply["v2"] / cols)
    # every copy is written like the first: the buffer multicasts the weights to all copies
    # (one read), and each copy's cells are filled through its own write path
    e_replica = e_write
    tile_capacity = buffers.tile_buffer_capacity_bits(c, col["arrays_per_tile"], rows, cols)
    parts = {
        "cell_array": (macs * slices_in * e_weight_read
                       + conversions * array.conversion_energy_j(
                           c, tech.cell, c_bl, supply["v"], column_activity,
                           xp.minimum(bits_per_cell, r["weight_bits"])))
        * (1.0 if reads else 0.0),
        "dac_row_drivers": row_drives * drivers.row_drive_energy_j(
            c, c_wl, supply["v"], dac_bits, encoding, supply["sizing"], density,
            chain=pol.driver_chain, switch=_switch(c, pol, cols, supply["sizing"])),
        "adc": conversions * (adc.conversion_energy_j(
            c, col["adc_bits"], col["adc_type"], sample_rate,
            supply["v2"] if pol.adc_follows_supply else 1.0)
            + adc.sample_energy_j(c, supply["v"])),
        "shift_add": conversions * digital.shift_add_energy_j(c, col["adc_bits"],
                                                              supply["digital_v2"])
        * (1.0 if pol.shift_add else 0.0),
        "tile_buffers": tile_bits * buffers.access_energy_per_bit_j(c, tile_capacity)
        * supply["digital_v2"],
        "global_buffer": glb_bits * chip["e_glb_bit"],
        "noc": noc_bits * chip["e_noc_bit"],
        "dram": dram.energy_j(c, dram_bits),
        "weight_writes": first_written * e_write + replica_cells * e_replica,
    }

    # --- cycles
    compute = mp.serial_steps * slices_in * phases * step
    write_cycles = (mp.chunks * ceil_div(xp.minimum(written, arrays * rows * cols), cols * arrays)
                    if pol.write_time else 0.0 * compute)
    # a written row takes cell_write_time_s (all arrays in parallel), at least a cycle
    write_cycles = write_cycles * xp.where(
        rewritten, xp.maximum(xp.ceil(c["cell_write_time_s"] / cycle), 1.0), 1.0)
    fill = c["layer_overhead_cycles"] if pol.layer_overhead else 0.0
    cycles = xp.maximum(compute, movement) + write_cycles + fill

    # each written layer rewrites its cells once per chunk; streamed layers share cells,
    # resident ones (weights and in-array operands) have arrays of their own
    n = rows.shape[0]
    writes = xp.where(written > 0, mp.chunks, 0.0) * xp.ones((n, 1))
    # MACs the arrays perform, counted from conversions: each conversion sums one column
    # slice over the rows of its phase (K / (row_tiles phases) on average)
    times = r["count"]  # how often each layer occurs: the totals over layers weigh it
    executed = (conversions / (mp.slices * slices_in) * (K / (mp.row_tiles * phases))
                * times).sum(axis=1, keepdims=True)
    busy = xp.minimum(mp.arrays_per_copy * mp.copies / arrays, 1.0)
    extra = {
        "required": required,
        "executed": executed,
        "util": (busy * macs * times).sum(axis=1) / (macs * times).sum(),
        "cell_writes": (xp.amax(writes, axis=1) if resident
                        else (writes * times).sum(axis=1)),
    }
    return parts, cycles, extra


def _matmul_layers(c: dict, pol: Policy, col: dict, chip: dict, r: dict
                   ) -> tuple[dict, np.ndarray, np.ndarray]:
    """Activation x activation layers on the tiles' digital matmul units: both operands come
    from the GLB."""
    xp = array_namespace(col["rows_per_array"])
    mm_macs = r["G"] * r["C"] * r["M"] * r["R"] * r["S"] * r["N"] * r["P"] * r["Q"]
    _, glb_bits, noc_bits, dram_bits = _traffic(pol, chip, r, 1.0, matmul_operand_bits(r),
                                                0.0 * mm_macs)
    parts = {
        "global_buffer": glb_bits * chip["e_glb_bit"],
        "noc": noc_bits * chip["e_noc_bit"],
        "digital_matmul": mm_macs * digital.matmul_mac_energy_j(
            c, r["input_bits"], r["weight_bits"], chip["supply"]["v2"]),
        "dram": dram.energy_j(c, dram_bits),
    }
    compute = ceil_div(mm_macs, chip["tiles"] * c["digital_lanes_per_tile"])
    movement = _movement_cycles(c, pol, chip, glb_bits, noc_bits, dram_bits)
    cycles = xp.maximum(compute, movement) + (c["layer_overhead_cycles"] if pol.layer_overhead
                                              else 0.0)
    return parts, cycles, (mm_macs * r["count"]).sum()


def weight_layer_operands(r: dict, rewritten: np.ndarray, resident: bool
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Bits of a mapped layer's in-array operands (an attention matmul's, written into the
    arrays at every inference: through the GLB) and of its weights streamed from DRAM (all
    of them unless resident; none that are operands)."""
    xp = array_namespace(r["M"])
    weights = r["G"] * r["C"] * r["R"] * r["S"] * r["M"] * r["weight_bits"]
    operand_bits = xp.where(rewritten, weights, 0.0)
    return operand_bits, xp.maximum((0.0 if resident else weights) - operand_bits, 0.0)


def matmul_operand_bits(r: dict) -> np.ndarray:
    """Bits of a digital matmul's second operand (from the GLB, like its inputs)."""
    return r["G"] * r["C"] * r["M"] * r["weight_bits"]


def _movement_cycles(c: dict, pol: Policy, chip: dict, glb_bits: np.ndarray,
                     noc_bits: np.ndarray, dram_bits: np.ndarray) -> np.ndarray:
    """Cycles a layer's data movement needs (GLB port, network, DRAM); it overlaps compute."""
    xp = array_namespace(glb_bits)
    if not pol.bandwidth_bound:
        return xp.zeros_like(glb_bits * chip["cycle"])
    return xp.maximum(xp.maximum(glb_bits / c["glb_bits_per_cycle"],
                                 noc_bits / chip["noc_bits_per_cycle"]),
                      dram.cycles(c, dram_bits, chip["cycle"]))


def _lifetime(cell_writes: np.ndarray, endurance: float) -> np.ndarray:
    """Inferences until the most-written cell reaches its endurance (inf: never written)."""
    with np.errstate(divide="ignore"):
        return np.where(cell_writes > 0, endurance / cell_writes, np.inf)


def _input_values(t: dict[str, np.ndarray]) -> np.ndarray:
    h = (t["P"] - 1) * t["stride_h"] + t["R"]
    w = (t["Q"] - 1) * t["stride_w"] + t["S"]
    return t["N"] * t["G"] * t["C"] * h * w
