"""Calibration, directional checks and the patterns model v2 must show, against the documents and
the research record.

    python -m sim.analysis.validation --replications 2000

prints the tables recorded in docs/VALIDATION.md. Every comparison is paired and like for like:
a variant runs on the same replications as its baseline (common random numbers: the same
sampled conditions and, with the same partners, the same luck review by review), is judged
against the baseline's business-case target replication by replication, and its net savings
are net of its own programme costs. A difference's 95% interval is that of the mean of the
per-replication differences.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np
import yaml

from sim.montecarlo.executors import Executor
from sim.montecarlo.paired import on_common_target, paired_outcomes
from sim.montecarlo.runs import run
from sim.montecarlo.statistics import mean_interval, wilson_interval
from sim.scenario.loading import SHIPPED_SCENARIOS, scenario_from_dict

#: The money estimates of a scenario (what its planners cannot know), for the Sobol pattern.
MONEY_ESTIMATES = ("charter.business_case.savings_potential",
                   "charter.business_case.implementation_cost_m")
#: A factor the model never reads in `typical` (no penalty is ever called out there): its
#: Sobol index is the noise floor.
INERT_FACTOR = "charter.penalties.threshold"
THREE_REASONS = ("partners.*.ambition", "partners.*.resourcing", "partners.*.skills")


def _load(name: str) -> dict:
    return yaml.safe_load((SHIPPED_SCENARIOS / f"{name}.yaml").read_text())


def _trait(key, value) -> Callable[[dict], None]:
    def mutate(d):
        d["population"]["traits"][key] = value
    return mutate


def _charter(**clauses) -> Callable[[dict], None]:
    """Set charter clauses given as dotted paths with '__' (programme_team__dedicated=1)."""
    def mutate(d):
        for path, value in clauses.items():
            node = d["charter"]
            *parents, leaf = path.split("__")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = value
    return mutate


def _shock_rate(kind: str, rate: float) -> Callable[[dict], None]:
    def mutate(d):
        for s in d["shocks"]:
            if s["kind"] == kind:
                s["rate"] = rate
    return mutate


def _drop_priorities(d):
    d["population"]["traits"].pop("priorities", None)


def _charter_file(name: str) -> Callable[[dict], None]:
    def mutate(d):
        charter = SHIPPED_SCENARIOS / "charters" / f"{name}.yaml"
        d["charter"] = yaml.safe_load(charter.read_text())
    return mutate


@dataclass
class Check:
    name: str
    claim: str
    baseline: str
    variant: Callable[[dict], None] | str   # a mutation of the baseline, or another scenario
    expect: str           # "up" / "down" (P(deliver)), "at_least:X" (points), "range:LOW:HIGH"
    outcome: str = "delivered"   # or "any_exit": the share of runs in which a partner leaves


#: The team and training of the shipped charters (charters/dedicated_team.yaml; see
#: docs/VALIDATION.md for where the prices come from), for `typical`'s dedicated-team check.
TEAM = {"programme_team__dedicated": 0.7, "programme_team__training": 0.7,
        "programme_team__team_cost_m": 0.156, "programme_team__training_cost_m": 0.015}

CHECKS = [
    Check("typical delivers", "up to 70% do not deliver (000, 002); research centres near half",
          "typical", "", "range:0.30:0.50"),
    Check("dedicated team", "a dedicated, trained team at its price, same target: +10 points or "
          "more (Kale, Dyer & Singh 2002: 63% vs 50%)", "typical", _charter(**TEAM),
          "at_least:0.10"),
    Check("more ambition", "leadership ambition drives hard decisions (000)", "typical",
          _trait("ambition", {"uniform": [0.5, 0.9]}), "up"),
    Check("less ambition", "lack of leadership ambition (000)", "typical",
          _trait("ambition", {"uniform": [0.0, 0.4]}), "down"),
    Check("more resourcing", "projects under-resourced, added to day jobs (000)", "typical",
          _trait("resourcing", {"uniform": [0.4, 0.7]}), "up"),
    Check("more skills", "teams untrained in collaboration skills (000)", "typical",
          _trait("skills", {"uniform": [0.4, 0.7]}), "up"),
    Check("more trust", "be open to trusting others (001)", "typical",
          _trait("trust_propensity", {"uniform": [0.6, 0.9]}), "up"),
    Check("shared vision", "misaligned aspirations pull apart (001); shared vision (002)",
          "typical", _drop_priorities, "up"),
    Check("strong charter", "a charter following the five steps (001), same target, net of "
          "its costs", "three_councils", "strong_charter", "up"),
    Check("paid dedicated team", "a dedicated, trained team at its price, same target: +10 "
          "points or more (Kale, Dyer & Singh 2002)", "three_councils",
          _charter_file("dedicated_team"), "at_least:0.10"),
    Check("more volatility", "hokey-cokey partners who lose interest (001)", "typical",
          _trait("volatility", {"uniform": [0.3, 0.5]}), "down"),
    Check("hokey-cokey partner", "one partner losing interest (001)", "three_councils",
          "hokey_cokey", "down"),
    Check("political turnover", "politics create uncertainty and distrust (001)", "typical",
          _shock_rate("leadership_change", 0.5), "down"),
    Check("under-resourced and untrained", "reasons two and three together (000)", "typical",
          "under_resourced_untrained", "down"),
    Check("unfair reward split", "an imbalance in risk/reward makes partners unhappy (002): "
          "savings split equally between unequal partners", "typical",
          _charter(benefit_sharing="equal"), "up", outcome="any_exit"),
]


def _scenario(check: Check, which: str):
    if which == "baseline":
        return scenario_from_dict(_load(check.baseline))
    if isinstance(check.variant, str):
        return scenario_from_dict(_load(check.variant))
    data = copy.deepcopy(_load(check.baseline))
    check.variant(data)
    return scenario_from_dict(data)


def _share(table, outcome: str) -> np.ndarray:
    if outcome == "any_exit":
        return (table["exits"] > 0).to_numpy(float)
    return table["delivered"].to_numpy(float)


def evaluate(check: Check, replications: int, seed: int, executor: Executor) -> dict:
    """One check: the baseline and its variant on the same replications, like for like."""
    base_sc = _scenario(check, "baseline")
    if check.expect.startswith("range"):
        result = run(base_sc, replications, seed, executor=executor)
        k = int(result.outcomes["delivered"].sum())
        p0 = k / replications
        lo, hi = map(float, check.expect.split(":")[1:])
        return {"check": check.name, "claim": check.claim, "outcome": check.outcome,
                "baseline": check.baseline, "variant": "", "p_baseline": p0,
                "ci_baseline": list(wilson_interval(k, replications)), "p_variant": math.nan,
                "difference": math.nan, "difference_ci": [math.nan, math.nan],
                "median_net_difference_m": math.nan, "holds": lo <= p0 <= hi,
                "expected": f"{lo:.0%}-{hi:.0%}"}
    base, var = on_common_target(paired_outcomes([base_sc, _scenario(check, "variant")], seed,
                                                 replications, executor=executor))
    d = _share(var, check.outcome) - _share(base, check.outcome)
    lo, hi = mean_interval(d)
    money = var["net_savings_m"].to_numpy() - base["net_savings_m"].to_numpy()
    if check.expect == "up":
        holds, expected = lo > 0, "higher"
    elif check.expect == "down":
        holds, expected = hi < 0, "lower"
    else:
        least = float(check.expect.split(":")[1])
        holds = d.mean() >= least and lo > 0 and np.median(money) >= 0
        expected = f"+{100 * least:.0f} points or more, median net savings not lower"
    return {"check": check.name, "claim": check.claim, "outcome": check.outcome,
            "baseline": check.baseline,
            "variant": check.variant if isinstance(check.variant, str) else "variant",
            "p_baseline": float(_share(base, check.outcome).mean()),
            "ci_baseline": [math.nan, math.nan],
            "p_variant": float(_share(var, check.outcome).mean()), "difference": float(d.mean()),
            "difference_ci": [lo, hi], "median_net_difference_m": float(np.median(money)),
            "holds": bool(holds), "expected": expected}


# --- the patterns model v2 must show ------------------------------------------------------


def late_shocks(replications: int, seed: int, executor: Executor) -> list[dict]:
    """A full budget cut (and a leadership change) on every partner of three_councils, struck
    at review 2 and at each of reviews 6-8, against its absence: the late shocks must cost at
    least a third of the early one's harm, with a paired interval above zero."""
    from sim.analysis.stress import shock_timing

    rows = []
    scenario = scenario_from_dict(_load("three_councils"))
    for kind in ("budget_cut", "leadership_change"):
        timing = shock_timing(scenario, [f"{kind}:partner=all,magnitude=1"],
                              cycles=[2, 6, 7, 8], replications=replications, seed=seed,
                              executor=executor)
        harm = timing.table.set_index("at_cycle")
        early = float(harm.loc[2, "harm"])
        late = float(harm.loc[[6, 7, 8], "harm"].mean())
        late_lo = float(harm.loc[[6, 7, 8], "harm_ci_low"].min())
        rows.append({"pattern": f"late {kind.replace('_', ' ')}",
                     "figure": f"harm at review 2 {early:+.1%}; mean harm at reviews 6-8 "
                               f"{late:+.1%} ({late / early:.2f} of it; lowest 95% CI bound "
                               f"{late_lo:+.1%})",
                     "criterion": "late >= 1/3 of early, every late CI above zero",
                     "holds": early > 0 and late >= early / 3 and late_lo > 0})
    return rows


