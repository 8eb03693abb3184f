"""What one run amounted to: did it deliver, how did it end, and why.

Status classes follow document 000's "stumbling to success or crumbling":

* **dissolved**: fewer than two partners remain by the horizon.
* **thriving**: delivered the business case with no partner leaving and mean trust at the
  horizon of at least THRIVING_TRUST.
* **stumbling**: intact, and either delivered with strain (an exit or low trust) or reached at
  least STUMBLING_PCT % of the business case.
* **crumbling**: intact but short of STUMBLING_PCT % of the business case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.partnership.arrays import rowsum
from sim.scenario.schema import SHOCK_KINDS

THRIVING_TRUST = 0.5
STUMBLING_PCT = 50.0
STATUSES = ("thriving", "stumbling", "crumbling", "dissolved")
#: What each status class means: one text for the run summary, the app and the lessons.
STATUS_MEANINGS = {
    "thriving": f"delivered the business case, no partner left, mean trust at least "
                f"{THRIVING_TRUST:g}",
    "stumbling": f"intact, and either delivered with strain (a partner left, or trust below "
                 f"{THRIVING_TRUST:g}) or fell short but reached at least {STUMBLING_PCT:g}% "
                 "of the business case",
    "crumbling": f"intact but short of {STUMBLING_PCT:g}% of the business case",
    "dissolved": "fewer than two partners left in",
}

#: The multiplicative factors of programme capacity, and what each shortfall points to. Each is
#: read against its best (delivery against what the business case needs: the signing promise).
BOTTLENECKS = {
    "delivery": "under-delivery (resourcing, commitment, trust)",
    "skills": "skills gap",
    "decisions": "slow hard decisions (ambition, decision rule)",
}


def classify(delivered, dissolved, exits, final_trust, pct):
    """The status class of one run (scalars) or of many (arrays, elementwise)."""
    delivered, dissolved = np.asarray(delivered, bool), np.asarray(dissolved, bool)
    status = np.select(
        [dissolved, delivered & (np.asarray(exits) == 0) & (np.asarray(final_trust) >= THRIVING_TRUST),
         delivered | (np.asarray(pct) >= STUMBLING_PCT)],
        ["dissolved", "thriving", "stumbling"], "crumbling").astype(object)
    return status if status.ndim else str(status)


@dataclass(frozen=True)
class Standing:
    """How a run stands after a review, read as if the run ended there: the verdict columns of
    the outcomes table (delivered, status, savings_pct, failure_path) and what they rest on."""

    delivered: bool
    status: str
    savings_pct: float
    failure_path: str   # '' if delivered, or before the first review
    bottleneck: str     # '' before the first review
    final_trust: float  # mean trust at the last review that took place
    exits: tuple        # the partners that have left, by (cycle, slot)
    end: int            # the last review that took place (0 before the first)


#: The collected figures a Standing rests on, besides the model's state.
STANDING_SERIES = ("mean_trust", "team_delivery", "team_skill", "decision_pace")


def standing(model, series) -> Standing:
    """How a PartnershipModel stands after its current review (model.cycle), as if the run
    ended there. `series` maps each of STANDING_SERIES to its values at reviews 0..model.cycle.
    At the horizon this is the verdict of the run's row of the outcomes table."""
    inp = model.inputs
    delivered = (not model.dissolved) and model.cum_net_savings >= inp.target_net_savings_m
    exits = tuple(sorted((a for a in model.partners if a.exited_at is not None),
                         key=lambda a: (a.exited_at, a.slot)))
    end = model.dissolved_at or model.cycle
    bottleneck = ""
    if end:
        factors = dict(zip(BOTTLENECKS, capacity_factors(
            *(float(live_mean(np.asarray(series[k], dtype=float), end))
              for k in ("team_delivery", "team_skill", "decision_pace")), inp.params)))
        bottleneck = min(factors, key=factors.get)
    final_trust = _last_live(series["mean_trust"], model)
    pct = model.pct_business_case
    path = "" if delivered or not end else failure_path(
        model.dissolved, exits[0].exit_reason if exits else "", bottleneck)
    return Standing(delivered=delivered,
                    status=classify(delivered, model.dissolved, len(exits), final_trust, pct),
                    savings_pct=pct, failure_path=path, bottleneck=bottleneck,
                    final_trust=final_trust, exits=exits, end=end)


def verdict_lines(verdict: Standing) -> list[tuple[str, str]]:
    """One run's verdict as (label, text) pairs, in the words of `collabsim run`'s summary."""
    lines = [("Delivers the business case",
              f"{'yes' if verdict.delivered else 'no'}: net savings "
              f"{verdict.savings_pct:.0f}% of the business case"),
             ("Outcome", f"{verdict.status} ({STATUS_MEANINGS[verdict.status]})")]
    if verdict.failure_path:
        lines.append(("Failure path", verdict.failure_path))
    if verdict.exits:
        lines.append(("Partner exits", ", ".join(
            f"{a.name} at review {a.exited_at} ({a.exit_reason})" for a in verdict.exits)))
    return lines


