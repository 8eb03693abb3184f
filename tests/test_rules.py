"""The behavioural rules of sim.rules, one behaviour per test, with the default parameters.

Every rule is a pure NumPy function that broadcasts: an agent calls it with its own scalars, the
vectorised engine with whole arrays (leading axes = replications, last axis = partner). The last
section holds the rules to that promise.
"""

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import rules
from sim.parameters import ModelParameters

P = ModelParameters()
unit = st.floats(0.0, 1.0)


def arr(*values):
    return np.array(values, dtype=float)


def mask(*values):
    return np.array(values, dtype=bool)


# --- who takes part ---------------------------------------------------------------------------


def test_a_dedicated_team_lifts_resourcing_towards_fully_dedicated():
    assert rules.effective_resourcing(0.2, 0.0) == pytest.approx(0.2)
    assert rules.effective_resourcing(0.2, 0.5) == pytest.approx(0.6)
    assert rules.effective_resourcing(0.2, 1.0) == pytest.approx(1.0)


def test_training_lifts_skills_towards_fully_skilled():
    assert rules.effective_skills(0.3, 0.0) == pytest.approx(0.3)
    assert 0.3 < rules.effective_skills(0.3, 0.5) < 1.0
    assert rules.effective_skills(0.3, 1.0) == pytest.approx(1.0)


def test_consensus_raises_the_trust_partners_start_with():
    assert rules.initial_trust(0.4, 0.0, P) == pytest.approx(0.4)
    assert rules.initial_trust(0.4, 1.0, P) == pytest.approx(0.4 + 0.6 * P.consensus_trust)
    assert rules.initial_trust(0.4, 1.0, P) <= 1.0


def test_an_engaged_partner_lapses_with_chance_volatility():
    assert not rules.engagement(True, 0.3, 0.9, 0.29)
    assert rules.engagement(True, 0.3, 0.9, 0.30)


def test_a_lapsed_partner_re_engages_with_chance_commitment():
    assert rules.engagement(False, 0.3, 0.6, 0.59)
    assert not rules.engagement(False, 0.3, 0.6, 0.60)


# --- effort and delivery -----------------------------------------------------------------------


def test_no_penalty_or_no_call_out_deters_nothing():
    assert rules.deterrence(0.0, 1.0, P) == 0.0
    assert rules.deterrence(1.0, 0.0, P) == 0.0


def test_deterrence_grows_with_call_out_and_penalty_and_is_half_at_the_half_rate():
    assert rules.deterrence(1.0, P.penalty_half_rate, P) == pytest.approx(0.5)
    assert rules.deterrence(0.5, 0.2, P) < rules.deterrence(1.0, 0.2, P)
    assert rules.deterrence(1.0, 0.1, P) < rules.deterrence(1.0, 0.5, P) < 1.0


@given(trust=st.floats(P.protection_trust, 1.0))
def test_nothing_is_withheld_at_or_above_the_protection_threshold(trust):
    assert rules.withheld_share(trust, 0.0, P) == 0.0


def test_withholding_grows_as_trust_falls_up_to_protectionism():
    shares = [float(rules.withheld_share(t, 0.0, P)) for t in (0.45, 0.3, 0.1, 0.0)]
    assert 0.0 < shares[0] < shares[1] < shares[2] < shares[3]
    assert shares[3] == pytest.approx(P.protectionism)


def test_deterrence_shrinks_withholding():
    deter = rules.deterrence(1.0, 0.2, P)
    assert 0.0 < deter < 1.0
    assert rules.withheld_share(0.1, deter, P) < rules.withheld_share(0.1, 0.0, P)
    assert rules.withheld_share(0.1, 1.0, P) == 0.0


BASE_EFFORT = dict(resourcing_eff=0.3, commitment=0.7, engaged=True, on_notice=False,
                   withheld=0.0, alignment=1.0, p=P)


def effort_with(**change):
    return float(rules.effort(**{**BASE_EFFORT, **change}))


def test_effort_rises_with_resourcing():
    assert effort_with(resourcing_eff=0.0) < effort_with() < effort_with(resourcing_eff=1.0)


def test_effort_rises_with_commitment():
    assert effort_with(commitment=0.0) < effort_with() < effort_with(commitment=1.0)


def test_a_day_job_team_still_gives_some_effort():
    assert effort_with(resourcing_eff=0.0, commitment=1.0) == pytest.approx(P.day_job_effort)


