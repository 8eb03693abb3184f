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
from rich.table import Table

from sim.cli_common import (BAD_INPUT, CANNOT_WRITE, NOTHING_ANALYSED, AsJson, OutDir, Scheduler,
                            Seed, Workers, abnormal_ends, analysis_errors, app, check_fits,
                            check_new_folder, err, fail, job_plan, load_or_exit, load_with_text,
                            new_results_folder, out, plain, progress_bar, raise_terminated,
                            remove_created, resumable_job, resume_command, show)


@app.command()
def validate(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    as_json: AsJson = False,
) -> None:
    """Check a scenario file and describe what it sets up."""
    from sim.business_case import describe

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
    from sim.fields import fields as field_table, value_of

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
    from sim import store

    if resume is not None:
        folder = resume
        _check_engine(engine)
        if shock:
            fail("--shock: the run folder already records its shocks; resume with just "
                 f"--resume {folder}")
        from sim import stored_run   # pandas and pyarrow: loaded once the input is known good

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
        folder = out_dir if out_dir is not None else store.default_folder(str(scenario), seed)
        argv = ["collabsim", "run", str(scenario), "--replications", str(replications),
                "--seed", str(seed)] + (["--engine", engine] if engine != "vector" else [])
        argv += sum((["--shock", s] for s in shock), [])
        check_new_folder(folder, "run")
        from sim.loading import load_scenario_text
        from sim.memory import check_memory, default_chunk_size

        planned = load_scenario_text(text, str(scenario)) if shock else sc
        chunk = chunk_size or default_chunk_size(planned, engine)
        analysis_errors(lambda: check_memory(planned, engine, min(chunk, replications)))
        from sim import stored_run   # pandas and pyarrow: loaded once the input is known good
    from sim.executors import default_workers

    created = [p for p in [folder, *folder.parents] if not p.exists()]
    planned_here = False   # whether this command wrote the folder's plan (and may remove it)
    try:
        with store.folder_lock(folder):   # one process per folder, for as long as it writes
            try:
                if resume is None:
                    try:
                        plan = stored_run.plan(folder, str(scenario), seed, replications,
                                               engine, chunk_size, store.reproduce_command(argv),
                                               scenario_text=text)
                    except stored_run.RunFolderError as exc:
                        fail(str(exc))
                    planned_here = True
                if not stored_run.is_complete(folder):
                    _execute(folder, plan, workers or default_workers(), scheduler,
                             new=planned_here)
            except typer.Exit as exc:
                if exc.exit_code == BAD_INPUT and planned_here:
                    remove_created(folder, created)   # bad input leaves nothing behind
                raise
    except (store.FolderBusy, store.UnsafeFolder) as exc:
        fail(str(exc))
    except OSError as exc:   # the folder itself cannot be made or locked
        fail(f"--out {folder}: {exc.strerror or exc}", CANNOT_WRITE)
    summary = {**store.read_json(folder / "manifest.json")["summary"], "results": str(folder)}
    _print_summary(summary, plan, folder, as_json)


def _check_engine(engine: str) -> None:
    from sim.engine import ENGINES   # numpy and the rules: only once the scenario is good

    if engine not in ENGINES:
        fail(f"--engine {engine}: must be one of {', '.join(ENGINES)}")


def _print_saved_sweep(folder: Path, as_json: bool) -> None:
    from sim import store

    manifest = store.read_json(Path(folder) / "manifest.json")
    skipped = manifest["summary"].get("skipped", {})
    if as_json:
        print(json.dumps({"results": str(folder), "settings": manifest["settings"],
                          "adequacy": manifest["summary"]["adequacy"], "skipped": skipped}))
    _end_sweep(skipped, manifest["settings"].get("analysed_outputs", [None]), folder)
    if not as_json:
        show(f"results: {folder}")


def _with_cli_shocks(sc, shocks: list[str]) -> str:
    """The scenario with --shock additions, as the YAML text the run folder records."""
    import yaml

    from sim.loading import ScenarioError, scenario_data
    from sim.shocks import DEFAULT_AT_CYCLE, StressError, parse_shock, with_shocks

    try:
        added = with_shocks(sc, [parse_shock(s, at_cycle=DEFAULT_AT_CYCLE) for s in shocks])
    except (StressError, ScenarioError) as exc:
        fail(str(exc))
    return yaml.safe_dump(scenario_data(added), sort_keys=False, allow_unicode=True)


