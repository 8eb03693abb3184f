"""Turning a Monte Carlo run into a results folder and words a partnership board can read."""

from __future__ import annotations

import math
import re
from pathlib import Path

from sim.montecarlo import files
from sim.montecarlo.runs import RunResult
from sim.montecarlo.statistics import exits_by_cycle
from sim.partnership.behaviour import sentence as behaviour_sentence
from sim.partnership.outcomes import STATUS_MEANINGS, STATUSES
from sim.results import folders
from sim.results import run_figures as plots
from sim.results.text import markdown_literal, printable
from sim.scenario.loading import read_scenario_text


def _pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def outcome_shares(s: dict) -> str:
    """The status shares, with stumbling split into the runs that delivered and those that did
    not (so the shares read beside P(deliver)), and what each status means."""
    shares = s["status_shares"]
    parts = []
    for k in STATUSES:
        text = f"{k} {_pct(shares[k])}"
        if k == "stumbling" and s.get("stumbling_delivered") is not None and shares[k]:
            delivered = s["stumbling_delivered"]
            text += (f" ({_pct(delivered)} delivered with strain, {_pct(shares[k] - delivered)} "
                     "fell short)")
        parts.append(text)
    return ", ".join(parts)


def headline_lines(s: dict) -> list[tuple[str, str]]:
    """The headline of a run summary (sim.montecarlo.statistics.summarise) as (label, text)
    pairs."""
    lo, hi = s["p_deliver_ci"]
    be = s["median_break_even_cycle"]
    first_exit = s["median_first_exit_cycle"]
    lines = [
        ("Delivers the business case", f"{_pct(s['p_deliver'])}  (95% CI {_pct(lo)} - {_pct(hi)})"),
        ("Outcome shares", outcome_shares(s)),
        ("Median net savings", f"{s['median_savings_pct']:.0f}% of the business case "
         f"(quartiles {s['savings_pct_quartiles'][0]:.0f}% - {s['savings_pct_quartiles'][1]:.0f}%)"),
        ("Break-even", "never, in any run" if be is None else
         f"median review {be:.0f} (~{be / 2:.1f} years); {_pct(s['p_break_even'])} of runs "
         "break even by the horizon"),
        ("Partner exits", f"{_pct(s['p_any_exit'])} of runs lose a partner"
         + ("" if first_exit is None else f"; first exit at median review {first_exit:.0f}")),
        ("Dissolved", _pct(s["p_dissolved"])),
    ]
    if s["exit_reasons"]:
        lines.append(("Why partners leave", ", ".join(f"{k} ({v})" for k, v in
                                                       s["exit_reasons"].items())))
    if s.get("behaviour"):
        lines.append(("Behaviour", behaviour_sentence(s["behaviour"])))
    return lines


def summary_markdown(result: RunResult, command: str) -> str:
    s = result.summary
    sc = result.scenario
    out = [f"# {markdown_literal(sc.name)}", "", markdown_literal(sc.description.strip(),
                                                                 lines=True), "",
           f"{s['replications']} replications, root seed {s['seed']}, horizon {sc.horizon} "
           f"reviews ({sc.horizon / 2:g} years).", "", "## Headline", "",
           "| | |", "|---|---|"]
    # the behaviour's line quotes a calibration's pattern names and a path: shown as written
    out += [f"| {k} | {markdown_literal(v) if k == 'Behaviour' else v} |"
            for k, v in headline_lines(s)]
    out += ["", "## What the outcome classes mean", "", "| outcome | meaning |", "|---|---|"]
    out += [f"| {k} | {STATUS_MEANINGS[k]} |" for k in STATUSES]
    out += ["", "## Most common failure paths", ""]
    if s["failure_paths"]:
        out += ["| path | share of runs |", "|---|---|"]
        out += [f"| {k} | {_pct(v)} |" for k, v in s["failure_paths"].items()]
    else:
        out.append("No run failed to deliver.")
    exits = exits_by_cycle(result.outcomes, sc.horizon)
    # a code fence longer than any run of backticks in the command (a path may hold some)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", command)), default=0))
    if any(exits):
        out += ["", "## Exits by review cycle", "", "| review | exits |", "|---|---|"]
        out += [f"| {c} | {n} |" for c, n in enumerate(exits) if n]
    out += ["", "## Figures", "", "![savings](savings_fan.png)", "", "![trust](trust.png)", "",
            "![outcomes](outcomes.png)", "", "## Reproduce", "", fence, printable(command),
            fence, "", "Status classes and every mechanism are defined in docs/ODD.md.", ""]
    return "\n".join(out)


def save_run(result: RunResult, folder: Path, scenario_path: str | None, command: str) -> Path:
    """Write an in-memory run's folder, laid out as a stored run's (sim.results.stored_run):
    tables,
    figures, summary.md and manifest.json. The folder appears complete or not at all."""
    scenario_text = read_scenario_text(scenario_path) if scenario_path else \
        result.scenario.model_dump_json(indent=2)
    with folders.atomic_folder(folder) as tmp:
        files.write_parquet(result.outcomes, tmp / "outcomes" / files.part_name(0))
        files.write_parquet(result.timeseries, tmp / "timeseries" / files.part_name(0))
        if len(result.outcomes) <= folders.CSV_ROW_LIMIT:
            files.write_csv(result.outcomes, tmp / "outcomes.csv")
        if len(result.timeseries) <= folders.CSV_ROW_LIMIT:
            files.write_csv(result.timeseries, tmp / "timeseries.csv")
        title = result.scenario.name
        sample = result.timeseries[result.timeseries["replication"] < folders.FIGURE_REPLICATIONS]
        plots.save(plots.savings_fan(sample, title), tmp / "savings_fan.png")
        plots.save(plots.trust_over_time(sample, title), tmp / "trust.png")
        plots.save(plots.outcome_shares(result.summary, title), tmp / "outcomes.png")
        files.write_text(tmp / "summary.md", summary_markdown(result, command))
        record, tables = folders.behaviour_record(result.scenario)
        for name, table in tables.items():
            folders.write_table(table, tmp, name)
        files.write_json(tmp / "manifest.json", {**folders.manifest(
            "run", scenario_path, scenario_text, result.seed,
            {"replications": len(result.outcomes)}, command, result.summary), **record})
    return folder
