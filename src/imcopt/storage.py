"""Crash-safe files: every file a run writes goes through here.

- `write_text` / `write_json` / `write_csv` (gzip for `.csv.gz`): atomic (a temporary file in
  the same folder, flushed and fsync'ed, then `os.replace`), so a reader sees the old file or
  the new one, never half of one, whatever moment a run is killed at. Inside
  `durable_batch()` the writes skip their own fsync and one `os.sync()` at the end makes them
  all durable at once (an fsync costs milliseconds; a study writes thousands of files). The
  rename stays atomic, so a killed process still never leaves half a file.
- `write_manifest` / `verify_manifest`: a folder's `checksums.json` (SHA-256 of every output
  file), written last; a file changed or cut short afterwards is reported by name.
- `Journal`: an append-only file of checksummed binary records (the search checkpoint). A
  record cut short by a kill is dropped on reading; a damaged record before the end is an
  error naming the file.
- `write_parquet` / `read_parquet`: a table as Parquet (pyarrow, zstd-compressed columns),
  for the every-design tables `--save-all` writes.
- `read_json` / `read_csv`: the stored file, or a one-line `StorageError` saying which file is
  missing, cut short or corrupt (never a parser traceback).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MANIFEST = "checksums.json"
_deferred = 0  # > 0 inside durable_batch(): atomic writes leave the fsync to its end


class StorageError(ValueError):
    """A stored file is missing, truncated or corrupt; one line naming the file."""


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (temporary file + fsync + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            if not _deferred:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@contextmanager
def durable_batch() -> Iterator[None]:
    """Atomic writes inside skip their own fsync; on leaving, one `os.sync()` for all."""
    global _deferred
    _deferred += 1
    try:
        yield
    finally:
        _deferred -= 1
        if not _deferred:
            os.sync()


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode())


def json_safe(doc: Any) -> Any:
    """`doc` with NumPy scalars as Python numbers and every NaN or infinity as None: JSON has
    no literal for them (Python would write `Infinity`, which no JSON parser accepts)."""
    kind = type(doc)
    if kind is str or kind is int or kind is bool or doc is None:  # most of a document
        return doc
    if isinstance(doc, dict):
        return {k: json_safe(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [json_safe(v) for v in doc]
    if hasattr(doc, "item") and not isinstance(doc, (str, bytes)):
        try:
            doc = doc.item()
        except (TypeError, ValueError):
            return doc
    if isinstance(doc, float) and not math.isfinite(doc):
        return None
    return doc


def write_json(path: str | Path, doc: Any, **kwargs: Any) -> Path:
    """`doc` as valid JSON (non-finite numbers written as null), atomically; indent=None
    writes it on one line (several times faster to write: Python's C encoder)."""
    return write_text(path, json.dumps(json_safe(doc), indent=kwargs.pop("indent", 2),
                                       allow_nan=False, **kwargs))


def write_csv(path: str | Path, frame: pd.DataFrame) -> Path:
    """A table as CSV; gzip-compressed when the name ends in .gz (no time stamp in the
    header, so equal tables give equal files)."""
    data = frame.to_csv(index=False).encode()
    if str(path).endswith(".gz"):
        import gzip

        data = gzip.compress(data, compresslevel=6, mtime=0)
    return write_bytes(path, data)


def write_parquet(path: str | Path, frame: pd.DataFrame) -> Path:
    """A table as Parquet (zstd), atomically."""
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, engine="pyarrow", compression="zstd", index=False)
    return write_bytes(path, buf.getvalue())


