"""Results folders: tables, figures, a summary and a manifest that says how to reproduce them.

Layout: manifest.json, summary.md, outcomes/part-*.parquet (one row per replication),
timeseries/part-*.parquet (one row per replication and review); read either folder whole with
pandas.read_parquet. CSV copies of the tables that fit a spreadsheet, and three figures.

A folder is complete exactly when it has manifest.json, which is always written last. An
in-memory result is saved whole under a hidden temporary name and renamed into place
(atomic_folder); a command-line run is written chunk by chunk and can be resumed
(sim.results.stored_run).

Every file is written through sim.montecarlo.files (a temporary file renamed into place, never
through a symbolic link; read back only if it is a regular file).
"""

from __future__ import annotations

import hashlib
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

from sim.montecarlo.files import replacing, write_csv, write_json, write_parquet, write_text
from sim.partnership.behaviour import particles_of, posterior_table, summary
from sim.scenario.loading import read_scenario_text

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


def save_figure(fig, path: Path) -> None:
    """Save a matplotlib figure as PNG through `replacing`, and close it."""
    import matplotlib.pyplot as plt

    try:
        with replacing(path) as handle:
            fig.savefig(handle, format="png", dpi=110)
    finally:
        plt.close(fig)


def write_table(frame, folder: Path, name: str) -> None:
    """NAME.parquet in the folder, and NAME.csv when the table is small enough to open in a
    spreadsheet (CSV_ROW_LIMIT)."""
    write_parquet(frame, Path(folder) / f"{name}.parquet")
    if len(frame) <= CSV_ROW_LIMIT:
        write_csv(frame, Path(folder) / f"{name}.csv")


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
