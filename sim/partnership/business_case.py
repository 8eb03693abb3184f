"""The business case as planned: what the charter's numbers promise if all goes to plan.

The plan itself is a rule (rules.planned_money) computed for every replication from what its
planners know (sim.partnership.inputs); this describes it at a scenario's point estimates, so
`collabsim
validate` can show what the plan projects and whether the target is in line with it.
"""

from __future__ import annotations

import numpy as np

from sim.partnership.inputs import central_uniforms, resolve, uncertain_paths
from sim.scenario.schema import PLAN, Scenario


def describe(scenario: Scenario) -> dict:
    """A short description of what a scenario sets up, at the point estimates of its uncertain
    inputs (the mode of a three-point estimate, the median otherwise)."""
    mid = resolve(scenario, central_uniforms(scenario))
    plan = mid.planned_money.sum(axis=-1)                 # cumulative, review 0..horizon
    positive = np.flatnonzero(plan[1:] > 0)
    target = scenario.charter.business_case.target_net_savings_m
    return {
        "name": scenario.name,
        "partners": len(mid.names),
        "horizon_cycles": scenario.horizon,
        "uncertain_inputs": len(uncertain_paths(scenario)),
        "shocks": len(scenario.shocks),
        "decision_rule": mid.decision_rule,
        "target": "the plan's projection, in each run" if target == PLAN
        else "fixed in the charter",
        "target_net_savings_m (point estimate)": round(float(mid.target_net_savings_m), 3),
        "plan projects net savings_m (point estimates)": round(float(plan[-1]), 3),
        "plan break-even cycle": int(positive[0] + 1) if len(positive) else None,
    }