def test_effort_falls_when_interest_has_lapsed():
    assert effort_with(engaged=False) == pytest.approx(P.lapsed_effort * effort_with())


def test_effort_falls_while_on_notice():
    assert effort_with(on_notice=True) == pytest.approx(P.notice_effort * effort_with())


def test_effort_falls_by_what_distrust_withholds():
    assert effort_with(withheld=0.4) == pytest.approx(0.6 * effort_with())


def test_effort_falls_as_the_vision_is_not_the_partners_own():
    assert effort_with(alignment=0.0) == pytest.approx((1 - P.misalignment_drag) * effort_with())


@given(unit, unit, st.booleans(), st.booleans(), unit, unit)
def test_effort_lies_between_zero_and_one(res, com, engaged, notice, withheld, align):
    e = rules.effort(res, com, engaged, notice, withheld, align, P)
    assert 0.0 <= e <= 1.0


def test_full_effort_from_a_fully_trustworthy_partner_keeps_the_whole_promise():
    assert rules.promise_kept(P.promise, 1.0, 0.0, P) == pytest.approx(1.0)
    assert rules.promise_kept(1.0, 1.0, 0.0, P) == pytest.approx(1.0)


def test_half_the_promised_effort_keeps_half_the_promise():
    assert rules.promise_kept(P.promise / 2, 1.0, 0.0, P) == pytest.approx(0.5)


def test_a_less_trustworthy_partner_keeps_less_of_its_promise():
    assert rules.promise_kept(P.promise, 0.5, 0.0, P) < rules.promise_kept(P.promise, 0.9, 0.0, P)


@given(st.floats(0.0, 1.0), unit, st.floats(-3.0, 3.0))
def test_promise_kept_lies_between_zero_and_one(effort, trustworthiness, eps):
    assert 0.0 <= rules.promise_kept(effort, trustworthiness, eps, P) <= 1.0


# --- trust -------------------------------------------------------------------------------------


def test_trust_is_slow_to_build_and_quick_to_lose():
    t = 0.5
    gained = rules.updated_trust(t, 1.0, t, P) - t
    lost = t - rules.updated_trust(t, 0.0, t, P)
    assert 0.0 < gained < lost


@given(trust=st.floats(0.01, 0.99))
def test_a_kept_promise_closes_less_of_the_gap_than_a_broken_one_removes_of_the_trust(trust):
    gained = rules.updated_trust(trust, 1.0, trust, P) - trust
    lost = trust - rules.updated_trust(trust, 0.0, trust, P)
    assert gained / (1.0 - trust) < lost / trust


def test_one_kept_promise_does_not_repair_one_broken_promise():
    t = 0.5
    after = rules.updated_trust(rules.updated_trust(t, 0.0, t, P), 1.0, t, P)
    assert after < t


def test_delivering_one_minus_forgiveness_of_a_promise_counts_as_fully_kept():
    nearly = 1.0 - P.forgiveness
    assert rules.updated_trust(0.5, nearly, 0.5, P) == pytest.approx(
        rules.updated_trust(0.5, 1.0, 0.5, P))


def test_shortfalls_beyond_what_is_forgiven_cost_trust():
    short = 1.0 - P.forgiveness - 0.1
    assert rules.updated_trust(0.5, short, 0.5, P) < rules.updated_trust(0.5, 1.0, 0.5, P)


def test_trust_is_pulled_towards_the_trust_the_other_shows():
    assert rules.updated_trust(0.5, 0.8, 0.9, P) > rules.updated_trust(0.5, 0.8, 0.1, P)


@given(unit, unit, unit)
def test_updated_trust_stays_between_zero_and_one(trust, observed, shown):
    assert 0.0 <= rules.updated_trust(trust, observed, shown, P) <= 1.0


@given(unit, unit, unit, unit, unit, unit)
def test_updated_trust_stays_between_zero_and_one_for_any_parameters(trust, observed, shown,
                                                                     gain, loss, recip):
    p = ModelParameters(trust_gain=gain, trust_loss=loss, reciprocity=recip)
    assert 0.0 <= rules.updated_trust(trust, observed, shown, p) <= 1.0


def test_fully_skilled_observers_read_delivery_exactly():
    kept = arr(0.3, 0.9)
    eps = np.array([[1.5, -1.5], [-1.0, 1.0]])
    seen = rules.observed_delivery(kept, arr(1.0, 1.0), eps, P)
    assert np.allclose(seen, np.broadcast_to(kept, (2, 2)))