def run_outcome(model) -> dict:
    """One row of the outcomes table for a finished PartnershipModel: what happened, the
    replication's business-case target, and the value of each of its uncertain inputs."""
    inp = model.inputs
    series = model.datacollector.model_vars
    verdict = standing(model, series)
    cum = np.asarray(series["cum_net_savings_m"], dtype=float)
    positive = np.nonzero(cum[1:] > 0)[0]
    exits = verdict.exits

    def over_live(name):
        return float(live_mean(np.asarray(series[name], dtype=float), verdict.end))

    return {
        "delivered": verdict.delivered,
        "status": verdict.status,
        "savings_pct": verdict.savings_pct,
        "net_savings_m": model.cum_net_savings,
        "break_even_cycle": float(positive[0] + 1) if len(positive) else math.nan,
        "dissolved": model.dissolved,
        "dissolution_cycle": float(model.dissolved_at) if model.dissolved else math.nan,
        "exits": len(exits),
        "first_exit_cycle": float(exits[0].exited_at) if exits else math.nan,
        "first_exit_partner": exits[0].name if exits else "",
        "first_exit_reason": exits[0].exit_reason if exits else "",
        "exit_log": "; ".join(f"{a.name}@{a.exited_at}({a.exit_reason})" for a in exits),
        "final_mean_trust": verdict.final_trust,
        "final_min_trust": _last_live(series["min_trust"], model),
        "mean_trust": over_live("mean_trust"),
        "fairness_imbalance": over_live("fairness_imbalance"),
        "alignment": over_live("alignment"),
        "final_maturity": model.maturity,
        "bottleneck": verdict.bottleneck,
        "failure_path": verdict.failure_path,
        "shocks": "; ".join(f"{k}@{c}:{who}" for c, k, who in model.events
                            if k in _SHOCK_KINDS),
        "target_net_savings_m": float(inp.target_net_savings_m),
        **dict(zip(inp.input_paths, map(float, inp.sampled))),
        **behaviour_columns(model.behaviour),
    }


_SHOCK_KINDS = set(SHOCK_KINDS)


def _last_live(values, model) -> float:
    """A figure at the current review (the horizon, for a finished run), or at the last review
    before the partnership dissolved."""
    idx = (model.dissolved_at - 1) if model.dissolved else model.cycle
    return float(values[max(idx, 0)])


def live_mean(values, end):
    """Mean of a series ([..., horizon + 1]) over the reviews that took place, 1..end: one
    summation order for both engines' outcomes tables."""
    reviews = np.arange(np.shape(values)[-1])
    live = (reviews >= 1) & (reviews <= np.asarray(end)[..., None])
    return rowsum(np.where(live, values, 0.0)) / end


def capacity_factors(mean_delivery, mean_skill, mean_pace, p):
    """The factors of programme capacity (rules.programme_capacity) from a run's mean team
    delivery, team skill and decision pace over its live reviews, in BOTTLENECKS order, each
    against its best: delivered effort against the effort the business case needs (the
    promise at signing, capped at 1), the skill factor and the decision drive against 1."""
    return (np.minimum(1.0, mean_delivery / p.promise),
            p.skills_floor + (1 - p.skills_floor) * mean_skill,
            p.routine_progress + (1 - p.routine_progress) * mean_pace)


def failure_path(dissolved: bool, first_exit_reason: str, bottleneck: str) -> str:
    """How a run that fell short got there ('' if no exit when a reason is needed)."""
    if dissolved:
        return f"dissolved after exits (first: {first_exit_reason or '?'})"
    if first_exit_reason:
        return f"exit ({first_exit_reason}) then shortfall"
    return f"shortfall: {BOTTLENECKS[bottleneck]}"



# --- the same table for a batch of the vectorised engine ---------------------------------------


