"""Technologies: one table of named, sourced constants per cell technology.

Each technology lives in ``technologies/<name>.yaml``: a few settings (how weights are held,
how activation x activation matmuls run) and a table of constants, each with value, unit
and source. The cost model reads constants by name only through `Technology.c`, so a
calibration can rewrite the table without touching code.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..inputs import brief, read_yaml
from ..storage import write_text
from .space import DesignError, DesignTypeError

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
CELLS = ("rram", "sram")
LAYER_SCHEDULES = ("sequential", "pipelined")


class TechnologyTypeError(DesignTypeError):
    """`load_technology` was given something that is not a name, a path or a Technology."""


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
    cell: str = "rram"  # the cell's physics: rram (1T1R, resistive read) or sram (6T)
    layer_schedule: str = "sequential"  # or pipelined (every layer's weights on chip)
    # partial-sum bits a design's ADC may drop before it is infeasible; None: the policy's
    # default (physical: none; cimloop: any, as the study's set-up did)
    max_psum_bits_lost: float | None = None

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
        if self.cell not in CELLS:
            raise DesignError(f"technology {self.name!r}: cell {self.cell!r} is not one of "
                              f"{', '.join(CELLS)}")
        if self.layer_schedule not in LAYER_SCHEDULES:
            raise DesignError(f"technology {self.name!r}: layer_schedule "
                              f"{self.layer_schedule!r} is not one of "
                              f"{', '.join(LAYER_SCHEDULES)}")
        if self.layer_schedule == "pipelined" and self.weight_residency != "resident":
            raise DesignError(f"technology {self.name!r}: layer_schedule pipelined needs every "
                              "layer's weights on chip (weight_residency resident)")
        if self.max_psum_bits_lost is not None and not self.max_psum_bits_lost >= 0:
            raise DesignError(f"technology {self.name!r}: max_psum_bits_lost must be >= 0, "
                              f"got {self.max_psum_bits_lost!r}")
        object.__setattr__(self, "constants", ReadOnlyDict(self.constants))
        object.__setattr__(self, "calibration", ReadOnlyDict(self.calibration))
        object.__setattr__(self, "_values", ReadOnlyDict(
            {k: float(v.value) for k, v in self.constants.items()}))

    @property
    def psum_bits_limit(self) -> float:
        """Partial-sum bits an ADC may drop: the setting, or the assumptions' default (imcopt's
        own physical assumptions: 0; the study's cimloop set-up: unlimited)."""
        if self.max_psum_bits_lost is not None:
            return float(self.max_psum_bits_lost)
        return 0.0 if self.assumptions == "physical" else float("inf")
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
            # the first change of a value keeps the source's value beside it
            consts[k] = dataclasses.replace(old, value=float(v), source_value=old.sourced)
        return dataclasses.replace(self, constants=consts)

    def with_settings(self, **settings: object) -> Technology:
        """A copy with weight_residency, matmul_policy, assumptions, layer_schedule or
        max_psum_bits_lost changed."""
        allowed = {"weight_residency", "matmul_policy", "assumptions", "layer_schedule",
                   "max_psum_bits_lost"}
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
            "cell": self.cell,
            "layer_schedule": self.layer_schedule,
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


#: the settings of a technology file, and of each constant in its table
FILE_SETTINGS = ("name", "description", "weight_residency", "matmul_policy", "assumptions",
                 "cell", "layer_schedule", "calibration", "constants")
CONSTANT_SETTINGS = ("value", "unit", "source", "description", "fit", "source_value")


@dataclass(frozen=True)
class Bound:
    """The values a constant may take: finite, within [low, high] (low excluded when
    `open_low`)."""

    low: float = -np.inf
    high: float = np.inf
    open_low: bool = False

    def admits(self, v: float) -> bool:
        return (np.isfinite(v) and v <= self.high
                and (v > self.low if self.open_low else v >= self.low))

    def text(self) -> str:
        if self.low == -np.inf and self.high == np.inf:
            return "a finite number"
        low = f"a finite number {'>' if self.open_low else '>='} {self.low:g}"
        return low if self.high == np.inf else f"{low} and <= {self.high:g}"


