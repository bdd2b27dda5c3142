"""`imcopt study run STUDY.yaml --out DIR`, `imcopt study resume DIR`, `imcopt report DIR`.

Python twins: `imcopt.Study(config, out).run()`, `imcopt.Study.open(out).run()`,
`imcopt.report.build_report(out)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from . import cli_scale
from .cli import DeviceOpt, _console, app, folder_option
from .cli_scale import BackendOpt, DaskWorkers, NoCache, Processes, Scheduler, overrides

study_app = typer.Typer(help="Studies: grids of searches (technologies x workload sets x "
                        "methods x aggregations x seeds), stored and resumable.",
                        no_args_is_help=True)
app.add_typer(study_app, name="study")

MaxCells = Annotated[int | None, typer.Option(
    "--max-cells", min=1, help="Stop after this many cells (continue later with `study resume`).")]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress display.")]
Jobs = Annotated[int | None, typer.Option(
    "--jobs", min=1, help="Processes running the study's (technology, workload set) groups at "
    "once (default: one per core; 1 with another executor, a device or a persistent cache).")]


def _run(study: object, max_cells: int | None, quiet: bool) -> None:
    from .study import Study

    assert isinstance(study, Study)
    console = _console()
    done0 = len(study.completed)
    with Progress(TextColumn("{task.description}"), BarColumn(bar_width=20),
                  MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(compact=True),
                  console=console, disable=quiet) as progress:
        overall = progress.add_task("cells", total=len(study.cells), completed=done0)
        current = progress.add_task("", total=None)

        def show(e: dict) -> None:
            if e["event"] == "start":
                progress.update(current, description=f"  {e['cell']}: starting")
            elif e["event"] == "progress":
                r = e["row"]
                search = str(r.get("search", "joint")).replace(":", ": ", 1)
                what = f"{search} (loss reference)" if r.get("loss_reference") else search
                progress.update(current, description=(
                    f"  {e['cell']}: {what}, {r['phase']} gen {r['generation']}"))
            else:
                progress.update(overall, completed=e["done"])

        try:
            study.run(on_event=show, max_cells=max_cells)
        except KeyboardInterrupt:  # finished cells are saved; the current one is run again
            progress.stop()
            typer.echo(f"interrupted: {len(study.completed)}/{len(study.cells)} cells done and "
                       f"kept; resume with: imcopt study resume {study.out}", err=True)
            raise typer.Exit(130) from None
        progress.update(current, visible=False)
    left = len(study.pending)
    ran = len(study.completed) - done0
    console.print(f"{ran} cells run, {len(study.completed)}/{len(study.cells)} done; results in "
                  f"{study.out}/" + (f"; {left} left: imcopt study resume {study.out}"
                                     if left else f"; report: imcopt report {study.out}"))


@study_app.command("run")
def study_run(
    config: Annotated[Path, typer.Argument(help="Study config (YAML); see examples/paper.yaml, "
                                           "examples/small_study.yaml.")],
    out: Annotated[str, typer.Option("--out", help="Study folder: one study per folder "
                                     "(finished cells there are kept; a folder holding "
                                     "another study or a search is refused, see --force).")
                   ] = "study_out",
    force: Annotated[bool, typer.Option(
        "--force", help="Replace what --out holds (another study, a search, or this study's "
        "finished cells).")] = False,
    max_cells: MaxCells = None,
    quiet: Quiet = False,
    scheduler: Scheduler = None,
    dask_workers: DaskWorkers = None,
    processes: Processes = None,
    backend: BackendOpt = None,
    no_cache: NoCache = False,
    device: DeviceOpt = "numpy",
    save_all: cli_scale.SaveAll = False,
    jobs: Jobs = None,
) -> None:
    """Run every cell of a study (finished cells in --out are kept; damaged ones run again).
    The folder is locked while the study runs."""
    from .study import Study, load_study

    extra = overrides(scheduler, dask_workers, processes, backend, no_cache)
    executor = extra.pop("executor", None)
    cfg = load_study(config)
    if extra:
        cfg = load_study({**cfg.model_dump(mode="json"), **extra})
    _run(Study(cfg, folder_option(out), executor, device, save_all=save_all, force=force,
               jobs=jobs), max_cells, quiet)


@study_app.command("resume")
def study_resume(
    out: Annotated[str, typer.Argument(help="Study folder of an interrupted study.")],
    max_cells: MaxCells = None,
    quiet: Quiet = False,
    scheduler: Scheduler = None,
    dask_workers: DaskWorkers = None,
    processes: Processes = None,
    device: DeviceOpt = "numpy",
    save_all: cli_scale.SaveAll = False,
    jobs: Jobs = None,
) -> None:
    """Continue a study: run the cells not finished yet, and those whose files are missing
    or damaged, with the same seeds (on any executor or device)."""
    from .executors import executor_options
    from .study import Study

    _run(Study.open(folder_option(out, "DIR"), executor_options(scheduler, dask_workers,
                                                                processes), device,
                    save_all=save_all, jobs=jobs), max_cells, quiet)


@app.command("report")
def report_cmd(
    out: Annotated[str, typer.Argument(
        help="Study folder (from `imcopt study run`) or search folder (from `imcopt search`).")],
) -> None:
    """Build DIR/report/index.html (figures and CSV tables) from a study's or a search's
    stored results."""
    from .report import build_report

    index = build_report(folder_option(out, "DIR"))
    _console().print(f"report: {index}")
