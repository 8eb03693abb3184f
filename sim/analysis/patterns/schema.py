"""The pattern register's file format: a list of cited patterns, each a statistic of the
model's output with a target, a source and a role (Grimm et al. 2005, pattern-oriented
modelling).

This schema *is* the documentation of the format (docs/PATTERNS.md). Unknown keys are errors,
so a typo never silently falls back to a default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      ValidationError, field_validator, model_validator)

from sim.analysis.patterns.catalogue import NOT_SUPPORTED, STATISTICS, Settings, Statistic
from sim.scenario.schema import Count, FieldError, Name, Text, plain_number, suggest

ROLES = ("calibrate", "validate")


#: A plain number: yes/no values and text are refused (pydantic would read true as 1.0 and
#: "0.3" as 0.3).
Number = Annotated[float, BeforeValidator(plain_number)]
#: A file named by a pattern: a scenario or charter, relative to the register's folder or to
#: the shipped scenarios/ folder.
FileName = Annotated[str, Field(min_length=1, max_length=500)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Target(_Strict):
    """What the statistic should be: an interval (`low` and/or `high`, inclusive; `above` and
    `below` for strict bounds) or a `value`, and the target's own uncertainty, which widens
    it on both sides."""

    low: Optional[Number] = Field(None, description="Least value (inclusive).")
    high: Optional[Number] = Field(None, description="Greatest value (inclusive).")
    above: Optional[Number] = Field(None, description="The value must exceed this (a "
                                    "direction: a paired difference `above: 0` is 'up').")
    below: Optional[Number] = Field(None, description="The value must be less than this.")
    value: Optional[Number] = Field(None, description="A point target (needs an uncertainty "
                                    "above 0).")
    uncertainty: Number = Field(ge=0, description="How far the source's figure may be off, "
                                "in the statistic's units: the target is widened by this on "
                                "each side. 0 when the interval already says all the source "
                                "allows.")

    @model_validator(mode="after")
    def _one_form(self) -> "Target":
        bounds = {k: getattr(self, k) for k in ("low", "high", "above", "below")}
        given = {k for k, v in bounds.items() if v is not None}
        if self.value is not None:
            if given:
                raise ValueError(f"give either value or bounds ({', '.join(sorted(given))}), "
                                 "not both")
            if self.uncertainty == 0:
                raise FieldError(("uncertainty",), "a point target (value) needs an "
                                  "uncertainty above 0; no statistic hits a point exactly")
            return self
        if not given:
            raise ValueError("give low and/or high (inclusive), above or below (strict), or "
                             "a value with its uncertainty")
        if {"low", "above"} <= given or {"high", "below"} <= given:
            raise ValueError("give at most one lower bound (low or above) and one upper bound "
                             "(high or below)")
        lower, upper = self.lower(), self.upper()
        if lower[0] > upper[0] or (lower[0] == upper[0] and (lower[1] or upper[1])):
            names = (("above" if lower[1] else "low"), ("below" if upper[1] else "high"))
            raise FieldError((names[0],), f"{lower[0]:g} is not below {names[1]} "
                              f"{upper[0]:g}: the target holds no value")
        return self

    def lower(self) -> tuple[float, bool]:
        """(least value, whether it is excluded); -inf when there is none."""
        if self.value is not None:
            return self.value, False
        if self.above is not None:
            return self.above, True
        return (self.low, False) if self.low is not None else (-math.inf, False)

    def upper(self) -> tuple[float, bool]:
        """(greatest value, whether it is excluded); +inf when there is none."""
        if self.value is not None:
            return self.value, False
        if self.below is not None:
            return self.below, True
        return (self.high, False) if self.high is not None else (math.inf, False)

    def contains(self, x: float) -> bool:
        """Whether `x` lies in the target widened by its uncertainty (NaN never does)."""
        if x is None or math.isnan(x):
            return False
        (lo, lo_strict), (hi, hi_strict) = self.lower(), self.upper()
        lo, hi = lo - self.uncertainty, hi + self.uncertainty
        return (x > lo if lo_strict else x >= lo) and (x < hi if hi_strict else x <= hi)

    def contains_interval(self, low: float, high: float) -> bool:
        """Whether the whole interval [low, high] lies in the widened target."""
        return self.contains(low) and self.contains(high)


def _visible(value: str) -> str:
    if not value.strip():
        raise ValueError("is blank; say where the figure comes from")
    return value


Cited = Annotated[Text, AfterValidator(_visible)]


class Source(_Strict):
    """Where the target comes from."""

    citation: Cited = Field(min_length=1, max_length=2000, description="The source: a seed "
                           "document (000, 001, 002), a study, a report.")
    reading: Cited = Field(min_length=1, max_length=4000, description="How the figure was "
                          "read from it, and any judgement made in turning it into a target.")


class Variant(_Strict):
    """What the pattern's run changes in its scenario, applied in this order."""

    scenario: Optional[FileName] = Field(None, description="Another scenario file, run on the "
                                         "same replications as the pattern's scenario.")
    charter: Optional[FileName] = Field(None, description="A charter file applied to the "
                                        "partners (as `collabsim compare --charter`).")
    set: Optional[dict[str, Any]] = Field(None, max_length=100, description="Scenario field "
                                          "paths and their new values, e.g. "
                                          "`partners.*.ambition: {uniform: [0.5, 0.9]}`.")
    shocks: Optional[list[Annotated[str, Field(min_length=1, max_length=500)]]] = Field(
        None, max_length=100, description="Shocks added, as `KIND:key=value,...` (`collabsim "
        "run --shock`; at review 2 unless a timing is given).")

    @model_validator(mode="after")
    def _something(self) -> "Variant":
        if not (self.scenario or self.charter or self.set or self.shocks):
            raise ValueError("a variant changes something: give scenario, charter, set or "
                             "shocks")
        return self


