"""The clauses a charter design may change (its levers), from the command line or a design file.

A lever names a charter field by path (sim.scenario.fields) and what it may be:

    charter.decision_rule                      every choice the field has
    charter.programme_team.dedicated           a share: anywhere from 0 to 1
    charter.programme_team.dedicated=0.2:0.9   a range (numbers: any value in it; whole-number
    charter.exit.notice_cycles=0:4             fields: every whole number in it)
    charter.benefit_sharing=by_size|by_contribution   a list of values (choices or numbers)

A design file says the same in YAML, with the search's other terms:

    levers:
      charter.decision_rule: [unanimity, majority]       # a list of values
      charter.programme_team.dedicated: {from: 0, to: 1} # a range
      charter.consensus:                                 # nothing: the default, as above
    budget: 2             # at most 2 clauses changed from the draft (optional)
    sign_share: 0.6       # each partner better off than staying out in 60% of futures
    against: [../scenarios/strong_charter.yaml]          # charters to beat, relative to this file

Only charter clauses are levers (the partners and the world are not the partners' to sign), and
only clauses the scenario fixes: a clause the scenario gives as a distribution is an uncertain
fact, not a choice; the business case's target is what every charter is judged against; and
what the service saves and what implementation, a team and training cost are estimates of the
world (a charter chooses how much team and training to buy, at their price).
Every problem is a sim.ScenarioError naming the lever (or the file and field), checked before
anything runs; ranges and values are validated by the scenario's own schema.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.scenario.fields import field_of
from sim.scenario.loading import (ScenarioError, format_validation_errors, parse_yaml,
                                  read_scenario_text)
from sim.scenario.schema import Count, Name, Scenario

#: Charter fields that are shares (0 to 1): a lever on one may leave its range out.
SHARES = ("charter.programme_team.dedicated", "charter.programme_team.training",
          "charter.consensus", "charter.penalties.threshold", "charter.penalties.call_out")
#: What every charter is judged against, and what things cost or save: never levers.
NOT_LEVERS = {
    "charter.business_case.target_net_savings_m": "the business case's target is what every "
    "charter is judged against (the draft's), so it cannot be a lever",
    **{f"charter.{path}": f"{what} is an estimate of the world, not a clause the partners "
       "choose (set it in the scenario)" for path, what in (
           ("business_case.savings_potential", "what the service can save"),
           ("business_case.implementation_cost_m", "what implementation costs"),
           ("programme_team.team_cost_m", "the price of a dedicated team"),
           ("programme_team.training_cost_m", "the price of training"))},
}
#: The most values a listed lever may have, and the most levers a design may have.
MAX_VALUES = 100
MAX_LEVERS = 30


@dataclass(frozen=True)
class Lever:
    """One clause the search may change: a continuous range (`low`..`high`, numbers), every
    whole number in a range (integers), or one of a list of `values`; `draft` is the scenario's
    own value of the clause."""

    path: str
    kind: str                 # "range", "integers" or "values"
    draft: Any
    low: Optional[float] = None
    high: Optional[float] = None
    values: tuple = ()

    def describe(self) -> str:
        if self.kind == "values":
            return " | ".join(str(v) for v in self.values)
        return f"{self.low:g} to {self.high:g}" + (" (whole numbers)"
                                                  if self.kind == "integers" else "")

    def same(self, a, b) -> bool:
        """Whether two values of the clause are the same clause (numbers to 1e-9)."""
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
                and not isinstance(a, bool) and not isinstance(b, bool):
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        return a == b


def parse_lever_text(text: str) -> dict[str, Any]:
    """`PATH[=LOW:HIGH|=A|B|...]`, comma-separated, as a mapping path -> spec (None, a range
    {from, to} or a list of values), the form a design file has. Values stay text here; the
    field's kind decides what they are."""
    specs: dict[str, Any] = {}
    problems = []
    for item in (part.strip() for part in str(text).split(",")):
        if not item:
            continue
        path, has_spec, spec = (s.strip() for s in item.partition("="))
        if path in specs:
            problems.append(f"{path}: given twice")
            continue
        if not has_spec:
            specs[path] = None
        elif "|" in spec:
            specs[path] = [v.strip() for v in spec.split("|")]
        elif ":" in spec:
            low, _, high = spec.partition(":")
            specs[path] = {"from": low.strip(), "to": high.strip()}
        else:
            problems.append(f"{path}={spec}: give a range LOW:HIGH or values A|B|C")
    if problems:
        raise ScenarioError("--levers", problems)
    if not specs:
        raise ScenarioError("--levers", ["name at least one charter clause, e.g. "
                                         "charter.decision_rule,charter.programme_team.dedicated"])
    return specs


