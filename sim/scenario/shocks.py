"""Shocks written on the command line, `KIND` or `KIND:key=value,...` with the keys of a
scenario's shock (partner, at_cycle, rate, magnitude), e.g. "budget_cut:partner=Northshire,
at_cycle=3", and scenarios with shocks added. Light to import (no pandas), so that a bad
`--shock` is refused at once; sim.analysis.stress builds the stress tests on it.
"""

from __future__ import annotations

import difflib

from sim.scenario.loading import as_scenario, scenario_data, scenario_from_dict
from sim.scenario.schema import SHOCK_KINDS, Scenario

#: When a shock given without a timing strikes: review 2, a year in (the first annual budget
#: round after the partnership starts).
DEFAULT_AT_CYCLE = 2


class StressError(ValueError):
    """A shock, range or setting that cannot be stress-tested, with what to do instead."""



def parse_shock(text: str, **defaults) -> dict:
    """"KIND" or "KIND:key=value,..." as a scenario shock mapping; `defaults` (partner,
    at_cycle, rate, magnitude) fill what the text leaves out. Validated with the scenario."""
    kind, _, rest = text.strip().partition(":")
    if kind not in SHOCK_KINDS:

        close = difflib.get_close_matches(kind, SHOCK_KINDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise StressError(f"--shock {text}: unknown shock kind {kind!r}{hint}; kinds: "
                          f"{', '.join(SHOCK_KINDS)}")
    shock = {"kind": kind}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or key not in ("partner", "at_cycle", "rate", "magnitude"):
            raise StressError(f"--shock {text}: {item!r} is not partner=NAME, at_cycle=N, "
                              "rate=X or magnitude=X")
        if key in shock:
            raise StressError(f"--shock {text}: {key} is given twice; give it once")
        shock[key] = value if key == "partner" else _number(text, key, value)
    for key, value in defaults.items():
        if value is not None and key not in shock and not (
                key in ("at_cycle", "rate") and ({"at_cycle", "rate"} & shock.keys())):
            shock[key] = value
    return shock


def _number(text: str, key: str, value: str) -> float | int:
    try:
        return int(value) if key == "at_cycle" else float(value)
    except ValueError:
        raise StressError(f"--shock {text}: {key}={value} is not a number") from None


def with_shocks(scenario, shocks: list, source: str = "--shock") -> Scenario:
    """The scenario (a Scenario, mapping or path) with `shocks` added after its own, each a
    scenario shock mapping or a "KIND:key=value,..." text as `collabsim run --shock` takes it
    (a text without a timing strikes at review DEFAULT_AT_CYCLE). Checked like a scenario
    file: a bad text raises StressError, a bad shock ScenarioError naming `source`.

        sim.with_shocks("scenarios/three_councils.yaml", ["budget_cut:partner=Northshire"])
    """
    added = [parse_shock(s, at_cycle=DEFAULT_AT_CYCLE) if isinstance(s, str) else dict(s)
             for s in shocks]
    data = scenario_data(as_scenario(scenario))
    data["shocks"] = data.get("shocks", []) + added
    return scenario_from_dict(data, source=source)
