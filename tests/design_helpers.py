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