NON_NEGATIVE, POSITIVE = Bound(0.0), Bound(0.0, open_low=True)
#: bound of a constant by the unit the built-in tables give it: energies, areas and powers
#: are >= 0, voltages, times, rates and counts > 0. A constant added to the built-in tables
#: is checked by its unit with no change here; NAME_BOUNDS overrides by name.
UNIT_BOUNDS = {"J": NON_NEGATIVE, "mm^2": NON_NEGATIVE, "F^2": POSITIVE,
               "W/mm^2": NON_NEGATIVE, "V": POSITIVE, "s": POSITIVE, "bit/s": POSITIVE,
               "bit/cycle": POSITIVE, "bit": POSITIVE, "columns": POSITIVE, "copies": POSITIVE,
               "writes": POSITIVE, "MAC/cycle": NON_NEGATIVE, "cycles": NON_NEGATIVE,
               "1/bit": NON_NEGATIVE, "F": NON_NEGATIVE, "F/m": POSITIVE, "ohm": POSITIVE,
               "Hz": POSITIVE, "mm^2/F": NON_NEGATIVE, "rows": POSITIVE}
EXPONENT = Bound(-10.0, 10.0)  # a power law's exponent: a larger one is a typo, not physics
NAME_BOUNDS = {"alpha_power": Bound(1.0, 2.0), "weight_std_fraction": Bound(0.0, 1.0, True),
               "cimloop_cycles_per_slice": POSITIVE, "input_bit_density": Bound(0.0, 1.0),
               "cimloop_input_bit_density": Bound(0.0, 1.0),
               "sram_bitline_swing_fraction": Bound(0.0, 1.0, True),
               "driver_chain_overhead": NON_NEGATIVE, "wl_switch_ir_drop_sized": Bound(0.0, 1.0),
               "adc_enob_loss_bits": NON_NEGATIVE,
               "cimloop_replicates_output_rows_only": Bound(0.0, 1.0)}


def constant_bound(name: str, unit: str) -> Bound:
    if name in NAME_BOUNDS:
        return NAME_BOUNDS[name]
    if name.endswith("_exponent"):
        return EXPONENT
    return UNIT_BOUNDS.get(unit, Bound())


@functools.cache
def builtin_schema() -> dict[str, str]:
    """{constant name: unit} of the constants every built-in technology table has: the
    constants a technology file must give (derived from the tables, so a constant added to
    them is required with no change here)."""
    tables = []
    for path in sorted(TECH_DIR.glob("*.yaml")):
        raw = _read_builtin(path)
        tables.append({k: str(v.get("unit", "")) for k, v in raw["constants"].items()})
    common = set.intersection(*(set(t) for t in tables)) if tables else set()
    return {k: tables[0][k] for k in tables[0] if k in common} if tables else {}


def _unknown(where: str, what: str, key: object, allowed: tuple[str, ...]) -> DesignError:
    close = difflib.get_close_matches(str(key), allowed, n=1) if isinstance(key, str) else []
    hint = f" (did you mean {close[0]}?)" if close else ""
    return DesignError(f"{where}: {what} {brief(key)} is unknown{hint}; allowed: "
                       f"{', '.join(allowed)}")


