"""Shared loading of YAML configs into pydantic models, with one-line errors.

`load_model(source, Model, Error, what)` reads a YAML file (or takes a dict), validates it and
raises `Error("<field.path>: <message>")` naming the first wrong field.
"""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .inputs import EMPTY, clip, read_yaml

M = TypeVar("M", bound=BaseModel)


def read_mapping(source: str | Path | dict, error: type[Exception], what: str) -> dict:
    """The top-level mapping of a YAML file (or the dict itself). A file that holds no
    settings (empty, or only comments) is an error, not the default job: to run the defaults,
    give no file."""
    if isinstance(source, dict):
        return source
    if not isinstance(source, (str, Path)):
        raise error(f"{what}: expected a YAML file path or a dict of settings, got "
                    f"{type(source).__name__}")
    path = Path(source)
    if not path.exists():
        raise error(f"{what} file {path} does not exist")
    if not path.is_file():
        raise error(f"{what} file {path} is not a file")
    data = read_yaml(path, error)
    if data is EMPTY or data == {} or data is None:
        raise error(f"{path}: holds no settings (the file is empty or only comments); "
                    "write the settings to use, or give no file for the defaults")
    if not isinstance(data, dict):
        raise error(f"{path}: the top level must be a mapping of settings")
    return data


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The setting names allowed at `loc` (a path of field names and indices) in `model`."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        found = [a for a in _types(field.annotation)
                 if isinstance(a, type) and issubclass(a, BaseModel)]
        if not found:
            return []
        model = found[0]
    return list(model.model_fields)


def _types(annotation: object) -> list[object]:
    args = typing.get_args(annotation)
    return [t for a in args for t in _types(a)] if args else [annotation]


def validate_model(data: dict, model: type[M], error: type[Exception], root: str) -> M:
    """`model.model_validate(data)`, its first error as one line `field.path: message`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(clip(str(p), 40) for p in err["loc"]) or root
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, err["loc"][:-1])
            close = difflib.get_close_matches(clip(str(err["loc"][-1]), 100), allowed, n=1)
            msg = ("unknown setting" + (f" (did you mean {close[0]}?)" if close else "")
                   + (f"; allowed: {', '.join(allowed)}" if allowed else ""))
        raise error(f"{loc}: {msg}" if err["loc"] else msg) from None


def load_model(source: str | Path | dict, model: type[M], error: type[Exception], root: str,
               field: str) -> M:
    """A validated `model` from a YAML file or a dict, or `error` (one line; for a file, it
    starts with the file's name). A ValueError raised outside pydantic's own checks (e.g. a
    registry's DesignError) names `field`."""
    data = read_mapping(source, error, root)
    where = "" if isinstance(source, dict) else f"{Path(source).name}: "
    try:
        return validate_model(data, model, error, root)
    except error as exc:
        if not where:
            raise
        raise error(f"{where}{exc}") from None
    except ValueError as exc:
        raise error(f"{where}{field}: {exc}") from None
