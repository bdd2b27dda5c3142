"""Per-network precision: the joint genome, accuracy tables and callbacks, the constrained
evaluator, the config section, and the cost aggregations."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from design_helpers import PHYSICAL_CIRCUIT
from imcopt.hardware import DesignError, get_space, load_technology
from imcopt.objectives import Evaluator, Objective, ObjectiveError, aggregate
from imcopt.search.config import ConfigError, load_config
from imcopt.search.constrained import ConstrainedEvaluator
from imcopt.search.precision import AccuracyTable, JointSpace, PrecisionError, at_precision
from imcopt.search.runner import run_search, write_results
from imcopt.workloads import get

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "examples" / "data" / "accuracy_illustrative.csv"
NETS = ("resnet18", "alexnet")


def small_hw():
    return get_space("rram").restrict(voltage_v=(0.7,), clock_period_s=(1e-9,),
                                      rows_per_array=(128, 256), cols_per_array=(128,),
                                      router_groups=(8, 16), tiles_per_group=(8,),
                                      arrays_per_tile=(32, 64), glb_depth_words=(16384,),
                                      **PHYSICAL_CIRCUIT)


def joint_space():
    return JointSpace.build(small_hw(), NETS, (4, 6, 8), (6, 8))


def test_joint_space_layout_keys_and_round_trip():
    space = joint_space()
    assert space.n_var == small_hw().n_var + 2 * len(NETS)
    assert space.levels()["software"] == tuple(f"{k}.{n}" for n in NETS
                                              for k in ("weight_bits", "activation_bits"))
    g = space.sample(40, 0)
    keys = space.keys(g)
    assert all(sum(f"|{n}=w" in k for n in NETS) == len(NETS) for k in keys)
    assert np.array_equal(space.genomes_from_keys(keys), g)
    d = space.decode(g)
    wb, ab = d.precision("resnet18")
    assert set(wb) <= {4.0, 6.0, 8.0} and set(ab) <= {6.0, 8.0}
    assert d.precision("vgg16")[0].tolist() == [8.0] * 40  # not searched: 8 bits
    assert d.row(0)["weight_bits.alexnet"] in (4, 6, 8)
    with pytest.raises(DesignError, match="w<bits>a<bits>"):
        space.genomes_from_keys([keys[0].replace(keys[0][keys[0].index("|resnet18="):]
                                                 .split("|")[1], "resnet18=x")])


def test_at_precision_changes_only_bits():
    wl = at_precision(get("resnet18"), 4, 6)
    assert {la.weight_bits for la in wl} == {4} and {la.input_bits for la in wl} == {6}
    assert wl.macs == get("resnet18").macs
    assert at_precision(get("resnet18"), 8, 8) is get("resnet18") or at_precision(
        get("resnet18"), 8, 8) == get("resnet18")


def test_accuracy_table_reads_and_names_bad_rows(tmp_path):
    acc = AccuracyTable.read(TABLE)
    assert acc("resnet18", 8, 8) == 69.7 and acc("mobilenet_v3", 4, 4) == 53.0
    with pytest.raises(PrecisionError, match=r"no accuracy for network 'resnet18'.*weight_bits=5"):
        acc("resnet18", 5, 8)
    bad = tmp_path / "bad.csv"
    bad.write_text("network,weight_bits,accuracy\nresnet18,8,70\n")
    with pytest.raises(PrecisionError, match="activation_bits"):
        AccuracyTable.read(bad)
    y = tmp_path / "acc.yaml"
    y.write_text("rows:\n  - {network: a, weight_bits: 8, activation_bits: 8, accuracy: 1}\n")
    assert AccuracyTable.read(y)("a", 8, 8) == 1.0
    yml = tmp_path / "acc.yml"
    yml.write_text(y.read_text())
    assert AccuracyTable.read(yml)("a", 8, 8) == 1.0
    txt = tmp_path / "x.txt"
    txt.write_text("")
    with pytest.raises(PrecisionError, match=r"must be .csv"):
        AccuracyTable.read(txt)


def test_lower_precision_is_cheaper_on_the_same_hardware():
    space = joint_space()
    ev = ConstrainedEvaluator(space, load_technology("rram"), [get(n) for n in NETS])
    hw = space.sample(8, 1)[:, : space.n_hardware]
    eight = np.column_stack([hw, np.tile([2, 1, 2, 1], (8, 1))])
    four = np.column_stack([hw, np.tile([0, 1, 0, 1], (8, 1))])
    e8, e4 = ev.evaluate(eight), ev.evaluate(four)
    assert np.all(e4.energy_j < e8.energy_j) and np.all(e4.latency_s <= e8.latency_s)
    # 8 bits everywhere reproduces the plain evaluator
    plain = Evaluator(small_hw(), load_technology("rram"), [get(n) for n in NETS])
    p = plain.evaluate(hw)
    assert np.allclose(p.energy_j, e8.energy_j, rtol=1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_mixed_precision_batch_equals_one_design_at_a_time(seed):
    space = joint_space()
    ev = ConstrainedEvaluator(space, load_technology("rram"), [get(n) for n in NETS],
                              cache=False)
    g = space.sample(12, seed)
    batch = ev.evaluate(g)
    single = np.concatenate([ev.evaluate(g[i:i + 1]).energy_j for i in range(len(g))])
    assert np.allclose(batch.energy_j, single, rtol=1e-12)


def test_minimum_accuracy_makes_designs_infeasible_with_reason():
    space = joint_space()
    acc = AccuracyTable.read(TABLE)
    ev = ConstrainedEvaluator(space, load_technology("rram"), [get(n) for n in NETS],
                              accuracy=acc, min_accuracy={"resnet18": 69.0})
    hw = space.sample(1, 3)[0, : space.n_hardware]
    w4 = np.concatenate([hw, [0, 1, 2, 1]])[None, :]  # resnet18 at w4a8: 67.7 < 69
    w8 = np.concatenate([hw, [2, 1, 0, 1]])[None, :]  # resnet18 at w8a8: 69.7
    e4, e8 = ev.evaluate(w4), ev.evaluate(w8)
    assert not e4.capacity_ok[0, 0] and e4.capacity_violation[0, 0] > 0
    assert "resnet18: accuracy 67.7 < minimum 69" in e4.reason[0]
    assert "accuracy" not in e8.reason[0]
    assert e8.capacity_violation[0, 0] <= 0 or "arrays" in e8.reason[0]
    screened = ev.screen(np.vstack([w4, w8]))
    assert not screened[0]  # the accuracy floor is screened before any model run
    cols = ev.report_columns(np.vstack([w4, w8]))
    assert cols["accuracy.resnet18"].tolist() == [67.7, 69.7]
    assert cols["weight_bits.alexnet"].tolist() == [8, 4]


def test_max_psum_bits_lost_constraint():
    space = get_space("rram").restrict(adc_bits=(5, 16))
    ev = ConstrainedEvaluator(space, load_technology("rram"), [get("alexnet")],
                              max_psum_bits_lost=0)
    g = space.sample(30, 0)
    e = ev.evaluate(g)
    d = space.decode(g)
    assert not np.any(e.capacity_ok[d["adc_bits"] == 5])
    assert all("partial-sum bits" in r for r in e.reason[d["adc_bits"] == 5])


def test_psum_reasons_name_each_network_and_its_lost_bits():
    # two networks, both broken on the 5-bit ADC: one message each, "; "-joined, in order
    space = get_space("rram").restrict(adc_bits=(5,), parallel_rows=(128,), dac_bits=(4,))
    nets = [get("alexnet"), get("resnet18")]
    ev = ConstrainedEvaluator(space, load_technology("rram"), nets, max_psum_bits_lost=1)
    g = space.sample(6, 2)
    e = ev.evaluate(g)
    d = space.decode(g)
    # a column sums min(128, rows) products of a 4-bit input and a b-bit cell: its full scale
    # needs ceil(log2(rows * 15 * (2^b - 1) + 1)) bits, and the ADC keeps 5
    rows = np.minimum(128, d["rows_per_array"])
    full = rows * 15 * (2.0 ** d["bits_per_cell"] - 1)
    want = np.ceil(np.log2(full + 1)) - 5
    for i in range(6):
        parts = [f"{n}: ADC drops {want[i]:g} partial-sum bits > 1"
                 for n in ("alexnet", "resnet18")]
        assert e.reason[i].endswith("; ".join(parts)), e.reason[i]


def test_polish_picks_each_networks_cheapest_allowed_precision():
    space = joint_space()
    acc = AccuracyTable.read(TABLE)
    ev = ConstrainedEvaluator(space, load_technology("rram"), [get(n) for n in NETS],
                              accuracy=acc, min_accuracy={"resnet18": 69.0, "alexnet": 55.0})
    g = np.concatenate([space.sample(4, 0)[:, : space.n_hardware],
                        np.tile([2, 1, 2, 1], (4, 1))], axis=1)
    polished = ev.polish_precision(g)
    before, after = ev.evaluate(g), ev.evaluate(polished)
    ok = after.capacity_ok & before.capacity_ok
    assert np.all(after.edap[ok] <= before.edap[ok] * (1 + 1e-12))
    assert np.array_equal(polished[:, : space.n_hardware], g[:, : space.n_hardware])


def test_cost_aggregations():
    e, lat, a = np.array([[1.0, 2.0]]), np.array([[3.0, 1.0]]), np.array([4.0])
    assert aggregate(e, lat, a, "el_cost", cost=np.array([10.0]))[0] == 2 * 3 * 10
    assert aggregate(e, lat, a, "edap_cost", cost=np.array([10.0]))[0] == 2 * 3 * 4 * 10
    with pytest.raises(ObjectiveError, match="die cost"):
        aggregate(e, lat, a, "el_cost")
    ev = Evaluator(get_space("rram").restrict(technology_node_nm=(7, 32)),
                   load_technology("rram"), [get("alexnet")])
    x = ev.evaluate(ev.space.sample(20, 0))
    assert np.all(x.cost_usd > 0)
    assert np.allclose(Objective("el_cost").raw(x), x.energy_j[:, 0] * x.latency_s[:, 0]
                       * x.cost_usd)


def test_config_precision_section_is_validated(tmp_path):
    base = {"workloads": ["resnet18", "alexnet"], "objective": {"optima": None}}
    with pytest.raises(ConfigError, match=r"precision.min_accuracy: 'vgg16' is not one of"):
        load_config({**base, "precision": {"accuracy": str(TABLE),
                                           "min_accuracy": {"vgg16": 70}}})
    with pytest.raises(ConfigError, match="weight_bits=5"):
        load_config({**base, "precision": {"accuracy": str(TABLE), "weight_bits": [5, 8]}})
    with pytest.raises(ConfigError, match=r"precision.accuracy"):
        load_config({**base, "precision": {}})
    with pytest.raises(ConfigError, match="cannot load callback"):
        load_config({**base, "precision": {"accuracy": "no_such_module:f"}})
    cb = tmp_path / "acc.py"
    cb.write_text("def accuracy(net, w, a):\n    return 70.0 - (8 - w) - (8 - a)\n")
    cfg = load_config({**base, "precision": {"accuracy": f"{cb}:accuracy",
                                             "min_accuracy": {"resnet18": 66}}})
    assert cfg.precision.weight_bits == [4, 6, 8]
    with pytest.raises(ConfigError, match="max_psum_bits_lost"):
        load_config({**base, "objective": {"max_psum_bits_lost": -1}})


def test_precision_search_end_to_end(tmp_path):
    cfg = load_config({
        "workloads": list(NETS), "space": {"name": "rram", "values": {
            "voltage_v": [0.7], "clock_period_s": [1e-9], "bits_per_cell": [2, 4],
            "rows_per_array": [128, 256], "cols_per_array": [128], "router_groups": [8, 16],
            "tiles_per_group": [8, 16], "arrays_per_tile": [32], "glb_depth_words": [16384],
            **PHYSICAL_CIRCUIT}},
        "objective": {"optima": None},
        "algorithm": {"name": "ga", "phases": [{"pop_size": 10, "n_gen": 3}]},
        "precision": {"accuracy": str(TABLE), "min_accuracy": {"resnet18": 69.0}},
        "top_k": 3})
    res = run_search(cfg)
    paths = write_results(res, tmp_path)
    best = json.loads(paths["best"].read_text())["best"][0]
    assert best["workloads"]["resnet18"]["accuracy"] >= 69.0
    assert "|resnet18=w" in best["key"] and best["cost_usd"] > 0
    import pandas as pd
    df = pd.read_csv(paths["kept"])
    for col in ("weight_bits.resnet18", "accuracy.alexnet", "psum_bits_lost.resnet18",
                "cost_usd"):
        assert col in df.columns
    assert res.strategy.notes["precision_polish_calls"] > 0
    # what the knobs buy on each best chip: EDAP at its precision / the same chip at 8 bits
    for b in json.loads(paths["best"].read_text())["best"]:
        hw = {k: v for k, v in b["parameters"].items() if "." not in k}
        for net in NETS:
            rec = b["workloads"][net]
            fixed = imcopt_evaluate(hw, net)
            assert rec["edap_vs_fixed_software"] == pytest.approx(rec["edap_j_s_mm2"] / fixed)
            if (rec["weight_bits"], rec["activation_bits"]) == (8, 8):
                assert rec["edap_vs_fixed_software"] == pytest.approx(1.0)


def imcopt_evaluate(parameters: dict, network: str) -> float:
    from imcopt import evaluate_many

    m = evaluate_many({k: [v] for k, v in parameters.items()}, [network], "rram",
                      per_layer=False)[network]
    return float(m.edap_j_s_mm2[0])


def test_distinct_rows_is_numpys_unique_by_rows():
    from imcopt.model.distinct import distinct_rows

    rng = np.random.default_rng(3)
    t = np.column_stack([rng.choice([8, 16, 64, 512], 5000), rng.choice([1, 2, 4], 5000),
                         rng.integers(1, 9, 5000)]).astype(float)
    for rows in (t, np.vstack([t, [[3.5, 1, 1]]])):  # a non-integer count too
        first, inv = distinct_rows(*rows.T)
        u0, inv0 = np.unique(rows, axis=0, return_inverse=True)
        np.testing.assert_array_equal(rows[first], u0)
        np.testing.assert_array_equal(inv, inv0.reshape(-1))


def test_mixed_precision_metrics_equal_each_design_alone():
    """Designs at different precisions are evaluated in groups and scattered back: every
    per-design total must be the one the design gets evaluated alone at its precision."""
    from imcopt.model import evaluate
    space = joint_space()
    ev = ConstrainedEvaluator(space, load_technology("rram"), [get(n) for n in NETS],
                              cache=False)
    g = space.sample(10, 3)
    d = space.decode(g)
    wb, ab = ev.precision(d, 0)
    assert len({(a, b) for a, b in zip(wb, ab, strict=True)}) > 1  # several groups
    m = ev._metrics_on(d, 0)
    for i in range(len(g)):
        one = evaluate(d.take(np.array([i])), at_precision(get(NETS[0]), int(wb[i]), int(ab[i])),
                       load_technology("rram"))
        for f in ("energy_j", "latency_s", "area_mm2", "utilization", "weight_arrays_required",
                  "executed_macs", "psum_bits_lost"):
            assert getattr(m, f)[i] == pytest.approx(getattr(one, f)[0], rel=1e-12), f
        assert m.feasible[i] == one.feasible[0] and m.reason[i] == one.reason[0]


def test_accuracy_table_names_the_row_at_fault():
    rows = [{"network": "a", "weight_bits": 8, "activation_bits": 8, "accuracy": 70},
            {"network": "a", "weight_bits": 4, "activation_bits": 8, "accuracy": "n/a"}]
    with pytest.raises(PrecisionError, match=r"t\.csv: row 2: bits must be integers"):
        AccuracyTable.from_rows(rows, "t.csv")
    with pytest.raises(PrecisionError, match=r"row 3: .* appears twice"):
        AccuracyTable.from_rows([rows[0], {**rows[1], "accuracy": 1}, rows[0]], "t.csv")


def test_joint_space_restrict_keeps_its_layout():
    """Restricting a joint space narrows hardware and software values by name; the genome
    layout (hardware first, then each network's software genes) stays."""
    space = joint_space()
    sub = space.restrict(rows_per_array=(256,), **{"weight_bits.resnet18": (4, 8)})
    assert isinstance(sub, JointSpace) and sub.names == space.names
    assert sub.technology == space.technology
    assert sub.n_hardware == space.n_hardware and sub.name == space.name + "*"
    d = sub.decode(sub.sample(30, 2))
    assert set(d["rows_per_array"]) == {256.0}
    wb, ab = d.precision("resnet18")
    assert set(wb) <= {4.0, 8.0} and set(ab) <= {6.0, 8.0}
    assert set(d.precision("alexnet")[0]) <= {4.0, 6.0, 8.0}
    assert int(np.prod(sub.cardinalities)) == int(np.prod(space.cardinalities)) // 2 * 2 // 3


def test_a_failing_accuracy_callback_is_named_with_its_error():
    from imcopt.search.precision import load_accuracy

    def my_accuracy(network, weight_bits, activation_bits):
        return 1 / 0

    acc = load_accuracy(my_accuracy)
    with pytest.raises(PrecisionError, match=r"callback .*my_accuracy raised ZeroDivisionError: "
                                             r"division by zero .*called with 'alexnet', 4, 8"):
        acc("alexnet", 4, 8)
