"""Each circuit component against numbers worked out by hand from its equation (docs/model.md).

The constants are written here, not read from the technology tables, so a changed formula
fails these tests whatever the tables say; `test_constants.py` pins the tables themselves.
"""

import math

import numpy as np
import pytest

from imcopt.model import timing
from imcopt.model.components import adc, array, buffers, digital, drivers, noc

NODE_M = 32e-9
C = {
    "cell_area_f2": 48.0, "cell_aspect": 1 / 3, "cell_gate_capacitance_f": 0.5e-15,
    "cell_junction_capacitance_f": 0.1e-15, "wire_capacitance_f_per_m": 0.2e-9,
    "read_voltage_v": 0.5, "cell_on_resistance_ohm": 6e3, "cell_off_resistance_ohm": 9e5,
    "access_resistance_ohm": 1.95e5, "nominal_voltage_v": 0.85, "threshold_voltage_v": 0.3,
    "alpha_power": 1.3, "min_cycle_nominal_s": 5e-10, "driver_chain_overhead": 1 / 3,
    "wl_switch_energy_j": 3e-15, "row_register_energy_j": 8e-15,
    "dac_capacitance_per_bit_f": 50e-15, "logic_energy_per_bit_j": 2e-15,
    "wl_switch_reference_cols": 128.0, "sram_energy_per_bit_j": 0.4e-12,
    "sram_energy_capacity_exponent": 0.5, "buffer_word_bits": 8.0,
    "router_energy_per_bit_j": 0.1e-12, "router_bits_per_cycle": 128.0,
    "glb_bits_per_cycle": 2048.0, "sram_bitline_swing_fraction": 0.3,
}


def test_cell_geometry_and_line_capacitances():
    # 48 F^2 at aspect 1/3: 4 F wide, 12 F tall -> 128 nm x 384 nm at 32 nm
    w, h = array.cell_size_m(C, NODE_M)
    assert w == pytest.approx(128e-9) and h == pytest.approx(384e-9)
    # wordline: 128 x (0.5 fF + 0.128 um x 0.2 fF/um) = 128 x 0.5256 fF = 67.28 fF
    assert array.wordline_capacitance_f(C, 128.0, NODE_M) == pytest.approx(67.2768e-15)
    # bitline: 256 x (0.1 fF + 0.384 um x 0.2 fF/um) = 256 x 0.1768 fF = 45.26 fF
    assert array.bitline_capacitance_f(C, 256.0, NODE_M) == pytest.approx(45.2608e-15)
    # one array's cells: 128 x 128 x 48 F^2 = 786,432 F^2 = 0.8053 um^2... x 1e-6 mm^2
    assert array.cell_area_mm2(C, 128.0, 128.0, NODE_M) == pytest.approx(
        128 * 128 * 48 * (32e-9) ** 2 * 1e6)


def test_rram_read_energy_with_the_access_transistor_in_series():
    g_on, g_off = array.rram_conductances_s(C)
    assert g_on == pytest.approx(1 / 201e3) and g_off == pytest.approx(1 / 1.095e6)
    # one cell, fully on, 10 ns: 0.25 V^2 x 4.975 uS x 10 ns = 12.44 fJ (the reference's 12.37)
    assert array.rram_read_energy_j(C, 1.0, 1.0, 10e-9) == pytest.approx(12.438e-15, rel=1e-4)
    # eight cells (a weight's slices) with levels summing to 3: 8 G_off + 3 (G_on - G_off)
    e = array.rram_read_energy_j(C, 8.0, 3.0, 1e-9)
    assert e == pytest.approx(0.25 * 1e-9 * (8 * g_off + 3 * (g_on - g_off)))


def test_sram_conversion_and_write_energy():
    # bitline swing 0.3 V x activity 0.5 at 0.8 V: C V (0.3 x 0.8 x 0.5), per bit-column
    e = array.conversion_energy_j(C, "sram", 40e-15, 0.8, 0.5, 1.0)
    assert e == pytest.approx(40e-15 * 0.8 * 0.12)
    assert array.conversion_energy_j(C, "sram", 40e-15, 0.8, 0.5, 4.0) == pytest.approx(4 * e)
    # an RRAM column is clamped at the read voltage whatever the activity
    assert array.conversion_energy_j(C, "rram", 40e-15, 0.8, 0.1, 1.0) == pytest.approx(
        40e-15 * 0.25)
    # an SRAM write: bitline plus a share of the wordline, at V^2
    assert array.cell_write_energy_j(C, "sram", 40e-15, 64e-15, 64.0, 0.8) == pytest.approx(
        (40e-15 + 1e-15) * 0.64)


