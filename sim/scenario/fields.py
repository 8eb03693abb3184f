"""Every field of a scenario a user may set by path, in one table, with get and set by path.

A path names one field the way a modeller would write it: `partners.Northshire.ambition`,
`partners.*.resourcing` (every partner), `charter.decision_rule`, `charter.exit.notice_cycles`,
`shocks[0].magnitude`, `partner_similarity.skills`, `parameters.trust_memory`, `horizon`.
Sweeps, grids, discovery, `sim.evaluate`, the Mesa model's keyword paths, experiments and the
app all name fields through this module, so a new charter clause is added in one place
(`CHARTER_NUMBERS` or `CHARTER_CHOICES`) and every tool knows it.

Each field has a kind: a `number` (a float; `sampled` numbers may also be a distribution drawn
afresh in each replication: the scenario's uncertain inputs), an `integer`, or a `category`
with its choices. `with_values` sets fields on a copy of a scenario and validates the result
exactly as a scenario file is validated, so a wrong path or value gets the scenario's field
error, with a suggestion.
"""

from __future__ import annotations

import copy
import re
import typing
import weakref
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from sim.scenario.parameters import ModelParameters
from sim.scenario.schema import BENEFITS, PLAN, TRAITS, Charter, Scenario, suggest

#: The charter's numbers that may be uncertain, in the order a replication samples them, each
#: with the name the sampled value has in sim.partnership.inputs.PartnershipInputs. Adding a
#: numeric clause
#: to the charter means adding it here (and to the schema).
CHARTER_NUMBERS: tuple[tuple[str, str], ...] = (
    ("business_case.target_net_savings_m", "target_net_savings_m"),  # unless `plan`
    ("business_case.savings_potential", "savings_potential"),
    ("business_case.implementation_cost_m", "implementation_cost_m"),
    ("business_case.ramp_up_cycles", "ramp_up_cycles"),
    ("penalties.threshold", "penalty_threshold"),
    ("penalties.rate", "penalty_rate"),
    ("penalties.call_out", "call_out"),
    ("exit.penalty", "exit_penalty"),
    ("programme_team.dedicated", "dedicated"),
    ("programme_team.training", "training"),
    ("programme_team.team_cost_m", "team_cost_m"),
    ("programme_team.training_cost_m", "training_cost_m"),
    ("consensus", "consensus"),
)
#: The charter's categorical clauses (their choices come from the schema).
CHARTER_CHOICES: tuple[str, ...] = ("decision_rule", "cost_sharing", "benefit_sharing")
#: The charter's whole numbers.
CHARTER_INTEGERS: tuple[str, ...] = ("exit.notice_cycles",)

KINDS = ("number", "integer", "category")


@dataclass(frozen=True)
class Field:
    """One settable field: its path, kind, choices (categories) and whether it may be a
    distribution sampled per replication (an uncertain input)."""

    path: str
    kind: str = "number"
    choices: tuple = ()
    sampled: bool = False

    def check(self, value: Any) -> Any:
        """`value` as the field takes it (plain Python), or ValueError saying what it must be."""
        value = value.item() if hasattr(value, "item") and not isinstance(value, (str, dict)) \
            else value
        if self.kind == "category":
            if value not in self.choices:
                raise ValueError(f"one of {', '.join(map(str, self.choices))}, got {value!r}"
                                 f"{suggest(str(value), self.choices)}")
            return value
        if self.kind == "integer":
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or value != int(value):
                raise ValueError(f"a whole number, got {value!r}")
            return int(value)
        if isinstance(value, bool):
            raise ValueError(f"a number, got {value!r}")
        if isinstance(value, (int, float)):
            return float(value)
        if self.sampled and isinstance(value, dict):
            return value  # a distribution: the schema validates it
        if self.path == "charter.business_case.target_net_savings_m" and value == PLAN:
            return value
        raise ValueError(f"a number{' or a distribution' if self.sampled else ''}, "
                         f"got {value!r}")


def _choices(name: str) -> tuple:
    return typing.get_args(Charter.model_fields[name].annotation)


#: The table of the scenarios asked about lately (by identity; a scenario is immutable).
_TABLES: dict[int, tuple] = {}


def fields(scenario: Scenario) -> dict[str, Field]:
    """Every path that may be set on `scenario`, partners both by name and as `*` (a copy of
    the scenario's table: computed once per scenario object)."""
    found = _TABLES.get(id(scenario))
    if found is not None and found[0]() is scenario:
        return dict(found[1])
    table = _table(scenario)
    if len(_TABLES) >= 64:
        _TABLES.clear()
    _TABLES[id(scenario)] = (weakref.ref(scenario), table)
    return dict(table)


