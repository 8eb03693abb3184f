"""The statistic library of the pattern register: named statistics of a Monte Carlo run's
tables, each with a 95% interval from the replications.

Each statistic is a small function of a run's outcomes table (one row per replication, see
sim.partnership.outcomes), its time-series table (one row per replication and review), or of paired
tables (variants run on common random numbers and judged on the baseline's business-case
target, see sim.montecarlo.paired). Each returns an `Estimate`: the value and its 95% interval.
Shares
use the Wilson interval, means and paired differences the normal interval of a mean
(sim.partnership.outcomes); the others say how theirs is computed.

A statistic whose value is undefined on the runs (a share of no runs, a ratio over nothing)
is NaN, and a NaN is never reproduced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

from sim.montecarlo.statistics import Z95, mean_interval, median_rank_bounds, wilson_interval

if TYPE_CHECKING:   # the tables are pandas DataFrames; loading a register needs no pandas
    import pandas as pd

__all__ = [
    "Estimate", "FLAGS", "flag", "share", "share_delivered", "share_any_exit", "share_dissolved",
    "share_status", "share_break_even_by", "mean", "median", "correlation", "share_ratio",
    "exit_reason_share", "hazard", "regained_share", "paired_difference", "shock_harm",
    "shock_harm_ratio",
]


@dataclass(frozen=True)
class Estimate:
    """A statistic's value and its 95% interval from the replications."""

    value: float
    low: float
    high: float


NAN = Estimate(math.nan, math.nan, math.nan)

#: The yes/no outcomes of a run that shares, share ratios and paired differences count.
FLAGS = {
    "delivered": lambda t: t["delivered"].to_numpy(bool),
    "not_delivered": lambda t: ~t["delivered"].to_numpy(bool),
    "any_exit": lambda t: t["exits"].to_numpy() > 0,
    "dissolved": lambda t: t["dissolved"].to_numpy(bool),
}


def flag(table: pd.DataFrame, outcome: str) -> np.ndarray:
    """A yes/no outcome (FLAGS) per replication, as booleans."""
    return FLAGS[outcome](table)


def share(hits) -> Estimate:
    """The share of true values, with its Wilson interval."""
    hits = np.asarray(hits, bool)
    k, n = int(hits.sum()), len(hits)
    if n == 0:
        return NAN
    return Estimate(k / n, *wilson_interval(k, n))


def _share_of(k: int, n: int) -> Estimate:
    return Estimate(k / n, *wilson_interval(k, n)) if n else NAN


# --- shares of runs -----------------------------------------------------------------------


def share_delivered(outcomes: pd.DataFrame) -> Estimate:
    """P(deliver): the share of runs that delivered the business case."""
    return share(flag(outcomes, "delivered"))


def share_any_exit(outcomes: pd.DataFrame) -> Estimate:
    """P(any exit): the share of runs in which at least one partner left."""
    return share(flag(outcomes, "any_exit"))


def share_dissolved(outcomes: pd.DataFrame) -> Estimate:
    """P(dissolved): the share of runs in which the partnership dissolved."""
    return share(flag(outcomes, "dissolved"))


def share_status(outcomes: pd.DataFrame, status: str) -> Estimate:
    """The share of runs that ended with `status` (thriving, stumbling, crumbling,
    dissolved)."""
    return share(outcomes["status"].to_numpy() == status)


def share_break_even_by(outcomes: pd.DataFrame, review: int) -> Estimate:
    """The share of runs whose cumulative net savings turned positive by `review` (runs that
    never broke even count as not)."""
    return share(outcomes["break_even_cycle"].to_numpy(float) <= review)


# --- summaries of an outcome column -----------------------------------------------------------


def _defined(values) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def mean(outcomes: pd.DataFrame, column: str) -> Estimate:
    """The mean of an outcome column over the runs where it is defined (e.g. savings_pct,
    final_mean_trust, first_exit_cycle), with the normal interval of a mean."""
    x = _defined(outcomes[column])
    if not len(x):
        return NAN
    return Estimate(float(x.mean()), *mean_interval(x))


