"""`EvaluationCache`: a persistent store of evaluated (design, workload) metrics, one SQLite
file per study or search output folder (`evaluations.sqlite`).

Key: backend, model version (`Backend.version`: for the analytical model the package version
plus a hash of the technology's constants), technology, workload (name + hash of its layers)
and the design key (`A_...` reference key, plus parameters outside it). Values: energy_j,
latency_s, area_mm2, feasible, weight_arrays_required, reason (failures included, so a failed
simulator run is not retried; delete the file to retry).

A damaged file (not SQLite, malformed, another program's database) is renamed
`evaluations.sqlite.damaged-<time>-<pid>` with a warning and a new one is started: the
evaluations it held are computed again.

Safety: WAL journal, every `put` is one transaction (`INSERT OR IGNORE`: results are
deterministic, the first writer wins), a busy timeout for concurrent writers in other
processes; a process killed with SIGKILL leaves whole batches or nothing. Each process opens
its own connection (the object pickles without it).

Searches write in batches: `stage` holds results in memory (`get` finds them there) and
writes what it holds in one transaction once `FLUSH_ROWS` rows or `FLUSH_EVERY_S` seconds
have gathered, and on `flush` / `close`. A kill loses at most the staged rows, which are
computed again.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from .backends.base import WorkloadMetrics

FILE = "evaluations.sqlite"
T = TypeVar("T")


def cache_wanted(setting: bool | str, backend_name: str) -> bool:
    """Whether a run keeps a persistent cache: `cache: true/false`, or auto: for every backend
    but the analytical model (microseconds per design: reading the cache back would cost as
    much as computing, and its file would outgrow the results)."""
    return setting is True or (setting == "auto" and backend_name != "analytical")


_COLUMNS = ("energy_j", "latency_s", "area_mm2", "feasible", "weight_arrays_required", "reason")
_BATCH = 5000  # keys per SELECT ... IN (...) (SQLite >= 3.32 allows 32,766)
FLUSH_ROWS = 20_000  # staged rows written at once
FLUSH_EVERY_S = 1.0  # ... or every so often
_SCHEMA = """
CREATE TABLE IF NOT EXISTS contexts (
    id INTEGER PRIMARY KEY, backend TEXT NOT NULL, model_version TEXT NOT NULL,
    technology TEXT NOT NULL, workload TEXT NOT NULL,
    UNIQUE (backend, model_version, technology, workload));
CREATE TABLE IF NOT EXISTS evaluations (
    context INTEGER NOT NULL REFERENCES contexts(id), design_key TEXT NOT NULL,
    energy_j REAL, latency_s REAL, area_mm2 REAL, feasible INTEGER NOT NULL,
    weight_arrays_required REAL, reason TEXT NOT NULL,
    PRIMARY KEY (context, design_key)) WITHOUT ROWID;