def test_stored_level_of_offset_encoded_weights():
    # one bit per cell: the top bit of an offset-encoded zero-centred weight is 1 half the
    # time; an 8-bit cell holds the whole weight, whose mean is mid-scale (127.5 / 255 - ...)
    lvl1 = float(array.stored_level(np.array(8.0), np.array(1.0), 0.15))
    lvl8 = float(array.stored_level(np.array(8.0), np.array(8.0), 0.15))
    assert 0.49 < lvl8 < 0.51  # a symmetric distribution around the mid code
    assert 3.0 < lvl1 < 4.5  # eight slices, most near one half


def test_input_slice_statistics():
    mean, square, nonzero = drivers.slice_statistics(np.array(1.0), 0.25)
    assert (mean, square, nonzero) == pytest.approx((0.25, 0.25, 0.25))
    mean, square, nonzero = drivers.slice_statistics(np.array(2.0), 0.5)
    # x in {0..3}, bits fair: E[x] = 1.5 (0.5 of 3), E[x^2] = 3.5 (3.5 / 9 of 3^2)
    assert (mean, square, nonzero) == pytest.approx((0.5, 3.5 / 9, 0.75))


def test_pulse_times_by_encoding():
    enc = np.array([1.0, 2.0, 3.0])
    db = np.array(4.0)
    dur, weighted = drivers.pulse_times_s(enc, db, 1e-9, 0.2e-9, 0.5)
    # amplitude: one 1 ns pulse, energy ~ mean square; pulse width / count: 15 units of 0.2 ns
    mean_sq = 0.25 + 0.25 * 255 / (3 * 225)
    assert dur.tolist() == pytest.approx([1e-9, 3e-9, 3e-9])
    assert weighted.tolist() == pytest.approx([1e-9 * mean_sq, 1.5e-9, 1.5e-9])


def test_row_drive_energy_pulse_count_charges_the_wordline_per_pulse():
    cwl, v = 64e-15, 0.85
    one = C["row_register_energy_j"] + 0.25 * (cwl * v**2 * (1 + 1 / 3) + 3e-15)
    got = drivers.row_drive_energy_j(C, cwl, v, np.array(1.0), np.array(1.0), 1.0, 0.25)
    assert got == pytest.approx(one)
    # 8-bit pulse count at p = 0.5: 127.5 pulses, plus an 8-bit compare
    count = drivers.row_drive_energy_j(C, cwl, v, np.array(8.0), np.array(3.0), 1.0, 0.5,
                                       chain=False)
    assert count == pytest.approx(8e-15 + 127.5 * (cwl * v**2 + 3e-15) + 8 * 2e-15)
    # amplitude DAC: one pulse if non-zero, 50 fF per bit at V^2
    amp = drivers.row_drive_energy_j(C, cwl, v, np.array(4.0), np.array(1.0), 1.0, 0.5,
                                     chain=False)
    assert amp == pytest.approx(8e-15 + (1 - 0.5**4) * (cwl * v**2 + 3e-15)
                                + 50e-15 * 4 * v**2)


def test_ir_drop_sized_switch_widens_for_short_rows():
    assert drivers.switch_width(C, np.array(32.0), 2.0, True) == pytest.approx(8.0)
    assert drivers.switch_width(C, np.array(32.0), 2.0, False) == pytest.approx(1.0)


def test_timing_rules():
    # alpha-power slowdown is 1 at the nominal supply and (0.6/0.85) (0.55/0.3)^1.3 at 0.6 V
    assert timing.slowdown(C, 0.85) == pytest.approx(1.0)
    assert timing.slowdown(C, 0.6) == pytest.approx(0.6 / 0.85 * (0.55 / 0.3) ** 1.3)
    # NeuroSim's square-law widening at 0.5 V, threshold 0.442: (0.5/0.85)(0.408/0.058)^2
    assert timing.driver_sizing(C, 0.5, 0.442, 2.0) == pytest.approx(
        0.5 / 0.85 * (0.408 / 0.058) ** 2)
    # 8 columns per ADC, each 1 ns pulse + 0.3 ns conversion, 2 ns clock: 10.4 ns -> 6 cycles
    assert timing.step_cycles(1e-9, 0.3e-9, 8.0, 2e-9) == 6.0
    assert timing.step_cycles(0.1e-9, 0.1e-9, 1.0, 2e-9) == 1.0


