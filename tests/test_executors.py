"""Executors: in-process, process pool and Dask give the in-process results; a Dask worker
killed mid-batch loses no task; a study run through Dask equals the in-process study."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from imcopt.backends import AnalyticalBackend, Delayed
from imcopt.executors import (
    DaskExecutor,
    InProcess,
    ProcessPool,
    executor_options,
    make_executor,
)
from imcopt.hardware import get_space, load_technology
from imcopt.objectives import Evaluator
from imcopt.search import load_config
from imcopt.study import Study
from imcopt.workloads import get
from test_study import TINY, _outputs

FIELDS = ("energy_j", "latency_s", "area_mm2", "capacity_ok", "capacity_violation", "reason")
STUDY = {**TINY, "methods": ["ga", "exhaustive"],
         "aggregations": ["max"], "seeds": [1], "cache": True}


def _setup():
    return get_space("rram"), load_technology("rram"), [get("resnet18"), get("alexnet")]


def _same(a, b) -> None:
    for f in FIELDS:
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


def test_process_pool_equals_in_process() -> None:
    space, tech, wls = _setup()
    g = space.sample(300, 7)
    want = Evaluator(space, tech, wls).evaluate(g)
    with ProcessPool(2) as pool:
        ev = Evaluator(space, tech, wls, executor=pool)
        _same(want, ev.evaluate(g))
        assert ev.n_evals == len(np.unique(g, axis=0))
    with InProcess() as ex:
        _same(want, Evaluator(space, tech, wls, executor=ex).evaluate(g))


def test_executor_options_and_config_errors() -> None:
    assert executor_options(None, 2, None) == {"kind": "dask", "workers": 2}
    assert executor_options("tcp://h:1", None, None) == {"kind": "dask",
                                                         "scheduler": "tcp://h:1"}
    with pytest.raises(ValueError, match="--scheduler and --dask-workers"):
        executor_options("tcp://h:1", 2, None)
    with pytest.raises(ValueError, match=r"executor: .*needs either scheduler"):
        load_config({"executor": {"kind": "dask"}})
    with pytest.raises(ValueError, match=r"executor\.workers"):
        load_config({"executor": {"kind": "processes", "workers": 0}})
    assert isinstance(make_executor(None), InProcess)


@pytest.fixture(scope="module")
def dask2():
    pytest.importorskip("distributed")
    with make_executor({"kind": "dask", "workers": 2}) as ex:
        yield ex


def test_dask_equals_in_process(dask2) -> None:
    space, tech, wls = _setup()
    g = space.sample(500, 11)
    assert dask2.workers == 2
    _same(Evaluator(space, tech, wls).evaluate(g),
          Evaluator(space, tech, wls, executor=dask2).evaluate(g))


def test_dask_killed_worker_tasks_are_retried(dask2) -> None:
    space, tech, wls = _setup()
    g = space.sample(64, 13)
    want = Evaluator(space, tech, wls).evaluate(g)
    slow = Evaluator(space, tech, wls, backend=Delayed(AnalyticalBackend(), 0.04),
                     executor=dask2)
    pids = dask2.client.run(os.getpid)  # {worker address: pid}
    got: list = []
    run = threading.Thread(target=lambda: got.append(slow.evaluate(g)))
    run.start()  # 16 tasks of 4 designs x 0.04 s on 2 workers: ~1.3 s
    time.sleep(0.5)
    assert run.is_alive()  # mid-batch: both workers are busy
    os.kill(sorted(pids.values())[0], signal.SIGKILL)  # its nanny starts a new one
    run.join(120)
    assert not run.is_alive() and got, "the batch did not finish"
    _same(want, got[0])


class Counting:
    """An executor that counts the tasks it hands to another."""

    def __init__(self, inner) -> None:
        self.inner, self.workers, self.tasks = inner, inner.workers, 0

    def map(self, fn, items):
        self.tasks += len(items)
        return self.inner.map(fn, items)

    def close(self) -> None:
        pass


def test_study_through_dask_equals_in_process(dask2, tmp_path: Path) -> None:
    Study(STUDY, tmp_path / "local").run()
    dask = Counting(dask2)
    Study(STUDY, tmp_path / "dask", executor=dask).run()
    assert dask.tasks > 50  # the model ran on the Dask workers
    assert _outputs(tmp_path / "local") == _outputs(tmp_path / "dask")
    assert (tmp_path / "dask" / "evaluations.sqlite").is_file()


def test_scheduler_address_from_the_api_and_the_cli(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    import logging

    import yaml
    from typer.testing import CliRunner

    from imcopt.cli import app

    space, tech, wls = _setup()
    g = space.sample(200, 17)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                  silence_logs=logging.ERROR) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        with make_executor({"kind": "dask", "scheduler": address}) as ex:
            _same(Evaluator(space, tech, wls).evaluate(g),
                  Evaluator(space, tech, wls, executor=ex).evaluate(g))
        cfg = tmp_path / "c.yaml"
        cfg.write_text(yaml.safe_dump({
            "workloads": ["resnet18", "alexnet"], "objective": {"optima": None},
            "space": {"name": "rram", "values": TINY["space_values"]["rram"]},
            "algorithm": {"name": "ga", "phases": [{"pop_size": 8, "n_gen": 2}]}}))
        runs = {}
        for name, extra in (("local", []), ("dask", ["--scheduler", address])):
            r = CliRunner().invoke(app, ["search", str(cfg), "--out", str(tmp_path / name),
                                         "--quiet", *extra])
            assert r.exit_code == 0, r.output
            runs[name] = (tmp_path / name / "kept_designs.csv.gz").read_bytes()
        assert runs["local"] == runs["dask"]
    with pytest.raises(ValueError, match=f"--scheduler {address}: cannot connect"):
        DaskExecutor(address, connect_timeout_s=1)  # the cluster is gone