def _table(scenario: Scenario) -> dict[str, Field]:
    names = ["*", *scenario.partner_names()]
    table: list[Field] = [Field("horizon", "integer")]
    for who in names:
        table += [Field(f"partners.{who}.{t}", sampled=True) for t in TRAITS]
        table += [Field(f"partners.{who}.priorities.{b}", sampled=True) for b in BENEFITS]
        if scenario.partners is not None:
            table.append(Field(f"partners.{who}.joins_at", "integer"))
    if scenario.population is not None:
        table.append(Field("population.count", "integer"))
    table += [Field(f"charter.vision.{b}", sampled=True) for b in BENEFITS]
    table += [Field(f"charter.{path}", sampled=True) for path, _ in CHARTER_NUMBERS]
    table += [Field(f"charter.{c}", "category", _choices(c)) for c in CHARTER_CHOICES]
    table += [Field(f"charter.{c}", "integer") for c in CHARTER_INTEGERS]
    table += [Field("partner_similarity")] + [Field(f"partner_similarity.{t}") for t in TRAITS]
    for i, shock in enumerate(scenario.shocks):
        table += [Field(f"shocks[{i}].magnitude", sampled=True)]
        table += [Field(f"shocks[{i}].rate", sampled=True)] if shock.rate is not None else \
            [Field(f"shocks[{i}].at_cycle", "integer")]
    table += [Field(f"parameters.{p}") for p in ModelParameters.model_fields]
    return {f.path: f for f in table}


def sampled_paths(scenario: Scenario) -> list[str]:
    """The paths that may be uncertain inputs (what a sweep factor may name)."""
    return [p for p, f in fields(scenario).items() if f.sampled]


def field_of(scenario: Scenario, path: str, source: Optional[str] = None) -> Field:
    """The field `path` names, or a ScenarioError naming it, with a suggestion."""
    table = fields(scenario)
    if path in table:
        return table[path]
    from sim.scenario.loading import ScenarioError

    hint = suggest(path, table) or suggest(_generic(path), _generic_paths(table)) \
        or _ending_with(path, table)
    raise ScenarioError(source or scenario.name, [f"{path}: not a field of the scenario{hint}"])


def _ending_with(name: str, table) -> str:
    """A suggestion for a field's bare name (`ambition`): the first path that ends with it (for
    a trait, every partner's)."""
    ends = [p for p in _generic_paths(table) if p.endswith("." + name)]
    return f" (did you mean {ends[0]!r}?)" if ends else ""


def _generic(path: str) -> str:
    return re.sub(r"^partners\.[^.]+(?=\.)", "partners.*", path)


def _generic_paths(table) -> list[str]:
    return [p for p in table if not p.startswith("partners.") or p.startswith("partners.*.")]


def value_of(scenario: Scenario, path: str):
    """The value of a field (a number, a category, or the distribution given); for a `*` path
    the partners' values as a list."""
    field_of(scenario, path)
    head, _, rest = path.partition(".")
    if head == "partners":
        who, leaf = split_partner(rest, scenario.partner_names())
        specs = scenario.partner_specs()
        chosen = specs if who == "*" else [p for p in specs if p.name == who]
        values = [_leaf_of(p, leaf, scenario) for p in chosen]
        return values if who == "*" else values[0]
    if head == "parameters":
        return getattr(scenario.parameters, rest)
    if head == "partner_similarity":
        return scenario.similarity(rest) if rest else scenario.partner_similarity
    if head == "population":
        return scenario.population.count
    if head == "horizon":
        return scenario.horizon
    m = re.fullmatch(r"shocks\[(\d+)\]", head)
    node = scenario.shocks[int(m.group(1))] if m else scenario.charter
    for part in rest.split("."):
        # a benefit left out of the vision weighs 0
        node = node.get(part, 0.0) if isinstance(node, dict) else getattr(node, part)
    return node


def _leaf_of(partner, leaf: str, scenario: Scenario):
    if leaf.startswith("priorities."):
        b = leaf.split(".", 1)[1]
        return (partner.priorities or scenario.charter.vision).get(b, 0.0)
    return getattr(partner, leaf)


