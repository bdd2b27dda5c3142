"""Shared loading of YAML configs into pydantic models, with one-line errors.

`load_model(source, Model, Error, what)` reads a YAML file (or takes a dict), validates it and
raises `Error("<field.path>: <message>")` naming the first wrong field.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def read_mapping(source: str | Path | dict, error: type[Exception], what: str) -> dict:
    """The top-level mapping of a YAML file (or the dict itself)."""
    if isinstance(source, dict):
        return source
    path = Path(source)
    if not path.exists():
        raise error(f"{what} file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise error(f"{path}: the top level must be a mapping of settings")
    return data


def validate_model(data: dict, model: type[M], error: type[Exception], root: str) -> M:
    """`model.model_validate(data)`, its first error as one line `field.path: message`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or root
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown setting"
        raise error(f"{loc}: {msg}") from None
