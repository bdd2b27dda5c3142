"""Options shared by `imcopt search` and `imcopt study`: where evaluations run (executor) and
what answers them (backend). See docs/scale.md."""

from __future__ import annotations

from typing import Annotated

import typer

Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", help="Evaluate on a running Dask cluster: tcp://HOST:PORT (needs the dask "
    "extra; workers need imcopt installed).")]
DaskWorkers = Annotated[int | None, typer.Option(
    "--dask-workers", min=1, help="Evaluate on a local Dask cluster of N worker processes.")]
Processes = Annotated[int | None, typer.Option(
    "--processes", min=1, help="Evaluate on a local pool of N processes.")]
BackendOpt = Annotated[str | None, typer.Option(
    "--backend", help="What evaluates designs: analytical (default), replay:TABLE.csv[.gz] "
    "(recorded results; other designs are 'not recorded'), or 'subprocess:COMMAND ARGS' "
    "(an external simulator per design and workload). Overrides the config's backend.")]
SaveAll = Annotated[bool, typer.Option(
    "--save-all", help="Also write every evaluated design (designs.parquet; by default a run "
    "keeps its top designs, the energy-latency-area fronts and each workload's best).")]
NoCache = Annotated[bool, typer.Option(
    "--no-cache", help="Do not keep evaluations in OUT/evaluations.sqlite.")]


def overrides(scheduler: str | None, dask_workers: int | None, processes: int | None,
              backend: str | None, no_cache: bool) -> dict:
    """Config settings the options ask for ({} when none)."""
    from .backends import parse_backend_option
    from .executors import executor_options

    out: dict = {}
    executor = executor_options(scheduler, dask_workers, processes)
    if executor is not None:
        out["executor"] = executor
    if backend is not None:
        out["backend"] = parse_backend_option(backend)
    if no_cache:
        out["cache"] = False
    return out
