"""The data-movement floor (model/floor.py): its bits and cycles by hand, a lower bound of the
model's every layer under every policy, and the branch and bound's fast sums equal to it;
and identical layers costed once (`Workload.distinct`), the same as costing each."""

from __future__ import annotations

import numpy as np
import pytest

from imcopt.hardware import Designs, get_space, load_technology
from imcopt.model import evaluate
from imcopt.model.components import buffers, digital, dram, noc
from imcopt.model.floor import layer_floor, movement_cost, traffic_floor
from imcopt.objectives import Evaluator
from imcopt.search.bounds import LayerBound
from imcopt.workloads import Layer, Workload, get

FC = Layer("fc", "linear", C=1000, M=100)
MATMUL = Layer("qk", "matmul", C=64, M=128, P=10)


def _design(**values: float) -> Designs:
    base = {"voltage_v": 0.85, "clock_period_s": 1e-9, "router_groups": 4,
            "glb_depth_words": 16384, "technology_node_nm": 32, "offchip_memory": 1}
    return Designs.from_values({**base, **values})


def test_traffic_by_hand():
    sram = load_technology("sram")  # weights streamed from DRAM, physical policy
    assert sram.weight_residency == "streamed" and sram.c["layer_overhead_cycles"] == 4
    t = traffic_floor(_design(), Workload("w", (FC, MATMUL)), sram)
    # fc: inputs 1000 x 8 bits, outputs 100 x 8, weights 1000 x 100 x 8 from DRAM, which
    # also cross the network; 4 router groups move 4 x 128 bits a cycle, the GLB port 2048,
    # DRAM 409.6 Gb/s = 409.6 bits per 1 ns cycle
    assert t["glb_bits"][0, 0] == 8800 and t["noc_bits"][0, 0] == 808_800
    assert t["dram_bits"][0, 0] == 800_000
    assert t["cycles"][0, 0] == pytest.approx(800_000 / 409.6 + 4, rel=1e-12)
    # matmul on the digital unit: inputs 64 x 10 x 8, outputs 128 x 10 x 8, the second
    # operand 64 x 128 x 8, all through the GLB and the network; nothing from DRAM
    glb = 64 * 10 * 8 + 128 * 10 * 8 + 64 * 128 * 8
    assert t["glb_bits"][0, 1] == glb and t["noc_bits"][0, 1] == glb
    assert t["dram_bits"][0, 1] == 0
    assert t["cycles"][0, 1] == pytest.approx(glb / 512 + 4, rel=1e-12)
    # a GLB of one 2048-bit word: the activations beyond it go out to DRAM and back
    small = traffic_floor(_design(glb_depth_words=1), Workload("w", (FC,)), sram)
    spill = 2 * (8800 - 2048)
    assert small["dram_bits"][0, 0] == 800_000 + spill
    assert small["cycles"][0, 0] == pytest.approx((800_000 + spill) / 409.6 + 4, rel=1e-12)
    # matmuls a technology excludes cost nothing
    excluded = traffic_floor(_design(), Workload("w", (FC, MATMUL)),
                             sram.with_settings(matmul_policy="exclude"))
    assert all(v[0, 1] == 0 for v in excluded.values())
    # resident weights: none from DRAM
    resident = traffic_floor(_design(), Workload("w", (FC,)),
                             sram.with_settings(weight_residency="resident"))
    assert resident["dram_bits"][0, 0] == 0 and resident["noc_bits"][0, 0] == 8800


def test_movement_cost_is_the_energy_of_those_bits_and_the_leakage_over_their_time():
    sram = load_technology("sram")
    d = _design()
    e, lat = layer_floor(d, Workload("w", (FC,)), sram)
    c = sram.c
    cycles = 800_000 / 409.6 + 4
    assert lat[0, 0] == pytest.approx(cycles * 1e-9, rel=1e-12)
    from imcopt.model.cost import area_mm2

    parts = area_mm2(d, sram)
    area = sum(parts.values())[0]
    e_glb = buffers.access_energy_per_bit_j(c, 16384 * 2048)
    e_noc = noc.energy_per_bit_j(c, 4.0, area, 0.85)
    leak = digital.leakage_energy_j(c, area - parts["array_whitespace"][0], cycles * 1e-9, 1.0)
    want = 8800 * e_glb + 808_800 * e_noc + dram.energy_j(c, 800_000) + leak
    assert e[0, 0] == pytest.approx(want, rel=1e-12)
    # linear: the cost of two layers' summed traffic is the sum of their costs
    t = traffic_floor(d, Workload("w", (FC, MATMUL)), sram)
    e2, lat2 = movement_cost(d, sram, {k: v.sum(axis=1, keepdims=True) for k, v in t.items()})
    e1, lat1 = movement_cost(d, sram, t)
    assert e2[0, 0] == pytest.approx(e1.sum(), rel=1e-12)
    assert lat2[0, 0] == pytest.approx(lat1.sum(), rel=1e-12)


