"""`imcopt search CONFIG.yaml --out DIR`: registered on the main app by `imcopt.cli`.

Python twin: `imcopt.search.run_search(config)` + `imcopt.search.write_results(result, out)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from . import cli_scale
from .cli import DeviceOpt, _console, _table, app, folder_option
from .cli_scale import BackendOpt, DaskWorkers, NoCache, Processes, Scheduler, overrides

if TYPE_CHECKING:
    from .search import SearchConfig


@app.command("search")
def search_cmd(
    config: Annotated[Path | None, typer.Argument(
        help="Search config (YAML); see examples/. Default: the study's RRAM 4-network joint "
        "search (four-phase GA, max aggregation, 800 mm2).")] = None,
    out: Annotated[str, typer.Option(
        "--out", help="Output folder: one search per folder. Re-running a finished search "
        "there does nothing; an interrupted one resumes; a folder holding another search or "
        "a study is refused (see --force).")] = "search_out",
    force: Annotated[bool, typer.Option(
        "--force", help="Run even though --out holds this search finished, another search "
        "or a study: imcopt's files there are replaced.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
    device: DeviceOpt = "numpy",
    scheduler: Scheduler = None,
    dask_workers: DaskWorkers = None,
    processes: Processes = None,
    backend: BackendOpt = None,
    no_cache: NoCache = False,
    save_all: cli_scale.SaveAll = False,
) -> None:
    """Search the design space for one design serving every workload (or per strategy).

    Every evaluated batch is checkpointed in --out; re-running the same command after a crash
    or Ctrl-C resumes to the identical result, and after it finished does nothing. The folder
    is locked while the search runs.
    """
    from .outdir import COMPLETE, RESUME, claim_search, locked
    from .search import load_config
    from .search.checkpoint import checkpoint_path, read_journal
    from .search.config import search_identity
    from .search.outputs import ALL

    folder = folder_option(out)
    cfg = load_config(config if config is not None else {})
    extra = overrides(scheduler, dask_workers, processes, backend, no_cache)
    if extra:
        cfg = load_config({**cfg.model_dump(mode="json"), **extra})
    console = _console()
    with locked(folder):  # one run per folder at a time
        journal = checkpoint_path(folder, cfg)
        state, why = claim_search(folder, search_identity(cfg), journal, force)
        if state == COMPLETE:
            if save_all and not (folder / ALL).exists():
                why += f"; it ran without --save-all: --force runs it again to write {ALL}"
            console.print(f"{folder}/: this search is complete ({why}); nothing to do. "
                          f"Report: imcopt report {folder}; run it again: --force")
            return
        if why:
            console.print(f"{folder}/: {why}")
        if state == RESUME:
            held = sum(len(batch) for batch in read_journal(journal))
            console.print(f"resuming from the checkpoint in {folder}/: {held} designs already "
                          "evaluated are replayed, not recomputed")
        _search(cfg, folder, journal, config, quiet, device, console, save_all)


def _search(cfg: SearchConfig, out: Path, journal: Path, config: Path | None, quiet: bool,
            device: str, console: Console, save_all: bool) -> None:
    """Run the search (checkpointed in `journal`), write `out`, print the best designs."""
    from .cache import FILE
    from .search import run_search, write_results
    from .search.checkpoint import SearchInterrupted

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True, disable=quiet) as progress:
        task = progress.add_task(f"{cfg.strategy} / {cfg.algorithm.name}", total=None)

        def show(row: dict) -> None:
            progress.update(task, description=(
                f"{cfg.strategy} / {row['phase']} gen {row['generation']}: "
                f"{row['n_calls']} calls, {row['n_evals']} designs, best {row['best_so_far']:.4g}"))

        try:
            result = run_search(cfg, on_progress=show, checkpoint=journal, device=device,
                                cache_file=out / FILE)
        except SearchInterrupted as stop:
            again = " ".join(["imcopt search", *([str(config)] if config else []),
                              f"--out {out}", *(["--save-all"] if save_all else [])])
            typer.echo(f"interrupted: {stop.n_designs} designs evaluated and kept in {journal};"
                       f" resume with: {again}", err=True)
            raise typer.Exit(130) from None
    paths = write_results(result, out, save_all=save_all)
    journal.unlink(missing_ok=True)  # the outputs are complete: the checkpoint is not needed
    best = result.best()[: min(5, cfg.top_k)]
    names = result.evaluator.workload_names
    # per workload: the loss against its own optimum, or (per-network software knobs and no
    # optima) what the knobs buy on that chip
    gain = cfg.precision is not None and all(b["workloads"][w]["loss_vs_optimum"] is None
                                             for b in best for w in names)
    column, what = (("edap_vs_fixed_software", "EDAP / same chip at 8 bits, unlimited copies")
                    if gain else ("loss_vs_optimum", "EDAP / its own optimum - 1"))
    rows = [[b["rank"], b["key"], b["fitness"] if b["fitness"] is not None else "infeasible",
             *[b["workloads"][w].get(column) if b["workloads"][w].get(column)
               is not None else "-" for w in names]] for b in best]
    console.print(_table(f"best designs ({cfg.objective.aggregation}); columns per workload: "
                         f"{what}", ["#", "design", "fitness", *names], rows, left=(1,)))
    console.print(f"{result.evaluator.n_calls} objective calls, {result.evaluator.n_evals} "
                  f"designs evaluated, {result.wall_time_s:.1f} s; results in {out}/ "
                  f"({', '.join(p.name for p in paths.values())})")
