"""Helpers shared by the model tests (not a test module)."""

from __future__ import annotations

import numpy as np

from imcopt.hardware.space import Designs


def with_changed(d: Designs, **values: float) -> Designs:
    """A copy of `d` with the given parameters set to one value for every design."""
    changed = {k: v.copy() for k, v in d.values.items()}
    for k, v in values.items():
        changed[k] = np.full(d.n, float(v))
    return Designs(changed, d.n)


#: one circuit operating point of the default spaces that keeps every column sum exact for
#: cells of up to 4 bits (8 rows x 1-bit inputs x 15 levels = 120 < 2^7), with an ADC shared
#: by 16 columns: small test spaces restrict the circuit knobs to it, so that feasibility
#: turns on capacity and area
PHYSICAL_CIRCUIT = {"parallel_rows": [8], "adc_bits": [7], "cols_per_adc": [16], "dac_bits": [1],
                    "adc_type": [1]}