def test_unskilled_observers_misread_delivery_by_misreading_times_the_noise():
    kept = arr(0.5, 0.5)
    eps = np.array([[0.4, -0.4]])
    seen = rules.observed_delivery(kept, arr(0.0), eps, P)[0]
    assert seen == pytest.approx(0.5 + P.misreading * eps[0])


def test_more_skilled_observers_misread_less():
    kept = arr(0.5, 0.5)
    eps = np.array([[1.0, 1.0], [1.0, 1.0]])
    seen = rules.observed_delivery(kept, arr(0.2, 0.7), eps, P)
    error = np.abs(seen - kept)
    assert np.all(error[1] < error[0])


def test_observed_delivery_is_clipped_to_zero_and_one():
    seen = rules.observed_delivery(arr(0.95, 0.05), arr(0.0), np.array([[1.7, -1.7]]), P)
    assert seen.tolist() == [[1.0, 0.0]]


def test_mean_over_others_ignores_self_and_inactive_partners():
    trust = np.array([[9.0, 0.2, 0.4],
                      [0.6, 9.0, 0.8],
                      [0.1, 0.3, 9.0]])
    assert rules.mean_over_others(trust, mask(True, True, True)) == pytest.approx([0.3, 0.7, 0.2])
    assert rules.mean_over_others(trust, mask(True, True, False)) == pytest.approx([0.2, 0.6, 0.2])


def test_a_partner_with_no_active_other_has_mean_trust_zero():
    trust = np.full((2, 2), 0.7)
    assert rules.mean_over_others(trust, mask(True, False)).tolist() == [0.0, 0.7]


def test_min_and_mean_pair_trust_count_only_pairs_of_distinct_active_partners():
    trust = np.array([[0.0, 0.2, 0.9],
                      [0.6, 0.0, 0.8],
                      [0.1, 0.3, 0.0]])
    both = mask(True, True, False)
    assert rules.min_over_others(trust, both) == pytest.approx(0.2)
    assert rules.mean_pair_trust(trust, both) == pytest.approx(0.4)
    alone = mask(True, False, False)
    assert rules.min_over_others(trust, alone) == 0.0
    assert rules.mean_pair_trust(trust, alone) == 0.0


# --- hard decisions and programme maturity ----------------------------------------------------


def test_agreement_follows_leadership_ambition():
    low = rules.agreement(0.2, 0.5, 0.5, 1.0, P)
    high = rules.agreement(0.8, 0.5, 0.5, 1.0, P)
    assert low < high
    assert rules.agreement(0.8, 0.0, 0.0, 1.0, P) == pytest.approx(0.8)


def test_worry_about_control_blocks_agreement_only_without_trust():
    assert rules.agreement(0.8, 1.0, 1.0, 1.0, P) == pytest.approx(0.8)
    assert rules.agreement(0.8, 1.0, 0.0, 1.0, P) == pytest.approx(0.8 * (1 - P.control_resistance))


def test_misalignment_slows_agreement():
    assert rules.agreement(0.8, 0.0, 1.0, 0.0, P) == pytest.approx(0.8 * (1 - P.misalignment_drag))


def test_unanimity_pace_is_the_least_willing_active_partner():
    agree = arr(0.2, 0.6, 0.9)
    assert rules.unanimity_pace(agree, mask(True, True, True)) == pytest.approx(0.2)
    assert rules.unanimity_pace(agree, mask(False, True, True)) == pytest.approx(0.6)


@pytest.mark.parametrize("agree, active, expected", [
    ([0.2, 0.6, 0.9], [True, True, True], 0.6),                   # 3 partners: the median
    ([0.9, 0.2, 0.6], [True, True, True], 0.6),                   # order does not matter
    ([0.2, 0.9], [True, True], 0.2),                              # 2 partners: both must agree
    ([0.2, 0.6, 0.9], [False, True, True], 0.6),                  # inactive ignored: min of 2
    ([0.1, 0.2, 0.6, 0.9], [True, True, True, True], 0.2),        # 4 partners: 3 votes needed
    ([0.1, 0.2, 0.6, 0.9, 0.5], [True] * 5, 0.5),                 # 5 partners: the median
    ([0.0, 0.7, 0.3, 0.9], [False, True, True, True], 0.7),       # 3 active of 4: median
    ([0.4], [True], 0.4),                                         # a lone partner decides
])
def test_majority_pace_is_the_pivotal_partners_agreement(agree, active, expected):
    assert rules.majority_pace(arr(*agree), mask(*active)) == pytest.approx(expected)


