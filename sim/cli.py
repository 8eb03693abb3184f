"""The `collabsim` command line: parse arguments, call the Python API, render the result.

Bad input (a malformed scenario, a bad flag) prints one clear message and exits with status 2,
never a traceback.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sim.cli_common import (BAD_INPUT, AsJson, OutDir, Scheduler, Seed, Workers,
                             analysis_errors, app, err, fail, load_or_exit, new_results_folder,
                             out, progress_bar)


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
    from sim.engine import ENGINES

    if engine not in ENGINES:
        fail(f"--engine {engine}: must be one of {', '.join(ENGINES)}")
    if resume is not None:
        folder = resume
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
            err.print(f"{folder}: already complete", markup=False, soft_wrap=True)
    else:
        if scenario is None:
            fail("give a scenario file, or --resume FOLDER to finish an interrupted run")
        sc = load_or_exit(scenario)
        seed = sc.seed if seed is None else seed
        text = _with_cli_shocks(sc, shock) if shock else None
        folder = out_dir if out_dir is not None else store.default_folder(str(scenario), seed)
        argv = ["collabsim", "run", str(scenario), "--replications", str(replications),
                "--seed", str(seed)] + (["--engine", engine] if engine != "vector" else [])
        argv += sum((["--shock", s] for s in shock), [])
        if folder.exists() and (not folder.is_dir() or not store.is_empty_folder(folder)):
            fail(f"{folder}: already exists and is not an empty folder")
        from sim import stored_run
    from sim.executors import default_workers

    try:
        with store.folder_lock(folder):   # one process per folder, for as long as it writes
            if resume is None:
                try:
                    plan = stored_run.plan(folder, str(scenario), seed, replications, engine,
                                           chunk_size, store.reproduce_command(argv),
                                           scenario_text=text)
                except (stored_run.RunFolderError, OSError) as exc:
                    fail(str(exc) if isinstance(exc, stored_run.RunFolderError)
                         else f"--out {folder}: {exc}")
            if not stored_run.is_complete(folder):
                _execute(folder, plan, workers or default_workers(), scheduler)
    except store.FolderBusy as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--out {folder}: {exc}")
    summary = {**json.loads((folder / "manifest.json").read_text())["summary"],
               "results": str(folder)}
    _print_summary(summary, plan, folder, as_json)


def _sweep_plan(folder: Path) -> dict:
    """The plan of a sweep folder, or an exit-2 error saying what the folder is instead."""
    path = Path(folder) / "plan.json"
    if not path.is_file():
        fail(f"{folder}: not a sweep folder (no plan.json)")
    try:
        plan = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"{path}: damaged ({exc})")
    kind = plan.get("kind", "run") if isinstance(plan, dict) else None
    if kind != "sweep":
        fail(f"{folder}: a {kind} folder, not a sweep; finish it with `collabsim {kind} "
             f"--resume {folder}`" if kind else f"{path}: damaged")
    return plan


def _print_saved_sweep(folder: Path, as_json: bool) -> None:
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    if as_json:
        print(json.dumps({"results": str(folder), "settings": manifest["settings"],
                          "adequacy": manifest["summary"]["adequacy"]}))
    else:
        out.print(f"results: {folder}", markup=False, soft_wrap=True)


def _with_cli_shocks(sc, shocks: list[str]) -> str:
    """The scenario with --shock additions, as the YAML text the run folder records."""
    import yaml

    from sim.loading import ScenarioError, scenario_data
    from sim.stress import DEFAULT_AT_CYCLE, StressError, parse_shock, with_shocks

    try:
        added = with_shocks(sc, [parse_shock(s, at_cycle=DEFAULT_AT_CYCLE) for s in shocks])
    except (StressError, ScenarioError) as exc:
        fail(str(exc))
    return yaml.safe_dump(scenario_data(added), sort_keys=False, allow_unicode=True)


def _execute(folder: Path, plan, workers: int, scheduler: Optional[str]) -> None:
    from sim import stored_run

    with progress_bar("simulating") as progress:
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
            if scheduler is not None:
                fail(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})")
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
    `collabsim sweep --resume FOLDER`, with exactly the result it would have had."""
    from sim import store
    from sim.executors import default_workers
    from sim.loading import ScenarioError, load_scenario_text

    if resume is not None:
        folder = resume
        plan = _sweep_plan(folder)
        if (folder / "manifest.json").is_file():
            err.print(f"{folder}: already complete", markup=False, soft_wrap=True)
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
        sc = load_or_exit(scenario)   # first: bad input is refused before anything heavy loads
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
                "scenario_text": Path(scenario).read_text(encoding="utf-8-sig"),
                "method": method, "samples": samples, "replications": replications,
                "outputs": list(output), "factors": list(factor), "seed": seed,
                "second_order": second_order, "command": command}
    from sim.sensitivity import RANK_BY, sweep as run_sweep

    created = [p for p in [folder, *folder.parents] if not p.exists()]
    try:
        with store.folder_lock(folder):   # one process per folder, for as long as it writes
            if resume is None:
                if not store.is_empty_folder(folder):
                    fail(f"--out {folder}: already exists and is not an empty folder")
                store.write_json(folder / "plan.json", plan)
            with progress_bar("sweeping") as progress:
                task = progress.add_task("sweep", total=None)
                result = analysis_errors(lambda: run_sweep(
                    sc, method, samples, replications, tuple(output), factor, seed,
                    second_order, workers or default_workers(), scheduler,
                    on_progress=lambda done, total: progress.update(task, completed=done,
                                                                    total=total),
                    checkpoint=folder / "points"),
                    scheduler=scheduler, scenario_context="a --factor range is not valid for "
                    "the scenario: ")
            from sim.sensitivity_report import save_sweep   # matplotlib: once there is a result

            save_sweep(result, folder, str(scenario), command, plan["scenario_text"],
                       job_folder=True)
            shutil.rmtree(folder / "points", ignore_errors=True)
    except store.FolderBusy as exc:
        fail(str(exc))
    except typer.Exit as exc:
        if exc.exit_code == BAD_INPUT and created and resume is None:
            shutil.rmtree(folder, ignore_errors=True)   # bad input leaves nothing behind,
            for parent in created[1:]:                  # not even an empty results/
                try:
                    parent.rmdir()
                except OSError:
                    break
        raise
    except KeyboardInterrupt:
        err.print(f"interrupted: the finished design points are saved in {folder}. Finish "
                  f"with: collabsim sweep --resume {folder}", markup=False, soft_wrap=True)
        raise typer.Exit(130) from None
    for note in result.notes:
        err.print(f"SALib: {note}", markup=False, soft_wrap=True)
    if as_json:
        print(json.dumps({"results": str(folder), "settings": result.settings,
                          "adequacy": result.adequacy,
                          "indices": json.loads(result.indices.to_json(orient="records"))}))
        return
    rank, conf = RANK_BY[method]
    for o in result.outputs:
        frame = result.indices[result.indices["output"] == o]
        table = Table(title=f"{sc.name}: {method} indices for {o} ({len(result.design)} points "
                      f"x {replications} runs)")
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
            table.add_row(str(row["rank"]), row["factor"], row["range"], *cells)
        out.print(table)
        a = result.adequacy[o]
        if not a["checked"]:
            out.print(f"sample size: not checked ({a['why']})", markup=False)
        elif a["adequate"]:
            out.print(f"sample size: large enough to rank the factors (every 95% CI within "
                      f"± {a['widest_half_width']:.3f})", markup=False)
        else:
            lead = "the leading factor is clear, but " if a["leader_clear"] else ""
            out.print(f"[bold yellow]warning:[/] {lead}the 95% CIs are too wide to rank all the "
                      f"factors (widest ± {a['widest_half_width']:.3f}, for "
                      f"{a['widest_factor']}; ranking needs ± 0.05); try --samples "
                      f"{a['suggested_samples']}", markup=True, soft_wrap=True)
    out.print(f"results: {folder}", markup=False, soft_wrap=True)


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
    from sim.maps import grid as run_grid

    seed = sc.seed if seed is None else seed
    folder = new_results_folder(out_dir, "grid", scenario, seed)
    with progress_bar("mapping") as progress:
        task = progress.add_task("grid", total=steps * steps)
        result = analysis_errors(lambda: run_grid(
            sc, x, y, steps, replications, tuple(output), seed, workers or default_workers(),
            scheduler, on_progress=lambda done, total: progress.update(task, completed=done)),
            scheduler=scheduler, scenario_context="an --x or --y range is not valid for the "
            "scenario: ")
    argv = ["collabsim", "grid", str(scenario), "--x", x, "--y", y, "--steps", str(steps),
            "--replications", str(replications), "--seed", str(seed)]
    argv += sum((["--output", o] for o in output), [])
    from sim.sensitivity_report import save_grid   # matplotlib: once there is a result

    analysis_errors(lambda: save_grid(result, folder, str(scenario),
                                      store.reproduce_command(argv)))
    if as_json:
        print(json.dumps({"results": str(folder), "settings": result.settings,
                          "grid": json.loads(result.table.to_json(orient="records"))}))
        return
    m = result.matrix()
    table = Table(title=f"{sc.name}: {result.output} (rows {result.y.path}, columns "
                  f"{result.x.path})")
    table.add_column("y \\ x", justify="right")
    for v in m.columns:
        table.add_column(f"{v:.3g}", justify="right")
    for yv, row in m.iloc[::-1].iterrows():
        table.add_row(f"{yv:.3g}", *(f"{v:.2f}" for v in row))
    out.print(table)
    out.print(f"results: {folder}", markup=False, soft_wrap=True)


from sim import cli_app, cli_workflows  # noqa: E402,F401 - register app, stress, compare, ...


def main() -> None:
    """Console entry point: usage errors exit 2 (click's convention), scenario errors too."""
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")  # figures go to files; never open a window
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
