"""Generate docs/SCENARIOS.md from the scenario schema itself, so the two cannot drift.

    python -m sim.scenario.schema_docs > docs/SCENARIOS.md
"""

from __future__ import annotations

import typing

from pydantic import BaseModel

from sim.scenario.loading import SHIPPED_SCENARIOS
from sim.scenario.parameters import ModelParameters
from sim.scenario.schema import (BENEFITS, DEFAULT_MAGNITUDE, Behaviour, BusinessCase, Charter,
                                 ExitTerms, Particles, Partner, Penalties, Population,
                                 ProgrammeTeam, Scenario, Service, Shock)

INTRO = """# Scenario files

A scenario is a YAML file describing a proposed partnership: the partners, the relationship
charter they mean to sign, how long to simulate, and the shocks that may hit it. This page is
generated from the schema in `sim/scenario/schema.py`
(`python -m sim.scenario.schema_docs > docs/SCENARIOS.md`); a test fails if the two differ.

* **Money** is in £m. A partner's `size` is its annual in-scope cost base.
* **Time** is in review cycles of six months; `horizon: 10` is five years.
* **Traits** are in [0, 1] unless a range says otherwise.
* **Uncertain numbers.** Any number marked *uncertain* below may be a fixed value or a
  distribution, sampled afresh in every replication:

```yaml
ambition: 0.4                                  # fixed
ambition: {uniform: [0.3, 0.6]}                # low, high
ambition: {triangular: [0.2, 0.4, 0.7]}        # low, mode, high (a three-point estimate)
ambition: {beta: {a: 2, b: 5}}                 # optionally low/high to rescale
ambition: [0.3, 0.45, 0.6]                     # one of these values, equally likely
```

  A distribution must lie wholly inside the field's allowed range. The plan
  (`collabsim validate`) uses each input's point estimate: the mode of a triangular, the
  median otherwise.
* **Partners or population.** Give either `partners:` (a list of named organisations) or
  `population:` (a count and one set of trait distributions; every partner is drawn
  independently in each replication). Not both.
* **Typos are errors.** Unknown keys are refused, with the closest known key suggested.
* **Numbers are numbers.** Where a number belongs, `true`/`false`, text such as `"0.3"` and
  YAML 1.1's `yes`, `no`, `on`, `off`, `1:30` (sexagesimal) and `010` (octal) are refused,
  not read as 1, 0, 90 or 8.
* **Names and descriptions are plain text.** Control characters (escape sequences, bell,
  carriage return; tabs and line breaks in names) are refused, and so is a blank name. No
  partner may be called `all` or `any`: shocks use those words for every partner and a random
  one.
* **Weights must weigh something.** A `vision` or `priorities` map whose weights are all zero
  (or can all be zero in the same run) is refused rather than read as equal weights.

Check a file with `collabsim validate FILE`.
"""