def _execute(folder: Path, plan, workers: int, scheduler: Optional[str], new: bool) -> None:
    """Run what is left of the plan and assemble the folder; every abnormal end says what is
    saved and how to finish (`collabsim run --resume FOLDER`)."""
    from sim import stored_run
    from sim.executors import SchedulerUnreachable, memory_budget
    from sim.memory import chunk_bytes, workers_for

    scenario = plan.scenario()
    chunk = min(plan.chunk_size, plan.replications)
    if scheduler is None and workers > 1:
        use = analysis_errors(lambda: workers_for(scenario, plan.engine, chunk, workers))
        if use < workers:
            need = chunk_bytes(scenario, plan.engine, chunk) / 2**20
            show(f"note: {use} worker{'s' if use > 1 else ''} instead of {workers}: each chunk "
                 f"of this scenario needs about {need:,.0f} MB of memory, and "
                 f"{memory_budget() / 2**20:,.0f} MB is available to collabsim (set "
                 "COLLABSIM_MEMORY to change that)", err)
            workers = use
    resume = resume_command("run", folder)

    def saved() -> str:
        done = len(stored_run.done_chunks(folder, plan))
        return f"{done} of {len(plan.chunks())} chunks are saved in {folder}"

    with abnormal_ends(resume=resume, saved=saved, scheduler=scheduler):
        with progress_bar("simulating") as progress:
            task = progress.add_task("run", total=plan.replications)
            try:
                stored_run.execute(folder, workers=workers, scheduler=scheduler,
                                   on_progress=lambda done, total: progress.update(
                                       task, completed=done))
            except SchedulerUnreachable as exc:
                progress.stop()
                if new and not stored_run.done_chunks(folder, plan):
                    fail(f"--scheduler {scheduler}: {exc}")   # nothing done: nothing kept
                fail(f"--scheduler {scheduler}: {exc}. {saved()}; finish with: {resume} "
                     "(with another --scheduler, or none to run here)")
        stored_run.assemble(folder)


def _print_summary(summary: dict, plan, folder: Path, as_json: bool) -> None:
    from sim.report import headline_lines

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


