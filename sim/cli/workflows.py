"""The stress-testing workflow on the command line: stress, compare, discover and report.

Each command is a thin layer over sim.analysis.stress, sim.analysis.comparison,
sim.analysis.discovery and sim.results.html;
registered on the `collabsim` app by sim.cli.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sim.cli.common import (BAD_INPUT, CANNOT_WRITE, WRITE_ERRORS, AsJson, OutDir, Scheduler, Seed,
                            Workers, abnormal_ends, analysis_errors, app, check_fits, err,
                            executor_for, fail, load_or_exit, new_results_folder, out, plain,
                            progress_bar, show)
from sim.montecarlo.executors import Executor
from sim.results.save import save as save_folder


def _run_with_progress(label: str, fn, executor: Executor):
    """fn(executor), its progress shown under `label`."""
    with abnormal_ends(scheduler=executor.scheduler), progress_bar(label) as progress:
        task = progress.add_task(label, total=None)
        return analysis_errors(lambda: fn(executor.reporting(
            lambda done, total: progress.update(task, completed=done, total=total))),
            scheduler=executor.scheduler)


def _save(fn, scheduler: Optional[str] = None):
    """Write a finished job's folder (refusals exit 2; a full disk and the like, 6)."""
    with abnormal_ends(scheduler=scheduler):
        return analysis_errors(fn)


def _range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in text.split(":"))
    except ValueError:
        fail(f"--range {text}: give LOW:HIGH, e.g. 0:1")
    return low, high


