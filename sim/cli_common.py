"""What every `collabsim` command shares: the app, its consoles, and the exit-2 convention for
bad input (one clear message, never a traceback)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Stress-test a proposed partnership before it launches.",
)
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

BAD_INPUT = 2

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


def fail(message: str) -> None:
    """Print one error line and exit 2. The message may hold the user's own text, so it is
    printed as it is (no markup or emoji codes)."""
    err.print("[bold red]error:[/] ", end="", markup=True)
    err.print(message, markup=False, emoji=False, soft_wrap=True)
    raise typer.Exit(BAD_INPUT)


def load_or_exit(path: Path):
    from sim.loading import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        fail(str(exc))


def progress_bar(label: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err, disable=not err.is_terminal)


def new_results_folder(out_dir: Optional[Path], kind: str, scenario: Path, seed: int) -> Path:
    from sim import store

    folder = out_dir if out_dir is not None else store.default_folder(
        f"{kind}-{Path(scenario).stem}", seed)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        fail(f"--out {folder}: already exists and is not an empty folder")
    return folder


def analysis_errors(fn, *, scheduler: Optional[str] = None, scenario_context: str = ""):
    """Run an analysis, turning what the user can fix into exit-2 errors: a scenario made
    invalid by a factor, shock or charter; a bad setting (ValueError); an unreachable Dask
    scheduler."""
    from sim.loading import ScenarioError

    try:
        return fn()
    except ScenarioError as exc:
        fail(f"{scenario_context}{exc}")
    except ValueError as exc:
        fail(str(exc))
    except FileExistsError as exc:   # another process wrote the results folder first
        fail(str(exc))
    except OSError as exc:
        if scheduler is None:
            raise
        fail(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})")
