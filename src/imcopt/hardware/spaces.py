"""Named design spaces: imcopt's defaults and the published study's (docs/original_study.md).

`rram` and `sram` (the defaults) are the study's parameters plus the circuit knobs that decide
whether a chip computes at all: rows activated per conversion (`parallel_rows`), ADC
resolution (`adc_bits`), columns sharing an ADC (`cols_per_adc`) and input bits per array read
(`dac_bits`, 1 = bit-serial) and the ADC's architecture (`adc_type`, SAR or flash).
`rram_study`, `sram_study` and `sram_study4` are the study's own spaces, at its fixed circuit
(`STUDY_SETTINGS`: 8-bit inputs as one pulse-count slice, all rows at once, a 5-bit flash ADC
per column).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from .space import STUDY_SETTINGS, DesignError, DesignSpace, DesignTypeError, Parameter

VOLTAGES_V = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85)
CLOCK_PERIODS_S = (1e-9, 2e-9, 4e-9, 6e-9, 8e-9, 1e-8)
MIB = 4096  # GLB words (2048 bit) per MiB
#: the circuit knobs the default spaces add to the study's parameters
CIRCUIT_KNOBS = (
    Parameter("parallel_rows", (8, 16, 32, 64, 128)),
    Parameter("adc_bits", (3, 4, 5, 6, 7, 8)),
    Parameter("cols_per_adc", (1, 2, 4, 8, 16)),
    Parameter("dac_bits", (1, 2, 4)),
    Parameter("adc_type", (1, 2)),
)


def rram_space() -> DesignSpace:
    """RRAM, the study's 9 parameters and the circuit knobs: 10,886,400,000 designs."""
    study = rram_study_space()
    return DesignSpace("rram", (*study.parameters, *CIRCUIT_KNOBS), name="rram")


def sram_space() -> DesignSpace:
    """SRAM, the study's 8 parameters and the circuit knobs: 3,657,830,400 designs."""
    study = sram_study_space()
    return DesignSpace("sram", (*study.parameters, *CIRCUIT_KNOBS), name="sram",
                       fixed={"bits_per_cell": 1})


def rram_study_space() -> DesignSpace:
    """RRAM as the published study searched it: 9 parameters, 12,096,000 designs."""
    return DesignSpace(
        "rram",
        (
            Parameter("voltage_v", VOLTAGES_V),
            Parameter("bits_per_cell", tuple(range(1, 9))),
            Parameter("clock_period_s", CLOCK_PERIODS_S),
            Parameter("rows_per_array", (32, 64, 128, 256, 512)),
            Parameter("cols_per_array", (32, 64, 128, 256, 512)),
            Parameter("router_groups", (1, 2, 4, 8, 16, 32)),
            Parameter("tiles_per_group", (4, 8, 16, 32, 64)),
            Parameter("arrays_per_tile", (4, 8, 16, 32, 64, 128)),
            Parameter("glb_depth_words", tuple(int(m * MIB) for m in (0.5, 1, 2, 4, 8, 16, 32))),
        ),
        name="rram_study",
        fixed=STUDY_SETTINGS,
    )


def sram_study_space() -> DesignSpace:
    """SRAM, the study's declared value lists (its 9-workload run): 4,064,256 designs.

    Bits per cell is fixed to 1 (a 6T cell holds one bit) and so is not a search variable.
    """
    return DesignSpace(
        "sram",
        (
            Parameter("voltage_v", VOLTAGES_V),
            Parameter("clock_period_s", CLOCK_PERIODS_S),
            Parameter("rows_per_array", (16, 32, 64, 128, 256, 512)),
            Parameter("cols_per_array", (16, 32, 64, 128, 256, 512)),
            Parameter("router_groups", (1, 2, 4, 6, 8, 16, 32)),
            Parameter("tiles_per_group", (2, 4, 8, 16, 32, 64)),
            Parameter("arrays_per_tile", (2, 4, 8, 16, 32, 64, 128)),
            Parameter("glb_depth_words", tuple(m * MIB for m in (1, 2, 4, 8, 16, 32, 64, 128))),
        ),
        name="sram_study",
        fixed={**STUDY_SETTINGS, "bits_per_cell": 1},
    )


def sram_study4_space() -> DesignSpace:
    """SRAM as the study's 4-workload runs could reach it (their bounds): 1,512,000 designs."""
    full = sram_study_space()
    space = full.restrict(
        rows_per_array=(16, 32, 64, 128, 256),
        cols_per_array=(16, 32, 64, 128, 256),
        router_groups=(1, 2, 4, 6, 8, 16),
        tiles_per_group=(2, 4, 8, 16, 32),
        arrays_per_tile=(2, 4, 8, 16, 32, 64),
        glb_depth_words=tuple(m * MIB for m in (1, 2, 4, 8, 16, 32, 64)),
    )
    return DesignSpace("sram", space.parameters, name="sram_study4", fixed=full.fixed)


SPACES: dict[str, Callable[[], DesignSpace]] = {
    "rram": rram_space,
    "sram": sram_space,
    "rram_study": rram_study_space,
    "sram_study": sram_study_space,
    "sram_study4": sram_study4_space,
}


def get_space(name: str) -> DesignSpace:
    """A named space: rram, sram (defaults), rram_study, sram_study, sram_study4."""
    if not isinstance(name, str):
        raise DesignTypeError(f"space: expected a space name ({', '.join(SPACES)}), got "
                              f"{type(name).__name__}")
    key = name.lower()
    if key not in SPACES:
        close = difflib.get_close_matches(key, list(SPACES), n=2)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise DesignError(f"unknown design space {shown!r}.{hint} Known: {', '.join(SPACES)}")
    return SPACES[key]()
