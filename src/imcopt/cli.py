"""The `imcopt` command: thin over the library (parse the options, call it, print).

Every command has a Python twin: `imcopt evaluate` is `imcopt.evaluate_many`, `imcopt
workloads show` is `imcopt.workloads.get`, `imcopt space show` is `imcopt.get_space`.
Bad input (unknown workload, malformed design, unknown technology, ...) ends with one line
`error: <message>` on stderr and exit code 2; `imcopt --debug ...` shows the traceback.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from . import __version__
from .defaults import DEFAULT_DESIGNS
from .inputs import brief, clip
from .storage import json_safe
from .workloads import FOUR_NETWORKS, Workload, describe, get, names

if TYPE_CHECKING:  # the model and hardware load with the commands that need them
    from .hardware import Designs
    from .model import Metrics

USER_ERRORS = (ValueError, OSError)  # DesignError and WorkloadError are ValueErrors
ERROR_LINE_CHARS = 300  # the longest `error: ...` line: an input is never echoed whole
try:  # typer >= 0.16 carries its own copy of click
    from typer._click import exceptions as _click_exc
except ImportError:  # pragma: no cover
    from click import exceptions as _click_exc
_UsageError = _click_exc.UsageError
_NoArgsIsHelp = getattr(_click_exc, "NoArgsIsHelpError", ())


def error_line(message: str) -> str:
    """`error: <message>` on one line of at most ERROR_LINE_CHARS characters."""
    return clip(f"error: {message}", ERROR_LINE_CHARS)


def _usage_error(exc: Exception) -> NoReturn:
    if isinstance(exc, _NoArgsIsHelp):
        raise exc
    where = getattr(getattr(exc, "ctx", None), "command_path", None) or "imcopt"
    message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
    typer.echo(error_line(f"{clip(message, 240)} (see: {where} --help)"), err=True)
    raise typer.Exit(2) from None


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: object = None, line: str | None = None) -> None:
    """A warning as one line `warning: ...` on stderr (no source file, no code line)."""
    typer.echo(clip(f"warning: {message}", ERROR_LINE_CHARS), err=True)


class _Group(TyperGroup):
    """Turns errors from bad input into one line on stderr and exit code 2."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except _UsageError as exc:
            _usage_error(exc)

    def invoke(self, ctx: Any) -> Any:
        with warnings.catch_warnings():
            if not ctx.params.get("debug"):
                warnings.showwarning = _show_warning
            return self._invoke(ctx)

    def _invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _UsageError as exc:  # bad option or argument: one line too, not a box
            if ctx.params.get("debug"):
                raise
            _usage_error(exc)
        except KeyboardInterrupt:
            if ctx.params.get("debug"):
                raise
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:  # the reader went away (`imcopt ... --json | head`): quiet
            raise
        except USER_ERRORS as exc:
            if ctx.params.get("debug"):
                raise
            message = " ".join(str(exc).split()) or type(exc).__name__
            typer.echo(error_line(message), err=True)
            raise typer.Exit(2) from None


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False,
                  help="Design in-memory-computing DNN accelerators for many networks at once.")
workloads_app = typer.Typer(no_args_is_help=True, help="The built-in network zoo.")
space_app = typer.Typer(no_args_is_help=True, help="The study's design spaces.")
app.add_typer(workloads_app, name="workloads")
app.add_typer(space_app, name="space")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]
DeviceOpt = Annotated[str, typer.Option(
    "--device", help="Where the cost model runs: numpy (default), cpu (PyTorch on the CPU) or "
    "cuda / cuda:N (PyTorch on a GPU). Same results to 1e-6.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"imcopt {__version__}")
        raise typer.Exit


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """imcopt: in-memory-computing accelerator design across several networks."""


# ---- printing helpers -------------------------------------------------------------------
def _console() -> Console:
    # piped or captured output: wide enough that tables do not fold
    wide = sys.stdout.isatty() or "COLUMNS" in os.environ
    return Console(width=None if wide else 200, highlight=False, markup=False)


def _num(x: Any) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
           left: Sequence[int] = (0,), caption: str | None = None) -> Table:
    table = Table(title=title, caption=caption, title_justify="left")
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i in left else "right")
    for row in rows:
        table.add_row(*(_num(v) for v in row))
    return table


def _echo_json(doc: Any) -> None:
    typer.echo(json.dumps(json_safe(doc), indent=2, allow_nan=False))


def folder_option(text: str, option: str = "--out") -> Path:
    """A folder given on the command line; an empty one (`--out ''`) is an error, not the
    current directory."""
    if not text.strip():
        hint = (f"give a folder (e.g. {option} results), or {option} . for the current one"
                if option.startswith("-") else "give the folder")
        raise ValueError(f"{option}: the folder name is empty; {hint}")
    return Path(text)


