"""Results folders and figures for experiments (sim.analysis.experiment_file).

One figure per output. Per run: a full factorial of one or two factors shows every design
point, the output against the first factor with one line per level of the second, each point
with its 95% interval; any other design shows main effects, one panel per factor: the output's
mean at each level (or, for a continuous range, in each of up to eight bins of equal count) with
a 95% interval. Per review: the output over the reviews, one line per design point when there
are at most eight, otherwise one line per level (or one of up to four bins) of the first factor.

The intervals of a mean over design points: in a full factorial the points are the whole
population of cells, so the mean's interval comes from the cells' own intervals
(1.96 x sqrt(sum of squared standard errors) / n, each standard error half its cell's interval
width over 1.96); in a sampled design the points are a random sample, so it is the mean's usual
interval, 1.96 x standard deviation / sqrt(n), which holds the other factors' effects too.
"""

from __future__ import annotations

import hashlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.experiment_file import ExperimentResult, Factor
from sim.montecarlo.statistics import Z95
from sim.results.save import Contents
from sim.results.text import literal_text
from sim.scenario.output_names import OUTPUTS

#: At most this many lines (levels or design points) in one panel.
MAX_LINES = 8
COLOURS = ("#264653", "#e76f51", "#2a9d8f", "#e9c46a", "#8ab17d", "#6d597a", "#f4a261",
           "#457b9d")


def _label(output: str) -> str:
    return OUTPUTS.get(output, f"{output} (mean over the runs)")


def _numeric(factor: Factor) -> bool:
    return factor.field.kind != "category"


def _positions(factor: Factor, values) -> np.ndarray:
    """Where a factor's values go on an axis: numbers at themselves, choices at 0, 1, ..."""
    if _numeric(factor):
        return np.asarray(values, dtype=float)
    return np.asarray([factor.levels.index(v) for v in values], dtype=float)


def _category_ticks(ax, factor: Factor) -> None:
    if not _numeric(factor):
        ax.set_xticks(range(len(factor.levels)), [str(v) for v in factor.levels])