def typical_patterns(replications: int, seed: int, executor: Executor) -> list[dict]:
    """Break-even timing, money reaching behaviour and trust being rebuilt, in `typical`."""
    result = run(scenario_from_dict(_load("typical")), replications, seed, executor=executor)
    o, ts = result.outcomes, result.timeseries
    early = float((o["break_even_cycle"] <= 4).mean())
    rows = [{"pattern": "no early break-even",
             "figure": f"{early:.1%} of runs break even within two years (4 reviews); median "
                       f"break-even at review {result.summary['median_break_even_cycle']:g}",
             "criterion": "at most 5% within two years (NAO 2012, 2016)",
             "holds": early <= 0.05}]
    potential = o["charter.business_case.savings_potential"]
    low = (o.loc[potential <= potential.quantile(0.2), "exits"] > 0).mean()
    high = (o.loc[potential >= potential.quantile(0.8), "exits"] > 0).mean()
    reasons = result.summary["exit_reasons"]
    rows.append({"pattern": "money reaches behaviour",
                 "figure": f"P(any exit) {low:.1%} in the lowest fifth of savings potential, "
                           f"{high:.1%} in the highest ({low / high if high else math.inf:.1f}x); "
                           f"exit reasons {reasons}",
                 "criterion": "at least 1.5x; benefit and fairness among the reasons",
                 "holds": low >= 1.5 * high and {"benefit", "fairness"} <= set(reasons)})
    trust = ts.pivot(index="replication", columns="cycle", values="mean_trust").to_numpy()
    dipped = trust[:, 1:6].min(axis=1) < trust[:, 0] - 0.05
    regained = dipped & (trust[:, -1] >= trust[:, 0])
    share = regained.sum() / max(dipped.sum(), 1)
    rows.append({"pattern": "trust is rebuilt",
                 "figure": f"mean trust dips more than 0.05 below its start by review 5 in "
                           f"{dipped.mean():.1%} of runs; {share:.1%} of those regain it by "
                           f"review 10; mean trust {trust[:, 0].mean():.2f} at signing, "
                           f"{trust[:, -1].mean():.2f} at review 10",
                 "criterion": "most dips regained (001's six-monthly review; Vanneste et al. "
                              "2014)",
                 "holds": share > 0.5})
    return rows


