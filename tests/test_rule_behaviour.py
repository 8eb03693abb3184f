"""Each behavioural rule, stated as the behaviour the seed documents describe."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.partnership import rules
from sim.scenario.parameters import ModelParameters

P = ModelParameters()
unit = st.floats(0.0, 1.0)


def trust_in(other_seen, base=0.5, shown_seen=None, p=P):
    """Partner 0's trust in partner 1 after reviews in which it saw partner 1 deliver
    `other_seen` of its promise, while partner 1 saw partner 0 deliver `shown_seen` (by default
    the same), both starting from the base rate `base`."""
    shown_seen = other_seen if shown_seen is None else shown_seen
    kept, broken = np.zeros((2, 2)), np.zeros((2, 2))
    for mine, theirs in zip(other_seen, shown_seen):
        kept, broken = rules.trust_evidence(kept, broken, np.array([[1.0, mine], [theirs, 1.0]]),
                                            p)
    return float(rules.trust_from_evidence(kept, broken, np.array([base, base]), p)[0, 1])


def test_trust_is_slow_to_build_and_quick_to_lose():
    t = 0.5
    gained = trust_in([1.0], t) - t
    lost = t - trust_in([0.0], t)
    assert 0 < gained < lost


def test_small_shortfalls_are_forgiven():
    nearly = 1.0 - P.forgiveness
    assert rules.trust_evidence(1.0, 1.0, nearly, P) == pytest.approx(
        rules.trust_evidence(1.0, 1.0, 1.0, P))
    assert trust_in([nearly] * 3) == pytest.approx(trust_in([1.0] * 3))
    assert trust_in([nearly - 0.2] * 3) < trust_in([1.0] * 3)


@given(st.lists(unit, max_size=20), st.lists(unit, max_size=20), unit)
def test_trust_stays_between_zero_and_one(seen, shown, base):
    n = min(len(seen), len(shown))
    assert 0.0 <= trust_in(seen[:n], base, shown[:n]) <= 1.0


def test_trust_is_pulled_towards_the_trust_shown():
    cold = trust_in([0.8] * 3, shown_seen=[0.1] * 3)
    warm = trust_in([0.8] * 3, shown_seen=[0.9] * 3)
    assert warm > cold


def test_trust_recovers_once_a_partner_keeps_its_promises_again():
    """Beta reputation with forgetting: a bad record fades, whatever the partnership's age."""
    bad = [0.0] * 5
    assert trust_in(bad) < 0.2
    assert trust_in(bad + [1.0] * 15) > 0.5


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
    # a team whose delivery equals planned_capacity, with skill factor 1 and drive 1, has the
    # capacity the plan assumed and moves 1/ramp_up per review
    capacity = rules.programme_capacity(P.planned_capacity, 1.0, 1.0, P)
    assert rules.maturity_step(0.0, 4.0, capacity, P) == pytest.approx(0.25)
    assert rules.maturity_step(0.95, 4.0, 1.0, P) == 1.0


def test_a_built_service_saves_only_as_well_as_each_review_runs_it():
    size, active = np.array([2.0, 3.0]), np.array([True, True])
    as_planned = rules.gross_savings(0.1, size, active, 1.0,
                                     rules.running_quality(P.planned_capacity, P))
    neglected = rules.gross_savings(0.1, size, active, 1.0,
                                    rules.running_quality(0.5 * P.planned_capacity, P))
    assert as_planned == pytest.approx(0.1 * 5 / 2)
    assert neglected < as_planned


def test_savings_follow_implementation_with_a_lag():
    size, active = np.array([2.0, 3.0]), np.array([True, True])
    assert rules.gross_savings(0.1, size, active, 0.0, 1.0) == 0.0


def test_a_slow_programme_costs_more_than_its_budget():
    def implementation(ramp_up):
        total, previous = 0.0, 0.0
        for cycle in range(1, 30):
            maturity = float(rules.planned_maturity(cycle, ramp_up))
            total += float(rules.programme_spend(10.0, maturity, previous, 4.0, 0.0, 0.0, 0.0,
                                                 0.0, P))
            previous = maturity
        return total

    assert implementation(4.0) == pytest.approx(10.0)
    assert implementation(6.0) > implementation(4.0)


