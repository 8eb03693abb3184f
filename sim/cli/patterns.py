"""`collabsim patterns`: check a pattern register under the current defaults (a thin layer
over sim.analysis.patterns); registered on the `collabsim` app by sim.cli."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sim.cli.common import (AsJson, Scheduler, Seed, Workers, abnormal_ends, analysis_errors, app,
                            check_fits, check_new_folder, executor_for, fail, out, plain,
                            progress_bar, show)


def load_register_or_exit(path: Path):
    """The register at `path`, or exit 2 naming the file and field; exit 2 too if one of the
    scenarios it runs cannot fit in memory (calibrate uses it as well)."""
    from sim.analysis.patterns.register import load_register
    from sim.scenario.loading import ScenarioError

    try:
        register = load_register(path)
    except ScenarioError as exc:
        fail(str(exc))
    for scenario in {id(s): s for p in register.patterns
                     for s in (p.baseline, p.variant) if s is not None}.values():
        check_fits(scenario)
    return register


@app.command()
def patterns(
    register: Path = typer.Argument(..., help="Pattern register YAML file (e.g. "
                                    "patterns/public_sector.yaml)."),
    replications: int = typer.Option(2000, "--replications", "-n", min=1, max=10_000_000,
                                     help="Runs of each distinct scenario the register needs."),
    seed: Seed = None,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Also write the table to this "
                                           "new results folder (default: write nothing)."),
    as_json: AsJson = False,
    as_markdown: bool = typer.Option(False, "--markdown", help="Print the table as Markdown "
                                     "(what docs/PATTERNS.md records)."),
) -> None:
    """Does the model reproduce the patterns of a register? Each pattern's statistic, its 95%
    interval, its target and whether it lies within it (docs/PATTERNS.md)."""
    if as_json and as_markdown:
        fail("--json and --markdown: choose one")
    reg = load_register_or_exit(register)   # first: a bad register is refused before any work
    if out_dir is not None:
        check_new_folder(out_dir, "patterns")
    from sim.analysis.patterns.evaluate import evaluate_register
    from sim.montecarlo import files
    from sim.results import folders
    from sim.results import patterns as report

    seed = reg.seed if seed is None else seed
    with abnormal_ends(scheduler=scheduler), progress_bar("patterns") as progress:
        task = progress.add_task("patterns", total=None)
        executor = executor_for(workers, scheduler).reporting(
            lambda done, total: progress.update(task, completed=done, total=total))
        table = analysis_errors(lambda: evaluate_register(
            reg, replications=replications, seed=seed, executor=executor), scheduler=scheduler)
    summary = report.summary(table)
    if out_dir is not None:
        argv = ["collabsim", "patterns", str(register), "--replications", str(replications),
                "--seed", str(seed)]
        with abnormal_ends():
            analysis_errors(lambda: folders.save_results(
                out_dir, "patterns", scenario_path=str(register), scenario_text=reg.text,
                seed=seed, settings={"replications": replications, "register": str(register)},
                command=folders.reproduce_command(argv), summary=summary,
                tables={"patterns": table}, extra_files={"patterns.md": report.markdown(table)
                                                         + "\n"}))
    if as_json:
        print(json.dumps({"register": str(register), "replications": replications,
                          "seed": seed, **summary, "table": files.json_records(table)}))
        return
    if as_markdown:
        show(report.markdown(table))
        show(report.summary_line(table))
        return
    rich = Table(title=plain(f"{reg.name}: {replications} runs per scenario, seed {seed}"))
    for column in report.HEADER:
        rich.add_column(column, overflow="fold")
    for cells in report.rows(table, settings=False):
        rich.add_row(*map(plain, cells))
    out.print(rich)
    show(report.summary_line(table))
    if out_dir is not None:
        show(f"results: {out_dir}")
