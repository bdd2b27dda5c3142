"""imcopt design + workload -> ZigZag-IMC inputs (accelerator, mapping, layers), as plain
dicts in ZigZag's YAML schema. Pure Python: ZigZag itself is imported only by `zigzag_run`.

What maps (docs/zigzag.md has the whole table and the reasons):

| imcopt | ZigZag |
| --- | --- |
| rows_per_array | D2, the bitline (reduction) dimension of a macro |
| cols_per_array / cells per weight | D1, the wordline dimension (weights per row) |
| router_groups x tiles_per_group x arrays_per_tile | D3, the number of macros |
| adc_bits | adc_resolution (analog) |
| input bits per cycle (a design parameter, else the technology's dac_bits) | bit_serial_precision |
| glb_depth_words x 2048 bit | one global buffer for all macros (CACTI: data/zigzag_glb_cacti.csv) |
| offchip_memory | DRAM energy per bit and bandwidth (`hardware.memory`), per cycle of the clock |
| clock_period_s | the clock when slower than ZigZag's macro critical path (`clock` option) |
| layer N G C M R S P Q, strides, bits | a Conv layer in ZigZag's workload format |

Not mapped: voltage_v and technology_node_nm (ZigZag's IMC model is fixed at 28 nm, 0.9 V),
the router/tile hierarchy (no NoC, routers or tile buffers: only the macro count), ADC
sharing (one ADC per bitline), parallel rows (every mapped row is read at once), adc_type.
A parameter this module does not know is ignored; a missing one takes imcopt's default.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ..hardware.memory import OFFCHIP_MEMORIES, REFERENCE_MEMORY
from ..hardware.space import DEFAULT_VALUES
from ..hardware.technology import Technology
from ..workloads.layer import Layer, Workload

#: bump when the translation changes: it is part of the backend's cache version
TRANSLATION_VERSION = 1
GLB_WORD_BITS = 2048  # one glb_depth_words word (hardware.space: 4096 words = 1 MiB)
#: one 6T SRAM bit cell at 28 nm (TSMC 28 nm high-density cell, 0.127 um^2); ZigZag's own
#: examples give the cells no area
CELL_AREA_MM2 = 0.127e-6
#: register files and cell writes: the values of ZigZag's shipped aimc/dimc examples (pJ)
REGISTER_ACCESS_PJ = 0.021
CELL_WRITE_PJ_PER_8_BITS = 0.095
GLB_MIN_ACCESS_BITS = 64  # the finest GLB access ZigZag counts (its examples' bandwidth_min)
#: names an input-bits-per-cycle parameter may have once the design space gains one
INPUT_BITS_PER_CYCLE_NAMES = ("input_bits_per_cycle", "dac_bits")
IMC_TYPES = ("analog", "digital")
CLOCKS = ("max", "zigzag", "design")


class TranslationError(ValueError):
    """The design cannot be expressed in ZigZag's IMC model; the message says why."""


@dataclass(frozen=True)
class ZigZagInputs:
    """What one ZigZag run needs. `dram` holds the DRAM's per-second figures: its per-cycle
    bandwidth is set once the clock is known (`with_clock`)."""

    accelerator: dict
    mapping: list[dict]
    layers: list[dict]
    dram_bits_per_s: float
    dram_energy_per_bit_pj: float
    design_period_s: float
    notes: tuple[str, ...] = ()

    def with_clock(self, period_s: float) -> dict:
        """The accelerator dict with the DRAM port sized for a clock of `period_s`."""
        acc = {**self.accelerator, "memories": dict(self.accelerator["memories"])}
        acc["memories"]["dram"] = dram_memory(self.dram_bits_per_s * period_s,
                                              self.dram_energy_per_bit_pj)
        return acc


def period_s(policy: str, tclk_s: float, design_s: float) -> float:
    """The clock period of a run: ZigZag derives a macro's cycle time (tclk) from its critical
    path; "max" runs at the slower of that and the design's clock_period_s, "zigzag" at tclk,
    "design" at the design's clock."""
    if policy not in CLOCKS:
        raise ValueError(f"clock: {policy!r} is not one of {', '.join(CLOCKS)}")
    return {"max": max(tclk_s, design_s), "zigzag": tclk_s, "design": design_s}[policy]


def _value(design: Mapping[str, float], name: str) -> float:
    return float(design[name]) if name in design else float(DEFAULT_VALUES[name])


def pow2_at_least(bits: int) -> int:
    """ZigZag's IMC array needs power-of-two precisions: the next one up."""
    return 1 << max(0, math.ceil(math.log2(max(1, bits))))


def pow2_at_most(bits: float) -> int:
    return 1 << max(0, math.floor(math.log2(max(1.0, bits))))


def input_bits_per_cycle(design: Mapping[str, float], technology: Technology) -> float:
    """The design's parameter when it has one, else the technology's dac_bits (8 if none)."""
    for name in INPUT_BITS_PER_CYCLE_NAMES:
        if name in design:
            return float(design[name])
    return float(technology.c.get("dac_bits", 8.0))