def levers_for(scenario: Scenario, specs: Mapping[str, Any], source: str = "--levers"
               ) -> list[Lever]:
    """The levers `specs` (path -> None, a range or a list) name on `scenario`, each checked:
    a charter clause the scenario fixes, a range inside the field's allowed values, at least
    two values. ScenarioError (from `source`) lists every problem."""
    problems: list[str] = []
    levers = []
    if not specs:
        problems.append("name at least one charter clause")
    if len(specs) > MAX_LEVERS:
        problems.append(f"{len(specs)} levers: at most {MAX_LEVERS}")
    for path, spec in specs.items():
        try:
            levers.append(_lever(scenario, str(path), spec, source))
        except ScenarioError as exc:
            problems += exc.problems
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
    if problems:
        raise ScenarioError(source, problems)
    return levers


def _lever(scenario: Scenario, path: str, spec: Any, source: str) -> Lever:
    field = field_of(scenario, path, source)
    if not path.startswith("charter."):
        raise ValueError("not a charter clause: levers are what the partners sign (partners, "
                         "shocks and model constants are the world's)")
    draft = scenario.value_of(path)
    if isinstance(draft, (dict, list)) or hasattr(draft, "bounds"):
        raise ValueError("the scenario gives it as a distribution: an uncertain fact, not a "
                         "clause the partners choose" + ("" if path in NOT_LEVERS else
                                                         " (give it one value in the scenario "
                                                         "to make it a lever)"))
    if path in NOT_LEVERS:
        raise ValueError(NOT_LEVERS[path])
    if spec is None:
        if field.kind == "category":
            _check_choices(scenario, path, field.choices, source)
            return Lever(path, "values", draft, values=tuple(field.choices))
        if path in SHARES:
            return Lever(path, "range", draft, low=0.0, high=1.0)
        raise ValueError(f"give its range ({path}=LOW:HIGH) or values ({path}=A|B)")
    if isinstance(spec, Mapping):
        if set(spec) != {"from", "to"}:
            raise ValueError("a range is {from: LOW, to: HIGH}")
        if field.kind == "category":
            raise ValueError(f"a choice of {', '.join(map(str, field.choices))}: list the "
                             "choices (A|B), not a range")
        low, high = (_number(spec[k], field.kind, k) for k in ("from", "to"))
        if not low < high:
            raise ValueError(f"the range {low:g} to {high:g} is empty: LOW must be below HIGH")
        _check_values(scenario, path, [low, high], source)
        kind = "integers" if field.kind == "integer" else "range"
        return Lever(path, kind, draft, low=low, high=high)
    if isinstance(spec, (list, tuple)):
        if len(spec) > MAX_VALUES:
            raise ValueError(f"{len(spec)} values: at most {MAX_VALUES}")
        values = [v if field.kind == "category" else _number(v, field.kind, "a value")
                  for v in spec]
        values = [str(v) if field.kind == "category" and isinstance(v, str) else v
                  for v in values]
        if len(set(map(repr, values))) < len(values):
            raise ValueError("a value is listed twice")
        if len(values) < 2:
            raise ValueError("one value is not a choice: set it in the scenario, or list at "
                             "least two")
        _check_values(scenario, path, values, source)
        return Lever(path, "values", draft, values=tuple(values))
    raise ValueError(f"expected nothing, a range {{from, to}} or a list of values, got {spec!r}")


