"""What every `collabsim` command shares: the app, its consoles, the exit-2 convention for
bad input (one clear message, never a traceback), and one exit status for each other way a
command can end badly (a line saying what happened and how to finish the work).

User text (names, paths, messages quoting a file) is shown as text: never Rich markup,
emoji codes or terminal control (`show`, `plain`, `fail`).
"""

from __future__ import annotations

import errno
import os
import shlex
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.console import Console
from rich.text import Text

from sim.montecarlo.executors import Executor, default_workers
from sim.results.text import printable

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Stress-test a proposed partnership before it launches.",
)
#: No emoji codes: nothing of ours uses them, and replacing them loads a table on first use,
#: which can fail when the out-of-memory error being reported has left no room for it.
err = Console(stderr=True, highlight=False, emoji=False)
out = Console(highlight=False, emoji=False)

#: Exit statuses (README, docs/RELIABILITY.md). 1 is left to Python: a bug, with a traceback.
BAD_INPUT = 2          # the input or a setting is wrong; nothing was written
WORKER_DIED = 3        # a local worker process was killed (often by the out-of-memory killer)
SCHEDULER_LOST = 4     # the Dask scheduler or its workers went away during the work
OUT_OF_MEMORY = 5      # a MemoryError in this process or a worker
CANNOT_WRITE = 6       # the results could not be written: disk full, permission, read-only
NOTHING_ANALYSED = 7   # a sweep saved its design and outputs but could analyse no output
INTERRUPTED = 130      # Ctrl-C (SIGINT), as shells report it
TERMINATED = 143       # SIGTERM (kill PID), as shells report it
#: errno values that mean the results cannot be written (not that a scheduler is unreachable).
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM,
                errno.EROFS, errno.EIO}


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is (sim.cli installs the handler)."""


#: Seconds after which SIGTERM is delivered again if the main thread has not taken it in hand.
REDELIVER_AFTER = 2.0
_TERMINATION_TAKEN = threading.Event()
_WATCHDOG_STARTED = threading.Event()


def raise_terminated(signum, frame) -> None:
    """SIGTERM: raise Terminated in the main thread, as Ctrl-C raises KeyboardInterrupt.

    Python drops an exception a signal handler raises while it runs a callback whose errors it
    ignores (logging's lock release after a pool forks a worker, a __del__), and the job would
    go on as if never signalled. So the first SIGTERM also starts a watchdog that signals
    again, every REDELIVER_AFTER seconds, until the main thread takes the termination in hand
    (interruption)."""
    if not _WATCHDOG_STARTED.is_set():
        _WATCHDOG_STARTED.set()
        threading.Thread(target=_redeliver, daemon=True).start()
    raise Terminated()


def _redeliver() -> None:
    while not _TERMINATION_TAKEN.wait(REDELIVER_AFTER):
        os.kill(os.getpid(), signal.SIGTERM)


def interruption(exc: KeyboardInterrupt) -> tuple[str, int]:
    """What ended the work, in words, and its exit status: SIGTERM (then taken in hand, so
    it is not delivered again) or Ctrl-C. Every place that reports an interruption asks here."""
    if isinstance(exc, Terminated):
        _TERMINATION_TAKEN.set()
        return "terminated (SIGTERM)", TERMINATED
    return "interrupted", INTERRUPTED


# The options every analysis command shares (declared once; typer reads the Annotated form).
Seed = Annotated[Optional[int], typer.Option("--seed", min=0, max=2**63 - 1,
                                             help="Root seed (default: the scenario's `seed`).")]
OutDir = Annotated[Optional[Path], typer.Option("--out", help="Results folder (default: a new "
                                                "folder under results/).")]
Workers = Annotated[int, typer.Option("--workers", min=0, max=1024,
                                      help="Local worker processes (0 = one per core).")]
Scheduler = Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler address "
                                                  "(tcp://HOST:8786): run the work there.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def plain(value) -> Text:
    """User text for a Rich table or line: never markup or emoji codes, and control characters
    written out (`\x1b`) rather than sent to the terminal."""
    return Text(printable(value, lines=True))


def show(message, console: Console | None = None) -> None:
    """Print a line that may hold user text (see `plain`), wrapped by the terminal."""
    (console or out).print(plain(message), soft_wrap=True)


def fail(message: str, code: int = BAD_INPUT) -> None:
    """Print one error line and exit (2 unless told). The message may hold the user's own
    text, so it is shown as text (see `plain`)."""
    err.print("[bold red]error:[/] ", end="", markup=True)
    show(message, err)
    raise typer.Exit(code)


def executor_for(workers: int, scheduler: Optional[str]) -> Executor:
    """Where --workers and --scheduler say work runs: the Dask cluster at --scheduler if given,
    else --workers local processes (0, the default: one per core)."""
    return Executor(workers=workers or default_workers(), scheduler=scheduler)


def resume_command(kind: str, folder: Path) -> str:
    """The exact command that finishes an interrupted job, quoted for a shell."""
    return shlex.join(["collabsim", kind, "--resume", str(folder)])


@contextmanager
def abnormal_ends(*, resume: Optional[str] = None, saved: Optional[Callable[[], str]] = None,
                  scheduler: Optional[str] = None):
    """Turn every way long work can end badly into one line and its own exit status: Ctrl-C
    (130) and SIGTERM (143), a dead worker (3), a lost Dask scheduler (4), a MemoryError (5),
    results that cannot be written (6). The line says what happened, what is saved
    (`saved()`) and the command that finishes the work (`resume`); work that cannot be
    resumed says that nothing was written. Anything else is a bug and keeps its traceback."""
    from sim.montecarlo.executors import SchedulerLost, WorkerDied

    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt as exc:
        _ended(*interruption(exc), resume, saved)
    except WorkerDied as exc:
        _ended(f"{exc}; fewer --workers need less memory", WORKER_DIED, resume, saved)
    except SchedulerLost as exc:
        _ended(f"--scheduler {scheduler}: {exc}", SCHEDULER_LOST, resume, saved)
    except MemoryError:
        _ended("out of memory (each worker holds a chunk: fewer --workers need less)",
               OUT_OF_MEMORY, resume, saved)
    except OSError as exc:
        if exc.errno in WRITE_ERRORS or exc.filename is not None:
            where = f" ({exc.filename})" if exc.filename else ""
            _ended(f"cannot write the results: {exc.strerror or exc}{where}", CANNOT_WRITE,
                   resume, saved)
        if scheduler is None:
            raise
        _ended(f"--scheduler {scheduler}: lost the Dask scheduler ({exc})", SCHEDULER_LOST,
               resume, saved)


def _ended(what: str, code: int, resume: Optional[str],
           saved: Optional[Callable[[], str]]) -> None:
    if resume:
        kept = f" {saved()}." if saved is not None else ""
        message = f"{what}.{kept} Finish with: {resume}"
    else:
        message = f"{what}. Nothing was written; run the command again."
    err.print("[bold red]error:[/] " if code not in (INTERRUPTED, TERMINATED) else "", end="",
              markup=True)
    show(message, err)
    raise typer.Exit(code)


def load_or_exit(path: Path):
    return load_with_text(path)[0]


def load_with_text(path: Path):
    """(scenario, the file's text as read), or exit 2 naming the file and what is wrong. The
    text is what a results folder records: the file is read once."""
    from sim.scenario.loading import ScenarioError, load_scenario_text, read_scenario_text

    try:
        text = read_scenario_text(path)
        return load_scenario_text(text, str(path)), text
    except ScenarioError as exc:
        fail(str(exc))


#: What a results folder may hold and still be removed when a new job is refused: its lock, its
#: plan and a sweep's design digest (nothing computed).
_NOTHING_COMPUTED = {".lock", "plan.json", "design.sha256"}


def remove_created(folder: Path, created: list[Path]) -> None:
    """After a refusal, remove what this command put in a new job's folder (its lock, its plan)
    and the folders it created for it (the folder, then the parents it needed), as long as
    nothing was computed in them."""
    import shutil

    if not folder.is_dir():
        return
    files = [p for p in folder.rglob("*") if not p.is_dir()]
    if any(p.name not in _NOTHING_COMPUTED for p in files):
        return
    if created and created[0] == folder:
        shutil.rmtree(folder, ignore_errors=True)
        for parent in created[1:]:
            try:
                parent.rmdir()
            except OSError:
                break
        return
    for path in files:
        path.unlink(missing_ok=True)
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        try:
            sub.rmdir()
        except OSError:
            pass


def progress_bar(label: str):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err, disable=not err.is_terminal)


@contextmanager
def stage_progress(label: str):
    """A progress bar for a job that goes through stages (calibrate, design): yields
    report(stage, done, total), which names the current stage and how far it has got."""
    with progress_bar(label) as progress:
        task = progress.add_task(label, total=None)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        yield report


def new_results_folder(out_dir: Optional[Path], kind: str, scenario: Path, seed: int) -> Path:
    from sim.results import folders

    folder = out_dir if out_dir is not None else folders.default_folder(
        f"{kind}-{Path(scenario).stem}", seed)
    check_new_folder(folder, kind)
    return folder


def check_new_folder(folder: Path, kind: str) -> None:
    """A new job's --out must be missing or empty; one that holds an unfinished job is pointed
    at --resume, rather than simply refused."""
    from sim.montecarlo import files

    if not folder.exists():
        return
    if folder.is_dir() and all(p.name == files.LOCK for p in folder.iterdir()):
        return
    if folder.is_dir() and files.is_locked(folder):
        fail(f"{folder}: another collabsim process is writing to this folder")
    if (folder / "plan.json").is_file() and not (folder / "manifest.json").exists():
        fail(f"--out {folder}: holds an unfinished job; finish it with: "
             f"{resume_command(_plan_kind(folder), folder)}")
    fail(f"--out {folder}: already exists and is not an empty folder")


def job_plan(folder: Path, kind: str) -> dict:
    """The plan of an unfinished `kind` job's folder (plan.json), or an exit-2 error saying
    what the folder is instead."""
    from sim.montecarlo import files

    path = Path(folder) / "plan.json"
    if not Path(folder).is_dir() or not path.exists():
        fail(f"{folder}: not {_a(kind)} folder (no plan.json)")
    try:
        files.check_folder(folder)
        plan = files.read_json(path)
    except files.UnsafeFolder as exc:
        fail(str(exc))
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"{path}: damaged ({exc})")
    found = plan.get("kind", "run") if isinstance(plan, dict) else None
    if found != kind:
        fail(f"{folder}: {_a(found)} folder, not {_a(kind)}; finish it with `collabsim {found} "
             f"--resume {folder}`" if found else f"{path}: damaged")
    return plan


def _a(kind: str) -> str:
    return f"{'an' if str(kind)[:1] in 'aeiou' else 'a'} {kind}"


def _plan_kind(folder: Path) -> str:
    from sim.montecarlo import files

    try:
        plan = files.read_json(folder / "plan.json")
        return plan.get("kind", "run") if isinstance(plan, dict) else "run"
    except (ValueError, OSError):
        return "run"


def check_fits(scenario, replications: Optional[int] = None) -> None:
    """Exit 2 at once, before anything heavy loads, if the scenario's chunks cannot fit in
    memory (one point's `replications` runs form one chunk at least, in a sweep or grid)."""
    from sim.montecarlo.memory import check_memory, default_chunk_size, largest_task

    chunk = largest_task(scenario, replications) if replications else \
        default_chunk_size(scenario, "vector")
    analysis_errors(lambda: check_memory(scenario, "vector", chunk, setting="--replications"))


def analysis_errors(fn, *, scheduler: Optional[str] = None, scenario_context: str = ""):
    """Run an analysis, turning what the user can fix into exit-2 errors: a scenario made
    invalid by a factor, shock or charter; a bad setting (ValueError), such as chunks that
    cannot fit in memory; an unreachable Dask scheduler. (Other abnormal ends are for
    abnormal_ends.)"""
    from sim.montecarlo.executors import SchedulerUnreachable
    from sim.scenario.loading import ScenarioError

    try:
        return fn()
    except ScenarioError as exc:
        fail(f"{scenario_context}{exc}")
    except ValueError as exc:
        fail(str(exc))
    except FileExistsError as exc:   # another process wrote the results folder first
        fail(str(exc))
    except SchedulerUnreachable as exc:
        fail(f"--scheduler {scheduler}: {exc}")


def resumable_job(folder: Path, *, new: bool, kind: str, run: Callable,
                  saved: Callable[[], str], scheduler: Optional[str] = None):
    """A resumable job on the command line (sweep, experiment, calibrate, design): `run()`
    calls sim.results.jobs.run_job (which locks the folder, writes a new job's plan first and
    saves the results) with the command's progress; this names how the job ended if it did not
    finish (abnormal_ends: what is `saved()` and the resume command), and bad input leaves
    nothing behind. Returns run()'s result."""
    from sim.montecarlo import files
    from sim.results.jobs import JobError

    created = [p for p in [folder, *folder.parents] if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:   # the folder itself cannot be made
        fail(f"--out {folder}: {exc.strerror or exc}", CANNOT_WRITE)
    try:
        try:
            with abnormal_ends(resume=resume_command(kind, folder), scheduler=scheduler,
                               saved=saved):
                return run()
        except typer.Exit as exc:
            if exc.exit_code == BAD_INPUT and new:
                remove_created(folder, created)   # bad input leaves nothing behind
            raise
    except JobError as exc:
        fail(f"--out {exc}")
    except (files.FolderBusy, files.UnsafeFolder) as exc:
        fail(str(exc))
