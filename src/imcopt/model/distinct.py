"""Distinct rows of a few columns, by 1-D sorts: many designs share a handful of settings
(the partial-sum width, an infeasibility reason), so work is done once per distinct row."""

from __future__ import annotations

import numpy as np


def distinct_rows(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, inverse): the index of each distinct row's first occurrence, in the order of
    `np.unique(np.column_stack(columns), axis=0)`, and each row's distinct row. Rows are coded
    mixed-radix by each column's distinct values, so only 1-D sorts run (`np.unique(axis=0)`
    sorts rows as byte strings, several times slower)."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        uniq, inverse = np.unique(np.asarray(col), return_inverse=True)
        code = code * len(uniq) + inverse.reshape(-1)
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)
