"""Calibration and directional checks of the model against the documents and the research record.

    python -m sim.validation --replications 2000

prints the table recorded in docs/VALIDATION.md. Each check runs a shipped scenario and a
variant of it with the same root seed. Where the variant only changes the range of an input that
is already uncertain, the two runs use the same random numbers replication by replication
(common random numbers), so the difference reflects the change, not sampling luck.
"""

from __future__ import annotations

import argparse
import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from sim.experiment import run
from sim.loading import scenario_from_dict

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _load(name: str) -> dict:
    return yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())


def _trait(key, value) -> Callable[[dict], None]:
    def mutate(d):
        d["population"]["traits"][key] = value
    return mutate


def _charter(path: str, value) -> Callable[[dict], None]:
    def mutate(d):
        node = d["charter"]
        *parents, leaf = path.split(".")
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


@dataclass
class Check:
    name: str
    claim: str
    baseline: str
    variant: Callable[[dict], None] | str   # a mutation of the baseline, or another scenario
    expect: str                             # "up", "down", or "range:LOW:HIGH" on the baseline


CHECKS = [
    Check("typical delivers", "up to 70% do not deliver (000, 002); research centres near half",
          "typical", "", "range:0.30:0.50"),
    Check("dedicated team", "dedicated team +10-15 points (Kale, Dyer & Singh 2002: 63% vs 50%)",
          "typical", _charter("programme_team.dedicated", 1.0), "lift:0.10:0.15"),
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
    Check("strong charter", "a charter following the five steps (001)", "three_councils",
          "strong_charter", "up"),
    Check("more volatility", "hokey-cokey partners who lose interest (001)", "typical",
          _trait("volatility", {"uniform": [0.3, 0.5]}), "down"),
    Check("hokey-cokey partner", "one partner losing interest (001)", "three_councils",
          "hokey_cokey", "down"),
    Check("political turnover", "politics create uncertainty and distrust (001)", "typical",
          _shock_rate("leadership_change", 0.5), "down"),
    Check("under-resourced and untrained", "reasons two and three together (000)", "typical",
          "under_resourced_untrained", "down"),
]


def _p(result) -> tuple[float, int]:
    s = result.summary
    return s["p_deliver"], s["replications"]


def evaluate(check: Check, replications: int, seed: int, workers: int,
             engine: str = "vector") -> dict:
    base = run(scenario_from_dict(_load(check.baseline)), replications, seed, workers=workers,
               engine=engine)
    p0, n = _p(base)
    row = {"check": check.name, "claim": check.claim, "baseline": check.baseline,
           "p_baseline": p0, "ci_baseline": base.summary["p_deliver_ci"],
           "median_break_even_cycle": base.summary["median_break_even_cycle"],
           "p_break_even_by_cycle_4": float((base.outcomes["break_even_cycle"] <= 4).mean())}
    if check.expect.startswith("range"):
        lo, hi = map(float, check.expect.split(":")[1:])
        row.update(variant="", p_variant=math.nan, difference=math.nan,
                   holds=lo <= p0 <= hi, expected=f"{lo:.0%}-{hi:.0%}")
        return row
    if isinstance(check.variant, str):
        variant_dict = _load(check.variant)
        label = check.variant
    else:
        variant_dict = copy.deepcopy(_load(check.baseline))
        check.variant(variant_dict)
        label = "variant"
    var = run(scenario_from_dict(variant_dict), replications, seed, workers=workers,
              engine=engine)
    p1, _ = _p(var)
    diff = p1 - p0
    half = 1.96 * math.sqrt(p0 * (1 - p0) / n + p1 * (1 - p1) / n)
    if check.expect == "up":
        holds, expected = diff - half > 0, "higher"
    elif check.expect == "down":
        holds, expected = diff + half < 0, "lower"
    else:
        lo, hi = map(float, check.expect.split(":")[1:])
        holds, expected = lo <= diff <= hi, f"+{lo * 100:.0f} to +{hi * 100:.0f} points"
    row.update(variant=label, p_variant=p1, difference=diff, difference_ci=[diff - half,
               diff + half], holds=bool(holds), expected=expected)
    return row


def markdown(rows: list[dict]) -> str:
    lines = ["| check | claim | expected | baseline p | variant p | difference (95% CI) | holds |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        if math.isnan(r["p_variant"]):
            var, diff = "", ""
            lo, hi = r["ci_baseline"]
            base = f"{r['p_baseline']:.1%} ({lo:.1%}-{hi:.1%})"
        else:
            base = f"{r['p_baseline']:.1%}"
            var = f"{r['p_variant']:.1%}"
            lo, hi = r["difference_ci"]
            diff = f"{100 * r['difference']:+.1f} ({100 * lo:+.1f} to {100 * hi:+.1f}) pts"
        lines.append(f"| {r['check']} | {r['claim']} | {r['expected']} | {base} | {var} | "
                     f"{diff} | {'yes' if r['holds'] else '**no**'} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    """Run every check (or those named with --only) and print the Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine", choices=("vector", "mesa"), default="vector",
                    help="vector (seconds) or mesa (minutes); the table is the same")
    ap.add_argument("--only", nargs="*", help="names of checks to run (default: all)")
    args = ap.parse_args(argv)
    chosen = [c for c in CHECKS if not args.only or c.name in args.only]
    rows = [evaluate(c, args.replications, args.seed, args.workers, args.engine) for c in chosen]
    print(markdown(rows))
    typical = rows[0]
    print()
    print(f"typical: median break-even at review {typical['median_break_even_cycle']}; "
          f"{typical['p_break_even_by_cycle_4']:.1%} of runs break even within two years "
          "(4 reviews)")


if __name__ == "__main__":
    main()