@pytest.mark.parametrize("tech", ["rram", "sram"])
@pytest.mark.parametrize("assumptions", ["physical", "cimloop"])
@pytest.mark.parametrize("matmul_policy", ["digital", "exclude", "in_array"])
@pytest.mark.parametrize("residency", ["resident", "streamed"])
def test_the_floor_is_below_every_layers_cost(tech, assumptions, matmul_policy, residency):
    t = load_technology(tech).with_settings(assumptions=assumptions, matmul_policy=matmul_policy,
                                            weight_residency=residency)
    space = get_space(tech)  # every parameter varies: node, memory, circuit knobs
    d = space.decode(space.sample(150, 11))
    for name in ("mobilenet_v3", "gpt2_medium", "alexnet"):
        wl = get(name)
        m = evaluate(d, wl, t)
        fe, fl = layer_floor(d, wl, t)
        ok = np.isfinite(m.layer_energy_j) & np.isfinite(m.layer_latency_s)
        assert ok.mean() > 0.9
        assert np.all(fe[ok] <= m.layer_energy_j[ok] * (1 + 1e-12)), name
        assert np.all(fl[ok] <= m.layer_latency_s[ok] * (1 + 1e-12)), name
        free = m.layer_energy_j == 0  # matmuls a technology excludes cost nothing
        assert np.all(fe[free] == 0) and np.all(fl[free] == 0)
        assert np.all(fe[~free] > 0)  # every costed layer moves data


def test_the_floor_is_most_of_a_streamed_layers_cost():
    # why the bound works: with weights streamed from DRAM, moving them dominates
    sram = load_technology("sram")
    space = get_space("sram_study")
    d = space.decode(space.sample(200, 3))
    for name in ("resnet50", "mobilenet_v3"):
        m = evaluate(d, get(name), sram)
        fe, fl = layer_floor(d, get(name), sram)
        assert np.median(fe.sum(axis=1) / m.energy_j) > 0.5
        assert np.median(fl.sum(axis=1) / m.latency_s) > 0.5


def test_the_bounds_fast_floor_sums_equal_the_floor_of_each_layer():
    tech = load_technology("sram")
    space = get_space("sram")
    wls = [get("resnet18"), get("mobilenet_v3"), get("vision_transformer")]
    bound = LayerBound.build(Evaluator(space, tech, wls))
    g = space.sample(300, 4)
    e_lb, l_lb, area = bound.lower(g, [])  # the floors alone
    d = space.decode(g)
    for w, wl in enumerate(wls):
        fe, fl = layer_floor(d, wl, tech)
        np.testing.assert_allclose(e_lb[:, w], fe.sum(axis=1), rtol=1e-12)
        np.testing.assert_allclose(l_lb[:, w], fl.sum(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(area, Evaluator(space, tech, wls).area(g))


def test_distinct_layers_by_hand():
    a, b = Layer("a", "conv", C=3, M=8), Layer("b", "linear", C=8, M=4)
    c = Layer("c", "linear", C=4, M=2)
    wl = Workload("w", (a, b, a.replace(name="a2"), c, b.replace(name="b2")))
    costed, counts, layer_of = wl.distinct()
    assert [x.name for x in costed.layers] == ["a", "b", "c"]
    assert counts.tolist() == [2, 2, 1] and layer_of.tolist() == [0, 1, 0, 2, 1]
    # another kind or bit width is another layer
    other = Workload("w", (b, b.replace(kind="matmul"), b.replace(weight_bits=4)))
    assert other.distinct()[1].tolist() == [1, 1, 1]


@pytest.mark.parametrize("tech", ["rram", "sram"])
def test_identical_layers_costed_once_give_what_costing_each_gives(tech, monkeypatch):
    t = load_technology(tech)  # rram: resident weights, whose layers share the spare arrays
    space = get_space(tech)
    d = space.decode(space.sample(200, 8))
    wl = get("gpt2_medium")  # 145 layers, 7 distinct
    once = evaluate(d, wl, t)
    monkeypatch.setattr(Workload, "distinct", lambda self: (
        self, np.ones(len(self), np.int64), np.arange(len(self))))
    each = evaluate(d, wl, t)
    for f in ("energy_j", "latency_s", "area_mm2", "utilization", "executed_macs",
              "weight_arrays_required", "cell_writes_per_inference"):
        np.testing.assert_allclose(getattr(once, f), getattr(each, f), rtol=1e-12, err_msg=f)
    np.testing.assert_array_equal(once.feasible, each.feasible)
    np.testing.assert_allclose(once.layer_energy_j, each.layer_energy_j, rtol=1e-12)
    for k, v in once.energy_breakdown_j.items():
        np.testing.assert_allclose(v, each.energy_breakdown_j[k], rtol=1e-12, err_msg=k)


def test_a_layer_repeated_costs_its_repeats():
    # independent of the code path: a resident chip needs k times the arrays for a layer
    # repeated k times, and (no room left to replicate) a streamed one k times the energy
    layer = Layer("fc", "linear", C=512, M=512)
    rram = load_technology("rram")
    d = get_space("rram").decode(get_space("rram").sample(50, 2))
    one = evaluate(d, Workload("one", (layer,)), rram)
    five = evaluate(d, Workload("five", tuple(layer.replace(name=f"fc{i}") for i in range(5))),
                    rram)
    np.testing.assert_array_equal(five.weight_arrays_required, 5 * one.weight_arrays_required)
    sram = load_technology("sram")
    ds = get_space("sram").decode(get_space("sram").sample(50, 2))
    one = evaluate(ds, Workload("one", (layer,)), sram)
    five = evaluate(ds, Workload("five", (layer,) * 5), sram)
    np.testing.assert_allclose(five.energy_j, 5 * one.energy_j, rtol=1e-12)
    np.testing.assert_allclose(five.latency_s, 5 * one.latency_s, rtol=1e-12)