def test_no_active_partner_means_no_pace():
    none = mask(False, False)
    assert rules.majority_pace(arr(0.5, 0.5), none) == 0.0
    assert rules.unanimity_pace(arr(0.5, 0.5), none) == 0.0


def test_low_ambition_slows_hard_decisions_under_unanimity_more_than_under_majority():
    active = mask(True, True, True)
    ambitious = arr(0.7, 0.7, 0.7)
    one_reluctant = arr(0.1, 0.7, 0.7)

    def paces(ambition):
        agree = rules.agreement(ambition, 0.5, 0.6, 1.0, P)
        return rules.unanimity_pace(agree, active), rules.majority_pace(agree, active)

    (u0, m0), (u1, m1) = paces(ambitious), paces(one_reluctant)
    assert u0 - u1 > m0 - m1 >= 0.0
    assert u1 < m1


FULL_TRUST = np.ones((3, 3))


def test_a_fully_trusted_lead_decides_at_its_own_agreement():
    pace = rules.lead_partner_pace(arr(0.2, 0.8, 0.5), mask(True, True, True), FULL_TRUST,
                                   np.array([1]), np.asarray(0.0))
    assert pace == pytest.approx(0.8)


def test_a_lead_others_do_not_trust_is_followed_at_half_pace():
    trust = np.zeros((3, 3))
    pace = rules.lead_partner_pace(arr(0.2, 0.8, 0.5), mask(True, True, True), trust,
                                   np.array([1]), np.asarray(0.0))
    assert pace == pytest.approx(0.4)


def test_lead_partner_pace_follows_the_lead_not_the_others():
    active = mask(True, True, True)
    slow_others = rules.lead_partner_pace(arr(0.1, 0.8, 0.1), active, FULL_TRUST, np.array([1]),
                                          np.asarray(0.0))
    fast_others = rules.lead_partner_pace(arr(0.9, 0.8, 0.9), active, FULL_TRUST, np.array([1]),
                                          np.asarray(0.0))
    assert slow_others == pytest.approx(fast_others) == pytest.approx(0.8)


def test_lead_partner_pace_falls_back_when_the_lead_is_inactive():
    agree = arr(0.2, 0.8, 0.5)
    active = mask(True, False, True)
    fallback = rules.majority_pace(agree, active)
    pace = rules.lead_partner_pace(agree, active, FULL_TRUST, np.array([1]), np.asarray(fallback))
    assert pace == pytest.approx(fallback) == pytest.approx(0.2)


def test_lead_partner_pace_is_the_mean_over_services():
    agree = arr(0.2, 0.8, 0.5)
    active = mask(True, False, True)
    pace = rules.lead_partner_pace(agree, active, FULL_TRUST, np.array([0, 1, 2]),
                                   np.asarray(0.3))
    assert pace == pytest.approx((0.2 + 0.3 + 0.5) / 3)


def test_maturity_grows_by_one_over_ramp_up_when_capacity_is_as_planned():
    # skill 1 and pace 1 make capacity = team_delivery
    step = rules.maturity_step(0.3, 4.0, P.planned_capacity, 1.0, 1.0, P)
    assert step == pytest.approx(0.3 + 1 / 4)
    assert rules.programme_capacity(P.planned_capacity, 1.0, 1.0, P) == pytest.approx(
        P.planned_capacity)


def test_maturity_grows_faster_with_more_capacity_and_slower_with_less():
    planned = rules.maturity_step(0.0, 10.0, P.planned_capacity, 1.0, 1.0, P)
    assert rules.maturity_step(0.0, 10.0, 2 * P.planned_capacity, 1.0, 1.0, P) > planned
    assert rules.maturity_step(0.0, 10.0, P.planned_capacity, 0.0, 1.0, P) < planned
    assert rules.maturity_step(0.0, 10.0, P.planned_capacity, 1.0, 0.0, P) < planned


def test_maturity_is_capped_at_one():
    assert rules.maturity_step(0.95, 2.0, 1.0, 1.0, 1.0, P) == 1.0
    assert rules.maturity_step(1.0, 1.0, 1.0, 1.0, 1.0, P) == 1.0


def test_an_untrained_team_that_takes_no_hard_decision_still_makes_some_progress():
    capacity = rules.programme_capacity(1.0, 0.0, 0.0, P)
    assert capacity == pytest.approx(P.skills_floor * P.routine_progress)