def split_partner(rest: str, names: list[str]) -> tuple[str, str]:
    """(partner name or '*', field) from what follows `partners.` (names may contain dots)."""
    for name in ["*", *sorted(names, key=len, reverse=True)]:
        if rest.startswith(name + "."):
            return name, rest[len(name) + 1:]
    raise KeyError(rest)


def with_values(scenario: Scenario, values: Mapping[str, Any],
                source: Optional[str] = None) -> Scenario:
    """A copy of `scenario` with each path set to its value, validated as a scenario file is:
    a wrong path or value raises sim.ScenarioError naming the field (with a suggestion).
    Charter fields are set first, so a partner that copies the vision copies the final one."""
    from sim.scenario.loading import ScenarioError, scenario_data, scenario_from_dict

    source = source or f"{scenario.name} (with values)"
    if not values:
        return scenario
    data = scenario_data(scenario)
    table = fields(scenario)
    problems = []
    for path in sorted(values, key=lambda p: not str(p).startswith("charter.")):
        try:
            field = field_of(scenario, path, source) if path not in table else table[path]
            set_value(data, scenario, path, field.check(values[path]))
        except ScenarioError as exc:
            problems += exc.problems
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
    if problems:
        raise ScenarioError(source, problems)
    _overrule_posterior(data, values)
    return scenario_from_dict(data, source=source)


def _overrule_posterior(data: dict, values: Mapping[str, Any]) -> None:
    """A value set by path wins over a posterior's (`behaviour:`): its column is dropped from
    the particles, and the behaviour with it when no column is left. So a sweep, grid or
    calibration that sets a constant the posterior also holds varies it as asked."""
    particles = (data.get("behaviour") or {}).get("particles")
    if not particles:
        return
    set_paths = {str(p) for p in values} | {_generic(str(p)) for p in values}
    keep = [i for i, path in enumerate(particles["paths"])
            if path not in set_paths and _generic(path) not in set_paths]
    if len(keep) == len(particles["paths"]):
        return
    if not keep:
        del data["behaviour"]
        return
    particles["paths"] = [particles["paths"][i] for i in keep]
    particles["values"] = [[row[i] for i in keep] for row in particles["values"]]


def set_value(data: dict, scenario: Scenario, path: str, value: Any) -> None:
    """Set `path` to `value` in `data` (scenario_data(scenario), edited in place). A `*` partner
    path on a population sets the population's traits; a named one turns the population into
    its partners. A partner without its own priorities copies the vision before one is set."""
    head, _, rest = path.partition(".")
    if head == "partners":
        who, leaf = split_partner(rest, scenario.partner_names())
        if who == "*" and data.get("population") is not None:
            entries = [data["population"]["traits"]]
        else:
            entries = _expand_population(data, scenario)
            entries = entries if who == "*" else [e for e in entries if e["name"] == who]
        for entry in entries:
            if leaf.startswith("priorities."):
                if not entry.get("priorities"):
                    vision = data["charter"].get("vision") or {b: 1.0 for b in BENEFITS}
                    if any(isinstance(v, (dict, list)) for v in vision.values()):
                        raise ValueError(f"{entry.get('name', 'the population')} shares the "
                                         "charter's uncertain vision; give it its own "
                                         "priorities in the scenario first")
                    entry["priorities"] = dict(vision)
                entry["priorities"][leaf.split(".", 1)[1]] = value
            else:
                entry[leaf] = value
        return
    if head == "partner_similarity":
        if not rest:
            data["partner_similarity"] = value
            return
        old = data.get("partner_similarity", 0.0)
        shares = dict(old) if isinstance(old, dict) else {t: old for t in TRAITS}
        shares[rest] = value
        data["partner_similarity"] = shares
        return
    if head in ("horizon",):
        data[head] = value
        return
    if head == "population":
        data["population"][rest] = value
        return
    m = re.fullmatch(r"shocks\[(\d+)\]", head)
    node = data["shocks"][int(m.group(1))] if m else data.setdefault(head, {})
    *parents, leaf = rest.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _expand_population(data: dict, scenario: Scenario) -> list[dict]:
    """The scenario's partners as explicit entries in `data`: a `population` (as edited so far)
    becomes its partners, named as Scenario.partner_names names them."""
    population = data.pop("population", None)
    if population is not None:
        prefix = population.get("name_prefix", "Partner")
        data["partners"] = [{"name": f"{prefix} {i + 1}", **copy.deepcopy(population["traits"])}
                            for i in range(population["count"])]
    return data["partners"]
