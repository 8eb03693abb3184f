"""Results folders: tables, figures, a summary and a manifest that says how to reproduce them.

Layout: manifest.json, summary.md, outcomes/part-*.parquet (one row per replication),
timeseries/part-*.parquet (one row per replication and review); read either folder whole with
pandas.read_parquet. CSV copies of the tables that fit a spreadsheet, and three figures.

A folder is complete exactly when it has manifest.json, which is always written last. An
in-memory result is saved whole under a hidden temporary name and renamed into place
(atomic_folder); a command-line run is written chunk by chunk and can be resumed
(sim.stored_run). Every file is written under a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import shutil
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


def file_digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


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


class FolderBusy(RuntimeError):
    """Another collabsim process is writing to the results folder."""


@contextmanager
def folder_lock(folder: Path):
    """Hold an exclusive lock on a results folder (creating it) while writing to it, so two
    processes never write into the same folder. The operating system releases the lock when
    the process ends, however it ends, so a killed run never leaves a stale lock."""
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / LOCK, "a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusy(f"{folder}: another collabsim process is writing to this folder")
        yield folder
    finally:
        handle.close()


def is_empty_folder(folder: Path) -> bool:
    """Nothing in it but, perhaps, its lock file."""
    return all(p.name == LOCK for p in Path(folder).iterdir())


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


def write_json(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)


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
    """Write a table as Parquet under a temporary name, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    frame.to_parquet(tmp, index=False, use_dictionary=dictionary_columns(frame))
    with open(tmp, "rb") as handle:  # on disk before it can count as done (power cuts)
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_npy(array, path: Path) -> None:
    """Save an array under a temporary name, on disk, then rename it into place."""
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        np.save(handle, array)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


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


def save_results(folder: Path, kind: str, *, scenario_path: str | None, seed: int,
                 settings: dict, command: str, summary: dict, tables: dict | None = None,
                 figures: dict | None = None, extra_files: dict | None = None,
                 scenario_text: str | None = None, job_folder: bool = False) -> Path:
    """A complete results folder: each table as Parquet (and CSV when it is small enough to
    open in a spreadsheet), each matplotlib figure as PNG, then manifest.json. Everything is
    written to a staging folder first. A new folder then appears whole (renamed into place; if
    another process got there first, FileExistsError and nothing of its is touched). A
    resumable job's folder (`job_folder`, whose lock the caller holds) receives the files one
    by one, with manifest.json, which marks it complete, last."""
    import matplotlib.pyplot as plt

    folder = Path(folder)
    if scenario_text is None and scenario_path:
        scenario_text = Path(scenario_path).read_text(encoding="utf-8-sig")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".partial-{folder.name}-", dir=folder.parent))
    try:
        for name, frame in (tables or {}).items():
            write_parquet(frame, staging / f"{name}.parquet")
            if len(frame) <= CSV_ROW_LIMIT:
                frame.to_csv(staging / f"{name}.csv", index=False)
        for name, fig in (figures or {}).items():
            fig.savefig(staging / f"{name}.png", dpi=110)
            plt.close(fig)
        for name, content in (extra_files or {}).items():
            (staging / name).write_text(content, encoding="utf-8")
        write_json(staging / "manifest.json", manifest(kind, scenario_path, scenario_text, seed,
                                                       settings, command, summary))
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
