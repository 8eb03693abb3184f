"""Evaluating a pattern register: every distinct run its patterns need, simulated once, in one
batch of tasks; then each pattern's statistic, its interval, and whether it is reproduced.

Patterns that share a scenario (or a baseline and variant) share its runs, so a call costs
one simulation per distinct scenario, whatever the number of patterns. Every run draws
replication r from the same stream (root seed, r), so a variant is paired with its baseline
(common random numbers) and the table is the same whatever the workers, chunks or executor.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Mapping, Optional

import pandas as pd

from sim.analysis.patterns.register import Pattern, Register
from sim.analysis.stress import shock_absent, shock_variant
from sim.montecarlo.executors import Executor, as_executor
from sim.montecarlo.memory import default_chunk_size, workers_for
from sim.montecarlo.paired import KEPT, layout_of, on_common_target, outcomes_chunk
from sim.montecarlo.runs import chunks_of, run_chunk
from sim.scenario.schema import Scenario

#: Columns of the table evaluate_register returns.
COLUMNS = ("name", "role", "statistic", "unit", "value", "ci_low", "ci_high", "target",
           "target_low", "target_high", "uncertainty", "reproduced", "clearly_reproduced")


@dataclass(frozen=True)
class RunTables:
    """One run's tables: what a `run` statistic reads."""

    outcomes: pd.DataFrame
    timeseries: pd.DataFrame


@dataclass(frozen=True)
class PairedTables:
    """A baseline and its variant, paired and on the baseline's target."""

    baseline: pd.DataFrame
    variant: pd.DataFrame


@dataclass(frozen=True)
class ShockTables:
    """The shocks absent, and struck at each review (by review), paired."""

    absent: pd.DataFrame
    struck: Mapping[int, pd.DataFrame]


def _key(scenario: Scenario) -> str:
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


def with_parameters(scenario: Scenario, parameters: Optional[Mapping[str, float]]) -> Scenario:
    """The scenario with model constants overridden, each named as in ModelParameters
    (`run_ceiling`) or by a field path (`parameters.run_ceiling`, or any other such as
    `partners.*.patience`); ScenarioError naming the field if one is unknown or out of range."""
    if not parameters:
        return scenario
    return scenario.with_values({name if "." in name else f"parameters.{name}": value
                                 for name, value in parameters.items()}, source="parameters")


class _Plan:
    """The distinct runs a register needs: full runs (outcomes and time series) of some
    scenarios, and the kept outcomes of variants paired with a baseline."""

    def __init__(self):
        self.full: dict[str, Scenario] = {}
        self.paired: dict[tuple[str, str], tuple[Scenario, Scenario]] = {}

    def need_full(self, s: Scenario) -> str:
        k = _key(s)
        self.full.setdefault(k, s)
        return k

    def need_paired(self, base: Scenario, variant: Scenario) -> tuple[str, str]:
        k = (_key(base), _key(variant))
        self.paired.setdefault(k, (base, variant))
        self.paired.setdefault((k[0], k[0]), (base, base))
        return k

    def tasks(self, seed: int, replications: int):
        """(tasks, sizes) for sim.montecarlo.executors.gather; the baseline of a paired run that is
        also
        run in full is taken from the full run (the same replications: a paired run's
        baseline is exactly `run`'s)."""
        tasks, sizes = {}, {}
        for k, s in self.full.items():
            for i, chunk in enumerate(chunks_of(replications, default_chunk_size(s, "vector"))):
                tasks[("full", k, i)] = (run_chunk, (s, seed, chunk, 0, "vector"))
                sizes[("full", k, i)] = len(chunk)
        for (kb, kv), (b, v) in self.paired.items():
            if kb == kv and kb in self.full:
                continue
            layout = layout_of([b, v])
            for i, chunk in enumerate(chunks_of(replications, default_chunk_size(v, "vector"))):
                tasks[("paired", kb, kv, i)] = (outcomes_chunk, (v, seed, chunk, layout))
                sizes[("paired", kb, kv, i)] = len(chunk)
        return tasks, sizes

    def workers(self, workers: int) -> int:
        """Fewer workers if the biggest chunks need it."""
        scenarios = [*self.full.values(), *(v for _, v in self.paired.values())]
        return min(workers_for(s, "vector", default_chunk_size(s, "vector"), workers)
                   for s in scenarios)


class _Results:
    """The simulated tables, assembled from their chunks."""

    def __init__(self, plan: _Plan, parts: dict):
        self.plan, self.parts = plan, parts

    def _chunks(self, *key):
        found = sorted((k for k in self.parts if k[:-1] == key), key=lambda k: k[-1])
        return [self.parts[k] for k in found]

    def full(self, k: str) -> RunTables:
        chunks = self._chunks("full", k)
        return RunTables(pd.concat([c[0] for c in chunks], ignore_index=True),
                         pd.concat([c[1] for c in chunks], ignore_index=True))

    def kept(self, kb: str, kv: str) -> pd.DataFrame:
        if kb == kv and kb in self.plan.full:
            return self.full(kb).outcomes.loc[:, list(KEPT)]
        return pd.concat(self._chunks("paired", kb, kv), ignore_index=True)


