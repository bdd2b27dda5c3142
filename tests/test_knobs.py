"""Properties of the knobs beyond the study's nine: technology node, ADC type and resolution,
off-chip memory type, die cost, partial-sum bits lost."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from design_helpers import with_changed
from imcopt.hardware import (
    DesignError,
    Designs,
    Parameter,
    adc,
    fabrication,
    get_space,
    load_technology,
    memory,
    scaling,
)
from imcopt.model import evaluate
from imcopt.workloads import get

TECHS = ("rram", "sram")
NODES = scaling.NODES_NM


def random_designs(tech: str, seed: int, n: int = 32) -> Designs:
    space = get_space(tech)
    return space.decode(space.sample(n, seed))


# ---- technology node ------------------------------------------------------------------------
def test_every_factor_is_exactly_one_at_32_nm():
    for name, f in scaling.factors(32.0).items():
        assert f == 1.0, name
    for tech in TECHS:
        t = load_technology(tech)
        assert scaling.scale_constants(t.c, tech, np.array([32.0])) == t.c


def test_factor_table_follows_its_sources():
    assert scaling.logic_area_factor(16.0) == pytest.approx(0.25)
    assert scaling.logic_energy_factor(64.0) == pytest.approx(2.0)
    # NeuroSim's FinFET SRAM cell sizes, relative to its planar 280 F^2
    assert scaling.finfet_cell_factor(7.0) == pytest.approx(551 / 280)
    assert scaling.finfet_cell_factor(14.0) == pytest.approx(326 / 280)
    assert np.all(scaling.finfet_cell_factor(np.array([22.0, 32.0, 65.0])) == 1.0)
    # every constant that scales names a known factor
    for tech in TECHS:
        assert set(scaling.constant_factor_names(tech).values()) <= set(scaling.FACTORS)
        assert set(scaling.constant_factor_names(tech)) <= set(load_technology(tech).c)


def test_node_direction_agrees_with_neurosim_adc_table():
    """NeuroSim's SAR power b (uW) per node also lowers the supply: F x Vdd^2 tracks it."""
    neurosim_b = {45: 16.7, 32: 8.90, 22: 4.38, 14: 2.57, 7: 0.885}
    nodes = sorted(neurosim_b)
    ours = scaling.logic_energy_factor(np.array(nodes, dtype=float))
    theirs = np.array([neurosim_b[n] / neurosim_b[32] for n in nodes])
    assert np.all(np.diff(ours) > 0) and np.all(np.diff(theirs) > 0)
    assert np.all(ours[np.array(nodes) < 32] >= theirs[np.array(nodes) < 32])  # ours: fixed V


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), tech=st.sampled_from(TECHS),
       pair=st.sampled_from([(a, b) for a in NODES for b in NODES if a < b]))
def test_smaller_node_lowers_energy_and_area(seed, tech, pair):
    small, large = pair
    d = random_designs(tech, seed)
    t = load_technology(tech)
    m_small = evaluate(with_changed(d, technology_node_nm=small), get("resnet18"), t)
    m_large = evaluate(with_changed(d, technology_node_nm=large), get("resnet18"), t)
    assert np.all(m_small.energy_j < m_large.energy_j)
    assert np.all(m_small.area_mm2 < m_large.area_mm2)
    assert np.all(m_small.latency_s <= m_large.latency_s * (1 + 1e-12))
    # per operation too (the same MACs)
    assert np.all(m_small.tops_per_w > m_large.tops_per_w)


def test_smaller_node_shortens_a_cycle_limited_by_logic():
    t = load_technology("rram")
    d = Designs.from_values({"technology_node_nm": [7, 32, 65], "voltage_v": 0.5,
                             "clock_period_s": 1e-9})
    lat = evaluate(d, get("alexnet"), t).latency_s
    assert lat[0] < lat[1] < lat[2]


def test_rram_cell_read_energy_is_node_independent_sram_is_not():
    for tech, scales in (("rram", False), ("sram", True)):
        t = load_technology(tech)
        c = scaling.scale_constants(t.c, tech, np.array([7.0]))
        assert bool(np.all(c["cell_read_energy_j"] < t.c["cell_read_energy_j"])) is scales


# ---- ADC ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bits", [1, 2, 3, 5, 8])
def test_adc_rules(bits):
    b, sar, flash = np.float64(bits), np.float64(1), np.float64(2)
    assert adc.area_units(b, sar) == bits
    assert adc.area_units(b, flash) == 2**bits - 1
    assert adc.time_steps(b, flash) == 1 < adc.time_steps(b, sar) == bits + 1
    assert adc.energy_steps(b, flash, 0.127) == 2**bits - 1
    if bits >= 3:  # flash energy exponential: SAR cheaper from 3 bits on
        assert adc.energy_steps(b, sar, 0.127) < adc.energy_steps(b, flash, 0.127)
    assert adc.min_cycle_factor(np.float64(5), sar) == 1.0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), tech=st.sampled_from(TECHS))
