"""`collabsim calibrate`: fit model constants to a pattern register (a thin layer over
sim.analysis.calibration); registered on the `collabsim` app by sim.cli."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sim.cli.common import (AsJson, OutDir, Scheduler, Seed, Workers, analysis_errors, app, err,
                            executor_for, fail, job_plan, new_results_folder, out, plain,
                            resumable_job, show, stage_progress)
from sim.cli.patterns import load_register_or_exit
from sim.results import jobs


@app.command()
def calibrate(
    register: Optional[Path] = typer.Argument(None, help="Pattern register YAML file (not "
                                              "needed with --resume)."),
    parameters: Optional[str] = typer.Option(None, "--parameters", "-p", help="Constants to "
                                             "fit, comma-separated: NAME (a model constant; "
                                             "prior 0.5x to 1.5x its value) or "
                                             "PATH=LOW:HIGH (any number field)."),
    population: int = typer.Option(100, "--population", min=4, max=100_000,
                                   help="Particles per ABC-SMC generation."),
    generations: int = typer.Option(5, "--generations", min=1, max=100,
                                    help="ABC-SMC generations (fewer if every pattern is met)."),
    replications: int = typer.Option(100, "--replications", "-n", min=1, max=1_000_000,
                                     help="Runs per scenario for each candidate."),
    predictive: int = typer.Option(40, "--predictive", min=1, max=100_000,
                                   help="Posterior draws checked against every pattern."),
    predictive_replications: int = typer.Option(
        500, "--predictive-replications", min=1, max=1_000_000,
        help="Runs per scenario for each posterior draw (more than --replications, so a pass "
        "rate reflects what the constants leave open, not Monte Carlo noise)."),
    seed: Seed = None,
    out_dir: OutDir = None,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    resume: Optional[Path] = typer.Option(None, "--resume", help="Finish an interrupted "
                                          "calibration in this results folder."),
    as_json: AsJson = False,
) -> None:
    """Fit model constants to the `calibrate` patterns of a register (ABC-SMC, pyabc) and check
    the posterior against every pattern, the `validate` ones out of sample (docs/PATTERNS.md).

    Finished candidates are saved as they complete; an interrupted calibration is finished with
    `collabsim calibrate --resume FOLDER`, with exactly the result it would have had."""
    from sim.analysis.calibration import priors_for
    from sim.results import folders
    from sim.scenario.loading import ScenarioError

    if resume is not None:
        folder = resume
        plan = job_plan(folder, "calibrate")
        register = Path(plan["register"])
        reg = load_register_or_exit(register)
        if reg.text != plan["register_text"]:
            fail(f"{register}: changed since this calibration started; start a new one")
        (parameters, population, generations, replications, predictive,
         predictive_replications, seed) = (
            plan["parameters"], plan["population"], plan["generations"],
            plan["replications"], plan["predictive"], plan["predictive_replications"],
            plan["seed"])
        command = plan["command"]
        if (folder / "manifest.json").is_file():
            show(f"{folder}: already complete", err)
            _print_saved(folder, as_json)
            return
    else:
        if register is None:
            fail("give a pattern register, or --resume FOLDER to finish an interrupted "
                 "calibration")
        if not parameters:
            fail("--parameters: name the constants to fit, e.g. --parameters "
                 "planned_capacity,run_ceiling=1.0:1.3")
        reg = load_register_or_exit(register)
        parameters = [p.strip() for p in parameters.split(",") if p.strip()]
        try:
            priors_for(reg, parameters)       # bad names and ranges are refused first
        except ScenarioError as exc:
            fail(str(exc))
        seed = reg.seed if seed is None else seed
        folder = new_results_folder(out_dir, "calibrate", register, seed)
        argv = ["collabsim", "calibrate", str(register), "--parameters", ",".join(parameters),
                "--population", str(population), "--generations", str(generations),
                "--replications", str(replications), "--predictive", str(predictive),
                "--predictive-replications", str(predictive_replications), "--seed", str(seed)]
        command = folders.reproduce_command(argv)
        plan = jobs.calibration_plan(
            register, reg.text, parameters, population=population, generations=generations,
            replications=replications, predictive=predictive,
            predictive_replications=predictive_replications, seed=seed, command=command)

    def run():
        with stage_progress("calibrating") as report:
            return analysis_errors(lambda: jobs.run_job(
                folder, plan, new=resume is None, executor=executor_for(workers, scheduler),
                on_stage=report), scheduler=scheduler)

    resumable_job(folder, new=resume is None, kind="calibrate", run=run,
                  scheduler=scheduler,
                  saved=lambda: f"The finished candidates are saved in {folder}")
    _print_saved(folder, as_json)


def _print_saved(folder: Path, as_json: bool) -> None:
    """What a finished calibration folder says (from its files, so --resume prints it too)."""
    import pandas as pd

    from sim.montecarlo import files

    manifest = files.read_json(folder / "manifest.json")
    summary = manifest["summary"]
    if as_json:
        print(json.dumps({"results": str(folder), "settings": manifest["settings"],
                          **summary}))
        return
    table = Table(title="What the evidence says about each constant")
    for column in ("parameter", "posterior median", "90% interval", "prior", "narrowed"):
        table.add_column(column)
    for row in pd.read_parquet(folder / "contraction.parquet").itertuples():
        table.add_row(plain(row.parameter), f"{row.q50:.4g}", f"{row.q05:.4g} to {row.q95:.4g}",
                      f"{row.prior_low:.4g} to {row.prior_high:.4g}",
                      f"{max(row.contraction, 0):.0%}")
    out.print(table)
    patterns = Table(title="Patterns under the posterior")
    for column in ("pattern", "role", "pass rate", "at the defaults"):
        patterns.add_column(column)
    for row in pd.read_parquet(folder / "patterns.parquet").itertuples():
        patterns.add_row(plain(row.name), row.role, f"{row.pass_rate:.0%}",
                         "reproduced" if row.reproduced_at_defaults else "not reproduced")
    out.print(patterns)
    for line in summary["headline"]:
        show(line)
    show(f"results: {folder}")
