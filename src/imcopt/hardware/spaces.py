"""The published study's design spaces (ORIGINAL_STUDY.md 1.3, 1.4), by name."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from .space import DesignError, DesignSpace, DesignTypeError, Parameter

VOLTAGES_V = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85)
CLOCK_PERIODS_S = (1e-9, 2e-9, 4e-9, 6e-9, 8e-9, 1e-8)
MIB = 4096  # GLB words (2048 bit) per MiB


def rram_space() -> DesignSpace:
    """RRAM, 9 parameters, 12,096,000 designs."""
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
        name="rram",
    )


def sram_space() -> DesignSpace:
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
        name="sram",
        fixed={"bits_per_cell": 1},
    )


def sram_study4_space() -> DesignSpace:
    """SRAM as the study's 4-workload runs could reach it (their bounds): 1,512,000 designs."""
    full = sram_space()
    space = full.restrict(
        rows_per_array=(16, 32, 64, 128, 256),
        cols_per_array=(16, 32, 64, 128, 256),
        router_groups=(1, 2, 4, 6, 8, 16),
        tiles_per_group=(2, 4, 8, 16, 32),
        arrays_per_tile=(2, 4, 8, 16, 32, 64),
        glb_depth_words=tuple(m * MIB for m in (1, 2, 4, 8, 16, 32, 64)),
    )
    return DesignSpace("sram", space.parameters, name="sram_study4", fixed={"bits_per_cell": 1})


SPACES: dict[str, Callable[[], DesignSpace]] = {
    "rram": rram_space,
    "sram": sram_space,
    "sram_study4": sram_study4_space,
}


def get_space(name: str) -> DesignSpace:
    """A named default space: rram, sram, sram_study4."""
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
