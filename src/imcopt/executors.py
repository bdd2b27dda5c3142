"""Executors: where batches of evaluation tasks run.

Every executor has `workers` (how many tasks run at once) and `map(fn, items) -> list` (results
in item order; `fn` and the items must pickle for the pool and Dask), `close()`, and works as a
context manager.

| executor | config | what |
| --- | --- | --- |
| `InProcess` | `kind: inprocess` (default) | runs the tasks here, one after another |
| `ProcessPool` | `kind: processes, workers: N` | a local pool of N processes |
| `DaskExecutor` | `kind: dask, scheduler: tcp://HOST:PORT` | a Dask distributed cluster |
|  | `kind: dask, workers: N` | a local Dask cluster of N worker processes |

Dask (the `dask` extra) is imported only when a Dask executor is made. A Dask worker that dies
mid-batch loses nothing: the scheduler re-runs its tasks on the other workers (up to
`distributed.scheduler.allowed-failures` times per task).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

KINDS = ("inprocess", "processes", "dask")


class Executor(Protocol):
    workers: int

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]: ...

    def close(self) -> None: ...


class _Closing:
    def close(self) -> None:
        pass

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcess(_Closing):
    workers = 1

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return [fn(x) for x in items]


class ProcessPool(_Closing):
    """A local process pool (spawned processes, started on first use)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"executor.workers: must be >= 1, got {workers}")
        self.workers = workers
        self._pool: Any = None

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("spawn"))
        return list(self._pool.map(fn, items))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


class DaskExecutor(_Closing):
    """Dask distributed: an existing cluster (`scheduler` address) or a local cluster of
    `workers` single-threaded worker processes on the loopback interface."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 processes: bool = True, connect_timeout_s: float = 20.0) -> None:
        if (scheduler is None) == (workers is None):
            raise ValueError("executor: give either scheduler (tcp://HOST:PORT) or workers "
                             "(a local Dask cluster), not both")
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("executor 'dask' needs the dask extra: "
                             "pip install 'imcopt[dask]'") from None
        import logging

        self.cluster = None
        if scheduler is not None:
            try:
                self.client = Client(scheduler, timeout=f"{connect_timeout_s}s")
            except OSError as exc:
                raise ValueError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                        processes=processes, host="127.0.0.1",
                                        dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
            self.client = Client(self.cluster)

    @property
    def workers(self) -> int:  # type: ignore[override]
        return max(1, len(self.client.scheduler_info()["workers"]))

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        futures = self.client.map(fn, list(items), pure=False)
        return self.client.gather(futures)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class ExecutorConfig(BaseModel):
    """`executor:` of a search or study config (how evaluations run, not what they give)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["inprocess", "processes", "dask"] = "inprocess"
    workers: int | None = Field(None, ge=1)  # processes, or a local Dask cluster
    scheduler: str | None = None  # dask: tcp://HOST:PORT of a running scheduler

    @model_validator(mode="after")
    def _check(self) -> ExecutorConfig:
        if self.kind == "processes" and self.workers is None:
            raise ValueError("executor 'processes' needs workers: N")
        if self.kind == "dask" and (self.workers is None) == (self.scheduler is None):
            raise ValueError("executor 'dask' needs either scheduler: tcp://HOST:PORT or "
                             "workers: N (a local cluster)")
        if self.kind != "dask" and self.scheduler is not None:
            raise ValueError("scheduler: only for kind 'dask'")
        return self


def make_executor(spec: ExecutorConfig | dict | Executor | None = None) -> Executor:
    """An executor from its config (None: in-process)."""
    if spec is None:
        return InProcess()
    if isinstance(spec, dict):
        spec = ExecutorConfig.model_validate(spec)
    if not isinstance(spec, ExecutorConfig):
        return spec
    if spec.kind == "processes":
        return ProcessPool(int(spec.workers or 1))
    if spec.kind == "dask":
        return DaskExecutor(spec.scheduler, spec.workers)
    return InProcess()


def describe(executor: Executor | None) -> dict:
    """What ran the evaluations, for run.json: {"kind": ..., "workers": N} (plus the Dask
    scheduler's address when one was given)."""
    if executor is None or isinstance(executor, InProcess):
        return {"kind": "inprocess", "workers": 1}
    if isinstance(executor, ProcessPool):
        return {"kind": "processes", "workers": executor.workers}
    if isinstance(executor, DaskExecutor):
        out: dict = {"kind": "dask", "workers": executor.workers}
        if executor.cluster is None:
            out["scheduler"] = str(executor.client.scheduler.address)
        return out
    return {"kind": type(executor).__name__, "workers": int(getattr(executor, "workers", 1))}


def executor_options(scheduler: str | None, dask_workers: int | None,
                     processes: int | None) -> dict | None:
    """The CLI's --scheduler / --dask-workers / --processes as an executor config (None when
    none is given)."""
    given = [o for o, v in (("--scheduler", scheduler), ("--dask-workers", dask_workers),
                            ("--processes", processes)) if v is not None]
    if len(given) > 1:
        raise ValueError(f"{given[0]} and {given[1]}: give at most one of them")
    if scheduler is not None:
        return {"kind": "dask", "scheduler": scheduler}
    if dask_workers is not None:
        return {"kind": "dask", "workers": dask_workers}
    if processes is not None:
        return {"kind": "processes", "workers": processes}
    return None
