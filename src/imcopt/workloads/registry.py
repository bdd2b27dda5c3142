"""Name -> workload lookup: the built-in zoo, imported workloads (`user`), layer tables."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from pathlib import Path

from ..inputs import brief
from .layer import Workload, WorkloadError, WorkloadTypeError
from .user import load_user, user_names

_BUILDERS: dict[str, tuple[Callable[[], Workload], str]] = {}


Builder = Callable[[], Workload]


def register(name: str, description: str) -> Callable[[Builder], Builder]:
    """Decorator: make a zero-argument builder available as ``get(name)``."""

    def wrap(builder: Callable[[], Workload]) -> Callable[[], Workload]:
        if name in _BUILDERS:
            raise ValueError(f"workload {name!r} registered twice")
        _BUILDERS[name] = (functools.cache(builder), description)
        return builder

    return wrap


def _load_zoo() -> None:
    # imported lazily so that `imcopt.workloads.layer` stays import-cycle free
    from . import zoo  # noqa: F401


def names() -> list[str]:
    """Names of the built-in networks, in registration order."""
    _load_zoo()
    return list(_BUILDERS)


def describe(name: str) -> str:
    _load_zoo()
    return _BUILDERS[name][1] if name in _BUILDERS else ""


def get(name: str) -> Workload:
    """A built-in network by name, an imported one (`imcopt.workloads.user_names()`), or a
    layer-table CSV path (every network in it must be one).

    Unknown names raise `WorkloadError` listing close matches and the known names; a name
    that is not a string raises `WorkloadTypeError` (a TypeError and a WorkloadError).
    """
    if not isinstance(name, str):
        raise WorkloadTypeError(f"workload: expected a name (str) or a Workload, got "
                                f"{type(name).__name__} {brief(name)}")
    _load_zoo()
    if name in _BUILDERS:
        return _BUILDERS[name][0]()
    imported = load_user(name)
    if imported is not None:
        return imported
    if name.endswith(".csv") and not Path(name).is_file():
        raise WorkloadError(f"layer table {brief(name)} does not exist")
    if name.endswith(".csv"):
        from .table import load_layer_table

        tables = load_layer_table(name)
        if len(tables) != 1:
            raise WorkloadError(
                f"{name}: holds {len(tables)} networks ({', '.join(tables)}); "
                "use 'path.csv:network' to pick one"
            )
        return next(iter(tables.values()))
    if ".csv:" in name:
        path, network = name.rsplit(":", 1)
        from .table import load_layer_table

        tables = load_layer_table(path)
        if network not in tables:
            raise WorkloadError(
                f"{path}: no network {network!r}; it holds {', '.join(tables)}"
            )
        return tables[network]
    known = [*_BUILDERS, *user_names()]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise WorkloadError(
        f"unknown workload {brief(name)}.{hint} Known: {', '.join(known)} "
        "(or a layer-table .csv file)"
    )


def get_many(names_: list[str]) -> list[Workload]:
    if not names_:
        raise WorkloadError("the workload set is empty: give at least one workload name")
    return [get(n) for n in names_]
