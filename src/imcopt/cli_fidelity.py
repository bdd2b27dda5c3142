"""`imcopt validate` and `imcopt calibrate`: the model against recorded simulator numbers.

Registered on the main app by `imcopt.cli`; Python twins: `imcopt.validation.validate` and
`imcopt.calibration.calibrate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .cli import _console, _echo_json, _table, app, folder_option
from .hardware import ASSUMPTIONS, load_technology, save_technology
from .storage import write_csv

if TYPE_CHECKING:
    import pandas as pd

RefOpt = Annotated[Path, typer.Option(
    "--reference", help="Results in the CiMLoop reference CSV format (.csv or .csv.gz).")]
LayersOpt = Annotated[Path | None, typer.Option(
    "--layers", help="Layer table the reference used (workload_layers.csv format); networks "
    "not in it come from the zoo (its *_cimloop variant first).")]

SHORT = {"spearman_energy_j": "rho E", "spearman_latency_s": "rho L",
         "spearman_area_mm2": "rho A", "spearman_edap_j_s_mm2": "rho EDAP",
         "median_abs_log10_energy_j": "|log10| E", "median_abs_log10_latency_s": "|log10| L",
         "median_abs_log10_area_mm2": "|log10| A", "median_abs_log10_edap_j_s_mm2": "|log10| EDAP",
         "top10_overlap": "top-10", "pick_excess_edap": "pick +EDAP",
         "model_infeasible": "infeasible"}


def summary_table(title: str, summary: pd.DataFrame) -> Any:
    cols = ["technology", "workload", "designs", *SHORT]
    rows = [[r[c] if not (isinstance(r[c], float) and r[c] != r[c]) else "-" for c in cols]
            for _, r in summary.iterrows()]
    return _table(title, ["tech", "workload", "designs", *SHORT.values()], rows, left=(0, 1))


AGAINST = ("neurosim", "macros")


def against_table(title: str, rows: list[dict]) -> Any:
    def ok(r: dict) -> str:
        return "-" if r["ok"] is None else ("yes" if r["ok"] else "NO")

    return _table(title, ["case", "metric", "model", "published", "ratio", "bound", "ok"],
                  [[r["case"], r["metric"], f"{r['model']:.4g}", f"{r['published']:.4g}",
                    f"x{r['ratio']:.2f}", f"{r['bound']:g}" if r["bound"] else "-", ok(r)]
                   for r in rows], left=(0, 1))


def _against(name: str, as_json: bool) -> None:
    from . import anchors

    if name not in AGAINST:
        raise ValueError(f"--against {name!r} is not one of {', '.join(AGAINST)}")
    rows = anchors.against_neurosim() if name == "neurosim" else anchors.against_macros()
    if as_json:
        _echo_json(rows)
        return
    _console().print(against_table(f"imcopt ({name})", rows))
    typer.echo(anchors.summary(rows))


@app.command("validate")
def validate_cmd(
    reference: Annotated[Path | None, typer.Option(
        "--reference", help="Results in the CiMLoop reference CSV format (.csv or .csv.gz).")
    ] = None,
    against: Annotated[str | None, typer.Option(
        "--against", help=f"Instead of a reference file, published data nobody fitted: "
        f"{' or '.join(AGAINST)} (NeuroSim V1.4's VGG-8 chip table; silicon CIM macros).")
    ] = None,
    layers: LayersOpt = None,
    out: Annotated[str, typer.Option("--out", help="Folder for summary.csv, rows.csv.gz and "
                                     "the scatter PNGs.")] = "validation",
    assumptions: Annotated[str, typer.Option(
        "--assumptions", help=f"One of {', '.join(ASSUMPTIONS)}: the reference's set-up "
        "(default) or imcopt's own.")] = "cimloop",
    node_nm: Annotated[float, typer.Option(
        "--node-nm", help="Only rows at this technology node (the model's constants are for "
        "32 nm).")] = 32,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Rank correlation, log error and top-10 overlap of the model vs a reference file; or,
    with --against, the model against published chips (one JSON row per comparison:
    case, metric, model, published, ratio = model / published)."""
    from .validation import validate, write_outputs

    if against is not None:
        _against(against, as_json)
        return
    if reference is None:
        raise ValueError("validate needs --reference FILE (a CiMLoop-format results file) or "
                         f"--against {' or '.join(AGAINST)}")

    if assumptions not in ASSUMPTIONS:
        raise ValueError(f"--assumptions {assumptions!r} is not one of {', '.join(ASSUMPTIONS)}")
    folder = folder_option(out)
    result = validate(reference, layers, node_nm=node_nm, assumptions=assumptions)
    written = write_outputs(result, folder)
    if as_json:
        _echo_json({"summary": result.summary.to_dict(orient="records"),
                    "missing_workloads": result.missing_workloads,
                    "skipped_rows": result.skipped_rows, "files": [str(p) for p in written]})
        return
    console = _console()
    console.print(summary_table(f"imcopt vs {reference.name} ({assumptions} assumptions)",
                                result.summary))
    if result.missing_workloads:
        typer.echo(f"workloads not found (rows skipped): {', '.join(result.missing_workloads)}",
                   err=True)
    if result.skipped_rows:
        typer.echo(f"{result.skipped_rows} rows at other technology nodes skipped", err=True)
    typer.echo(f"wrote {len(written)} files to {folder}")