def test_more_adc_bits_cost_energy_and_area_for_both_types(seed, tech):
    d = random_designs(tech, seed)
    t = load_technology(tech)
    for kind in (1, 2):
        lo = evaluate(with_changed(d, adc_bits=4, adc_type=kind), get("alexnet"), t)
        hi = evaluate(with_changed(d, adc_bits=7, adc_type=kind), get("alexnet"), t)
        assert np.all(hi.energy_j > lo.energy_j) and np.all(hi.area_mm2 > lo.area_mm2)
        assert np.all(hi.psum_bits_lost <= lo.psum_bits_lost)


def test_psum_bits_lost_counts_the_partial_sum_width():
    # 128 rows x 8-bit input x 1-bit cells: 128 * 255 + 1 needs 15 bits
    assert adc.psum_bits_required(np.float64(128), 8, 1) == 15
    assert adc.psum_bits_required(np.float64(1), 1, 1) == 1
    t = load_technology("rram")
    d = Designs.from_values({"rows_per_array": 128, "bits_per_cell": 1, "adc_bits": [5, 15, 16]})
    lost = evaluate(d, get("vgg16"), t).psum_bits_lost
    assert lost.tolist() == [10, 0, 0]


def test_codes_outside_the_tables_are_refused():
    with pytest.raises(DesignError, match=r"adc_type.*1, 2"):
        Parameter("adc_type", (1, 3))
    with pytest.raises(DesignError, match="offchip_memory"):
        Parameter("offchip_memory", (5,))
    with pytest.raises(DesignError, match="allowed: 1 = LPDDR4"):
        memory.energy_factor(np.array([9.0]))


# ---- off-chip memory ------------------------------------------------------------------------
def test_lpddr4_is_the_reference_and_hbm2_is_cheaper_and_faster():
    assert memory.energy_factor(1.0) == 1.0 and memory.bandwidth_factor(1.0) == 1.0
    t = load_technology("sram")  # streams its weights
    d = Designs.from_values({"offchip_memory": [1, 2, 3, 4]})
    m = evaluate(d, get("resnet18"), t)
    dram = m.energy_breakdown_j["dram"]
    assert dram[3] < dram[0] < dram[2] and dram[0] < dram[1]
    assert m.latency_s[3] <= m.latency_s[0] <= m.latency_s[1]


def test_resident_rram_does_not_care_about_dram_type():
    t = load_technology("rram")
    m = evaluate(Designs.from_values({"offchip_memory": [1, 4]}), get("alexnet"), t)
    assert m.energy_j[0] == m.energy_j[1]


# ---- die cost -------------------------------------------------------------------------------
def test_die_cost_rises_with_area_and_for_advanced_nodes():
    area = np.array([10.0, 100.0, 400.0])
    cost = fabrication.die_cost_usd(area, 32.0)
    assert np.all(np.diff(cost) > 0)
    assert np.all(np.diff(cost / area) > 0)  # yield: larger dies cost more per mm^2
    per_node = fabrication.die_cost_usd(100.0, np.array(NODES, dtype=float))
    assert np.all(np.diff(per_node) < 0)  # same area: older nodes are cheaper
    assert fabrication.wafer_price_usd(28.0) == pytest.approx(2891.0)
    assert fabrication.die_cost_usd(1e6, 32.0) == np.inf


@pytest.mark.parametrize("name", ["adc_type", "offchip_memory", "technology_node_nm",
                                  "adc_bits"])
def test_new_knobs_extend_a_space_and_round_trip(name):
    values = {"adc_type": (1, 2), "offchip_memory": (1, 2, 3, 4),
              "technology_node_nm": NODES, "adc_bits": (3, 5, 8)}[name]
    space = get_space("rram").restrict(**{name: values})
    g = space.sample(50, 0)
    assert np.array_equal(space.encode(space.decode(g).values), g)
    assert set(space.decode(g)[name]) <= set(map(float, values))


def test_node_cost_example_runs_and_plots(tmp_path):
    """examples/sram_node_cost.yaml at a small budget, then tools/plot_node_cost.py."""
    import importlib.util
    from pathlib import Path

    from imcopt.search.config import PhaseConfig, load_config
    from imcopt.search.runner import run_search, write_results

    root = Path(__file__).resolve().parents[1]
    cfg = load_config(root / "examples" / "sram_node_cost.yaml")
    cfg.algorithm.name = "ga"
    cfg.algorithm.phases = [PhaseConfig(pop_size=20, n_gen=3)]
    write_results(run_search(cfg), tmp_path, save_all=True)
    spec = importlib.util.spec_from_file_location("plot_node_cost",
                                                  root / "tools" / "plot_node_cost.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    df = tool.load(tmp_path)
    assert set(df["technology_node_nm"]) <= set(map(float, NODES)) and len(df) > 0
    front = df[df["pareto"]]
    # no front point is dominated by any design
    for _, p in front.iterrows():
        assert not np.any((df["cost_usd"] < p["cost_usd"])
                          & (df["edap_max_j_s_mm2"] < p["edap_max_j_s_mm2"]))
    tool.plot(df, tmp_path / "fig.png")
    assert (tmp_path / "fig.png").stat().st_size > 1000
