"""Results folders and figures for sensitivity sweeps and two-factor maps."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sim.analysis.sensitivity import OUTPUTS, RANK_BY, SweepResult
from sim.results.save import Contents
from sim.results.text import literal_text


@literal_text
def indices_figure(result: SweepResult, output: str):
    """Bar chart of the ranking indices with their 95% CIs (Sobol: S1 and ST side by side);
    for Morris, the mu*-sigma plane."""
    frame = result.indices[result.indices["output"] == output]
    rank, conf = RANK_BY[result.method]
    if result.method == "morris":
        fig, ax = plt.subplots(figsize=(7, 5))
        ax.errorbar(frame["mu_star"], frame["sigma"].fillna(0), xerr=frame["mu_star_conf"],
                    fmt="o", color="#264653", ecolor="#8ab17d", capsize=3)
        for _, row in frame.head(8).iterrows():
            ax.annotate(row["factor"], (row["mu_star"], 0 if np.isnan(row["sigma"])
                                        else row["sigma"]), fontsize=7, xytext=(4, 2),
                        textcoords="offset points")
        ax.set_xlabel("mu* (mean absolute elementary effect)")
        ax.set_ylabel("sigma (interaction / non-linearity)")
    else:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(frame) + 1.8))
        y = np.arange(len(frame))[::-1]
        bars = [("S1", "S1_conf", "#8ab17d"), ("ST", "ST_conf", "#264653")] \
            if result.method in ("sobol", "fast") else [(rank, conf, "#264653")]
        h = 0.8 / len(bars)
        for j, (col, ci, colour) in enumerate(bars):
            err = frame[ci] if ci and ci in frame else None
            ax.barh(y + (j - (len(bars) - 1) / 2) * h, frame[col], height=h, xerr=err,
                    color=colour, label=col, capsize=2)
        ax.set_yticks(y, frame["factor"], fontsize=8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel("index (95% CI)" if conf else "index")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"{result.factors.scenario.name}\n{result.method} indices: {OUTPUTS[output]}",
                 fontsize=9)
    fig.tight_layout()
    return fig


def sweep_contents(result: SweepResult, sources=()) -> Contents:
    """The sweep's tables and summary, and one figure per analysed output."""
    return Contents(
        "sweep", result.settings, result.summary, result.tables, scenario=result.factors.scenario,
        figures={f"indices-{o}": indices_figure(result, o) for o in result.outputs})


@literal_text
def grid_figure(result, output: str):
    m = result.matrix(output)
    fig, ax = plt.subplots(figsize=(7, 5.5))
    xs, ys = m.columns.to_numpy(float), m.index.to_numpy(float)
    dx, dy = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2   # grid values are cell centres
    image = ax.imshow(m.to_numpy(), origin="lower", aspect="auto", cmap="viridis",
                      extent=[xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy],
                      vmin=0 if output.startswith("p_") else None,
                      vmax=1 if output.startswith("p_") else None)
    fig.colorbar(image, ax=ax, label=OUTPUTS[output])
    ax.set_xlabel(result.x.path)
    ax.set_ylabel(result.y.path)
    ax.set_title(f"{OUTPUTS[output]} ({result.settings['replications']} runs per cell)",
                 fontsize=9)
    fig.tight_layout()
    return fig


def grid_contents(result, sources=()) -> Contents:
    """The grid table and one heat map per output (and what the scenario drew its behaviour
    from, recorded by sim.save: folders.behaviour_record)."""
    return Contents(
        "grid", result.settings, result.summary, result.tables, scenario=result.scenario,
        figures={f"grid-{o}": grid_figure(result, o) for o in result.settings["outputs"]})
