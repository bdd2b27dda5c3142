"""Technologies: one table of named, sourced constants per cell technology.

Each technology lives in ``technologies/<name>.yaml``: a few settings (how weights are held,
how activation x activation matmuls run) and a table of constants, each with value, unit
and source. The cost model reads constants by name only through `Technology.c`, so a
calibration can rewrite the table without touching code.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..storage import write_text
from .space import DesignError

TECH_DIR = Path(__file__).parent / "technologies"
_LOADED: dict[tuple[str, int, int], Technology] = {}  # (resolved path, mtime, size) -> parsed
WEIGHT_RESIDENCY = ("resident", "streamed")
MATMUL_POLICIES = ("digital", "exclude", "in_array")
#: physical: a resident chip replicates only into free arrays, DRAM bandwidth and a low
#: supply's slower logic limit the cycle, leakage counts. cimloop: the published study's
#: CiMLoop set-up (each layer replicated over the whole chip, no GLB/NoC/DRAM bandwidth
#: bound, activations that overflow the GLB parked for free, attention matmuls mapped like
#: weights, one group of a depthwise conv per array, clock independent of voltage,
#: power-gated) for calibrating against its numbers.
ASSUMPTIONS = ("physical", "cimloop")


class ReadOnlyDict(dict):
    """A dict that refuses changes (a technology is shared by every user of its file)."""

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a technology's tables are read-only; use Technology.with_constants")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore
    __ior__ = _refuse  # type: ignore

    def __reduce__(self) -> tuple:
        return (ReadOnlyDict, (dict(self),))


@dataclass(frozen=True)
class Constant:
    value: float
    unit: str
    source: str
    description: str = ""
    fit: bool = True  # False: a calibration must keep the value (its source says why)
    source_value: float | None = None  # the value its source gives, before any fit

    @property
    def sourced(self) -> float:
        return self.value if self.source_value is None else self.source_value


@dataclass(frozen=True)
class Technology:
    """A cell technology and its model constants (see docs/model.md for each one)."""

    name: str
    description: str
    weight_residency: str
    matmul_policy: str
    constants: dict[str, Constant]
    calibration: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    assumptions: str = "physical"

    def __post_init__(self) -> None:
        if self.weight_residency not in WEIGHT_RESIDENCY:
            raise DesignError(
                f"technology {self.name!r}: weight_residency {self.weight_residency!r} is not one "
                f"of {', '.join(WEIGHT_RESIDENCY)}"
            )
        if self.matmul_policy not in MATMUL_POLICIES:
            raise DesignError(
                f"technology {self.name!r}: matmul_policy {self.matmul_policy!r} is not one of "
                f"{', '.join(MATMUL_POLICIES)}"
            )
        if self.assumptions not in ASSUMPTIONS:
            raise DesignError(
                f"technology {self.name!r}: assumptions {self.assumptions!r} is not one of "
                f"{', '.join(ASSUMPTIONS)}"
            )
        object.__setattr__(self, "constants", ReadOnlyDict(self.constants))
        object.__setattr__(self, "calibration", ReadOnlyDict(self.calibration))
        object.__setattr__(self, "_values", ReadOnlyDict(
            {k: float(v.value) for k, v in self.constants.items()}))

    @property
    def c(self) -> dict[str, float]:
        """Constant values by name (floats, SI or the unit in the name)."""
        return self._values  # type: ignore[attr-defined]

    def with_constants(self, **values: float) -> Technology:
        """A copy with some constant values replaced (for calibration and what-ifs)."""
        unknown = [k for k in values if k not in self.constants]
        if unknown:
            raise DesignError(f"technology {self.name!r} has no constant {unknown[0]!r}")
        consts = dict(self.constants)
        for k, v in values.items():
            old = consts[k]
            consts[k] = dataclasses.replace(old, value=float(v))
        return dataclasses.replace(self, constants=consts)

    def with_settings(self, **settings: str) -> Technology:
        """A copy with weight_residency, matmul_policy or assumptions changed."""
        allowed = {"weight_residency", "matmul_policy", "assumptions"}
        bad = set(settings) - allowed
        if bad:
            raise DesignError(
                f"unknown technology setting(s) {sorted(bad)}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        return dataclasses.replace(self, **settings)

    def to_yaml_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "weight_residency": self.weight_residency,
            "matmul_policy": self.matmul_policy,
            "assumptions": self.assumptions,
            "calibration": dict(self.calibration),
            "constants": {
                k: {"value": v.value, "unit": v.unit, "source": v.source,
                    "description": v.description, **({} if v.fit else {"fit": False}),
                    **({} if v.source_value in (None, v.value)
                       else {"source_value": v.source_value})}
                for k, v in self.constants.items()
            },
        }


def technology_names() -> list[str]:
    return sorted(p.stem for p in TECH_DIR.glob("*.yaml"))


def load_technology(name_or_path: str | Path) -> Technology:
    """A built-in technology by name (rram, sram) or a YAML file in the same format.

    A file is parsed once per process: later calls get the same (read-only) object until
    the file changes (its resolved path, modification time and size are the key)."""
    if isinstance(name_or_path, Technology):
        return name_or_path
    text = str(name_or_path)
    path = Path(text)
    if not (text.endswith((".yaml", ".yml")) and path.is_file()):
        key = text.lower()
        path = TECH_DIR / f"{key}.yaml"
        if not path.is_file():
            known = technology_names()
            close = difflib.get_close_matches(key, known, n=2)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            raise DesignError(f"unknown technology {text!r}.{hint} Known: {', '.join(known)}")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _LOADED:
        _LOADED[key] = _parse(path)
    return _LOADED[key]


def _parse(path: Path) -> Technology:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise DesignError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    except UnicodeDecodeError:
        raise DesignError(f"{path}: not a text (UTF-8) file") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("constants"), dict):
        raise DesignError(f"{path}: expected a mapping with a 'constants' table (name: "
                          "{value: ..., unit: ...})")
    constants = {}
    for key, entry in raw["constants"].items():
        if not isinstance(entry, dict) or "value" not in entry:
            raise DesignError(f"{path}: constant {key!r} needs a 'value'")
        try:
            value = float(entry["value"])
        except (TypeError, ValueError):
            raise DesignError(f"{path}: constant {key!r} value is not a number") from None
        constants[key] = Constant(value, str(entry.get("unit", "")), str(entry.get("source", "")),
                                  str(entry.get("description", "")),
                                  bool(entry.get("fit", True)),
                                  float(entry["source_value"]) if "source_value" in entry
                                  else None)
    return Technology(
        name=str(raw.get("name", path.stem)),
        description=str(raw.get("description", "")),
        weight_residency=str(raw.get("weight_residency", "resident")),
        matmul_policy=str(raw.get("matmul_policy", "digital")),
        constants=constants,
        calibration=dict(raw.get("calibration") or {}),
        path=path,
        assumptions=str(raw.get("assumptions", "physical")),
    )


def save_technology(tech: Technology, path: str | Path) -> None:
    write_text(path, yaml.safe_dump(tech.to_yaml_dict(), sort_keys=False, width=100))