def typical_sobol(samples: int, replications: int, seed: int, executor: Executor,
                  parameters: dict | None = None):
    """Sobol total indices of P(deliver) in `typical` (with `parameters` overridden), with the
    inert factor added: a Series by factor."""
    from sim.analysis.sensitivity import FactorSpec, sweep

    data = copy.deepcopy(_load("typical"))
    data["parameters"] = dict(data.get("parameters") or {}, **(parameters or {}))
    result = sweep(scenario_from_dict(data), "sobol", samples=samples, replications=replications,
                   outputs=("p_deliver",), factors=[FactorSpec.parse(f"{INERT_FACTOR}=0:1")],
                   seed=seed, executor=executor)
    return result.indices.set_index("factor")["ST"]


def sobol_sums(st) -> dict:
    """Total indices summed by kind, above the inert factor's (19 behavioural factors against
    2 money ones: an index at the noise floor would otherwise add the floor to a sum): the
    floor, the behavioural traits' and money estimates' sums above it, and their plain sums."""
    floor = float(st[INERT_FACTOR])
    money = st[list(MONEY_ESTIMATES)]
    behaviour = st[[f for f in st.index if f.startswith(("partners.*.", "partner_similarity."))
                    and f != "partners.*.size"]]
    return {"floor": floor,
            "behaviour": float((behaviour - floor).clip(lower=0).sum()),
            "money": float((money - floor).clip(lower=0).sum()),
            "behaviour_plain": float(behaviour.sum()), "money_plain": float(money.sum())}


