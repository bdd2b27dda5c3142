"""Mapping and timing policies: how the circuit components are put together.

A policy decides what a chip does with its circuits, never what a circuit costs: how layers
land on arrays, how long a step takes, which supply a block sees, what is counted. Two
policies ship:

* `PHYSICAL` (imcopt's own, the default): a resident chip replicates a layer only into the
  arrays the other layers leave free, and only as far as the GLB and the network can feed the
  copies; GLB, network and DRAM bandwidth bound each layer; an array read lasts as long as its
  input pulse and its ADC conversions (`cols_per_adc` of them, one after another); at a low
  supply the clock stretches (alpha-power law) while the drivers keep their size; digital
  blocks follow the supply; activations that overflow the GLB go to DRAM; leakage counts;
  activation x activation matmuls follow the technology's `matmul_policy`; an array's
  periphery sits along its edges (row circuits beside it, column circuits below), so an
  array takes its bounding box, and every array carries its write drivers; the network multicasts
  (an input several groups need crosses each branch of the tree once).
* `CIMLOOP` (the published study's CiMLoop set-up, for calibration against its numbers): every
  layer replicates over the whole chip (no other layer's weights take room), splitting one
  dimension over the router groups; one step of an array takes
  `cimloop_cycles_per_slice` clock cycles whatever its pulse or ADC, and a layer no fill cycles;
  no bandwidth bound; the network costs its routers only (no wire model) and does not
  multicast: a layer split over output channels sends each input to every router group that
  holds some of its channels, and each delivery costs (a split over output rows, columns or
  groups sends each group its own inputs), and a tile's bus sends an input to each column
  tile that uses it; the clock does not
  depend on the supply, so at a low supply the row drivers widen instead (NeuroSim's low-power
  transistors, threshold `lp_threshold_voltage_v`); only the array's own circuits (NeuroSim
  components) see the supply; each unit pulse of an input lasts `cimloop_read_pulse_s` (the
  study's READ_PULSE_WIDTH); inputs are offset-encoded, so each input bit is 1 with probability
  one half; activations that overflow the GLB are parked for free; no leakage (power gating);
  attention matmuls are mapped like weights, written for free, on a chip without a matmul unit;
  each group of a depthwise layer gets arrays of its own; areas are the sum of the components'
  areas, and only arrays written at run time (streamed weights) carry write drivers. Its circuits
  are NeuroSim's, as CiMLoop's plug-in prices them: rows driven through a switch alone (no buffer
  chain), SRAM switches sized to a quarter of the wordline's wire resistance and to the square-law
  current of low-power transistors (threshold `lp_threshold_voltage_v`), so narrow arrays and low
  supplies get wide switches; an ADC energy that does not follow the supply; no SRAM bitline or
  cell read energy; an SRAM cell write priced with the RRAM SET model of the cell file
  (`cimloop_sram_set_energy_j`) plus weight drivers (`cimloop_weight_driver_energy_j` per row),
  whose area repeats the row drivers'; every replica of a streamed layer written like the first
  copy (Timeloop fills each copy's cells through its own weight drivers); where the technology
  says so
  (`cimloop_replicates_output_rows_only`), copies split only a layer's output rows (the study's
  SRAM runs keep the buffer constraint Q = 0, which Timeloop reads as all of Q, so every copy
  loops over all output columns); no shift-add energy or area (the
  study's shift-add, adder, pooling and activation components are empty placeholders).

Each is a frozen dataclass of plain flags and names of the constants it reads, so the cost
model (`cost.py`) holds no `if cimloop` of its own: it asks the policy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    name: str
    # --- mapping
    replicate_whole_chip: bool  # a resident layer may replicate over every array
    pack_groups: bool  # several small groups share an array block-diagonally
    split_one_dimension: bool  # one layer dimension over the router groups, padded
    feed_limited_copies: bool  # no more copies than the GLB/network can feed
    matmul_as_weights: bool  # attention matmuls mapped like weight layers, written for free
    # --- timing
    bandwidth_bound: bool  # GLB / network / DRAM bandwidth bounds a layer's latency
    analog_step_timing: bool  # a step lasts its pulse and conversions (else a fixed count)
    clock_stretches: bool  # low supply: the clock stretches (else the drivers widen)
    write_time: bool  # writing weights into arrays takes cycles
    layer_overhead: bool  # each layer pays its pipeline fill (`layer_overhead_cycles`)
    all_rows_at_once: bool  # every row of an array read at once (parallel_rows ignored)
    # --- energy
    digital_follows_supply: bool  # buffers, network, shift-add at the design's supply
    spill_to_dram: bool  # activations that overflow the GLB go to DRAM and back
    leakage: bool
    digital_unit: bool  # tiles carry a matmul unit (with matmul policy `digital`)
    adc_follows_supply: bool  # ADC energy ~ V^2 (else NeuroSim's fixed table value)
    sram_read_energy: bool  # an SRAM read charges its bitline and compute nodes
    sram_write_as_set: bool  # an SRAM cell write priced as an RRAM SET pulse (the reference's
    # plug-in applies the cell file's SET parameters to SRAM) plus NeuroSim's weight drivers
    shift_add: bool  # shift-adders cost energy and area (the reference's are placeholders)
    # --- circuits
    driver_chain: bool  # rows driven through a buffer chain (else NeuroSim's switch alone)
    neurosim_switches: bool  # wordline switches sized by NeuroSim's rules (IR drop, LSTP
    # square-law current) where the technology says so
    # --- area
    array_bounding_box: bool  # an array with its edge periphery takes its bounding box
    write_periphery: bool  # arrays carry their write drivers (else only if written at run time)
    weight_drivers_as_row_drivers: bool  # a written array's weight drivers take the area of
    # a second set of row drivers (the reference's SRAM macro)
    adc_speed_penalty: bool  # ADC energy rises above the survey's corner sample rate
    streamed_weights_cross_noc: bool  # streamed weights travel the on-chip network
    global_wires: bool  # network bits pay the global wire's C V^2, not only the routers
    network_multicasts: bool  # an input several router groups or column tiles need is
    # delivered once (else once per group holding split output channels, and per column tile)
    # --- data values and pulses (names of constants)
    input_bit_density: str
    read_pulse: str
    unit_pulse_is_read_pulse: bool  # one unit of a pulse-width/count input lasts the read
    # pulse (else `pulse_unit_s`)


PHYSICAL = Policy(
    name="physical",
    replicate_whole_chip=False, pack_groups=True, split_one_dimension=False,
    feed_limited_copies=True, matmul_as_weights=False,
    bandwidth_bound=True, analog_step_timing=True, clock_stretches=True, write_time=True,
    layer_overhead=True, all_rows_at_once=False,
    digital_follows_supply=True, spill_to_dram=True, leakage=True, digital_unit=True,
    adc_speed_penalty=True, streamed_weights_cross_noc=True, global_wires=True,
    network_multicasts=True,
    array_bounding_box=True, write_periphery=True, weight_drivers_as_row_drivers=False,
    adc_follows_supply=True, sram_read_energy=True, sram_write_as_set=False,
    shift_add=True, driver_chain=True,
    neurosim_switches=False,
    input_bit_density="input_bit_density", read_pulse="read_pulse_s",
    unit_pulse_is_read_pulse=False,
)

CIMLOOP = Policy(
    name="cimloop",
    replicate_whole_chip=True, pack_groups=False, split_one_dimension=True,
    feed_limited_copies=False, matmul_as_weights=True,
    bandwidth_bound=False, analog_step_timing=False, clock_stretches=False, write_time=False,
    layer_overhead=False, all_rows_at_once=True,
    digital_follows_supply=False, spill_to_dram=False, leakage=False, digital_unit=False,
    adc_speed_penalty=False, streamed_weights_cross_noc=False, global_wires=False,
    network_multicasts=False,
    array_bounding_box=False, write_periphery=False, weight_drivers_as_row_drivers=True,
    adc_follows_supply=False, sram_read_energy=False, sram_write_as_set=True,
    shift_add=False, driver_chain=False,
    neurosim_switches=True,
    input_bit_density="cimloop_input_bit_density", read_pulse="cimloop_read_pulse_s",
    unit_pulse_is_read_pulse=True,
)

POLICIES = {p.name: p for p in (PHYSICAL, CIMLOOP)}


def policy_for(assumptions: str) -> Policy:
    """The policy of a technology's `assumptions` setting (physical, cimloop)."""
    return POLICIES[assumptions]
