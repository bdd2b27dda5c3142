"""Coded parameters by name: `adc_type` 1 is SAR, `offchip_memory` 4 is HBM2, ...

A parameter whose values are codes (`ParameterInfo.choices`) names them in its description,
"<what>: 1 = <name>, 2 = <name>"; people read the names (console, reports), files keep the
codes (numbers that sort and compare).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .space import PARAMETERS

if TYPE_CHECKING:  # pandas loads lazily: `imcopt evaluate` prints codes without it
    import pandas as pd

_PAIR = re.compile(r"(\d+)\s*=\s*([^,;()]+?)\s*(?=,|;|\)|$)")


def code_names(parameter: str) -> dict[int, str] | None:
    """{code: name} of a coded parameter, or None for a plain number."""
    info = PARAMETERS.get(parameter)
    if info is None or info.choices is None:
        return None
    text = info.description.split(":", 1)[-1]
    return {int(code): name.strip() for code, name in _PAIR.findall(text)}


def display(parameter: str, value: object) -> str:
    """The value as people read it: a coded parameter's name, else the number."""
    names = code_names(parameter)
    try:
        code = int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if names and float(value) == code and code in names:  # type: ignore[arg-type]
        return names[code]
    if isinstance(value, float) and float(value).is_integer() and parameter in PARAMETERS \
            and PARAMETERS[parameter].integer:
        return str(code)
    return str(value)


def named_table(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose coded-parameter columns hold names instead of codes."""
    out = df.copy()
    for col in out.columns:
        if code_names(str(col)):
            out[col] = [display(str(col), v) for v in out[col]]
    return out
