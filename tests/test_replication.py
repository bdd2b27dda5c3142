"""Per-network weight replication (issue 9): the model's copy cap (`Workload.max_copies`), the
`replication.<network>` software knob, its keys, the evaluator, the polish and the config."""

import dataclasses
import json

import numpy as np
import pytest

from design_helpers import PHYSICAL_CIRCUIT
from imcopt.hardware import DesignError, get_space, load_technology
from imcopt.model.cost import evaluate
from imcopt.model.mapping import map_layers
from imcopt.objectives import Evaluator, Objective
from imcopt.search.config import ConfigError, load_config
from imcopt.search.constrained import ConstrainedEvaluator
from imcopt.search.precision import JointSpace, SoftwareParameter, at_replication
from imcopt.search.runner import run_search, write_results
from imcopt.workloads import WorkloadError, get

NETS = ("resnet18", "mobilenet_v3")
CAPS = (1, 4, 16, 0)


def small_sram():
    return get_space("sram").restrict(voltage_v=(0.7,), clock_period_s=(1e-9,),
                                      rows_per_array=(128, 256), cols_per_array=(64, 128),
                                      router_groups=(4, 16), tiles_per_group=(8, 32),
                                      arrays_per_tile=(16, 64), glb_depth_words=(65536,),
                                      **PHYSICAL_CIRCUIT)


def capped(name: str, cap: int | None):
    return dataclasses.replace(get(name), max_copies=cap)


def test_map_layers_caps_copies():
    one = np.ones((1, 1))
    kw = dict(rows=128 * one, cols=128 * one, arrays=64 * one, bits_per_cell=one,
              G=one, K=64 * one, M=16 * one, steps=1000 * one, weight_bits=8 * one,
              resident=False, replicate_whole_chip=False)
    free, _ = map_layers(**kw)
    cap, _ = map_layers(**kw, max_copies=3)
    assert free.copies[0, 0] == 64 and cap.copies[0, 0] == 3
    assert cap.serial_steps[0, 0] == np.ceil(1000 / 3) > free.serial_steps[0, 0]


def test_default_is_unchanged_and_a_loose_cap_is_bit_identical():
    tech = load_technology("sram")
    d = get_space("sram").decode(get_space("sram").sample(60, 0))
    base = evaluate(d, get("resnet18"), tech)
    assert get("resnet18").max_copies is None
    loose = evaluate(d, capped("resnet18", 2**40), tech)
    for attr in ("energy_j", "latency_s", "utilization"):
        assert np.array_equal(getattr(base, attr), getattr(loose, attr))


@pytest.mark.parametrize("net", NETS)
def test_no_replication_writes_fewer_cells_on_streamed_sram(net):
    tech = load_technology("sram")
    d = get_space("sram").decode(get_space("sram").sample(80, 1))
    free, one = evaluate(d, get(net), tech), evaluate(d, capped(net, 1), tech)
    w_free, w_one = (m.energy_breakdown_j["weight_writes"] for m in (free, one))
    assert np.all(w_one <= w_free) and np.any(w_one < 0.5 * w_free)
    assert np.all(one.utilization <= free.utilization + 1e-12)
    # the reads, conversions and data movement do not depend on the copies
    for part in ("cell_array", "adc", "dram"):
        assert np.allclose(one.energy_breakdown_j[part], free.energy_breakdown_j[part],
                           rtol=1e-12)


def test_no_replication_is_slower_on_resident_rram():
    tech = load_technology("rram")
    d = get_space("rram").decode(get_space("rram").sample(80, 2))
    free, one = evaluate(d, get("mobilenet_v3"), tech), evaluate(d, capped("mobilenet_v3", 1),
                                                                  tech)
    ok = free.feasible
    assert np.all(one.latency_s[ok] >= free.latency_s[ok] * (1 - 1e-12))
    assert np.any(one.latency_s[ok] > 1.2 * free.latency_s[ok])
    assert np.all(one.energy_breakdown_j["weight_writes"] == 0)


def test_cap_on_torch_matches_numpy():
    pytest.importorskip("torch")
    tech = load_technology("sram")
    d = get_space("sram").decode(get_space("sram").sample(20, 3))
    wl = capped("mobilenet_v3", 4)
    a, b = evaluate(d, wl, tech), evaluate(d, wl, tech, device="cpu")
    assert np.allclose(a.energy_j, b.energy_j, rtol=1e-9)
    assert np.allclose(a.latency_s, b.latency_s, rtol=1e-9)


def test_workload_cap_is_validated():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(WorkloadError, match="max_copies"):
            capped("alexnet", bad)
    assert at_replication(get("alexnet"), 0) is get("alexnet")
    assert at_replication(get("alexnet"), 4).max_copies == 4


def test_replication_knob_values_keys_and_old_keys():
    with pytest.raises(DesignError, match=r"0 = unlimited"):
        SoftwareParameter("replication.alexnet", (-1, 4))
    with pytest.raises(DesignError, match=r"1..32"):
        SoftwareParameter("weight_bits.alexnet", (0, 8))
    space = JointSpace.build(small_sram(), NETS, (8,), (8,), CAPS)
    plain = JointSpace.build(small_sram(), NETS, (8,), (8,))
    assert space.n_var == plain.n_var + len(NETS)
    assert space.levels()["software"][-1] == "replication.mobilenet_v3"
    g = space.sample(30, 0)
    keys = space.keys(g)
    assert all("|resnet18=w8a8r" in k for k in keys)
    assert np.array_equal(space.genomes_from_keys(keys), g)
    d = space.decode(g)
    assert set(d.replication("resnet18")) <= set(map(float, CAPS))
    assert d.replication("vgg16").tolist() == [0.0] * 30  # not searched: unlimited
    # keys without replication still parse: unlimited
    old = plain.keys(plain.sample(3, 0))
    assert space.decode(space.genomes_from_keys(old)).replication("resnet18").tolist() == [0] * 3
    assert np.array_equal(plain.genomes_from_keys(old), plain.sample(3, 0))
    with pytest.raises(DesignError, match="does not search"):
        plain.genomes_from_keys([old[0].replace("w8a8", "w8a8r4", 1)])
    with pytest.raises(DesignError, match=r"r<copies>"):
        space.genomes_from_keys([old[0].replace("|resnet18=w8a8", "|resnet18=w8a8x4")])


