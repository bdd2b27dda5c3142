"""Many searches in lockstep, their generations evaluated in one model call.

Each search is *steps* (`algorithms.Steps`): a generator that yields the genomes it is about to
evaluate. `lockstep` advances every running search to its next yield, evaluates all the yielded
batches at once with `prefetch` (e.g. a study's shared store: `Evaluator.evaluate` of the union,
so the model runs once per generation of the whole group, on a batch big enough to amortise its
per-call cost), then resumes them all; each search then finds its own batch cached. A search's
results do not depend on which others run beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from .algorithms import Steps


def lockstep(searches: Sequence[Steps[object]], prefetch: Callable[[np.ndarray], object]
             ) -> Iterator[list[tuple[int, object]]]:
    """Run `searches` together. After every step, yields the (index, result) of the searches
    that ended in it (an empty step yields nothing)."""
    batches: dict[int, np.ndarray] = {}
    ended: list[tuple[int, object]] = []

    def advance(i: int) -> None:
        try:
            batches[i] = next(searches[i])
        except StopIteration as stop:
            ended.append((i, stop.value))

    for i in range(len(searches)):
        advance(i)
    while True:
        if ended:
            yield list(ended)
            ended.clear()
        if not batches:
            return
        prefetch(np.concatenate(list(batches.values())))
        current = list(batches)
        batches.clear()
        for i in current:
            advance(i)
