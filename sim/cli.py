"""The `collabsim` command line: parse arguments, call the Python API, render the result.

Bad input (a malformed scenario, a bad flag) prints one clear message and exits with status 2,
never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Stress-test a proposed partnership before it launches.",
)
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

BAD_INPUT = 2


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(BAD_INPUT)


def _load(path: Path):
    from sim.loading import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        err.print("[bold red]error:[/] ", end="", markup=True)
        err.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(BAD_INPUT) from None


@app.command()
def validate(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check a scenario file and describe what it sets up."""
    from sim.business_case import describe

    sc = _load(scenario)
    info = describe(sc)
    if as_json:
        print(json.dumps({"valid": True, "file": str(scenario), **info}))
        return
    out.print(f"[green]ok[/]: {scenario}: {sc.name}", markup=True)
    for key, value in info.items():
        out.print(f"  {key}: {value}", markup=False)


@app.command()
def run(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    replications: int = typer.Option(1000, "--replications", "-n", min=1, max=10_000_000,
                                     help="Monte Carlo replications."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, max=2**63 - 1,
                                       help="Root seed (default: the scenario's `seed`)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Results folder "
                                           "(default: a new folder under results/)."),
    workers: int = typer.Option(0, "--workers", min=0, max=1024,
                                help="Worker processes (0 = one per core)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
) -> None:
    """Monte Carlo stress test: how likely is this partnership to deliver its business case?"""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn, TimeRemainingColumn

    from sim import store
    from sim.experiment import run as run_mc
    from sim.report import headline_lines, save_run

    sc = _load(scenario)
    seed = sc.seed if seed is None else seed
    folder = out_dir if out_dir is not None else store.default_folder(str(scenario), seed)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        _fail(f"--out {folder}: already exists and is not an empty folder")
    workers = workers or (os.cpu_count() or 1)
    command = store.reproduce_command(["collabsim", "run", str(scenario), "--replications",
                                       str(replications), "--seed", str(seed)])
    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err,
                  disable=not err.is_terminal, transient=False) as progress:
        task = progress.add_task("run", total=replications)
        result = run_mc(sc, replications, seed, workers=min(workers, max(1, replications // 50)),
                        on_progress=lambda done, total: progress.update(task, completed=done))
    save_run(result, folder, str(scenario), command)
    summary = {**result.summary, "results": str(folder)}
    if as_json:
        print(json.dumps(summary))
        return
    table = Table(title=f"{sc.name}: {replications} replications, seed {seed}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for k, v in headline_lines(result):
        table.add_row(k, v)
    out.print(table)
    if result.summary["failure_paths"]:
        paths = Table(title="Most common failure paths", show_header=True)
        paths.add_column("path")
        paths.add_column("share of runs", justify="right")
        for k, v in result.summary["failure_paths"].items():
            paths.add_row(k, f"{100 * v:.1f}%")
        out.print(paths)
    out.print(f"results: {folder}", markup=False, soft_wrap=True)


def main() -> None:
    """Console entry point: usage errors exit 2 (click's convention), scenario errors too."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; no results folder was written")
        sys.exit(130)


if __name__ == "__main__":
    main()
