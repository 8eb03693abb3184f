"""`collabsim experiment FILE.yaml`: a named experiment (sim.analysis.experiment_file) into a
results
folder, resumable as a sweep is; a thin layer over sim.run_experiment and
sim.results.experiments. Registered on the `collabsim` app by sim.cli."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sim.cli.common import (AsJson, OutDir, Scheduler, Workers, analysis_errors, app, check_fits,
                            err, executor_for, fail, job_plan, new_results_folder, out, plain,
                            progress_bar, resumable_job, show)
from sim.results import jobs

#: A per-run table with at most this many design points is printed whole; a larger one (and
#: a per-review table) by its headline: where each output is highest and lowest.
PRINTED_POINTS = 40


@app.command()
def experiment(
    file: Optional[Path] = typer.Argument(None, help="Experiment YAML file (not needed with "
                                          "--resume): a scenario, factors, a design, "
                                          "repetitions and outputs (docs/EXPERIMENTS.md)."),
    out_dir: OutDir = None,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    resume: Optional[Path] = typer.Option(None, "--resume", help="Finish an interrupted "
                                          "experiment in this results folder."),
    as_json: AsJson = False,
) -> None:
    """A named experiment, as NetLogo's BehaviorSpace runs them: every design point of the
    file's factors, repeated, into one table of input values and outputs with 95% intervals.

    Finished design points are saved as they complete; an interrupted experiment is finished
    with `collabsim experiment --resume FOLDER`, with exactly the table it would have had."""
    from sim.analysis.experiment_file import experiment_from_text, load_experiment
    from sim.results import folders
    from sim.scenario.loading import ScenarioError

    if resume is not None:
        folder = resume
        plan = job_plan(folder, "experiment")
        if file is not None and _read_or_exit(file) != plan.get("experiment_text"):
            fail(f"--resume {folder}: that folder holds a different experiment than {file}")
        if (folder / "manifest.json").is_file():
            show(f"{folder}: already complete", err)
            _print_saved(folder, as_json)
            return
        try:
            exp = experiment_from_text(plan["experiment_text"], plan["experiment_path"],
                                       base=Path(plan["experiment_path"]).parent,
                                       scenario_text=plan["scenario_text"])
            command = plan["command"]
        except (ScenarioError, KeyError, TypeError) as exc:   # a damaged or altered plan
            fail(f"{folder / 'plan.json'}: damaged ({exc})")
    else:
        if file is None:
            fail("give an experiment file, or --resume FOLDER to finish an interrupted "
                 "experiment")
        try:
            exp = load_experiment(file)   # first: bad input is refused before anything
        except ScenarioError as exc:      # heavy loads and before any folder is made
            fail(str(exc))
        check_fits(exp.scenario, exp.spec.repetitions)
        folder = new_results_folder(out_dir, "experiment", file, exp.seed)
        command = folders.reproduce_command(["collabsim", "experiment", str(file)])
        plan = jobs.experiment_plan(exp, command)

    def run():
        with progress_bar("experimenting") as progress:
            task = progress.add_task("experiment", total=exp.points)
            executor = executor_for(workers, scheduler).reporting(
                lambda done, total: progress.update(task, completed=done, total=total))
            return analysis_errors(lambda: jobs.run_job(folder, plan, new=resume is None,
                                                        executor=executor),
                                   scheduler=scheduler)

    resumable_job(folder, new=resume is None, kind="experiment", run=run,
                  scheduler=scheduler,
                  saved=lambda: f"The finished design points are saved in {folder}")
    _print_saved(folder, as_json)


def _read_or_exit(path: Path) -> str:
    from sim.analysis.experiment_file import read_experiment_text
    from sim.scenario.loading import ScenarioError

    try:
        return read_experiment_text(path)
    except ScenarioError as exc:
        fail(str(exc))


def _print_saved(folder: Path, as_json: bool) -> None:
    """What a finished experiment folder holds, from its manifest and table: the same for a
    run that just ended and for a finished folder resumed again."""
    import pandas as pd

    from sim.analysis.experiment_file import table_cells
    from sim.montecarlo import files

    manifest = files.read_json(folder / "manifest.json")
    settings, summary = manifest["settings"], manifest["summary"]
    if as_json:
        print(json.dumps({"results": str(folder), "experiment": manifest["experiment_name"],
                          "settings": settings, **summary,
                          "table": str(folder / "table.parquet")}))
        return
    name = manifest["experiment_name"]
    if settings["per"] == "run" and settings["points"] <= PRINTED_POINTS:
        header, rows = table_cells(pd.read_parquet(folder / "table.parquet"),
                                   list(settings["factors"]), settings["outputs"], "run")
        table = Table(title=plain(f"{name}: {settings['repetitions']:,} runs per point, seed "
                                  f"{settings['seed']}"))
        for column in header:   # a factor's path may fold; an output's interval stays whole
            factor = column in settings["factors"]
            table.add_column(plain(column), overflow="fold", no_wrap=not factor,
                             justify="left" if factor else "right")
        for row in rows:
            table.add_row(*map(plain, row))
    else:
        table = Table(title=plain(f"{name}: {settings['points']:,} points x "
                                  f"{settings['repetitions']:,} runs, seed {settings['seed']}"),
                      show_header=False)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for k, v in summary["headline"][1:]:
            table.add_row(plain(k), plain(v))
    out.print(table)
    show(f"results: {folder}")