@app.command("calibrate")
def calibrate_cmd(
    reference: RefOpt,
    layers: LayersOpt = None,
    tech: Annotated[list[str] | None, typer.Option(
        "--tech", help="Technology to fit (repeatable). Default: rram and sram.")] = None,
    write: Annotated[bool, typer.Option(
        "--write", help="Rewrite the built-in constants tables with the fit.")] = False,
    out: Annotated[str, typer.Option("--out", help="Folder for the fitted tables and the "
                                     "fit / held-out summaries.")] = "calibration",
    held_out: Annotated[float, typer.Option(
        "--held-out", help="Fraction of designs held out of the fit (by key hash).")] = 0.2,
    max_evaluations: Annotated[int | None, typer.Option(
        "--max-evaluations", help="Least-squares iterations (each costs one model run per "
        "constant). Default: 40, or 8 per fold with --cv.")] = None,
    cv: Annotated[str | None, typer.Option(
        "--cv", help="Cross-validate instead of fitting the tables: 'networks' (fit on all "
        "networks but one, score it, for each) or 'chip_size' (fit on the smaller chips, "
        "score the largest fifth). Each fold starts from the sourced constants.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="With --cv: print the scored rows as one JSON list.")] = False,
) -> None:
    """Fit each technology's named constants to a reference file; report fit and held-out
    (or, with --cv, the out-of-sample agreement of fits that did not see the scored rows)."""
    from .calibration import calibrate

    if not 0.0 <= held_out < 1.0:
        raise ValueError(f"--held-out {held_out} must be in [0, 1)")
    if max_evaluations is not None and max_evaluations < 1:
        raise ValueError(f"--max-evaluations {max_evaluations} must be >= 1")
    names = tech or ["rram", "sram"]
    for name in names:
        load_technology(name)  # unknown names fail here, before any work
    if cv is not None:
        _cross_validate(reference, layers, names, cv, max_evaluations or 8, out, as_json)
        return
    max_evaluations = max_evaluations or 40
    folder = folder_option(out)
    results = calibrate(reference, layers, names, write=write, held_out_fraction=held_out,
                        max_evaluations=max_evaluations, progress=lambda m: typer.echo(m))
    folder.mkdir(parents=True, exist_ok=True)
    console = _console()
    for name, res in results.items():
        save_technology(res.technology, folder / f"{name}.yaml")
        write_csv(folder / f"{name}_fit_summary.csv", res.fit_summary)
        write_csv(folder / f"{name}_held_out_summary.csv", res.held_out_summary)
        console.print(summary_table(f"{name}: fitted designs", res.fit_summary))
        console.print(summary_table(f"{name}: held-out designs", res.held_out_summary))
    where = "the built-in tables and " if write else ""
    typer.echo(f"wrote the fitted constants to {where}{folder}")


CV_SHORT = {"rho_energy_j": "rho E", "rho_latency_s": "rho L", "rho_area_mm2": "rho A",
            "rho_edap": "rho EDAP", "median_abs_log10_energy_j": "|log10| E",
            "top10_overlap": "top-10", "pick_excess_edap": "pick +EDAP",
            "free_constants": "free k", "aic": "AIC"}


def _cross_validate(reference: Path, layers: Path | None, names: list[str], by: str,
                    max_evaluations: int, out: str, as_json: bool) -> None:
    from .crossval import CV_KINDS, cross_validate

    if by not in CV_KINDS:
        raise ValueError(f"--cv {by!r} is not one of {', '.join(CV_KINDS)}")
    folder = folder_option(out)
    say = (lambda m: typer.echo(m, err=True)) if as_json else typer.echo
    rows = cross_validate(reference, layers, names, by, max_evaluations, progress=say)
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / f"cv_{by}.csv", rows)
    if as_json:
        _echo_json(rows.to_dict(orient="records"))
        return

    def cell(v: object) -> object:
        return f"{v:.3f}" if isinstance(v, float) else v

    _console().print(_table(
        f"cross-validation by {by} (scored rows never fitted)",
        ["tech", "fold", "workload", "designs", *CV_SHORT.values()],
        [[cell(r[c]) for c in ("technology", "fold", "workload", "designs", *CV_SHORT)]
         for _, r in rows.iterrows()], left=(0, 1, 2)))
    typer.echo(f"wrote {folder / f'cv_{by}.csv'}")
