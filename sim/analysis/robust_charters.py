"""`sim.design_charter`: the whole charter design, from levers to a robustness table.

    result = sim.design_charter("scenarios/three_councils.yaml",
                                "charter.decision_rule,charter.programme_team.training",
                                against=["scenarios/strong_charter.yaml"])
    result.table          # the charters on the fresh sample, the draft and `against` among them

The search itself (the space, objectives, epsilon-NSGA-II, resolving the front) is
sim.analysis.charter_design's; this module runs it from several seeds, re-evaluates what they found
on a
fresh sample of futures, and measures what a partnership board asks: how likely each charter is
to deliver, what it saves, what it does to each partner, whether each would sign, how it
compares with the draft and with charters they already have, and when it fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from sim.analysis.charter_design import (AGREE, DEFAULTS, FRESH, OBJECTIVES, REGRET_QUANTILE,
                                         SENSE, STRIDE, CharterSearch, CharterSpace, SeedSearch,
                                         as_solutions, epsilon_thin, nondominated)
from sim.analysis.charter_futures import Ledger, charter_futures, charter_key
from sim.analysis.levers import Lever, check_budget, check_sign_share, levers_for, parse_lever_text
from sim.montecarlo import files
from sim.montecarlo.executors import Executor, as_executor
from sim.montecarlo.paired import layout_of
from sim.montecarlo.statistics import Z95, wilson_bounds
from sim.scenario.fields import fields
from sim.scenario.loading import ScenarioError, as_scenario
from sim.scenario.schema import Scenario

#: Settings a design may be given, with what each must be (checked before anything runs).
LIMITS = {"seeds": (1, 20), "population": (4, 1000), "evaluations": (8, 20_000),
          "replications": (10, 100_000), "max_replications": (10, 1_000_000),
          "final_replications": (100, 1_000_000), "bootstrap": (20, 10_000)}
#: Resolution of the front: charters closer than these are the same answer (P(deliver) in
#: points of probability; money as a share of the draft's mean target).
EPSILON_P = 0.02
EPSILON_M = 0.02
#: Prices that make a programme-team lever cost what it should
#: (sim.partnership.rules.programme_spend).
PRICED_BY = {"charter.programme_team.dedicated": "charter.programme_team.team_cost_m",
             "charter.programme_team.training": "charter.programme_team.training_cost_m"}


@dataclass
class CharterDesign:
    """What a charter design found (see the module's doc); `table` has one row per charter:
    the draft, every `against` charter and the charters the searches found, measured on the
    fresh sample."""

    scenario: Scenario
    levers: list
    settings: dict
    table: pd.DataFrame            # one row per charter (see charter_table)
    searches: list                 # SeedSearch per seed
    convergence: pd.DataFrame      # per seed: hypervolume share on the fresh sample
    trace: pd.DataFrame            # per seed and generation: the archive's hypervolume
    failures: pd.DataFrame         # per recommended charter: where it fails (PRIM)
    message: str
    headline: list
    notes: list = field(default_factory=list)

    @property
    def recommended(self) -> pd.DataFrame:
        """The recommended charters: those found on the front of the fresh sample, one per
        epsilon-box, and the draft when it is on that front too (then it comes first)."""
        return self.table[self.table["recommended"]]

    @property
    def tables(self) -> dict:
        """By file name: `charters` (the robustness table), `failures`, `convergence`,
        `hypervolume` (per seed and generation), `evaluated` (every candidate with its
        objectives on its search's futures) and `rounds` (resolving the front)."""
        return {"charters": self.table.drop(columns=["key"]),
                "failures": self.failures, "convergence": self.convergence,
                "hypervolume": self.trace,
                "evaluated": pd.concat([s.evaluated for s in self.searches], ignore_index=True),
                "rounds": pd.concat([s.rounds for s in self.searches], ignore_index=True)}

    @property
    def summary(self) -> dict:
        return {"message": self.message, "headline": self.headline, "notes": self.notes,
                "levers": [{"path": l.path, "values": l.describe(), "draft": l.draft}
                           for l in self.levers],
                "charters": _records(self.table), "convergence": _records(self.convergence),
                "failures": _records(self.failures)}


def _records(frame: pd.DataFrame) -> list[dict]:

    return files.json_records(frame)


# --- checking what was asked ----------------------------------------------------------------


def check_settings(settings: dict) -> dict:
    """The settings with defaults filled in, or a ScenarioError naming each bad one."""
    out = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    problems = []
    for name, (low, high) in LIMITS.items():
        v = out[name]
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            problems.append(f"{name}: {v!r}, a whole number from {low:,} to {high:,}")
    if not problems:
        if out["evaluations"] < out["population"]:
            problems.append(f"evaluations ({out['evaluations']}) must be at least the "
                            f"population ({out['population']})")
        if out["max_replications"] < out["replications"]:
            problems.append(f"max_replications ({out['max_replications']}) must be at least "
                            f"replications ({out['replications']})")
    try:
        out["sign_share"] = check_sign_share(out["sign_share"], "sign_share")
    except ScenarioError as exc:
        problems += [f"sign_share: {p}" for p in exc.problems]
    if problems:
        raise ScenarioError("the design's settings", problems)
    return out


def against_charters(draft: Scenario, against: Sequence,
                     sources: Optional[Mapping[str, str]] = None) -> dict[str, Scenario]:
    """Scenarios whose charters the results are compared with, by name (file stem; or a
    mapping name -> scenario, errors naming `sources[name]`): each must have the draft's
    partners and horizon, so that its futures are the draft's."""
    out: dict[str, Scenario] = {}
    items = list(against.items()) if isinstance(against, Mapping) else \
        [(Path(a).stem if isinstance(a, (str, Path)) else None, a) for a in against]
    for name, item in items:
        sc = as_scenario(item)
        name = name or sc.name
        source = (sources or {}).get(name) or (str(item) if isinstance(item, (str, Path))
                                               else name)
        differ = world_differences(draft, sc)
        if differ:
            raise ScenarioError(source, [f"its {', '.join(differ)} must be the draft's (a "
                                         "charter to compare with is the same partnership, in "
                                         "the same world, under another charter)"])
        while name in out or name == "draft":
            name += "'"
        out[name] = sc
    return out


def world_differences(draft: Scenario, other: Scenario) -> list[str]:
    """What in `other` is not the draft's apart from its charter's clauses (and its name):
    partners, shocks, horizon, model constants, behaviour, and the business case's estimates
    and prices, which are the world's (sim.analysis.levers.NOT_LEVERS)."""
    a, b = draft.model_dump(mode="json"), other.model_dump(mode="json")
    differ = [k.replace("_", " ") for k in a
              if k not in ("name", "description", "seed", "charter") and a[k] != b.get(k)]
    if a["charter"]["business_case"] != b["charter"]["business_case"]:
        differ.append("business case")
    prices = ("team_cost_m", "training_cost_m")
    if any(a["charter"]["programme_team"][p] != b["charter"]["programme_team"][p]
           for p in prices):
        differ.append("team and training prices")
    return differ


def free_lever_notes(draft: Scenario, levers: list[Lever]) -> list[str]:
    """A lever whose clause costs nothing in the scenario is a free lunch to the search: say so."""
    notes = []
    for lever in levers:
        price = PRICED_BY.get(lever.path)
        if price is not None and draft.value_of(price) == 0:
            notes.append(f"{lever.path} costs nothing in this scenario ({price} is 0): the "
                         "search treats it as free; give its price in the scenario")
    return notes


def invalid_notes(searches: list) -> list[str]:
    """Clause combinations the scenario's schema refused, which the search skipped."""
    invalid = {}
    for search in searches:
        invalid.update(search.invalid)
    if not invalid:
        return []
    example = next(iter(invalid.values()))
    return [f"{len(invalid)} candidate charter{'s' if len(invalid) > 1 else ''} combined clauses "
            f"the scenario's schema refuses and {'were' if len(invalid) > 1 else 'was'} "
            f"skipped (for example: {example})"]


# --- the whole design -------------------------------------------------------------------------


def design_charter(scenario, levers, *, budget: Optional[int] = None,
                   sign_share: Optional[float] = None, against: Sequence = (),
                   seed: Optional[int] = None, executor: Optional[Executor] = None,
                   folder: Optional[Path] = None,
                   on_stage: Optional[Callable[[str, int, int], None]] = None,
                   **settings) -> CharterDesign:
    """Search the charters `levers` span (a --levers text, a mapping path -> spec, or Levers)
    for robust charters every partner would sign (sim.analysis.charter_design's doc has the
    method).

    Settings (defaults in sim.analysis.charter_design.DEFAULTS): seeds, population, evaluations
    (per
    seed), replications (futures per candidate in the search), max_replications (at most, where
    the front is unclear), final_replications (the fresh sample), bootstrap. With `folder`,
    every candidate's futures are saved as they are computed, and a design run again with the
    same folder and settings re-runs none of them: the result is identical. The futures are
    simulated where `executor` says; `on_stage(stage, done, total)` reports each stage (a
    seed's search, the fresh sample, where each charter fails)."""
    executor = as_executor(executor)
    draft = as_scenario(scenario)
    if isinstance(levers, str):
        levers = parse_lever_text(levers)
    elif isinstance(levers, (list, tuple)) and levers and all(isinstance(x, str)
                                                              for x in levers):
        levers = parse_lever_text(",".join(levers))
    if not (isinstance(levers, (list, tuple)) and levers and isinstance(levers[0], Lever)):
        levers = levers_for(draft, levers)
    check_budget(budget, levers)
    s = check_settings({**settings, "sign_share": sign_share})
    s["seed"] = draft.seed if seed is None else int(seed)
    s["budget"] = budget
    s["epsilon_p"], s["epsilon_m"] = EPSILON_P, EPSILON_M
    others = against_charters(draft, against)

    layout = layout_of([draft, *others.values()])
    space = CharterSpace(draft, levers, budget)
    folder = None if folder is None else Path(folder)

    def ledger(start: int, name: str, identity: str = "") -> Ledger:
        return Ledger(draft, s["seed"], start, layout,
                      None if folder is None else folder / name, executor, identity=identity)

    searches: list[SeedSearch] = []
    for k in range(s["seeds"]):
        searches.append(CharterSearch(space, ledger(k * STRIDE, f"seed-{k}"), k, s,
                                      on_stage).run())
    fresh = ledger(FRESH, "fresh", repr(sorted((n, sc.model_dump_json())
                                               for n, sc in others.items())))
    charters: dict[str, dict] = {}
    found_by: dict[str, list] = {}
    for search in searches:
        for values in search.final:
            if not space.changed(values):      # the draft itself: it is on the table already
                found_by.setdefault("draft", []).append(search.seed)
                continue
            key = charter_key(values)
            charters.setdefault(key, values)
            found_by.setdefault(key, []).append(search.seed)
    scenarios = {"draft": draft, **{f"against:{n}": sc for n, sc in others.items()},
                 **{key: space.scenario(v) for key, v in charters.items()}}
    done = [0]

    def tick(m):
        done[0] += m
        if on_stage is not None:
            on_stage("the fresh sample", done[0], len(scenarios))

    fresh.ensure(scenarios, s["final_replications"], tick)
    table = charter_table(space, fresh, s, charters, found_by, others)
    convergence, trace = seed_agreement(table, searches)
    failures = failure_conditions(table, scenarios, fresh, s, executor, on_stage)
    notes = free_lever_notes(draft, levers) + invalid_notes(searches)
    message, headline = conclusions(table, convergence, others, s, notes)
    return CharterDesign(draft, levers, s, table, searches, convergence, trace, failures,
                         message, headline, notes)


# --- measuring the charters on the fresh sample ----------------------------------------------


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of a - b over paired futures, with its 95% interval."""
    d = np.asarray(a, float) - np.asarray(b, float)
    mean = float(d.mean())
    half = Z95 * float(d.std(ddof=1)) / math.sqrt(len(d)) if len(d) > 1 else math.nan
    return mean, mean - half, mean + half


def charter_table(space: CharterSpace, fresh: Ledger, s: dict, charters: dict, found_by: dict,
                  others: dict) -> pd.DataFrame:
    """One row per charter (draft, `against`, found) measured on the fresh sample: its clause
    values and those changed from the draft, the objectives with 95% intervals, each partner's
    chance of being better off and regret, satisficing (delivers and every partner gains),
    whether every partner would sign, and paired differences against the draft and each
    `against` charter. Regret here is against the best charter in the table, future by future
    (Savage's regret among the alternatives on the table)."""
    n = s["final_replications"]
    keys = ["draft", *(f"against:{name}" for name in others), *charters]
    futures = fresh.view(keys, n)
    names = space.draft.partner_names()
    best = futures["money"].max(axis=0)                                  # [R, n]
    regret = np.quantile(np.maximum(best[None] - futures["money"], 0.0), REGRET_QUANTILE,
                         axis=1)                                         # [C, partners]
    gains = (futures["money"] > 0).mean(axis=1)                          # [C, partners]
    satisficing = futures["delivered"] & (futures["money"] > 0).all(axis=2)
    rows = []
    for i, key in enumerate(keys):
        if key == "draft":
            label, kind, values = "draft", "draft", space.draft_values()
        elif key.startswith("against:"):
            label = key.split(":", 1)[1]
            kind = "against"
            sc = others[label]
            values = {l.path: sc.value_of(l.path) for l in space.levers}  # may be uncertain
        else:
            label, kind, values = None, "found", charters[key]
        delivered, net = futures["delivered"][i], futures["net"][i]
        p_low, p_high = (float(x) for x in wilson_bounds(delivered.sum(), n))
        net_mean, net_low, net_high = _net_bounds(net)
        s_low, s_high = (float(x) for x in wilson_bounds(satisficing[i].sum(), n))
        row = {"charter": label, "kind": kind, "key": key,
               "found_by_seeds": ",".join(map(str, found_by.get(key, []))),
               **{l.path: _cell(values[l.path]) for l in space.levers},
               "changed": _changes(space, values, others.get(label) if kind == "against"
                                   else None),
               "clauses_changed": len(space.changed(values)),
               "p_deliver": float(delivered.mean()), "p_deliver_low": p_low,
               "p_deliver_high": p_high,
               "net_savings_m": net_mean, "net_savings_m_low": net_low,
               "net_savings_m_high": net_high,
               "worst_regret_m": float(regret[i].max()),
               "satisficing": float(satisficing[i].mean()), "satisficing_low": s_low,
               "satisficing_high": s_high}
        for j, name in enumerate(names):
            row[f"better_off: {name}"] = float(gains[i, j])
        for j, name in enumerate(names):
            row[f"regret_m: {name}"] = float(regret[i, j])
        row["signs"] = bool((gains[i] >= s["sign_share"]).all())
        row["within_budget"] = s["budget"] is None or len(space.changed(values)) <= s["budget"]
        for other, j in [("draft", 0), *((f"against:{o}", keys.index(f"against:{o}"))
                                         for o in others)]:
            if key == other:
                continue
            tag = "draft" if other == "draft" else other.split(":", 1)[1]
            dp = _paired(delivered, futures["delivered"][j])
            dn = _paired(net, futures["net"][j])
            row[f"vs {tag}: p_deliver"] = dp[0]
            row[f"vs {tag}: p_deliver_low"] = dp[1]
            row[f"vs {tag}: p_deliver_high"] = dp[2]
            row[f"vs {tag}: net_savings_m"] = dn[0]
            row[f"vs {tag}: net_savings_m_low"] = dn[1]
            row[f"vs {tag}: net_savings_m_high"] = dn[2]
            if other != "draft":
                row[f"beats {tag}"] = bool(dp[1] > 0 and dn[0] >= 0)
        rows.append(row)
    table = pd.DataFrame(rows)
    points = table[list(OBJECTIVES)].to_numpy(float)
    target = float(np.mean(fresh.targets[:n]))
    margins = [s["epsilon_p"], s["epsilon_m"] * target, s["epsilon_m"] * target]
    # a charter beats another by more than the search's resolution, as in resolving the front
    table["on_front"] = nondominated(points, feasible(table), margins)
    found = (table["on_front"] & (table["kind"] == "found")).to_numpy()
    thinned = epsilon_thin(points[found], np.ones(found.sum(), bool), margins)
    table["recommended"] = False
    table.loc[np.flatnonzero(found)[thinned], "recommended"] = True
    if table.loc[0, "on_front"]:      # the draft: keeping it is an answer too, and a charter
        box = np.floor(points * SENSE / np.asarray(margins))   # in its epsilon-box is no change
        twins = (box == box[0]).all(axis=1) & (table["kind"] == "found").to_numpy()
        table.loc[twins, "recommended"] = False
        table.loc[0, "recommended"] = True
    order = np.lexsort((-table["net_savings_m"].to_numpy(), -table["p_deliver"].to_numpy(),
                        ~table["recommended"].to_numpy(), table["kind"].map(
                            {"draft": 0, "against": 1, "found": 2}).to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    number = iter(range(1, len(table) + 1))
    table["charter"] = [c if isinstance(c, str) else f"C{next(number)}" for c in table["charter"]]
    return table


def feasible(table: pd.DataFrame) -> np.ndarray:
    """Which charters of a table every partner signs and the edit budget allows."""
    return (table["signs"] & table["within_budget"]).to_numpy(bool)


def _cell(value):
    """A clause's value as a table cell: a distribution (an `against` charter's uncertain
    clause) is shown in `changed`, and is missing here."""
    return value if isinstance(value, (str, int, float)) else math.nan


def _changes(space: CharterSpace, values: dict, whole: Optional[Scenario] = None) -> str:
    """The clauses a charter changes from the draft, as text; for a whole scenario's charter
    (an `against` one), also whether it differs outside the levers."""

    text = "; ".join(f"{p.removeprefix('charter.')}: {_shown(values[p])}"
                     for p in space.changed(values))
    if whole is not None:
        levers = {lever.path for lever in space.levers}
        outside = [p for p in fields(space.draft) if p.startswith("charter.")
                   and p not in levers and whole.value_of(p) != space.draft.value_of(p)]
        if outside or whole.charter.services != space.draft.charter.services:
            text += ("; " if text else "") + "and clauses that are not levers"
    return text or "(as drafted)"


def _net_bounds(net: np.ndarray) -> tuple[float, float, float]:
    mean = float(net.mean())
    half = Z95 * float(net.std(ddof=1)) / math.sqrt(len(net)) if len(net) > 1 else math.nan
    return mean, mean - half, mean + half


def _shown(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


# --- do the seeds agree? ------------------------------------------------------------------------


def hypervolume(points: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """The hypervolume of `points` ([k, 3], OBJECTIVES' senses) within the box low..high
    (platypus' indicator; 0 for no points)."""
    from platypus import Hypervolume

    if len(points) == 0:
        return 0.0
    solutions = as_solutions(points)
    # the box reaches a little beyond the worst value of each objective (the reference point),
    # so that a charter worst in one objective still adds its volume in the others
    span = np.where(high > low, high - low, 1.0)
    return float(Hypervolume(minimum=list(low - 0.01 * span),
                             maximum=list(high + 0.01 * span))(solutions))


def seed_agreement(table: pd.DataFrame, searches: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per seed: how much of the pooled front's hypervolume its own charters reach on the fresh
    sample; and per seed and generation, the hypervolume of its archive on its own futures."""
    signs = pd.Series(feasible(table), index=table.index)
    points = table[list(OBJECTIVES)].to_numpy(float)
    low, high = points.min(axis=0), points.max(axis=0)
    found = table["kind"] == "found"
    pooled = hypervolume(points[(found & signs).to_numpy()], low, high)
    rows = []
    for search in searches:
        mine = found & table["found_by_seeds"].str.split(",").apply(
            lambda seeds, k=search.seed: str(k) in seeds)
        own = hypervolume(points[(mine & signs).to_numpy()], low, high)
        best = table.loc[mine, "p_deliver"]
        rows.append({"seed": search.seed, "evaluated": len(search.evaluated),
                     "runs": search.runs, "charters": int(mine.sum()),
                     "best_p_deliver": float(best.max()) if len(best) else math.nan,
                     "hypervolume": own,
                     "share_of_pooled": own / pooled if pooled > 0 else math.nan,
                     "futures_at_end": int(search.rounds["futures"].iloc[-1])})
    convergence = pd.DataFrame(rows)
    convergence["agrees"] = convergence["share_of_pooled"] >= AGREE
    trace = pd.concat([s.trace for s in searches], ignore_index=True)
    if trace.empty:
        return convergence, pd.DataFrame(columns=["seed", "nfe", "hypervolume"])
    t = trace[list(OBJECTIVES)].to_numpy(float)
    tlow, thigh = t.min(axis=0), t.max(axis=0)
    hv = [{"seed": seed, "nfe": nfe,
           "hypervolume": hypervolume(g[list(OBJECTIVES)].to_numpy(float), tlow, thigh)}
          for (seed, nfe), g in trace.groupby(["seed", "nfe"], sort=True)]
    return convergence, pd.DataFrame(hv)


# --- where each charter fails -------------------------------------------------------------------


def _failure_task(scenario: Scenario, seed: int, start: int, stop: int, layout, targets):
    out = charter_futures(scenario, seed, start, stop, layout, targets, conditions=True)
    return out["conditions"], ~out["delivered"]


def failure_conditions(table: pd.DataFrame, scenarios: dict, fresh: Ledger, s: dict,
                       executor: Executor,
                       on_stage: Optional[Callable[[str, int, int], None]]) -> pd.DataFrame:
    """Scenario discovery on each recommended charter (and the draft) over its fresh futures:
    the box of conditions where it falls short of the draft's business case (PRIM, the knee of
    coverage and density, as sim.analysis.discovery chooses)."""
    from sim.analysis.discovery import find_boxes

    n = s["final_replications"]
    chosen = table[(table["recommended"]) | (table["kind"] == "draft")]
    tasks = {row.charter: (_failure_task, (scenarios[row.key], s["seed"], FRESH, FRESH + n,
                                           fresh.layout, fresh.targets[:n]))
             for row in chosen.itertuples()}
    rows = []
    for i, (name, (X, failed)) in enumerate(executor.execute(tasks)):
        if on_stage is not None:
            on_stage("where each charter fails", i + 1, len(tasks))
        boxes, _ = find_boxes(X, failed, boxes=1)
        base = float(np.mean(failed))
        if boxes:
            b = boxes[0]
            rows.append({"charter": name, "fails": base, "conditions": b.rule(),
                         "density": b.density, "coverage": b.coverage, "mass": b.mass})
        else:
            what = ("never fails in the fresh sample" if base == 0 else
                    "always fails" if base == 1 else
                    "failure is spread across the conditions (no box)")
            rows.append({"charter": name, "fails": base, "conditions": what,
                         "density": math.nan, "coverage": math.nan, "mass": math.nan})
    order = {c: i for i, c in enumerate(chosen["charter"])}
    return pd.DataFrame(rows).sort_values("charter", key=lambda c: c.map(order)) \
        .reset_index(drop=True)


# --- what it says
# ---------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _beaten_by_the_excluded(table: pd.DataFrame, best: pd.DataFrame) -> list[str]:
    """A recommended charter that a charter left off the front (not signed by every partner,
    or outside the budget) beats on all three objectives: say so, and why it is left off."""
    points = table[list(OBJECTIVES)].to_numpy(float) * SENSE
    out = []
    for i in np.flatnonzero(~feasible(table)):
        beaten = [row.charter for j, row in zip(best.index, best.itertuples())
                  if (points[i] >= points[j]).all() and (points[i] > points[j]).any()]
        if beaten:
            why = ("not every partner signs it" if not table.loc[i, "signs"] else
                   "it is outside the budget")
            out.append(f"{table.loc[i, 'charter']} beats {', '.join(beaten)} on all three "
                       f"objectives, but {why}")
    return out


def conclusions(table: pd.DataFrame, convergence: pd.DataFrame, others: dict, s: dict,
                notes: list) -> tuple[str, list]:
    """The message and the headline lines (what the CLI prints and the report shows)."""
    draft = table[table["kind"] == "draft"].iloc[0]
    best = table[table["recommended"]]
    n = s["final_replications"]
    headline = [["draft", f"P(deliver) {_pct(draft.p_deliver)} ({_pct(draft.p_deliver_low)}-"
                          f"{_pct(draft.p_deliver_high)}), net savings £{draft.net_savings_m:.2f}m"
                          f", {'every partner signs' if draft.signs else 'not every partner signs'}"]]
    found = best[best["kind"] == "found"]
    terms = "every partner would sign" + (f", changing at most {s['budget']} clauses of the "
                                          "draft," if s["budget"] is not None else "")
    ahead = table[table["on_front"] & (table["kind"] == "against")]
    if best.empty and len(ahead):
        message = (f"No charter the searches found is on the front: {', '.join(ahead['charter'])}"
                   f" beat{'s' if len(ahead) == 1 else ''} them all, and the draft, on {n:,} "
                   "fresh futures; search more widely (more levers, wider ranges, more "
                   "evaluations).")
    elif best.empty:
        message = (f"No charter on the table is one {terms} (better off than staying out in at "
                   f"least {_pct(s['sign_share'])} of futures) and unbeaten on {n:,} fresh "
                   "futures.")
    elif found.empty:
        message = (f"Keep the draft: no charter found is one {terms} that beats it by more than "
                   f"{s['epsilon_p'] * 100:g} points of P(deliver) or {s['epsilon_m']:.0%} of "
                   f"its target in money without being worse in another objective ({n:,} fresh "
                   "futures).")
    else:
        top = found.iloc[0]
        message = (f"{len(found)} charter{'s' if len(found) > 1 else ''} that {terms} and "
                   "that no other such charter beats on all three objectives"
                   f"{' (the draft is one too)' if best['kind'].eq('draft').any() else ''} "
                   f"({n:,} fresh futures); the most likely to deliver, {top.charter}, changes "
                   f"{top.changed} and delivers {_pct(top.p_deliver)} of the time against the "
                   f"draft's {_pct(draft.p_deliver)} ({top['vs draft: p_deliver'] * 100:+.1f} "
                   f"points, {top['vs draft: p_deliver_low'] * 100:+.1f} to "
                   f"{top['vs draft: p_deliver_high'] * 100:+.1f}).")
    for line in _beaten_by_the_excluded(table, best):
        message += f" {line}."
        headline.append(["note", line])
    for row in found.itertuples():
        headline.append([row.charter, f"{row.changed}: P(deliver) {_pct(row.p_deliver)} "
                         f"({_pct(row.p_deliver_low)}-{_pct(row.p_deliver_high)}), net savings "
                         f"£{row.net_savings_m:.2f}m, worst partner's regret "
                         f"£{row.worst_regret_m:.2f}m, satisficing {_pct(row.satisficing)}"])
    for name in others:
        ref = table[table["charter"] == name].iloc[0]
        winners = found[found[f"beats {name}"].astype(bool)] if not found.empty else found
        line = (f"P(deliver) {_pct(ref.p_deliver)}, net savings £{ref.net_savings_m:.2f}m; ")
        if len(winners):
            w = winners.iloc[0]
            line += (f"{', '.join(winners['charter'])} beat{'s' if len(winners) == 1 else ''} "
                     f"it on P(deliver) at no worse net savings ({w.charter}: "
                     f"{w[f'vs {name}: p_deliver'] * 100:+.1f} points, "
                     f"{w[f'vs {name}: p_deliver_low'] * 100:+.1f} to "
                     f"{w[f'vs {name}: p_deliver_high'] * 100:+.1f}; net savings "
                     f"{w[f'vs {name}: net_savings_m']:+.2f}m)")
        else:
            line += ("no charter found beats it on P(deliver) (95% interval above zero) at no "
                     "worse net savings")
        headline.append([f"against {name}", line])
        message += f" Against {name}: " + line.split("; ", 1)[1] + "."
    agree = bool(convergence["agrees"].all()) if len(convergence) else False
    shares = ", ".join(f"{x:.0%}" for x in convergence["share_of_pooled"].fillna(0))
    if not (table["kind"].eq("found") & feasible(table)).any():
        verdict = "no seed found a charter every partner signs: nothing to compare"
    elif len(convergence) == 1:
        verdict = "one seed: run more seeds to see whether searches agree"
    elif agree:
        verdict = (f"the {len(convergence)} seeds agree: each reaches at least {AGREE:.0%} of "
                   f"the pooled front's hypervolume ({shares})")
    else:
        verdict = (f"the seeds disagree ({shares} of the pooled front's hypervolume): run more "
                   "evaluations")
    headline.append(["convergence", verdict])
    for note in notes:
        headline.append(["note", note])
    return message, headline