def _median(x: np.ndarray) -> Estimate:
    """The median and its exact distribution-free interval (order statistics:
    sim.montecarlo.statistics.median_rank_bounds)."""
    if not len(x):
        return NAN
    s = np.sort(x)
    lo, hi = median_rank_bounds(len(s))
    return Estimate(float(np.median(s)), float(s[lo]), float(s[hi]))


def median(outcomes: pd.DataFrame, column: str) -> Estimate:
    """The median of an outcome column over the runs where it is defined (e.g.
    break_even_cycle over the runs that broke even), with the order-statistic interval."""
    return _median(_defined(outcomes[column]))


def correlation(outcomes: pd.DataFrame, x: str, y: str, method: str = "pearson") -> Estimate:
    """The correlation between two outcome columns over the runs where both are defined
    (`pearson`, or `spearman` on ranks), with the Fisher z interval. An outcomes table has one
    column per sampled input (e.g. charter.business_case.savings_potential) besides the
    outcomes; yes/no outcomes count as 0/1. NaN if either column is constant."""
    a, b = outcomes[x].astype(float), outcomes[y].astype(float)
    both = (a.notna() & b.notna()).to_numpy()
    a, b = a[both], b[both]
    if method == "spearman":
        a, b = a.rank(), b.rank()
    a, b = a.to_numpy(), b.to_numpy()
    n = len(a)
    if n < 4 or a.std() == 0 or b.std() == 0:
        return NAN
    r = float(np.corrcoef(a, b)[0, 1])
    if abs(r) >= 1:
        return Estimate(r, r, r)
    half = Z95 / math.sqrt(n - 3)
    z = math.atanh(r)
    return Estimate(r, math.tanh(z - half), math.tanh(z + half))


def share_ratio(outcomes: pd.DataFrame, outcome: str, by: str,
                fraction: float = 0.2) -> Estimate:
    """P(outcome) among the runs in the lowest `fraction` of column `by` divided by P(outcome)
    among those in the highest `fraction` (groups cut at the column's quantiles, ties
    included), with the Katz log interval of a ratio of two independent shares (0.5 added to
    each count when one is zero). Infinite if only the low group has the outcome."""
    hits = flag(outcomes, outcome)
    column = outcomes[by].astype(float)
    low = (column <= column.quantile(fraction)).to_numpy()
    high = (column >= column.quantile(1 - fraction)).to_numpy()
    a, n1 = int(hits[low].sum()), int(low.sum())
    c, n2 = int(hits[high].sum()), int(high.sum())
    if not n1 or not n2 or (a == 0 and c == 0):
        return NAN
    value = math.inf if c == 0 else (a / n1) / (c / n2)
    if a == 0 or c == 0:
        a, c, n1, n2 = a + 0.5, c + 0.5, n1 + 1, n2 + 1
    log_ratio = math.log((a / n1) / (c / n2))
    half = Z95 * math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    return Estimate(value, math.exp(log_ratio - half), math.exp(log_ratio + half))


# --- exits -------------------------------------------------------------------------------------


def exit_reason_share(outcomes: pd.DataFrame, reason: str) -> Estimate:
    """Among the runs in which a partner left, the share whose first leaver gave `reason`
    (benefit, fairness, vision, values, trust, control, or forced by a shock)."""
    first = outcomes["first_exit_reason"].to_numpy(object)
    left = first != ""
    return _share_of(int((first[left] == reason).sum()), int(left.sum()))


#: The review an event first happened at, per run (NaN if it never did).
EVENT_CYCLE = {"any_exit": "first_exit_cycle", "dissolved": "dissolution_cycle"}


def hazard(outcomes: pd.DataFrame, event: str, reviews: tuple[int, int]) -> Estimate:
    """The hazard of `event` (any_exit: a first partner leaves; dissolved) over reviews
    [first, last]: among the runs in which it had not happened before review `first`, the
    share in which it happens at one of those reviews (Wilson interval)."""
    first, last = reviews
    at = outcomes[EVENT_CYCLE[event]].to_numpy(float)
    at_risk = ~(at < first)            # NaN (never) is at risk throughout
    happens = (at >= first) & (at <= last)
    return _share_of(int(happens.sum()), int(at_risk.sum()))