def vector_outcomes(run):
    """The outcomes table (a DataFrame) of an engine.VectorRun: row for row what run_outcome
    gives for the Mesa model of the same replication (tests/test_engine.py), with each uncertain
    input's sampled value."""
    import pandas as pd

    if run.parts:      # a posterior's particles, each a run of its own (engine.run_batch)
        table = pd.concat([vector_outcomes(part) for _, part in run.parts], ignore_index=True)
        position = np.empty(len(table), dtype=np.int64)
        position[np.concatenate([rows for rows, _ in run.parts])] = np.arange(len(table))
        return table.iloc[position].reset_index(drop=True)
    inp, S = run.inputs, run.series
    R, n = run.exited_at.shape
    H = inp.horizon
    rows = np.arange(R)
    dissolved = run.dissolved_at >= 0
    cum = S["cum_net_savings_m"]
    delivered = ~dissolved & (cum[:, H] >= inp.target_net_savings_m)
    positive = cum[:, 1:] > 0
    break_even = np.where(positive.any(axis=1), positive.argmax(axis=1) + 1.0, math.nan)
    end = np.where(dissolved, run.dissolved_at, H)            # live reviews are 1..end
    last = np.where(dissolved, np.maximum(run.dissolved_at - 1, 0), H)

    def over_live(name):
        return live_mean(S[name], end)

    exited = run.exited_at >= 0
    exits = exited.sum(axis=1)
    order = np.argsort(np.where(exited, run.exited_at, H + 1) * n + np.arange(n), axis=1,
                       kind="stable")                         # by (cycle, slot), leavers first
    first = order[:, 0]
    some = exits > 0
    names = np.array(run.names, dtype=object)
    first_reason = np.where(some, run.exit_reason[rows, first], "")
    factors = np.stack(capacity_factors(over_live("team_delivery"), over_live("team_skill"),
                                        over_live("decision_pace"), inp.params), axis=1)
    bottleneck = np.array(list(BOTTLENECKS), dtype=object)[np.argmin(factors, axis=1)]
    final_trust = S["mean_trust"][rows, last]
    pct = S["pct_business_case"][:, H]
    paths = {}
    failure = [
        "" if ok else paths.setdefault((d, why, b), failure_path(d, why, b))
        for ok, d, why, b in zip(delivered.tolist(), dissolved.tolist(), first_reason.tolist(),
                                 bottleneck.tolist())
    ]
    exit_log = [""] * R
    for r in np.flatnonzero(some).tolist():
        exit_log[r] = "; ".join(f"{run.names[a]}@{run.exited_at[r, a]}({run.exit_reason[r, a]})"
                                for a in order[r, :exits[r]].tolist())
    return pd.DataFrame({
        "replication": run.replications,
        "delivered": delivered,
        "status": classify(delivered, dissolved, exits, final_trust, pct),
        "savings_pct": pct,
        "net_savings_m": cum[:, H],
        "break_even_cycle": break_even,
        "dissolved": dissolved,
        "dissolution_cycle": np.where(dissolved, run.dissolved_at, math.nan),
        "exits": exits,
        "first_exit_cycle": np.where(some, run.exited_at[rows, first], math.nan),
        "first_exit_partner": np.where(some, names[first], ""),
        "first_exit_reason": first_reason,
        "exit_log": exit_log,
        "final_mean_trust": final_trust,
        "final_min_trust": S["min_trust"][rows, last],
        "mean_trust": over_live("mean_trust"),
        "fairness_imbalance": over_live("fairness_imbalance"),
        "alignment": over_live("alignment"),
        "final_maturity": S["maturity"][:, H],
        "bottleneck": bottleneck,
        "failure_path": failure,
        "shocks": _shock_logs(run, R),
        "target_net_savings_m": np.broadcast_to(inp.target_net_savings_m, (R,)).astype(float),
        **dict(zip(inp.input_paths, inp.sampled.T)),
        **behaviour_columns(run.particle, R),
    })


def behaviour_columns(particle: dict | None, R=None) -> dict:
    """The outcomes columns of a run's posterior particle (none without `behaviour:`): its
    index, `particle`, and each of its values by path (R rows of each for a batch)."""
    if particle is None:
        return {}
    if R is None:
        return {k: (int(v) if k == "particle" else float(v)) for k, v in particle.items()}
    return {k: np.full(R, v, dtype=np.int64 if k == "particle" else float)
            for k, v in particle.items()}


def _shock_logs(run, R: int) -> list[str]:
    """'kind@cycle:who; ...' per replication, in the order the Mesa model logs shocks (events in
    time and scenario order, partners by slot): labels are built once per event and grouped by
    replication with one stable sort."""
    rows, labels = [], []
    for cycle, kind, who in run.shock_events:
        if who.ndim == 1:
            hit = np.flatnonzero(who)
            label = np.full(len(hit), f"{kind}@{cycle}:all", dtype=object)
        else:
            hit, partner = np.nonzero(who)
            label = np.array([f"{kind}@{cycle}:{name}" for name in run.names],
                             dtype=object)[partner]
        rows.append(hit)
        labels.append(label)
    logs = [""] * R
    if not rows:
        return logs
    row = np.concatenate(rows)
    if not len(row):
        return logs
    order = np.argsort(row, kind="stable")
    row, label = row[order], np.concatenate(labels)[order].tolist()
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]).tolist() + [len(row)]
    for a, b in zip(starts, starts[1:]):
        logs[row[a]] = "; ".join(label[a:b])
    return logs
