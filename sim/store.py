"""Results folders: tables, figures, a summary and a manifest that says how to reproduce them.

Layout: manifest.json, summary.md, outcomes/part-*.parquet (one row per replication),
timeseries/part-*.parquet (one row per replication and review); read either folder whole with
pandas.read_parquet. CSV copies of the tables that fit a spreadsheet, and three figures.

A folder is complete exactly when it has manifest.json, which is always written last. An
in-memory result is saved whole under a hidden temporary name and renamed into place
(atomic_folder); a command-line run is written chunk by chunk and can be resumed
(sim.stored_run).

Every file is written to a new temporary file beside it (created exclusively, never through a
symbolic link), flushed to disk and renamed into place (replacing). A rename replaces a
symbolic link rather than writing where it points, so a folder cannot redirect a write; and a
folder that holds symbolic links or special files is refused before anything is resumed in it
(check_folder). Files are read back only if they are regular files (read_file).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import shutil
import stat
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

DEPENDENCIES = ("mesa", "numpy", "pandas", "pyarrow", "matplotlib", "pydantic", "PyYAML",
                "SALib", "scipy", "typer", "rich", "ema_workbench")
DEFAULT_ROOT = Path("results")
#: CSV copies are written for tables a spreadsheet opens comfortably; Parquet always.
CSV_ROW_LIMIT = 100_000
#: Time-series figures draw on the first this-many replications: replications are independent
#: and identically distributed, so these are a random sample, and the figures stay cheap.
FIGURE_REPLICATIONS = 20_000


def versions() -> dict:
    out = {"python": platform.python_version()}
    for name in ("collabsim",) + DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def default_folder(scenario_path: str, seed: int, root: Path = DEFAULT_ROOT) -> Path:
    """results/<scenario>-<UTC time>-seed<seed>, made unique if it already exists."""
    stem = Path(scenario_path).stem
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = root / f"{stem}-{stamp}-seed{seed}"
    candidate, k = base, 2
    while candidate.exists():
        candidate = base.with_name(f"{base.name}-{k}")
        k += 1
    return candidate


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

    from sim.executors import keep_from_workers, release_from_workers

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
    from sim.loading import UnreadableFile, read_regular_file

    try:
        return read_regular_file(path, limit, follow_symlinks=False)
    except UnreadableFile as exc:
        if str(exc) == "no such file":
            raise FileNotFoundError(f"{path}: no such file") from None
        raise UnsafeFolder(f"{path}: {exc}") from None


def read_json(path: Path):
    """A results folder's JSON record (plan.json, manifest.json) read as read_file does."""
    return json.loads(read_file(path).decode("utf-8"))


@contextmanager
def atomic_folder(final: Path):
    """Yield a temporary folder; on success rename it to `final`, on failure remove it."""
    final = Path(final)
    if final.exists() and any(final.iterdir()):
        raise FileExistsError(f"{final} already exists and is not empty")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".partial-{final.name}-", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            final.rmdir()  # empty, checked above
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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


def save_figure(fig, path: Path) -> None:
    """Save a matplotlib figure as PNG through `replacing`, and close it."""
    import matplotlib.pyplot as plt

    try:
        with replacing(path) as handle:
            fig.savefig(handle, format="png", dpi=110)
    finally:
        plt.close(fig)


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


def write_table(frame, folder: Path, name: str) -> None:
    """NAME.parquet in the folder, and NAME.csv when the table is small enough to open in a
    spreadsheet (CSV_ROW_LIMIT)."""
    write_parquet(frame, Path(folder) / f"{name}.parquet")
    if len(frame) <= CSV_ROW_LIMIT:
        write_csv(frame, Path(folder) / f"{name}.csv")


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


def reproduce_command(argv: list[str] | None = None) -> str:
    argv = list(sys.argv if argv is None else argv)
    if argv:
        argv[0] = "collabsim" if Path(argv[0]).name in ("collabsim", "__main__.py", "cli.py") \
            else argv[0]
    return shlex.join(argv)


def manifest(kind: str, scenario_path: str | None, scenario_text: str | None, seed: int,
             settings: dict, command: str, summary: dict) -> dict:
    return {
        "kind": kind,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "seed": seed,
        "settings": settings,
        "scenario_path": scenario_path,
        "scenario_sha256": hashlib.sha256(scenario_text.encode()).hexdigest()
        if scenario_text is not None else None,
        "scenario": scenario_text,
        "versions": versions(),
        "platform": platform.platform(),
        "summary": summary,
    }


def behaviour_record(scenario) -> tuple[dict, dict]:
    """What a results folder records of a scenario's posterior (`behaviour:`): a manifest entry
    (`behaviour`: PATH, the folder read, the posterior's sha256 and size; `behaviour_patterns`:
    the calibration's pass rates) and the table to save as `posterior` (each particle's values
    and weight, as the run used them). Both empty without a posterior."""
    from sim.behaviour import particles_of, posterior_table, summary

    particles = particles_of(scenario)
    if particles is None:
        return {}, {}
    info = summary(scenario)
    record = {"behaviour": {k: info[k] for k in ("posterior", "folder", "posterior_sha256",
                                                  "particles", "parameters")},
              "behaviour_patterns": [p.model_dump() for p in particles.patterns]}
    return record, {"posterior": posterior_table(particles)}


def save_results(folder: Path, kind: str, *, scenario_path: str | None, seed: int,
                 settings: dict, command: str, summary: dict, tables: dict | None = None,
                 figures: dict | None = None, extra_files: dict | None = None,
                 scenario_text: str | None = None, job_folder: bool = False,
                 record: dict | None = None, scenario=None) -> Path:
    """A complete results folder: each table as Parquet (and CSV when it is small enough to
    open in a spreadsheet), each matplotlib figure as PNG, then manifest.json (with `record`'s
    entries added to what every manifest holds; with the `scenario`, what behaviour_record
    records of its posterior, if it has one). Everything is
    written to a staging folder first. A new folder then appears whole (renamed into place; if
    another process got there first, FileExistsError and nothing of its is touched). A
    resumable job's folder (`job_folder`, whose lock the caller holds) receives the files one
    by one, with manifest.json, which marks it complete, last."""
    folder = Path(folder)
    extra_record, extra_tables = behaviour_record(scenario)
    tables = {**(tables or {}), **extra_tables}
    record = {**extra_record, **(record or {})}
    if scenario_text is None and scenario_path:
        from sim.loading import read_scenario_text

        scenario_text = read_scenario_text(scenario_path)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".partial-{folder.name}-", dir=folder.parent))
    try:
        for name, frame in (tables or {}).items():
            write_table(frame, staging, name)
        for name, fig in (figures or {}).items():
            save_figure(fig, staging / f"{name}.png")
        for name, content in (extra_files or {}).items():
            write_text(staging / name, content)
        write_json(staging / "manifest.json", {
            **manifest(kind, scenario_path, scenario_text, seed, settings, command, summary),
            **(record or {})})
        if not job_folder:
            try:
                os.rename(staging, folder)   # onto nothing or an empty folder, never a full one
            except OSError:
                raise FileExistsError(f"{folder}: another process filled this folder first; "
                                      "nothing was written") from None
            return folder
        folder.mkdir(exist_ok=True)
        files = sorted(staging.iterdir(), key=lambda p: p.name == "manifest.json")
        for path in files:
            os.replace(path, folder / path.name)
        return folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)