def test_planned_maturity_reaches_one_at_ramp_up():
    assert rules.planned_maturity(2, 4.0) == pytest.approx(0.5)
    assert rules.planned_maturity(4, 4.0) == 1.0
    assert rules.planned_maturity(9, 4.0) == 1.0


def test_size_weighted_mean_counts_only_active_partners():
    assert rules.size_weighted_mean(arr(1.0, 0.0, 0.5), arr(3.0, 1.0, 100.0),
                                    mask(True, True, False)) == pytest.approx(0.75)
    assert rules.size_weighted_mean(arr(1.0, 0.5), arr(1.0, 1.0), mask(False, False)) == 0.0


# --- money -------------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.floats(0.0, 100.0), st.booleans()), min_size=1, max_size=8))
def test_shares_sum_to_one_over_active_partners_and_give_nothing_to_inactive(rows):
    weights = arr(*[w for w, _ in rows])
    active = mask(*[a for _, a in rows])
    s = rules.shares(weights, active)
    assert np.all(s >= 0)
    assert np.all(s[~active] == 0.0)
    if active.any():
        assert s.sum() == pytest.approx(1.0)


def test_shares_follow_weights_and_split_equally_when_all_weights_are_zero():
    assert rules.shares(arr(1.0, 3.0, 5.0), mask(True, True, False)) == pytest.approx(
        [0.25, 0.75, 0.0])
    assert rules.shares(arr(0.0, 0.0, 0.0), mask(True, True, False)) == pytest.approx(
        [0.5, 0.5, 0.0])


def test_a_penalty_is_charged_only_for_a_breach_that_is_called_out():
    kept, size = arr(0.5, 0.5, 0.9), arr(2.0, 2.0, 2.0)
    charged = rules.penalty_charged(kept, size, mask(True, False, True), 0.7, 0.4)
    assert charged == pytest.approx([0.4 * 0.2 * 2.0 / 2, 0.0, 0.0])


def test_nothing_is_payable_when_no_other_active_partner_can_receive_it():
    amounts = arr(1.0, 2.0, 3.0)
    assert rules.payable(amounts, mask(True, False, False), mask(True, False, False)).tolist() \
        == [0.0, 0.0, 0.0]
    assert rules.payable(amounts, mask(True, True, False), mask(True, False, False)).tolist() \
        == [1.0, 0.0, 0.0]


def test_redistribute_hands_a_payment_to_the_other_active_partners_pro_rata_to_size():
    received = rules.redistribute(arr(6.0, 0.0, 0.0, 0.0), arr(5.0, 1.0, 2.0, 9.0),
                                  mask(True, True, True, False), mask(True, False, False, False))
    assert received == pytest.approx([0.0, 2.0, 4.0, 0.0])