def _groups(factor: Factor, values: pd.Series,
            most: int = MAX_LINES) -> list[tuple[str, float, np.ndarray]]:
    """(label, axis position, rows) of each level of a factor, or each of up to `most` bins of
    equal count of a continuous one (at least ten points in each, where there are enough)."""
    if not factor.continuous:
        present = [v for v in factor.levels if (values == v).any()]
        return [(f"{factor.path} = {_text(v)}", float(_positions(factor, [v])[0]),
                 (values == v).to_numpy()) for v in present]
    x = values.to_numpy(float)
    bins = int(min(most, max(2, len(x) // 10)))
    edges = np.quantile(x, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1)
    return [(f"{factor.path} {edges[b]:.3g} to {edges[b + 1]:.3g}", float(x[which == b].mean()),
             which == b) for b in range(bins) if (which == b).any()]


def _mean(rows: pd.DataFrame, output: str, cells: bool) -> tuple[float, float, float]:
    """The mean of an output over design points, with its 95% interval (module's doc)."""
    value = rows[output].to_numpy(float)
    n = np.isfinite(value).sum()
    if n == 0:
        return np.nan, np.nan, np.nan
    mean = float(np.nanmean(value))
    if cells:
        half_widths = (rows[f"{output}_high"] - rows[f"{output}_low"]).to_numpy(float) / 2
        half = float(np.sqrt(np.nansum(half_widths ** 2)) / n)
    else:
        half = float(Z95 * np.nanstd(value, ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    return mean, mean - half, mean + half


def _text(value) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


def _title(ax, result: ExperimentResult, what: str) -> None:
    s = result.settings
    ax.figure.suptitle(f"{result.experiment.name}\n{what}; {s['repetitions']:,} runs per "
                       f"point, seed {s['seed']}", fontsize=9)


@literal_text
def points_figure(result: ExperimentResult, output: str):
    """Every design point of a one- or two-factor full factorial: the output against the first
    factor, one line per level of the second, 95% interval bars."""
    table, factors = result.table, list(result.experiment.factors)
    x_factor, by = factors[0], (factors[1] if len(factors) > 1 else None)
    if by is not None and len(by.levels) > MAX_LINES >= len(x_factor.levels):
        x_factor, by = by, x_factor
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    lines = [(None, np.ones(len(table), dtype=bool))] if by is None else \
        [(label, rows) for label, _, rows in _groups(by, table[by.path])]
    step = 0.012 * (np.ptp(_positions(x_factor, x_factor.levels)) or 1.0) \
        if _numeric(x_factor) else 0.05   # lines side by side, so their bars do not hide
    for j, (label, rows) in enumerate(lines):
        part = table[rows].copy()
        part["x"] = _positions(x_factor, part[x_factor.path])
        part = part.sort_values("x")
        dodge = (j - (len(lines) - 1) / 2) * step
        ax.errorbar(part["x"] + dodge, part[output],
                    yerr=[part[output] - part[f"{output}_low"],
                          part[f"{output}_high"] - part[output]],
                    marker="o", capsize=3, lw=1.4, color=COLOURS[j % len(COLOURS)], label=label)
    _category_ticks(ax, x_factor)
    ax.set_xlabel(x_factor.path)
    ax.set_ylabel(_label(output))
    if by is not None:
        ax.legend(fontsize=8)
    _title(ax, result, "each design point with its 95% interval")
    fig.tight_layout()
    return fig


@literal_text
def main_effects_figure(result: ExperimentResult, output: str):
    """One panel per factor: the output's mean at each level (or bin) with its 95% interval;
    in a sampled design, every design point behind it in grey."""
    table, factors = result.table, list(result.experiment.factors)
    cells = result.settings["design"] == "full_factorial"
    cols = min(3, len(factors))
    rows_ = -(-len(factors) // cols)
    fig, axes = plt.subplots(rows_, cols, figsize=(3.6 * cols + 0.6, 3.2 * rows_ + 0.8),
                             sharey=True, squeeze=False)
    for ax, factor in zip(axes.flat, factors):
        if not cells:
            ax.scatter(_positions(factor, table[factor.path]), table[output], s=6,
                       color="#b0bcc2", alpha=0.5, lw=0)
        found = [(x, *_mean(table[rows], output, cells))
                 for _, x, rows in _groups(factor, table[factor.path])]
        x, mean, low, high = (np.asarray(v, dtype=float) for v in zip(*found))
        ax.errorbar(x, mean, yerr=[mean - low, high - mean], marker="o", capsize=3,
                    color=COLOURS[0], lw=1.4)
        _category_ticks(ax, factor)
        ax.set_xlabel(factor.path, fontsize=8)
    for ax in axes.flat[len(factors):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(_label(output), fontsize=8)
    _title(axes.flat[0], result, "main effects: mean over the design points at each level, "
           "95% interval")
    fig.tight_layout()
    return fig


@literal_text
def reviews_figure(result: ExperimentResult, output: str):
    """The output over the reviews: one line per design point (at most eight), otherwise one
    per level (or one of up to four bins) of the first factor, with 95% bands."""
    table, exp = result.table, result.experiment
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    points = table["point"].unique()
    if len(points) <= MAX_LINES:
        design = table.groupby("point", sort=True).first()
        lines = [(", ".join(f"{f.path} = {_text(design.loc[p, f.path])}" for f in exp.factors),
                  table[table["point"] == p].set_index("review")
                  [[output, f"{output}_low", f"{output}_high"]]) for p in points]
        what = "each design point with its 95% band"
    else:
        factor = exp.factors[0]
        cells = result.settings["design"] == "full_factorial"
        lines = []
        for label, _, rows in _groups(factor, table[factor.path], most=4):
            part = table[rows]
            by_review = pd.DataFrame(
                [_mean(r, output, cells) for _, r in part.groupby("review", sort=True)],
                index=sorted(part["review"].unique()),
                columns=[output, f"{output}_low", f"{output}_high"])
            lines.append((label, by_review))
        what = f"mean over the design points at each level of {factor.path}, 95% band"
    for j, (label, frame) in enumerate(lines):
        colour = COLOURS[j % len(COLOURS)]
        ax.plot(frame.index, frame[output], color=colour, lw=1.4, label=label)
        ax.fill_between(frame.index, frame[f"{output}_low"], frame[f"{output}_high"],
                        color=colour, alpha=0.18, lw=0)
    ax.set_xlabel("review (six months each)")
    ax.set_ylabel(_label(output))
    ax.legend(fontsize=7)
    _title(ax, result, what)
    fig.tight_layout()
    return fig


def figures(result: ExperimentResult) -> dict:
    """The folder's figures by file name (without .png)."""
    exp = result.experiment
    if result.settings["per"] == "review":
        return {f"{o}-by-review": reviews_figure(result, o) for o in exp.outputs}
    factorial = result.settings["design"] == "full_factorial"
    small = len(exp.factors) <= 2 and (len(exp.factors) < 2 or min(
        len(f.levels) for f in exp.factors) <= MAX_LINES)
    draw = points_figure if factorial and small else main_effects_figure
    return {o: draw(result, o) for o in exp.outputs}


def experiment_contents(result: ExperimentResult, sources=()) -> Contents:
    """The table, one figure per output, copies of the experiment file and its scenario, and
    the experiment file in the manifest too."""
    exp = result.experiment
    return Contents(
        "experiment", result.settings, result.summary, result.tables,
        figures(result), exp.scenario, source=exp.scenario_path, source_text=exp.scenario_text,
        files={"experiment.yaml": exp.text, "scenario.yaml": exp.scenario_text},
        record={"experiment_name": exp.name, "experiment_path": exp.source,
                "experiment_sha256": hashlib.sha256(exp.text.encode()).hexdigest(),
                "experiment": exp.text})


__all__ = ["experiment_contents", "figures", "main_effects_figure", "points_figure",
           "reviews_figure"]

