"""Timing: the supply's effect on speed, the length of an array step, and the layer schedule.

Logic delay follows the alpha-power law (Sakurai and Newton, IEEE JSSC 1990): a gate's delay
grows as V / (V - Vt)^alpha, normalised to the nominal supply:

    slowdown(V) = (V / Vnom) ((Vnom - Vt) / (V - Vt))^alpha   (1 at Vnom)

A low supply is paid for once, by one of two rules (the policy chooses):
- the clock stretches: cycle = max(clock_period_s, min_cycle_nominal_s slowdown(V));
- the drivers widen to keep their on-resistance at the given clock: current per width goes
  as (V - Vt)^x, so width (and the driver's own capacitance and area) grows by
  sizing(V) = (V / Vnom) ((Vnom - Vt) / (V - Vt))^x (NeuroSim: low-power devices, the
  square law x = 2, `lp_threshold_voltage_v`).

An array step (one input slice on the active rows, every column converted) lasts, as the
column multiplexer hands the `cols_per_adc` columns of an ADC to it one after another, each
sensed for the input pulse and then converted (current-mode sensing, as in NeuroSim's and
most RRAM macros' readout):

    step = cols_per_adc x (pulse + conversion time), in whole cycles (at least one)

Layers run one after another (`sequential`), or, with every layer's weights on chip
(`pipelined`), each layer starts once the previous one has produced the rows its kernel
needs: start_l+1 = start_l + T_l min(1, R_l+1 / P_l) and it ends no earlier than a row after
its producer: end_l+1 = max(start_l+1 + T_l+1, end_l + T_l+1 / P_l+1).
"""

from __future__ import annotations

from typing import Any

from .xp import array_namespace

Array = Any
SCHEDULES = ("sequential", "pipelined")


def slowdown(c: dict, supply_v: Array, threshold_v: float | None = None) -> Array:
    """Gate delay at `supply_v` relative to the nominal supply (alpha-power law)."""
    xp = array_namespace(supply_v)
    vt = c["threshold_voltage_v"] if threshold_v is None else threshold_v
    vnom, alpha = c["nominal_voltage_v"], c["alpha_power"]
    return (supply_v / vnom) * ((vnom - vt) / xp.maximum(supply_v - vt, 1e-3)) ** alpha


def driver_sizing(c: dict, supply_v: Array, threshold_v: float, exponent: float) -> Array:
    """How much wider a switch must be at `supply_v` to keep its nominal on-resistance
    V / I, with I ~ (V - Vt)^exponent: (V / Vnom) ((Vnom - Vt) / (V - Vt))^exponent."""
    xp = array_namespace(supply_v)
    vnom = c["nominal_voltage_v"]
    return (supply_v / vnom) * ((vnom - threshold_v)
                                / xp.maximum(supply_v - threshold_v, 1e-3)) ** exponent


def stretched_cycle_s(c: dict, clock_period_s: Array, supply_v: Array) -> Array:
    xp = array_namespace(clock_period_s, supply_v)
    return xp.maximum(clock_period_s, c["min_cycle_nominal_s"] * slowdown(c, supply_v))


def step_cycles(pulse_s: Array, conversion_s: Array, cols_per_adc: Array, cycle_s: Array
                ) -> Array:
    """Cycles of one array step: each multiplexed column sensed, then converted."""
    xp = array_namespace(pulse_s, conversion_s)
    return xp.maximum(xp.ceil(cols_per_adc * (pulse_s + conversion_s) / cycle_s - 1e-9), 1.0)


def pipelined_latency_s(layer_s: Array, kernel_rows: Array, output_rows: Array) -> Array:
    """Latency (N,) of layers (N, L) in a layer pipeline (module docstring); kernel_rows and
    output_rows are (1, L) rows."""
    xp = array_namespace(layer_s)
    n_layers = layer_s.shape[1]
    start = xp.zeros(layer_s.shape[0])
    end = layer_s[:, 0]
    for i in range(1, n_layers):
        fill = xp.minimum(kernel_rows[0, i] / output_rows[0, i - 1], 1.0)
        start = start + layer_s[:, i - 1] * fill
        end = xp.maximum(start + layer_s[:, i], end + layer_s[:, i] / output_rows[0, i])
    return end