def test_a_promise_that_resourcing_cannot_keep_is_corrected_rather_than_broken_for_ever():
    promise, effort = P.promise, 0.3
    kept = []
    for _ in range(6):
        kept.append(float(rules.promise_kept(rules.delivered_effort(effort, 1.0, 0.0, P),
                                             promise)))
        promise = rules.rebaselined_promise(promise, effort, P)
    assert kept[0] == pytest.approx(0.3 / P.promise)
    assert np.all(np.diff(kept) > 0) and kept[-1] > 0.95


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
    active = np.ones(2, bool)
    assert rules.equity_ratio(np.array([1.0, 1.0]), np.array([0.5, 0.5]), np.array([2.0, 2.0]),
                              active) == pytest.approx([1.0, 1.0])
    unequal = rules.equity_ratio(np.array([0.3, 0.7]), np.array([0.5, 0.5]),
                                 np.array([2.0, 2.0]), active)
    assert unequal[0] < 1 < unequal[1]


def test_falling_behind_the_business_case_costs_satisfaction():
    on_plan = rules.benefit_against_plan(1.0, 1.0, 4.0, 0.1, P)
    behind = rules.benefit_against_plan(1.0, 0.6, 4.0, 0.1, P)
    assert on_plan == 1.0 and behind < 1.0


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


def notice_chance(margin):
    u = (np.arange(10_000) + 0.5) / 10_000
    return float(np.mean(rules.gives_notice(margin, u, P)))


def test_an_unhappy_partner_is_likely_to_give_notice_and_an_exit_penalty_makes_it_less_likely():
    expected = rules.expected_parts(0.9, 0.8, 0.6, 0.5, 0.0, 1.0, P)
    unhappy = expected + np.array([0.1, 0.05, 0.0, 0.0, 0.1, 0.0])   # fallen 0.25 since signing
    free = rules.exit_margin(expected, unhappy, 0.0, 0.0, P)
    penalised = rules.exit_margin(expected, unhappy, 0.3, 0.0, P)
    assert notice_chance(free) > 0.95
    assert notice_chance(penalised) < 0.05
    content = rules.exit_margin(expected, expected, 0.0, 0.0, P)
    assert notice_chance(content) < 0.01                      # rare, but possible


def test_a_patient_partner_weighs_its_whole_experience_an_impatient_one_its_latest_review():
    good, bad = np.zeros(6), np.full(6, 0.05)
    patient, impatient = good, good
    for _ in range(2):
        patient = rules.appraised(patient, bad, 5)
        impatient = rules.appraised(impatient, bad, 0)
    assert impatient == pytest.approx(bad)
    assert np.all(patient < impatient)
    # and once reviews improve, the patient partner's disappointment fades one review at a time
    recovering = []
    for _ in range(3):
        patient = rules.appraised(patient, good, 5)
        recovering.append(patient.sum())
    assert recovering[0] > recovering[1] > recovering[2] > 0


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
    kept_e, broken_e = 5 * rng.random((2, reps, n, n))
    base = rng.random((reps, n))
    expected, appraisal = 0.3 * rng.random((2, reps, n, 6))
    margin_u = rng.random((reps, n))
    batched = [rules.mean_over_others(trust, active), rules.mean_pair_trust(trust, active),
               rules.min_over_others(trust, active), rules.majority_pace(agree, active),
               rules.unanimity_pace(agree, active),
               rules.trust_from_evidence(kept_e, broken_e, base, P),
               rules.gives_notice(rules.exit_margin(expected, appraisal, 0.1, 0.5, P),
                                  margin_u, P)]
    for r in range(reps):
        single = [rules.mean_over_others(trust[r], active[r]),
                  rules.mean_pair_trust(trust[r], active[r]),
                  rules.min_over_others(trust[r], active[r]),
                  rules.majority_pace(agree[r], active[r]),
                  rules.unanimity_pace(agree[r], active[r]),
                  rules.trust_from_evidence(kept_e[r], broken_e[r], base[r], P),
                  rules.gives_notice(rules.exit_margin(expected[r], appraisal[r], 0.1, 0.5, P),
                                     margin_u[r], P)]
        for b, s in zip(batched, single):
            assert np.array_equal(b[r], s)
