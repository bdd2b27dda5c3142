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
    """A smaller node: a smaller chip, never slower, and every block cheaper per event, but
    the ADC, which a faster array step makes convert faster (the survey's speed corner),
    and DRAM, which is off chip."""
    small, large = pair
    d = random_designs(tech, seed)
    t = load_technology(tech)
    m_small = evaluate(with_changed(d, technology_node_nm=small), get("resnet18"), t)
    m_large = evaluate(with_changed(d, technology_node_nm=large), get("resnet18"), t)
    assert np.all(m_small.area_mm2 < m_large.area_mm2)
    assert np.all(m_small.latency_s <= m_large.latency_s * (1 + 1e-12))
    for part, e_small in m_small.energy_breakdown_j.items():
        if part not in ("adc", "dram"):
            assert np.all(e_small <= m_large.energy_breakdown_j[part] * (1 + 1e-12)), part


def test_smaller_node_shortens_a_cycle_limited_by_logic():
    t = load_technology("rram")
    d = Designs.from_values({"technology_node_nm": [7, 32, 65], "voltage_v": 0.5,
                             "clock_period_s": 1e-9})
    lat = evaluate(d, get("alexnet"), t).latency_s
    assert lat[0] < lat[1] < lat[2]


def test_device_constants_do_not_scale_capacitances_do():
    """An RRAM cell's resistances and read voltage are the device's; capacitances, circuit
    energies and areas follow the node; the global wire's capacitance per metre does not."""
    for tech in TECHS:
        t = load_technology(tech)
        c = scaling.scale_constants(t.c, tech, np.array([7.0]))
        for name in ("cell_on_resistance_ohm", "read_voltage_v", "wire_capacitance_f_per_m"):
            if name in t.c:
                assert np.all(c[name] == t.c[name]), name
        for name in ("cell_gate_capacitance_f", "comparator_energy_j", "adc_area_base_mm2"):
            assert np.all(c[name] < t.c[name]), name


# ---- ADC ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bits", [1, 2, 3, 5, 8])
def test_adc_rules(bits):
    """SAR: 2^(B-1) Walden steps at low rates, B + 1 decisions; flash: 2^B - 1 comparators
    at once. Hand-worked from the constants (components/adc.py)."""
    from imcopt.model.components import adc as comp

    c = {"adc_walden_fom_j": 2e-15, "adc_enob_loss_bits": 1.0, "adc_corner_hz": 1e9,
         "adc_schreier_fom_db": 185.5, "comparator_energy_j": 3e-15,
         "adc_decision_time_s": 1e-10, "adc_area_base_mm2": 1e-4,
         "adc_area_per_step_mm2": 1e-5, "comparator_area_mm2": 2e-5}
    b, sar, flash = np.float64(bits), np.float64(1), np.float64(2)
    enob = max(bits - 1, 1)
    assert comp.conversion_energy_j(c, b, sar, 0.0, 1.0) == pytest.approx(2e-15 * 2**enob)
    # at the corner rate the envelope is sqrt(2) higher
    assert comp.conversion_energy_j(c, b, sar, 1e9, 1.0) == pytest.approx(
        2e-15 * 2**enob * 2**0.5)
    assert comp.conversion_energy_j(c, b, flash, 0.0, 1.0) == pytest.approx(3e-15
                                                                            * (2**bits - 1))
    assert comp.adc_area_mm2(c, b, sar) == pytest.approx(1e-4 + 1e-5 * 2**bits)
    assert comp.adc_area_mm2(c, b, flash) == pytest.approx(1e-4 + 2e-5 * (2**bits - 1))
    assert comp.conversion_time_s(c, b, flash, 1.0) == pytest.approx(1e-10)
    assert comp.conversion_time_s(c, b, sar, 1.0) == pytest.approx(1e-10 * (bits + 1))


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
    from imcopt.model.components.adc import psum_bits_required

    # 128 rows x 8-bit input x 1-bit cells: 128 * 255 + 1 needs 15 bits
    assert psum_bits_required(np.float64(128), 8, 1) == 15
    assert psum_bits_required(np.float64(1), 1, 1) == 1
    # 16 rows x 1-bit inputs x 4-bit cells: 16 * 15 + 1 = 241 needs 8
    assert psum_bits_required(np.float64(16), 1, 4) == 8
    t = load_technology("rram")
    d = Designs.from_values({"rows_per_array": 128, "bits_per_cell": 1, "adc_bits": [5, 15, 16],
                             "parallel_rows": 128, "dac_bits": 8})
    lost = evaluate(d, get("vgg16"), t).psum_bits_lost
    assert lost.tolist() == [10, 0, 0]
    # fewer rows at once, bit-serial inputs: 16 rows x 1 bit x 1 bit needs 5
    d = Designs.from_values({"rows_per_array": 128, "bits_per_cell": 1, "adc_bits": 4,
                             "parallel_rows": 16, "dac_bits": 1})
    assert evaluate(d, get("vgg16"), t).psum_bits_lost.tolist() == [1]


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
    priced = [n for n in NODES if min(fabrication.WAFER_PRICE_USD) <= n
              <= max(fabrication.WAFER_PRICE_USD)]
    per_node = fabrication.die_cost_usd(100.0, np.array(priced, dtype=float))
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
