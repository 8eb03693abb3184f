"""`collabsim validate`, `collabsim fields` and `collabsim run`: check a scenario, list its fields,
and run it many times into a resumable results folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sim.cli.common import (BAD_INPUT, CANNOT_WRITE, AsJson, abnormal_ends, analysis_errors, app,
                            check_new_folder, err, executor_for, fail, load_or_exit,
                            load_with_text, out, plain, progress_bar, remove_created,
                            resume_command, show)
from sim.montecarlo.executors import Executor


@app.command()
def validate(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    as_json: AsJson = False,
) -> None:
    """Check a scenario file and describe what it sets up."""
    from sim.partnership.business_case import describe

    sc = load_or_exit(scenario)
    info = describe(sc)
    if as_json:
        print(json.dumps({"valid": True, "file": str(scenario), **info}))
        return
    out.print("[green]ok[/]: ", end="", markup=True)
    show(f"{scenario}: {sc.name}")
    for key, value in info.items():
        show(f"  {key}: {value}")


@app.command()
def fields(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    match: Optional[str] = typer.Option(None, "--match", help="Only paths containing this text."),
    as_json: AsJson = False,
) -> None:
    """List every field path of a scenario (what sweeps, grids, experiments, sim.evaluate and
    Mesa's batch_run can set), with its kind, choices and value in the scenario."""
    from sim.scenario.fields import fields as field_table
    from sim.scenario.fields import value_of

    sc = load_or_exit(scenario)
    rows = []
    for path, field in field_table(sc).items():
        if match and match not in path:
            continue
        value = value_of(sc, path)
        value = value if isinstance(value, (int, float, str, list)) or value is None \
            else str(value)
        rows.append({"path": path, "kind": field.kind, "may_be_distribution": field.sampled,
                     "choices": list(field.choices), "value": value})
    if as_json:
        print(json.dumps(rows, default=str))
        return
    table = Table(title=plain(f"{sc.name}: {len(rows)} field paths"))
    for column in ("path", "kind", "value"):
        table.add_column(column)
    for row in rows:
        kind = row["kind"] + (" or distribution" if row["may_be_distribution"] else "") + \
            (f" ({', '.join(row['choices'])})" if row["choices"] else "")
        table.add_row(plain(row["path"]), kind, plain(row["value"]))
    out.print(table)


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
                                             help="Replications per chunk (default: up to 20000 "
                                             "for vector, sized to ~512 MB of estimated memory; "
                                             "50 for mesa). Does not change results."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address "
                                            "(tcp://HOST:8786): run the chunks on that cluster."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Finish an interrupted run "
                                          "in this results folder."),
    shock: list[str] = typer.Option([], "--shock", "-s", help="Add a shock to the scenario: "
                                    "KIND or KIND:key=value,... (keys partner, at_cycle, rate, "
                                    "magnitude; default: any partner at review 2). "
                                    "Repeatable."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
) -> None:
    """Monte Carlo stress test: how likely is this partnership to deliver its business case?

    Finished chunks are saved as they complete; an interrupted run (Ctrl-C, a killed process)
    is finished with `collabsim run --resume FOLDER`, with exactly the result it would have had.
    """
    from sim.montecarlo import files
    from sim.results import folders

    if resume is not None:
        folder = resume
        _check_engine(engine)
        if shock:
            fail("--shock: the run folder already records its shocks; resume with just "
                 f"--resume {folder}")
        # pandas and pyarrow: loaded once the input is known good
        from sim.results import stored_run

        try:
            plan = stored_run.load_plan(folder)
        except stored_run.RunFolderError as exc:
            fail(str(exc))
        if scenario is not None and load_or_exit(scenario) != plan.scenario():
            fail(f"--resume {folder}: that run is of a different scenario than {scenario}")
        if stored_run.is_complete(folder):
            show(f"{folder}: already complete", err)
    else:
        if scenario is None:
            fail("give a scenario file, or --resume FOLDER to finish an interrupted run")
        sc, text = load_with_text(scenario)   # first: a bad scenario is refused at once
        _check_engine(engine)
        seed = sc.seed if seed is None else seed
        if shock:
            text = _with_cli_shocks(sc, shock)
        folder = out_dir if out_dir is not None else folders.default_folder(str(scenario), seed)
        argv = ["collabsim", "run", str(scenario), "--replications", str(replications),
                "--seed", str(seed)] + (["--engine", engine] if engine != "vector" else [])
        argv += sum((["--shock", s] for s in shock), [])
        check_new_folder(folder, "run")
        from sim.montecarlo.memory import check_memory, default_chunk_size
        from sim.scenario.loading import load_scenario_text

        planned = load_scenario_text(text, str(scenario)) if shock else sc
        chunk = chunk_size or default_chunk_size(planned, engine)
        analysis_errors(lambda: check_memory(planned, engine, min(chunk, replications)))
        # pandas and pyarrow: loaded once the input is known good
        from sim.results import stored_run

    created = [p for p in [folder, *folder.parents] if not p.exists()]
    planned_here = False   # whether this command wrote the folder's plan (and may remove it)
    try:
        with files.folder_lock(folder):   # one process per folder, for as long as it writes
            try:
                if resume is None:
                    try:
                        plan = stored_run.plan(folder, str(scenario), seed, replications,
                                               engine, chunk_size, folders.reproduce_command(argv),
                                               scenario_text=text)
                    except stored_run.RunFolderError as exc:
                        fail(str(exc))
                    planned_here = True
                if not stored_run.is_complete(folder):
                    _execute(folder, plan, executor_for(workers, scheduler), new=planned_here)
            except typer.Exit as exc:
                if exc.exit_code == BAD_INPUT and planned_here:
                    remove_created(folder, created)   # bad input leaves nothing behind
                raise
    except (files.FolderBusy, files.UnsafeFolder) as exc:
        fail(str(exc))
    except OSError as exc:   # the folder itself cannot be made or locked
        fail(f"--out {folder}: {exc.strerror or exc}", CANNOT_WRITE)
    summary = {**files.read_json(folder / "manifest.json")["summary"], "results": str(folder)}
    _print_summary(summary, plan, folder, as_json)


