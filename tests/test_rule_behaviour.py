"""Each behavioural rule, stated as the behaviour the seed documents describe."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import rules
from sim.parameters import ModelParameters

P = ModelParameters()
unit = st.floats(0.0, 1.0)


def test_trust_is_slow_to_build_and_quick_to_lose():
    t = 0.5
    gained = rules.updated_trust(t, 1.0, t, P) - t
    lost = t - rules.updated_trust(t, 0.0, t, P)
    assert 0 < gained < lost


def test_small_shortfalls_are_forgiven():
    nearly = 1.0 - P.forgiveness
    assert rules.updated_trust(0.5, nearly, 0.5, P) == pytest.approx(
        rules.updated_trust(0.5, 1.0, 0.5, P))


@given(unit, unit, unit)
def test_trust_stays_between_zero_and_one(trust, observed, shown):
    assert 0.0 <= rules.updated_trust(trust, observed, shown, P) <= 1.0


def test_trust_is_pulled_towards_the_trust_shown():
    cold = rules.updated_trust(0.5, 0.8, 0.1, P)
    warm = rules.updated_trust(0.5, 0.8, 0.9, P)
    assert warm > cold


def test_skilled_observers_read_delivery_exactly():
    kept = np.array([0.3, 0.9])
    eps = np.array([[1.5, -1.5]])
    assert np.allclose(rules.observed_delivery(kept, np.array([1.0]), eps, P)[0], kept)
    misread = rules.observed_delivery(kept, np.array([0.0]), eps, P)[0]
    assert not np.allclose(misread, kept)


def test_protectionism_only_below_the_trust_threshold_and_deterred_by_penalties():
    assert rules.withheld_share(P.protection_trust + 0.1, 0.0, P) == 0
    low, lower = rules.withheld_share(0.3, 0.0, P), rules.withheld_share(0.1, 0.0, P)
    assert 0 < low < lower <= P.protectionism
    deter = rules.deterrence(1.0, 0.2, P)
    assert 0 < deter < 1
    assert rules.withheld_share(0.1, deter, P) < lower


def test_effort_rises_with_resourcing_and_commitment_and_falls_when_lapsed_or_leaving():
    base = dict(resourcing_eff=0.3, commitment=0.7, engaged=True, on_notice=False,
                withheld=0.0, alignment=1.0, p=P)
    e = rules.effort(**base)
    assert rules.effort(**{**base, "resourcing_eff": 0.8}) > e
    assert rules.effort(**{**base, "commitment": 1.0}) > e
    assert rules.effort(**{**base, "engaged": False}) < e
    assert rules.effort(**{**base, "on_notice": True}) < e
    assert rules.effort(**{**base, "alignment": 0.3}) < e


def test_dedicated_team_and_training_lift_resourcing_and_skills():
    assert rules.effective_resourcing(0.2, 0.0) == 0.2
    assert rules.effective_resourcing(0.2, 1.0) == 1.0
    assert 0.2 < rules.effective_skills(0.2, 0.5) < 1.0


def test_unanimity_is_set_by_the_least_willing_partner():
    agree = np.array([0.2, 0.6, 0.9])
    active = np.array([True, True, True])
    assert rules.unanimity_pace(agree, active) == 0.2


@pytest.mark.parametrize("agree, active, expected", [
    ([0.2, 0.6, 0.9], [True, True, True], 0.6),          # 2 of 3 needed: the median
    ([0.2, 0.9], [True, True], 0.2),                      # 2 of 2 needed: the minimum
    ([0.2, 0.6, 0.9, 0.7], [True, True, True, True], 0.6),  # 3 of 4 needed
    ([0.1, 0.6, 0.9], [False, True, True], 0.6),          # inactive partners do not vote
])
def test_majority_pace_is_the_pivotal_partners_agreement(agree, active, expected):
    assert rules.majority_pace(np.array(agree), np.array(active)) == pytest.approx(expected)


def test_low_ambition_partner_slows_hard_decisions_more_under_unanimity_than_majority():
    agree = rules.agreement(np.array([0.1, 0.7, 0.8]), np.full(3, 0.5), np.full(3, 0.5),
                            np.ones(3), P)
    active = np.ones(3, bool)
    assert rules.unanimity_pace(agree, active) < rules.majority_pace(agree, active)


def test_distrust_and_control_worries_and_misalignment_reduce_agreement():
    a = rules.agreement(0.6, 0.8, 0.9, 1.0, P)
    assert rules.agreement(0.6, 0.8, 0.2, 1.0, P) < a
    assert rules.agreement(0.6, 0.0, 0.2, 1.0, P) == pytest.approx(0.6)
    assert rules.agreement(0.6, 0.8, 0.9, 0.3, P) < a


def test_lead_partner_pace_follows_the_lead_and_falls_back_when_it_leaves():
    agree = np.array([0.9, 0.2, 0.2])
    trust = np.full((3, 3), 1.0)
    leads = np.array([0])
    on = rules.lead_partner_pace(agree, np.ones(3, bool), trust, leads, np.asarray(0.3))
    assert on == pytest.approx(0.9)
    gone = rules.lead_partner_pace(agree, np.array([False, True, True]), trust, leads,
                                   np.asarray(0.3))
    assert gone == pytest.approx(0.3)


def test_maturity_grows_as_planned_when_capacity_matches_the_plan_and_is_capped():
    # a team whose capacity equals planned_capacity moves 1/ramp_up per review
    pace = 1.0
    skill = 1.0
    delivery = P.planned_capacity  # skill factor 1 and drive 1
    assert rules.maturity_step(0.0, 4.0, delivery, skill, pace, P) == pytest.approx(0.25)
    assert rules.maturity_step(0.95, 4.0, 1.0, 1.0, 1.0, P) == 1.0


def test_shares_sum_to_one_over_active_partners():
    s = rules.shares(np.array([2.0, 1.0, 5.0]), np.array([True, True, False]))
    assert s.sum() == pytest.approx(1.0)
    assert s[2] == 0 and s[0] == pytest.approx(2 / 3)
    eq = rules.shares(np.zeros(3), np.array([True, True, False]))
    assert list(eq) == [0.5, 0.5, 0.0]


@given(st.lists(st.floats(0, 5), min_size=2, max_size=6),
       st.lists(st.floats(0.1, 10), min_size=6, max_size=6),
       st.lists(st.booleans(), min_size=6, max_size=6))
def test_redistribution_conserves_money_and_never_pays_the_payer(amounts, size, active):
    n = len(amounts)
    amounts, size, active = np.array(amounts), np.array(size[:n]), np.array(active[:n])
    payers = amounts > 0
    received = rules.redistribute(amounts, size, active, payers)
    receivers_exist = [(active & (np.arange(n) != j)).any() for j in range(n)]
    paid_out = sum(a for a, ok, p in zip(amounts, receivers_exist, payers) if ok and p)
    assert received.sum() == pytest.approx(paid_out)
    assert (received[~active] == 0).all()
    if payers.sum() == 1:
        assert received[payers][0] == 0


def test_getting_less_than_ones_input_hurts_more_than_getting_more():
    assert rules.inequity(0.8, P) > rules.inequity(1.2, P) > 0
    assert rules.inequity(1.0, P) == 0


def test_equity_is_balanced_when_rewards_match_inputs():
    assert rules.equity_ratio(0.5, 0.5, 0.5) == pytest.approx(1.0)
    assert rules.equity_ratio(0.3, 0.5, 0.5) < 1


def test_identical_priorities_are_fully_aligned():
    w = np.array([3.0, 1, 0, 0, 0, 0, 0, 0, 1])
    assert rules.vision_alignment(w, w) == pytest.approx(1.0)
    assert rules.vision_alignment(np.eye(9)[0], np.eye(9)[1]) == 0


def test_each_shortfall_lowers_satisfaction():
    full = rules.satisfaction(rules.satisfaction_parts(1, 1, 1, 1, 1, 0, P), P)
    for i, part in enumerate(rules.SATISFACTION_PARTS):
        args = [1, 1, 1, 1, 1, 0]
        args[i] = 1 if part == "control" else 0.5
        if part == "control":
            args[i] = 0.5
        assert rules.satisfaction(rules.satisfaction_parts(*args, P), P) < full


def test_notice_needs_patience_to_run_out_and_is_held_back_by_an_exit_penalty():
    unhappy = P.outside_option - 0.1
    assert not rules.gives_notice(unhappy, 2, 3, 0.0, P)
    assert rules.gives_notice(unhappy, 4, 3, 0.0, P)
    assert not rules.gives_notice(unhappy, 4, 3, 0.2, P)
    assert not rules.gives_notice(P.outside_option + 0.1, 9, 3, 0.0, P)


def test_dissatisfied_reviews_accumulate_and_are_forgotten_slowly():
    assert rules.dissatisfied_count(2, False) == 3
    assert rules.dissatisfied_count(2, True) == 1
    assert rules.dissatisfied_count(0, True) == 0


def test_engagement_lapses_with_volatility_and_returns_with_commitment():
    assert not rules.engagement(True, 0.3, 0.5, 0.1)
    assert rules.engagement(True, 0.3, 0.5, 0.9)
    assert rules.engagement(False, 0.3, 0.5, 0.4)
    assert not rules.engagement(False, 0.3, 0.5, 0.6)


# --- broadcasting: one rule for the agent (scalars) and for arrays of replications ----------

@settings(max_examples=30)
@given(st.integers(1, 4), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_rules_give_the_same_values_for_arrays_as_for_each_element(reps, n, seed):
    rng = np.random.default_rng(seed)
    res, com, wth, al = rng.random((4, reps, n))
    engaged, notice = rng.random((2, reps, n)) < 0.5
    arr = rules.effort(res, com, engaged, notice, wth, al, P)
    for r in range(reps):
        for i in range(n):
            one = rules.effort(res[r, i], com[r, i], engaged[r, i], notice[r, i], wth[r, i],
                               al[r, i], P)
            assert arr[r, i] == one
    trust = rng.random((reps, n, n))
    active = rng.random((reps, n)) < 0.8
    agree = rng.random((reps, n))
    batched = [rules.mean_over_others(trust, active), rules.mean_pair_trust(trust, active),
               rules.min_over_others(trust, active), rules.majority_pace(agree, active),
               rules.unanimity_pace(agree, active)]
    for r in range(reps):
        single = [rules.mean_over_others(trust[r], active[r]),
                  rules.mean_pair_trust(trust[r], active[r]),
                  rules.min_over_others(trust[r], active[r]),
                  rules.majority_pace(agree[r], active[r]),
                  rules.unanimity_pace(agree[r], active[r])]
        for b, s in zip(batched, single):
            assert np.array_equal(b[r], s)
