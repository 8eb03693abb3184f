"""The business case as planned: what the charter's numbers promise if all goes to plan.

Planners write a target into the charter; this computes, for a scenario's central values,
what the plan itself projects (maturity reaching 1 after the ramp-up, every partner staying),
so `collabsim validate` can show whether the target is in line with the plan.
"""

from __future__ import annotations

from sim import rules
from sim.inputs import central_uniforms, resolve, uncertain_paths
from sim.scenario import Scenario


def planned_net_savings(inputs) -> tuple[float, float | None]:
    """(cumulative net savings at the horizon, break-even cycle) if the plan holds."""
    size = inputs.traits["size"]
    cum, maturity, break_even = 0.0, 0.0, None
    for cycle in range(1, inputs.horizon + 1):
        active = inputs.joins_at <= cycle
        previous = maturity
        maturity = float(rules.planned_maturity(cycle, inputs.ramp_up_cycles))
        gross = inputs.savings_potential * size[active].sum() * previous / 2.0
        spend = inputs.implementation_cost_m * (maturity - previous) + \
            (inputs.dedicated * inputs.team_cost_m + inputs.training * inputs.training_cost_m) / 2
        cum += gross - spend
        if break_even is None and cum > 0:
            break_even = cycle
    return cum, break_even


def describe(scenario: Scenario) -> dict:
    """A short description of what a scenario sets up, at the point estimates of its uncertain
    inputs (the mode of a three-point estimate, the median otherwise)."""
    mid = resolve(scenario, central_uniforms(scenario))
    planned, break_even = planned_net_savings(mid)
    return {
        "name": scenario.name,
        "partners": len(mid.names),
        "horizon_cycles": scenario.horizon,
        "uncertain_inputs": len(uncertain_paths(scenario)),
        "shocks": len(scenario.shocks),
        "decision_rule": mid.decision_rule,
        "target_net_savings_m (point estimate)": round(mid.target_net_savings_m, 3),
        "plan projects net savings_m (point estimates)": round(planned, 3),
        "plan break-even cycle": break_even,
    }
