"""Design parameters, design spaces and the reference design-key format.

A design space is an ordered set of named parameters, each with a finite value list and a
level (device, circuit, architecture, system). A design inside a space is an integer genome:
one index per parameter. The cost model works on decoded values (`Designs`), one array per
parameter, so a whole population is evaluated at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

LEVELS = ("device", "circuit", "architecture", "system")


class DesignError(ValueError):
    """A design, key or space definition is invalid; the message names the field."""


class DesignTypeError(DesignError, TypeError):
    """An argument is of the wrong type (e.g. a space name that is not a string); the message
    names the argument."""


@dataclass(frozen=True)
class ParameterInfo:
    """What a parameter means, independent of the values a space allows."""

    name: str
    unit: str
    level: str
    description: str
    integer: bool = True
    choices: tuple[int, ...] | None = None  # codes: the only values allowed


#: Every parameter the cost model understands, in design-key order first.
PARAMETERS: dict[str, ParameterInfo] = {
    p.name: p
    for p in (
        ParameterInfo("voltage_v", "V", "system", "supply voltage of the periphery", False),
        ParameterInfo("bits_per_cell", "bit", "device", "weight bits stored per cell"),
        ParameterInfo("clock_period_s", "s", "system", "clock period (one array/ADC cycle)",
                      False),
        ParameterInfo("rows_per_array", "rows", "circuit", "wordlines per crossbar array"),
        ParameterInfo("cols_per_array", "cols", "circuit", "bitlines per crossbar array"),
        ParameterInfo("router_groups", "groups", "architecture",
                      "router groups on the chip (one router each)"),
        ParameterInfo("tiles_per_group", "tiles", "architecture", "tiles under one router"),
        ParameterInfo("arrays_per_tile", "arrays", "architecture",
                      "crossbar arrays (macros) per tile"),
        ParameterInfo("glb_depth_words", "words", "architecture",
                      "global-buffer depth in 2048-bit words (4096 words = 1 MiB)"),
        ParameterInfo("technology_node_nm", "nm", "device",
                      "CMOS technology node (hardware/scaling.py)"),
        ParameterInfo("adc_bits", "bit", "circuit", "ADC resolution"),
        ParameterInfo("adc_type", "code", "circuit", "ADC architecture: 1 = SAR, 2 = flash",
                      choices=(1, 2)),
        ParameterInfo("offchip_memory", "code", "system",
                      "off-chip DRAM: 1 = LPDDR4, 2 = DDR4, 3 = GDDR5, 4 = HBM2",
                      choices=(1, 2, 3, 4)),
        ParameterInfo("parallel_rows", "rows", "circuit",
                      "rows activated together for one conversion (all rows of the array "
                      "when larger than rows_per_array)"),
        ParameterInfo("cols_per_adc", "cols", "circuit",
                      "columns multiplexed onto one ADC (converted one after another)"),
        ParameterInfo("dac_bits", "bit", "circuit",
                      "input bits applied per array read (1 = bit-serial inputs)"),
        ParameterInfo("input_encoding", "code", "circuit",
                      "how a multi-bit input slice x drives a row (a voltage DAC; one pulse "
                      "x units long; x unit pulses, spikes): 1 = amplitude, 2 = pulse width, "
                      "3 = pulse count", choices=(1, 2, 3)),
    )
}
#: upper bounds beyond which a value is not a design (and the model's integer maths overflows)
MAX_VALUES = {"bits_per_cell": 32, "adc_bits": 24, "dac_bits": 16}
#: The nine fields of the reference key
#: `A_<V>_<bits>_<clk>_<rows>_<cols>_<groups>_<tiles>_<macros>_<glb>`.
KEY_FIELDS = (
    "voltage_v", "bits_per_cell", "clock_period_s", "rows_per_array", "cols_per_array",
    "router_groups", "tiles_per_group", "arrays_per_tile", "glb_depth_words",
)
#: Values of parameters a space leaves out (the study's fixed settings).
DEFAULT_VALUES: dict[str, float] = {
    "voltage_v": 0.7, "bits_per_cell": 2, "clock_period_s": 2e-9, "rows_per_array": 512,
    "cols_per_array": 512, "router_groups": 8, "tiles_per_group": 16, "arrays_per_tile": 32,
    "glb_depth_words": 16384, "technology_node_nm": 32, "adc_bits": 5, "adc_type": 1,
    "offchip_memory": 1, "parallel_rows": 8, "cols_per_adc": 16, "dac_bits": 1,
    "input_encoding": 1,
}
#: The published study's fixed circuit settings (its CiMLoop set-up): 8-bit inputs applied in
#: one slice as a count of unit pulses (CiMLoop's temporal spiking row drivers), every row of
#: an array read at once, one 5-bit ADC per column (NeuroSim's flash, multilevel sense
#: amplifiers), 32 nm, LPDDR4. Its design keys name the nine searched parameters only; these
#: settings complete them (`designs_from_keys(keys, fixed=STUDY_SETTINGS)`).
STUDY_SETTINGS: dict[str, float] = {
    "technology_node_nm": 32, "adc_bits": 5, "offchip_memory": 1,
    "parallel_rows": 4096, "cols_per_adc": 1, "dac_bits": 8, "input_encoding": 3,
    "adc_type": 2,
}


def _fmt(value: float, integer: bool) -> str:
    # Python's default formatting, as the original study wrote its keys (0.75, 1e-09, 32768)
    return str(int(value)) if integer else repr(float(value))


@dataclass(frozen=True)
class Parameter:
    """One searchable parameter: a name from `PARAMETERS` and its allowed values."""

    name: str
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.name not in PARAMETERS:
            close = difflib.get_close_matches(self.name, list(PARAMETERS), n=2)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise DesignError(
                f"unknown parameter {self.name!r}{hint}; known: {', '.join(PARAMETERS)}"
            )
        values = tuple(self.values)
        if not values:
            raise DesignError(f"parameter {self.name!r}: the value list is empty")
        info = PARAMETERS[self.name]
        clean = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise DesignError(f"parameter {self.name!r}: value {v!r} is not a number")
            if not np.isfinite(v) or v <= 0:
                raise DesignError(f"parameter {self.name!r}: value {v!r} must be finite and > 0")
            if info.integer and float(v) != int(v):
                raise DesignError(f"parameter {self.name!r}: value {v!r} must be an integer")
            if info.choices is not None and v not in info.choices:
                raise DesignError(f"parameter {self.name!r}: value {v!r} is not one of "
                                  f"{', '.join(map(str, info.choices))} ({info.description})")
            clean.append(int(v) if info.integer else float(v))
        if len(set(clean)) != len(clean):
            raise DesignError(f"parameter {self.name!r}: duplicate values in {clean}")
        object.__setattr__(self, "values", tuple(clean))

    @property
    def info(self) -> ParameterInfo:
        return PARAMETERS[self.name]

    @property
    def level(self) -> str:
        return self.info.level

    def index_of(self, value: float) -> int:
        for i, v in enumerate(self.values):
            if np.isclose(v, value, rtol=1e-9, atol=0.0):
                return i
        raise DesignError(
            f"{self.name} = {_fmt(value, self.info.integer)} is not in the space; "
            f"allowed: {', '.join(_fmt(v, self.info.integer) for v in self.values)}"
        )


@dataclass(frozen=True)
class DesignSpace:
    """An ordered set of parameters for one technology; designs are index genomes."""

    technology: str
    parameters: tuple[Parameter, ...]
    name: str = ""
    fixed: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise DesignError(f"space {self.name!r}: a parameter appears twice in {names}")
        for key in self.fixed:
            if key not in PARAMETERS:
                raise DesignError(f"space {self.name!r}: unknown fixed parameter {key!r}")

    # ---- shape -------------------------------------------------------------------------
    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def n_var(self) -> int:
        return len(self.parameters)

    @cached_property
    def cardinalities(self) -> np.ndarray:
        """(n_var,) number of values of each parameter (read-only)."""
        out = np.array([len(p.values) for p in self.parameters], dtype=np.int64)
        out.flags.writeable = False
        return out

    @cached_property
    def _tables(self) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Each parameter's values as an array and the values of every other parameter
        (fixed or default), checked once as `Designs.from_values` checks them."""
        values = {p.name: np.asarray(p.values, dtype=np.float64) for p in self.parameters}
        for name, v in values.items():
            Designs.from_values({name: v}, n=len(v), fixed=self.fixed)
        rest = Designs.from_values({}, n=1, fixed=self.fixed)
        return values, {k: float(v[0]) for k, v in rest.values.items() if k not in values}

    @property
    def size(self) -> int:
        return int(np.prod(self.cardinalities, dtype=object))

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise DesignError(f"space {self.name!r} has no parameter {name!r}; it has {self.names}")

    def levels(self) -> dict[str, tuple[str, ...]]:
        return {lv: tuple(p.name for p in self.parameters if p.level == lv) for lv in LEVELS}

    # ---- genomes <-> values ------------------------------------------------------------
    def check_genomes(self, genomes: np.ndarray) -> np.ndarray:
        x = np.asarray(genomes)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.n_var:
            raise DesignError(
                f"genomes must have shape (N, {self.n_var}) for space {self.name!r}, got {x.shape}"
            )
        if not np.issubdtype(x.dtype, np.integer):
            if not np.all(np.isfinite(x)) or not np.all(x == np.round(x)):
                raise DesignError("genomes must hold integer indices")
            x = x.astype(np.int64)
        bad = (x < 0) | (x >= self.cardinalities[None, :])
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise DesignError(
                f"genome {row}: index {x[row, col]} for {self.names[col]} outside "
                f"0..{self.cardinalities[col] - 1}"
            )
        return x

    def decode(self, genomes: np.ndarray) -> Designs:
        """Index genomes (N x n_var) -> decoded `Designs` (the space's values were checked
        once, so decoding only looks them up)."""
        x = self.check_genomes(genomes)
        n = x.shape[0]
        tables, rest = self._tables
        cols = {name: tables[name][x[:, j]] for j, name in enumerate(tables)}
        return Designs({name: cols[name] if name in cols else np.full(n, rest[name])
                        for name in PARAMETERS}, n)

    def values_of(self, genomes: np.ndarray, name: str) -> np.ndarray:
        """(N,) values of one parameter of (checked) genomes, without decoding the others."""
        tables, rest = self._tables
        if name in tables:
            return tables[name][genomes[:, self.names.index(name)]]
        return np.full(len(genomes), rest[name])

    def encode(self, values: Mapping[str, Sequence[float] | float]) -> np.ndarray:
        """Decoded parameter values (scalars or equal-length sequences) -> genomes."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise DesignError(f"missing parameter(s) {', '.join(missing)} for space {self.name!r}")
        cols = [np.atleast_1d(np.asarray(values[n], dtype=np.float64)) for n in self.names]
        n = max(len(c) for c in cols)
        out = np.empty((n, self.n_var), dtype=np.int64)
        for j, (p, col) in enumerate(zip(self.parameters, cols, strict=True)):
            col = np.broadcast_to(col, (n,))
            out[:, j] = [p.index_of(v) for v in col]
        return out

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """n uniformly random genomes."""
        rng = np.random.default_rng(rng)
        return rng.integers(0, self.cardinalities[None, :], size=(n, self.n_var), dtype=np.int64)

    def all_genomes(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Genomes number start..stop-1 of the whole space in mixed-radix order."""
        stop = self.size if stop is None else min(stop, self.size)
        return mixed_radix(self.cardinalities, start, stop)

    # ---- keys ----------------------------------------------------------------------------
    def keys(self, genomes: np.ndarray) -> list[str]:
        """Reference keys, followed by `|name=value` for each parameter of the space the
        reference key has no field for (e.g. `|adc_bits=6`): unique within the space."""
        d = self.decode(genomes)
        extra = [n for n in self.names if n not in (*KEY_FIELDS, "technology_node_nm")]
        keys = d.keys()
        if not extra:
            return keys
        cols = []
        for name in extra:
            uniq, inverse = np.unique(d[name], return_inverse=True)
            text = [f"|{name}={_fmt(v, PARAMETERS[name].integer)}" for v in uniq.tolist()]
            cols.append([text[i] for i in inverse.reshape(-1).tolist()])
        return [k + "".join(parts) for k, *parts in zip(keys, *cols, strict=True)]

    def genomes_from_keys(self, keys: Iterable[str]) -> np.ndarray:
        parsed = [{**self.fixed, **parse_key(k)} for k in keys]
        missing = [n for n in self.names if any(n not in p for p in parsed)]
        if missing:
            raise DesignError(f"design key: no value for {missing[0]} (a key of space "
                              f"{self.name!r} ends with |{missing[0]}=<value>)")
        return self.encode({n: [p[n] for p in parsed] for n in self.names})

    # ---- variants ------------------------------------------------------------------------
    def restrict(self, **values: Sequence[float]) -> DesignSpace:
        """A copy with some parameters' value lists replaced (restricted or extended)."""
        params = []
        for p in self.parameters:
            params.append(Parameter(p.name, tuple(values.pop(p.name))) if p.name in values else p)
        for name, vals in values.items():  # parameters new to this space are appended
            params.append(Parameter(name, tuple(vals)))
        return DesignSpace(self.technology, tuple(params), self.name + "*", dict(self.fixed))

    def describe(self) -> list[dict[str, object]]:
        return [
            {
                "parameter": p.name, "level": p.level, "unit": p.info.unit, "count": len(p.values),
                "values": [_fmt(v, p.info.integer) for v in p.values],
                "description": p.info.description,
            }
            for p in self.parameters
        ]