def _type_name(annotation) -> str:
    text = str(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated and "Uniform" not in text:   # a checked int or text
        return _type_name(typing.get_args(annotation)[0])
    if "dict[" in text:
        return "mapping benefit -> number (uncertain)" + (", optional" if "None" in text else "")
    if "Uniform" in text:
        return "number (uncertain)"
    if origin is typing.Literal:
        return " / ".join(f"`{a}`" for a in typing.get_args(annotation))
    if annotation in (int, float, str, bool):
        return {int: "integer", float: "number", str: "text", bool: "true/false"}[annotation]
    if origin in (list,):
        inner = typing.get_args(annotation)[0]
        return f"list of {getattr(inner, '__name__', str(inner))}"
    if origin is dict:
        return "mapping benefit -> number (uncertain)"
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if args and len(args) < len(typing.get_args(annotation)):
        return _type_name(args[0]) + ", optional"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return text.replace("typing.", "")


def _range(field) -> str:
    lo = hi = None
    for m in field.metadata:
        lo = getattr(m, "ge", lo) if getattr(m, "ge", None) is not None else lo
        hi = getattr(m, "le", hi) if getattr(m, "le", None) is not None else hi
        check = getattr(m, "func", None)
        if check is not None and getattr(check, "__name__", "") == "_check":
            cells = check.__closure__ or ()
            values = [c.cell_contents for c in cells if isinstance(c.cell_contents, float)]
            if len(values) == 2:
                lo, hi = sorted(values)
    inner = [a for a in typing.get_args(field.annotation) if a is not type(None)]
    for arg in inner:
        for m in getattr(arg, "__metadata__", ()):
            check = getattr(m, "func", None)
            if check is not None and getattr(check, "__name__", "") == "_check":
                values = [c.cell_contents for c in (check.__closure__ or ())
                          if isinstance(c.cell_contents, float)]
                if len(values) == 2:
                    lo, hi = sorted(values)
    if lo is None and hi is None:
        return ""
    return f"[{_g(lo)}, {_g(hi)}]"


def _g(x) -> str:
    if x is None:
        return ""
    return f"{x:,}" if isinstance(x, int) and abs(x) > 1e6 else f"{x:g}"


def _default(field) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "defaults"
        if isinstance(value, dict) and set(value) == set(BENEFITS):
            return "all nine equal"
        return f"`{value}`" if value != [] else "none"
    return f"`{field.default}`" if field.default is not None else "none"


def _table(model: type[BaseModel], skip=()) -> list[str]:
    lines = ["| field | type | default | range | meaning |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        desc = (field.description or "").replace("|", "/")
        lines.append(f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | "
                     f"{_range(field)} | {desc} |")
    return lines


SECTIONS = [
    (Scenario, "The top level of the file.", ("parameters",)),
    (Partner, "One organisation (in `partners:`).", ()),
    (Population, "Partners generated from distributions (in `population:`); `traits` takes "
     "every field of a partner except `name` and `joins_at`.", ()),
    (Charter, "The relationship charter / Target Operating Model (in `charter:`).", ()),
    (BusinessCase, "In `charter.business_case`.", ()),
    (Penalties, "In `charter.penalties`.", ()),
    (ExitTerms, "In `charter.exit`.", ()),
    (ProgrammeTeam, "In `charter.programme_team`.", ()),
    (Service, "An item of `charter.services`.", ()),
    (Shock, "An item of `shocks:`. Give `at_cycle` for a scheduled shock or `rate` for a random "
     "one.", ()),
    (Behaviour, "In `behaviour:`: `{posterior: PATH}` runs every replication with one particle "
     "of a calibration's posterior (`collabsim calibrate`), drawn by weight from a random "
     "stream of the replication's own, so no other random number changes. The posterior's "
     "columns must be number fields of the scenario that it gives as plain numbers (not "
     "distributions, not `partner_similarity`); a value set by path (a sweep, grid, "
     "`with_values`) wins over the posterior's. A bad folder (missing, not a calibration, "
     "columns that are not such fields, weights that are not finite and positive, values "
     "outside a field's range) is refused like any bad field.", ()),
    (Particles, "In `behaviour.particles`: the posterior as loaded from the folder (a file "
     "gives only `posterior`; a scenario built in Python or saved whole may carry it).",
     ()),
]


def render() -> str:
    out = [INTRO]
    for model, intro, skip in SECTIONS:
        out += [f"## {model.__name__}", "", intro, "", *_table(model, skip), ""]
    out += ["## Benefits", "",
            "Keys of `priorities` and `charter.vision`: the nine primary benefits of shared "
            "services (document 001), in order:", ""]
    out += [f"{i + 1}. `{b}`" for i, b in enumerate(BENEFITS)] + [""]
    out += ["## Shock kinds", "", "| kind | default magnitude | effect (docs/ODD.md) |",
            "|---|---|---|"]
    effects = {
        "leadership_change": "new leadership: ambition redrawn, interest lapses, its own trust "
                             "partly reset towards its trust_propensity, others' trust in it "
                             "dented by the magnitude",
        "budget_cut": "resourcing cut by the magnitude from that review on",
        "staff_loss": "skills cut by the magnitude (loss of key staff)",
        "supplier_failure": "programme maturity set back by the magnitude (whole partnership)",
        "partner_exit": "the partner leaves at once (no exit penalty), with chance = magnitude",
        "partner_join": "a partner not yet in (`joins_at: null` or a later `joins_at`) joins "
                        "at once, with chance = magnitude; `any` picks one of them",
        "lapse": "the partner's interest lapses with chance = magnitude (it may re-engage in "
                 "the same review with chance = its commitment)",
    }
    out += [f"| `{k}` | {v:g} | {effects[k]} |" for k, v in DEFAULT_MAGNITUDE.items()] + [""]
    out += ["## Model parameters (advanced)", "",
            "Behavioural constants shared by every partner, under `parameters:`. They are not "
            "properties of a partnership; change them only to test the model itself. Defaults "
            "are the calibrated values (docs/VALIDATION.md).", "",
            "| parameter | default | range | meaning |", "|---|---|---|---|"]
    for name, field in ModelParameters.model_fields.items():
        out.append(f"| `{name}` | {field.default:g} | {_range(field)} | "
                   f"{(field.description or '').replace('|', '/')} |")
    out += ["", "## An example", "", "```yaml",
            (SHIPPED_SCENARIOS / "three_councils.yaml")
            .read_text().rstrip(), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
