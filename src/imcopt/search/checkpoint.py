"""Checkpoint and resume of one search, by deterministic replay.

A search is a pure function of its config and seed, except for the cost model runs, which are
the expensive part. `JournalEvaluator` appends every batch the model evaluates (one
generation, one sampling round, ...) to a checksummed journal (`imcopt.storage.Journal`) as
soon as it is computed. Re-running the same config with the same journal replays the search
from the start: the algorithms make the same choices (same seed), and every batch they ask
for is read back from the journal instead of being computed, byte for byte, until the point
where the killed run stopped; from there it computes and appends as usual. The final outputs
are therefore identical to an uninterrupted run's, and nothing evaluated before the kill is
evaluated again. (Pickling the pymoo algorithm state per generation would also work, but
would tie checkpoints to pymoo's internals; the journal holds plain arrays.)

Batches are written in groups, not one by one: the first at once (the checkpoint exists from
the start), then whatever has accumulated every `FLUSH_EVERY_S` seconds, and the rest when the
search ends or stops (one write and one fsync per group). A kill can only lose the batches
not written yet, which the resumed run computes again, and leave the journal's last record
cut short, which reading drops. A SIGINT (Ctrl-C) under `stop_on_sigint` lets the current
batch finish and be journaled, then raises `SearchInterrupted`; a second Ctrl-C stops at once.
"""

from __future__ import annotations

import hashlib
import io
import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..objectives import Evaluation, Evaluator
from ..storage import Journal, StorageError

if TYPE_CHECKING:
    from .config import SearchConfig

FLUSH_EVERY_S = 0.5  # journal writes: at most one group (one fsync) per this many seconds
_FIELDS = ("genomes", "energy_j", "latency_s", "area_mm2", "capacity_ok", "capacity_violation",
           "reason", "cost_usd")


class SearchInterrupted(Exception):  # noqa: N818 - a request, not a failure
    """The search stopped on request (SIGINT) after journaling its current batch."""

    def __init__(self, n_designs: int, journal: Path | None) -> None:
        super().__init__(f"interrupted; {n_designs} evaluated designs are checkpointed")
        self.n_designs, self.journal = n_designs, journal


def checkpoint_path(out: str | Path, config: SearchConfig | str) -> Path:
    """The journal of a search in output folder `out`: one per distinct search, named by a
    hash of its config (of `search_identity` for a `SearchConfig`: how evaluations run does
    not change what they give, so a search resumes on any executor)."""
    if not isinstance(config, str):
        from .config import search_identity

        config = json.dumps(search_identity(config), sort_keys=True)
    digest = hashlib.sha256(config.encode()).hexdigest()[:12]
    return Path(out) / f".checkpoint-{digest}.journal"


def read_journal(path: str | Path) -> list[Evaluation]:
    """The batches a journal holds (a torn last record dropped); StorageError if corrupt."""
    journal = Journal(path)
    return [load_evaluation(r, journal.path) for r in journal.records()]


def dump_evaluation(ev: Evaluation) -> bytes:
    buf = io.BytesIO()
    arrays = {f: np.asarray(getattr(ev, f)) for f in _FIELDS}
    arrays["reason"] = arrays["reason"].astype(str)
    np.savez(buf, area_limit_mm2=np.float64(ev.area_limit_mm2), **arrays)
    return buf.getvalue()


def load_evaluation(data: bytes, where: Path) -> Evaluation:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            parts = {f: z[f] for f in _FIELDS}
            limit = float(z["area_limit_mm2"])
    except (ValueError, KeyError, OSError) as exc:
        raise StorageError(f"{where}: a record does not hold an evaluation ({exc}); delete "
                           "the file to start over") from None
    return Evaluation(parts["genomes"].astype(np.int64), parts["energy_j"], parts["latency_s"],
                      parts["area_mm2"], parts["capacity_ok"].astype(bool),
                      parts["capacity_violation"], limit, parts["reason"], parts["cost_usd"])


@dataclass
class JournalEvaluator(Evaluator):
    """An `Evaluator` whose model runs are journaled, and replayed from the journal."""

    journal: Journal | None = None
    stop_requested: bool = False
    n_replayed: int = 0
    n_journaled: int = 0  # designs in the journal (replayed or appended)
    _replay: list[Evaluation] = field(default_factory=list, repr=False)
    _unwritten: list[bytes] = field(default_factory=list, repr=False)
    _written_at: float | None = field(default=None, repr=False)

    def open_journal(self, path: str | Path) -> int:
        """Use the journal at `path` (created if missing); returns how many designs it holds."""
        self.journal = Journal(path)
        self._replay = read_journal(path)
        return sum(len(e) for e in self._replay)

    def _compute(self, genomes: np.ndarray) -> Evaluation:
        if self.journal is None or not self.cache or len(genomes) == 0:
            out = super()._compute(genomes)
        elif self._replay and np.array_equal(self._replay[0].genomes, genomes):
            out = self._replay.pop(0)  # the killed run computed this very batch
            self.n_evals += len(out)
            self.n_replayed += len(out)
            self.n_journaled += len(out)
        else:
            self._replay = []  # the run went elsewhere (should not happen): stop replaying
            out = super()._compute(genomes)
            self._unwritten.append(dump_evaluation(out))
            self.n_journaled += len(out)
            if (self._written_at is None or self.stop_requested
                    or time.monotonic() - self._written_at >= FLUSH_EVERY_S):
                self.flush_journal()
        if self.stop_requested:
            raise SearchInterrupted(self.n_journaled, None if self.journal is None
                                    else self.journal.path)
        return out

    def flush_journal(self) -> None:
        """Write the batches computed since the last write (one write, one fsync)."""
        if self.journal is not None and self._unwritten:
            self.journal.append(*self._unwritten)
            self._unwritten = []
        self._written_at = time.monotonic()


@contextmanager
def stop_on_sigint(evaluator: JournalEvaluator) -> Iterator[None]:
    """While inside: the first SIGINT asks `evaluator` to stop after its current batch."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if evaluator.stop_requested:
            raise KeyboardInterrupt
        evaluator.stop_requested = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