def behaviour_decides(samples: int, replications: int, seed: int, executor: Executor) -> dict:
    """Sobol total indices of P(deliver) in `typical`, with an inert factor as noise floor."""
    st = typical_sobol(samples, replications, seed, executor)
    sums = sobol_sums(st)
    top3 = list(st.sort_values(ascending=False).index[:3])
    holds = (any(r in top3 for r in THREE_REASONS)
             and all(st[r] > sums["floor"] for r in THREE_REASONS)
             and sums["behaviour"] > sums["money"])
    figure = (f"above the inert factor's {sums['floor']:.3f}, behavioural traits together "
              f"{sums['behaviour']:.2f} against the money estimates' {sums['money']:.2f} "
              f"(plain sums {sums['behaviour_plain']:.2f} and {sums['money_plain']:.2f}); top "
              f"three {', '.join(top3)}; ambition {st[THREE_REASONS[0]]:.3f}, resourcing "
              f"{st[THREE_REASONS[1]]:.3f}, skills {st[THREE_REASONS[2]]:.3f}")
    return {"pattern": "behaviour decides", "figure": figure,
            "criterion": "one of the three reasons (000) in the top three, each above the inert "
                         "factor, behaviour's total indices above the money estimates' (above "
                         "the floor)",
            "holds": bool(holds)}


def fit_planned_capacity(replications: int, seed: int, executor: Executor,
                         target: float = 0.40,
                         tolerance: float = 1e-4,
                         parameters: dict | None = None) -> tuple[float, float]:
    """The model's one fitted constant: the `planned_capacity` at which `typical` (with
    `parameters` overridden) delivers in `target` of runs (the centre of the 30-50% band), by
    bisection on the same replications (common random numbers make P(deliver) a step function
    of it, falling as it rises). Returns (planned_capacity, P(deliver) there), rounded to
    `tolerance`."""
    data = _load("typical")

    def p_deliver(value: float) -> float:
        d = copy.deepcopy(data)
        d["parameters"] = dict(d.get("parameters") or {}, **(parameters or {}),
                               planned_capacity=value)
        return run(scenario_from_dict(d), replications, seed, executor=executor).summary[
            "p_deliver"]

    low, high = 0.02, 0.5
    while high - low > tolerance:
        mid = (low + high) / 2
        low, high = (mid, high) if p_deliver(mid) > target else (low, mid)
    value = round((low + high) / 2, int(round(-math.log10(tolerance))))
    return value, p_deliver(value)