# --- trust over time -----------------------------------------------------------------------


def trust_paths(timeseries: pd.DataFrame) -> np.ndarray:
    """Mean trust per replication (rows, in replication order) and review (columns, 0 =
    signing)."""
    ordered = timeseries.sort_values(["replication", "cycle"], kind="stable")
    reviews = int(timeseries["cycle"].max()) + 1
    return ordered["mean_trust"].to_numpy(float).reshape(-1, reviews)


def regained_share(timeseries: pd.DataFrame, dip: float = 0.05, within: int = 5) -> Estimate:
    """Of the runs whose mean trust fell more than `dip` below its level at signing at some
    review 1..`within`, the share whose mean trust at the horizon is back at least at its
    level at signing (Wilson interval)."""
    trust = trust_paths(timeseries)
    dipped = trust[:, 1:within + 1].min(axis=1) < trust[:, 0] - dip
    regained = dipped & (trust[:, -1] >= trust[:, 0])
    return _share_of(int(regained.sum()), int(dipped.sum()))


# --- paired statistics (common random numbers, the baseline's target) ----------------------


def _per_run(table: pd.DataFrame, outcome: str) -> np.ndarray:
    if outcome in FLAGS:
        return flag(table, outcome).astype(float)
    return table[outcome].to_numpy(float)


def paired_difference(baseline: pd.DataFrame, variant: pd.DataFrame, outcome: str = "delivered",
                      summary: str = "mean") -> Estimate:
    """The variant's outcome minus the baseline's, replication by replication, on common
    random numbers and judged on the baseline's target (the tables of
    sim.montecarlo.paired.on_common_target), summarised by the `mean` (for a yes/no outcome: the
    difference in shares) or the `median` of the differences. `outcome` is a yes/no outcome
    (FLAGS) or a numeric column kept for paired runs (net_savings_m, savings_pct,
    final_mean_trust, exits)."""
    d = _per_run(variant, outcome) - _per_run(baseline, outcome)
    if summary == "median":
        return _median(d)
    return Estimate(float(d.mean()), *mean_interval(d))


def _harms(absent: pd.DataFrame, struck: Mapping[int, pd.DataFrame], reviews):
    """The P(deliver) lost to the shock struck at each of `reviews`, per replication (a row
    per review), and its mean harm over them: the mean of each review's mean harm (the order
    sim.analysis.validation sums in, so a figure on a rounding boundary is written the same
    way)."""
    base = _per_run(absent, "delivered")
    per_review = np.array([base - _per_run(struck[c], "delivered") for c in reviews])
    return per_review, float(np.mean([h.mean() for h in per_review]))


def shock_harm(absent: pd.DataFrame, struck: Mapping[int, pd.DataFrame],
               reviews: list[int]) -> Estimate:
    """Harm of a shock: P(deliver) without it minus P(deliver) with it striking at a review,
    paired, averaged over `reviews` (the tables of the shock absent, and struck at each
    review, on common random numbers); the interval is that of the mean of each
    replication's harm averaged over the reviews."""
    per_review, value = _harms(absent, struck, reviews)
    low, high = mean_interval(per_review.mean(axis=0))
    centre = (low + high) / 2
    return Estimate(value, value - (centre - low), value + (high - centre))


def shock_harm_ratio(absent: pd.DataFrame, struck: Mapping[int, pd.DataFrame],
                     early: list[int], late: list[int]) -> Estimate:
    """The mean harm of the shock struck at the `late` reviews divided by its mean harm at
    the `early` ones (see shock_harm), with the delta-method interval of a ratio of two
    paired means. NaN if the early shock does no harm on average."""
    early_runs, e_bar = _harms(absent, struck, early)
    late_runs, l_bar = _harms(absent, struck, late)
    if e_bar == 0:
        return NAN
    r = l_bar / e_bar
    e, l = early_runs.mean(axis=0), late_runs.mean(axis=0)
    n = len(e)
    if n < 2:
        return Estimate(r, r, r)
    cov = np.cov(l, e)
    var = (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / (n * e_bar * e_bar)
    half = Z95 * math.sqrt(max(var, 0.0))
    return Estimate(r, r - half, r + half)
