"""The files of resumable work: written so that a killed process never leaves half a file, read
back only if they are what collabsim wrote, and a folder locked while one process writes to it.

Every file is written to a new temporary file beside it (created exclusively, never through a
symbolic link), flushed to disk and renamed into place (replacing). A rename replaces a
symbolic link rather than writing where it points, so a folder cannot redirect a write; and a
folder that holds symbolic links or special files is refused before anything is resumed in it
(check_folder). Files are read back only if they are regular files (read_file). Checkpoints of
every resumable job (a run's parts, a sweep's points, a search's batches) and the results
folders of sim.results are written through these.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sim.montecarlo.executors import keep_from_workers, release_from_workers
from sim.scenario.loading import UnreadableFile, read_regular_file

LOCK = ".lock"


#: The sub-folders a results folder may hold (tables in parts, a sweep's saved points).
SUBFOLDERS = ("outcomes", "timeseries", "points")


#: The largest plan.json or manifest.json read back (a scenario is at most 2 MB).
MAX_RECORD_BYTES = 16_000_000


class FolderBusy(RuntimeError):
    """Another collabsim process is writing to the results folder."""


class UnsafeFolder(ValueError):
    """A results folder holding a symbolic link or a special file where collabsim writes or
    reads: refused, so that no write is redirected and nothing outside the folder is read."""


@contextmanager
def folder_lock(folder: Path):
    """Hold an exclusive lock on a results folder (creating it) while writing to it, so two
    processes never write into the same folder. The operating system releases the lock when
    the process ends, however it ends, so a killed run never leaves a stale lock; local pool
    workers never hold it (executors.keep_from_workers)."""
    import fcntl


    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
                     | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        if path.is_symlink():
            raise UnsafeFolder(f"{path}: a symbolic link, not collabsim's lock file; refusing "
                               "to use this folder") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeFolder(f"{path}: not a regular file; refusing to use this folder")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusy(f"{folder}: another collabsim process is writing to this folder")
        keep_from_workers(fd)
        try:
            yield folder
        finally:
            release_from_workers(fd)
    finally:
        os.close(fd)


def is_locked(folder: Path) -> bool:
    """Whether another process holds the folder's lock (is writing to it) right now."""
    import fcntl

    try:
        fd = os.open(Path(folder) / LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def is_empty_folder(folder: Path) -> bool:
    """Nothing in it but, perhaps, its lock file."""
    return all(p.name == LOCK for p in Path(folder).iterdir())


def check_folder(folder: Path) -> None:
    """Refuse (UnsafeFolder) a results folder with a symbolic link or a special file (a device,
    a pipe, a socket) in it or in its sub-folders, which must be real folders (lstat: nothing
    is followed)."""
    folder = Path(folder)
    for entry in _entries(folder):
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            raise UnsafeFolder(f"{entry.path}: a symbolic link; a results folder holds only "
                               "regular files, so it is not used")
        if not stat.S_ISDIR(mode) and not stat.S_ISREG(mode):
            raise UnsafeFolder(f"{entry.path}: not a regular file; a results folder holds only "
                               "regular files, so it is not used")


def _entries(folder: Path):
    with os.scandir(folder) as top:
        entries = list(top)
    for entry in entries:
        yield entry
        if entry.name in SUBFOLDERS and entry.is_dir(follow_symlinks=False):
            with os.scandir(entry.path) as inner:
                yield from list(inner)


def read_file(path: Path, limit: int = MAX_RECORD_BYTES) -> bytes:
    """A results file's bytes: a regular file (not through a symbolic link) of at most `limit`
    bytes, or UnsafeFolder saying why not (FileNotFoundError if it is missing)."""

    try:
        return read_regular_file(path, limit, follow_symlinks=False)
    except UnreadableFile as exc:
        if str(exc) == "no such file":
            raise FileNotFoundError(f"{path}: no such file") from None
        raise UnsafeFolder(f"{path}: {exc}") from None


def read_json(path: Path):
    """A results folder's JSON record (plan.json, manifest.json) read as read_file does."""
    return json.loads(read_file(path).decode("utf-8"))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Permissions of the files collabsim writes (as a plain open() would give them).
FILE_MODE = 0o666 & ~_umask()


@contextmanager
def replacing(path: Path, mode: str = "wb", **options):
    """Yield a new temporary file beside `path`, opened with `mode`; when the block ends
    without error it is flushed to disk and renamed onto `path` (replacing whatever is there:
    a symbolic link is replaced, never written through), otherwise it is removed. A full disk
    leaves no temporary file behind."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, mode, **options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())   # on disk before it can count as done (power cuts)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(path)) from None   # name the file
        raise


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text through `replacing`."""
    with replacing(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def write_json(path: Path, data) -> None:
    write_text(Path(path), json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def json_records(frame) -> list[dict]:
    """A table as a list of plain JSON-ready rows (NaN as null)."""
    return json.loads(frame.to_json(orient="records"))


def part_name(k: int) -> str:
    """File name of part k of a table (zero-padded so that name order is chunk order)."""
    return f"part-{k:08d}.parquet"


def dictionary_columns(frame) -> list[str]:
    """Columns worth dictionary-encoding in Parquet: everything but the floats, whose values are
    all distinct (trying to encode them triples the time to write a table)."""
    return [c for c, kind in zip(frame.columns, frame.dtypes) if kind.kind != "f"]


def write_parquet(frame, path: Path) -> None:
    """Write a table as Parquet through `replacing` (the sub-folder is created if need be)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as handle:
        frame.to_parquet(handle, index=False, use_dictionary=dictionary_columns(frame))


def write_csv(frame, path: Path) -> None:
    """Write a table as CSV through `replacing`."""
    with replacing(path, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False)


def write_npy(array, path: Path) -> None:
    """Save an array through `replacing` (the sub-folder is created if need be)."""
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as handle:
        np.save(handle, array)


def remove_stale_temporaries(folder: Path) -> None:
    """Remove temporary files left by a process that was killed while writing them."""
    for sub in ("", *SUBFOLDERS):
        for stale in Path(folder, sub).glob(".*.tmp-*"):
            if stale.is_file() or stale.is_symlink():
                stale.unlink(missing_ok=True)