FINDING_SCENARIOS = ("typical", "three_councils", "strong_charter", "hokey_cokey",
                     "misaligned_vision", "under_resourced_untrained")


def findings(replications: int, seed: int, executor: Executor) -> list[dict]:
    """Each shipped scenario on its own (what `collabsim run scenarios/NAME.yaml
    --replications N --seed S` prints), for the findings of docs/VALIDATION.md."""
    rows = []
    for name in FINDING_SCENARIOS:
        s = run(scenario_from_dict(_load(name)), replications, seed, executor=executor).summary
        rows.append({"scenario": name, **s})
    return rows


#: The structural choices the trade-off table compares: (run_ceiling, run_dependence).
TRADEOFF = ((1.0, 0.5), (1.0, 1.0), (1.1, 0.5), (1.1, 1.0), (1.25, 0.5), (1.25, 1.0))


def tradeoff(replications: int, seed: int, executor: Executor, samples: int = 256) -> list[dict]:
    """How the running-quality ceiling and dependence set two patterns that pull against each
    other: a dedicated team's lift (Kale, Dyer & Singh 2002: +13 points) and behaviour
    deciding (Sobol). For each choice, planned_capacity is refitted so that typical delivers
    in 40% of runs; then the priced team's lift in typical and three_councils (paired, same
    target) and the Sobol total indices of typical (above the inert factor)."""
    from sim.analysis.comparison import load_charter

    rows = []
    for ceiling, dependence in TRADEOFF:
        params = {"run_ceiling": ceiling, "run_dependence": dependence}
        params["planned_capacity"] = fit_planned_capacity(
            replications, seed, executor, parameters=params)[0]

        def scenario(name: str, *mutations):
            d = copy.deepcopy(_load(name))
            d["parameters"] = dict(params)
            for mutate in mutations:
                mutate(d)
            return scenario_from_dict(d)

        councils = scenario("three_councils")
        pairs = {"typical": [scenario("typical"), scenario("typical", _charter(**TEAM))],
                 "three_councils": [councils, load_charter(
                     SHIPPED_SCENARIOS / "charters" / "dedicated_team.yaml", councils)]}
        lift = {}
        for name, pair in pairs.items():
            base, var = on_common_target(paired_outcomes(pair, seed, replications,
                                                         executor=executor))
            lift[name] = float(var["delivered"].mean() - base["delivered"].mean())
        sums = sobol_sums(typical_sobol(samples, 32, seed, executor, params))
        rows.append({**params, "team_lift_typical": lift["typical"],
                     "team_lift_three_councils": lift["three_councils"],
                     "behaviour_above_floor": sums["behaviour"],
                     "money_above_floor": sums["money"]})
    return rows


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(row) + " |" for row in rows])


def _yes(holds: bool) -> str:
    return "yes" if holds else "**no**"


def findings_markdown(rows: list[dict]) -> str:
    def be(value):
        return "never" if value is None else f"{value:g}"

    return table(
        ["scenario", "P(deliver) (95% CI)", "median savings, % of case",
         "median break-even review", "P(any exit)", "P(dissolved)", "median final trust",
         "exit reasons"],
        [[r["scenario"], f"{r['p_deliver']:.1%} ({r['p_deliver_ci'][0]:.1%}-"
          f"{r['p_deliver_ci'][1]:.1%})", f"{r['median_savings_pct']:.0f}%",
          be(r["median_break_even_cycle"]), f"{r['p_any_exit']:.1%}", f"{r['p_dissolved']:.1%}",
          f"{r['median_final_trust']:.2f}",
          ", ".join(f"{k} {v}" for k, v in r["exit_reasons"].items()) or "none"]
         for r in rows])


