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
         "top10_overlap": "top-10", "model_infeasible": "infeasible"}


def summary_table(title: str, summary: pd.DataFrame) -> Any:
    cols = ["technology", "workload", "designs", *SHORT]
    rows = [[r[c] if not (isinstance(r[c], float) and r[c] != r[c]) else "-" for c in cols]
            for _, r in summary.iterrows()]
    return _table(title, ["tech", "workload", "designs", *SHORT.values()], rows, left=(0, 1))


@app.command("validate")
def validate_cmd(
    reference: RefOpt,
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
    """Rank correlation, log error and top-10 overlap of the model vs a reference file."""
    from .validation import validate, write_outputs

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
    max_evaluations: Annotated[int, typer.Option(
        "--max-evaluations", help="Least-squares iterations (each costs one model run per "
        "constant).")] = 40,
) -> None:
    """Fit each technology's named constants to a reference file; report fit and held-out."""
    from .calibration import calibrate

    if not 0.0 <= held_out < 1.0:
        raise ValueError(f"--held-out {held_out} must be in [0, 1)")
    if max_evaluations < 1:
        raise ValueError(f"--max-evaluations {max_evaluations} must be >= 1")
    folder = folder_option(out)
    names = tech or ["rram", "sram"]
    for name in names:
        load_technology(name)  # unknown names fail here, before any work
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