def check_codes(name: str, values: np.ndarray | float, labels: dict[int, str]) -> np.ndarray:
    """`values` of a coded parameter (e.g. adc_type) as float64, or a DesignError naming the
    first value that is not a code of `labels` and the allowed codes."""
    v = np.asarray(values, dtype=np.float64)
    bad = ~np.isin(v, list(labels))
    if np.any(bad):
        allowed = ", ".join(f"{k} = {label}" for k, label in labels.items())
        raise DesignError(f"{name} = {v[bad].ravel()[0]:g} is not one of the codes; "
                          f"allowed: {allowed}")
    return v


def mixed_radix(cards: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Numbers start..stop-1 as digit vectors of radices `cards` (last digit fastest).

    Digit j changes every `stride` numbers (the product of the radices after it), so each
    column is its few distinct quotients repeated in runs: no division per number."""
    n = max(stop - start, 0)
    out = np.empty((n, len(cards)), dtype=np.int64)
    stride = 1
    for j in range(len(cards) - 1, -1, -1):
        if n == 0:
            break
        if stride == 1:
            out[:, j] = np.arange(start, stop, dtype=np.int64) % cards[j]
        else:
            q0, q1 = start // stride, (stop - 1) // stride
            runs = np.full(q1 - q0 + 1, stride, dtype=np.int64)
            runs[0] -= start - q0 * stride
            runs[-1] -= (q1 + 1) * stride - stop
            out[:, j] = np.repeat(np.arange(q0, q1 + 1, dtype=np.int64) % cards[j], runs)
        stride *= int(cards[j])
    return out


def genome_codes(genomes: np.ndarray, cards: np.ndarray) -> np.ndarray:
    """One key per genome row, equal for equal rows: its mixed-radix number (int64) when the
    radices' product fits, else the row's bytes (an object array)."""
    x = np.ascontiguousarray(genomes, dtype=np.int64)
    if float(np.prod(np.asarray(cards, dtype=np.float64))) < 2.0**62:
        strides = np.cumprod(np.asarray(cards, dtype=np.int64)[::-1])[::-1]
        return x @ np.append(strides[1:], 1)
    out = np.empty(len(x), dtype=object)
    out[:] = [r.tobytes() for r in x]
    return out


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of genes that differ, broadcasting over leading axes."""
    return np.count_nonzero(np.asarray(a) != np.asarray(b), axis=-1)


@dataclass
class Designs:
    """N decoded designs: one float64 array of length N per parameter in `PARAMETERS`."""

    values: dict[str, np.ndarray]
    n: int

    @classmethod
    def from_values(
        cls,
        values: Mapping[str, Sequence[float] | np.ndarray | float],
        n: int | None = None,
        fixed: Mapping[str, float] | None = None,
    ) -> Designs:
        if not isinstance(values, Mapping):
            raise DesignTypeError(f"designs: expected a mapping {{parameter: values}}, got "
                                  f"{type(values).__name__}")
        for k in values:
            if not isinstance(k, str):
                raise DesignTypeError(f"designs: parameter names must be strings, got "
                                      f"{type(k).__name__} {_brief(k)}")
        unknown = [k for k in values if k not in PARAMETERS]
        if unknown:
            close = difflib.get_close_matches(unknown[0], list(PARAMETERS), n=2)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise DesignError(
                f"unknown parameter {unknown[0]!r}{hint}; known: {', '.join(PARAMETERS)}"
            )
        arrays = {k: _values_of(k, v, empty_ok=n == 0) for k, v in values.items()}
        if n is None:
            n = max((len(a) for a in arrays.values()), default=1)
        full: dict[str, np.ndarray] = {}
        for name, info in PARAMETERS.items():
            if name in arrays:
                a = arrays[name]
            elif fixed and name in fixed:
                a = np.array([fixed[name]], dtype=np.float64)
            else:
                a = np.array([DEFAULT_VALUES[name]], dtype=np.float64)
            if a.shape not in ((1,), (n,)):
                raise DesignError(f"{name}: expected 1 or {n} values, got {a.shape[0]}")
            if not np.all(np.isfinite(a)) or np.any(a <= 0):
                raise DesignError(f"{name}: every value must be finite and > 0")
            if info.integer and np.any(a != np.round(a)):
                raise DesignError(f"{name}: every value must be an integer")
            if name in MAX_VALUES and np.any(a > MAX_VALUES[name]):
                raise DesignError(f"{name}: every value must be <= {MAX_VALUES[name]} "
                                  f"(got {a.max():g})")
            full[name] = np.broadcast_to(a, (n,)).copy()
        return cls(full, n)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def __len__(self) -> int:
        return self.n

    def take(self, index: np.ndarray | slice) -> Designs:
        sub = {k: v[index] for k, v in self.values.items()}
        return Designs(sub, len(next(iter(sub.values()))))

    def keys(self, with_node: bool = False) -> list[str]:
        """Reference-format keys; the node is appended when asked or when not 32 nm."""
        out = []
        for i in range(self.n):
            parts = [_fmt(self.values[f][i], PARAMETERS[f].integer) for f in KEY_FIELDS]
            node = self.values["technology_node_nm"][i]
            if with_node or node != 32:
                parts.append(_fmt(node, True))
            out.append("A_" + "_".join(parts))
        return out

    def row(self, i: int) -> dict[str, float]:
        return {
            k: (int(v[i]) if PARAMETERS[k].integer else float(v[i])) for k, v in self.values.items()
        }


def _brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _values_of(name: str, values: object, empty_ok: bool = False) -> np.ndarray:
    """One parameter's values as a flat float64 array, not empty unless `empty_ok` (no
    designs asked for); DesignError naming the parameter."""
    if isinstance(values, (str, bytes, bool)) or values is None:
        raise DesignTypeError(f"{name}: expected a number or a list of numbers, got "
                              f"{type(values).__name__} {_brief(values)}")
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignError(f"{name}: expected a number or a flat list of numbers (all the same "
                          f"length), got {_brief(values)}") from None
    if a.ndim > 1:
        raise DesignError(f"{name}: expected a number or a flat list of numbers, got an array "
                          f"of shape {a.shape}")
    a = np.atleast_1d(a)
    if a.size == 0 and not empty_ok:
        raise DesignError(f"{name}: the value list is empty")
    return a


def parse_key(key: str) -> dict[str, float]:
    """`A_0.6_8_1e-09_512_32_8_64_32_4096[_node][|name=value...]` -> {parameter: value}."""
    if not isinstance(key, str):
        raise DesignTypeError(f"design key: expected a string 'A_...', got "
                              f"{type(key).__name__} {_brief(key)}")
    head, *tails = key.strip().split("|")
    extra = _key_tails(key, tails)
    parts = head.split("_")
    if len(parts) not in (10, 11) or parts[0] != "A":
        raise DesignError(
            f"design key {_brief(key)} must look like "
            "A_<voltage_v>_<bits_per_cell>_<clock_period_s>_<rows>_<cols>_<router_groups>_"
            "<tiles_per_group>_<arrays_per_tile>_<glb_depth_words>[_<node_nm>]"
        )
    names = [*KEY_FIELDS, "technology_node_nm"][: len(parts) - 1]
    out: dict[str, float] = {}
    for name, text in zip(names, parts[1:], strict=True):
        try:
            value = float(text)
        except ValueError:
            raise DesignError(f"design key {key!r}: {name} = {text!r} is not a number") from None
        if not np.isfinite(value) or value <= 0:
            raise DesignError(f"design key {key!r}: {name} = {text!r} must be finite and > 0")
        if PARAMETERS[name].integer:
            if value != int(value):
                raise DesignError(f"design key {key!r}: {name} = {text!r} must be an integer")
            value = int(value)
        out[name] = value
    return {**out, **extra}


def _key_tails(key: str, tails: list[str]) -> dict[str, float]:
    """The `name=value` parts after a key's `|`s (parameters only; a network's precision
    part, `net=w8a8`, is for `JointSpace` and is skipped here)."""
    out: dict[str, float] = {}
    for part in tails:
        name, eq, text = part.partition("=")
        if not eq or name not in PARAMETERS:
            continue
        if name in out:
            raise DesignError(f"design key {_brief(key)}: {name} is given twice")
        try:
            value = float(text)
        except ValueError:
            raise DesignError(f"design key {_brief(key)}: {name} = {text!r} is not a "
                              "number") from None
        if not np.isfinite(value) or value <= 0:
            raise DesignError(f"design key {_brief(key)}: {name} = {text!r} must be finite "
                              "and > 0")
        out[name] = int(value) if PARAMETERS[name].integer and value == int(value) else value
    return out


def designs_from_keys(keys: Iterable[str], fixed: Mapping[str, float] | None = None
                      ) -> Designs:
    """Designs from reference keys; the parameters a key leaves out take `fixed`'s values
    (e.g. `STUDY_SETTINGS`, the published study's circuit), else their defaults."""
    if isinstance(keys, (str, bytes)) or not isinstance(keys, Iterable):
        raise DesignTypeError(f"designs: expected a list of design keys, got "
                              f"{type(keys).__name__}")
    parsed = []
    for i, k in enumerate(keys):
        if not isinstance(k, str):
            raise DesignTypeError(f"designs[{i}]: expected a design key string 'A_...', got "
                                  f"{type(k).__name__} {_brief(k)}")
        parsed.append(parse_key(k))
    if not parsed:
        raise DesignError("designs: no design keys given (an empty list)")
    base = {**DEFAULT_VALUES, **(fixed or {})}
    names = sorted(set().union(*parsed))
    # a 9-field key means the study's fixed node; mixing both formats is fine
    return Designs.from_values(
        {n: [p.get(n, base[n]) for p in parsed] for n in names}, n=len(parsed), fixed=fixed
    )
