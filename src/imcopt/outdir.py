"""Output folders: one run per folder, locked while it runs, never silently replaced or mixed.

- `locked(folder)`: an exclusive lock (`flock` on `folder/.imcopt.lock`) held while a search
  or a study writes there; a second run on the same folder stops at once with an error
  naming the process that holds it. The kernel drops the lock when the process ends, killed
  or not, so an interrupted run never leaves a stale lock.
- `claim_search(folder, ...)`: what a search folder holds, decided before anything is
  written: nothing of ours (`NEW`), this very search interrupted (`RESUME`, the checkpoint
  journal replays it), this very search finished and intact (`COMPLETE`: nothing to do), or
  this search's outputs damaged (`RERUN`). A folder holding a different search, an
  interrupted different search or a study is refused unless `force`, which clears imcopt's
  files there first (the evaluation cache is kept: it is keyed by the model's version).
- `clear(folder)`: remove every file imcopt writes in an output folder (and no other file).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:  # POSIX; elsewhere runs are not locked (documented in docs/reliability.md)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

LOCK = ".imcopt.lock"
#: a search's files (designs.csv: the every-design table of earlier versions, removed with
#: the rest)
SEARCH_FILES = ("kept_designs.csv.gz", "designs.parquet", "convergence.csv", "best.json",
                "pareto.csv", "verify.csv", "run.json", "checksums.json", "designs.csv")
#: the files `write_results` always writes (pareto.csv only for NSGA-II, designs.parquet only
#: with --save-all, verify.csv only with `verify:`)
SEARCH_REQUIRED = ("kept_designs.csv.gz", "convergence.csv", "best.json", "run.json")
STUDY_FILES = ("study.json", "study.yaml")
DERIVED_DIRS = ("report",)  # built from the results: stale once they change
JOURNAL_GLOB = ".checkpoint-*.journal"

NEW, RESUME, COMPLETE, RERUN = "new", "resume", "complete", "rerun"


class FolderError(ValueError):
    """An output folder cannot be used as asked; one line naming it and what to do."""


def check_folder(folder: Path) -> Path:
    """`folder` as a usable output folder path (created if missing)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FolderError(f"{folder}: is a file, not a folder; give a folder for the outputs")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FolderError(f"{folder}: cannot create the folder "
                          f"({exc.strerror or type(exc).__name__})") from None
    return folder


@contextmanager
def locked(folder: str | Path) -> Iterator[Path]:
    """Hold the folder's lock while inside; FolderError when another process holds it."""
    folder = check_folder(Path(folder))
    if fcntl is None:  # pragma: no cover
        yield folder
        return
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise FolderError(f"{folder}: another imcopt run (pid {holder}) is writing to this "
                              "folder; wait for it to finish, or use another folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield folder
    finally:
        os.close(fd)  # releases the lock


def clear(folder: str | Path) -> list[str]:
    """Remove imcopt's files from an output folder (search and study outputs, checkpoint
    journals, report); other files stay, and so does the evaluation cache. Returns what was
    removed."""
    folder = Path(folder)
    removed = []
    for name in (*SEARCH_FILES, *STUDY_FILES):
        if (folder / name).is_file():
            (folder / name).unlink()
            removed.append(name)
    for journal in folder.glob(JOURNAL_GLOB):
        journal.unlink()
        removed.append(journal.name)
    for name in ("runs", *DERIVED_DIRS):
        if (folder / name).is_dir():
            shutil.rmtree(folder / name)
            removed.append(name + "/")
    return removed


def first_difference(a: object, b: object, where: str = "") -> str | None:
    """The dotted path of the first setting where two config documents differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(dict.fromkeys([*a, *b])):
            if key not in a or key not in b:
                return f"{where}{key}"
            found = first_difference(a[key], b[key], f"{where}{key}.")
            if found is not None:
                return found
        return None
    return None if a == b else (where.rstrip(".") or "(the whole config)")


def _stored_search_identity(folder: Path) -> dict | None:
    """The identity (see `search_identity`) of the search whose run.json is in `folder`;
    None when it cannot be read as one."""
    from .search.config import ConfigError, load_config, search_identity

    try:
        doc = json.loads((folder / "run.json").read_text())
        return search_identity(load_config(doc["config"]), doc["inputs"])
    except (OSError, ValueError, KeyError, TypeError, ConfigError):
        return None


def refuse_other_run(folder: Path, identity: dict) -> None:
    """FolderError when `folder` holds a study, or the results of a search other than the
    one of `identity`."""
    if (folder / "study.json").exists():
        raise FolderError(f"{folder}: holds a study (study.json); write the search's results "
                          "to a folder of its own (or pass overwrite=True)")
    if (folder / "run.json").exists():
        stored = _stored_search_identity(folder)
        if stored != identity:
            what = ("its run.json is unreadable" if stored is None else "it differs in "
                    + str(first_difference(stored, identity)))
            raise FolderError(f"{folder}: holds the results of a different search ({what}); "
                              "use another folder (or pass overwrite=True)")


def remove_stale(folder: Path, written: list[str]) -> None:
    """Remove imcopt's search files in `folder` that a run did not write (`written`), and the
    report built from the earlier results."""
    for name in SEARCH_FILES:
        if name not in written and name != "checksums.json" and (folder / name).is_file():
            (folder / name).unlink()
    for name in DERIVED_DIRS:
        if (folder / name).is_dir():
            shutil.rmtree(folder / name)


def claim_search(folder: str | Path, identity: dict, journal: Path, force: bool = False
                 ) -> tuple[str, str]:
    """(state, why) of `folder` for the search of `identity` (call it holding the lock).

    state: NEW, RESUME (its own checkpoint journal is there), COMPLETE (its results are
    there and verify) or RERUN (its results are there but damaged: they are removed).
    FolderError for a study, a different search or another search's checkpoint, unless
    `force` (then imcopt's files there are removed first and the state is NEW).
    """
    from .storage import StorageError, verify_manifest

    folder = Path(folder)
    problem = None
    others = sorted(p.name for p in folder.glob(JOURNAL_GLOB) if p.name != journal.name)
    stray = [n for n in SEARCH_FILES if (folder / n).exists()]
    if (folder / "study.json").exists() or (folder / "runs").is_dir():
        problem = "holds a study (study.json, runs/); a search needs a folder of its own"
    elif (folder / "run.json").exists():
        try:
            refuse_other_run(folder, identity)
        except FolderError as exc:
            problem = str(exc).split(": ", 1)[1].split("; use another")[0]
    elif others:
        problem = (f"holds an interrupted search with another config ({others[0]}); resume it "
                   "with its own config")
    elif stray and not journal.exists():
        problem = f"holds search outputs ({', '.join(stray)}) without their run.json"
    if problem is not None:
        if not force:
            raise FolderError(f"{folder}: {problem}; use another --out, or --force to "
                              "replace it")
        clear(folder)
        return NEW, "replaced (--force)"
    if force:
        removed = clear(folder)
        return NEW, "run again (--force)" if removed else ""
    if journal.exists():
        return RESUME, "its checkpoint is here"
    if not (folder / "run.json").exists():
        return NEW, ""
    try:
        verify_manifest(folder, SEARCH_REQUIRED)
    except StorageError as exc:
        clear(folder)
        return RERUN, f"its outputs were damaged ({exc})"
    return COMPLETE, "its results are here and verify against checksums.json"