# ---- workloads --------------------------------------------------------------------------
@workloads_app.command("list")
def workloads_list(as_json: JsonOpt = False) -> None:
    """Every built-in network, then the imported ones: layers, weights, MACs, description."""
    from .workloads import user_names

    rows = []
    for name in [*names(), *user_names()]:
        wl = get(name)
        rows.append({"name": name, "layers": len(wl), "weights": wl.weights, "macs": wl.macs,
                     "description": describe(name) or wl.description})
    if as_json:
        _echo_json(rows)
        return
    headers = ["name", "layers", "weights", "MACs", "description"]
    _console().print(_table("built-in workloads (imcopt.workloads.names())", headers,
                            [list(r.values()) for r in rows], left=(0, 4)))


def layer_rows(wl: Workload) -> list[dict[str, Any]]:
    """One dict per layer; matmul layers (activation x activation) have no weights."""
    dims = ("N", "G", "C", "M", "R", "S", "P", "Q", "stride_h", "stride_w")
    return [
        {"index": i, "name": layer.name, "kind": layer.kind,
         **{d: getattr(layer, d) for d in dims},
         "weights": layer.weights if layer.has_weights else 0, "macs": layer.macs}
        for i, layer in enumerate(wl.layers)
    ]


@workloads_app.command("show")
def workloads_show(
    name: Annotated[str, typer.Argument(help="Zoo name, a layer-table .csv, or file.csv:net.")],
    as_json: JsonOpt = False,
) -> None:
    """A network's layers (Timeloop dimensions N G C M R S P Q, strides) and totals."""
    wl = get(name)
    rows = layer_rows(wl)
    summary = wl.summary()
    summary["description"] = summary["description"] or describe(wl.name)
    if as_json:
        _echo_json({**summary, "source": wl.source, "layer_table": rows})
        return
    headers = ["#", "name", "kind", "N", "G", "C", "M", "R", "S", "P", "Q", "stride",
               "weights", "MACs"]
    table_rows = [[r["index"], r["name"], r["kind"], *(r[d] for d in "NGCMRSPQ"),
                   f"{r['stride_h']}x{r['stride_w']}", r["weights"], r["macs"]] for r in rows]
    table = _table(f"{wl.name}: {summary['description']}", headers, table_rows, left=(1, 2),
                   caption="matmul layers multiply two activations: no weights")
    table.add_section()
    table.add_row("", "total", "", *[""] * 9, _num(wl.weights), _num(wl.macs))
    _console().print(table)


