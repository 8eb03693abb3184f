"""Figures of a Monte Carlo run: savings against the business case, trust, outcome shares."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt

from sim.partnership.outcomes import STATUSES
from sim.results.folders import save_figure
from sim.results.text import literal_text

STATUS_COLOURS = {"thriving": "#2a9d8f", "stumbling": "#e9c46a", "crumbling": "#f4a261",
                  "dissolved": "#e76f51"}


def _bands(ax, timeseries, column, colour, label):
    g = timeseries.groupby("cycle")[column]
    q = g.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    x = q.index.values
    ax.fill_between(x, q[0.05], q[0.95], color=colour, alpha=0.18, lw=0, label="5-95%")
    ax.fill_between(x, q[0.25], q[0.75], color=colour, alpha=0.35, lw=0, label="25-75%")
    ax.plot(x, q[0.5], color=colour, lw=2, label=f"median {label}")


@literal_text
def savings_fan(timeseries, title: str):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    _bands(ax, timeseries, "pct_business_case", "#264653", "net savings")
    ax.axhline(100, color="#e76f51", ls="--", lw=1.5, label="business case")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("review cycle (6 months)")
    ax.set_ylabel("cumulative net savings, % of business case")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


@literal_text
def trust_over_time(timeseries, title: str):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    live = timeseries[~timeseries["dissolved"].astype(bool)]
    _bands(ax, live, "mean_trust", "#2a9d8f", "mean trust")
    low = live.groupby("cycle")["min_trust"].median()
    ax.plot(low.index, low.values, color="#e76f51", lw=1.5, ls=":", label="median lowest trust")
    ax.set_ylim(0, 1)
    ax.set_xlabel("review cycle (6 months)")
    ax.set_ylabel("trust between partners")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


@literal_text
def outcome_shares(summary: dict, title: str):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2),
                                   gridspec_kw={"width_ratios": [1, 1.6]})
    shares = [summary["status_shares"][s] for s in STATUSES]
    ax1.bar(STATUSES, shares, color=[STATUS_COLOURS[s] for s in STATUSES])
    for i, v in enumerate(shares):
        ax1.text(i, v + 0.01, f"{v:.0%}", ha="center", fontsize=9)
    ax1.set_ylim(0, max(shares + [0.1]) * 1.15)
    ax1.tick_params(axis="x", labelrotation=25, labelsize=9)
    ax1.set_ylabel("share of runs")
    ax1.set_title("outcome")
    paths = summary.get("failure_paths", {})
    if paths:
        labels = list(paths)[::-1]
        ax2.barh(range(len(labels)), [paths[k] for k in labels], color="#e76f51")
        ax2.set_yticks(range(len(labels)), [_wrap(k) for k in labels], fontsize=8)
        ax2.set_xlabel("share of all runs")
    else:
        ax2.text(0.5, 0.5, "no failures", ha="center", va="center")
        ax2.set_axis_off()
    ax2.set_title("most common failure paths")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int = 38) -> str:

    return "\n".join(textwrap.wrap(text, width))


def save(fig, path) -> None:
    """Save a figure as PNG (written to a temporary file and renamed into place) and close it."""

    save_figure(fig, path)
