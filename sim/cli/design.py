"""`collabsim design SCENARIO --levers ...`: search the charter space for robust charters every
partner would sign (a thin layer over sim.design_charter and sim.results.design), resumable;
registered on the `collabsim` app by sim.cli."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sim.cli.common import (AsJson, OutDir, Scheduler, Seed, Workers, analysis_errors, app, err,
                            executor_for, fail, job_plan, load_with_text, new_results_folder, out,
                            plain, resumable_job, show, stage_progress)
from sim.results import jobs


@app.command()
def design(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML file: its charter is the "
                                              "draft (not needed with --resume)."),
    levers: Optional[str] = typer.Option(None, "--levers", "-l", help="Charter clauses to "
                                         "change, comma-separated: PATH (every choice; 0 to 1 "
                                         "for a share), PATH=LOW:HIGH or PATH=A|B|C."),
    design_file: Optional[Path] = typer.Option(None, "--design", help="A design file: levers "
                                               "and optionally budget, sign_share, against "
                                               "(docs/DESIGN-SEARCH.md)."),
    budget: Optional[int] = typer.Option(None, "--budget", help="At most this many clauses "
                                         "changed from the draft."),
    sign_share: Optional[float] = typer.Option(None, "--sign-share", help="Each partner better "
                                               "off than staying out in at least this share of "
                                               "futures (default 0.5)."),
    against: Optional[list[Path]] = typer.Option(None, "--against", help="A scenario whose "
                                                 "charter to compare with (same partners); "
                                                 "repeatable."),
    seeds: int = typer.Option(3, "--seeds", min=1, max=20, help="Independent searches; their "
                              "agreement shows convergence."),
    population: int = typer.Option(24, "--population", min=4, max=1000,
                                    help="Charters per generation."),
    evaluations: int = typer.Option(1000, "--evaluations", min=8, max=20_000,
                                     help="Charters each search evaluates."),
    replications: int = typer.Option(100, "--replications", "-n", min=10, max=100_000,
                                      help="Futures each charter is judged on in the search."),
    max_replications: int = typer.Option(800, "--max-replications", min=10, max=1_000_000,
                                          help="At most this many where the front is unclear."),
    final_replications: int = typer.Option(2000, "--final-replications", min=100,
                                            max=1_000_000, help="Fresh futures the charters "
                                            "found are re-evaluated on."),
    seed: Seed = None,
    out_dir: OutDir = None,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    resume: Optional[Path] = typer.Option(None, "--resume", help="Finish an interrupted design "
                                          "in this results folder."),
    as_json: AsJson = False,
) -> None:
    """Search the charters the levers span for robust ones every partner would sign, trading off
    P(deliver), expected net savings and the worst partner's regret on common futures
    (epsilon-NSGA-II, platypus), then re-evaluate them on fresh futures (docs/DESIGN-SEARCH.md).

    Every charter's futures are saved as they are computed; an interrupted design is finished
    with `collabsim design --resume FOLDER`, with exactly the result it would have had."""
    from sim.results import folders
    from sim.scenario.loading import ScenarioError, load_scenario_text

    if resume is not None:
        folder = resume
        plan = job_plan(folder, "design")
        if (folder / "manifest.json").is_file():
            show(f"{folder}: already complete", err)
            _print_saved(folder, as_json)
            return
        try:
            draft = load_scenario_text(plan["scenario_text"], plan["scenario_path"])
            others = {name: load_scenario_text(text, path)
                      for name, path, text in plan["against"]}
            specs, terms, command = plan["levers"], plan["terms"], plan["command"]
            design_text = plan.get("design_text")
        except (ScenarioError, KeyError, TypeError, ValueError) as exc:
            fail(f"{folder / 'plan.json'}: damaged ({exc})")
        scenario_path = plan["scenario_path"]
    else:
        if scenario is None:
            fail("give a scenario file, or --resume FOLDER to finish an interrupted design")
        draft, text = load_with_text(scenario)
        specs, design_text, terms, others, where = _levers_and_terms(
            draft, levers, design_file, budget, sign_share, against)
        terms.update(seeds=seeds, population=population, evaluations=evaluations,
                     replications=replications, max_replications=max_replications,
                     final_replications=final_replications,
                     seed=draft.seed if seed is None else seed)
        _check_or_exit(draft, specs, terms, others, where)   # before anything is written
        folder = new_results_folder(out_dir, "design", scenario, terms["seed"])
        argv = ["collabsim", "design", str(scenario)]
        argv += ["--design", str(design_file)] if design_file is not None else \
            ["--levers", levers]
        for flag, key in (("--budget", "budget"), ("--sign-share", "sign_share")):
            if terms.get(key) is not None:
                argv += [flag, str(terms[key])]
        for path in against or []:
            argv += ["--against", str(path)]
        for flag, key in (("--seeds", "seeds"), ("--population", "population"),
                          ("--evaluations", "evaluations"), ("--replications", "replications"),
                          ("--max-replications", "max_replications"),
                          ("--final-replications", "final_replications"), ("--seed", "seed")):
            argv += [flag, str(terms[key])]
        command = folders.reproduce_command(argv)
        scenario_path = str(scenario)
        plan = jobs.design_plan(scenario_path, text, specs, terms, others, design_text,
                                command)

    def run():
        with stage_progress("designing") as report:
            return analysis_errors(lambda: jobs.run_job(
                folder, plan, new=resume is None, executor=executor_for(workers, scheduler),
                on_stage=report), scheduler=scheduler)

    resumable_job(folder, new=resume is None, kind="design", run=run,
                  scheduler=scheduler,
                  saved=lambda: f"The charters evaluated so far are saved in {folder}")
    _print_saved(folder, as_json)


def _levers_and_terms(draft, levers: Optional[str], design_file: Optional[Path],
                      budget: Optional[int], sign_share: Optional[float],
                      against: Optional[list[Path]]):
    """(lever specs, the design file's text or None, the terms, against: name -> (path, text),
    where each came from: name -> the option or design-file field an error should name),
    from the command line or a design file (whose terms the command line's override)."""
    from sim.analysis.levers import load_design_file, parse_lever_text
    from sim.scenario.loading import ScenarioError, read_scenario_text

    if levers is not None and design_file is not None:
        fail("give --levers or --design, not both")
    if levers is None and design_file is None:
        fail("--levers: name the charter clauses to change, e.g. --levers "
             "charter.decision_rule,charter.programme_team.training (or give --design FILE)")
    paths = [(str(a), "--against") for a in against or []]
    where = {"levers": "--levers", "budget": "--budget", "sign_share": "--sign-share"}
    try:
        if design_file is not None:
            spec = load_design_file(design_file)
            specs, text = spec.levers, spec.text
            where["levers"] = f"{design_file}: levers"
            if budget is None:
                budget, where["budget"] = spec.budget, f"{design_file}: budget"
            if sign_share is None:
                sign_share, where["sign_share"] = spec.sign_share, f"{design_file}: sign_share"
            paths = paths or [(a, f"{design_file}: against") for a in spec.against]
        else:
            specs, text = parse_lever_text(levers), None
        others = {}
        for path, option in paths:
            name = Path(path).stem
            while name in others or name == "draft":
                name += "'"
            try:
                others[name] = (path, read_scenario_text(path))
            except ScenarioError as exc:
                raise ScenarioError(f"{option} {exc.source}", exc.problems) from None
            where[f"against:{name}"] = f"{option} {path}"
    except ScenarioError as exc:
        fail(str(exc))
    return specs, text, {"budget": budget, "sign_share": sign_share}, others, where


def _check_or_exit(draft, specs: dict, terms: dict, others: dict, where: dict) -> None:
    """Every lever, term and `against` scenario checked before anything runs or is written,
    each error naming the option or design-file field it came from (the job then reads the
    scenarios from its plan: sim.results.jobs.work)."""
    from sim.analysis.levers import check_budget, check_sign_share, levers_for
    from sim.analysis.robust_charters import against_charters, check_settings
    from sim.scenario.loading import ScenarioError, load_scenario_text

    try:
        found = levers_for(draft, specs, where["levers"])
        check_budget(terms["budget"], found, where["budget"])
        if terms["sign_share"] is not None:
            check_sign_share(terms["sign_share"], where["sign_share"])
        check_settings({k: v for k, v in terms.items() if k not in ("budget", "seed")})
        against_charters(draft, {name: load_scenario_text(text, path)
                                 for name, (path, text) in others.items()},
                         sources={name: where[f"against:{name}"] for name in others})
    except ScenarioError as exc:
        fail(str(exc))


def _print_saved(folder: Path, as_json: bool) -> None:
    """What a finished design folder says (from its files, so --resume prints it too)."""
    import pandas as pd

    from sim.montecarlo import files

    manifest = files.read_json(folder / "manifest.json")
    summary = manifest["summary"]
    table = pd.read_parquet(folder / "charters.parquet")
    if as_json:
        print(json.dumps({"results": str(folder), "settings": manifest["settings"],
                          "message": summary["message"], "headline": summary["headline"],
                          "notes": summary["notes"], "charters": summary["charters"],
                          "failures": summary["failures"],
                          "convergence": summary["convergence"]}))
        return
    shown = table[table["recommended"] | (table["kind"] != "found")]
    grid = Table(title=plain(f"Charters on {manifest['settings']['final_replications']:,} "
                             "fresh futures"))
    grid.add_column("charter", overflow="fold")
    for column in ("P(deliver), 95% interval", "net savings", "worst regret", "satisficing",
                   "signs"):
        grid.add_column(column, justify="right")
    for row in shown.itertuples():
        grid.add_row(plain(row.charter),
                     f"{row.p_deliver:.1%} ({row.p_deliver_low:.1%}-{row.p_deliver_high:.1%})",
                     f"£{row.net_savings_m:.2f}m", f"£{row.worst_regret_m:.2f}m",
                     f"{row.satisficing:.1%}", "yes" if row.signs else "no")
    out.print(grid)
    for row in shown.itertuples():
        show(f"{row.charter}: {row.changed}")
    fails = pd.read_parquet(folder / "failures.parquet")
    if len(fails):
        where = Table(title="Where each charter falls short of the business case")
        for column in ("charter", "fails", "conditions"):
            where.add_column(column, overflow="fold")
        for row in fails.itertuples():
            where.add_row(plain(row.charter), f"{row.fails:.1%}", plain(row.conditions))
        out.print(where)
    show(summary["message"])
    for key, line in summary["headline"]:
        if key not in [r.charter for r in shown.itertuples()] and not key.startswith("against") \
                and line not in summary["message"]:
            show(f"{key}: {line}")
    show(f"results: {folder}")
