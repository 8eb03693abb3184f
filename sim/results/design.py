"""Results folders and figures for a charter design (sim.analysis.robust_charters).

Figures:
* `tradeoff`: every charter on the fresh sample, expected net savings against P(deliver), each
  with its 95% intervals, coloured by the worst partner's regret; the draft and `against`
  charters marked, the recommended charters labelled (the draft is recommended when no charter
  found beats it by more than the search's resolution).
* `parallel`: the charters found (and the draft and `against` ones) across their clauses and
  objectives on parallel axes (every choice named at its place); the recommended charters in
  colour.
* `convergence`: the hypervolume of each seed's archive as its search went on (each on its own
  futures), and each seed's share of the pooled front on the fresh sample.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.charter_design import AGREE, OBJECTIVES
from sim.analysis.robust_charters import CharterDesign
from sim.results.save import Contents
from sim.results.text import literal_text

COLOURS = ("#264653", "#e76f51", "#2a9d8f", "#e9c46a", "#8ab17d", "#6d597a", "#f4a261",
           "#457b9d")


@literal_text
def tradeoff_figure(result: CharterDesign):
    t = result.table
    fig, ax = plt.subplots(figsize=(8, 5.5))
    regret = t["worst_regret_m"].to_numpy(float)
    for row, r in zip(t.itertuples(), regret):
        ax.errorbar(row.net_savings_m, row.p_deliver,
                    xerr=[[row.net_savings_m - row.net_savings_m_low],
                          [row.net_savings_m_high - row.net_savings_m]],
                    yerr=[[row.p_deliver - row.p_deliver_low],
                          [row.p_deliver_high - row.p_deliver]],
                    fmt="none", ecolor="#b0bec5", lw=1, zorder=1)
    found = (t["kind"] == "found").to_numpy()
    points = ax.scatter(t.loc[found, "net_savings_m"], t.loc[found, "p_deliver"],
                        c=regret[found], cmap="viridis_r", s=np.where(
                            t.loc[found, "recommended"], 70, 25), edgecolor="black",
                        linewidth=np.where(t.loc[found, "recommended"], 1.0, 0.2), zorder=3,
                        vmin=regret.min(), vmax=max(regret.max(), regret.min() + 1e-9))
    fig.colorbar(points, ax=ax, label="worst partner's 90th-percentile regret, £m")
    for row in t[~found].itertuples():
        ax.scatter(row.net_savings_m, row.p_deliver, marker="X" if row.kind == "draft" else "*",
                   s=150, color="#e76f51" if row.kind == "draft" else "#264653", zorder=4)
        ax.annotate(row.charter, (row.net_savings_m, row.p_deliver),
                    textcoords="offset points", xytext=(6, -12), fontsize=9)
    for row in t[t["recommended"] & (t["kind"] == "found")].itertuples():
        ax.annotate(row.charter, (row.net_savings_m, row.p_deliver), textcoords="offset points",
                    xytext=(6, 4), fontsize=9, weight="bold")
    ax.margins(x=0.2, y=0.1)            # room for the labels beside the points
    ax.set_xlabel("expected net savings, £m (net of the charter's own costs)")
    ax.set_ylabel("P(deliver the draft's business case)")
    n = result.settings["final_replications"]
    ax.set_title(f"Charters on {n:,} fresh futures (bold: recommended; bars: 95% intervals)",
                 fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


@literal_text
def parallel_figure(result: CharterDesign):
    """Parallel coordinates drawn here rather than with the EMA Workbench's ParallelAxes, which
    labels a categorical axis only by its codes' range (and orders its categories as a set):
    here every choice is named at its place on its axis, in the lever's own order."""
    t = result.table
    axes_ = []                                   # (label, positions [C], tick positions, texts)
    for lever in result.levers:
        values = t[lever.path]
        name = lever.path.removeprefix("charter.")
        if lever.kind == "values":
            order = list(lever.values) + [v for v in dict.fromkeys(values)
                                          if not any(lever.same(v, x) for x in lever.values)]
            k = max(len(order) - 1, 1)
            index = [next(i for i, x in enumerate(order) if lever.same(v, x)) for v in values]
            axes_.append((name, np.asarray(index) / k, np.arange(len(order)) / k,
                          [str(v) for v in order]))
        else:
            lo = min(lever.low, float(values.min()))
            hi = max(lever.high, float(values.max()))
            axes_.append((name, (values.to_numpy(float) - lo) / (hi - lo), [0, 1],
                          [f"{lo:g}", f"{hi:g}"]))
    for name, label in OBJECTIVES.items():
        values = t[name].to_numpy(float)
        lo, hi = float(values.min()), float(values.max())
        span = hi - lo if hi > lo else 1.0
        up = (values - lo) / span if name != "worst_regret_m" else (hi - values) / span
        ends = [f"{lo:.3g}", f"{hi:.3g}"] if name != "worst_regret_m" else \
            [f"{hi:.3g}", f"{lo:.3g}"]
        axes_.append((name, up, [0, 1], ends))
    x = np.arange(len(axes_))
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(axes_)), 5))
    lines = np.column_stack([a[1] for a in axes_])                   # [C, axes]

    def draw(rows, **style):
        for i in np.flatnonzero(rows):
            ax.plot(x, lines[i], **style)

    found = (t["kind"] == "found").to_numpy()
    recommended = t["recommended"].to_numpy(bool) & found
    draw(found & ~recommended, color="#b0bec5", lw=0.8, zorder=1)
    for j, i in enumerate(np.flatnonzero(recommended)):
        ax.plot(x, lines[i], color=COLOURS[(j + 2) % len(COLOURS)], lw=2.2, zorder=3,
                label=t["charter"].iloc[i])
    for i in np.flatnonzero(~found):
        ax.plot(x, lines[i], color="#e76f51" if t["kind"].iloc[i] == "draft" else "#264653",
                lw=1.5, linestyle="--", zorder=2, label=t["charter"].iloc[i])
    for j, (name, _, ticks, texts) in enumerate(axes_):
        ax.axvline(j, color="black", lw=0.8, zorder=0)
        for tick, text in zip(ticks, texts):
            ax.annotate(text, (j, tick), textcoords="offset points", xytext=(3, 0),
                        fontsize=7, va="center")
    ax.set_xticks(x, [a[0] for a in axes_], rotation=20, ha="right", fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.05, 1.05)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Charters across their clauses and objectives (objectives: up is better)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def convergence_figure(result: CharterDesign):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4),
                                   gridspec_kw={"width_ratios": [2, 1]})
    for seed, g in result.trace.groupby("seed"):
        ax1.plot(g["nfe"], g["hypervolume"], color=COLOURS[(int(seed) - 1) % len(COLOURS)],
                 label=f"seed {seed}")
    ax1.set_xlabel("charters evaluated")
    ax1.set_ylabel("hypervolume of the archive (own futures)")
    ax1.set_title("Each search as it went on (each on its own futures:\ncompare "
                  "how each levels off, not heights between seeds)", fontsize=9)
    ax1.grid(alpha=0.3)
    if len(result.trace):
        ax1.legend(fontsize=8)
    c = result.convergence
    ax2.bar([f"seed {s}" for s in c["seed"]], c["share_of_pooled"].fillna(0),
            color=[COLOURS[(int(s) - 1) % len(COLOURS)] for s in c["seed"]])
    ax2.axhline(AGREE, color="black", lw=1, linestyle="--")
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("share of the pooled front's hypervolume")
    ax2.set_title("On the fresh sample", fontsize=10)
    fig.tight_layout()
    return fig


