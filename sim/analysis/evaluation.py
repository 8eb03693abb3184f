"""The model as a function of a design: field values in, one row of outputs per design point out.

    table = sim.evaluate("scenarios/three_councils.yaml",
                         {"partners.*.ambition": [0.2, 0.8], "charter.decision_rule":
                          ["unanimity", "majority"]}, replications=200)

A design names scenario fields by path (sim.scenario.fields): numbers, whole numbers and categories
alike, model parameters and the horizon too. Every design point is run `replications` times on
the vectorised engine, whole blocks of points at once, on the existing executors (a local pool
or Dask), in chunks that can be saved as they finish and picked up again.

How a design point's values reach the model:
- Fields that may be uncertain (partner traits, priorities, the charter's numbers, shock rates
  and magnitudes) are set in place, as quantiles of a uniform range spanning the design's
  column, so that thousands of points run as one vectorised block (as a sweep's points do).
  The value a run uses is the design's, to rounding (1e-15).
- Every other field (categories, whole numbers, `parameters.*`, `partner_similarity`) changes
  the scenario itself: points sharing those values run together on that scenario.
Every input the design does not set keeps its distribution and is drawn from each replication's
own stream. Point p's replication r draws from the stream (seed, sample p, replication r), as
in a sweep; with `common_random_numbers=True` every point uses sample 0 instead (the same luck
at every point, so two points differ only by their values).

Outputs are the sweep's scalars (sim.scenario.output_names.OUTPUTS) and time series:
`timeseries.NAME`
for any column of a run's time-series table gives its mean over the point's replications at
each review, as columns `NAME[0]` .. `NAME[horizon]`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from sim.montecarlo import files
from sim.montecarlo.executors import Executor, as_executor
from sim.montecarlo.memory import default_chunk_size, workers_for
from sim.montecarlo.statistics import mean_bounds, median_bounds, wilson_bounds
from sim.partnership.engine import run_batch
from sim.partnership.outcomes import vector_outcomes
from sim.scenario.fields import field_of
from sim.scenario.loading import ScenarioError, as_scenario
from sim.scenario.output_names import OUTPUTS, TIMESERIES_COLUMNS
from sim.scenario.schema import Scenario, suggest

SERIES = "timeseries."


def check_outputs(outputs, source: str = "outputs") -> tuple[str, ...]:
    """The outputs as a tuple, or a ScenarioError naming each unknown one (with a suggestion)."""
    outputs = (outputs,) if isinstance(outputs, str) else tuple(outputs)
    known = [*OUTPUTS, *(SERIES + c for c in TIMESERIES_COLUMNS if c != "cycle")]
    problems = [f"{o!r}: not an output{suggest(str(o), known)}; outputs: "
                f"{', '.join(OUTPUTS)}, or timeseries.COLUMN "
                f"({', '.join(c for c in TIMESERIES_COLUMNS if c != 'cycle')})"
                for o in outputs if o not in known]
    if not outputs:
        problems.append("no outputs asked for")
    if len(set(outputs)) < len(outputs):
        problems.append("an output is asked for twice")
    if problems:
        raise ScenarioError(source, problems)
    return outputs


def design_frame(design, names: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """A design as a DataFrame with one column per field path: from a DataFrame, a mapping
    path -> values (equal lengths; a single value is one point), or a 2-D array with `names`."""
    if isinstance(design, pd.DataFrame):
        frame = design.reset_index(drop=True)
    elif isinstance(design, Mapping):
        frame = pd.DataFrame({k: np.atleast_1d(np.asarray(v, dtype=object))
                              for k, v in design.items()})
    else:
        array = np.atleast_2d(np.asarray(design))
        if names is None or len(names) != array.shape[1]:
            raise ScenarioError("the design", [
                f"a {array.shape[1]}-column array needs `names`: one field path per column"])
        frame = pd.DataFrame(array, columns=list(names))
    if frame.columns.duplicated().any():
        raise ScenarioError("the design", ["a field is given twice"])
    if len(frame) == 0:
        raise ScenarioError("the design", ["no design points"])
    return frame


@dataclass
class _Plan:
    """How a design runs: the scenario variants (one per distinct value of the fields that
    change the scenario), and for each its rows and the quantile design of the in-place ones."""

    groups: list       # [(scenario, rows [P_g], input columns, quantile design [P_g, c])]
    horizon: int       # the longest of the variants' horizons (series are padded to it)


def plan(scenario: Scenario, frame: pd.DataFrame, source: str = "the design") -> _Plan:
    """Check every column and value of the design and group its points (see the module's doc)."""
    from sim.analysis.maps import fixed_design
    from sim.analysis.sensitivity import FactorError, FactorSpec

    fields_ = {c: field_of(scenario, str(c), source) for c in frame.columns}
    problems, checked = [], {}
    for col, field in fields_.items():
        values = []
        for v in frame[col].tolist():
            try:
                values.append(field.check(v))
            except ValueError as exc:
                problems.append(f"{col}: {exc}")
                break
        checked[col] = values
    if problems:
        raise ScenarioError(source, problems)
    in_place, spans = [], {}
    for col, field in fields_.items():
        values = checked[col]
        if field.sampled and all(isinstance(v, float) for v in values):
            low, high = min(values), max(values)
            if math.isfinite(low) and math.isfinite(high) and low < high:
                in_place.append(col)
                spans[col] = FactorSpec(col, low, high)
    structural = [c for c in frame.columns if c not in in_place]
    keys = list(zip(*(checked[c] for c in structural))) if structural else [()] * len(frame)
    rows_of: dict = {}
    for i, key in enumerate(keys):
        rows_of.setdefault(tuple(_hashable(v) for v in key), (key, []))[1].append(i)
    groups = []
    for key, rows in rows_of.values():
        variant = scenario.with_values(dict(zip(structural, key)), source=source) \
            if structural else scenario
        rows = np.asarray(rows, dtype=np.int64)
        values = np.column_stack([np.asarray(checked[c], dtype=float)[rows] for c in in_place]) \
            if in_place else np.zeros((len(rows), 0))
        try:
            sc, columns, quantiles = fixed_design(variant, [spans[c] for c in in_place], values)
        except FactorError as exc:
            raise ScenarioError(source, [str(exc)]) from None
        groups.append((sc, rows, columns, quantiles))
    return _Plan(groups, max(g[0].horizon for g in groups))


def _hashable(v):
    return repr(v) if isinstance(v, (dict, list)) else v


def evaluate_rows(scenario: Scenario, seed: int, quantiles: np.ndarray, columns: np.ndarray,
                  samples: np.ndarray, replications: int, outputs: tuple[str, ...],
                  horizon: int, intervals: bool = False, exact: bool = True) -> np.ndarray:
    """Outputs of some design points, [P, width] (scalars, then each series over reviews
    0..horizon, NaN past the scenario's own horizon; with `intervals` each value is followed
    by its 95% interval). Point p's replications draw from sample `samples[p]`; `exact`: the
    quantiles set values (a design), not the run's own uniforms (a sweep; see engine.draw). A
    top-level function for executors."""

    P = len(quantiles)
    point = np.repeat(np.arange(P), replications)
    reps = np.tile(np.arange(replications), P)
    run = run_batch(scenario, seed, reps, np.asarray(samples)[point], columns,
                    np.repeat(quantiles, replications, axis=0), exact=exact)
    parts = []
    scalars = [o for o in outputs if not o.startswith(SERIES)]
    if scalars:
        parts.append(point_summaries(vector_outcomes(run), P, scalars, intervals))
    for o in outputs:
        if o.startswith(SERIES):
            values = np.asarray(run.series[o[len(SERIES):]], dtype=float)
            values = values.reshape(P, replications, -1)                    # [P, R, H + 1]
            mean = values.mean(axis=1)
            found = [mean]
            if intervals:

                sd = values.std(axis=1, ddof=1) if replications > 1 else np.nan
                found += list(mean_bounds(mean, sd, replications))
            for series in found:
                pad = np.full((P, horizon + 1), np.nan)
                pad[:, :series.shape[1]] = series
                parts.append(pad)
    return np.column_stack(parts)


#: What each scalar output summarises: ("share", outcomes column or test) or ("mean"/"median",
#: outcomes column).
SUMMARIES = {
    "p_deliver": ("share", lambda t: t["delivered"]),
    "median_savings_pct": ("median", lambda t: t["savings_pct"]),
    "mean_savings_pct": ("mean", lambda t: t["savings_pct"]),
    "p_dissolved": ("share", lambda t: t["dissolved"]),
    "p_any_exit": ("share", lambda t: t["exits"] > 0),
    "p_thriving": ("share", lambda t: t["status"] == "thriving"),
    "mean_final_trust": ("mean", lambda t: t["final_mean_trust"]),
    "mean_exits": ("mean", lambda t: t["exits"]),
}


def point_summaries(table: pd.DataFrame, P: int, outputs: Sequence[str],
                    intervals: bool = False) -> np.ndarray:
    """Each design point's scalar outputs [P, len(outputs)] from its runs' outcomes rows (point
    p's runs are rows p*R .. p*R + R - 1); with `intervals`, each output's 95% interval follows
    it ([P, 3 * len(outputs)]: value, low, high): Wilson for shares, normal for means, the
    order-statistic interval for medians (sim.partnership.outcomes). sim.analysis.sensitivity's
    points use it too."""

    R = len(table) // P
    columns = []
    for o in outputs:
        how, pick = SUMMARIES[o]
        x = np.asarray(pick(table), dtype=float).reshape(P, R)
        if how == "median":
            value = np.median(x, axis=1)
            bounds = median_bounds(x) if intervals else ()
        else:
            value = x.mean(axis=1)
            if not intervals:
                bounds = ()
            elif how == "share":
                bounds = wilson_bounds(x.sum(axis=1), R)
            else:
                bounds = mean_bounds(value, x.std(axis=1, ddof=1) if R > 1 else np.nan, R)
        columns += [value, *bounds]
    return np.column_stack(columns)


def output_columns(outputs: Sequence[str], horizon: int, intervals: bool = False) -> list[str]:
    """The table's output columns: each scalar, and NAME[t] for t = 0..horizon per series; with
    `intervals`, each followed by its 95% bounds (`_low`, `_high`)."""
    ends = ("", "_low", "_high") if intervals else ("",)
    columns = []
    for o in outputs:
        if o.startswith(SERIES):
            name = o[len(SERIES):]
            columns += [f"{name}{end}[{t}]" for end in ends for t in range(horizon + 1)]
        else:
            columns += [f"{o}{end}" for end in ends]
    return columns


def _ordered(outputs: tuple[str, ...]) -> tuple[str, ...]:
    """Scalars first, then series (the order evaluate_rows returns them in)."""
    return tuple(o for o in outputs if not o.startswith(SERIES)) + \
        tuple(o for o in outputs if o.startswith(SERIES))


def evaluate(scenario, design, replications: int = 64, outputs=("p_deliver",),
             seed: Optional[int] = None, *, names: Optional[Sequence[str]] = None,
             common_random_numbers: bool = False, executor: Optional[Executor] = None,
             checkpoint: Optional[Path] = None, intervals: bool = False) -> pd.DataFrame:
    """Run every point of `design` (a DataFrame, a mapping path -> values, or an array with
    `names`) `replications` times; returns the design's columns and one column per output
    (see the module's doc). Wrong paths, values or outputs raise sim.ScenarioError before
    anything runs. With `intervals`, every output is followed by its 95% interval over the
    point's replications (`NAME_low`, `NAME_high`). The points run where `executor` says
    (progress in points). With `checkpoint` (a folder) each chunk's outputs are saved as it
    finishes and chunks already saved are not run again: an interrupted evaluation resumes, and
    ends identical."""

    executor = as_executor(executor)
    base = as_scenario(scenario)
    if int(replications) < 1:
        raise ValueError("replications must be at least 1")
    replications = int(replications)
    seed = base.seed if seed is None else int(seed)
    outputs = _ordered(check_outputs(outputs))
    frame = design_frame(design, names)
    how = plan(base, frame)
    names_out = output_columns(outputs, how.horizon, intervals)
    tasks, sizes = {}, {}
    largest = base
    for g, (sc, rows, columns, quantiles) in enumerate(how.groups):
        per_chunk = max(1, default_chunk_size(sc, "vector") // replications)
        if len(sc.partner_specs()) * sc.horizon > len(largest.partner_specs()) * largest.horizon:
            largest = sc
        samples = np.zeros(len(rows), dtype=np.int64) if common_random_numbers else rows
        for a in range(0, len(rows), per_chunk):
            tasks[(g, a)] = (evaluate_rows, (sc, seed, quantiles[a:a + per_chunk], columns,
                                             samples[a:a + per_chunk], replications, outputs,
                                             how.horizon, intervals))
            sizes[(g, a)] = len(rows[a:a + per_chunk])
    executor = executor.at_most(workers_for(
        largest, "vector", min(default_chunk_size(largest, "vector"),
                               replications * max(sizes.values())),
        executor.workers, setting="replications"))
    result = np.full((len(frame), len(names_out)), np.nan)
    saved = {}
    if checkpoint is not None:
        saved = _claim(Path(checkpoint), base, seed, frame, replications, outputs,
                       (common_random_numbers, intervals), list(tasks))
    done = 0
    for key, path in saved.items():
        if path.is_file():
            g, a = key
            rows = how.groups[g][1][a:a + sizes[key]]
            result[rows] = np.load(path)
            done += len(rows)
            del tasks[key]
    executor.progress(done, len(frame))
    for (g, a), values in executor.execute(tasks):
        if checkpoint is not None:
            files.write_npy(values, saved[(g, a)])
        rows = how.groups[g][1][a:a + sizes[(g, a)]]
        result[rows] = values
        done += len(rows)
        executor.progress(done, len(frame))
    table = frame.copy()
    for name, column in zip(names_out, result.T):
        table[name] = column
    table.attrs["settings"] = {"replications": replications, "seed": seed,
                               "outputs": list(outputs), "horizon": how.horizon,
                               "common_random_numbers": common_random_numbers,
                               "intervals": intervals}
    return table


def _claim(folder: Path, scenario: Scenario, seed: int, frame: pd.DataFrame, replications: int,
           outputs, crn: bool, keys) -> dict:
    """The checkpoint file of each chunk; saved chunks must belong to this very evaluation
    (same scenario, seed, design, runs and chunks): another's are refused, never mixed in."""
    digest = hashlib.sha256()
    for part in (scenario.model_dump_json(), seed, replications, outputs, crn, keys,
                 frame.to_json(orient="split", double_precision=15)):
        digest.update(repr(part).encode())
    mark = folder / "design.sha256"
    if mark.is_file():
        if files.read_json(mark) != digest.hexdigest():
            raise ValueError(f"{folder}: these saved points belong to a different evaluation")
    else:
        folder.mkdir(parents=True, exist_ok=True)
        files.write_json(mark, digest.hexdigest())
    return {key: folder / f"points-{key[0]:05d}-{key[1]:08d}.npy" for key in keys}


class Evaluator:
    """The model as a function of a design array: `f(X) -> Y`, X [points, len(names)] of field
    values, Y [points] (one output) or [points, outputs]. SALib's ProblemSpec.evaluate calls it
    as it is (`sp.evaluate(sim.Evaluator(scenario, sp["names"]))`); names and outputs are
    checked when it is built."""

    def __init__(self, scenario, names: Sequence[str], replications: int = 64,
                 outputs=("p_deliver",), seed: Optional[int] = None, **options):
        self.scenario = as_scenario(scenario)
        self.names = list(names)
        for name in self.names:
            field_of(self.scenario, name, "names")
        self.outputs = check_outputs(outputs)
        if any(o.startswith(SERIES) for o in self.outputs):
            raise ScenarioError("outputs", ["a design array's outputs must be scalars; use "
                                            "sim.evaluate for time series"])
        self.replications, self.seed, self.options = replications, seed, options

    def __call__(self, X, *args, **kwargs) -> np.ndarray:
        table = evaluate(self.scenario, np.asarray(X), self.replications, self.outputs,
                         self.seed, names=self.names, **{**self.options, **kwargs})
        Y = table[list(self.outputs)].to_numpy(dtype=float)
        return Y[:, 0] if len(self.outputs) == 1 else Y