def test_joint_evaluator_unlimited_equals_plain_and_batches_mixed_caps():
    space = JointSpace.build(small_sram(), NETS, (8,), (8,), CAPS)
    tech = load_technology("sram")
    ev = ConstrainedEvaluator(space, tech, [get(n) for n in NETS], cache=False)
    hw = small_sram().sample(10, 4)
    unlimited = np.column_stack([hw, np.tile([0, 0, 3, 0, 0, 3], (10, 1))])
    plain = Evaluator(small_sram(), tech, [get(n) for n in NETS]).evaluate(hw)
    e = ev.evaluate(unlimited)
    assert np.array_equal(e.energy_j, plain.energy_j)
    assert np.array_equal(e.latency_s, plain.latency_s)
    mixed = space.sample(16, 5)
    batch = ev.evaluate(mixed)
    single = np.concatenate([ev.evaluate(mixed[i:i + 1]).energy_j for i in range(16)])
    assert np.array_equal(batch.energy_j, single)
    d = space.decode(mixed)
    direct = evaluate(small_sram().decode(mixed[:, : space.n_hardware]),
                      capped("resnet18", 4), tech)
    at4 = d.replication("resnet18") == 4
    assert at4.any() and np.allclose(batch.energy_j[at4, 0], direct.energy_j[at4], rtol=1e-12)


def test_polish_picks_a_cap_where_it_lowers_edap():
    space = JointSpace.build(small_sram(), NETS, (8,), (8,), CAPS)
    tech = load_technology("sram")
    ev = ConstrainedEvaluator(space, tech, [get(n) for n in NETS])
    hw = small_sram().sample(12, 6)
    g = np.column_stack([hw, np.tile([0, 0, 3, 0, 0, 3], (12, 1))])  # unlimited everywhere
    polished = ev.polish_precision(g)
    assert np.array_equal(polished[:, : space.n_hardware], hw)
    before, after = ev.evaluate(g), ev.evaluate(polished)
    assert np.all(after.edap <= before.edap * (1 + 1e-12))
    # where the chip is within the area limit the pick is the cheapest cap, checked against
    # the model run at each cap directly; elsewhere the setting is kept
    ok = before.area_ok
    assert ok.sum() >= 4 and np.array_equal(polished[~ok], g[~ok])
    d = small_sram().decode(hw)
    for w, net in enumerate(NETS):
        per_cap = np.column_stack([evaluate(d, capped(net, c or None), tech).edap_j_s_mm2
                                   for c in CAPS])
        assert np.allclose(after.edap[ok, w], per_cap[ok].min(axis=1), rtol=1e-12)
        # the cap matters (tighter caps are far slower), and the pick is the cheapest one
        assert np.all(per_cap[ok].max(axis=1) > 1.5 * per_cap[ok].min(axis=1))
        chosen = space.decode(polished).replication(net)
        best_cap = np.array(CAPS, dtype=float)[per_cap.argmin(axis=1)]
        assert np.array_equal(chosen[ok], best_cap[ok])


def test_config_replication_section(tmp_path):
    base = {"technology": "sram", "workloads": list(NETS), "objective": {"optima": None}}
    with pytest.raises(ConfigError, match=r"precision.replication.*0 for unlimited"):
        load_config({**base, "precision": {"weight_bits": [8], "replication": [-1, 4]}})
    with pytest.raises(ConfigError, match=r"precision.replication.*twice"):
        load_config({**base, "precision": {"weight_bits": [8], "replication": [4, 4]}})
    with pytest.raises(ConfigError, match=r"precision.accuracy: .*single value"):
        load_config({**base, "precision": {"replication": [1, 0]}})  # weight bits 4, 6, 8
    cfg = load_config({**base, "precision": {"weight_bits": [8], "replication": [1, 0]}})
    assert cfg.precision.replication == [1, 0] and cfg.precision.accuracy is None


def test_replication_search_end_to_end(tmp_path):
    cfg = load_config({
        "technology": "sram", "workloads": list(NETS),
        "space": {"name": "sram", "values": {k: list(p.values) for k, p in zip(
            small_sram().names, small_sram().parameters, strict=True)}},
        "objective": {"optima": None},
        "algorithm": {"name": "ga", "phases": [{"pop_size": 10, "n_gen": 3}]},
        "precision": {"weight_bits": [8], "activation_bits": [8], "replication": list(CAPS)},
        "top_k": 3})
    res = run_search(cfg)
    best = json.loads(write_results(res, tmp_path)["best"].read_text())["best"][0]
    assert "r" in best["key"].split("|resnet18=")[1]
    assert best["workloads"]["resnet18"]["replication"] in CAPS
    # the best design is at least as good as its own chip at unlimited replication
    space = res.evaluator.space
    g = np.asarray(best["genome"])[None, :].copy()
    g[:, space.n_hardware:] = [0, 0, CAPS.index(0)] * len(NETS)
    unlimited = Objective("max").fitness(res.evaluator.evaluate(g))[0]
    assert best["fitness"] <= unlimited * (1 + 1e-12)