def translate(design: Mapping[str, float], workload: Workload, technology: Technology,
              imc_type: str = "analog") -> ZigZagInputs:
    """The ZigZag inputs of one design (a `Designs.row`) on one workload."""
    if imc_type not in IMC_TYPES:
        raise TranslationError(f"imc_type: {imc_type!r} is not one of {', '.join(IMC_TYPES)}")
    notes: list[str] = []
    if _value(design, "bits_per_cell") != 1:
        raise TranslationError("ZigZag models SRAM IMC only (1 bit per cell); bits_per_cell = "
                               f"{_value(design, 'bits_per_cell'):g}")
    weight_bits = pow2_at_least(max(x.weight_bits for x in workload.layers))
    act_bits = pow2_at_least(max(x.input_bits for x in workload.layers))
    if any(x.weight_bits != weight_bits or x.input_bits != act_bits for x in workload.layers):
        notes.append(f"layer precisions raised to {weight_bits} b weights, {act_bits} b inputs")
    rows = int(_value(design, "rows_per_array"))
    cols = int(_value(design, "cols_per_array"))
    weights_per_row = cols // weight_bits
    if weights_per_row < 1:
        raise TranslationError(f"cols_per_array = {cols} holds no {weight_bits}-bit weight; "
                               "ZigZag keeps a weight's bits in one macro")
    if imc_type == "digital" and rows & (rows - 1):
        raise TranslationError(f"digital IMC needs rows_per_array a power of two, got {rows}")
    macros = int(_value(design, "router_groups") * _value(design, "tiles_per_group")
                 * _value(design, "arrays_per_tile"))
    serial = input_bits_per_cycle(design, technology)
    bit_serial = min(pow2_at_most(serial), act_bits)
    if bit_serial != serial:
        notes.append(f"input bits per cycle {serial:g} -> {bit_serial} (a power of two, at "
                     "most the input bits)")
    array = {"is_imc": True, "imc_type": imc_type, "input_precision": [act_bits, weight_bits],
             "bit_serial_precision": bit_serial,
             "adc_resolution": int(_value(design, "adc_bits")) if imc_type == "analog" else 0,
             "dimensions": ["D1", "D2", "D3"], "sizes": [weights_per_row, rows, macros]}
    glb_bits = int(_value(design, "glb_depth_words")) * GLB_WORD_BITS
    bus = int(technology.c.get("glb_bits_per_cycle", GLB_WORD_BITS))
    memory = OFFCHIP_MEMORIES.get(int(_value(design, "offchip_memory")),
                                  OFFCHIP_MEMORIES[REFERENCE_MEMORY])
    period = _value(design, "clock_period_s")
    dram_pj = memory.energy_per_bit_j * 1e12
    accelerator = {
        "name": "imcopt_design",
        "memories": {
            # the port layout of ZigZag's aimc/dimc examples
            "cells": _memory(weight_bits, ["I2"], [], 0.0,
                             CELL_WRITE_PJ_PER_8_BITS * weight_bits / 8,
                             weight_bits * CELL_AREA_MM2, 0,
                             [_port("rw_port_1", "read_write", weight_bits, ["I2, fh", "I2, tl"])]),
            "input_regs": _memory(act_bits, ["I1"], ["D1"], REGISTER_ACCESS_PJ,
                                  REGISTER_ACCESS_PJ, 0.0, 1,
                                  [_port("r_port_1", "read", act_bits, ["I1, tl"]),
                                   _port("w_port_1", "write", act_bits, ["I1, fh"])]),
            "output_regs": _memory(2 * act_bits, ["O"], ["D2"], REGISTER_ACCESS_PJ,
                                   REGISTER_ACCESS_PJ, 0.0, 1,
                                   [_port(f"{kind[0]}_port_{j + 1}", kind, 2 * act_bits,
                                          [f"O, {d}"]) for kind, ds in
                                    (("read", ("tl", "th")), ("write", ("fh", "fl")))
                                    for j, d in enumerate(ds)]),
            "glb": glb_memory(glb_bits, bus),
            "dram": dram_memory(memory.bandwidth_bits_per_s * period, dram_pj),
        },
        "operational_array": array,
    }
    return ZigZagInputs(accelerator, MAPPING, workload_layers(workload, weight_bits, act_bits),
                        memory.bandwidth_bits_per_s, dram_pj, period, tuple(notes))


def _port(name: str, kind: str, bits: int, allocation: list[str], min_bits: int | None = None
          ) -> dict:
    return {"name": name, "type": kind, "bandwidth_min": min_bits or bits, "bandwidth_max": bits,
            "allocation": allocation}


