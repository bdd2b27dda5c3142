"""Properties of the cost model over random designs of both default spaces."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from design_helpers import with_changed
from imcopt.hardware import Designs, designs_from_keys, get_space, load_technology
from imcopt.model import ENERGY_COMPONENTS, evaluate
from imcopt.workloads import Workload, get

WORKLOADS = ("alexnet", "mobilenet_v3", "resnet18", "gpt2_medium")
TECHS = ("rram", "sram")
SPACE_OF = {"rram": "rram", "sram": "sram"}


def random_designs(tech: str, seed: int, n: int = 64) -> Designs:
    space = get_space(SPACE_OF[tech])
    return space.decode(space.sample(n, seed))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), tech=st.sampled_from(TECHS),
       workload=st.sampled_from(WORKLOADS), assumptions=st.sampled_from(("physical", "cimloop")))
def test_metrics_finite_positive(seed, tech, workload, assumptions):
    t = load_technology(tech).with_settings(assumptions=assumptions)
    m = evaluate(random_designs(tech, seed), get(workload), t)
    for name in ("energy_j", "latency_s", "area_mm2", "edap_j_s_mm2", "tops_per_w"):
        values = getattr(m, name)
        assert np.all(np.isfinite(values)), name
        assert np.all(values > 0), name
    assert np.all(np.isfinite(m.layer_energy_j)) and np.all(m.layer_energy_j > 0)
    assert np.all(np.isfinite(m.layer_latency_s)) and np.all(m.layer_latency_s > 0)
    for part in ENERGY_COMPONENTS:
        assert np.all(m.energy_breakdown_j[part] >= 0), part
    np.testing.assert_allclose(sum(m.energy_breakdown_j.values()), m.energy_j, rtol=1e-9)
    np.testing.assert_allclose(m.layer_energy_j.sum(axis=1), m.energy_j, rtol=1e-9)
    assert np.all((m.utilization > 0) & (m.utilization <= 1))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), tech=st.sampled_from(TECHS),
       workload=st.sampled_from(WORKLOADS))
def test_mapping_executes_every_mac(seed, tech, workload):
    wl = get(workload)
    m = evaluate(random_designs(tech, seed, 32), wl, load_technology(tech))
    np.testing.assert_allclose(m.executed_macs, wl.macs, rtol=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), tech=st.sampled_from(TECHS))
def test_energy_rises_with_adc_conversions(seed, tech):
    wl, t = get("resnet18"), load_technology(tech)
    d = random_designs(tech, seed, 32)
    # twice the weight bits: twice the column slices, so twice the conversions, at the same
    # energy per conversion
    wide = Workload("wide", tuple(layer.replace(weight_bits=16) for layer in wl.layers))
    m8, m16 = evaluate(d, wl, t), evaluate(d, wide, t)
    assert np.all(m16.energy_breakdown_j["adc"] > m8.energy_breakdown_j["adc"])
    assert np.all(m16.energy_j > m8.energy_j)
    # a finer ADC costs more energy per conversion, with nothing else changed
    lo, hi = evaluate(with_changed(d, adc_bits=4), wl, t), evaluate(with_changed(d, adc_bits=8),
                                                                  wl, t)
    assert np.all(hi.energy_j > lo.energy_j)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), tech=st.sampled_from(TECHS),
       param=st.sampled_from(("router_groups", "tiles_per_group", "arrays_per_tile")))
def test_area_rises_with_tiles_and_arrays(seed, tech, param):
    t = load_technology(tech)
    d = random_designs(tech, seed, 32)
    doubled = Designs({**d.values, param: d[param] * 2}, d.n)
    one, more = evaluate(d, get("alexnet"), t), evaluate(doubled, get("alexnet"), t)
    assert np.all(more.area_mm2 > one.area_mm2)


def test_rram_too_small_for_vgg16_is_infeasible_with_reason():
    d = designs_from_keys(["A_0.5_1_1e-09_32_32_1_4_4_2048", "A_0.6_8_1e-09_512_32_8_64_32_4096"])
    # (the default circuit truncates 8-bit cells' sums: allow it, to see the capacity reason)
    m = evaluate(d, get("vgg16"), load_technology("rram").with_settings(
        max_psum_bits_lost=float("inf")))
    assert list(m.feasible) == [False, True]
    assert "arrays" in m.reason[0] and "the chip has 16" in m.reason[0]
    assert m.reason[1] == ""
    # SRAM streams its weights from DRAM: the same small chip is slow but feasible
    s = evaluate(d, get("vgg16"), load_technology("sram").with_settings(
        max_psum_bits_lost=float("inf")))
    assert s.feasible[0]
    assert s.energy_breakdown_j["dram"][0] > 0
    # ...but an SRAM cell holds one bit, never eight
    assert not s.feasible[1] and "at most 1 bit" in s.reason[1]


def test_an_adc_that_truncates_column_sums_makes_a_design_infeasible():
    """Under imcopt's own assumptions a design whose ADC cannot hold a column's sum exactly
    is infeasible: 32 rows of 1-bit inputs and 8-bit cells sum to 32 x 255 = 8,160, which
    needs 13 bits; a 6-bit ADC drops 7. With 1-bit cells (needs 6 bits) it is exact."""
    d = Designs.from_values({"bits_per_cell": [8, 1], "parallel_rows": 32, "dac_bits": 1,
                             "adc_bits": 6, "rows_per_array": 128})
    m = evaluate(d, get("resnet18"), load_technology("rram"))
    assert list(m.psum_bits_lost) == [7.0, 0.0]
    assert not m.feasible[0] and "6-bit ADC drops 7 partial-sum bits" in m.reason[0]
    # the study's set-up accepted truncation: the cimloop assumptions allow it
    c = evaluate(d, get("resnet18"), load_technology("rram").with_settings(
        assumptions="cimloop"))
    assert c.psum_bits_lost[0] > 0 and c.feasible[0]


@pytest.mark.parametrize("tech", TECHS)
@pytest.mark.parametrize("workload", ("alexnet", "vgg16", "resnet18", "mobilenet_v3",
                                      "resnet50", "densenet201", "mobilebert",
                                      "vision_transformer", "gpt2_medium", "dpt_large",
                                      "msft_phi_1_5"))
def test_study_design_on_every_zoo_network(tech, workload):
    m = evaluate(designs_from_keys(["A_0.6_8_1e-09_512_32_8_64_32_4096"]), get(workload),
                 load_technology(tech))
    for v in (m.energy_j, m.latency_s, m.area_mm2):
        assert np.isfinite(v[0]) and v[0] > 0


def test_chunked_evaluation_equals_one_block(monkeypatch):
    import imcopt.model.cost as cost

    d = random_designs("rram", 3, 300)
    whole = evaluate(d, get("mobilenet_v3"), load_technology("rram"))
    monkeypatch.setattr(cost, "CHUNK_DESIGNS", 7)
    chunked = evaluate(d, get("mobilenet_v3"), load_technology("rram"))
    np.testing.assert_array_equal(whole.energy_j, chunked.energy_j)
    np.testing.assert_array_equal(whole.layer_latency_s, chunked.layer_latency_s)
    np.testing.assert_array_equal(whole.feasible, chunked.feasible)


def test_more_bits_per_cell_fewer_arrays_and_less_cell_energy():
    wl, t = get("resnet18"), load_technology("rram")
    d = designs_from_keys([f"A_0.7_{b}_2e-09_128_128_8_16_32_16384" for b in (1, 2, 4, 8)])
    m = evaluate(d, wl, t)
    assert np.all(np.diff(m.weight_arrays_required) < 0)
    assert np.all(np.diff(m.energy_breakdown_j["cell_array"]) < 0)


def test_low_voltage_stretches_a_fast_clock_but_not_a_slow_one():
    from imcopt.model import cycle_time_s

    d = designs_from_keys(["A_0.5_8_1e-09_128_128_8_16_32_16384",
                           "A_0.85_8_1e-09_128_128_8_16_32_16384",
                           "A_0.5_8_1e-08_128_128_8_16_32_16384"])
    t = cycle_time_s(d, load_technology("rram"))
    assert t[0] > 1e-9 and t[1] == pytest.approx(1e-9) and t[2] == pytest.approx(1e-8)


def test_router_group_share_pads_the_best_dimension():
    from imcopt.model.mapping import router_group_share
    dims = (np.array([[14.0, 7.0]]), np.array([[14.0, 7.0]]), np.array([[64.0, 192.0]]),
            np.array([[1.0, 1.0]]))
    got = router_group_share(np.array([[6.0], [4.0], [1.0]]), dims)
    # 6 groups: M = 64 as 11 per group (64/11 groups' worth); M = 192 as 32 each (all 6)
    np.testing.assert_allclose(got, [[64 / 11, 6.0], [4.0, 4.0], [1.0, 1.0]])


def test_cimloop_splits_one_layer_dimension_over_router_groups():
    """The reference's mapper splits one dimension of a layer over the router groups and pads
    the last share: a 7 x 7 x 4 layer has no dimension 6 groups can share better than 4 can,
    so under `cimloop` 6 groups are no faster than 4, while imcopt's own mapping
    (`physical`) uses all 6."""
    from imcopt.workloads import Layer
    layer = Layer("conv", "conv", C=64, M=4, R=3, S=3, P=7, Q=7)
    wl = Workload("uneven", (layer,))
    keys = [f"A_0.7_1_1e-09_128_128_{g}_1_1_16384" for g in (4, 6)]
    sram = load_technology("sram")
    cim = evaluate(designs_from_keys(keys), wl, sram.with_settings(assumptions="cimloop"))
    assert cim.latency_s[1] == pytest.approx(cim.latency_s[0])
    phys = evaluate(designs_from_keys(keys), wl, sram.with_settings(assumptions="physical"))
    assert phys.latency_s[1] < phys.latency_s[0]
    # a layer whose channels divide by 6 uses all 6 groups under `cimloop` too
    wl6 = Workload("even", (Layer("conv", "conv", C=64, M=192, R=3, S=3, P=7, Q=7),))
    cim6 = evaluate(designs_from_keys(keys), wl6, sram.with_settings(assumptions="cimloop"))
    assert cim6.latency_s[1] < cim6.latency_s[0]
    # M = 64 over 6 groups is 11 per group: slower than an even split, faster than 4 groups
    # (an exact-factor rule would leave this layer on 4 groups)
    wl64 = Workload("padded", (Layer("conv", "conv", C=64, M=64, R=3, S=3, P=14, Q=14),))
    cim64 = evaluate(designs_from_keys(keys), wl64, sram.with_settings(assumptions="cimloop"))
    assert cim64.latency_s[1] < cim64.latency_s[0]


def test_copies_split_only_the_output_rows_where_the_reference_mapper_does():
    """The study's SRAM runs loop over all output columns Q at the buffer, so copies split only
    the output rows P. Hand-worked, one 1x1 conv of K = 64, M = 32, P = Q = 112 on 128 x 128
    arrays (2 arrays per copy): 2048 arrays hold 1024 copies; by rows only, at most P = 112
    copies of ceil(112 / 112) = 1 row, each running 1 x 112 steps; over all of P Q, 1024
    copies run ceil(12,544 / 1024) = 13 steps. 8 arrays: 4 copies of 28 rows, 28 x 112 steps."""
    from imcopt.model.mapping import map_layers
    from imcopt.workloads import Layer

    def mapped(arrays: float, by_rows: bool):
        one = np.ones((1, 1))
        mp, _ = map_layers(rows=128 * one, cols=128 * one, arrays=arrays * one,
                           bits_per_cell=one, G=one, K=64 * one, M=32 * one,
                           steps=112 * 112 * one, weight_bits=8 * one, resident=False,
                           replicate_whole_chip=True,
                           output_rows=112 * one if by_rows else None)
        return float(mp.copies[0, 0]), float(mp.serial_steps[0, 0])

    assert mapped(2048, True) == (112, 112)
    assert mapped(2048, False) == (1024, 13)
    assert mapped(8, True) == (4, 28 * 112)
    assert mapped(8, False) == (4, 12544 / 4)
    # the technology says which rule its reference used; imcopt's own mapping ignores it
    wl = Workload("one_conv", (Layer("conv", "conv", C=64, M=32, R=1, S=1, P=112, Q=112),))
    d = designs_from_keys(["A_0.7_1_1e-09_128_128_1_32_64_16384"])
    sram = load_technology("sram")
    assert sram.c["cimloop_replicates_output_rows_only"] == 1.0
    assert load_technology("rram").c["cimloop_replicates_output_rows_only"] == 0.0
    cim = sram.with_settings(assumptions="cimloop")
    rows_only = evaluate(d, wl, cim)
    all_dims = evaluate(d, wl, cim.with_constants(cimloop_replicates_output_rows_only=0.0))
    assert rows_only.latency_s[0] > 3 * all_dims.latency_s[0]
    phys = [evaluate(d, wl, sram.with_constants(cimloop_replicates_output_rows_only=v))
            for v in (0.0, 1.0)]
    np.testing.assert_allclose(phys[0].latency_s, phys[1].latency_s)


def test_cimloop_chip_has_no_matmul_unit():
    """The reference's chips map attention matmuls like weights and have no digital matmul
    unit, so under `cimloop` its area is zero; imcopt's own chips (`physical`, policy
    `digital`) pay for one per tile."""
    from imcopt.model.cost import area_mm2
    d = designs_from_keys(["A_0.7_1_1e-09_128_32_4_32_4_4096"])
    sram = load_technology("sram")
    assert sram.matmul_policy == "digital"
    assert area_mm2(d, sram)["digital_units"][0] > 0
    assert area_mm2(d, sram.with_settings(assumptions="cimloop"))["digital_units"][0] == 0


def test_totals_is_one_designs_row_of_every_metric():
    # the row `imcopt evaluate` prints: design i's numbers, with TOPS/W = 2 MACs / J / 1e12
    keys = ["A_0.7_2_2e-09_512_512_8_16_32_16384", "A_0.5_8_1e-09_128_64_4_8_16_4096"]
    wl = get("alexnet")
    m = evaluate(designs_from_keys(keys), wl, load_technology("rram"))
    macs = sum(layer.macs for layer in wl.layers if layer.kind != "matmul")
    for i in range(2):
        row = m.totals(i)
        assert row["energy_j"] == m.energy_j[i] and row["latency_s"] == m.latency_s[i]
        assert row["area_mm2"] == m.area_mm2[i]
        assert row["edap_j_s_mm2"] == pytest.approx(
            m.energy_j[i] * m.latency_s[i] * m.area_mm2[i], rel=1e-12)
        assert row["tops_per_w"] == pytest.approx(2 * macs / m.energy_j[i] / 1e12, rel=1e-9)
        assert row["tops_per_mm2"] == pytest.approx(
            2 * macs / m.latency_s[i] / 1e12 / m.area_mm2[i], rel=1e-9)
        assert row["utilization"] == m.utilization[i]
        assert row["psum_bits_lost"] == m.psum_bits_lost[i]
        assert row["feasible"] is bool(m.feasible[i]) and row["reason"] == m.reason[i]
    assert m.totals(0)["energy_j"] != m.totals(1)["energy_j"]


def test_input_destinations_by_hand():
    """Groups each input bit reaches under the reference's split: M's share when splitting
    output channels beats splitting P, Q or G (every group then needs every input), else 1."""
    from imcopt.model.mapping import input_destinations
    layer = {"P": np.array([[14.0, 56.0, 7.0, 56.0, 7.0]]),
             "Q": np.array([[14.0, 56.0, 7.0, 56.0, 7.0]]),
             "M": np.array([[64.0, 64.0, 192.0, 64.0, 1.0]]),
             "G": np.array([[1.0, 1.0, 1.0, 1.0, 96.0]])}
    groups = np.array([[6.0, 6.0, 6.0, 4.0, 6.0]])
    # 6 groups: 14 rows as 3 each = 4.67 groups' worth < 64 channels as 11 each = 5.82;
    # 56 rows as 10 each = 5.6 < 5.82; 7 rows as 2 each = 3.5 < 192 channels on all 6;
    # 4 groups: 56 rows and 64 channels both split evenly (a tie keeps the slices);
    # depthwise: 96 groups over 6, 16 each, beat 1 channel
    np.testing.assert_allclose(input_destinations(groups, layer),
                               [[64 / 11, 64 / 11, 6.0, 1.0, 1.0]])


def test_cimloop_network_charges_each_group_an_input_goes_to():
    """Under `cimloop` a layer split over output channels sends each input to every group that
    needs it; the network energy is (input bits x groups + output bits) x hops x the router's
    energy per bit, with hops = 1 + log2(groups) (routers only, nominal digital supply)."""
    from imcopt.workloads import Layer
    layer = Layer("conv", "conv", C=64, M=192, R=1, S=1, P=7, Q=7)
    sram = load_technology("sram").with_settings(assumptions="cimloop")
    e_router = sram.constants["router_energy_per_bit_j"].value
    d = designs_from_keys(["A_0.85_1_1e-09_128_128_6_1_16_16384"])
    m = evaluate(d, Workload("one", (layer,)), sram)
    in_bits = 64 * 7 * 7 * layer.input_bits
    out_bits = 192 * 7 * 7 * layer.output_bits
    want = (in_bits * 6 + out_bits) * (1 + np.log2(6)) * e_router
    assert m.energy_breakdown_j["noc"][0] == pytest.approx(want, rel=1e-9)
    # split over output rows (12 as 2 per group beat 4 channels), each input goes to one group
    rows = Layer("conv", "conv", C=64, M=4, R=1, S=1, P=12, Q=12)
    m = evaluate(d, Workload("one", (rows,)), sram)
    want = (64 * 144 * rows.input_bits + 4 * 144 * rows.output_bits) * (1 + np.log2(6)) * e_router
    assert m.energy_breakdown_j["noc"][0] == pytest.approx(want, rel=1e-9)


def test_cimloop_tile_bus_sends_each_input_to_each_column_tile(monkeypatch):
    """Without multicast the tile bus delivers an input to every array of a row of column
    tiles: a 1x1 layer of 64 inputs and 192 8-bit outputs on 128 x 128 one-bit cells spans
    192 x 8 / 128 = 12 column tiles and one row tile, so the tile-buffer bits per step go from
    64 x 8 + 192 x 1 x 16 (psums at 2 x 8 bits) to 64 x 8 x 12 + 192 x 16."""
    import dataclasses

    from imcopt.model import policy
    from imcopt.workloads import Layer
    layer = Layer("conv", "conv", C=64, M=192, R=1, S=1, P=7, Q=7)
    assert layer.input_bits == layer.output_bits == 8
    sram = load_technology("sram").with_settings(assumptions="cimloop")
    d = designs_from_keys(["A_0.85_1_1e-09_128_128_6_1_16_16384"])
    unicast = evaluate(d, Workload("one", (layer,)), sram).energy_breakdown_j["tile_buffers"]
    monkeypatch.setitem(policy.POLICIES, "cimloop",
                        dataclasses.replace(policy.CIMLOOP, network_multicasts=True))
    multicast = evaluate(d, Workload("one", (layer,)), sram).energy_breakdown_j["tile_buffers"]
    want = (64 * 8 * 12 + 192 * 16) / (64 * 8 + 192 * 16)
    assert unicast[0] / multicast[0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("tech", TECHS)
def test_no_designs_give_empty_results(tech):
    t, space = load_technology(tech), get_space(SPACE_OF[tech])
    m = evaluate(space.decode(space.sample(0, 1)), get("gpt2_medium"), t)
    assert m.energy_j.shape == m.feasible.shape == m.reason.shape == (0,)
    assert m.layer_energy_j.shape == (0, len(get("gpt2_medium")))
    assert all(v.shape == (0,) for v in m.energy_breakdown_j.values())