def _emit(summary: dict, folder: Path, as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps({"results": str(folder), **summary}, default=str))
        return
    table = Table(title=plain(title), show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for k, v in summary.get("headline", []):
        table.add_row(plain(k), plain(v))
    out.print(table)
    for note in summary.get("notes") or []:
        show(f"note: {note}", err)
    show(f"results: {folder}")


@app.command()
def stress(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    shock: list[str] = typer.Option(..., "--shock", "-s", help="KIND or KIND:key=value,... "
                                    "(keys partner, at_cycle, rate, magnitude); repeat to "
                                    "combine shocks, which then share the varied value."),
    partner: str = typer.Option("any", "--partner", "-p", help="Who the shocks hit: a "
                                "partner's name, all, or any (one at random)."),
    at_cycle: Optional[int] = typer.Option(None, "--at-cycle", min=1, max=10_000,
                                           help="Review the shocks strike at, when the "
                                           "magnitude varies (default 2, a year in)."),
    vary: str = typer.Option("magnitude", "--vary", help="magnitude (how big) or rate (how "
                             "often: the shocks become random with that chance per review)."),
    value_range: str = typer.Option("0:1", "--range", help="LOW:HIGH of the varied value."),
    threshold: float = typer.Option(0.5, "--threshold", min=0.0, max=1.0,
                                    help="P(deliver) below which the partnership is broken."),
    tolerance: float = typer.Option(0.01, "--tolerance", min=1e-6, max=1.0,
                                    help="How closely to locate the breaking point."),
    timing: bool = typer.Option(False, "--timing", help="Instead: P(deliver) with the shocks "
                                "at each review, against their absence (early vs late)."),
    magnitude: Optional[float] = typer.Option(None, "--magnitude", min=0.0, max=1.0,
                                              help="Magnitude when it is not what varies "
                                              "(--timing, --vary rate)."),
    replications: int = typer.Option(4000, "--replications", "-n", min=10, max=10_000_000,
                                     help="Runs per evaluated point (the same runs at every "
                                     "point: common random numbers)."),
    seed: Seed = None,
    out_dir: OutDir = None,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    as_json: AsJson = False,
) -> None:
    """Breaking point: how big (or how frequent) a shock the partnership survives before its
    chance of delivering the business case falls below --threshold."""
    from sim.results import folders

    sc = load_or_exit(scenario)   # first: bad input is refused before anything heavy loads
    check_fits(sc)
    from sim.scenario.shocks import parse_shock, with_shocks

    seed = sc.seed if seed is None else seed
    low, high = _range(value_range)
    if timing and at_cycle is not None:
        fail("--at-cycle: --timing strikes at each review in turn")
    shocks = analysis_errors(lambda: [parse_shock(s, partner=partner) for s in shock])
    analysis_errors(lambda: with_shocks(sc, [   # their kinds and partners, checked at once
        {**{k: v for k, v in s.items() if k not in ("at_cycle", "rate")}, "rate": 0.0}
        for s in shocks]))
    # pandas (matplotlib only once there is a result)
    from sim.analysis import stress as stress_mod

    folder = new_results_folder(out_dir, "stress", scenario, seed)
    executor = executor_for(workers, scheduler)
    argv = ["collabsim", "stress", str(scenario), *sum((["--shock", s] for s in shock), []),
            "--partner", partner, "--replications", str(replications), "--seed", str(seed)]
    argv += ["--magnitude", str(magnitude)] if magnitude is not None else []
    argv += ["--at-cycle", str(at_cycle)] if at_cycle is not None else []
    if timing:
        result = _run_with_progress("timing", lambda ex: stress_mod.shock_timing(
            sc, shocks, magnitude=magnitude, replications=replications, seed=seed,
            executor=ex), executor)
        _save(lambda: save_folder(result, folder, source=str(scenario),
                                  command=folders.reproduce_command(argv + ["--timing"])))
        title = f"{sc.name}: when does the shock hurt most? ({replications} runs per review)"
    else:
        result = _run_with_progress("stress", lambda ex: stress_mod.breaking_point(
            sc, shocks, vary=vary, low=low, high=high, threshold=threshold,
            replications=replications, tolerance=tolerance, at_cycle=at_cycle,
            magnitude=magnitude, seed=seed, executor=ex), executor)
        argv += ["--vary", vary, "--range", value_range, "--threshold", str(threshold),
                 "--tolerance", str(tolerance)]
        _save(lambda: save_folder(result, folder, source=str(scenario),
                                  command=folders.reproduce_command(argv)))
        title = f"{sc.name}: breaking point ({replications} runs per point)"
    summary = result.summary
    if as_json:
        table = result.table if timing else result.curve
        summary = {**summary, "settings": result.settings,
                   "table": json.loads(table.to_json(orient="records"))}
    _emit(summary, folder, as_json, title)


@app.command()
def compare(
    scenarios: list[Path] = typer.Argument(..., help="Scenario YAML files (two or more, or "
                                           "one with --charter)."),
    charter: list[Path] = typer.Option([], "--charter", "-c", help="A charter YAML file "
                                       "applied to the first scenario's partners (repeatable)."),
    replications: int = typer.Option(4000, "--replications", "-n", min=10, max=10_000_000,
                                     help="Paired runs per variant."),
    seed: Seed = None,
    out_dir: OutDir = None,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    as_json: AsJson = False,
) -> None:
    """Which charter delivers more often, by how much, and is the difference real? Every variant
    runs on the same sampled conditions (common random numbers)."""
    from sim.results import folders
    from sim.scenario.loading import read_scenario_text

    if len(scenarios) + len(charter) < 2:
        fail("give two or more scenarios, or a scenario and --charter FILE")
    variants = [load_or_exit(s) for s in scenarios]
    for path in charter:   # readable, before anything heavy loads (checked as a charter below)
        analysis_errors(lambda: read_scenario_text(path))
    for variant in variants:
        check_fits(variant)
    from sim.analysis.comparison import compare as run_compare
    from sim.analysis.comparison import load_charter

    variants += analysis_errors(lambda: [load_charter(c, variants[0]) for c in charter])
    names = None
    if charter:
        names = [variants[0].name] + [f"{variants[0].name} + {c.stem}" for c in charter]
        if len(scenarios) > 1:
            names = [v.name for v in variants[:len(scenarios)]] + names[1:]
    seed = variants[0].seed if seed is None else seed
    folder = new_results_folder(out_dir, "compare", scenarios[0], seed)
    result = _run_with_progress("comparing", lambda ex: run_compare(
        variants, names if names and len(set(names)) == len(names) else None,
        replications=replications, seed=seed, executor=ex), executor_for(workers, scheduler))
    argv = ["collabsim", "compare", *map(str, scenarios), *sum((["--charter", str(c)]
                                                                for c in charter), []),
            "--replications", str(replications), "--seed", str(seed)]
    _save(lambda: save_folder(result, folder, source=[str(s) for s in [*scenarios, *charter]],
                              command=folders.reproduce_command(argv)))
    if as_json:
        print(json.dumps({"results": str(folder), **result.summary,
                          "clauses": json.loads(result.clauses.to_json(orient="records"))}))
        return
    table = Table(title=f"Charter comparison: {replications} paired runs each, seed {seed}")
    for col in ("#", "variant", "P(deliver) [95% CI]", "median net savings", "not the best",
                "mean regret"):
        table.add_column(plain(col), overflow="fold")
    for _, r in result.table.iterrows():
        table.add_row(*map(plain, (
            r["rank"], r["variant"],
            f"{r['p_deliver']:.1%} [{r['ci_low']:.1%}, {r['ci_high']:.1%}]",
            f"£{r['median_net_savings_m']:.2f}m", f"{r['p_regret']:.0%} of runs",
            f"£{r['mean_regret_m']:.2f}m")))
    out.print(table)
    show(result.message)
    if not result.clauses.empty:
        diff = Table(title="What differs")
        for col in result.clauses.columns:
            diff.add_column(plain(col), overflow="fold")
        for _, r in result.clauses.iterrows():
            diff.add_row(*map(plain, r.tolist()))
        out.print(diff)
    if result.paired != "fully":
        show("note: the variants differ in partners, horizon or shocks, so they share the "
             "sampled conditions but not every review's luck; differences are valid but less "
             "precise", err)
    show(f"results: {folder}")


@app.command()
def discover(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    replications: int = typer.Option(5000, "--replications", "-n", min=100,
                                     max=10_000_000, help="Monte Carlo runs to learn from."),
    failure: str = typer.Option("not_delivered", "--failure", help="not_delivered, dissolved "
                                "or any_exit: which runs count as failures."),
    density: Optional[float] = typer.Option(None, "--density", min=0.0, max=1.0,
                                            help="Least share of failing runs in a box "
                                            "(default: the knee of PRIM's trade-off, at least "
                                            "a quarter of the way from the overall rate to 1)."),
    boxes: int = typer.Option(2, "--boxes", min=1, max=10, help="Boxes to look for."),
    seed: Seed = None,
    out_dir: OutDir = None,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    as_json: AsJson = False,
) -> None:
    """Scenario discovery (PRIM): in plain rules, which combinations of conditions make the
    partnership fail."""
    from sim.results import folders

    sc = load_or_exit(scenario)   # first: bad input is refused before anything heavy loads
    check_fits(sc)
    from sim.analysis.discovery import FAILURES, condition_text
    from sim.analysis.discovery import discover as run_discover

    if failure not in FAILURES:
        fail(f"--failure {failure}: must be one of {', '.join(FAILURES)}")
    seed = sc.seed if seed is None else seed
    folder = new_results_folder(out_dir, "discover", scenario, seed)
    result = _run_with_progress("discovering", lambda ex: run_discover(
        sc, replications=replications, failure=failure, density=density, boxes=boxes,
        seed=seed, executor=ex), executor_for(workers, scheduler))
    argv = ["collabsim", "discover", str(scenario), "--replications", str(replications),
            "--failure", failure, "--boxes", str(boxes), "--seed", str(seed)]
    argv += ["--density", str(density)] if density is not None else []
    _save(lambda: save_folder(result, folder, source=str(scenario),
                              command=folders.reproduce_command(argv)))
    summary = result.summary
    if as_json:
        _emit(summary, folder, True, "")
        return
    show(f"{sc.name}: {result.base_rate:.1%} of {replications} runs {FAILURES[failure]}.")
    if not result.boxes:
        show(result.message)
    for b in result.boxes:
        out.print(f"\n[bold]Box {b.number}[/]: ", end="", markup=True)
        show(f"{b.density:.0%} of the runs inside it {FAILURES[failure]} (against "
             f"{result.base_rate:.0%} overall). It holds {b.coverage:.0%} of those runs "
             f"(coverage) and {b.mass:.0%} of all runs (mass). Conditions:")
        for _, r in b.limits.iterrows():
            show(f"  - {condition_text(r)}   (sampled {r['range_low']:.3g} to "
                 f"{r['range_high']:.3g}; quasi-p {r['quasi_p']:.1g})")
    for note in result.notes:
        show(f"note: {note}", err)
    show(f"results: {folder}")


@app.command()
def report(
    folder: Path = typer.Argument(..., help="A results folder (run, sweep, grid, stress, "
                                  "compare, discover, experiment, calibrate or design)."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="Where to write the page "
                                            "(default: FOLDER/report.html)."),
    as_json: bool = typer.Option(False, "--json", help="Print where the page went as JSON."),
) -> None:
    """One self-contained HTML page (figures embedded, no network needed) for a results
    folder: the scenario, the headline figures, every figure, and how to reproduce it."""
    from sim.results.html import ReportError, write_report

    try:
        path = write_report(folder, out_file)
    except ReportError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--out {out_file or folder}: {exc.strerror or exc}",
             CANNOT_WRITE if exc.errno in WRITE_ERRORS else BAD_INPUT)
    if as_json:
        print(json.dumps({"report": str(path), "bytes": path.stat().st_size}))
    else:
        show(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB)")