def _memory(size: int, operands: list[str], served: list[str], r_pj: float, w_pj: float,
            area: float, latency: int, ports: list[dict]) -> dict:
    return {"size": int(size), "r_cost": float(r_pj), "w_cost": float(w_pj), "area": float(area),
            "latency": latency, "operands": operands, "ports": ports, "served_dimensions": served}


@cache
def _glb_table() -> tuple[tuple[float, float, float, float, int], ...]:
    """(size_bytes, read_pj, write_pj, area_mm2, bus_bits) rows of the CACTI table."""
    text = resources.files("imcopt").joinpath("data/zigzag_glb_cacti.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple((float(r["size_bytes"]), float(r["read_energy_pj"]),
                  float(r["write_energy_pj"]), float(r["area_mm2"]), int(r["bus_bits"]))
                 for r in rows)


def glb_costs(size_bytes: float, bus_bits: int) -> tuple[float, float, float]:
    """(read pJ, write pJ per `bus_bits` access, area mm^2) of an SRAM buffer: the CACTI table
    interpolated in log-log between its sizes (extrapolated from the end rows outside); other
    bus widths scale the energies in proportion (CACTI's table is for 2048 bits)."""
    table = _glb_table()
    logs = [math.log(r[0]) for r in table]
    x = math.log(size_bytes)
    i = min(max(sum(v <= x for v in logs) - 1, 0), len(table) - 2)
    t = (x - logs[i]) / (logs[i + 1] - logs[i])
    lo, hi = table[i], table[i + 1]
    read, write, area = (math.exp((1 - t) * math.log(lo[k]) + t * math.log(hi[k]))
                         for k in (1, 2, 3))
    scale = bus_bits / lo[4]
    return read * scale, write * scale, area


def glb_memory(size_bits: int, bus_bits: int) -> dict:
    """The global buffer: inputs and outputs, one instance serving every macro."""
    read, write, area = glb_costs(size_bits / 8, bus_bits)
    return _memory(size_bits, ["I1", "O"], ["D1", "D2", "D3"], read, write, area, 1, [
        _port("r_port_1", "read", bus_bits, ["I1, tl", "O, tl", "O, th"], GLB_MIN_ACCESS_BITS),
        _port("w_port_1", "write", bus_bits, ["I1, fh", "O, fh", "O, fl"], GLB_MIN_ACCESS_BITS)])


def dram_memory(bits_per_cycle: float, energy_per_bit_pj: float) -> dict:
    """Off-chip DRAM holding everything; one port of `bits_per_cycle` (at least 8)."""
    width = max(8, int(bits_per_cycle) // 8 * 8)
    every = [f"{o}, {d}" for o in ("I1", "I2") for d in ("fh", "tl")] + [
        f"O, {d}" for d in ("fh", "tl", "fl", "th")]
    return _memory(8 * 10**12, ["I1", "I2", "O"], ["D1", "D2", "D3"], energy_per_bit_pj * width,
                   energy_per_bit_pj * width, 0.0, 1, [_port("rw_port_1", "read_write", width,
                                                             every)])


#: ZigZag's default IMC hints (its default_imc.yaml) for one macro; across macros (D3) any
#: output-parallel loop, the reduction, or groups
MAPPING: list[dict] = [{
    "name": "default",
    "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"},
    "spatial_mapping_hint": {"D1": ["K"], "D2": ["C", "FX", "FY"],
                             "D3": ["K", "G", "OX", "OY", "C"]},
}]


def workload_layers(workload: Workload, weight_bits: int, act_bits: int) -> list[dict]:
    """Every layer as a ZigZag Conv (a linear layer is a 1x1 conv over its tokens; an
    activation x activation matmul has its second operand loaded into the cells like a
    weight); each layer's input comes from the layer before (the first from DRAM)."""
    return [_conv(layer, i, weight_bits, act_bits) for i, layer in enumerate(workload.layers)]


def _conv(layer: Layer, i: int, weight_bits: int, act_bits: int) -> dict:
    # OY/FY run along P/R (height), OX/FX along Q/S (width), as in ZigZag's ONNX parser
    ix = (layer.Q - 1) * layer.stride_w + layer.S
    iy = (layer.P - 1) * layer.stride_h + layer.R
    return {
        "id": i, "name": f"{i}_{layer.name}", "operator_type": "Conv",
        "equation": "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]",
        "dimension_relations": [f"ix={layer.stride_w}*ox+1*fx", f"iy={layer.stride_h}*oy+1*fy"],
        "loop_dims": ["B", "K", "G", "OX", "OY", "C", "FX", "FY"],
        "loop_sizes": [layer.N, layer.M, layer.G, layer.Q, layer.P, layer.C, layer.S, layer.R],
        "operand_precision": {"W": weight_bits, "I": act_bits, "O": 2 * act_bits,
                              "O_final": act_bits},
        "operand_source": {"W": i, "I": max(i - 1, 0)},
        "pr_loop_dims": ["IX", "IY"], "pr_loop_sizes": [ix, iy],
        "padding": [[0, 0], [0, 0]],
    }
