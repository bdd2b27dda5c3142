"""Codes of the coded circuit parameters: ADC architecture and input encoding.

The circuits themselves (energy, area, time) are in `imcopt.model.components.adc` and
`imcopt.model.components.drivers`.
"""

from __future__ import annotations

from .space import Designs, check_codes

ADC_TYPES = {1: "sar", 2: "flash"}
INPUT_ENCODINGS = {1: "amplitude", 2: "pulse_width", 3: "pulse_count"}


def check_design_codes(designs: Designs) -> None:
    """A DesignError naming the first coded parameter whose value is not a code."""
    check_codes("adc_type", designs["adc_type"], ADC_TYPES)
    check_codes("input_encoding", designs["input_encoding"], INPUT_ENCODINGS)


def code_names(name: str) -> dict[int, str]:
    """The codes of a coded parameter and their names (empty for other parameters)."""
    from .memory import memory_names

    return {"adc_type": ADC_TYPES, "input_encoding": INPUT_ENCODINGS,
            "offchip_memory": memory_names()}.get(name, {})