def write_figure(path: str | Path, fig: Any, **savefig: Any) -> Path:
    """A matplotlib figure as PNG, atomically."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig)
    return write_bytes(path, buf.getvalue())


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_manifest(folder: str | Path, files: list[Path]) -> Path:
    """`folder/checksums.json`: {file name: SHA-256} of `files` (write it last)."""
    folder = Path(folder)
    return write_json(folder / MANIFEST, {p.name: sha256(p) for p in sorted(files)})


def verify_manifest(folder: str | Path, required: tuple[str, ...] = ()) -> None:
    """StorageError unless `folder/checksums.json` exists, is a {file name: SHA-256} mapping
    that lists every name in `required`, and every file it lists is there, unchanged. A
    folder without its manifest cannot be verified, so it is not used."""
    folder = Path(folder)
    manifest = folder / MANIFEST
    if not manifest.exists():
        raise StorageError(f"{manifest}: missing, so the results cannot be verified (the run "
                           "was cut short, or the file was deleted); re-run to rebuild it")
    doc = read_json(manifest)
    if not isinstance(doc, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in doc.items()):
        raise StorageError(f"{manifest}: not a checksum manifest ({{file name: SHA-256}}); "
                           "re-run to rebuild it")
    for name in required:
        if name not in doc:
            raise StorageError(f"{manifest}: does not list {name}, so it cannot be verified; "
                               "re-run to rebuild it")
    for name, digest in doc.items():
        if Path(name).name != name or name in ("", ".", ".."):
            raise StorageError(f"{manifest}: lists {name[:60]!r}, not a file of this folder")
        path = folder / name
        if not path.is_file():
            raise StorageError(f"{path}: missing (listed in {manifest}); re-run to rebuild it")
        if sha256(path) != digest:
            raise StorageError(f"{path}: checksum mismatch (changed or cut short since it was "
                               "written); re-run to rebuild it")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise StorageError(f"{path}: missing")
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        raise StorageError(f"{path}: not valid JSON (cut short or corrupt); re-run to rebuild "
                           "it") from None


def read_csv(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise StorageError(f"{path}: missing")
    try:
        return pd.read_csv(path, **kwargs)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError, EOFError) as exc:
        # OSError, EOFError: a damaged .gz
        msg = " ".join(str(exc).split())[:120]
        raise StorageError(f"{path}: unreadable CSV (cut short or corrupt: {msg}); re-run to "
                           "rebuild it") from None


def read_parquet(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise StorageError(f"{path}: missing")
    try:
        return pd.read_parquet(path, engine="pyarrow", columns=columns)
    except (ValueError, OSError, KeyError) as exc:
        msg = " ".join(str(exc).split())[:120]
        raise StorageError(f"{path}: unreadable Parquet (cut short or corrupt: {msg}); re-run "
                           "to rebuild it") from None


_HEAD = struct.Struct("<4sQ32s")  # magic, payload length, SHA-256 of the payload
_MAGIC = b"IMJ1"


class Journal:
    """Append-only records with checksums. `records()` reads the intact ones."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def records(self) -> list[bytes]:
        """Every intact record. A last record cut short (killed mid-append) is dropped and cut
        off the file; StorageError if a complete record fails its checksum."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        out, pos = [], 0
        while pos < len(data):
            head = data[pos:pos + _HEAD.size]
            if len(head) == _HEAD.size:
                magic, n, digest = _HEAD.unpack(head)
                if magic != _MAGIC:
                    raise StorageError(f"{self.path}: not an imcopt checkpoint journal, or "
                                       f"corrupt at record {len(out) + 1}; delete it to start "
                                       "over")
                body = data[pos + _HEAD.size:pos + _HEAD.size + n]
                if len(body) == n:
                    if hashlib.sha256(body).digest() != digest:
                        raise StorageError(f"{self.path}: record {len(out) + 1} fails its "
                                           "checksum (corrupt checkpoint); delete the file to "
                                           "start over")
                    out.append(body)
                    pos += _HEAD.size + n
                    continue
            with open(self.path, "r+b") as f:  # a torn last record: cut it off
                f.truncate(pos)
            break
        return out

    def append(self, *payloads: bytes) -> None:
        """Append records in one write and fsync them (a kill leaves at most a torn last
        record)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = b"".join(_HEAD.pack(_MAGIC, len(p), hashlib.sha256(p).digest()) + p
                        for p in payloads)
        with open(self.path, "ab") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