def figures(result: CharterDesign) -> dict:
    """The folder's figures by file name (without .png)."""
    return {"tradeoff": tradeoff_figure(result), "parallel": parallel_figure(result),
            "convergence": convergence_figure(result)}


def design_contents(result: CharterDesign, sources=()) -> Contents:
    """The design's tables and figures (sim.save keeps the design file, when one was used,
    given as files={"design.yaml": TEXT})."""
    return Contents("design", _plain_settings(result),
                    {**result.summary, "headline": result.headline}, result.tables,
                    figures(result), result.scenario)


def _plain_settings(result: CharterDesign) -> dict:
    return {**result.settings, "levers": [{"path": l.path, "values": l.describe()}
                                          for l in result.levers]}


def markdown(folder: Path) -> str:
    """A design folder's charters (the draft, `against` ones and the recommended) as the
    Markdown table docs/DESIGN-SEARCH.md shows."""
    t = pd.read_parquet(Path(folder) / "charters.parquet")
    lines = ["| charter | changes from the draft | P(deliver) (95% CI) | net savings | worst "
             "partner's regret |", "|---|---|---|---:|---:|"]
    for row in t[t["recommended"] | (t["kind"] != "found")].itertuples():
        lines.append(f"| {row.charter} | {row.changed} | {row.p_deliver:.1%} "
                     f"({row.p_deliver_low:.1%}-{row.p_deliver_high:.1%}) | "
                     f"£{row.net_savings_m:.2f}m | £{row.worst_regret_m:.2f}m |")
    return "\n".join(lines)


__all__ = ["convergence_figure", "design_contents", "figures", "markdown", "parallel_figure",
           "tradeoff_figure"]
