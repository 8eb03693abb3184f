"""Hypothesis strategies shared by the model and engine tests."""

from hypothesis import strategies as st

from sim.scenario.schema import SHOCK_KINDS

TRAITS = ("ambition", "resourcing", "skills", "trustworthiness", "trust_propensity",
          "commitment", "volatility", "control_concern")

unit = st.floats(0.0, 1.0)


@st.composite
def scenarios(draw, max_partners: int = 6):
    """Any valid partnership: 2 to max_partners partners, random traits (some uncertain, and
    alike across partners by partner_similarity), priorities, charter clauses, a fixed target or
    the plan's own, late joiners, and shocks of every kind, scheduled or random."""
    n = draw(st.integers(2, max_partners))
    horizon = draw(st.integers(1, 15))
    names = [f"Org {i}" for i in range(n)]
    partners = []
    for i, name in enumerate(names):
        partner = {"name": name, "size": draw(st.floats(0.1, 20.0)),
                   **{t: draw(unit) for t in TRAITS}, "patience": draw(st.integers(0, 5)),
                   "joins_at": 0 if i < 2 else draw(st.sampled_from([0, 0, 1, horizon, None]))}
        if draw(st.booleans()):
            partner["priorities"] = draw(st.dictionaries(   # weights that weigh something
                st.sampled_from(["savings", "quality", "continuity", "collaboration"]),
                st.floats(0.0, 5.0), min_size=1, max_size=4).map(
                    lambda w: w if any(w.values()) else {**w, next(iter(w)): 1.0}))
        if draw(st.booleans()):
            trait = draw(st.sampled_from(["ambition", "resourcing", "trustworthiness"]))
            low = draw(unit)
            partner[trait] = {"uniform": [low, draw(st.floats(low, 1.0))]}
        partners.append(partner)
    services = [{"name": f"Service {k}", "lead": draw(st.sampled_from(names))}
                for k in range(draw(st.integers(0, 3)))]
    rules = ["unanimity", "majority"] + (["lead_partner"] if services else [])
    shocks = []
    later = [p["name"] for p in partners if p["joins_at"] != 0]  # who a partner_join can bring
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from([k for k in SHOCK_KINDS if later or k != "partner_join"]))
        who = later if kind == "partner_join" else names
        shock = {"kind": kind, "partner": draw(st.sampled_from(who + ["all", "any"]))}
        if draw(st.booleans()):
            shock["magnitude"] = draw(unit)
        if draw(st.booleans()):
            shock["at_cycle"] = draw(st.integers(1, horizon))
        else:
            shock["rate"] = draw(unit)
        shocks.append(shock)
    similarity = draw(st.one_of(st.just(0.0), unit,
                                st.dictionaries(st.sampled_from(TRAITS), unit, max_size=3)))
    target = draw(st.one_of(st.just("plan"), st.floats(0.01, 10.0)))
    return {
        "name": "generated", "horizon": horizon, "partners": partners, "shocks": shocks,
        "partner_similarity": similarity,
        "charter": {
            "business_case": {"target_net_savings_m": target,
                              "savings_potential": draw(unit),
                              "implementation_cost_m": draw(st.floats(0.0, 5.0)),
                              "ramp_up_cycles": draw(st.floats(1.0, 10.0))},
            "decision_rule": draw(st.sampled_from(rules)),
            "cost_sharing": draw(st.sampled_from(["equal", "by_size"])),
            "benefit_sharing": draw(st.sampled_from(["equal", "by_size", "by_contribution"])),
            "penalties": {"threshold": draw(unit), "rate": draw(st.floats(0.0, 2.0)),
                          "call_out": draw(unit)},
            "exit": {"penalty": draw(st.floats(0.0, 1.0)),
                     "notice_cycles": draw(st.integers(0, 3))},
            "programme_team": {"dedicated": draw(unit), "training": draw(unit),
                               "team_cost_m": draw(st.floats(0.0, 1.0)),
                               "training_cost_m": draw(st.floats(0.0, 1.0))},
            "consensus": draw(unit),
            "services": services,
        },
    }