def _check_engine(engine: str) -> None:
    # numpy and the rules: only once the scenario is good
    from sim.partnership.engine import ENGINES

    if engine not in ENGINES:
        fail(f"--engine {engine}: must be one of {', '.join(ENGINES)}")


def _with_cli_shocks(sc, shocks: list[str]) -> str:
    """The scenario with --shock additions, as the YAML text the run folder records."""
    from sim.scenario.loading import ScenarioError, scenario_text
    from sim.scenario.shocks import StressError, with_shocks

    try:
        return scenario_text(with_shocks(sc, shocks))
    except (StressError, ScenarioError) as exc:
        fail(str(exc))


def _execute(folder: Path, plan, executor: Executor, new: bool) -> None:
    """Run what is left of the plan and assemble the folder; every abnormal end says what is
    saved and how to finish (`collabsim run --resume FOLDER`)."""
    from sim.montecarlo.executors import SchedulerUnreachable, memory_budget
    from sim.montecarlo.memory import chunk_bytes, workers_for
    from sim.results import stored_run

    scenario = plan.scenario()
    chunk = min(plan.chunk_size, plan.replications)
    scheduler = executor.scheduler
    if not executor.on_cluster and executor.workers > 1:
        use = analysis_errors(lambda: workers_for(scenario, plan.engine, chunk,
                                                  executor.workers))
        if use < executor.workers:
            need = chunk_bytes(scenario, plan.engine, chunk) / 2**20
            show(f"note: {use} worker{'s' if use > 1 else ''} instead of {executor.workers}: "
                 f"each chunk of this scenario needs about {need:,.0f} MB of memory, and "
                 f"{memory_budget() / 2**20:,.0f} MB is available to collabsim (set "
                 "COLLABSIM_MEMORY to change that)", err)
            executor = executor.at_most(use)
    resume = resume_command("run", folder)

    def saved() -> str:
        done = len(stored_run.done_chunks(folder, plan))
        return f"{done} of {len(plan.chunks())} chunks are saved in {folder}"

    with abnormal_ends(resume=resume, saved=saved, scheduler=scheduler):
        with progress_bar("simulating") as progress:
            task = progress.add_task("run", total=plan.replications)
            try:
                stored_run.execute(folder, executor.reporting(
                    lambda done, total: progress.update(task, completed=done)))
            except SchedulerUnreachable as exc:
                progress.stop()
                if new and not stored_run.done_chunks(folder, plan):
                    fail(f"--scheduler {scheduler}: {exc}")   # nothing done: nothing kept
                fail(f"--scheduler {scheduler}: {exc}. {saved()}; finish with: {resume} "
                     "(with another --scheduler, or none to run here)")
        stored_run.assemble(folder)


def _print_summary(summary: dict, plan, folder: Path, as_json: bool) -> None:
    from sim.results.run_folder import headline_lines

    if as_json:
        print(json.dumps(summary))
        return
    name = plan.scenario().name
    table = Table(title=plain(f"{name}: {plan.replications} replications, seed {plan.seed}"),
                  show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for k, v in headline_lines(summary):
        table.add_row(plain(k), plain(v))
    out.print(table)
    if summary["failure_paths"]:
        paths = Table(title="Most common failure paths", show_header=True)
        paths.add_column("path")
        paths.add_column("share of runs", justify="right")
        for k, v in summary["failure_paths"].items():
            paths.add_row(plain(k), f"{100 * v:.1f}%")
        out.print(paths)
    show(f"results: {folder}")