@app.command()
def sweep(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML file (not needed with "
                                              "--resume)."),
    method: str = typer.Option("sobol", "--method", help="sobol, morris, fast, rbd_fast, "
                               "delta or pawn (SALib)."),
    samples: int = typer.Option(1024, "--samples", "-N", min=2, max=10_000_000,
                                help="SALib's base sample size N."),
    replications: int = typer.Option(64, "--replications", "-n", min=1, max=1_000_000,
                                     help="Runs per design point."),
    output: list[str] = typer.Option(["p_deliver"], "--output", "-o",
                                     help="Outcome to analyse (repeat for several)."),
    factor: list[str] = typer.Option([], "--factor", "-f", help="PATH=LOW:HIGH: add or "
                                     "override a factor (repeatable; partners.*.X groups)."),
    second_order: bool = typer.Option(False, "--second-order", help="Sobol second-order "
                                      "indices too (N (2D + 2) points)."),
    seed: Seed = None,
    out_dir: OutDir = None,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    resume: Optional[Path] = typer.Option(None, "--resume", help="Finish an interrupted sweep "
                                          "in this results folder."),
    as_json: AsJson = False,
) -> None:
    """Global sensitivity: which uncertain inputs decide the outcome (SALib).

    Finished design points are saved as they complete; an interrupted sweep is finished with
    `collabsim sweep --resume FOLDER`, with exactly the result it would have had. The design
    and its outputs are saved before any analysis; an output SALib cannot analyse is skipped
    with a note (exit status 7 if no output can be analysed)."""
    from sim import store
    from sim.executors import default_workers
    from sim.loading import ScenarioError, load_scenario_text

    if resume is not None:
        folder = resume
        plan = job_plan(folder, "sweep")
        if (folder / "manifest.json").is_file():
            show(f"{folder}: already complete", err)
            _print_saved_sweep(folder, as_json)
            return
        try:
            sc = load_scenario_text(plan["scenario_text"], plan["scenario_path"])
        except ScenarioError as exc:
            fail(str(exc))
        method, samples, replications, output, factor, seed, second_order = (
            plan["method"], plan["samples"], plan["replications"], plan["outputs"],
            plan["factors"], plan["seed"], plan["second_order"])
        scenario, command = Path(plan["scenario_path"]), plan["command"]
    else:
        if scenario is None:
            fail("give a scenario file, or --resume FOLDER to finish an interrupted sweep")
        sc, text = load_with_text(scenario)   # first: bad input is refused before anything
        check_fits(sc, replications)          # heavy loads
        from sim.sensitivity import METHODS

        if method not in METHODS:
            fail(f"--method {method}: must be one of {', '.join(METHODS)}")
        seed = sc.seed if seed is None else seed
        folder = new_results_folder(out_dir, "sweep", scenario, seed)
        argv = ["collabsim", "sweep", str(scenario), "--method", method, "--samples",
                str(samples), "--replications", str(replications), "--seed", str(seed)]
        argv += sum((["--output", o] for o in output), [])
        argv += sum((["--factor", f] for f in factor), [])
        argv += ["--second-order"] if second_order else []
        command = store.reproduce_command(argv)
        plan = {"format": 1, "kind": "sweep", "scenario_path": str(scenario),
                "scenario_text": text,
                "method": method, "samples": samples, "replications": replications,
                "outputs": list(output), "factors": list(factor), "seed": seed,
                "second_order": second_order, "command": command}
    from sim.sensitivity import RANK_BY, sweep as run_sweep

    design_file = folder / "design.parquet"

    def work():
        with progress_bar("sweeping") as progress:
            task = progress.add_task("sweep", total=None)
            return analysis_errors(lambda: run_sweep(
                sc, method, samples, replications, tuple(output), factor, seed, second_order,
                workers or default_workers(), scheduler,
                on_progress=lambda done, total: progress.update(task, completed=done,
                                                                total=total),
                checkpoint=folder / "points",
                on_evaluated=lambda design: store.write_table(design, folder, "design")),
                scheduler=scheduler,
                scenario_context="a --factor range is not valid for the scenario: ")

    def save(result):
        from sim.sensitivity_report import save_sweep   # matplotlib, only now

        save_sweep(result, folder, str(scenario), command, plan["scenario_text"],
                   job_folder=True)

    result = resumable_job(
        folder, plan, new=resume is None, kind="sweep", work=work, save=save,
        scheduler=scheduler, saved=lambda: (
            f"Every design point and its outputs are saved in {design_file}"
            if design_file.is_file() else f"The finished design points are saved in {folder}"))
    for note in result.salib_notes:
        show(f"SALib: {note}", err)
    if as_json:
        print(json.dumps({"results": str(folder), "settings": result.settings,
                          "adequacy": result.adequacy, "skipped": result.skipped,
                          "indices": json.loads(result.indices.to_json(orient="records"))}))
        _end_sweep(result.skipped, result.outputs, folder)
        return
    rank, conf = RANK_BY[method]
    for o in result.outputs:
        frame = result.indices[result.indices["output"] == o]
        table = Table(title=plain(f"{sc.name}: {method} indices for {o} "
                                  f"({len(result.design)} points x {replications} runs)"))
        table.add_column("rank", justify="right")
        table.add_column("factor", overflow="fold")
        table.add_column("range")
        shown = [c for c in ("S1", "ST", "mu_star", "sigma", "delta_raw", "median")
                 if c in frame]
        for c in shown:
            table.add_column(c, justify="right")
        for _, row in frame.iterrows():
            cells = []
            for c in shown:
                ci = f"{c}_conf"
                cells.append(f"{row[c]:.3f}" + (f" ± {row[ci]:.3f}" if ci in frame else ""))
            table.add_row(*map(plain, (row["rank"], row["factor"], row["range"], *cells)))
        out.print(table)
        a = result.adequacy[o]
        if not a["checked"]:
            show(f"sample size: not checked ({a['why']})")
        elif a["adequate"]:
            show(f"sample size: large enough to rank the factors (every 95% CI within "
                 f"± {a['widest_half_width']:.3f})")
        else:
            lead = "the leading factor is clear, but " if a["leader_clear"] else ""
            out.print("[bold yellow]warning:[/] ", end="", markup=True)
            show(f"{lead}the 95% CIs are too wide to rank all the factors (widest "
                 f"± {a['widest_half_width']:.3f}, for {a['widest_factor']}; ranking needs "
                 f"± 0.05); try --samples {a['suggested_samples']}")
    _end_sweep(result.skipped, result.outputs, folder)
    show(f"results: {folder}")