@dataclass(frozen=True)
class StatisticChoice:
    """A statistic of the library with its settings."""

    statistic: Statistic
    settings: Settings

    @property
    def name(self) -> str:
        return self.statistic.name

    def text(self) -> str:
        """`name(setting=value, ...)`, as a table shows it."""
        given = self.settings.model_dump()
        inner = ", ".join(f"{k}={_short(v)}" for k, v in given.items())
        return f"{self.name}({inner})" if inner else self.name


def _short(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _statistic(value):
    """`name` or {name: ..., setting: value, ...}, checked against the statistic library."""
    if isinstance(value, StatisticChoice):
        return value
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        raise ValueError("a statistic's name, or a mapping with `name` and its settings")
    settings = dict(value)
    name = settings.pop("name", None)
    if name is None:
        raise FieldError(("name",), f"required field is missing; statistics: "
                          f"{', '.join(STATISTICS)}")
    if name in NOT_SUPPORTED:
        raise FieldError(("name",), f"{name} is not offered: {NOT_SUPPORTED[name]}")
    if not isinstance(name, str) or name not in STATISTICS:
        raise FieldError(("name",), f"unknown statistic {name!r}{suggest(str(name), STATISTICS)}"
                          f"; statistics: {', '.join(STATISTICS)}")
    statistic = STATISTICS[name]
    try:
        return StatisticChoice(statistic, statistic.settings.model_validate(settings))
    except ValidationError as exc:   # a misspelt setting first: it explains a missing one
        errors = sorted(exc.errors(include_url=False),
                        key=lambda e: e["type"] != "extra_forbidden")
        raise FieldError(tuple(errors[0]["loc"]), _setting_message(errors[0], statistic)) \
            from None


def _setting_message(error: dict, statistic: Statistic) -> str:
    allowed = list(statistic.settings.model_fields)
    if error["type"] == "extra_forbidden":
        key = str(error["loc"][-1]) if error["loc"] else "?"
        hint = suggest(key, allowed)
        return (f"unknown setting of {statistic.name}{hint}; its settings: "
                f"{', '.join(allowed) or 'none'}")
    if error["type"] == "missing":
        return "required setting is missing"
    message = error["msg"].replace("Value error, ", "").replace("Input should be", "should be")
    if error["type"].startswith(("float", "int")):
        message += f" (got {error.get('input')!r})"
    return message


class PatternSpec(_Strict):
    """One cited pattern: a statistic of a run of a scenario, its target, its source and its
    role."""

    name: Name = Field(min_length=1, max_length=120, description="Unique name of the pattern.")
    claim: Text = Field("", max_length=2000, description="What the pattern says, in words.")
    role: Literal[ROLES] = Field(description="`calibrate`: a quantitative target that pins "
                                 "constants; `validate`: kept out of sample.")
    scenario: FileName = Field(description="The scenario file (next to the register, or in "
                               "the shipped scenarios/ folder); the baseline of a paired "
                               "statistic.")
    variant: Optional[Variant] = Field(None, description="What the pattern's run changes in "
                                       "the scenario.")
    statistic: Annotated[Any, BeforeValidator(_statistic)] = Field(
        description="A statistic of the library (docs/PATTERNS.md): its name, or a mapping "
        "with `name` and its settings.")
    target: Target = Field(description="What the statistic should be.")
    source: Source = Field(description="Where the target comes from.")


class RegisterFile(_Strict):
    """A register of patterns the model should reproduce."""

    name: Name = Field(min_length=1, max_length=200, description="Title of the register.")
    description: Text = Field("", max_length=20_000, description="What it covers.")
    seed: Count = Field(0, ge=0, le=2**63 - 1, description="Default root seed.")
    patterns: list[PatternSpec] = Field(min_length=1, max_length=1000,
                                        description="The patterns.")

    @field_validator("patterns")
    @classmethod
    def _unique(cls, patterns):
        seen: set[str] = set()
        for i, p in enumerate(patterns):
            if p.name in seen:
                raise FieldError((i, "name"), f"duplicate pattern name {p.name!r}")
            seen.add(p.name)
        return patterns