@st.composite
def payments(draw):
    n = draw(st.integers(1, 6))
    amounts = arr(*draw(st.lists(st.floats(0.0, 1e3), min_size=n, max_size=n)))
    size = arr(*draw(st.lists(st.floats(0.01, 1e3), min_size=n, max_size=n)))
    active = mask(*draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    payers = mask(*draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return amounts, size, active, payers


@given(payments())
def test_redistribute_conserves_money(case):
    amounts, size, active, payers = case
    paid = rules.payable(amounts, active, payers)
    received = rules.redistribute(paid, size, active, payers)
    assert received.sum() == pytest.approx(paid.sum(), rel=1e-12, abs=1e-9)
    assert np.all(received[~active] == 0.0)


@given(payments(), st.integers(0, 5))
def test_redistribute_never_pays_the_payer(case, j):
    amounts, size, active, _ = case
    j = j % len(amounts)
    payer = np.arange(len(amounts)) == j
    received = rules.redistribute(rules.payable(amounts, active, payer), size, active, payer)
    assert received[j] == 0.0


def test_a_leaver_pays_the_exit_penalty_times_its_annual_cost_base():
    assert rules.exit_penalty_charged(mask(True, False), arr(4.0, 9.0), 0.25).tolist() == [1.0, 0.0]


# --- fairness, alignment, satisfaction ---------------------------------------------------------


def test_equity_ratio_is_one_when_what_a_partner_gets_matches_what_it_puts_in():
    assert rules.equity_ratio(0.3, 0.3, 0.3) == pytest.approx(1.0)
    assert rules.equity_ratio(0.2, 0.3, 0.5) == pytest.approx(0.5)
    assert rules.equity_ratio(0.2, 0.0, 0.0) == 1.0


def test_equal_returns_are_not_inequitable():
    assert rules.inequity(1.0, P) == 0.0


@given(st.floats(0.01, 0.99))
def test_getting_less_hurts_more_than_getting_more_by_the_same_amount(d):
    assert rules.inequity(1.0 - d, P) > rules.inequity(1.0 + d, P)


@given(st.floats(0.0, 100.0))
def test_inequity_lies_between_zero_and_one(ratio):
    assert 0.0 <= rules.inequity(ratio, P) <= 1.0


def test_identical_priorities_are_fully_aligned_with_the_vision():
    w = arr(2, 1, 1, 0, 1, 0, 0, 0, 0)
    assert rules.vision_alignment(w, w) == pytest.approx(1.0)
    assert rules.vision_alignment(3 * w, w) == pytest.approx(1.0)


def test_priorities_sharing_nothing_with_the_vision_have_zero_alignment():
    assert rules.vision_alignment(arr(1, 0, 0), arr(0, 1, 0)) == pytest.approx(0.0)
    assert rules.vision_alignment(arr(0, 0, 0), arr(0, 1, 0)) == 0.0


def test_partly_shared_priorities_are_partly_aligned():
    assert 0.0 < rules.vision_alignment(arr(1, 1, 0), arr(0, 1, 1)) < 1.0


def test_identical_cultures_share_their_values_fully():
    ones = arr(0.6, 0.6, 0.6)
    assert rules.values_closeness(ones, arr(0.3, 0.3, 0.3), mask(True, True, True)) == \
        pytest.approx([1.0, 1.0, 1.0])


def test_distant_cultures_share_fewer_values():
    close = rules.values_closeness(arr(0.5, 0.6), arr(0.5, 0.5), mask(True, True))
    far = rules.values_closeness(arr(0.0, 1.0), arr(0.0, 1.0), mask(True, True))
    assert np.all(far < close)
    assert far == pytest.approx([0.0, 0.0])


def test_control_lost_grows_with_maturity_and_is_less_for_a_lead_partner():
    assert rules.control_lost(0.8, 0.0, 0.0) == 0.0
    assert rules.control_lost(0.8, 0.5, 0.0) < rules.control_lost(0.8, 1.0, 0.0)
    assert rules.control_lost(0.8, 1.0, 0.5) < rules.control_lost(0.8, 1.0, 0.0)
    assert rules.control_lost(0.0, 1.0, 0.0) == 0.0


CONTENT = dict(benefit=1.0, fairness=1.0, vision=1.0, values=1.0, trust=1.0, control=0.0)
TOP = P.weight_benefit + P.weight_fairness + P.weight_vision + P.weight_values + P.weight_trust


def satisfaction_with(**change):
    parts = rules.satisfaction_parts(**{**CONTENT, **change}, p=P)
    return float(rules.satisfaction(parts, P))


def test_a_fully_content_partner_has_the_full_satisfaction():
    assert satisfaction_with() == pytest.approx(TOP)
    assert rules.satisfaction_parts(**CONTENT, p=P) == pytest.approx(np.zeros(6))


@pytest.mark.parametrize("part, worse", [
    ("benefit", 0.5), ("fairness", 0.5), ("vision", 0.5), ("values", 0.5), ("trust", 0.5),
    ("control", 0.5),
])
def test_satisfaction_decreases_with_each_shortfall(part, worse):
    assert satisfaction_with(**{part: worse}) < satisfaction_with()
    assert rules.satisfaction_parts(**{**CONTENT, part: worse}, p=P)[
        rules.SATISFACTION_PARTS.index(part)] > 0


def test_dissatisfaction_is_remembered_and_fades_one_review_at_a_time():
    assert rules.dissatisfied_count(2, False) == 3
    assert rules.dissatisfied_count(2, True) == 1
    assert rules.dissatisfied_count(0, True) == 0


def test_no_notice_while_patience_lasts():
    assert not rules.gives_notice(0.0, 3, 3, 0.0, P)


def test_notice_once_patience_runs_out_and_staying_is_worth_less_than_going_alone():
    assert rules.gives_notice(P.outside_option - 0.1, 4, 3, 0.0, P)
    assert not rules.gives_notice(P.outside_option, 4, 3, 0.0, P)


def test_an_exit_penalty_holds_a_dissatisfied_partner_in():
    sat = P.outside_option - 0.2
    assert rules.gives_notice(sat, 4, 3, 0.0, P)
    assert not rules.gives_notice(sat, 4, 3, 0.3, P)
    assert rules.gives_notice(0.0, 4, 3, 0.3, P)  # ... unless it is miserable enough


# --- shocks ------------------------------------------------------------------------------------


def test_a_cut_removes_its_magnitude_of_what_there_was():
    assert rules.cut(0.5, 0.3) == pytest.approx(0.35)
    assert rules.cut(0.5, 0.0) == 0.5
    assert rules.cut(0.5, 1.0) == 0.0


@given(unit)
def test_a_new_leaderships_ambition_lies_in_the_configured_range(u):
    a = rules.new_leadership_ambition(u, P)
    assert P.leadership_ambition_low <= a <= P.leadership_ambition_high


def test_others_trust_in_a_new_leadership_is_dented():
    assert rules.trust_in_new_leadership(0.8, 0.25) == pytest.approx(0.6)


def test_a_new_leadership_partly_starts_afresh_from_its_organisations_openness():
    assert rules.new_leadership_trust(0.9, 0.5, 0.0) == pytest.approx(0.9)
    assert rules.new_leadership_trust(0.9, 0.5, 1.0) == pytest.approx(0.5)
    assert rules.new_leadership_trust(0.9, 0.5, 0.5) == pytest.approx(0.7)


# --- broadcasting: one rule, for an agent's scalars and for the engine's arrays ----------------

R, N = 4, 4
SHAPE = (R, N)


def _u(rng, shape=SHAPE):
    return rng.random(shape)


def _b(rng, shape=SHAPE):
    return rng.random(shape) < 0.5


def _e(rng, shape=SHAPE):
    return rng.uniform(-1.7, 1.7, shape)


# name -> (rule, argument makers); every argument an array of SHAPE = [replication, partner]
ELEMENTWISE = {
    "effective_resourcing": (rules.effective_resourcing, [_u, _u]),
    "effective_skills": (rules.effective_skills, [_u, _u]),
    "initial_trust": (lambda a, b: rules.initial_trust(a, b, P), [_u, _u]),
    "engagement": (rules.engagement, [_b, _u, _u, _u]),
    "deterrence": (lambda a, b: rules.deterrence(a, b, P), [_u, _u]),
    "withheld_share": (lambda a, b: rules.withheld_share(a, b, P), [_u, _u]),
    "effort": (lambda *a: rules.effort(*a, P), [_u, _u, _b, _b, _u, _u]),
    "misalignment_factor": (lambda a: rules.misalignment_factor(a, P), [_u]),
    "promise_kept": (lambda *a: rules.promise_kept(*a, P), [_u, _u, _e]),
    "updated_trust": (lambda *a: rules.updated_trust(*a, P), [_u, _u, _u]),
    "agreement": (lambda *a: rules.agreement(*a, P), [_u, _u, _u, _u]),
    "maturity_step": (lambda m, r, d, s, c: rules.maturity_step(m, 1 + 9 * r, d, s, c, P),
                      [_u, _u, _u, _u, _u]),
    "programme_capacity": (lambda *a: rules.programme_capacity(*a, P), [_u, _u, _u]),
    "planned_maturity": (lambda c, r: rules.planned_maturity(10 * c, 1 + 9 * r), [_u, _u]),
    "penalty_charged": (rules.penalty_charged, [_u, _u, _b, _u, _u]),
    "equity_ratio": (rules.equity_ratio, [_u, _u, _u]),
    "inequity": (lambda r: rules.inequity(2 * r, P), [_u]),
    "control_lost": (rules.control_lost, [_u, _u, _u]),
    "dissatisfied_count": (lambda c, s: rules.dissatisfied_count(np.floor(5 * c), s), [_u, _b]),
    "gives_notice": (lambda s, c, pat, pen: rules.gives_notice(s, np.floor(6 * c),
                                                               np.floor(4 * pat), pen, P),
                     [_u, _u, _u, _u]),
    "exit_penalty_charged": (rules.exit_penalty_charged, [_b, _u, _u]),
    "cut": (rules.cut, [_u, _u]),
    "new_leadership_ambition": (lambda u: rules.new_leadership_ambition(u, P), [_u]),
    "trust_in_new_leadership": (rules.trust_in_new_leadership, [_u, _u]),
    "new_leadership_trust": (rules.new_leadership_trust, [_u, _u, _u]),
    "satisfaction_parts": (lambda *a: rules.satisfaction_parts(*a, P),
                           [_u, _u, _u, _u, _u, _u]),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_rules_give_the_same_values_for_arrays_as_for_each_scalar(name):
    rule, makers = ELEMENTWISE[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    args = [make(rng) for make in makers]
    whole = np.asarray(rule(*args))
    for idx in np.ndindex(*SHAPE):
        one = np.asarray(rule(*[a[idx] for a in args]))
        assert np.allclose(whole[idx], one, rtol=1e-12, atol=0.0), (name, idx)
    # and for a single partnership (one row of partners)
    row = np.asarray(rule(*[a[0] for a in args]))
    assert np.allclose(row, whole[0], rtol=1e-12, atol=0.0)


def _trust(rng):
    return rng.random((R, N, N))


def _active(rng):
    """Replications with everyone active, some partners gone, a lone partner, nobody."""
    a = rng.random(SHAPE) < 0.6
    a[0] = True
    a[2] = [False, False, True, False]
    a[3] = False
    return a


LEADS = np.array([0, 2, 2])


# name -> (rule, makers of per-replication arguments); each maker returns an array whose
# leading axis is the replication.
AGGREGATE = {
    "observed_delivery": (lambda k, s, e: rules.observed_delivery(k, s, e, P),
                          [_u, _u, lambda rng: _e(rng, (R, N, N))]),
    "mean_over_others": (rules.mean_over_others, [_trust, _active]),
    "min_over_others": (rules.min_over_others, [_trust, _active]),
    "mean_pair_trust": (rules.mean_pair_trust, [_trust, _active]),
    "majority_pace": (rules.majority_pace, [_u, _active]),
    "unanimity_pace": (rules.unanimity_pace, [_u, _active]),
    "lead_partner_pace": (lambda a, act, t, f: rules.lead_partner_pace(a, act, t, LEADS, f),
                          [_u, _active, _trust, lambda rng: rng.random(R)]),
    "size_weighted_mean": (rules.size_weighted_mean, [_u, _u, _active]),
    "shares": (rules.shares, [_u, _active]),
    "payable": (rules.payable, [_u, _active, _b]),
    "redistribute": (rules.redistribute, [_u, _u, _active, _b]),
    "values_closeness": (rules.values_closeness, [_u, _u, _active]),
    "vision_alignment": (rules.vision_alignment,
                         [lambda rng: rng.random((R, N, 9)), lambda rng: rng.random((R, 1, 9))]),
    "satisfaction": (lambda parts: rules.satisfaction(parts, P),
                     [lambda rng: rng.random((R, N, 6))]),
}


@pytest.mark.parametrize("name", sorted(AGGREGATE))
def test_pairwise_and_aggregate_rules_work_with_a_leading_replication_axis(name):
    rule, makers = AGGREGATE[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    args = [make(rng) for make in makers]
    whole = np.asarray(rule(*args))
    assert whole.shape[0] == R
    for r in range(R):
        one = np.asarray(rule(*[a[r] for a in args]))
        assert one.shape == whole.shape[1:]
        assert np.allclose(whole[r], one, rtol=1e-12, atol=0.0), (name, r)


def test_vision_alignment_broadcasts_partner_priorities_against_one_vision():
    rng = np.random.default_rng(3)
    priorities, vision = rng.random((R, N, 9)), rng.random(9)
    whole = rules.vision_alignment(priorities, vision)
    assert whole.shape == (R, N)
    for idx in np.ndindex(R, N):
        assert whole[idx] == pytest.approx(rules.vision_alignment(priorities[idx], vision))


def test_the_agents_one_row_view_of_observed_delivery_matches_the_full_matrix():
    """An agent reads only its own row: kept [n], its skills [1], its noise [1, n]."""
    rng = np.random.default_rng(5)
    kept, skills, eps = rng.random(N), rng.random(N), _e(rng, (N, N))
    full = rules.observed_delivery(kept, skills, eps, P)
    for i in range(N):
        row = rules.observed_delivery(kept, skills[i:i + 1], eps[i][None, :], P)[0]
        assert np.allclose(row, full[i])


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_majority_pace_over_replications_matches_a_loop(seed):
    rng = np.random.default_rng(seed)
    agree, active = rng.random((5, 6)), rng.random((5, 6)) < 0.6
    whole = rules.majority_pace(agree, active)
    looped = [float(rules.majority_pace(agree[r], active[r])) for r in range(5)]
    assert whole == pytest.approx(looped)
