"""Circuit components of an IMC chip, one module each, as pure functions of arrays.

Every function takes the technology's constants (`c`, a dict of floats or per-design arrays,
already at the design's node) and design columns (N, 1) and/or layer rows (1, L), and returns
energies in J, times in s or cycles, areas in mm^2, broadcasting to (N, L). A component knows
its circuit and nothing of mapping policies, search or the reference simulator.

| module | circuit |
| --- | --- |
| `array` | the crossbar: cell geometry, wordline and bitline capacitance, cell read and write |
| `drivers` | row drivers and input DACs: input encoding, slices, pulse durations |
| `adc` | column readout: sample-and-hold, ADC energy/area/time, partial-sum precision |
| `digital` | shift-add accumulation, the digital matmul unit, leakage |
| `buffers` | tile buffers and the global buffer (SRAM macros) |
| `noc` | the on-chip network from the global buffer to the router groups |
| `dram` | off-chip memory traffic |

docs/model.md gives each equation with its constants and sources.
"""

from . import adc, array, buffers, digital, dram, drivers, noc

__all__ = ["adc", "array", "buffers", "digital", "dram", "drivers", "noc"]
