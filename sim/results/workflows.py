"""Results folders and figures for stress tests, charter comparisons and scenario discovery."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sim.analysis.comparison import Comparison
from sim.analysis.discovery import FAILURES, Discovery
from sim.analysis.stress import BreakingPoint, Timing
from sim.results.save import Contents
from sim.results.text import literal_text
from sim.scenario.loading import read_scenario_text

INK, BAND, MARK, ALERT = "#264653", "#8ab17d", "#e9c46a", "#e76f51"


# --- stress -------------------------------------------------------------------------------------


@literal_text
def breaking_point_figure(result: BreakingPoint):
    """P(deliver) against the shock's magnitude or rate with 95% CIs, the threshold, the
    no-shock level and the crossing with its bootstrap CI."""
    c = result.curve
    x = c[result.vary].to_numpy()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.fill_between(x, c["ci_low"], c["ci_high"], color=BAND, alpha=0.35, label="95% CI")
    ax.plot(x, c["p_deliver"], color=INK, lw=1.8, label="P(deliver)")
    scan = c["stage"] == "scan"
    ax.plot(x[scan], c["p_deliver"][scan], "o", color=INK, ms=5, label="scan")
    ax.plot(x[~scan], c["p_deliver"][~scan], "o", color=MARK, ms=5, mec=INK,
            label="bisection")
    ax.axhline(result.threshold, color=ALERT, ls="--", lw=1,
               label=f"threshold {result.threshold:.0%}")
    ax.axhline(result.baseline["p_deliver"], color="grey", ls=":", lw=1,
               label=f"without the shock {result.baseline['p_deliver']:.0%}")
    if result.crossing is not None:
        lo, hi = result.crossing_ci
        ax.axvspan(lo, hi, color=ALERT, alpha=0.12)
        ax.axvline(result.crossing, color=ALERT, lw=1.5,
                   label=f"breaking point {result.crossing:.3f}")
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"{result.vary} of {', '.join(s['kind'] for s in result.shocks)}")
    ax.set_ylabel("P(deliver the business case)")
    ax.set_title(_wrap(f"{result.scenario.name}: {result.message}"), fontsize=8)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


@literal_text
def timing_figure(result: Timing):
    t = result.table
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ax.errorbar(t["at_cycle"], t["p_deliver"], yerr=[t["p_deliver"] - t["ci_low"],
                                                      t["ci_high"] - t["p_deliver"]],
                fmt="o-", color=INK, ecolor=BAND, capsize=3, label="with the shock")
    ax.axhline(result.baseline["p_deliver"], color="grey", ls=":",
               label=f"without it {result.baseline['p_deliver']:.0%}")
    ax.set_xlabel("review the shock strikes at")
    ax.set_ylabel("P(deliver the business case)")
    ax.set_ylim(0, 1)
    ax.set_title(_wrap(f"{result.scenario.name}: {result.message}"), fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def breaking_point_contents(result: BreakingPoint, sources=()) -> Contents:
    return Contents("stress", result.settings, result.summary, result.tables,
                    {"breaking_point": breaking_point_figure(result)}, result.scenario)


def timing_contents(result: Timing, sources=()) -> Contents:
    return Contents("stress", result.settings, result.summary, result.tables,
                    {"timing": timing_figure(result)}, result.scenario)


# --- compare ------------------------------------------------------------------------------------


@literal_text
def comparison_figure(result: Comparison):
    """P(deliver) with CIs, and each variant's regret distribution (net savings short of the
    best variant in the same replication)."""
    t = result.table
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 0.5 * len(t) + 3.2))
    y = np.arange(len(t))[::-1]
    a.barh(y, t["p_deliver"], color=INK, xerr=[t["p_deliver"] - t["ci_low"],
                                                 t["ci_high"] - t["p_deliver"]],
           ecolor=BAND, capsize=3)
    a.set_yticks(y, [_wrap(v, 28) for v in t["variant"]], fontsize=8)
    a.set_xlim(0, 1)
    a.set_xlabel("P(deliver the business case), 95% CI")
    runs = result.runs
    money = runs.pivot(index="replication", columns="variant", values="net_savings_m")
    regret = money.max(axis=1).to_numpy()[:, None] - money.to_numpy()
    order = [list(money.columns).index(v) for v in t["variant"]]
    b.boxplot([regret[:, i] for i in order][::-1], vert=False, showfliers=False,
              tick_labels=[""] * len(order))
    b.set_xlabel("regret: £m short of the best charter in the same run")
    fig.suptitle(_wrap(f"{result.message}", 150), fontsize=8)
    fig.tight_layout()
    return fig


def comparison_contents(result: Comparison, sources=()) -> Contents:
    """The comparison's tables and figure; with the `sources` compared (files), a copy of
    each, and their list in the settings."""
    return Contents(
        "compare", {**result.settings, **({"sources": list(sources)} if sources else {})},
        result.summary, result.tables, {"comparison": comparison_figure(result)},
        result.variants[0],
        files={f"source-{i + 1}-{Path(s).name}": read_scenario_text(s)
               for i, s in enumerate(sources)})


# --- discover -----------------------------------------------------------------------------------


@literal_text
def tradeoff_figure(result: Discovery):
    """PRIM's peeling trajectory of each box: coverage against density, coloured by how many
    conditions are restricted, the reported box circled."""
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    for b in result.boxes:
        tr = b.trajectory
        points = ax.scatter(tr["coverage"], tr["density"], c=tr["res_dim"], cmap="viridis",
                            s=14, marker="o" if b.number == 1 else "s")
        ax.scatter([b.coverage], [b.density], s=160, facecolors="none", edgecolors=ALERT,
                   lw=1.5)
        ax.annotate(f"box {b.number}", (b.coverage, b.density), xytext=(6, 6),
                    textcoords="offset points", fontsize=8)
    if result.boxes:
        fig.colorbar(points, ax=ax, label="conditions restricted")
    ax.axhline(result.density_floor, color=ALERT, ls="--", lw=1,
               label=f"least density reported {result.density_floor:.0%}")
    ax.axhline(result.base_rate, color="grey", ls=":", lw=1,
               label=f"overall {result.base_rate:.0%}")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of failing runs inside the box)")
    ax.set_ylabel("density (share of runs in the box that fail)")
    ax.set_title(_wrap(f"{result.scenario.name}: PRIM peeling trade-off "
                       f"({FAILURES[result.failure]})"), fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


@literal_text
def box_limits_figure(result: Discovery, box):
    """Each restricted condition's range inside the box (bar) within its sampled range."""
    lim = box.limits
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * max(len(lim), 1) + 1.8))
    y = np.arange(len(lim))[::-1]
    span = (lim["range_high"] - lim["range_low"]).replace(0, 1)
    lo = (lim["low"] - lim["range_low"]) / span
    hi = (lim["high"] - lim["range_low"]) / span
    ax.barh(y, [1] * len(lim), left=0, color="#eeeeee", height=0.6)
    ax.barh(y, hi - lo, left=lo, color=ALERT, height=0.6)
    for yi, (_, r), l_, h_ in zip(y, lim.iterrows(), lo, hi):
        ax.text(l_, yi + 0.36, f"{r['low']:.3g}", fontsize=7, ha="left")
        ax.text(h_, yi + 0.36, f"{r['high']:.3g}", fontsize=7, ha="right")
    ax.set_yticks(y, [_wrap(c, 40) for c in lim["condition"]], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 1], ["lowest sampled", "highest sampled"], fontsize=8)
    ax.set_title(_wrap(f"box {box.number}: {box.density:.0%} of runs inside "
                       f"{FAILURES[result.failure]} (coverage {box.coverage:.0%}, mass "
                       f"{box.mass:.0%})"), fontsize=9)
    fig.tight_layout()
    return fig


def discovery_contents(result: Discovery, sources=()) -> Contents:
    figures = {"prim_tradeoff": tradeoff_figure(result)}
    figures.update({f"box-{b.number}": box_limits_figure(result, b) for b in result.boxes})
    return Contents("discover", result.settings, result.summary, result.tables, figures,
                    result.scenario)


def _wrap(text: str, width: int = 110) -> str:

    return "\n".join(textwrap.wrap(str(text), width)) or str(text)
