"""A calibration's results folder: the posterior, what the evidence narrowed, each pattern's pass
rate, the conflicts, and figures (marginal posteriors against their priors; pairs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.analysis.calibration import IDENTIFIED, PASS_GOAL, Calibration
from sim.results.save import Contents


def headline(result: Calibration) -> list[str]:
    """The lines a person reads first (the summary and the HTML report show them)."""
    s = result.summary
    lines = [f"{s['calibrate_passing_80pct']} of {s['calibrate_patterns']} calibrate patterns "
             f"pass in at least {PASS_GOAL:.0%} of posterior-predictive draws; "
             f"{s['validate_passing_80pct']} of {s['validate_patterns']} validate patterns "
             "(out of sample)"]
    for _, row in result.contraction.iterrows():
        lines.append(f"{row['parameter']}: {row['q50']:.4g} (90% {row['q05']:.4g} to "
                     f"{row['q95']:.4g}; prior {row['prior_low']:.4g} to {row['prior_high']:.4g})"
                     f", narrowed {max(row['contraction'], 0):.0%}"
                     + ("" if row["contraction"] >= IDENTIFIED else ": not identified"))
    failing = result.patterns[~result.patterns["meets_goal"]]
    for _, row in failing.iterrows():
        lines.append(f"{row['role']} pattern '{row['name']}' passes in "
                     f"{row['pass_rate']:.0%} of draws")
    for _, row in result.conflicts.iterrows():
        lines.append(f"'{row['pattern']}' pulls against '{row['against']}' (phi {row['phi']:.2f};"
                     f" both pass in {row['both_pass']:.0%} of draws)")
    return lines


def figures(result: Calibration) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    priors = result.abc.priors
    post = result.posterior
    w = post["weight"].to_numpy()
    k = len(priors)
    fig, axes = plt.subplots(1, k, figsize=(3.2 * k, 2.8), squeeze=False)
    for ax, prior in zip(axes[0], priors):
        bins = np.linspace(prior.low, prior.high, 21)
        ax.hist(post[prior.path], bins=bins, weights=w, density=True, color="#4c72b0",
                label="posterior")
        ax.axhline(1.0 / (prior.high - prior.low), color="grey", ls="--", label="prior")
        ax.set_xlabel(prior.path, fontsize=8)
        ax.set_yticks([])
    axes[0][0].legend(fontsize=7)
    fig.suptitle("What the patterns say about each constant", fontsize=10)
    fig.tight_layout()
    out = {"marginals": fig}
    if k >= 2:
        fig2, grid = plt.subplots(k, k, figsize=(2.2 * k, 2.2 * k), squeeze=False)
        for i, a in enumerate(priors):
            for j, b in enumerate(priors):
                ax = grid[i][j]
                if i == j:
                    ax.hist(post[a.path], bins=np.linspace(a.low, a.high, 16), weights=w,
                            color="#4c72b0")
                else:
                    ax.scatter(post[b.path], post[a.path], s=4 + 300 * w, alpha=0.5,
                               color="#4c72b0")
                    ax.set_xlim(b.low, b.high)
                    ax.set_ylim(a.low, a.high)
                ax.tick_params(labelsize=6)
                if i == k - 1:
                    ax.set_xlabel(b.path, fontsize=6)
                if j == 0:
                    ax.set_ylabel(a.path, fontsize=6)
        fig2.tight_layout()
        out["pairs"] = fig2
    return out


def calibration_contents(result: Calibration, sources=()) -> Contents:
    """The posterior, what the evidence narrowed, the patterns, predictive draws, conflicts and
    generations, and the figures (sim.save records the register as the source)."""
    return Contents("calibrate", result.settings, {**result.summary, "headline": headline(result)},
                    result.tables, figures(result))


def markdown(folder: Path) -> str:
    """A calibration folder's two tables as Markdown (what docs/VALIDATION.md records)."""
    import pandas as pd

    folder = Path(folder)
    lines = ["| constant | prior | posterior median (90% interval) | narrowed | identified |",
             "|---|---|---|---:|---|"]
    for row in pd.read_parquet(folder / "contraction.parquet").itertuples():
        lines.append(f"| `{row.parameter}` | {row.prior_low:.4g} to {row.prior_high:.4g} | "
                     f"{row.q50:.4g} ({row.q05:.4g} to {row.q95:.4g}) | "
                     f"{max(row.contraction, 0):.0%} | "
                     f"{'yes' if row.contraction >= IDENTIFIED else 'no'} |")
    lines += ["", "| pattern | role | pass rate under the posterior | at the defaults |",
              "|---|---|---:|---|"]
    for row in pd.read_parquet(folder / "patterns.parquet").itertuples():
        lines.append(f"| {row.name} | {row.role} | {row.pass_rate:.0%} | "
                     f"{'reproduced' if row.reproduced_at_defaults else 'not reproduced'} |")
    return "\n".join(lines)
