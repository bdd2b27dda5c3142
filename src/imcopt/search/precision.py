"""Per-network precision and weight replication searched jointly with the shared hardware.

The genome is one hardware part (the design space's parameters) followed by one software
part per network: `weight_bits.<network>` and `activation_bits.<network>`, and, when asked
for, `replication.<network>`: the most copies of a layer's weights the mapping may place
(`Workload.max_copies`; 1 = no replication, 0 = unlimited, as many as fit). `JointSpace`
decodes them; `ConstrainedEvaluator` (search/constrained.py) runs each network at its own
setting.

Accuracy is not simulated. The user gives it per (network, weight bits, activation bits),
as a table (CSV or YAML rows: network, weight_bits, activation_bits, accuracy) or a Python
callback `f(network, weight_bits, activation_bits) -> accuracy`, and a minimum per network.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import importlib.util
import re
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..hardware.space import DesignError, Designs, DesignSpace, Parameter, ParameterInfo
from ..inputs import EMPTY, clip, read_text, read_yaml
from ..workloads.layer import Workload

SOFTWARE_KNOBS = ("weight_bits", "activation_bits", "replication")
DEFAULT_BITS = 8
UNLIMITED_COPIES = 0  # a `replication` value: no cap on the copies (the model's default)

AccuracyFn = Callable[[str, int, int], float]
_SOFTWARE_CODE = re.compile(r"w(\d+)a(\d+)(?:r(\d+))?")  # a key's `w8a8` or `w8a8r4`


class PrecisionError(ValueError):
    """A precision set-up or accuracy table is invalid; the message names the field."""


# ---- the genome ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SoftwareParameter(Parameter):
    """A per-network knob, named `<knob>.<network>` (not one of the hardware PARAMETERS)."""

    def __post_init__(self) -> None:
        knob, _, net = self.name.partition(".")
        if knob not in SOFTWARE_KNOBS or not net:
            raise DesignError(f"software parameter {self.name!r} must be "
                              f"<{'|'.join(SOFTWARE_KNOBS)}>.<network>")
        values = tuple(self.values)
        if not values:
            raise DesignError(f"parameter {self.name!r}: the value list is empty")
        low, high, what = ((0, 2**20, "most copies (0 = unlimited), 0..2**20")
                           if knob == "replication" else (1, 32, "number of bits, 1..32"))
        for v in values:
            if (isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating)
                    or float(v) != int(v) or not low <= int(v) <= high):
                raise DesignError(f"parameter {self.name!r}: value {v!r} must be an integer "
                                  f"{what}")
        clean = tuple(int(v) for v in values)
        if len(set(clean)) != len(clean):
            raise DesignError(f"parameter {self.name!r}: duplicate values in {list(clean)}")
        object.__setattr__(self, "values", clean)

    @property
    def info(self) -> ParameterInfo:
        knob, _, net = self.name.partition(".")
        if knob == "replication":
            return ParameterInfo(self.name, "copies", "software",
                                 f"most weight copies per layer of {net} (0 = unlimited)")
        return ParameterInfo(self.name, "bit", "software", f"{knob.replace('_', ' ')} of {net}")

    @property
    def network(self) -> str:
        return self.name.partition(".")[2]


class JointDesigns(Designs):
    """Decoded hardware designs plus their per-network precision columns."""

    def precision(self, network: str) -> tuple[np.ndarray, np.ndarray]:
        """(weight bits, activation bits) of `network` per design (8 where not searched)."""
        def get(knob: str) -> np.ndarray:
            return self.values.get(f"{knob}.{network}", np.full(self.n, float(DEFAULT_BITS)))
        return get("weight_bits"), get("activation_bits")

    def replication(self, network: str) -> np.ndarray:
        """Most weight copies per layer of `network` per design (0 = unlimited, also where
        not searched)."""
        return self.values.get(f"replication.{network}",
                               np.full(self.n, float(UNLIMITED_COPIES)))

    def row(self, i: int) -> dict[str, float]:
        hw = Designs({k: v for k, v in self.values.items() if "." not in k}, self.n).row(i)
        return {**hw, **{k: int(v[i]) for k, v in self.values.items() if "." in k}}


@dataclass(frozen=True)
class JointSpace(DesignSpace):
    """`hardware`'s parameters followed by weight and activation bits (and, when searched,
    the replication cap) per network."""

    hardware: DesignSpace | None = field(default=None, compare=False)

    @classmethod
    def build(cls, hardware: DesignSpace, networks: Sequence[str],
              weight_bits: Sequence[int], activation_bits: Sequence[int],
              replication: Sequence[int] | None = None) -> JointSpace:
        """replication: the per-network copy caps to search (0 = unlimited); None: not
        searched, every network unlimited."""
        if not networks:
            raise PrecisionError("precision.networks: at least one network is needed")
        knobs = (("weight_bits", weight_bits), ("activation_bits", activation_bits))
        if replication is not None:
            knobs += (("replication", replication),)
        soft = tuple(SoftwareParameter(f"{knob}.{net}", tuple(vals))
                     for net in networks for knob, vals in knobs)
        return cls(hardware.technology, hardware.parameters + soft, hardware.name + "+precision",
                   dict(hardware.fixed), hardware)

    @property
    def n_hardware(self) -> int:
        return self.hardware.n_var if self.hardware is not None else self.n_var

    @property
    def networks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.network for p in self.parameters
                                   if isinstance(p, SoftwareParameter)))

    def levels(self) -> dict[str, tuple[str, ...]]:
        """The hardware levels, then `software`: every network's precision."""
        return {**self.hardware.levels(), "software": self.names[self.n_hardware:]}

    def decode(self, genomes: np.ndarray) -> JointDesigns:
        x = self.check_genomes(genomes)
        d = self.hardware.decode(x[:, : self.n_hardware])
        soft = {p.name: np.asarray(p.values, dtype=np.float64)[x[:, j]]
                for j, p in enumerate(self.parameters) if j >= self.n_hardware}
        return JointDesigns({**d.values, **soft}, d.n)

    def keys(self, genomes: np.ndarray) -> list[str]:
        """Hardware key, then `|<network>=w<bits>a<bits>` per network, followed by
        `r<copies>` where replication is searched (r0 = unlimited)."""
        d = self.decode(genomes)
        hw = self.hardware.keys(np.asarray(genomes)[..., : self.n_hardware])
        tails = []
        for net in self.networks:
            wb, ab = d.precision(net)
            rep = ([f"r{int(r)}" for r in d.replication(net)]
                   if f"replication.{net}" in self.names else [""] * d.n)
            tails.append([f"|{net}=w{int(w)}a{int(a)}{r}"
                          for w, a, r in zip(wb, ab, rep, strict=True)])
        return [k + "".join(t[i] for t in tails) for i, k in enumerate(hw)]

    def genomes_from_keys(self, keys: Iterable[str]) -> np.ndarray:
        rows = []
        for key in keys:
            head, *parts = key.split("|")
            values: dict[str, float] = dict(self.hardware.decode(
                self.hardware.genomes_from_keys([head])).row(0))
            for part in parts:
                net, _, code = part.partition("=")
                match = _SOFTWARE_CODE.fullmatch(code)
                if match is None:
                    raise DesignError(f"design key {key!r}: {part!r} is not "
                                      "<network>=w<bits>a<bits>[r<copies>]")
                w, a, r = match.groups()
                values[f"weight_bits.{net}"], values[f"activation_bits.{net}"] = int(w), int(a)
                if f"replication.{net}" in self.names:  # an older key (no r): unlimited
                    values[f"replication.{net}"] = UNLIMITED_COPIES if r is None else int(r)
                elif r is not None and int(r) != UNLIMITED_COPIES:
                    raise DesignError(f"design key {key!r}: {part!r} caps replication, which "
                                      "this space does not search")
            rows.append(values)
        return np.concatenate([self.encode(r) for r in rows]) if rows else np.empty(
            (0, self.n_var), dtype=np.int64)

    def restrict(self, **values: Sequence[float]) -> JointSpace:
        soft = {k: v for k, v in values.items() if "." in k}
        hw = self.hardware.restrict(**{k: v for k, v in values.items() if "." not in k})
        params = tuple(SoftwareParameter(p.name, tuple(soft.get(p.name, p.values)))
                       for p in self.parameters[self.n_hardware:])
        return JointSpace(hw.technology, hw.parameters + params, self.name + "*",
                          dict(hw.fixed), hw)


