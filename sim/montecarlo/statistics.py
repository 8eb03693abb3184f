"""Statistics over many runs: intervals for a share, a mean and a median, and the summary of a
Monte Carlo run's outcomes table (what one run amounted to is sim.partnership.outcomes).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from sim.partnership.behaviour import particles_of
from sim.partnership.behaviour import summary as behaviour_summary
from sim.partnership.outcomes import STATUSES

#: The standard normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054


def mean_interval(values) -> tuple[float, float]:
    """Normal-approximation 95% interval of a mean over many independent runs (for paired
    differences between variants, which are means of per-run differences)."""
    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    if len(x) < 2:
        return m, m
    low, high = mean_bounds(m, float(x.std(ddof=1)), len(x))
    return float(low), float(high)


def mean_bounds(mean, sd, n, z: float = Z95):
    """The 95% normal interval of means (arrays) from the runs' standard deviations `sd` over
    `n` runs each: mean -/+ z sd / sqrt(n)."""
    half = z * np.asarray(sd, dtype=float) / np.sqrt(n)
    return mean - half, mean + half


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (sound near 0 and 1, unlike the Wald one)."""
    if n == 0:
        return (math.nan, math.nan)
    low, high = wilson_bounds(successes, n, z)
    return (float(low), float(high))


def wilson_bounds(successes, n: int, z: float = Z95):
    """Wilson score intervals of several proportions (arrays of successes out of n each)."""
    k = np.asarray(successes, dtype=float)
    phat = k / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    low = np.where(k == 0, 0.0, np.maximum(0.0, centre - half))
    high = np.where(k == n, 1.0, np.minimum(1.0, centre + half))
    return low, high


@functools.lru_cache(maxsize=64)
def median_ranks(n: int, confidence: float = 0.95) -> tuple[int, int]:
    """Ranks (1-based) of the order statistics x_(l) <= x_(u) that bound the median of n
    runs with at least `confidence`, whatever their distribution: the number of runs below the
    median is Binomial(n, 1/2), so P(x_(l) <= median <= x_(u)) = 1 - 2 P(B <= l - 1). With
    fewer than 6 runs no pair reaches 95%, and the range (1, n) is given."""
    # scipy is imported here, not at the top: this module is on the path of refusing a bad
    # scenario, which must stay fast (docs/RELIABILITY.md)
    from scipy.special import bdtr

    k = np.arange(n // 2 + 1)
    below = bdtr(k, n, 0.5)                     # P(B <= k)
    ok = np.flatnonzero(below <= (1 - confidence) / 2)
    low = int(ok[-1]) + 1 if len(ok) else 1
    return low, n + 1 - low


def median_bounds(runs):
    """Distribution-free 95% intervals of medians: `runs` [points, n], each row one point's
    runs; the interval is the order statistics of median_ranks(n)."""
    runs = np.sort(np.asarray(runs, dtype=float), axis=-1)
    low, high = median_ranks(runs.shape[-1])
    return runs[..., low - 1], runs[..., high - 1]


def median_rank_bounds(n: int) -> tuple[int, int]:
    """median_ranks(n) as 0-based positions in the sorted runs."""
    low, high = median_ranks(n)
    return low - 1, high - 1


def summarise(outcomes, seed: int, top_paths: int = 5, scenario=None) -> dict:
    """The headline figures of a Monte Carlo run, as plain JSON-ready values; with the
    `scenario`, and when it draws its behaviour from a posterior, what that posterior is and
    which patterns it reproduces (`behaviour`, sim.partnership.behaviour.summary)."""
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
        # stumbling is the one class with runs on both sides of P(deliver)
        "stumbling_delivered": float(((outcomes["status"] == "stumbling")
                                      & outcomes["delivered"]).mean()) if n else math.nan,
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
        **({"behaviour": behaviour_summary(scenario)} if particles_of(scenario) else {}),
    }


def exits_by_cycle(outcomes, horizon: int) -> list[int]:
    """How many partners left at each review, over all runs (from the exit logs)."""
    counts = [0] * (horizon + 1)
    for log in outcomes.loc[outcomes["exits"] > 0, "exit_log"].tolist():
        for item in log.split("; "):
            counts[int(item.split("@", 1)[1].split("(", 1)[0])] += 1
    return counts
