"""The cost model on PyTorch tensors (CPU, and CUDA when present) equals the numpy model."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from imcopt import evaluate as api_evaluate
from imcopt.cli import app
from imcopt.hardware import Designs, get_space, load_technology
from imcopt.model import area_mm2, evaluate
from imcopt.model import xp as xp_module
from imcopt.model.xp import DeviceError, array_namespace, namespace, to_numpy
from imcopt.objectives import Evaluator, Objective
from imcopt.search import exhaustive
from imcopt.workloads import get

torch = pytest.importorskip("torch")

RTOL = 1e-9  # float64 on both sides: measured agreement ~1e-15
WORKLOADS = ("resnet18", "mobilenet_v3", "vision_transformer")  # convs, depthwise, matmuls
# (technology, settings, designs): both default technologies on 10,000 designs, variants on fewer
SETTINGS = [("rram", {}, 10_000), ("sram", {}, 10_000), ("rram", {"assumptions": "cimloop"}, 2000),
            ("sram", {"matmul_policy": "exclude"}, 2000),
            ("rram", {"matmul_policy": "in_array"}, 2000)]
ARRAYS = ("energy_j", "latency_s", "area_mm2", "utilization", "weight_arrays_required",
          "executed_macs", "layer_energy_j", "layer_latency_s", "cell_writes_per_inference")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


def assert_same(a, b) -> None:
    for name in ARRAYS:
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=RTOL, atol=0,
                                   err_msg=name)
    for parts in ("energy_breakdown_j", "area_breakdown_mm2"):
        pa, pb = getattr(a, parts), getattr(b, parts)
        assert pa.keys() == pb.keys()
        for k in pa:
            np.testing.assert_allclose(pb[k], pa[k], rtol=RTOL, atol=1e-30, err_msg=k)
    np.testing.assert_array_equal(b.feasible, a.feasible)
    np.testing.assert_array_equal(b.reason, a.reason)
    for name in ARRAYS:  # the host results are plain numpy
        assert type(getattr(b, name)) is np.ndarray


def random_designs(tech: str, n: int = 10_000, seed: int = 3) -> Designs:
    space = get_space(tech)
    return space.decode(space.sample(n, seed))


@pytest.mark.parametrize(("tech", "settings", "n"), SETTINGS)
def test_torch_cpu_equals_numpy_on_10000_random_designs(tech, settings, n):
    technology = load_technology(tech)
    if settings:
        technology = technology.with_settings(**settings)
    designs = random_designs(tech, n)
    for w in WORKLOADS:
        wl = get(w)
        a = evaluate(designs, wl, technology)
        b = evaluate(designs, wl, technology, device="cpu")
        assert_same(a, b)
        if tech == "rram" and not settings:  # the sample covers both outcomes
            assert 0 < a.feasible.sum() < len(designs)


def test_model_functions_follow_their_arguments_namespace():
    designs = random_designs("rram", 100)
    on_torch = Designs({k: torch.as_tensor(v) for k, v in designs.values.items()}, designs.n)
    tech = load_technology("rram")
    parts = area_mm2(on_torch, tech)
    assert all(isinstance(v, torch.Tensor) for v in parts.values())
    for k, v in area_mm2(designs, tech).items():
        np.testing.assert_allclose(to_numpy(parts[k]), v, rtol=RTOL)
    assert array_namespace(np.ones(2), 1.0) is np
    assert array_namespace(1.0, torch.ones(2)) is namespace("cpu")
    # numpy's concatenate on tensors, along the axis asked (not only the first)
    xp = namespace("cpu")
    a, b = np.arange(6.0).reshape(2, 3), np.arange(4.0).reshape(2, 2)
    np.testing.assert_array_equal(to_numpy(xp.concatenate([torch.as_tensor(a),
                                                           torch.as_tensor(b)], axis=1)),
                                  np.concatenate([a, b], axis=1))


def test_api_evaluator_and_exhaustive_take_a_device():
    a = api_evaluate(random_designs("sram", 500), "alexnet", "sram")
    b = api_evaluate(random_designs("sram", 500), "alexnet", "sram", device="cpu")
    assert_same(a, b)
    space = get_space("rram").restrict(voltage_v=(0.6, 0.8), clock_period_s=(1e-9,),
                                       glb_depth_words=(4096,), arrays_per_tile=(16, 64),
                                       router_groups=(4, 16), parallel_rows=(16,),
                                       adc_bits=(6, 8), cols_per_adc=(4,), dac_bits=(1,),
                                       adc_type=(1,))
    results = []
    for device in ("numpy", "cpu"):
        ev = Evaluator(space, load_technology("rram"), [get("alexnet"), get("resnet18")],
                       device=device)
        g = space.sample(300, 5)
        results.append((ev.evaluate(g), exhaustive(ev, Objective("max"), keep=20,
                                                   per_workload=True)))
    (e0, x0), (e1, x1) = results
    np.testing.assert_allclose(e1.energy_j, e0.energy_j, rtol=RTOL)
    np.testing.assert_allclose(e1.latency_s, e0.latency_s, rtol=RTOL)
    np.testing.assert_array_equal(e1.reason, e0.reason)
    np.testing.assert_array_equal(x1.best.genomes, x0.best.genomes)
    np.testing.assert_allclose(x1.optima, x0.optima, rtol=RTOL)
    assert x0.n_evaluated == x1.n_evaluated > 0


def test_cli_evaluate_device_cpu_matches_numpy():
    runner = CliRunner()
    docs = []
    for device in ("numpy", "cpu"):
        out = runner.invoke(app, ["evaluate", "-w", "alexnet", "--device", device, "--json"])
        assert out.exit_code == 0, out.output
        docs.append(json.loads(out.stdout)["workloads"]["alexnet"]["totals"])
    for k in ("energy_j", "latency_s", "area_mm2"):
        assert docs[1][k] == pytest.approx(docs[0][k], rel=RTOL)


def test_bad_device_errors_name_the_option_and_values(monkeypatch):
    with pytest.raises(DeviceError, match=r"device 'gpu' is not one of numpy, cpu, cuda"):
        namespace("gpu")
    with pytest.raises(DeviceError, match="device 'gpu'"):
        Evaluator(get_space("rram"), load_technology("rram"), [get("alexnet")], device="gpu")
    out = CliRunner().invoke(app, ["evaluate", "--device", "tpu"])
    assert out.exit_code == 2 and "device 'tpu' is not one of" in out.output
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no CUDA GPU"):
            namespace("cuda")
    # torch not installed: a clear error, not an ImportError
    monkeypatch.setattr(xp_module, "_TORCH_NAMESPACES", {})
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(DeviceError, match="needs PyTorch"):
        namespace("cpu")


@cuda
@pytest.mark.parametrize(("tech", "settings", "n"), SETTINGS[:2])
def test_cuda_equals_numpy(tech, settings, n):
    technology = load_technology(tech)
    designs = random_designs(tech, n)
    for w in WORKLOADS:
        wl = get(w)
        assert_same(evaluate(designs, wl, technology), evaluate(designs, wl, technology,
                                                                 device="cuda"))


def test_cli_search_exhaustive_on_device_cpu_matches_numpy(tmp_path):
    import yaml

    config = {"technology": "sram", "workloads": ["alexnet", "resnet18"],
              "space": {"name": "sram", "values": {"voltage_v": [0.6, 0.8],
                                                   "clock_period_s": [1e-9],
                                                   "glb_depth_words": [4096, 16384],
                                                   # array size and circuit knobs at two
                                                   # values each: 0.13 M designs, not 38 M
                                                   "rows_per_array": [64, 256],
                                                   "cols_per_array": [64, 256],
                                                   "parallel_rows": [16, 64],
                                                   "adc_bits": [6, 8], "cols_per_adc": [4, 16],
                                                   "dac_bits": [1, 2]}},
              "objective": {"optima": None}, "algorithm": {"name": "exhaustive"}}
    path = tmp_path / "search.yaml"
    path.write_text(yaml.safe_dump(config))
    tables = []
    for device in ("numpy", "cpu"):
        out = CliRunner().invoke(app, ["search", str(path), "--out", str(tmp_path / device),
                                       "--quiet", "--device", device])
        assert out.exit_code == 0, out.output
        tables.append((tmp_path / device / "best.json").read_text())
    a, b = (json.loads(t)["best"] for t in tables)
    assert [r["key"] for r in a] == [r["key"] for r in b] and len(a) == 10
    for ra, rb in zip(a, b, strict=True):
        assert rb["fitness"] == pytest.approx(ra["fitness"], rel=RTOL)


@pytest.mark.parametrize("tech", ["rram", "sram"])
def test_torch_agrees_with_numpy_on_the_node_adc_and_memory_knobs(tech):
    space = get_space(tech).restrict(technology_node_nm=(7, 14, 22, 32, 45, 65),
                                     adc_bits=(3, 5, 8), adc_type=(1, 2),
                                     offchip_memory=(1, 2, 3, 4))
    designs = space.decode(space.sample(2000, 5))
    technology = load_technology(tech)
    for w in ("resnet18", "vision_transformer"):
        assert_same(evaluate(designs, get(w), technology),
                    evaluate(designs, get(w), technology, device="cpu"))


def test_the_device_holds_through_the_cache_and_executor_path(tmp_path, monkeypatch):
    # `imcopt search --out` keeps a persistent cache, so the model runs behind the backend
    # interface: it must still run on the evaluator's device
    from imcopt import failures
    from imcopt.objectives import Evaluator

    seen = []
    real = failures.evaluate

    def spy(*args, device="numpy", **kwargs):
        seen.append(device)
        return real(*args, device=device, **kwargs)

    monkeypatch.setattr(failures, "evaluate", spy)
    space = get_space("rram")
    ev = Evaluator(space, load_technology("rram"), [get("alexnet")], device="cpu",
                   cache_file=tmp_path / "evaluations.sqlite")
    got = ev.evaluate(space.sample(50, 1))
    assert seen and set(seen) == {"cpu"}
    ref = Evaluator(space, load_technology("rram"), [get("alexnet")]).evaluate(
        space.sample(50, 1))
    np.testing.assert_allclose(got.energy_j, ref.energy_j, rtol=RTOL)


def test_study_on_device_cpu_gives_the_numpy_study(tmp_path, monkeypatch):
    import json

    from imcopt import failures
    from imcopt.study import Study
    from test_study import TINY

    Study(TINY, tmp_path / "np").run()
    seen, real = set(), failures.evaluate

    def spy(*args, device="numpy", **kwargs):
        seen.add(device)
        return real(*args, device=device, **kwargs)

    monkeypatch.setattr(failures, "evaluate", spy)
    Study(TINY, tmp_path / "torch", device="cpu").run()
    assert seen == {"cpu"}
    a, b = (json.loads((tmp_path / d / "study.json").read_text())["completed"]
            for d in ("np", "torch"))
    assert a.keys() == b.keys()
    for cell in a:
        fa, fb = a[cell]["best_fitness"], b[cell]["best_fitness"]
        assert (fa is None) == (fb is None)
        if fa is not None:
            assert fb == pytest.approx(fa, rel=RTOL)
