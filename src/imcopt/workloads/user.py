"""The user's imported workloads: layer-table CSVs in one folder, found by name.

The folder is ``$IMCOPT_WORKLOADS_DIR`` when set, else ``~/.imcopt/workloads``. A workload
``NAME`` lives in ``NAME.csv`` (the layer-table format of `imcopt.workloads.table`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..inputs import brief
from .layer import Workload, WorkloadError
from .table import load_layer_table, write_layer_table

ENV_VAR = "IMCOPT_WORKLOADS_DIR"
# the whole name (fullmatch: `$` would also match before a trailing newline)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def valid_name(name: object) -> bool:
    """Whether `name` can name an imported workload (and its file)."""
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def user_dir() -> Path:
    """The folder imported workloads are saved to and read from."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".imcopt" / "workloads"


def user_names() -> list[str]:
    """Names of the imported workloads, sorted."""
    folder = user_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.csv") if valid_name(p.stem))


def user_path(name: str) -> Path:
    return user_dir() / f"{name}.csv"


def load_user(name: str) -> Workload | None:
    """An imported workload by name, or None when there is none of that name."""
    if not valid_name(name) or not user_path(name).is_file():
        return None
    path = user_path(name)
    tables = load_layer_table(path)
    if len(tables) != 1:
        raise WorkloadError(f"{path}: an imported workload file must hold one network, "
                            f"it holds {', '.join(tables)}")
    workload = next(iter(tables.values()))
    return Workload(name, workload.layers, f"imported ({path})", source=str(path))


def check_name(name: object) -> str:
    """`name` if it can name an imported workload, else a WorkloadError saying what can."""
    from .registry import names

    if not valid_name(name):
        raise WorkloadError(f"workload name {brief(name)} must be 1 to 100 letters, digits, "
                            "'_', '.' or '-', starting with a letter or digit (no spaces or "
                            "line breaks)")
    if name in names():
        raise WorkloadError(f"workload name {name!r} is a built-in network; choose another")
    return name  # type: ignore[return-value]


def save_user(workload: Workload, name: str | None = None, overwrite: bool = False) -> Path:
    """Save `workload` as ``NAME.csv`` in `user_dir()`; returns the path.

    Raises `WorkloadError` when the name is not a plain file name, is a zoo network, or is
    already imported (unless `overwrite`).
    """
    name = check_name(name or workload.name)
    path = user_path(name)
    if path.exists() and not overwrite:
        raise WorkloadError(f"workload {name!r} already exists ({path}); pass overwrite "
                            "(--force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    write_layer_table([Workload(name, workload.layers, workload.description)], tmp)
    tmp.replace(path)
    return path
