"""Named experiments, as NetLogo's BehaviorSpace gives them to modellers: a scenario, factors, a
design, repetitions and outputs in one YAML file, and one table of input values and outputs back.

    name: Ambition and decision rule
    scenario: ../scenarios/three_councils.yaml         # relative to this file
    factors:
      partners.*.ambition: {from: 0.2, to: 0.8, steps: 4}   # a stepped range: 4 levels
      charter.decision_rule: [unanimity, majority]          # a list: numbers or choices
    design: full_factorial      # or latin_hypercube, sobol (with `samples`)
    repetitions: 200            # runs per design point
    outputs: [p_deliver, p_any_exit]
    per: run                    # or review: each output at every review

A factor names a scenario field by path (sim.scenario.fields) and gives its values: a list
(numbers,
whole numbers or a category's choices), or a range `{from, to}`. A range with `steps` is that
many evenly spaced levels, whatever the design; a range without steps is continuous, which only
the samplers can draw from (a whole-number field's range is every whole number from..to).

Designs:
- `full_factorial`: every combination of the factors' levels, the first factor varying slowest.
- `latin_hypercube`: `samples` points, SALib's Latin hypercube sampler.
- `sobol`: SALib's Sobol' sampler in Saltelli's scheme (as `collabsim sweep --method sobol`):
  `samples` (a power of two) times (factors + 2) points, in the order SALib's analyze_sobol
  reads, so the table's outputs can be analysed as they are.
Samplers draw every factor as a quantile u in [0, 1): a continuous range takes the value
from + u (to - from); a factor with k levels (a list, a stepped or whole-number range) takes
level number floor(u k), so each level is equally likely (and, in a Latin hypercube of a
multiple of k samples, equally frequent).

Each design point runs `repetitions` times through sim.evaluate (vectorised, on the executors,
resumable with `checkpoint`); every output comes with its 95% interval over those runs
(`NAME_low`, `NAME_high`). Per review, the table is long: one row per design point and review.
Every problem with the file (a misspelt path, a value the field does not allow, a bad design)
raises sim.ScenarioError naming the experiment file and the field.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping, Optional

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from sim.montecarlo.executors import Executor
from sim.scenario.distributions import Number
from sim.scenario.fields import Field as ScenarioField
from sim.scenario.fields import field_of
from sim.scenario.loading import (MAX_FILE_BYTES, MAX_ITEMS, ScenarioError, UnreadableFile,
                                  decode_text, format_validation_errors, load_scenario_text,
                                  parse_yaml, read_regular_file, read_scenario_text, scenario_data)
from sim.scenario.output_names import OUTPUTS, TIMESERIES_COLUMNS
from sim.scenario.schema import TRAITS, Count, Name, Scenario, Text, suggest

if TYPE_CHECKING:
    import pandas as pd

# Checking a file needs neither pandas nor the engine: `collabsim experiment` refuses a bad
# file before they load (as `collabsim run` refuses a bad scenario). They are imported where a
# design is built or run.

__all__ = ["Experiment", "ExperimentFile", "ExperimentResult", "Factor", "Range", "cell",
           "experiment_from_dict", "experiment_from_text", "last_reviews", "load_experiment",
           "read_experiment_text", "run_experiment", "table_cells"]

DESIGNS = ("full_factorial", "latin_hypercube", "sobol")
SAMPLERS = ("latin_hypercube", "sobol")
#: What each output is measured for: every run's outcome (a scalar per design point), or the
#: mean at every review (the columns of a run's time-series table).
PER = ("run", "review")
#: How sim.evaluate names an output per review (an experiment file may leave the prefix out).
SERIES = "timeseries."
#: The largest design an experiment may have (its table stays a few hundred MB at most).
MAX_POINTS = 1_000_000
MAX_REPETITIONS = 1_000_000


class Range(BaseModel):
    """A factor's range: `{from: 0.2, to: 0.8}` (continuous: samplers only) or with
    `steps: 4` (that many evenly spaced levels, ends included)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Number = Field(alias="from", description="The lowest value.")
    stop: Number = Field(alias="to", description="The highest value.")
    steps: Optional[Count] = Field(None, ge=2, le=MAX_ITEMS, description="How many evenly "
                                   "spaced levels from `from` to `to` (ends included).")

    @field_validator("start", "stop")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value}")
        return value

    @field_validator("stop")
    @classmethod
    def _above_start(cls, value: float, info) -> float:
        start = info.data.get("start")
        if start is not None and value < start:
            raise ValueError(f"must not be less than from ({start:g})")
        if start is not None and value == start:
            raise ValueError(f"equals from ({start:g}); to hold a field at one value, put it "
                             "under `constants`")
        return value

    def levels(self) -> list[float]:
        """The stepped range's levels, each rounded to 12 significant digits (so 0.2 + 0.2
        reads 0.4, not 0.4000000000000001)."""
        return [float(f"{v:.12g}") for v in np.linspace(self.start, self.stop, self.steps)]