def _number(where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DesignError(f"{where} = {brief(value)} is not a number")
    return float(value)


def parse_constants(table: object, where: str) -> dict[str, Constant]:
    """A technology file's `constants:` table, validated: every constant of the built-in
    tables present, each value a finite number within its bound (`constant_bound`)."""
    if not isinstance(table, dict):
        raise DesignError(f"{where}: 'constants' must be a table (name: {{value: ..., unit: "
                          "...}})")
    schema = builtin_schema()
    missing = [k for k in schema if k not in table]
    if missing:
        extra = [k for k in table if k not in schema and isinstance(k, str)]
        close = difflib.get_close_matches(missing[0], extra, n=1)
        hint = f" (is {close[0]!r} a misspelling of it?)" if close else ""
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise DesignError(f"{where}: constant {missing[0]}{hint} is missing; missing: "
                          f"{', '.join(missing[:3])}{more} (a technology gives every constant "
                          f"of the built-in tables, e.g. {TECH_DIR.name}/rram.yaml)")
    constants = {}
    for key, entry in table.items():
        if not isinstance(key, str):
            raise DesignError(f"{where}: constant name {brief(key)} is not a string")
        at = f"{where}: constants.{key}"
        if not isinstance(entry, dict) or "value" not in entry:
            raise DesignError(f"{at}: needs a 'value' (name: {{value: ..., unit: ...}})")
        for field_name in entry:
            if field_name not in CONSTANT_SETTINGS:
                raise _unknown(at, "setting", field_name, CONSTANT_SETTINGS)
        value = _number(f"{at}.value", entry["value"])
        unit = schema.get(key, str(entry.get("unit", "")))
        bound = constant_bound(key, unit)
        if not bound.admits(value):
            raise DesignError(f"{at}.value = {value:g} must be {bound.text()} "
                              f"(unit: {unit or 'none'})")
        fit = entry.get("fit", True)
        if not isinstance(fit, bool):
            raise DesignError(f"{at}.fit = {brief(fit)} must be true or false")
        source_value = entry.get("source_value")
        if source_value is not None:
            source_value = _number(f"{at}.source_value", source_value)
            if not bound.admits(source_value):
                raise DesignError(f"{at}.source_value = {source_value:g} must be "
                                  f"{bound.text()}")
        texts = []
        for field_name in ("unit", "source", "description"):
            text = entry.get(field_name, "")
            if not isinstance(text, (str, int, float)) or isinstance(text, bool):
                raise DesignError(f"{at}.{field_name} must be text, got {brief(text)}")
            texts.append(str(text))
        constants[key] = Constant(value, *texts, fit, source_value)
    return constants


def load_technology(name_or_path: str | Path) -> Technology:
    """A built-in technology by name (rram, sram) or a YAML file in the same format, validated
    like a config: unknown settings named, every constant of the built-in tables present and
    finite, energies and areas >= 0, exponents within [-10, 10] (DesignError, one line).

    A file is parsed once per process: later calls get the same (read-only) object until
    the file changes (its resolved path, modification time and size are the key)."""
    if isinstance(name_or_path, Technology):
        return name_or_path
    if not isinstance(name_or_path, (str, Path)):
        raise TechnologyTypeError(f"technology: expected a name (rram, sram), a .yaml path or "
                                  f"a Technology, got {type(name_or_path).__name__}")
    text = str(name_or_path)
    path = Path(text)
    if not (text.endswith((".yaml", ".yml")) and path.is_file()):
        key = text.lower()
        path = TECH_DIR / f"{key}.yaml"
        if not key or "/" in key or not path.is_file():
            if text.endswith((".yaml", ".yml")):
                raise DesignError(f"technology file {brief(text)} does not exist")
            known = technology_names()
            close = difflib.get_close_matches(key, known, n=2)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            raise DesignError(f"unknown technology {brief(text)}.{hint} Known: "
                              f"{', '.join(known)}, or a technology .yaml file")
    try:
        stat = path.stat()
    except OSError as exc:  # gone since it was found
        raise DesignError(f"technology file {brief(text)}: cannot be read "
                          f"({exc.strerror or type(exc).__name__})") from None
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _LOADED:
        _LOADED[key] = _parse(path)
    return _LOADED[key]


def _read_builtin(path: Path) -> Any:
    """A table shipped with imcopt: trusted, so read with libyaml's loader where present
    (10x the pure-Python one, which a user's file gets with its guards: start-up time)."""
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _parse(path: Path) -> Technology:
    """A technology file, validated (`load_technology`)."""
    builtin = path.resolve().parent == TECH_DIR.resolve()
    raw = _read_builtin(path) if builtin else read_yaml(path, DesignError)
    if not isinstance(raw, dict) or "constants" not in raw:
        raise DesignError(f"{path}: expected a mapping with a 'constants' table (name: "
                          "{value: ..., unit: ...})")
    for key in raw:
        if key not in FILE_SETTINGS:
            raise _unknown(str(path), "setting", key, FILE_SETTINGS)
    constants = parse_constants(raw["constants"], str(path))
    settings = {}
    for key, default in (("name", path.stem), ("description", ""),
                         ("weight_residency", "resident"), ("matmul_policy", "digital"),
                         ("assumptions", "physical"), ("cell", "rram"),
                         ("layer_schedule", "sequential")):
        value = raw.get(key, default)
        if not isinstance(value, str) or (key == "name" and not value.strip()):
            raise DesignError(f"{path}: {key} must be {'a non-empty' if key == 'name' else 'a'}"
                              f" string, got {brief(value)}")
        settings[key] = value
    calibration = raw.get("calibration") or {}
    if not isinstance(calibration, dict):
        raise DesignError(f"{path}: calibration must be a mapping, got {brief(calibration)}")
    try:
        return Technology(constants=constants, calibration=dict(calibration), path=path,
                          **settings)
    except DesignError as exc:
        raise DesignError(f"{path}: {exc}") from None


def save_technology(tech: Technology, path: str | Path) -> None:
    write_text(path, yaml.safe_dump(tech.to_yaml_dict(), sort_keys=False, width=1000,
                                    allow_unicode=True))