@workloads_app.command("import")
def workloads_import(
    path: Annotated[str, typer.Argument(
        help="An .onnx file, a Timeloop/CiMLoop .yaml layer file or folder of them, a "
             "layer-table .csv (file.csv:net), or a PyTorch factory model.py:function.")],
    name: Annotated[str, typer.Option("--name", help="Name to use it by in every command.")],
    input_shape: Annotated[str | None, typer.Option(
        "--input-shape", help="PyTorch only: the input shape, e.g. 1,3,224,224.")] = None,
    input_dtype: Annotated[str, typer.Option(
        "--input-dtype", help="PyTorch only: the input dtype (int64 for token ids).")
    ] = "float32",
    force: Annotated[bool, typer.Option("--force", help="Replace an import of that name.")
                     ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a network; it is saved to $IMCOPT_WORKLOADS_DIR (default ~/.imcopt/workloads)."""
    import warnings

    from .workloads import import_workload

    shape = None
    if input_shape is not None:
        try:
            shape = [int(v) for v in input_shape.split(",")]
        except ValueError:
            raise ValueError(f"--input-shape {input_shape!r} must be integers separated by "
                             "commas, e.g. 1,3,224,224") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wl, saved = import_workload(path, name, shape, overwrite=force, input_dtype=input_dtype)
    for warning in caught:
        typer.echo(f"warning: {warning.message}", err=True)
    summary = wl.summary()
    if as_json:
        _echo_json({**summary, "saved": str(saved),
                    "warnings": [str(w.message) for w in caught]})
        return
    kinds = ", ".join(f"{n} {k}" for k, n in summary["kinds"].items())
    typer.echo(f"imported {name!r}: {len(wl)} layers ({kinds}), {_num(wl.weights)} weights, "
               f"{_num(wl.macs)} MACs -> {saved}")


# ---- design spaces ----------------------------------------------------------------------
TechSpaceOpt = Annotated[str, typer.Option("--tech", help="rram, sram or sram_study4.")]


@space_app.command("show")
def space_show(tech: TechSpaceOpt = "rram", as_json: JsonOpt = False) -> None:
    """A design space: each parameter's level, unit and values (codes by name); the space
    size; the default design (`imcopt evaluate` without --design)."""
    from .api import default_design
    from .hardware import get_space
    from .hardware.names import code_names, display

    space = get_space(tech)
    params = space.describe()
    levels = {lv: list(ps) for lv, ps in space.levels().items()}
    default = default_design(space.technology)
    if as_json:
        for entry, p in zip(params, space.parameters, strict=True):
            entry["values"] = list(p.values)
            if code_names(p.name):
                entry["value_names"] = [display(p.name, v) for v in p.values]
        _echo_json({"name": space.name, "technology": space.technology, "size": space.size,
                    "fixed": dict(space.fixed), "levels": levels, "parameters": params,
                    "default_design": {"key": default.keys()[0],
                                       "parameters": default.row(0),
                                       "note": space_note(default, space.technology)}})
        return
    console = _console()
    rows = [[p["parameter"], p["level"], p["unit"], p["count"],
             " ".join(display(p["parameter"], v) for v in q.values)]
            for p, q in zip(params, space.parameters, strict=True)]
    console.print(_table(f"design space {space.name} ({space.technology})",
                         ["parameter", "level", "unit", "count", "values"], rows,
                         left=(0, 1, 2, 4)))
    console.print(f"size: {space.size:,} designs")
    console.print("levels: " + "; ".join(f"{lv}: {', '.join(ps) or '-'}"
                                         for lv, ps in levels.items()))
    for k, v in space.fixed.items():
        console.print(f"fixed: {k} = {_num(v)}")
    console.print(f"default design: {default.keys()[0]} (imcopt evaluate --tech "
                  f"{space.technology} without --design; name=value pairs change it)")
    console.print("  " + "  ".join(f"{k}={display(k, v)}" for k, v in default.row(0).items()))


# ---- evaluate ---------------------------------------------------------------------------
def parse_design(text: str, base: str | None = None) -> Designs:
    """`A_...` key, `name=value,...` pairs, or a key followed by overriding pairs (each
    parameter at most once among the pairs); pairs alone change the design key `base` (the
    technology's default design) when given."""
    from .api import as_designs
    from .hardware import PARAMETERS, DesignError
    from .hardware import parse_key as _parse_key

    parts = [p.strip() for p in text.split(",")]
    if not any(parts):
        raise DesignError("--design is empty: give a key A_... or name=value pairs (leave "
                          "--design out for the default design)")
    if not all(parts):
        raise DesignError(f"--design {brief(text)}: an empty item between commas")
    values: dict[str, float] = {}
    if parts[0].startswith("A_"):
        values.update(_parse_key(parts.pop(0)))
    elif base is not None:
        values.update(_parse_key(base))
    given: set[str] = set()
    for part in parts:
        name, sep, raw = (s.strip() for s in part.partition("="))
        if not sep:
            raise DesignError(f"--design: {brief(part)} is neither a design key A_... nor a "
                              "name=value pair (e.g. rows_per_array=512)")
        if name not in PARAMETERS:
            close = difflib.get_close_matches(name, list(PARAMETERS), n=2)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise DesignError(f"unknown parameter {brief(name)}{hint}; known: "
                              f"{', '.join(PARAMETERS)}")
        if name in given:
            raise DesignError(f"--design: {name} is given twice; give each parameter once")
        given.add(name)
        try:
            values[name] = float(raw)
        except ValueError:
            raise DesignError(f"--design: {name} = {brief(raw)} is not a number") from None
    return as_designs(values)


def space_note(design: Designs, tech: str) -> str | None:
    """Why the design lies outside the technology's default search space, if it does."""
    from .hardware import SPACES, DesignError, get_space

    if tech not in SPACES:
        return None
    space, row = get_space(tech), design.row(0)
    for name, value in space.fixed.items():
        if row[name] != value:
            return f"{name} = {_num(row[name])}, but the {space.name} space fixes it to {value}"
    try:
        space.encode(row)
    except DesignError as exc:
        return str(exc)
    return None


def _workload_doc(m: Metrics, per_layer: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "macs": m.macs,
        "totals": m.totals(0),
        "energy_breakdown_j": {k: v[0] for k, v in m.energy_breakdown_j.items()},
        "area_breakdown_mm2": {k: v[0] for k, v in m.area_breakdown_mm2.items()},
    }
    if m.cell_writes_per_inference is not None:  # lifetime null: cells never written
        doc["endurance"] = {"cell_writes_per_inference": m.cell_writes_per_inference[0],
                            "lifetime_inferences": m.lifetime_inferences[0]}
    if per_layer and m.layer_energy_j is not None and m.layer_latency_s is not None:
        doc["layers"] = [
            {"index": i, "name": n, "energy_j": m.layer_energy_j[0, i],
             "latency_s": m.layer_latency_s[0, i]} for i, n in enumerate(m.layer_names)
        ]
    return doc


TOTAL_HEADERS = {"energy_j": "energy (J)", "latency_s": "latency (s)", "area_mm2": "area (mm2)",
                 "edap_j_s_mm2": "EDAP (J*s*mm2)", "tops_per_w": "TOPS/W",
                 "tops_per_mm2": "TOPS/mm2", "utilization": "utilisation",
                 "feasible": "feasible", "reason": "reason"}


def _print_evaluation(doc: dict[str, Any], tech: str, per_layer: bool) -> None:
    from .hardware import PARAMETERS

    console = _console()
    design, wls = doc["design"], doc["workloads"]
    from .hardware.names import code_names, display

    rows = [[k, display(k, v) if code_names(k) else v, PARAMETERS[k].unit, PARAMETERS[k].level]
            for k, v in design["parameters"].items()]
    console.print(_table(f"design {design['key']} on {tech}",
                         ["parameter", "value", "unit", "level"], rows, left=(0, 2, 3)))
    totals = [[name, *(w["totals"][k] for k in TOTAL_HEADERS)] for name, w in wls.items()]
    console.print(_table(f"totals per inference on {tech}",
                         ["workload", *TOTAL_HEADERS.values()], totals, left=(0, 9)))
    for key, title, unit in (("energy_breakdown_j", "energy by component", "J"),
                             ("area_breakdown_mm2", "area by component", "mm2")):
        parts = [w[key] for w in wls.values()]
        cols = list(wls)
        if key == "area_breakdown_mm2" and all(p == parts[0] for p in parts):
            parts, cols = parts[:1], ["chip"]  # area does not depend on the workload
        rows = [[comp, *(p[comp] for p in parts)] for comp in parts[0]]
        rows.append(["total", *(sum(p.values()) for p in parts)])
        console.print(_table(f"{title} ({unit})", ["component", *(f"{c} ({unit})" for c in cols)],
                             rows))
    if per_layer:
        for name, w in wls.items():
            total = sum(r["energy_j"] for r in w["layers"]) or 1.0
            rows = [[r["index"], r["name"], r["energy_j"], r["latency_s"],
                     f"{100 * r['energy_j'] / total:.1f}"] for r in w["layers"]]
            console.print(_table(f"{name} per layer", ["#", "layer", "energy (J)", "latency (s)",
                                                        "energy share (%)"], rows, left=(1,)))


@app.command("evaluate")
def evaluate_cmd(
    tech: Annotated[str, typer.Option("--tech", help="rram, sram, or a technology .yaml file.")]
    = "rram",
    workload: Annotated[list[str] | None, typer.Option(
        "--workload", "-w", help="Zoo name, layer-table .csv or file.csv:net; repeatable. "
        f"Default: {', '.join(FOUR_NETWORKS)}.")] = None,
    design: Annotated[str | None, typer.Option(
        "--design", "-d", help="A design key (A_<V>_<bits>_<clk>_<rows>_<cols>_<groups>_<tiles>"
        "_<arrays>_<glb>) and/or name=value pairs, comma-separated; pairs alone change the "
        "technology's default design (`imcopt space show` lists it: "
        f"{', '.join(f'{k} {v}' for k, v in DEFAULT_DESIGNS.items())}).")] = None,
    as_json: JsonOpt = False,
    per_layer: Annotated[bool, typer.Option("--per-layer", help="Add per-layer tables.")] = False,
    matmul_policy: Annotated[str | None, typer.Option(
        "--matmul-policy", help="Activation x activation matmuls: digital (the technology's "
        "default), exclude, or in_array (operands written into the arrays).")] = None,
    device: DeviceOpt = "numpy",
) -> None:
    """Energy, latency, area (and their breakdowns) of one design on each workload."""
    from .api import default_design, evaluate_many
    from .hardware import load_technology

    technology = load_technology(tech)
    if matmul_policy is not None:
        technology = technology.with_settings(matmul_policy=matmul_policy)
    base = default_design(technology.name).keys()[0]
    designs = parse_design(base if design is None else design, base=base)
    metrics = evaluate_many(designs, [get(w) for w in (workload or FOUR_NETWORKS)], technology,
                            per_layer=per_layer, device=device)
    doc = {
        "technology": technology.name,
        "design": {"key": designs.keys()[0], "parameters": designs.row(0),
                   "note": space_note(designs, technology.name)},
        "workloads": {name: _workload_doc(m, per_layer) for name, m in metrics.items()},
    }
    if doc["design"]["note"]:
        typer.echo(f"note: outside the {technology.name} search space: {doc['design']['note']}",
                   err=True)
    if as_json:
        _echo_json(doc)
    else:
        _print_evaluation(doc, technology.name, per_layer)


# commands that live in their own modules register themselves on `app`
from . import cli_fidelity, cli_search, cli_study  # noqa: E402, F401
