"""The `collabsim` command line: parse arguments, call the Python API, render the result.

Bad input (a malformed scenario, a bad flag) prints one clear message and exits with status 2,
never a traceback.
"""

from __future__ import annotations

import json
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
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML file (not needed with "
                                              "--resume)."),
    replications: int = typer.Option(1000, "--replications", "-n", min=1, max=100_000_000,
                                     help="Monte Carlo replications."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, max=2**63 - 1,
                                       help="Root seed (default: the scenario's `seed`)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Results folder "
                                           "(default: a new folder under results/)."),
    engine: str = typer.Option("vector", "--engine", help="vector (fast, NumPy) or mesa (the "
                               "agent-based reference); the same runs for the same seed."),
    workers: int = typer.Option(0, "--workers", min=0, max=1024,
                                help="Local worker processes (0 = one per core)."),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size", min=1, max=10_000_000,
                                             help="Replications per chunk (default: up to 10000 "
                                             "for vector, sized to ~128 MB of working memory; "
                                             "50 for mesa). Does not change results."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address "
                                            "(tcp://HOST:8786): run the chunks on that cluster."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Finish an interrupted run "
                                          "in this results folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
) -> None:
    """Monte Carlo stress test: how likely is this partnership to deliver its business case?

    Finished chunks are saved as they complete; an interrupted run (Ctrl-C, a killed process)
    is finished with `collabsim run --resume FOLDER`, with exactly the result it would have had.
    """
    from sim import store, stored_run
    from sim.executors import default_workers
    from sim.experiment import ENGINES

    if engine not in ENGINES:
        _fail(f"--engine {engine}: must be one of {', '.join(ENGINES)}")
    if resume is not None:
        folder = resume
        try:
            plan = stored_run.load_plan(folder)
        except stored_run.RunFolderError as exc:
            _fail(str(exc))
        if scenario is not None and _load(scenario) != plan.scenario():
            _fail(f"--resume {folder}: that run is of a different scenario than {scenario}")
        if stored_run.is_complete(folder):
            err.print(f"{folder}: already complete", markup=False)
    else:
        if scenario is None:
            _fail("give a scenario file, or --resume FOLDER to finish an interrupted run")
        sc = _load(scenario)
        seed = sc.seed if seed is None else seed
        folder = out_dir if out_dir is not None else store.default_folder(str(scenario), seed)
        argv = ["collabsim", "run", str(scenario), "--replications", str(replications),
                "--seed", str(seed)] + (["--engine", engine] if engine != "vector" else [])
        try:
            plan = stored_run.plan(folder, str(scenario), seed, replications, engine, chunk_size,
                                   store.reproduce_command(argv))
        except (stored_run.RunFolderError, OSError) as exc:
            _fail(f"--out {folder}: {exc}" if not isinstance(exc, stored_run.RunFolderError)
                  else str(exc))
    if not stored_run.is_complete(folder):
        _execute(folder, plan, workers or default_workers(), scheduler)
    summary = {**json.loads((folder / "manifest.json").read_text())["summary"],
               "results": str(folder)}
    _print_summary(summary, plan, folder, as_json)


def _execute(folder: Path, plan, workers: int, scheduler: Optional[str]) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn, TimeRemainingColumn

    from sim import stored_run

    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err,
                  disable=not err.is_terminal, transient=False) as progress:
        task = progress.add_task("run", total=plan.replications)
        try:
            stored_run.execute(folder, workers=workers, scheduler=scheduler,
                               on_progress=lambda done, total: progress.update(task,
                                                                               completed=done))
        except KeyboardInterrupt:
            progress.stop()
            done = len(stored_run.done_chunks(folder, plan))
            err.print(f"interrupted: {done} of {len(plan.chunks())} chunks are saved in {folder}."
                      f" Finish with: collabsim run --resume {folder}", markup=False,
                      soft_wrap=True)
            raise typer.Exit(130) from None
        except OSError as exc:
            if "scheduler" in str(exc).lower() or scheduler is not None:
                _fail(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})")
            raise
    stored_run.assemble(folder)


def _print_summary(summary: dict, plan, folder: Path, as_json: bool) -> None:
    from sim.report import headline_lines

    if as_json:
        print(json.dumps(summary))
        return
    name = plan.scenario().name
    table = Table(title=f"{name}: {plan.replications} replications, seed {plan.seed}",
                  show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for k, v in headline_lines(summary):
        table.add_row(k, v)
    out.print(table)
    if summary["failure_paths"]:
        paths = Table(title="Most common failure paths", show_header=True)
        paths.add_column("path")
        paths.add_column("share of runs", justify="right")
        for k, v in summary["failure_paths"].items():
            paths.add_row(k, f"{100 * v:.1f}%")
        out.print(paths)
    out.print(f"results: {folder}", markup=False, soft_wrap=True)


def main() -> None:
    """Console entry point: usage errors exit 2 (click's convention), scenario errors too."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