class ExperimentFile(BaseModel):
    """The experiment file's fields (docs/EXPERIMENTS.md). Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name = Field(description="What the experiment asks, in a few words.")
    description: Optional[Text] = Field(None, description="Why, and what to look for.")
    scenario: Name = Field(description="The scenario file, relative to the experiment file.")
    constants: dict[str, Any] = Field(default_factory=dict, description="Field paths held at "
                                      "one value (or given a distribution) in every run.")
    factors: dict[str, Any] = Field(description="Field path -> a list of values or a range "
                                    "{from, to[, steps]}.")
    design: Literal[DESIGNS] = Field("full_factorial", description="full_factorial, "
                                     "latin_hypercube or sobol.")
    samples: Optional[Count] = Field(None, ge=1, le=MAX_POINTS, description="Points to draw "
                                     "(latin_hypercube), or Saltelli's N (sobol: a power of "
                                     "two; N (factors + 2) points).")
    repetitions: Count = Field(ge=1, le=MAX_REPETITIONS, description="Runs per design point.")
    outputs: list[str] = Field(default_factory=lambda: ["p_deliver"], min_length=1,
                               description="What each point's runs are summarised to.")
    per: Literal[PER] = Field("run", description="run: one row per design point; review: one "
                              "row per design point and review.")
    seed: Optional[Count] = Field(None, ge=0, le=2**63 - 1, description="Root seed (default: "
                                  "the scenario's).")
    common_random_numbers: StrictBool = Field(False, description="Every point runs on the same "
                                              "random streams (differences between points are "
                                              "then due to their values alone).")

    @field_validator("factors")
    @classmethod
    def _some_factor(cls, value: dict) -> dict:
        if not value:
            raise ValueError("give at least one factor")
        return value


@dataclass(frozen=True)
class Factor:
    """One factor of an experiment: a scenario field and its levels, or its continuous range
    (`low`, `high`: levels empty)."""

    path: str
    field: ScenarioField
    levels: tuple = ()
    low: Optional[float] = None
    high: Optional[float] = None

    @property
    def continuous(self) -> bool:
        return not self.levels

    def at(self, u: np.ndarray) -> np.ndarray:
        """The values at quantiles u in [0, 1] (see the module's doc)."""
        u = np.asarray(u, dtype=float)
        if self.continuous:
            return self.low + u * (self.high - self.low)
        k = len(self.levels)
        index = np.minimum((u * k).astype(np.int64), k - 1)
        return np.asarray(self.levels, dtype=object)[index]

    def describe(self) -> str:
        if self.continuous:
            return f"{self.low:g} to {self.high:g}"
        return ", ".join(_shown(v) for v in self.levels)

    def dtype(self):
        return {"number": "float64", "integer": "int64"}.get(self.field.kind, "str")


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: its settings, the scenario (with the constants set) and the
    factors checked against it; the texts a results folder keeps."""

    spec: ExperimentFile
    scenario: Scenario
    factors: tuple[Factor, ...]
    source: str
    text: str                   # the experiment file as read (or written out from a mapping)
    scenario_path: Optional[str]
    scenario_text: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def seed(self) -> int:
        return self.scenario.seed if self.spec.seed is None else self.spec.seed

    @property
    def outputs(self) -> tuple[str, ...]:
        """The outputs as the table names them."""
        return tuple(o[len(SERIES):] if o.startswith(SERIES) else o for o in self.spec.outputs)

    @property
    def points(self) -> int:
        """How many design points the design has."""
        if self.spec.design == "full_factorial":
            return math.prod(len(f.levels) for f in self.factors)
        if self.spec.design == "sobol":
            return self.spec.samples * (len(self.factors) + 2)
        return self.spec.samples

    def problem(self):
        """The SALib ProblemSpec of a sampled design, in quantile space (names: the factor
        paths; bounds [0, 1]), with its samples drawn; None for a full factorial."""
        if self.spec.design not in SAMPLERS:
            return None
        from SALib import ProblemSpec

        from sim.analysis.sensitivity import salib_seeded

        problem = ProblemSpec({"names": [f.path for f in self.factors],
                               "bounds": [[0.0, 1.0]] * len(self.factors),
                               "outputs": list(self.outputs)})
        with salib_seeded(self.seed) as seed:
            if self.spec.design == "sobol":
                problem.sample_sobol(self.spec.samples, calc_second_order=False, seed=seed)
            else:
                problem.sample_latin(self.spec.samples, seed=seed)
        return problem

    def design(self) -> pd.DataFrame:
        """The design: one column per factor (its field's type), one row per point."""
        import pandas as pd

        if self.spec.design == "full_factorial":
            shape = [len(f.levels) for f in self.factors]
            index = np.unravel_index(np.arange(math.prod(shape)), shape)
            columns = {f.path: np.asarray(f.levels, dtype=object)[i]
                       for f, i in zip(self.factors, index)}
        else:
            quantiles = np.asarray(self.problem().samples, dtype=float)
            columns = {f.path: f.at(quantiles[:, j]) for j, f in enumerate(self.factors)}
        return pd.DataFrame({f.path: pd.Series(columns[f.path]).astype(f.dtype())
                             for f in self.factors})


@dataclass
class ExperimentResult:
    """What an experiment found: one table of input values and outputs, each output with its
    95% interval (per run: a row per design point; per review: a row per point and review)."""

    experiment: Experiment
    table: pd.DataFrame
    settings: dict
    problem: object = None     # the SALib ProblemSpec of a sampled design (quantile space)

    def final(self) -> pd.DataFrame:
        """One row per design point: the table itself, or per review each point's last review."""
        return last_reviews(self.table, self.settings["per"])

    def extremes(self) -> dict:
        """Per output, the design points where it is highest and lowest (per review: at each
        point's last review), with their intervals and factor values."""
        final = self.final()
        paths = [f.path for f in self.experiment.factors]
        found = {}
        for o in self.experiment.outputs:
            values = final[o].to_numpy(float)
            if not np.isfinite(values).any():
                continue
            found[o] = {which: _row_record(final.iloc[int(pick(values))], o, paths)
                        for which, pick in (("highest", np.nanargmax), ("lowest", np.nanargmin))}
        return found

    @property
    def tables(self) -> dict:
        return {"table": self.table}

    @property
    def message(self) -> str:
        """Where the first output is highest and lowest, in a sentence."""
        o = self.experiment.outputs[0]
        ends = self.extremes().get(o)
        if not ends:
            return f"{o}: no finite value at any design point"
        at = {k: ", ".join(f"{p} = {_shown(v)}" for p, v in row["at"].items())
              for k, row in ends.items()}
        return (f"{o} is highest ({cell(o, ends['highest'])}) at {at['highest']} and lowest "
                f"({cell(o, ends['lowest'])}) at {at['lowest']}")

    @property
    def summary(self) -> dict:
        """The headline (as [label, text] pairs) and the extremes, for a manifest or --json."""
        extremes = self.extremes()
        when = "" if self.settings["per"] == "run" else " (at the last review)"
        headline = [["design", f"{self.settings['points']:,} points ({_design_name(self)}) x "
                     f"{self.settings['repetitions']:,} runs"]]
        for o, ends in extremes.items():
            for which, row in ends.items():
                headline.append([f"{o}: {which}{when}", f"{cell(o, row)} at " + ", ".join(
                    f"{p} = {_shown(v)}" for p, v in row["at"].items())])
        return {"headline": headline, "extremes": extremes}

    def cells(self) -> tuple[list[str], list[list[str]]]:
        """The table as text, as `collabsim experiment` prints it (see table_cells)."""
        return table_cells(self.table, [f.path for f in self.experiment.factors],
                           self.experiment.outputs, self.settings["per"])


def last_reviews(table: pd.DataFrame, per: str) -> pd.DataFrame:
    """One row per design point: a per-run table as it is; per review, each point's last."""
    if per == "run":
        return table
    return table.groupby("point", sort=True).tail(1).reset_index(drop=True)


def table_cells(table: pd.DataFrame, paths, outputs, per: str) -> tuple[list[str],
                                                                         list[list[str]]]:
    """An experiment's table as text: a header, then per design point its factors' values and
    each output as `value [low, high]` (per review: at the point's last review)."""
    final = last_reviews(table, per)
    header = list(paths) + [f"{o} [95% CI]" for o in outputs]
    rows = [[_shown(r[p]) for p in paths]
            + [cell(o, {"value": r[o], "low": r[f"{o}_low"], "high": r[f"{o}_high"]})
               for o in outputs] for _, r in final.iterrows()]
    return header, rows


def cell(output: str, row: Mapping) -> str:
    """An output and its interval as text: shares as percentages, others to 3 figures."""
    def fmt(v) -> str:
        if v is None or not np.isfinite(v):
            return "n/a"
        return f"{100 * v:.1f}%" if output.startswith("p_") else f"{v:.3g}"

    return f"{fmt(row['value'])} [{fmt(row['low'])}, {fmt(row['high'])}]"


def _row_record(row: pd.Series, output: str, paths: list[str]) -> dict:
    return {"point": int(row["point"]), "value": _plain(row[output]),
            "low": _plain(row[f"{output}_low"]), "high": _plain(row[f"{output}_high"]),
            "at": {p: _plain(row[p]) for p in paths}}


def _plain(value):
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


def _design_name(result: ExperimentResult) -> str:
    design = result.settings["design"].replace("_", " ")
    samples = result.settings.get("samples")
    return f"{design}, N = {samples}" if samples else design


# --- reading and checking an experiment file ---------------------------------------------------


def load_experiment(path: str | os.PathLike) -> Experiment:
    """Read and check an experiment file (its scenario path is relative to it): a regular
    UTF-8 file of at most 2 MB, strict YAML 1.2, as a scenario file is read. Every problem
    raises sim.ScenarioError naming the file and the field."""
    return experiment_from_text(read_experiment_text(path), str(path), base=Path(path).parent)


def read_experiment_text(path: str | os.PathLike) -> str:
    """An experiment file's text, read as a scenario file is (ScenarioError naming it)."""
    source = str(path)
    try:
        raw = read_regular_file(path, MAX_FILE_BYTES)
    except UnreadableFile as exc:
        raise ScenarioError(source, [str(exc)]) from None
    return decode_text(raw, source)


def experiment_from_text(text: str, source: str = "<experiment>", *,
                         base: str | os.PathLike = ".",
                         scenario_text: Optional[str] = None) -> Experiment:
    """An experiment from its YAML text; its scenario is read from `base` / its path, or
    validated from `scenario_text` when given (a results folder's copy, for --resume)."""
    data = parse_yaml(text, source)
    return experiment_from_dict(data, source, base=base, scenario_text=scenario_text, text=text)


def experiment_from_dict(data: Mapping, source: str = "<experiment>", *,
                         base: str | os.PathLike = ".", scenario_text: Optional[str] = None,
                         text: Optional[str] = None) -> Experiment:
    """An experiment from a mapping of the file's fields (as parsed from YAML, or built in a
    notebook, where `scenario` may also be a sim.Scenario)."""
    data = dict(data)
    given = data.get("scenario")
    if isinstance(given, Scenario):
        data["scenario"] = given.name
    try:
        spec = ExperimentFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, format_validation_errors(exc, data, root=ExperimentFile)) \
            from None
    scenario_path = None
    if isinstance(given, Scenario):
        scenario = given
        scenario_text = yaml.safe_dump(scenario_data(scenario), sort_keys=False,
                                       allow_unicode=True)
    else:
        scenario_path = os.path.normpath(Path(base) / spec.scenario)
        if scenario_text is None:
            try:
                scenario_text = read_scenario_text(scenario_path)
            except ScenarioError as exc:
                raise ScenarioError(source, [f"scenario: {exc}"]) from None
        scenario = load_scenario_text(scenario_text, scenario_path)
    problems: list[str] = []
    scenario = _with_constants(scenario, spec, source, problems)
    factors = [f for f in (_factor(scenario, path, value, problems)
                           for path, value in spec.factors.items()) if f is not None]
    if not problems:
        _check_overlaps(scenario, spec, problems)
        _check_design(spec, factors, problems)
    _check_outputs(spec, problems)
    if problems:
        raise ScenarioError(source, problems)
    if text is None:
        text = yaml.safe_dump(spec.model_dump(mode="json", by_alias=True, exclude_none=True),
                              sort_keys=False, allow_unicode=True)
    return Experiment(spec, scenario, tuple(factors), source, text, scenario_path,
                      scenario_text)


def as_experiment(experiment) -> Experiment:
    """An Experiment from an Experiment, a path (loaded) or a mapping (validated; a
    scenario path in it is relative to the working folder)."""
    if isinstance(experiment, Experiment):
        return experiment
    if isinstance(experiment, Mapping):
        return experiment_from_dict(experiment)
    if isinstance(experiment, (str, os.PathLike)):
        return load_experiment(experiment)
    raise TypeError(f"experiment must be an Experiment, a path or a mapping, not "
                    f"{type(experiment).__name__}")


def _with_constants(scenario: Scenario, spec: ExperimentFile, source: str,
                    problems: list[str]) -> Scenario:
    for path in spec.constants:
        if path in spec.factors:
            problems.append(f"constants.{path}: also a factor; give it in one place")
    try:
        return scenario.with_values(spec.constants, source=source)
    except ScenarioError as exc:
        problems += [f"constants: {p}" for p in exc.problems]
        return scenario


def _factor(scenario: Scenario, path: str, value, problems: list[str]) -> Optional[Factor]:
    """The factor `path: value` of the file, checked against the scenario (problems are
    appended, naming the factor)."""
    where = f"factors.{path}"
    try:
        field = field_of(scenario, path)
    except ScenarioError as exc:
        problems += [f"factors.{p}" for p in exc.problems]
        return None
    found = len(problems)
    if isinstance(value, list):
        factor = _listed(where, field, value, problems)
    elif isinstance(value, dict):
        factor = _ranged(where, field, value, problems)
    else:
        problems.append(f"{where}: give a list of values or a range {{from, to[, steps]}}, "
                        f"not {_shown(value)}; to hold a field at one value, put it under "
                        "`constants`")
        return None
    if factor is None or len(problems) > found:
        return None
    extremes = [factor.low, factor.high] if factor.continuous else list(factor.levels) \
        if field.kind == "category" else [min(factor.levels), max(factor.levels)]
    for v in dict.fromkeys(extremes):
        try:
            scenario.with_values({path: v})
        except ScenarioError as exc:
            messages = dict.fromkeys(p.split(": ", 1)[-1] for p in exc.problems)
            problems += [f"{where} = {_shown(v)}: {m}" for m in messages]
    return factor if len(problems) == found else None


def _listed(where: str, field: ScenarioField, values: list,
            problems: list[str]) -> Optional[Factor]:
    if not values:
        problems.append(f"{where}: an empty list; give at least one value")
        return None
    levels = []
    for v in values:
        if isinstance(v, (list, dict)) or v is None:
            problems.append(f"{where}: a list of plain values (numbers or choices), found "
                            f"{'a list' if isinstance(v, list) else 'a mapping' if v else 'null'}"
                            "; a distribution goes under `constants`")
            return None
        try:
            levels.append(field.check(v))
        except ValueError as exc:
            problems.append(f"{where}: should be {exc}")
            return None
    if len(set(levels)) < len(levels):
        twice = next(v for i, v in enumerate(levels) if v in levels[:i])
        problems.append(f"{where}: {_shown(twice)} is given twice")
        return None
    return Factor(field.path, field, tuple(levels))


def _ranged(where: str, field: ScenarioField, value: dict,
            problems: list[str]) -> Optional[Factor]:
    if field.kind == "category":
        problems.append(f"{where}: a category takes a list of its choices "
                        f"({', '.join(map(str, field.choices))}), not a range")
        return None
    try:
        span = Range.model_validate(value)
    except ValidationError as exc:
        problems += [f"{where}.{p}" for p in format_validation_errors(exc, value, root=Range)]
        return None
    if field.kind == "integer":
        ends = [span.start, span.stop]
        if any(v != int(v) for v in ends):
            problems.append(f"{where}: a whole-number field takes whole numbers, got "
                            f"{span.start:g} to {span.stop:g}")
            return None
        levels = span.levels() if span.steps else range(int(span.start), int(span.stop) + 1)
        if len(levels) > MAX_ITEMS:
            problems.append(f"{where}: {len(levels):,} whole numbers; give `steps` (at most "
                            f"{MAX_ITEMS:,})")
            return None
        if any(v != int(v) for v in levels):
            problems.append(f"{where}: {span.steps} steps from {span.start:g} to "
                            f"{span.stop:g} are not whole numbers; a whole-number field "
                            "needs steps that land on whole numbers")
            return None
        return Factor(field.path, field, tuple(int(v) for v in levels))
    if span.steps:
        return Factor(field.path, field, tuple(span.levels()))
    return Factor(field.path, field, low=span.start, high=span.stop)


def _targets(scenario: Scenario, path: str) -> set[str]:
    """The inputs a path sets (`partners.*.X` every partner's X; `partner_similarity` each
    trait's)."""
    if path.startswith("partners.*."):
        leaf = path[len("partners.*."):]
        return {f"partners.{name}.{leaf}" for name in scenario.partner_names()}
    if path == "partner_similarity":
        return {f"partner_similarity.{t}" for t in TRAITS}
    return {path}


def _check_overlaps(scenario: Scenario, spec: ExperimentFile, problems: list[str]) -> None:
    """No two factors (or a factor and a constant) may set the same input."""
    seen: dict[str, str] = {}
    for kind, paths in (("constants", spec.constants), ("factors", spec.factors)):
        for path in paths:
            for target in sorted(_targets(scenario, path)):
                if target in seen and seen[target] != path:
                    problems.append(f"{kind}.{path}: sets {target}, which {seen[target]} "
                                    "sets too")
                    break
                seen[target] = path


def _check_design(spec: ExperimentFile, factors: list[Factor], problems: list[str]) -> None:
    if spec.design == "full_factorial":
        if spec.samples is not None:
            problems.append("samples: only latin_hypercube and sobol designs draw samples; a "
                            "full factorial runs every combination of the factors' levels")
        for f in factors:
            if f.continuous:
                problems.append(f"factors.{f.path}: a range without steps is for the samplers "
                                "(latin_hypercube, sobol); a full factorial needs its levels: "
                                "give steps (e.g. {from: 0.2, to: 0.8, steps: 4}) or a list")
        points = math.prod(len(f.levels) for f in factors if not f.continuous)
        if points > MAX_POINTS:
            problems.append(f"factors: a full factorial of {points:,} points; at most "
                            f"{MAX_POINTS:,} (fewer levels, or a sampler)")
        return
    if spec.samples is None:
        problems.append(f"samples: required for a {spec.design} design (how many points to "
                        "draw)")
        return
    if spec.design == "sobol":
        n = spec.samples
        if n < 2 or n & (n - 1):
            below = 1 << (n.bit_length() - 1)
            hint = f"try {below} or {below * 2}" if below > 1 else "try 2"
            problems.append(f"samples: {n}: a sobol design needs a power of two (Saltelli's "
                            f"scheme loses its balance otherwise); {hint}")
        elif n * (len(factors) + 2) > MAX_POINTS:
            problems.append(f"samples: {n} x ({len(factors)} factors + 2) = "
                            f"{n * (len(factors) + 2):,} points; at most {MAX_POINTS:,}")


def _check_outputs(spec: ExperimentFile, problems: list[str]) -> None:
    """Per run, the run outputs (sim.scenario.output_names.OUTPUTS); per review, the columns of a
    run's
    time-series table (also written `timeseries.NAME`, as sim.evaluate names them)."""
    per_review = [c for c in TIMESERIES_COLUMNS if c != "cycle"]

    def series(o: str) -> Optional[str]:
        name = o[len(SERIES):] if o.startswith(SERIES) else o
        return name if name in per_review else None

    mine = list(OUTPUTS) if spec.per == "run" else per_review
    other = "review" if spec.per == "run" else "run"
    seen: set[str] = set()
    for o in spec.outputs:
        name = o if spec.per == "run" and o in OUTPUTS else series(o) if spec.per == "review" \
            else None
        if name is not None:
            if name in seen:
                problems.append(f"outputs: {o!r} is given twice")
            seen.add(name)
        elif (series(o) if other == "review" else o if o in OUTPUTS else None) is not None:
            problems.append(f"outputs: {o!r} is an output per {other}; one experiment measures "
                            f"per run or per review (set `per: {other}` for it)")
        else:
            hint = suggest(o, mine) or f"; outputs per {spec.per}: {', '.join(mine)}"
            problems.append(f"outputs: {o!r} is not an output{hint}")


# --- running ------------------------------------------------------------------------------------


def run_experiment(experiment, *, executor: Optional[Executor] = None,
                   checkpoint: Optional[Path] = None) -> ExperimentResult:
    """Run an experiment (a file, a mapping of its fields, or a loaded Experiment): every
    design point `repetitions` times through sim.evaluate, with 95% intervals. Returns the
    table: `point`, the factors' values, then each output, `_low`, `_high` (per review, also
    `review`: one row per point and review). `checkpoint` (a folder) keeps finished points, so
    an interrupted experiment called again resumes and ends identical. The points run where
    `executor` says (progress in points)."""
    from sim.analysis.evaluation import evaluate

    exp = as_experiment(experiment)
    design = exp.design()
    evaluated = tuple(o if exp.spec.per == "run" else SERIES + o for o in exp.outputs)
    try:
        wide = evaluate(exp.scenario, design, exp.spec.repetitions, evaluated, exp.seed,
                        common_random_numbers=exp.spec.common_random_numbers, executor=executor,
                        checkpoint=checkpoint, intervals=True)
    except ScenarioError as exc:
        if exc.source != "the design":
            raise
        raise ScenarioError(exp.source, [f"factors: these values together do not make a valid "
                                         f"scenario: {p}" for p in exc.problems]) from None
    horizon = wide.attrs["settings"]["horizon"]
    wide.insert(0, "point", np.arange(len(wide)))
    table = wide if exp.spec.per == "run" else _by_review(wide, exp, horizon)
    settings = {"name": exp.name, "design": exp.spec.design, "samples": exp.spec.samples,
                "points": len(design), "repetitions": exp.spec.repetitions,
                "runs": len(design) * exp.spec.repetitions, "outputs": list(exp.outputs),
                "per": exp.spec.per, "seed": exp.seed,
                "common_random_numbers": exp.spec.common_random_numbers, "horizon": horizon,
                "factors": {f.path: f.describe() for f in exp.factors},
                "constants": dict(exp.spec.constants)}
    return ExperimentResult(exp, table, settings, exp.problem())


def _by_review(wide: pd.DataFrame, exp: Experiment, horizon: int) -> pd.DataFrame:
    """The long table: a row per design point and review (reviews past a point's own horizon,
    which only a `horizon` factor makes, are left out)."""
    reviews = horizon + 1
    point = np.repeat(np.arange(len(wide)), reviews)
    table = wide[["point", *(f.path for f in exp.factors)]].iloc[point].reset_index(drop=True)
    table["review"] = np.tile(np.arange(reviews), len(wide))
    for o in exp.outputs:
        for end in ("", "_low", "_high"):
            columns = [f"{o}{end}[{t}]" for t in range(reviews)]
            table[f"{o}{end}"] = wide[columns].to_numpy(float).ravel()
    past = table[list(exp.outputs)].isna().all(axis=1).to_numpy()
    return table[~past].reset_index(drop=True)