"""


class CacheError(ValueError):
    """The evaluation cache file cannot be used (busy, unwritable); one line naming it."""


class EvaluationCache:
    """Persistent (design, workload) results in one SQLite file (see module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.hits = 0
        self.misses = 0
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._contexts: dict[tuple[str, str, str, str], int] = {}
        self._generation = 0  # how many times a damaged file was set aside
        self._staged: dict[int, dict[str, tuple]] = {}  # context handle -> key -> stored row
        self._n_staged = 0
        self._flushed_at = time.monotonic()

    def __getstate__(self) -> dict:
        return {"path": self.path, "hits": 0, "misses": 0, "_conn": None, "_pid": -1,
                "_contexts": {}, "_generation": 0, "_staged": {}, "_n_staged": 0,
                "_flushed_at": 0.0}

    def _db(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            try:
                conn = self._open()
            except sqlite3.DatabaseError as exc:
                self._set_aside(exc)
                self._generation += 1
                conn = self._open()
            self._conn, self._pid, self._contexts = conn, os.getpid(), {}
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")
            columns = [r[1] for r in conn.execute("PRAGMA table_info(evaluations)")]
            if columns != ["context", "design_key", *_COLUMNS]:
                raise sqlite3.DatabaseError("not an imcopt evaluation cache (other columns)")
        except BaseException:
            conn.close()
            raise
        return conn

    def _set_aside(self, exc: sqlite3.DatabaseError) -> None:
        """A damaged cache file is renamed (kept for inspection) and a new one started, with
        a warning: the evaluations it held are computed again. A busy or unwritable file is
        an error (`CacheError`), not damage."""
        message = " ".join(str(exc).split())
        if isinstance(exc, sqlite3.OperationalError) and not any(
                w in message for w in ("malformed", "not a database", "corrupt")):
            raise CacheError(f"{self.path}: the evaluation cache cannot be used ({message}); "
                             "--no-cache (or cache: false) runs without it") from None
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{os.getpid()}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                part.replace(Path(f"{aside}{suffix}"))
        warnings.warn(f"{self.path}: the evaluation cache is damaged ({message}); set aside as "
                      f"{aside.name} and started again (its evaluations are computed again)",
                      UserWarning, stacklevel=4)

    def _retry(self, action: Callable[[], T], fallback: Callable[[], T]) -> T:
        """`action()`; if the file turns out damaged, set it aside and return `fallback()`.
        Context handles given out before are stale then (`_live`)."""
        try:
            return action()
        except sqlite3.DatabaseError as exc:
            self._set_aside(exc)
            self._contexts = {}
            self._generation += 1
            return fallback()

    def _live(self, context: int) -> int | None:
        """The row id of a context handle, or None when it belongs to a file set aside."""
        return context & 0xFFFFFFFF if context >> 32 == self._generation else None

    def close(self) -> None:
        self.flush()
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def context(self, backend: str, model_version: str, technology: str, workload: str) -> int:
        """The id of one (backend, model version, technology, workload) context."""
        key = (backend, model_version, technology, workload)
        return self._retry(lambda: self._context(key), lambda: self._context(key))

    def _context(self, key: tuple[str, str, str, str]) -> int:
        """A handle: the context's row id, tagged with the file's generation."""
        if key not in self._contexts:
            db = self._db()
            db.execute("INSERT OR IGNORE INTO contexts (backend, model_version, technology, "
                       "workload) VALUES (?, ?, ?, ?)", key)
            self._contexts[key] = db.execute(
                "SELECT id FROM contexts WHERE backend = ? AND model_version = ? AND "
                "technology = ? AND workload = ?", key).fetchone()[0]
        return (self._generation << 32) | self._contexts[key]

    def get(self, context: int, keys: Sequence[str], workload: str = ""
            ) -> tuple[np.ndarray, WorkloadMetrics]:
        """(found: (N,) bool, metrics of the found designs in key order); nothing found when
        the file turns out damaged (it is set aside)."""
        staged = self._staged.get(context, {})
        return self._retry(lambda: self._get(context, staged, keys, workload),
                           lambda: self._get(None, staged, keys, workload))

    def _get(self, handle: int | None, staged: dict[str, tuple], keys: Sequence[str],
             workload: str) -> tuple[np.ndarray, WorkloadMetrics]:
        """Found in `staged`, then in the file (unless `handle` is None or stale)."""
        db = self._db()
        context = None if handle is None else self._live(handle)
        got: list[tuple] = [(k, *staged[k]) for k in keys if k in staged]
        keys_db = [k for k in keys if k not in staged] if staged else list(keys)
        for i in range(0, len(keys_db) if context is not None else 0, _BATCH):
            part = keys_db[i:i + _BATCH]
            got += db.execute(f"SELECT design_key, {', '.join(_COLUMNS)} FROM evaluations "
                              f"WHERE context = ? AND design_key IN ({','.join('?' * len(part))})",
                              [context, *part]).fetchall()
        cols = list(zip(*got, strict=True)) if got else [()] * (1 + len(_COLUMNS))
        where = dict(zip(cols[0], range(len(got)), strict=True))
        pos = np.fromiter((where.get(k, -1) for k in keys), np.int64, len(keys))
        found = pos >= 0
        take = pos[found]
        self.hits += len(take)
        self.misses += len(keys) - len(take)
        num = [np.array(c, dtype=float)[take] for c in cols[1:4]]  # NULL (a stored NaN): nan
        metrics = WorkloadMetrics(workload, *num, np.array(cols[4], dtype=bool)[take],
                                  np.array(cols[5], dtype=float)[take],
                                  np.array(cols[6], dtype=object)[take])
        return found, metrics

    def put(self, context: int, keys: Sequence[str], metrics: WorkloadMetrics) -> None:
        """Store results (one transaction; keys already stored are left as they are). When
        the file turns out damaged it is set aside and these results are not kept (their
        context ids belong to the old file)."""
        self._write({context: dict(zip(keys, _rows(metrics), strict=True))})

    def stage(self, context: int, keys: Sequence[str], metrics: WorkloadMetrics) -> None:
        """Store results with the next batch (module docstring)."""
        held = self._staged.setdefault(context, {})
        for key, row in zip(keys, _rows(metrics), strict=True):
            held.setdefault(key, row)
        self._n_staged += len(keys)
        if (self._n_staged >= FLUSH_ROWS
                or time.monotonic() - self._flushed_at >= FLUSH_EVERY_S):
            self.flush()

    def flush(self) -> None:
        """Write the staged results (one transaction)."""
        if self._staged:
            self._write(self._staged)
            self._staged, self._n_staged = {}, 0
        self._flushed_at = time.monotonic()

    def _write(self, rows: dict[int, dict[str, tuple]]) -> None:
        """One transaction for rows by context handle; handles of a file set aside since
        are not kept, nor (when the file turns out damaged now) any of these rows."""
        self._retry(lambda: self._insert(rows), lambda: None)

    def _insert(self, rows: dict[int, dict[str, tuple]]) -> None:
        if not any(rows.values()):
            return
        db = self._db()
        live = {self._live(c): held for c, held in rows.items() if held}
        live.pop(None, None)  # computed against a file set aside since: not kept
        if not live:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            for context, held in live.items():
                db.executemany(f"INSERT OR IGNORE INTO evaluations (context, design_key, "
                               f"{', '.join(_COLUMNS)}) VALUES ({context}, ?, ?, ?, ?, ?, ?, ?)",
                               [(k, *v) for k, v in held.items()])
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def __len__(self) -> int:
        return self._db().execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]


def _rows(metrics: WorkloadMetrics) -> list[tuple]:
    """(energy, latency, area, feasible, weight arrays, reason) per design, as stored."""
    return list(zip(metrics.energy_j.tolist(), metrics.latency_s.tolist(),
                    metrics.area_mm2.tolist(), metrics.feasible.astype(int).tolist(),
                    metrics.weight_arrays_required.tolist(), map(str, metrics.reason),
                    strict=True))