# ---- workloads at a precision ----------------------------------------------------------------
def at_replication(workload: Workload, max_copies: int) -> Workload:
    """The workload with at most `max_copies` copies of a layer's weights (0 = unlimited)."""
    cap = None if int(max_copies) == UNLIMITED_COPIES else int(max_copies)
    return workload if cap == workload.max_copies else dataclasses.replace(
        workload, max_copies=cap)


def at_precision(workload: Workload, weight_bits: int, activation_bits: int) -> Workload:
    """The workload with every layer's weights at `weight_bits` and its inputs and outputs at
    `activation_bits` (an activation x activation matmul takes activation bits for both)."""
    if weight_bits == DEFAULT_BITS and activation_bits == DEFAULT_BITS and all(
            (la.weight_bits, la.input_bits, la.output_bits) == (8, 8, 8) for la in workload):
        return workload
    layers = tuple(la.replace(weight_bits=weight_bits if la.has_weights else activation_bits,
                              input_bits=activation_bits, output_bits=activation_bits)
                   for la in workload)
    return dataclasses.replace(workload, layers=layers)


# ---- accuracy ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccuracyTable:
    """Accuracy per (network, weight bits, activation bits), from a user's table."""

    values: Mapping[tuple[str, int, int], float]
    source: str = ""

    def __call__(self, network: str, weight_bits: int, activation_bits: int) -> float:
        key = (network, int(weight_bits), int(activation_bits))
        if key not in self.values:
            raise PrecisionError(f"{self.source or 'accuracy table'}: no accuracy for network "
                                 f"{network!r} at weight_bits={key[1]}, activation_bits={key[2]}")
        return self.values[key]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, object]], source: str = "") -> AccuracyTable:
        values: dict[tuple[str, int, int], float] = {}
        for i, row in enumerate(rows, start=1):
            try:
                key = (str(row["network"]).strip(), int(row["weight_bits"]),
                       int(row["activation_bits"]))
                acc = float(row["accuracy"])
            except KeyError as exc:
                raise PrecisionError(f"{source}: row {i} has no column {exc.args[0]!r} "
                                     "(need network, weight_bits, activation_bits, accuracy)"
                                     ) from None
            except (TypeError, ValueError):
                raise PrecisionError(f"{source}: row {i}: bits must be integers and accuracy "
                                     "a number") from None
            if not np.isfinite(acc):
                raise PrecisionError(f"{source}: row {i}: accuracy must be finite")
            if key in values:
                raise PrecisionError(f"{source}: row {i}: {key} appears twice")
            values[key] = acc
        if not values:
            raise PrecisionError(f"{source}: the accuracy table is empty")
        return cls(values, source)

    @classmethod
    def read(cls, path: str | Path) -> AccuracyTable:
        """A CSV (header network,weight_bits,activation_bits,accuracy) or YAML (a list of such
        mappings, or {rows: [...]}) file."""
        p = Path(path)
        if not p.is_file():
            raise PrecisionError(f"precision.accuracy: file {str(p)!r} not found")
        if p.suffix.lower() == ".csv":
            lines = read_text(p, PrecisionError).splitlines(keepends=True)
            try:
                rows = list(csv.DictReader(line for line in lines
                                           if not line.lstrip().startswith("#")))
            except csv.Error as exc:
                raise PrecisionError(f"{p}: not a valid CSV file ({exc})") from None
        elif p.suffix.lower() in (".yaml", ".yml"):
            raw = read_yaml(p, PrecisionError)
            raw = None if raw is EMPTY else raw
            rows = raw.get("rows") if isinstance(raw, dict) else raw
            if not isinstance(rows, list):
                raise PrecisionError(f"{p}: expected a list of rows (or a mapping with 'rows')")
        else:
            raise PrecisionError(f"precision.accuracy: {p.name!r} must be .csv, .yaml or .yml, "
                                 "or a Python callback 'module:function'")
        return cls.from_rows(rows, str(p))


