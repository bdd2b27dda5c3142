"""Fit a technology's named constants to recorded simulator results.

The model stays the same analytical model: calibration only changes the values in the
technology's constants table (energies per event, areas per component, delays, voltage and
capacity exponents). It minimises the squared log10 error of energy, latency and area over
the training designs (each workload and metric scaled by its own spread of log values, so
that the fit keeps every workload's ordering), with the reference's own assumptions
(`assumptions="cimloop"`), and
reports fit and held-out agreement. Held-out designs are chosen by a hash of their key, so
the split is the same on every machine and independent of row order.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from .hardware import Technology, load_technology, save_technology
from .validation import METRICS, read_reference, resolve_workload, side_by_side, summarise
from .workloads import Workload, load_layer_table

#: constants fitted in log space (scale factors), within `LOG_RANGE_DECADES` of their
#: sourced values; every other constant keeps its value
LOG_CONSTANTS = (
    # energies and capacitances
    "cell_gate_capacitance_f", "cell_junction_capacitance_f", "wire_capacitance_f_per_m",
    "sram_bitline_swing_fraction", "dac_capacitance_per_bit_f", "sample_capacitance_f",
    "adc_walden_fom_j", "comparator_energy_j", "logic_energy_per_bit_j", "wl_switch_energy_j",
    "row_register_energy_j", "cimloop_sram_set_energy_j", "cimloop_weight_driver_energy_j",
    "sram_energy_per_bit_j", "router_energy_per_bit_j", "dram_energy_per_bit_j",
    # timing under the reference's policy
    "cimloop_cycles_per_slice", "layer_overhead_cycles",
    # areas
    "cell_area_f2", "row_decoder_area_mm2", "wl_switch_area_mm2", "driver_area_per_farad_mm2",
    "dac_area_per_bit_mm2",
    "column_periphery_area_mm2", "adc_area_base_mm2", "adc_area_per_step_mm2",
    "comparator_area_mm2", "shift_add_area_per_bit_mm2", "array_periphery_area_mm2",
    "tile_area_mm2", "router_area_mm2", "sram_area_per_bit_mm2",
    "chip_periphery_area_mm2",
)
#: how far (decades) a fitted constant may move from its source: beyond that a mechanism is
#: missing, not a number (docs/model.md, "Constants")
LOG_RANGE_DECADES = 1.0
#: constants fitted in linear space, with bounds
LINEAR_CONSTANTS = {
    # CACTI's trend: access energy ~ capacity^x with x about 0.5
    "sram_energy_capacity_exponent": (0.2, 0.8),
}
METRIC_WEIGHTS = {"energy_j": 1.0, "latency_s": 1.0, "area_mm2": 1.0}
LEVEL_WEIGHT = 0.3  # weight of a workload's mean log error against its per-design shape
PRIOR_WEIGHT = 0.01  # pull of the sourced starting values, per decade


def is_held_out(key: str, fraction: float) -> bool:
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


@dataclass
class _Group:
    label: str  # the reference's workload name
    workload: Workload
    keys: list[str]
    ref: dict[str, np.ndarray]


@dataclass
class CalibrationResult:
    technology: Technology
    fit_summary: pd.DataFrame
    held_out_summary: pd.DataFrame
    initial_cost: float
    final_cost: float


def _groups(ref: pd.DataFrame, tables: dict[str, Workload]) -> list[_Group]:
    out = []
    for wl_name, g in ref.groupby("workload", sort=True):
        workload = resolve_workload(str(wl_name), tables)
        if workload is None:
            raise ValueError(f"no layers for workload {wl_name!r}")
        out.append(_Group(str(wl_name), workload, g["design_key"].tolist(),
                          {m: g[m].to_numpy(dtype=float) for m in METRICS}))
    return out


def _model_rows(tech: Technology, groups: Sequence[_Group]) -> pd.DataFrame:
    return pd.concat([side_by_side(tech, g.label, g.workload, g.keys, g.ref) for g in groups],
                     ignore_index=True)


def calibrate_technology(
    technology: Technology | str,
    reference: pd.DataFrame,
    layers: dict[str, Workload] | None = None,
    held_out_fraction: float = 0.2,
    max_evaluations: int = 400,
    constants: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    held_out: np.ndarray | None = None,
) -> CalibrationResult:
    """Fit one technology's constants to the reference rows of that technology.

    Rows are held out of the fit by a hash of their design key (`held_out_fraction`), or,
    when `held_out` is given (a boolean mask over `reference`'s rows), exactly those rows."""
    base = technology if isinstance(technology, Technology) else load_technology(technology)
    base = base.with_settings(assumptions="cimloop")
    keep = (reference["technology"] == base.name).to_numpy().copy()
    if "technology_node_nm" in reference.columns:
        keep &= (reference["technology_node_nm"].fillna(32) == 32).to_numpy()
    ref = reference[keep]
    if ref.empty:
        raise ValueError(f"the reference holds no rows for technology {base.name!r}")
    if held_out is not None:
        held = pd.Series(np.asarray(held_out, dtype=bool)[keep], index=ref.index)
    else:
        held = ref["design_key"].map(lambda k: is_held_out(k, held_out_fraction))
    train_groups = _groups(ref[~held], layers or {})
    test_groups = _groups(ref[held], layers or {})

    def wanted(k: str) -> bool:
        return ((constants is None or k in constants) and k in base.constants
                and base.constants[k].fit)

    names_log = [k for k in LOG_CONSTANTS if wanted(k)]
    names_lin = [k for k in LINEAR_CONSTANTS if wanted(k)]
    # start from the table's current values; bounds and prior come from the sourced values,
    # so repeated fits cannot walk away from the physics
    x0 = np.array([np.log10(base.c[k]) for k in names_log] + [base.c[k] for k in names_lin])
    x_src = np.array([np.log10(base.constants[k].sourced) for k in names_log]
                     + [base.constants[k].sourced for k in names_lin])
    lo = np.array([v - LOG_RANGE_DECADES for v in x_src[: len(names_log)]]
                  + [LINEAR_CONSTANTS[k][0] for k in names_lin])
    hi = np.array([v + LOG_RANGE_DECADES for v in x_src[: len(names_log)]]
                  + [LINEAR_CONSTANTS[k][1] for k in names_lin])

    def tech_at(x: np.ndarray) -> Technology:
        values = {k: 10 ** x[i] for i, k in enumerate(names_log)}
        values.update({k: x[len(names_log) + i] for i, k in enumerate(names_lin)})
        return base.with_constants(**values)

    # Each (workload, metric) counts in units of its own spread of log10 values, so that a
    # workload whose designs differ by 5 % gets as much say as one spanning decades; and the
    # shape (log error minus its workload mean) weighs more than the level, because designs
    # are chosen by how they compare, not by absolute numbers.
    spread = {m: np.concatenate([np.full(len(g.keys), max(np.std(np.log10(g.ref[m])), 1e-3))
                                 for g in train_groups]) for m in METRIC_WEIGHTS}
    group_of = np.concatenate([np.full(len(g.keys), i) for i, g in enumerate(train_groups)])
    group_size = np.bincount(group_of)

    def residuals(x: np.ndarray) -> np.ndarray:
        rows = _model_rows(tech_at(x), train_groups)
        res = []
        for metric, weight in METRIC_WEIGHTS.items():
            r = np.log10(rows[f"model_{metric}"].to_numpy() / rows[f"ref_{metric}"].to_numpy())
            r = np.nan_to_num(r, nan=10.0, posinf=10.0, neginf=-10.0) / spread[metric]
            level = (np.bincount(group_of, weights=r) / group_size)[group_of]
            res.append(weight * (r - level))
            res.append(weight * LEVEL_WEIGHT * level)
        return np.concatenate(res) / np.sqrt(len(rows))

    x0 = np.clip(x0, lo, hi)
    r0 = residuals(x0)
    initial = float(np.sum(r0**2))
    # constants the data cannot see (e.g. DRAM energy for a chip that never uses DRAM under
    # these assumptions) keep their sourced values instead of drifting
    # (probed with a large step, so that a constant which starts out negligible is not
    # mistaken for one the data cannot see)
    free = np.zeros(len(x0), dtype=bool)
    for i in range(len(x0)):
        step = 2.0 if i < len(names_log) else 0.5  # decades / linear units
        for probe in (x_src[i] + step, x_src[i] - step, x0[i] + step):
            x = x0.copy()
            x[i] = np.clip(probe, lo[i], hi[i])
            free[i] |= bool(np.max(np.abs(residuals(x) - r0)) > 1e-6)
    frozen = [n for n, f in zip(names_log + names_lin, free, strict=True) if not f]

    def objective(z: np.ndarray) -> np.ndarray:
        x = x0.copy()
        x[free] = z
        # a weak prior towards the sourced values: a constant moves only as far as the
        # data asks (PRIOR_WEIGHT per decade, per unit of a linear constant)
        return np.concatenate([residuals(x), PRIOR_WEIGHT * (z - x_src[free])])

    if progress:
        progress(f"{base.name}: fitting {int(free.sum())} constants on "
                 f"{sum(len(g.keys) for g in train_groups)} rows (initial cost {initial:.4f}); "
                 f"not seen by the data, kept: {', '.join(frozen) or 'none'}")
    fit = least_squares(objective, x0[free], bounds=(lo[free], hi[free]), x_scale=1.0,
                        max_nfev=max_evaluations, diff_step=1e-3)
    x_best = x0.copy()
    x_best[free] = fit.x
    tech = tech_at(x_best)
    final = float(np.sum(residuals(x_best) ** 2))
    if progress:
        progress(f"{base.name}: cost {initial:.4f} -> {final:.4f} after {fit.nfev} evaluations")
    calibration = {
        "status": "fitted",
        "date": _dt.date.today().isoformat(),
        "data": "CiMLoop results of the published study (docs/original_study.md §5)"
                ", 32 nm rows",
        "assumptions_during_fit": "cimloop",
        "held_out_fraction": held_out_fraction,
        "fit_rows": int((~held).sum()),
        "held_out_rows": int(held.sum()),
        "objective": "squared log10 errors of energy, latency, area, each divided by the "
                     "workload's spread of log10 reference values; per-workload mean error "
                     f"weighted {LEVEL_WEIGHT}",
        "initial_cost": round(initial, 6),
        "final_cost": round(final, 6),
        "fitted_constants": [n for n, f in zip(names_log + names_lin, free, strict=True) if f],
        "not_identifiable_kept": frozen,
    }
    tech = dataclasses.replace(tech, calibration=calibration, assumptions="physical")
    fitted = tech.with_settings(assumptions="cimloop")
    return CalibrationResult(
        technology=tech,
        fit_summary=summarise(_model_rows(fitted, train_groups)),
        held_out_summary=(summarise(_model_rows(fitted, test_groups)) if test_groups
                          else pd.DataFrame()),
        initial_cost=initial,
        final_cost=final,
    )


def calibrate(
    reference: str | Path,
    layers: str | Path | None = None,
    technologies: Sequence[str] = ("rram", "sram"),
    write: bool = False,
    held_out_fraction: float = 0.2,
    max_evaluations: int = 400,
    progress: Callable[[str], None] | None = None,
) -> dict[str, CalibrationResult]:
    """Fit each technology; with write=True the built-in constants tables are rewritten."""
    ref = read_reference(reference)
    tables = load_layer_table(layers) if layers is not None else {}
    out = {}
    for name in technologies:
        result = calibrate_technology(name, ref, tables, held_out_fraction, max_evaluations,
                                      progress=progress)
        if write:
            base = load_technology(name)
            save_technology(result.technology, base.path)  # type: ignore[arg-type]
        out[name] = result
    return out