def test_pipelined_latency_overlaps_layers():
    # two layers of 10 and 4 us; the second needs 3 of the first's 30 output rows to start
    layer = np.array([[10e-6, 4e-6]])
    lat = timing.pipelined_latency_s(layer, np.array([[1.0, 3.0]]), np.array([[30.0, 10.0]]))
    # start 1 us, end max(1 + 4, 10 + 4/10) = 10.4 us: far under the sequential 14 us
    assert lat[0] == pytest.approx(10.4e-6)


def test_adc_energy_time_and_area():
    c = {"adc_walden_fom_j": 17e-15, "adc_enob_loss_bits": 1.0, "adc_corner_hz": 1.08e9,
         "adc_schreier_fom_db": 185.5, "comparator_energy_j": 3.2e-15,
         "adc_decision_time_s": 0.1e-9, "adc_area_base_mm2": 7.3e-5,
         "adc_area_per_step_mm2": 1.04e-5, "comparator_area_mm2": 2.6e-5,
         "sample_capacitance_f": 7e-15}
    # a 6-bit SAR: 17 fJ x 2^5 = 544 fJ; a 5-bit flash: 31 x 3.2 fJ = 99.2 fJ (NeuroSim: 100)
    assert adc.conversion_energy_j(c, np.array(6.0), np.array(1.0), 0.0, 1.0) == \
        pytest.approx(544e-15)
    assert adc.conversion_energy_j(c, np.array(5.0), np.array(2.0), 0.0, 1.0) == \
        pytest.approx(99.2e-15)
    # at 24 bits the thermal (Schreier) bound, 10^((6.02 x 23 + 1.76 - 185.5) / 10) / 2 =
    # 15 uJ, is above the Walden term, 17 fJ x 2^23 = 0.14 uJ: the larger one counts
    e24 = adc.conversion_energy_j(c, np.array(24.0), np.array(1.0), 0.0, 1.0)
    assert e24 == pytest.approx(max(17e-15 * 2**23,
                                    0.5 * 10 ** ((6.02 * 23 + 1.76 - 185.5) / 10)))
    assert adc.conversion_time_s(c, np.array(6.0), np.array(1.0), 1.0) == pytest.approx(0.7e-9)
    assert adc.adc_area_mm2(c, np.array(6.0), np.array(1.0)) == pytest.approx(
        7.3e-5 + 1.04e-5 * 64)
    assert adc.adcs_per_array(np.array(128.0), np.array(16.0)) == 8.0
    assert adc.sample_energy_j(c, 0.8) == pytest.approx(7e-15 * 0.64)


def test_psum_width():
    assert adc.psum_bits_required(np.array(8.0), 1.0, 4.0) == 7  # 8 x 15 = 120 < 128
    assert adc.psum_bits_required(np.array(512.0), 8.0, 8.0) == 25


def test_digital_buffers_and_network():
    # a 5-bit result into its accumulator: 2 x (5 + 2) bits x 2 fJ at nominal
    assert digital.shift_add_energy_j(C, np.array(5.0), 1.0) == pytest.approx(28e-15)
    assert digital.accumulator_bits(8.0, 8.0, np.array(1152.0)) == 27  # 8 + 8 + 11
    # CACTI trend: 4x the capacity, 2x the energy per bit (exponent 0.5)
    e1 = buffers.access_energy_per_bit_j(C, buffers.MIB_BITS)
    assert e1 == pytest.approx(0.4e-12)
    assert buffers.access_energy_per_bit_j(C, 4 * buffers.MIB_BITS) == pytest.approx(0.8e-12)
    assert buffers.tile_buffer_capacity_bits(C, 32.0, 128.0, 64.0) == 32 * 192 * 8
    # H-tree: 16 groups = 5 routers; 100 mm^2 chip: 5 mm of wire at 0.2 pF/mm, C V^2 / 2
    e = noc.energy_per_bit_j(C, np.array(16.0), np.array(100.0), 0.85)
    assert e == pytest.approx(5 * 0.1e-12 + 5.0 * 0.5 * 0.2e-12 * 0.85**2)
    assert noc.energy_per_bit_j(C, np.array(16.0), np.array(100.0), 0.85, wires=False) == \
        pytest.approx(5e-13)
    assert noc.bits_per_cycle(C, np.array([4.0, 32.0])).tolist() == [512.0, 2048.0]
    assert math.isclose(noc.hops(np.array(1.0)), 1.0)
