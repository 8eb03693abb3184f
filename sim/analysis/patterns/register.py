"""Reading a pattern register: the file checked against its schema, then every scenario,
charter, variant, shock and outcome column it names checked against what exists, so that a
register that loads can be evaluated. Every problem is reported at once, naming the register
file and the field (`patterns[3] (more ambition).variant.set`), as scenario files' are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from pydantic import ValidationError

from sim.analysis.patterns.catalogue import OUTCOME_COLUMNS, Settings, Statistic
from sim.analysis.patterns.schema import PatternSpec, RegisterFile, StatisticChoice, Target
from sim.partnership.inputs import uncertain_paths
from sim.scenario.loading import (SHIPPED_SCENARIOS, ScenarioError, format_validation_errors,
                                  load_scenario, parse_yaml, read_scenario_text)
from sim.scenario.schema import Scenario, suggest
from sim.scenario.shocks import DEFAULT_AT_CYCLE, StressError, parse_shock, with_shocks

#: The shipped scenarios, where a pattern's files are looked for after the register's folder.


@dataclass(frozen=True)
class Pattern:
    """A pattern of a register, with the scenarios its statistic runs on."""

    spec: PatternSpec
    baseline: Scenario                  # the pattern's scenario file
    variant: Optional[Scenario]         # the baseline with the pattern's variant applied
    shocks: tuple[dict, ...] = ()       # a shock statistic's shocks, parsed

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def role(self) -> str:
        return self.spec.role

    @property
    def target(self) -> Target:
        return self.spec.target

    @property
    def choice(self) -> StatisticChoice:
        return self.spec.statistic

    @property
    def statistic(self) -> Statistic:
        return self.spec.statistic.statistic

    @property
    def settings(self) -> Settings:
        return self.spec.statistic.settings

    @property
    def scenario(self) -> Scenario:
        """What a statistic of one run runs on: the variant, or else the scenario."""
        return self.variant if self.variant is not None else self.baseline


@dataclass(frozen=True)
class Register:
    """A loaded pattern register."""

    name: str
    description: str
    seed: int
    source: str                         # the file it was read from
    text: str                           # its text, as read
    patterns: list[Pattern] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.patterns)


class _Problem(Exception):
    """One problem with one field of one pattern."""

    def __init__(self, field_path: str, message: str):
        super().__init__(message)
        self.field_path = field_path
        self.message = message


def load_register(path: str | os.PathLike) -> Register:
    """Read and check a pattern register (YAML). Raises ScenarioError naming the file, with
    every problem found, each naming its field."""
    source = str(path)
    text = read_scenario_text(path)
    data = parse_yaml(text, source)
    try:
        spec = RegisterFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, format_validation_errors(exc, data, root=RegisterFile)) \
            from None
    except RecursionError:
        raise ScenarioError(source, ["structure nested too deeply"]) from None
    folder = Path(path).resolve().parent
    files = _Files(folder)
    patterns, problems = [], []
    for i, p in enumerate(spec.patterns):
        where = f"patterns[{i}] ({p.name})"
        try:
            patterns.append(_resolve(p, files))
        except _Problem as exc:
            problems.append(f"{where}.{exc.field_path}: {exc.message}")
    if problems:
        raise ScenarioError(source, problems)
    return Register(spec.name, spec.description, spec.seed, source, text, patterns)


class _Files:
    """Scenario and charter files named by patterns: looked for next to the register, then in
    the shipped scenarios/ folder; each scenario loaded once."""

    def __init__(self, folder: Path):
        shipped = [SHIPPED_SCENARIOS] if SHIPPED_SCENARIOS.resolve() != folder else []
        self.roots = [folder] + shipped
        self.scenarios: dict[Path, Scenario] = {}

    def find(self, name: str, field_path: str) -> Path:
        for root in self.roots:
            candidate = root / name
            if candidate.is_file():
                return candidate
        known = sorted({str(p.relative_to(root)) for root in self.roots if root.is_dir()
                        for p in root.rglob("*.yaml")})
        where = " or ".join(str(r) for r in self.roots)
        raise _Problem(field_path, f"no file {name!r} in {where}{suggest(name, known)}")

    def scenario(self, name: str, field_path: str) -> Scenario:
        path = self.find(name, field_path)
        if path not in self.scenarios:
            try:
                self.scenarios[path] = load_scenario(path)
            except ScenarioError as exc:
                raise _Problem(field_path, _quoted(exc)) from None
        return self.scenarios[path]


def _quoted(exc: ScenarioError) -> str:
    """Another file's problems, in one line naming that file."""
    return f"{exc.source}: {'; '.join(exc.problems)}"


