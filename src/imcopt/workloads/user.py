"""The user's imported workloads: layer-table CSVs in one folder, found by name.

The folder is ``$IMCOPT_WORKLOADS_DIR`` when set, else ``~/.imcopt/workloads``. A workload
``NAME`` lives in ``NAME.csv`` (the layer-table format of `imcopt.workloads.table`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .layer import Workload, WorkloadError
from .table import load_layer_table, write_layer_table

ENV_VAR = "IMCOPT_WORKLOADS_DIR"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def user_dir() -> Path:
    """The folder imported workloads are saved to and read from."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".imcopt" / "workloads"


def user_names() -> list[str]:
    """Names of the imported workloads, sorted."""
    folder = user_dir()
    return sorted(p.stem for p in folder.glob("*.csv")) if folder.is_dir() else []


def user_path(name: str) -> Path:
    return user_dir() / f"{name}.csv"


def load_user(name: str) -> Workload | None:
    """An imported workload by name, or None when there is none of that name."""
    path = user_path(name)
    if not _NAME.match(name) or not path.is_file():
        return None
    tables = load_layer_table(path)
    if len(tables) != 1:
        raise WorkloadError(f"{path}: an imported workload file must hold one network, "
                            f"it holds {', '.join(tables)}")
    workload = next(iter(tables.values()))
    return Workload(name, workload.layers, f"imported ({path})", source=str(path))


def save_user(workload: Workload, name: str | None = None, overwrite: bool = False) -> Path:
    """Save `workload` as ``NAME.csv`` in `user_dir()`; returns the path.

    Raises `WorkloadError` when the name is not a plain file name, is a zoo network, or is
    already imported (unless `overwrite`).
    """
    from .registry import names

    name = name or workload.name
    if not _NAME.match(name):
        raise WorkloadError(f"workload name {name!r} must be letters, digits, '_', '.' or '-', "
                            "starting with a letter or digit")
    if name in names():
        raise WorkloadError(f"workload name {name!r} is a built-in network; choose another")
    path = user_path(name)
    if path.exists() and not overwrite:
        raise WorkloadError(f"workload {name!r} already exists ({path}); pass overwrite "
                            "(--force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    write_layer_table([Workload(name, workload.layers, workload.description)], tmp)
    tmp.replace(path)
    return path
