"""`collabsim sweep` and `collabsim grid`: which uncertain inputs decide success, and an outcome
over
a grid of two inputs, each into a resumable results folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sim.cli.common import (NOTHING_ANALYSED, AsJson, OutDir, Scheduler, Seed, Workers,
                            abnormal_ends, analysis_errors, app, check_fits, err, executor_for,
                            fail, job_plan, load_or_exit, load_with_text, new_results_folder, out,
                            plain, progress_bar, resumable_job, show)
from sim.results import jobs


def _print_saved_sweep(folder: Path, as_json: bool) -> None:
    from sim.montecarlo import files

    manifest = files.read_json(Path(folder) / "manifest.json")
    skipped = manifest["summary"].get("skipped", {})
    if as_json:
        print(json.dumps({"results": str(folder), "settings": manifest["settings"],
                          "adequacy": manifest["summary"]["adequacy"], "skipped": skipped}))
    _end_sweep(skipped, manifest["settings"].get("analysed_outputs", [None]), folder)
    if not as_json:
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
    from sim.results import folders
    from sim.scenario.loading import ScenarioError, load_scenario_text

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
        from sim.analysis.sensitivity import METHODS

        if method not in METHODS:
            fail(f"--method {method}: must be one of {', '.join(METHODS)}")
        seed = sc.seed if seed is None else seed
        folder = new_results_folder(out_dir, "sweep", scenario, seed)
        argv = ["collabsim", "sweep", str(scenario), "--method", method, "--samples",
                str(samples), "--replications", str(replications), "--seed", str(seed)]
        argv += sum((["--output", o] for o in output), [])
        argv += sum((["--factor", f] for f in factor), [])
        argv += ["--second-order"] if second_order else []
        command = folders.reproduce_command(argv)
        plan = jobs.sweep_plan(scenario, text, method=method, samples=samples,
                               replications=replications, outputs=output, factors=factor,
                               seed=seed, second_order=second_order, command=command)
    from sim.analysis.sensitivity import RANK_BY

    design_file = folder / "design.parquet"

    def run():
        with progress_bar("sweeping") as progress:
            task = progress.add_task("sweep", total=None)
            executor = executor_for(workers, scheduler).reporting(
                lambda done, total: progress.update(task, completed=done, total=total))
            return analysis_errors(lambda: jobs.run_job(folder, plan, new=resume is None,
                                                        executor=executor),
                                   scheduler=scheduler, scenario_context="a --factor range is "
                                   "not valid for the scenario: ")

    result = resumable_job(
        folder, new=resume is None, kind="sweep", run=run,
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
        if result.large_enough(o) is False:
            out.print("[bold yellow]warning:[/] ", end="", markup=True)
        show(result.verdict(o))
    _end_sweep(result.skipped, result.outputs, folder)
    show(f"results: {folder}")


def _end_sweep(skipped: dict, analysed, folder: Path) -> None:
    """Say which outputs were not analysed, and why; with none analysed, exit 7 (the folder is
    complete: the design and its outputs are saved)."""
    from sim.analysis.sensitivity import skipped_note

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
    from sim.results import folders

    sc = load_or_exit(scenario)   # first: bad input is refused before anything heavy loads
    check_fits(sc, replications)
    from sim.analysis.maps import grid as run_grid

    seed = sc.seed if seed is None else seed
    folder = new_results_folder(out_dir, "grid", scenario, seed)
    argv = ["collabsim", "grid", str(scenario), "--x", x, "--y", y, "--steps", str(steps),
            "--replications", str(replications), "--seed", str(seed)]
    argv += sum((["--output", o] for o in output), [])
    with abnormal_ends(scheduler=scheduler):
        with progress_bar("mapping") as progress:
            task = progress.add_task("grid", total=steps * steps)
            executor = executor_for(workers, scheduler).reporting(
                lambda done, total: progress.update(task, completed=done))
            result = analysis_errors(lambda: run_grid(
                sc, x, y, steps, replications, tuple(output), seed, executor=executor),
                scheduler=scheduler, scenario_context="an --x or --y range is not valid for "
                "the scenario: ")
        from sim.results.save import save as save_folder

        analysis_errors(lambda: save_folder(result, folder, source=str(scenario),
                                            command=folders.reproduce_command(argv)))
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