def _resolve(p: PatternSpec, files: _Files) -> Pattern:
    baseline = files.scenario(p.scenario, "scenario")
    variant = _variant(p, baseline, files) if p.variant is not None else None
    statistic, settings = p.statistic.statistic, p.statistic.settings
    if statistic.kind == "paired" and variant is None:
        raise _Problem("statistic", f"{statistic.name} compares a variant with its baseline "
                       "on the same replications; give the pattern a `variant:`")
    run_on = variant if variant is not None else baseline
    if statistic.kind == "run":
        _check_columns(settings, run_on)
    shocks = _shocks(settings, run_on) if statistic.kind == "shocks" else ()
    return Pattern(p, baseline, variant, shocks)


def _variant(p: PatternSpec, baseline: Scenario, files: _Files) -> Scenario:
    from sim.analysis.comparison import load_charter

    v = p.variant
    scenario = baseline
    if v.scenario is not None:
        scenario = files.scenario(v.scenario, "variant.scenario")
    if v.charter is not None:
        path = files.find(v.charter, "variant.charter")
        try:
            scenario = load_charter(path, scenario)
        except ScenarioError as exc:
            raise _Problem("variant.charter", _quoted(exc)) from None
    if v.set:
        try:
            scenario = scenario.with_values(v.set, source="variant.set")
        except ScenarioError as exc:
            raise _Problem("variant.set", "; ".join(exc.problems)) from None
    if v.shocks:
        try:
            added = [parse_shock(text, at_cycle=DEFAULT_AT_CYCLE) for text in v.shocks]
            scenario = with_shocks(scenario, added, source="variant.shocks")
        except StressError as exc:
            raise _Problem("variant.shocks", str(exc).removeprefix("--shock ")) from None
        except ScenarioError as exc:
            raise _Problem("variant.shocks", "; ".join(exc.problems)) from None
    return scenario


def _check_columns(settings: Settings, scenario: Scenario) -> None:
    if not settings.columns():
        return
    known = [*OUTCOME_COLUMNS, *uncertain_paths(scenario)]
    for name, column in settings.columns().items():
        if column not in known:
            raise _Problem(f"statistic.{name}", f"{column!r} is not a numeric column of the "
                           f"outcomes of {scenario.name!r}{suggest(column, known)}; sampled "
                           "inputs are named by path (partners.NAME.TRAIT, "
                           "charter.business_case.X)")


def _shocks(settings: Settings, scenario: Scenario) -> tuple[dict, ...]:
    """A shock statistic's shocks, parsed and checked against the scenario at every review
    they strike at."""
    parsed = []
    for k, text in enumerate(settings.shock_texts()):
        try:
            shock = parse_shock(text)
        except StressError as exc:
            raise _Problem(f"statistic.shocks[{k}]", str(exc).removeprefix("--shock ")) \
                from None
        if {"at_cycle", "rate"} & shock.keys():
            raise _Problem(f"statistic.shocks[{k}]", "leave at_cycle and rate out: the "
                           "statistic strikes at each of its reviews in turn")
        parsed.append(shock)
    last = max(settings.struck_at())
    if last > scenario.horizon:
        raise _Problem("statistic", f"review {last} is after the horizon of "
                       f"{scenario.name!r} ({scenario.horizon})")
    try:
        with_shocks(scenario, [dict(s, at_cycle=last) for s in parsed], source="shocks")
    except ScenarioError as exc:
        raise _Problem("statistic.shocks", "; ".join(exc.problems)) from None
    return tuple(parsed)