def _number(value: Any, kind: str, what: str) -> float:
    """A range end or listed value as the field's kind of number (text from the command line
    is read as a number here; yes/no values are refused)."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{what}: a number, got {value!r}") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what}: a finite number, got {value!r}")
    if kind == "integer":
        if value != int(value):
            raise ValueError(f"{what}: a whole number, got {value!r}")
        return int(value)
    return float(value)


def _check_values(scenario: Scenario, path: str, values: list, source: str) -> None:
    """Each value is one the scenario's schema allows at `path` (its error names the field)."""
    for value in values:
        try:
            scenario.with_values({path: value}, source=source)
        except ScenarioError as exc:
            raise ScenarioError(source, exc.problems) from None


def _check_choices(scenario: Scenario, path: str, choices, source: str) -> None:
    """Every choice of a categorical clause is one this scenario can take (lead_partner needs
    a lead for every service, say); if not, name those that are not and those that are."""
    refused = {}
    for choice in choices:
        try:
            scenario.with_values({path: choice}, source=source)
        except ScenarioError as exc:
            refused[choice] = exc.problems[0].split(": ", 1)[-1]
    if refused:
        fine = [c for c in choices if c not in refused]
        raise ValueError("; ".join(f"{c} is not possible in this scenario ({why})"
                                   for c, why in refused.items())
                         + (f"; list the choices that are: {path}={'|'.join(fine)}"
                            if len(fine) > 1 else ""))


def check_budget(budget: Optional[int], levers: list[Lever], source: str = "--budget") -> None:
    """An edit budget counts clauses changed from the draft: at least 1, at most the levers."""
    if budget is None:
        return
    if isinstance(budget, bool) or not isinstance(budget, int) or not 1 <= budget <= len(levers):
        raise ScenarioError(source, [f"{budget!r}: the most clauses a charter may change from "
                                     f"the draft, a whole number from 1 to the number of levers "
                                     f"({len(levers)})"])


def check_sign_share(share: float, source: str = "--sign-share") -> float:
    """The share of futures in which each partner must be better off than staying out."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) \
            or not math.isfinite(share) or not 0 <= share <= 1:
        raise ScenarioError(source, [f"{share!r}: a share of futures, from 0 to 1"])
    return float(share)


# --- the design file ---------------------------------------------------------------------------


class DesignFile(BaseModel):
    """A design file's fields (docs/DESIGN-SEARCH.md). Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levers: dict[str, Any] = Field(description="Charter field path -> nothing (the default), a "
                                   "range {from, to} or a list of values.")
    budget: Optional[Count] = Field(None, ge=1, le=MAX_LEVERS, description="At most this many "
                                    "clauses changed from the draft.")
    sign_share: Optional[float] = Field(None, ge=0.0, le=1.0, description="Each partner better "
                                        "off than staying out in at least this share of "
                                        "futures.")
    against: Union[Name, list[Name]] = Field(default_factory=list, description="Scenario files "
                                             "(relative to this file) whose charters the "
                                             "results are compared with.")


@dataclass(frozen=True)
class Design:
    """A design file, read and checked: its levers' specs, terms and the `against` paths
    resolved against the file's folder."""

    levers: dict
    budget: Optional[int]
    sign_share: Optional[float]
    against: tuple[str, ...]
    text: str


def load_design_file(path: str | os.PathLike) -> Design:
    """Read a design file (ScenarioError naming the file and field for any problem)."""
    source = str(path)
    text = read_scenario_text(path)
    data = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise ScenarioError(source, ["a design file is a mapping with `levers:` (and optionally "
                                     "budget, sign_share, against)"])
    try:
        spec = DesignFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, format_validation_errors(exc, data, DesignFile)) from None
    against = [spec.against] if isinstance(spec.against, str) else list(spec.against)
    here = Path(path).parent
    return Design(dict(spec.levers), spec.budget, spec.sign_share,
                  tuple(str(here / a) for a in against), text)
