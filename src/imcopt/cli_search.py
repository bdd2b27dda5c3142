"""`imcopt search CONFIG.yaml --out DIR`: registered on the main app by `imcopt.cli`.

Python twin: `imcopt.search.run_search(config)` + `imcopt.search.write_results(result, out)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

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

    with search_progress(cfg, console, quiet) as show:
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
    print_best(console, result.best()[: min(5, cfg.top_k)], result.evaluator.workload_names,
               cfg.objective.aggregation, result.reference.source,
               software=cfg.precision is not None,
               title_prefix="analytical search: " if result.verification is not None else "")
    if result.verification is not None:  # the final ranking is the verifier's
        from .search.verify import console_rows

        title, headers, vrows = console_rows(result.verification, result.evaluator)
        console.print(_table(title, headers, vrows, left=(2,)))
    console.print(f"{result.evaluator.n_calls} objective calls, {result.evaluator.n_evals} "
                  f"designs evaluated, {result.wall_time_s:.1f} s; results in {out}/ "
                  f"({', '.join(p.name for p in paths.values())})")


@contextmanager
def search_progress(cfg: SearchConfig, console: Console, quiet: bool
                    ) -> Iterator[Callable[[dict], None]]:
    """A progress display for `run_search`'s on_progress hook: which search runs ("separate:
    vgg16, 2 of 5"), its phase, a bar over the planned objective calls and the time left."""
    from .hardware import get_space
    from .search.progress import Tracker, planned_searches
    from .workloads import get

    space = get_space(cfg.space.name)
    if cfg.space.values:
        space = space.restrict(**{k: tuple(v) for k, v in cfg.space.values.items()})
    names = [get(w).name for w in cfg.workloads]
    tracker = Tracker(planned_searches(cfg, space, names))
    with Progress(TextColumn("{task.description}"), BarColumn(bar_width=16),
                  TaskProgressColumn(), TimeRemainingColumn(compact=True),
                  console=console, transient=True, disable=quiet) as progress:
        task = progress.add_task(f"{cfg.strategy} / {cfg.algorithm.name}",
                                 total=tracker.total)

        def show(row: dict) -> None:
            label, done = tracker.update(row)
            best = row["best_so_far"]
            progress.update(task, completed=done, description=(
                f"{label}: {row['phase']} gen {row['generation']}, best "
                f"{best:.3g}" if np.isfinite(best) else f"{label}: {row['phase']}"))

        yield show


def print_best(console: Console, best: list[dict], names: list[str], aggregation: str,
               source: str, software: bool = False, title_prefix: str = "") -> None:
    """The best designs in 80 columns (full keys; the worst per-network loss), then the
    winner: its parameters (codes by name), area, die cost, and per network its energy,
    latency, EDAP and loss factor."""
    from .hardware.names import display
    from .losses import format_factor
    from .objectives import AGGREGATE_MEANING, aggregate_unit

    unit = aggregate_unit(aggregation, len(names))
    console.print(f"{title_prefix}best designs: {aggregation} = "
                  f"{AGGREGATE_MEANING[aggregation]} ({unit})", highlight=False)
    table = Table(box=None, padding=(0, 1))
    # keys with circuit knobs run past 80 columns: then the keys go below the numbers, one
    # per line and whole (the terminal wraps them), rather than cut in the table
    key_width = max((len(b["key"]) for b in best), default=0)
    inline = key_width + 45 <= console.width
    table.add_column("#", justify="right")
    if inline:
        table.add_column("design key", no_wrap=True)
    table.add_column(aggregation, justify="right", no_wrap=True)
    table.add_column("worst loss", justify="right", no_wrap=True)
    table.add_column("network")
    for b in best:
        fit = "infeasible" if b["fitness"] is None else f"{b['fitness']:.4g}"
        table.add_row(str(b["rank"]), *([b["key"]] if inline else []), fit,
                      format_factor(b.get("worst_network_loss_x")),
                      b.get("worst_network") or "-")
    console.print(table)
    if not inline and best:
        console.print("design keys:")
        for b in best:
            console.print(f"{b['rank']:>2} {b['key']}", soft_wrap=True, highlight=False)
    if not best:
        return
    w = best[0]
    params = "  ".join(f"{k}={display(k, v)}" for k, v in w["parameters"].items())
    console.print(f"winner {w['key']}: area {w['area_mm2']:.4g} mm2, die cost "
                  f"{w.get('cost_usd') or 0:.3g} USD" + ("" if w["feasible"] else
                                                        f"; infeasible: {w['reason']}"),
                  soft_wrap=True, highlight=False)
    console.print(params, soft_wrap=False, overflow="fold")
    loss_title = "loss: EDAP / own optimum"
    if software and all(w["workloads"][n].get("edap_vs_fixed_software") is not None
                        for n in names):
        loss_title += "; software = EDAP / same chip at 8 bits, unlimited copies"
    per = Table(title=f"winner per network ({loss_title}, {source})",
                title_justify="left", box=None, padding=(0, 1))
    for head in ("network", "energy (J)", "latency (s)", "EDAP (J s mm2)", "loss"):
        per.add_column(head, justify="left" if head == "network" else "right")
    if "software" in loss_title:
        per.add_column("software", justify="right")
    for n in names:
        m = w["workloads"][n]
        row = [n, f"{m['energy_j']:.4g}", f"{m['latency_s']:.4g}", f"{m['edap_j_s_mm2']:.4g}",
               format_factor(m.get("loss_x"))]
        if "software" in loss_title:
            row.append(f"{m['edap_vs_fixed_software']:.3g}")
        per.add_row(*row)
    console.print(per)
