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

import numpy as np

THRIVING_TRUST = 0.5
STUMBLING_PCT = 50.0
STATUSES = ("thriving", "stumbling", "crumbling", "dissolved")

#: The multiplicative factors of programme capacity, and what each shortfall points to.
BOTTLENECKS = {
    "delivery": "under-delivery (resourcing, commitment, trust)",
    "skills": "skills gap",
    "decisions": "slow hard decisions (ambition, decision rule)",
}


def classify(delivered: bool, dissolved: bool, exits: int, final_trust: float, pct: float) -> str:
    if dissolved:
        return "dissolved"
    if delivered and exits == 0 and final_trust >= THRIVING_TRUST:
        return "thriving"
    if delivered or pct >= STUMBLING_PCT:
        return "stumbling"
    return "crumbling"


def run_outcome(model) -> dict:
    """One row of the outcomes table for a finished PartnershipModel."""
    inp = model.inputs
    series = model.datacollector.model_vars
    cum = np.asarray(series["cum_net_savings_m"], dtype=float)
    delivered = (not model.dissolved) and model.cum_net_savings >= inp.target_net_savings_m
    positive = np.nonzero(cum[1:] > 0)[0]
    exits = [a for a in model.partners if a.exited_at is not None]
    exits.sort(key=lambda a: (a.exited_at, a.slot))
    live = slice(1, (model.dissolved_at or model.horizon) + 1)
    factors = _capacity_factors(series, live, inp.params)
    final_trust = _last_live(series["mean_trust"], model)
    pct = model.pct_business_case
    status = classify(delivered, model.dissolved, len(exits), final_trust, pct)
    return {
        "delivered": delivered,
        "status": status,
        "savings_pct": pct,
        "net_savings_m": model.cum_net_savings,
        "break_even_cycle": float(positive[0] + 1) if len(positive) else math.nan,
        "dissolved": model.dissolved,
        "dissolution_cycle": float(model.dissolved_at) if model.dissolved else math.nan,
        "exits": len(exits),
        "first_exit_cycle": float(exits[0].exited_at) if exits else math.nan,
        "first_exit_partner": exits[0].name if exits else "",
        "first_exit_reason": exits[0].exit_reason if exits else "",
        "exit_log": "; ".join(f"{a.name}@{a.exited_at}({a.exit_reason})" for a in exits),
        "final_mean_trust": final_trust,
        "final_min_trust": _last_live(series["min_trust"], model),
        "mean_trust": float(np.mean(series["mean_trust"][live])),
        "fairness_imbalance": float(np.mean(series["fairness_imbalance"][live])),
        "alignment": float(np.mean(series["alignment"][live])),
        "final_maturity": model.maturity,
        "bottleneck": min(factors, key=factors.get),
        "failure_path": "" if delivered else _failure_path(model, exits, factors),
        "shocks": "; ".join(f"{k}@{c}:{who}" for c, k, who in model.events
                            if k in _SHOCK_KINDS),
    }


_SHOCK_KINDS = {"leadership_change", "budget_cut", "staff_loss", "supplier_failure",
                "partner_exit", "lapse"}


def _last_live(values, model) -> float:
    """A figure at the horizon, or at the last review before the partnership dissolved."""
    idx = (model.dissolved_at - 1) if model.dissolved else model.horizon
    return float(values[max(idx, 0)])


def _capacity_factors(series, live, p) -> dict:
    """Mean of each factor of programme capacity over the live reviews (see rules)."""
    delivery = float(np.mean(series["team_delivery"][live]))
    skill_raw = np.asarray(series["team_skill"])[live]
    skills = float(np.mean(p.skills_floor + (1 - p.skills_floor) * skill_raw))
    pace = np.asarray(series["decision_pace"])[live]
    decisions = float(np.mean(p.routine_progress + (1 - p.routine_progress) * pace))
    return {"delivery": delivery, "skills": skills, "decisions": decisions}


def _failure_path(model, exits, factors) -> str:
    bottleneck = BOTTLENECKS[min(factors, key=factors.get)]
    if model.dissolved:
        first = exits[0] if exits else None
        why = f"{first.exit_reason}" if first else "?"
        return f"dissolved after exits (first: {why})"
    if exits:
        return f"exit ({exits[0].exit_reason}) then shortfall"
    return f"shortfall: {bottleneck}"


# --- summaries over many runs -----------------------------------------------------------------


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (sound near 0 and 1, unlike the Wald one)."""
    if n == 0:
        return (math.nan, math.nan)
    phat = successes / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def summarise(outcomes, seed: int, top_paths: int = 5) -> dict:
    """The headline figures of a Monte Carlo run, as plain JSON-ready values."""
    n = len(outcomes)
    delivered = int(outcomes["delivered"].sum())
    exits = outcomes[outcomes["exits"] > 0]
    failed = outcomes[~outcomes["delivered"]]
    paths = failed["failure_path"].value_counts().head(top_paths)
    reasons = outcomes.loc[outcomes["first_exit_reason"] != "", "first_exit_reason"].value_counts()
    be = outcomes["break_even_cycle"]

    def _num(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    return {
        "replications": n,
        "seed": seed,
        "p_deliver": delivered / n if n else math.nan,
        "p_deliver_ci": list(wilson_interval(delivered, n)),
        "status_shares": {s: float((outcomes["status"] == s).mean()) for s in STATUSES},
        "median_savings_pct": _num(float(outcomes["savings_pct"].median())),
        "savings_pct_quartiles": [_num(float(outcomes["savings_pct"].quantile(q)))
                                  for q in (0.25, 0.75)],
        "p_break_even": float(be.notna().mean()),
        "median_break_even_cycle": _num(float(be.median())) if be.notna().any() else None,
        "p_any_exit": float((outcomes["exits"] > 0).mean()),
        "mean_exits": float(outcomes["exits"].mean()),
        "median_first_exit_cycle": _num(float(exits["first_exit_cycle"].median()))
        if len(exits) else None,
        "exit_reasons": {str(k): int(v) for k, v in reasons.items()},
        "p_dissolved": float(outcomes["dissolved"].mean()),
        "median_final_trust": float(outcomes["final_mean_trust"].median()),
        "failure_paths": {str(k): float(v / n) for k, v in paths.items()},
    }


def exits_by_cycle(outcomes, horizon: int) -> list[int]:
    counts = [0] * (horizon + 1)
    for log in outcomes["exit_log"]:
        for item in filter(None, log.split("; ")):
            cycle = int(item.split("@", 1)[1].split("(", 1)[0])
            counts[cycle] += 1
    return counts