def _end_sweep(skipped: dict, analysed, folder: Path) -> None:
    """Say which outputs were not analysed, and why; with none analysed, exit 7 (the folder is
    complete: the design and its outputs are saved)."""
    from sim.sensitivity import skipped_note

    for output, why in skipped.items():
        err.print("[bold yellow]note:[/] ", end="", markup=True)
        show(skipped_note(output, why), err)
    if not analysed:
        fail(f"no output could be analysed; every design point and its outputs are saved in "
             f"{folder / 'design.parquet'}", NOTHING_ANALYSED)


@app.command()
def grid(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    x: str = typer.Option(..., "--x", help="PATH=LOW:HIGH for the horizontal axis."),
    y: str = typer.Option(..., "--y", help="PATH=LOW:HIGH for the vertical axis."),
    steps: int = typer.Option(9, "--steps", min=2, max=201, help="Grid points per axis."),
    replications: int = typer.Option(200, "--replications", "-n", min=1, max=1_000_000,
                                     help="Runs per grid cell."),
    output: list[str] = typer.Option(["p_deliver"], "--output", "-o",
                                     help="Outcome to map (repeat for several)."),
    seed: Seed = None,
    out_dir: OutDir = None,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    as_json: AsJson = False,
) -> None:
    """Heat map of an outcome over two inputs (every other input stays uncertain)."""
    from sim import store
    from sim.executors import default_workers

    sc = load_or_exit(scenario)   # first: bad input is refused before anything heavy loads
    check_fits(sc, replications)
    from sim.maps import grid as run_grid

    seed = sc.seed if seed is None else seed
    folder = new_results_folder(out_dir, "grid", scenario, seed)
    argv = ["collabsim", "grid", str(scenario), "--x", x, "--y", y, "--steps", str(steps),
            "--replications", str(replications), "--seed", str(seed)]
    argv += sum((["--output", o] for o in output), [])
    with abnormal_ends(scheduler=scheduler):
        with progress_bar("mapping") as progress:
            task = progress.add_task("grid", total=steps * steps)
            result = analysis_errors(lambda: run_grid(
                sc, x, y, steps, replications, tuple(output), seed,
                workers or default_workers(), scheduler,
                on_progress=lambda done, total: progress.update(task, completed=done)),
                scheduler=scheduler, scenario_context="an --x or --y range is not valid for "
                "the scenario: ")
        from sim.sensitivity_report import save_grid   # matplotlib: once there is a result

        analysis_errors(lambda: save_grid(result, folder, str(scenario),
                                          store.reproduce_command(argv), sc))
    if as_json:
        print(json.dumps({"results": str(folder), "settings": result.settings,
                          "grid": json.loads(result.table.to_json(orient="records"))}))
        return
    m = result.matrix()
    table = Table(title=plain(f"{sc.name}: {result.output} (rows {result.y.path}, columns "
                              f"{result.x.path})"))
    table.add_column(plain("y \\ x"), justify="right")
    for v in m.columns:
        table.add_column(f"{v:.3g}", justify="right")
    for yv, row in m.iloc[::-1].iterrows():
        table.add_row(f"{yv:.3g}", *(f"{v:.2f}" for v in row))
    out.print(table)
    t, o = result.table, result.output
    widths = (t[f"{o}_ci_high"] - t[f"{o}_ci_low"]).dropna()
    if len(widths):   # a mean over one run per cell has no interval
        wide = widths.idxmax()
        show(f"95% CIs per cell are in grid.csv ({o}_ci_low, {o}_ci_high); the widest is "
             f"{t[f'{o}_ci_low'][wide]:.2f} to {t[f'{o}_ci_high'][wide]:.2f}, at "
             f"{result.x.path} {t[result.x.path][wide]:.3g}, {result.y.path} "
             f"{t[result.y.path][wide]:.3g}")
    show(f"results: {folder}")


from sim import (cli_app, cli_calibrate, cli_design, cli_experiment, cli_patterns,  # noqa: E402,F401
                 cli_workflows)


def main() -> None:
    """Console entry point: usage errors exit 2 (click's convention), scenario errors too;
    SIGTERM is handled as Ctrl-C is (a message, the resume command, status 143)."""
    import os
    import signal

    from sim.cli_common import INTERRUPTED, TERMINATED, Terminated

    os.environ.setdefault("MPLBACKEND", "Agg")  # figures go to files; never open a window
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        app()
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        err.print("terminated (SIGTERM)" if terminated else "interrupted")
        sys.exit(TERMINATED if terminated else INTERRUPTED)


if __name__ == "__main__":
    main()