def _where(exc: BaseException) -> str:
    """`file:line` of the innermost frame of an exception's traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"


class UserAccuracy:
    """A user's accuracy callback. An exception it raises becomes a `PrecisionError` that says
    it came from that callback (its name, the file and line, the arguments), not a traceback
    that looks like imcopt's."""

    def __init__(self, fn: AccuracyFn, label: str) -> None:
        self.fn, self.label = fn, label

    def __call__(self, network: str, weight_bits: int, activation_bits: int) -> float:
        try:
            return self.fn(network, weight_bits, activation_bits)
        except PrecisionError:
            raise
        except Exception as exc:
            raise PrecisionError(
                f"precision.accuracy: your callback {self.label} raised "
                f"{type(exc).__name__}: {clip(str(exc), 100)} (at {_where(exc)}, called with "
                f"{network!r}, {weight_bits}, {activation_bits}); the error is in that code"
            ) from None


def load_accuracy(spec: str | AccuracyFn, base: Path | None = None) -> AccuracyFn:
    """An accuracy function from a table file, `module:function` or `file.py:function`, or a
    callable given directly (a callback's errors are reported as its own: `UserAccuracy`)."""
    if isinstance(spec, (AccuracyTable, UserAccuracy)):
        return spec
    if callable(spec):
        return UserAccuracy(spec, getattr(spec, "__qualname__", repr(spec)))
    text = str(spec)
    path = Path(text) if base is None or Path(text).is_absolute() else base / text
    if ":" in text and not text.lower().endswith((".csv", ".yaml", ".yml")):
        target, _, name = text.rpartition(":")
        try:
            if target.endswith(".py"):
                file = Path(target) if base is None or Path(target).is_absolute() \
                    else base / target
                loaded = importlib.util.spec_from_file_location(file.stem, file)
                if loaded is None or not file.is_file():
                    raise FileNotFoundError(target)
                module = importlib.util.module_from_spec(loaded)
                loaded.loader.exec_module(module)  # type: ignore[union-attr]
            else:
                module = importlib.import_module(target)
            fn = getattr(module, name)
        except (ImportError, FileNotFoundError, AttributeError) as exc:
            raise PrecisionError(f"precision.accuracy: cannot load callback {text!r} "
                                 f"({exc.__class__.__name__}: {clip(str(exc), 100)})") from None
        except Exception as exc:  # the user's module failed while it was imported
            raise PrecisionError(f"precision.accuracy: importing your module {target!r} "
                                 f"raised {type(exc).__name__}: {clip(str(exc), 100)} (at "
                                 f"{_where(exc)}); the error is in that code") from None
        if not callable(fn):
            raise PrecisionError(f"precision.accuracy: {text!r} is not callable")
        return UserAccuracy(fn, repr(f"{Path(target).name}:{name}"))
    return AccuracyTable.read(path)


def check_accuracy(fn: AccuracyFn, networks: Iterable[str], weight_bits: Iterable[int],
                   activation_bits: Iterable[int]) -> None:
    """Every (network, bits) combination the search can reach has a finite accuracy."""
    for net in networks:
        for w in weight_bits:
            for a in activation_bits:
                value = fn(net, int(w), int(a))
                if not isinstance(value, (int, float, np.floating)) or not np.isfinite(value):
                    raise PrecisionError(f"precision.accuracy: accuracy of {net!r} at "
                                         f"weight_bits={w}, activation_bits={a} is {value!r}, "
                                         "not a finite number")
