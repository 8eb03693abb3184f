"""Stress tests: how big a shock the partnership survives, and when a shock hurts most.

The documents ask designers to "scenario test" a partnership "to breaking point". A breaking
point is read off a curve: the chance of delivering the business case against the size
(`magnitude`) of a shock, or against how often it strikes (`rate`). The curve is traced with
common random numbers (sim.montecarlo.paired): every point runs the same replications, so it is
smooth and
neighbouring points differ only by the shock. Its crossing of the threshold is then located by
bisection, a handful of evaluations instead of a fine grid, and the crossing's uncertainty is a
bootstrap over replications of the whole traced curve.

A shock is written KIND or KIND:key=value,... with the keys of a scenario's shock (partner,
at_cycle, rate, magnitude), e.g. "budget_cut:partner=Northshire,at_cycle=3".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from sim.montecarlo.executors import Executor, as_executor
from sim.montecarlo.paired import paired_outcomes
from sim.montecarlo.statistics import mean_interval, wilson_interval
from sim.scenario.loading import ScenarioError, as_scenario
from sim.scenario.schema import Scenario
# shock texts (KIND:key=value,...) live in sim.scenario.shocks, light to import for the command
# line
from sim.scenario.shocks import (DEFAULT_AT_CYCLE, StressError, parse_shock,  # noqa: F401
                                 with_shocks)

VARY = ("magnitude", "rate")
#: Evaluations of the first, even scan of the range (ends included) before bisection.
SCAN_POINTS = 5
BOOTSTRAP = 1000


def shock_variant(scenario: Scenario, shocks: list[dict], **setting) -> Scenario:
    """The scenario with the stress shocks added, each given `setting` (e.g. magnitude=0.4, or
    rate=0.2 which makes it random, or at_cycle=3 which makes it scheduled)."""
    changed = []
    for s in shocks:
        s = dict(s, **setting)
        if "rate" in setting:
            s.pop("at_cycle", None)
        if "at_cycle" in setting:
            s.pop("rate", None)
        changed.append(s)
    return with_shocks(scenario, changed)


def shock_absent(scenario: Scenario, shocks: list[dict]) -> Scenario:
    """The same shocks never striking (random with rate 0): the baseline with the same stream
    layout, so that it is paired with every stressed variant."""
    return shock_variant(scenario, shocks, rate=0.0)


# --- the breaking point ---------------------------------------------------------------------


@dataclass
class BreakingPoint:
    """The traced curve and where it crosses the threshold."""

    scenario: Scenario
    shocks: list[dict]
    vary: str
    threshold: float
    curve: pd.DataFrame          # one row per evaluated value, ascending
    baseline: dict               # the same replications with the shocks absent
    status: str                  # "crossing", "none_in_range", "below_from_the_start"
    crossing: Optional[float]
    crossing_ci: Optional[tuple[float, float]]
    message: str
    settings: dict
    notes: list = field(default_factory=list)

    @property
    def tables(self) -> dict:
        return {"curve": self.curve}

    @property
    def summary(self) -> dict:
        return {"status": self.status, "crossing": self.crossing,
                "crossing_ci": list(self.crossing_ci) if self.crossing_ci else None,
                "message": self.message, "baseline": self.baseline, "notes": self.notes,
                "headline": [["breaking point", self.message],
                             ["without the shock", _p_text(self.baseline)]]}


def _describe(shocks: list[dict]) -> str:
    parts = []
    for s in shocks:
        who = s.get("partner", "any")
        when = f"at review {s['at_cycle']}" if "at_cycle" in s else \
            (f"at rate {s['rate']:g} per review" if "rate" in s else "")
        parts.append(f"{s['kind']} ({who}{', ' + when if when else ''})")
    return " + ".join(parts)


def _p_text(row: dict) -> str:
    return (f"P(deliver) {row['p_deliver']:.1%} [95% CI {row['ci_low']:.1%}, "
            f"{row['ci_high']:.1%}]")


def _point(frame: pd.DataFrame) -> dict:
    n = len(frame)
    k = int(frame["delivered"].sum())
    lo, hi = wilson_interval(k, n)
    return {"p_deliver": k / n, "ci_low": lo, "ci_high": hi,
            "median_savings_pct": float(frame["savings_pct"].median()),
            "p_dissolved": float(frame["dissolved"].mean()),
            "mean_exits": float(frame["exits"].mean())}


def _as_mapping(shock) -> dict:
    return parse_shock(shock) if isinstance(shock, str) else dict(shock)


def stressed_shocks(scenario: Scenario, shocks, vary: str, at_cycle: Optional[int],
                    magnitude: Optional[float]) -> list[dict]:
    """The shocks a breaking-point search varies, with what the search does not vary filled
    in; a setting the search would silently override is refused instead."""
    if vary not in VARY:
        raise StressError(f"--vary {vary}: must be magnitude or rate")
    shocks = [_as_mapping(s) for s in shocks]
    if not shocks:
        raise StressError("give at least one --shock")
    out = []
    for s in shocks:
        s = dict(s)
        if vary == "magnitude":
            if "magnitude" in s or magnitude is not None:
                raise StressError(f"{s['kind']}: its magnitude is what --vary magnitude varies; "
                                  "leave it out (or vary the rate: --vary rate --magnitude M)")
            if not {"at_cycle", "rate"} & s.keys():
                s["at_cycle"] = DEFAULT_AT_CYCLE if at_cycle is None else int(at_cycle)
        else:
            if {"at_cycle", "rate"} & s.keys() or at_cycle is not None:
                raise StressError(f"{s['kind']}: --vary rate makes the shock strike at random "
                                  "with the varied rate; leave at_cycle and rate out")
            if magnitude is not None and "magnitude" not in s:
                s["magnitude"] = float(magnitude)
        out.append(s)
    _check(scenario, [dict(s, rate=0.0) if vary == "rate" else s for s in out])
    return out


def _check(scenario: Scenario, shocks: list[dict]) -> None:
    try:
        with_shocks(scenario, shocks)
    except ScenarioError as exc:
        raise StressError(str(exc)) from None


def breaking_point(scenario, shocks, *, vary: str = "magnitude", low: float = 0.0,
                   high: float = 1.0, threshold: float = 0.5, replications: int = 4000,
                   tolerance: float = 0.01, at_cycle: Optional[int] = None,
                   magnitude: Optional[float] = None, seed: Optional[int] = None,
                   executor: Optional[Executor] = None) -> BreakingPoint:
    """Trace P(deliver) against the shocks' `vary` (magnitude or rate) over [low, high] and
    locate where it falls below `threshold`, to within `tolerance`.

    `shocks` are scenario shock mappings or "KIND:key=value" texts; combined shocks share the
    varied value. Varying the magnitude, a shock without a timing strikes at review `at_cycle`
    (default DEFAULT_AT_CYCLE); varying the rate, `magnitude` sets the size of shocks that do
    not give their own. The runs go where `executor` says (progress in replications, of an
    estimated total that grows if the bisection needs more points)."""
    executor = as_executor(executor)
    sc = as_scenario(scenario)
    shocks = stressed_shocks(sc, shocks, vary, at_cycle, magnitude)
    if not (0.0 <= low < high <= 1.0):
        raise StressError(f"--range {low:g}:{high:g}: need 0 <= low < high <= 1")
    if not (0.0 < threshold < 1.0):
        raise StressError(f"--threshold {threshold:g}: must be between 0 and 1")
    if not (0.0 < tolerance < high - low):
        raise StressError(f"tolerance {tolerance:g}: must be positive and below the range")
    if replications < 10:
        raise StressError("--replications: at least 10 runs per point")
    seed = sc.seed if seed is None else int(seed)
    steps = math.ceil(math.log2((high - low) / (SCAN_POINTS - 1) / tolerance))
    budget = (SCAN_POINTS + 1 + max(steps, 0)) * replications
    progress = _Progress(executor.on_progress, budget)

    evaluated: dict[float, pd.DataFrame] = {}

    def evaluate(values) -> None:
        values = [v for v in values if v not in evaluated]
        variants = [shock_variant(sc, shocks, **{vary: float(v)}) for v in values]
        if not values:
            return
        absent = [shock_absent(sc, shocks)] if not evaluated else []
        tables = paired_outcomes(variants + absent, seed, replications, executor.reporting(
            progress.within(len(variants) + (not evaluated))))
        if not evaluated:
            evaluate.baseline = tables.pop()
        evaluated.update(zip(values, tables))

    def p(v) -> float:
        return float(evaluated[v]["delivered"].mean())

    scan = list(np.linspace(low, high, SCAN_POINTS))
    evaluate(scan)
    notes = []
    ps = [p(v) for v in scan]
    crossing = crossing_ci = None
    label = f"{_describe(shocks)}, varying its {vary}"
    if ps[0] < threshold:
        status = "below_from_the_start"
        message = (f"already below {threshold:.0%} at {vary} {low:g} (P(deliver) {ps[0]:.1%}), "
                   f"so there is no breaking point to find; over the range it goes from "
                   f"{ps[0]:.1%} to {ps[-1]:.1%} at {high:g} ({label})")
    else:
        below = [i for i in range(1, len(scan)) if ps[i] < threshold]
        if not below:
            status = "none_in_range"
            worst = int(np.argmin(ps))
            message = (f"no breaking point within {vary} {low:g} to {high:g}: P(deliver) stays "
                       f"at or above {threshold:.0%} (lowest {ps[worst]:.1%}, at "
                       f"{scan[worst]:g}) ({label})")
        else:
            i = below[0]
            a, b = scan[i - 1], scan[i]
            while b - a > tolerance:
                mid = (a + b) / 2
                evaluate([mid])
                a, b = (mid, b) if p(mid) >= threshold else (a, mid)
            crossing = _interpolate(a, p(a), b, p(b), threshold)
            values = sorted(evaluated)
            D = np.stack([evaluated[v]["delivered"].to_numpy(bool) for v in values])
            crossing_ci, undefined = _bootstrap_crossing(np.array(values), D, threshold, seed)
            status = "crossing"
            message = (f"P(deliver) falls below {threshold:.0%} at {vary} {crossing:.3f} "
                       f"[95% CI {crossing_ci[0]:.3f}, {crossing_ci[1]:.3f}] ({label})")
            if undefined > 0.025:
                notes.append(f"in {undefined:.0%} of bootstrap resamples the curve did not "
                             "cross the threshold in range: the crossing is poorly determined")
            if len(below) > 1 and any(ps[j] >= threshold for j in range(i, len(scan))):
                notes.append("the curve crosses the threshold more than once; the first "
                             "crossing is reported")
    values = sorted(evaluated)
    curve = pd.DataFrame([{vary: v, **_point(evaluated[v]),
                           "stage": "scan" if v in scan else "bisection"} for v in values])
    rises = np.diff(curve["p_deliver"].to_numpy())
    if (rises > 0.02).any():
        notes.append("P(deliver) rises somewhere along the range by more than 2 points: the "
                     "shock is not uniformly harmful")
    baseline = _point(evaluate.baseline)
    settings = {"shocks": shocks, "vary": vary, "range": [low, high], "threshold": threshold,
                "replications": replications, "tolerance": tolerance, "seed": seed,
                "evaluations": len(values) + 1}
    return BreakingPoint(sc, shocks, vary, threshold, curve, baseline, status, crossing,
                         crossing_ci, message, settings, notes)


def _interpolate(a, pa, b, pb, threshold) -> float:
    """Where the straight line from (a, pa) to (b, pb) meets the threshold."""
    if pa == pb:
        return (a + b) / 2
    return float(a + (pa - threshold) / (pa - pb) * (b - a))


def first_crossing(values: np.ndarray, P: np.ndarray, threshold: float) -> np.ndarray:
    """The first downward crossing of `threshold` by each row of P [B, V] (a curve over the
    ascending `values`), linearly interpolated; NaN where a row starts below it or never
    falls below it."""
    above = P >= threshold
    falls = above[:, :-1] & ~above[:, 1:]
    has = falls.any(axis=1) & above[:, 0]
    i = np.argmax(falls, axis=1)
    rows = np.arange(len(P))
    a, b, pa, pb = values[i], values[i + 1], P[rows, i], P[rows, i + 1]
    t = np.where(pa != pb, (pa - threshold) / np.where(pa != pb, pa - pb, 1.0), 0.5)
    return np.where(has, a + t * (b - a), np.nan)


def _bootstrap_crossing(values, D, threshold, seed) -> tuple[tuple[float, float], float]:
    """95% percentile interval of the crossing over bootstrap resamples of the replications
    (every curve point resampled together, since the replications are paired), and the
    share of resamples without a crossing."""
    rng = np.random.default_rng([seed, 0x5EED])
    R = D.shape[1]
    counts = rng.multinomial(R, np.full(R, 1.0 / R), size=BOOTSTRAP)
    P = counts @ D.T.astype(float) / R
    x = first_crossing(values, P, threshold)
    ok = x[~np.isnan(x)]
    if not len(ok):
        return (math.nan, math.nan), 1.0
    return (float(np.percentile(ok, 2.5)), float(np.percentile(ok, 97.5))), 1 - len(ok) / len(x)


class _Progress:
    """One overall count across successive evaluations (the bisection's length is known only
    roughly in advance, so the total is an estimate that grows if need be)."""

    def __init__(self, callback, total: int):
        self.callback, self.total, self.done = callback, total, 0

    def within(self, variants: int):
        if self.callback is None:
            return None
        start = self.done

        def report(done, total):
            self.done = start + done
            self.total = max(self.total, start + total)
            self.callback(self.done, self.total)
        return report


# --- timing -----------------------------------------------------------------------------------


@dataclass
class Timing:
    """P(deliver) with the shocks striking at each review, against their absence."""

    scenario: Scenario
    shocks: list[dict]
    table: pd.DataFrame          # one row per review: P(deliver), CI, harm and its CI
    baseline: dict
    early_late: dict             # mean harm early vs late, paired difference and CI
    message: str
    settings: dict

    @property
    def tables(self) -> dict:
        return {"timing": self.table}

    @property
    def summary(self) -> dict:
        return {"message": self.message, "baseline": self.baseline,
                "early_late": self.early_late,
                "headline": [["timing", self.message],
                             ["without the shock", _p_text(self.baseline)]]}


def shock_timing(scenario, shocks, *, magnitude: Optional[float] = None, cycles=None,
                 replications: int = 4000, seed: Optional[int] = None,
                 executor: Optional[Executor] = None) -> Timing:
    """Does the shock hurt more early or late? The same replications with the shocks at each
    review in `cycles` (default: every review, or 20 spread over a long horizon) and without
    them. Harm = P(deliver without) - P(deliver with), a paired difference. `magnitude` sets
    the size of shocks that do not give their own. Early and late are the first and second
    half of the reviews (with an odd number, the middle one belongs to neither)."""
    sc = as_scenario(scenario)
    shocks = [_as_mapping(s) for s in shocks]
    if not shocks:
        raise StressError("give at least one --shock")
    for s in shocks:
        if {"at_cycle", "rate"} & s.keys():
            raise StressError(f"{s['kind']}: the timing comparison strikes at each review in "
                              "turn; leave at_cycle and rate out")
        if magnitude is not None and "magnitude" not in s:
            s["magnitude"] = float(magnitude)
    _check(sc, [dict(s, at_cycle=1) for s in shocks])
    H = sc.horizon
    if cycles is None:
        cycles = np.linspace(1, H, min(H, 20)).round().astype(int).tolist()
    cycles = sorted({int(c) for c in cycles})
    if H < 2 or len(cycles) < 2:
        raise StressError("a timing comparison needs at least two reviews to compare")
    if replications < 10:
        raise StressError("--replications: at least 10 runs per point")
    seed = sc.seed if seed is None else int(seed)
    variants = [shock_variant(sc, shocks, at_cycle=c) for c in cycles]
    variants.append(shock_absent(sc, shocks))
    tables = paired_outcomes(variants, seed, replications, executor)
    absent = tables.pop()
    base = absent["delivered"].to_numpy(float)
    rows = []
    harms = []
    for c, t in zip(cycles, tables):
        d = t["delivered"].to_numpy(float)
        harm = base - d
        harms.append(harm)
        lo, hi = mean_interval(harm)
        rows.append({"at_cycle": c, **_point(t), "harm": harm.mean(), "harm_ci_low": lo,
                     "harm_ci_high": hi})
    table = pd.DataFrame(rows)
    half = len(cycles) // 2
    early_cycles, late_cycles = cycles[:half], cycles[len(cycles) - half:]
    early = np.mean(harms[:half], axis=0)
    late = np.mean(harms[len(cycles) - half:], axis=0)
    diff = early - late
    lo, hi = mean_interval(diff)
    early_late = {"early_cycles": early_cycles, "late_cycles": late_cycles,
                  "early_harm": float(early.mean()), "late_harm": float(late.mean()),
                  "difference": float(diff.mean()), "ci_low": lo, "ci_high": hi}
    worst = table.loc[table["harm"].idxmax()]
    if lo > 0:
        verdict = "early shocks hurt more"
    elif hi < 0:
        verdict = "late shocks hurt more"
    else:
        verdict = "no detectable difference between early and late shocks"
    message = (f"{verdict}: mean harm {early.mean():+.1%} in reviews {early_cycles[0]}-"
               f"{early_cycles[-1]} vs {late.mean():+.1%} in {late_cycles[0]}-{late_cycles[-1]} "
               f"(difference {diff.mean():+.1%}, 95% CI {lo:+.1%} to {hi:+.1%}); worst at "
               f"review {int(worst['at_cycle'])}: P(deliver) {worst['p_deliver']:.1%} vs "
               f"{base.mean():.1%} without ({_describe(shocks)})")
    settings = {"shocks": shocks, "cycles": cycles, "magnitude": magnitude,
                "replications": replications, "seed": seed}
    return Timing(sc, shocks, table, _point(absent), early_late, message, settings)