def _needs(pattern: Pattern, parameters, plan: _Plan):
    """Ask the plan for a pattern's runs; returns how to fetch its tables from the results."""
    kind = pattern.statistic.kind
    if kind == "run":
        k = plan.need_full(with_parameters(pattern.scenario, parameters))
        return lambda results: results.full(k)
    if kind == "paired":
        base = with_parameters(pattern.baseline, parameters)
        kb, kv = plan.need_paired(base, with_parameters(pattern.variant, parameters))
        return lambda results: PairedTables(*on_common_target(
            [results.kept(kb, kb), results.kept(kb, kv)]))
    scenario = with_parameters(pattern.scenario, parameters)
    shocks = [dict(s) for s in pattern.shocks]
    absent = shock_absent(scenario, shocks)
    reviews = pattern.settings.struck_at()
    keys = {c: plan.need_paired(absent, shock_variant(scenario, shocks, at_cycle=c))
            for c in reviews}

    def fetch(results):
        ka = _key(absent)
        tables = on_common_target([results.kept(ka, ka)]
                                  + [results.kept(*keys[c]) for c in reviews])
        return ShockTables(tables[0], dict(zip(reviews, tables[1:])))
    return fetch


def evaluate_register(register: Register, *, replications: int, seed: Optional[int] = None,
                      parameters: Optional[Mapping[str, float]] = None,
                      executor: Optional[Executor] = None) -> pd.DataFrame:
    """Every pattern's statistic, on `replications` runs of each distinct scenario the
    register needs (each simulated once), with its 95% interval and whether it is reproduced.

    Args:
        seed: root seed (default: the register's `seed`); every run uses it, so variants are
            paired with their baselines.
        parameters: ModelParameters constants (`name` or `parameters.name` -> value) applied
            to every scenario, on top of any the scenario files set (for calibration).
        executor: where the chunks run (as sim.run; no result depends on it), and progress
            in replications simulated.
    Returns one row per pattern, in register order, with the columns COLUMNS: `value` and
    its interval `ci_low`..`ci_high`; the target's bounds (`target_low`, `target_high`, open
    ends infinite) and `uncertainty`; `reproduced`: the value lies in the target widened by
    its uncertainty on each side (strict bounds stay strict; NaN is never reproduced);
    `clearly_reproduced`: the whole interval does.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    executor = as_executor(executor)
    seed = register.seed if seed is None else int(seed)
    plan = _Plan()
    fetchers = [_needs(p, parameters, plan) for p in register.patterns]
    tasks, sizes = plan.tasks(seed, replications)
    parts = executor.at_most(plan.workers(executor.workers)).gather(tasks, sizes)
    results = _Results(plan, parts)
    rows = [_row(p, fetch(results)) for p, fetch in zip(register.patterns, fetchers)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _row(pattern: Pattern, tables) -> dict:
    estimate = pattern.statistic.compute(tables, pattern.settings)
    target = pattern.target
    unit = pattern.statistic.unit_of(pattern.settings)
    return {"name": pattern.name, "role": pattern.role, "statistic": pattern.choice.text(),
            "unit": unit, "value": estimate.value, "ci_low": estimate.low,
            "ci_high": estimate.high, "target": target_text(target, unit),
            "target_low": target.lower()[0], "target_high": target.upper()[0],
            "uncertainty": target.uncertainty, "reproduced": target.contains(estimate.value),
            "clearly_reproduced": target.contains_interval(estimate.low, estimate.high)}


# --- how figures are written -----------------------------------------------------------------


def format_value(value: float, unit: str) -> str:
    """A figure in its unit: shares as percentages, share differences in points, ratios and
    correlations as plain numbers."""
    if value is None or math.isnan(value):
        return "undefined"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "points":
        return f"{100 * value:+.1f} pts"
    if unit == "correlation":
        return f"{value:+.3f}"
    if unit == "ratio":
        return f"{value:.2f}"
    return f"{value:.4g}"


def _uncertainty_text(value: float, unit: str) -> str:
    if unit in ("share", "points"):
        return f"{100 * value:.1f} pts"
    return f"{value:.4g}"


def target_text(target, unit: str) -> str:
    """The target in words: `30.0% to 50.0%`, `> +0.0 pts`, `>= 0.33`, `0.13 ± 0.05`."""
    (lo, lo_strict), (hi, hi_strict) = target.lower(), target.upper()
    u = target.uncertainty
    if target.value is not None:
        return f"{format_value(target.value, unit)} ± {_uncertainty_text(u, unit)}"
    if math.isinf(hi):
        text = f"{'>' if lo_strict else '>='} {format_value(lo, unit)}"
    elif math.isinf(lo):
        text = f"{'<' if hi_strict else '<='} {format_value(hi, unit)}"
    else:
        text = f"{format_value(lo, unit)} to {format_value(hi, unit)}"
    return text + (f", widened by {_uncertainty_text(u, unit)}" if u else "")


def estimate_text(row: Mapping) -> str:
    """`value (low to high)` in the row's unit (points written once)."""
    unit = row["unit"]
    if isinstance(row["value"], float) and math.isnan(row["value"]):
        return "undefined"

    def bare(v):
        return format_value(v, unit).removesuffix(" pts")
    return f"{format_value(row['value'], unit)} ({bare(row['ci_low'])} to {bare(row['ci_high'])})"