def tradeoff_markdown(rows: list[dict]) -> str:
    return table(
        ["run_ceiling", "run_dependence", "planned_capacity (refitted)", "team lift, typical",
         "team lift, three_councils", "Sobol: behaviour", "Sobol: money estimates"],
        [[f"{r['run_ceiling']:g}", f"{r['run_dependence']:g}", f"{r['planned_capacity']:.4f}",
          f"{100 * r['team_lift_typical']:+.1f} pts",
          f"{100 * r['team_lift_three_councils']:+.1f} pts",
          f"{r['behaviour_above_floor']:.2f}", f"{r['money_above_floor']:.2f}"] for r in rows])


def markdown(rows: list[dict]) -> str:
    cells = []
    for r in rows:
        if math.isnan(r["p_variant"]):
            lo, hi = r["ci_baseline"]
            base, var, diff, money = f"{r['p_baseline']:.1%} ({lo:.1%}-{hi:.1%})", "", "", ""
        else:
            base, var = f"{r['p_baseline']:.1%}", f"{r['p_variant']:.1%}"
            lo, hi = r["difference_ci"]
            diff = (f"{100 * r['difference']:+.1f} ({100 * lo:+.1f} to {100 * hi:+.1f}) pts"
                    + (" of P(any exit)" if r["outcome"] == "any_exit" else ""))
            money = f"{r['median_net_difference_m']:+.2f}"
        cells.append([r["check"], r["claim"], r["expected"], base, var, diff, money,
                      _yes(r["holds"])])
    return table(["check", "claim", "expected", "baseline", "variant", "difference (95% CI)",
                  "median net £m", "holds"], cells)


def pattern_markdown(rows: list[dict]) -> str:
    return table(["pattern", "figure", "criterion", "holds"],
                 [[r["pattern"], r["figure"], r["criterion"], _yes(r["holds"])] for r in rows])


def main(argv=None) -> int:
    """Run every check and pattern (or those named with --only) and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sobol-samples", type=int, default=512,
                    help="Sobol base samples for 'behaviour decides' (x 32 replications each)")
    ap.add_argument("--only", nargs="*", help="names of checks or patterns to run (default: all)")
    ap.add_argument("--fit", action="store_true",
                    help="instead, refit planned_capacity so that typical delivers in 40%% of "
                         "runs, and print it")
    ap.add_argument("--tradeoff", action="store_true",
                    help="instead, print how the running-quality ceiling and dependence trade "
                         "the dedicated team's lift against behaviour deciding (minutes)")
    args = ap.parse_args(argv)
    executor = Executor(workers=args.workers)
    if args.tradeoff:
        print(tradeoff_markdown(tradeoff(args.replications, args.seed, executor)))
        return 0
    if args.fit:
        value, p = fit_planned_capacity(args.replications, args.seed, executor)
        print(f"planned_capacity {value} (typical delivers in {p:.1%} of {args.replications} "
              f"runs, seed {args.seed})")
        return 0

    def wanted(name: str) -> bool:
        return not args.only or name in args.only

    rows = [evaluate(c, args.replications, args.seed, executor) for c in CHECKS
            if wanted(c.name)]
    if rows:
        print(markdown(rows))
        print()
    patterns = []
    if wanted("late shocks"):
        patterns += late_shocks(args.replications, args.seed, executor)
    if wanted("typical patterns"):
        patterns += typical_patterns(args.replications, args.seed, executor)
    if wanted("behaviour decides"):
        patterns.append(behaviour_decides(args.sobol_samples, 32, args.seed, executor))
    if patterns:
        print(pattern_markdown(patterns))
    if wanted("findings"):
        print()
        print(findings_markdown(findings(args.replications, args.seed, executor)))
    failed = [r["check"] for r in rows if not r["holds"]] + \
        [p["pattern"] for p in patterns if not p["holds"]]
    if failed:
        print(f"\nnot holding: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
