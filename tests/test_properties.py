"""Invariants under random valid scenarios, for both engines, and extreme but valid inputs.

Mesa's per-review invariants (trust in range, money conserved at every review, exits
permanent, partners appearing only by joining, dissolution) are checked review by review in
tests/test_model.py (check_invariants); here the same properties are checked on the vectorised
engine's results, with the traits, the outcome classes and finiteness on top, and both engines
are run on extreme inputs with every floating-point problem turned into an error.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scenarios

import sim
from sim.partnership.engine import SERIES, simulate
from sim.partnership.outcomes import STUMBLING_PCT, THRIVING_TRUST, vector_outcomes

pytestmark = pytest.mark.slow   # every test here takes half a second or more

#: Examples per property (recorded in docs/RELIABILITY.md).
VECTOR_EXAMPLES = 200
MESA_EXAMPLES = 100
IN_UNIT = ("maturity", "mean_trust", "min_trust", "alignment", "decision_pace", "team_delivery",
           "team_skill", "mean_satisfaction")


def joins_by_cycle(run, scenario):
    """Partners that may appear at each review: scheduled joiners and partner_join events."""
    H = scenario.horizon
    allowed = np.zeros((len(run.replications), H + 1))
    for t in range(1, H + 1):
        allowed[:, t] += sum(p.joins_at == t for p in scenario.partner_specs())
    for cycle, kind, who in run.shock_events:
        if kind == "partner_join":
            allowed[:, cycle] += who.sum(axis=1)
    return allowed


@settings(max_examples=VECTOR_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(max_partners=8), st.integers(0, 2**32 - 1))
def test_vector_engine_invariants(data, seed):
    scenario = sim.scenario_from_dict(data)
    run = simulate(scenario, seed, range(6))
    S = run.series
    # no NaN or infinity anywhere
    for name in SERIES:
        assert np.isfinite(S[name].astype(float)).all(), name
    assert np.isfinite(run.net_money).all()
    # trust and the other shares stay within [0, 1]; traits as sampled stay in range
    for name in IN_UNIT:
        assert (S[name] >= -1e-12).all() and (S[name] <= 1 + 1e-12).all(), name
    for trait in ("ambition", "resourcing", "skills", "trustworthiness", "commitment"):
        values = run.inputs.traits[trait]
        assert ((values >= 0) & (values <= 1)).all(), trait
    # money is conserved: what the partners hold is the partnership's net savings
    held = run.net_money.sum(axis=1)
    net = S["cum_net_savings_m"][:, -1]
    scale = np.maximum(1.0, np.abs(run.net_money).sum(axis=1))
    assert (np.abs(held - net) <= 1e-9 * scale).all()
    # active partners never increase except by joining (on schedule or by a join shock)
    active = S["active_partners"]
    rise = np.diff(active, axis=1)
    assert (rise <= joins_by_cycle(run, scenario)[:, 1:] + 1e-9).all()
    # exits are permanent and dissolution is final
    gone = run.exited_at >= 0
    assert (active[:, -1] <= (~gone).sum(axis=1)).all()
    dissolved = S["dissolved"].astype(bool)
    assert (np.diff(dissolved.astype(int), axis=1) >= 0).all()
    assert (dissolved[:, -1] == (run.dissolved_at >= 0)).all()
    # outcome classes agree with the figures
    table = vector_outcomes(run)
    for _, row in table.iterrows():
        if row["delivered"]:
            assert not row["dissolved"]
            assert row["net_savings_m"] >= run.inputs.target_net_savings_m[int(row.name)] - 1e-9
        assert (row["status"] == "dissolved") == row["dissolved"]
        if row["status"] == "thriving":
            assert row["delivered"] and row["exits"] == 0
            assert row["final_mean_trust"] >= THRIVING_TRUST
        if row["status"] == "crumbling":
            assert row["savings_pct"] < STUMBLING_PCT and not row["delivered"]
        assert row["exits"] == gone[int(row.name)].sum()


@settings(max_examples=MESA_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(max_partners=6), st.integers(0, 2**32 - 1))
def test_mesa_traits_stay_in_range_and_nothing_is_nan(data, seed):
    model = sim.PartnershipModel(scenario=sim.scenario_from_dict(data), rng=seed)
    while model.running:
        model.step()
        for a in model.partners:
            for trait in ("ambition", "resourcing", "skills", "trustworthiness", "commitment",
                          "volatility", "control_concern", "effort", "kept"):
                value = getattr(a, trait)
                assert np.isfinite(value) and -1e-12 <= value <= 1 + 1e-12, (trait, value)
            p = model.inputs.params   # satisfaction: positive weights less shortfalls (control too)
            top = p.weight_benefit + p.weight_fairness + p.weight_vision + p.weight_values \
                + p.weight_trust
            assert -p.weight_control - 1e-12 <= a.satisfaction <= top + 1e-12, a.satisfaction
            assert np.isfinite(a.net_money)
    agents = model.datacollector.get_agent_vars_dataframe()
    numeric = agents.select_dtypes("number")
    active = agents["active"].astype(bool)
    assert np.isfinite(numeric[active].to_numpy(float)).all()


# --- extreme but valid inputs -------------------------------------------------------------------


def extreme(n=3, horizon=10, trait=None, **charter):
    traits = ("ambition", "resourcing", "skills", "trustworthiness", "trust_propensity",
              "commitment", "volatility", "control_concern")
    partner = {t: (0.5 if trait is None else trait) for t in traits}
    partners = [{"name": f"P{i}", "size": 1.0 + i % 3, "patience": 2, **partner}
                for i in range(n)]
    return sim.scenario_from_dict({
        "name": "extreme", "horizon": horizon, "partners": partners,
        "shocks": [{"kind": "leadership_change", "partner": "any", "rate": 0.3},
                   {"kind": "budget_cut", "partner": "all", "rate": 0.2, "magnitude": 1.0},
                   {"kind": "supplier_failure", "partner": "all", "rate": 0.1,
                    "magnitude": 1.0}],
        "charter": {"business_case": {"target_net_savings_m": 1.0, "savings_potential": 1.0,
                                      "implementation_cost_m": 5.0, "ramp_up_cycles": 1.0},
                    "penalties": {"threshold": 1.0, "rate": 10.0, "call_out": 1.0},
                    "exit": {"penalty": 10.0, "notice_cycles": 0}, **charter},
    })


EXTREMES = {
    "all traits 0": (extreme(trait=0.0), True),
    "all traits 1": (extreme(trait=1.0), True),
    "two partners": (extreme(n=2), True),
    "fifty partners": (extreme(n=50, horizon=20), True),
    "200 cycles": (extreme(horizon=200), True),
    "fifty partners, 200 cycles": (extreme(n=50, horizon=200), False),  # vector engine only
    "everything maximal": (extreme(trait=1.0, programme_team={"dedicated": 1, "training": 1},
                                   consensus=1.0), True),
}


@pytest.mark.parametrize("case", list(EXTREMES))
def test_extreme_inputs_run_without_warnings_or_nan(case):
    scenario, with_mesa = EXTREMES[case]
    with warnings.catch_warnings(), np.errstate(divide="raise", over="raise", invalid="raise"):
        warnings.simplefilter("error")
        run = simulate(scenario, 11, range(20))
        for name in SERIES:
            assert np.isfinite(run.series[name].astype(float)).all(), name
        table = vector_outcomes(run)
        assert np.isfinite(table.select_dtypes("number").drop(
            columns=["break_even_cycle", "dissolution_cycle", "first_exit_cycle"]).to_numpy(
            float)).all()
        if with_mesa:
            model = sim.PartnershipModel(scenario=scenario, rng=11)
            while model.running:
                model.step()
            history = model.datacollector.get_model_vars_dataframe()
            assert np.isfinite(history.select_dtypes("number").to_numpy(float)).all()
