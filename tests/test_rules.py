"""The behavioural rules of sim.partnership.rules, one behaviour per test, with the default parameters.

Every rule is a pure NumPy function that broadcasts: an agent calls it with its own scalars, the
vectorised engine with whole arrays (leading axes = replications, last axis = partner). The last
section holds the rules to that promise.
"""

import math
import zlib

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.partnership import rules
from sim.scenario.parameters import ModelParameters
from sim.scenario.schema import CHANCE_SHOCKS, SHOCK_KINDS

P = ModelParameters()
unit = st.floats(0.0, 1.0)
evidence = st.floats(0.0, 1e6)


def arr(*values):
    return np.array(values, dtype=float)


def mask(*values):
    return np.array(values, dtype=bool)


def chance(decide, n=20_000):
    """The chance that a decision taken against a uniform `u` comes out True: its share over a
    fine, even grid of u (deterministic, exact to 1/n)."""
    u = (np.arange(n) + 0.5) / n
    return float(np.mean(decide(u)))


# --- who takes part ---------------------------------------------------------------------------


def test_a_dedicated_team_lifts_resourcing_towards_fully_dedicated():
    assert rules.effective_resourcing(0.2, 0.0) == 0.2
    assert rules.effective_resourcing(0.2, 0.5) == pytest.approx(0.6)
    assert rules.effective_resourcing(0.2, 1.0) == 1.0


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
    assert effort_with(engaged=False) < effort_with()


def test_effort_falls_while_on_notice():
    assert effort_with(on_notice=True) == pytest.approx(P.notice_effort * effort_with())
    assert effort_with(on_notice=True) < effort_with()


def test_effort_falls_by_what_distrust_withholds():
    assert effort_with(withheld=0.4) == pytest.approx(0.6 * effort_with())


def test_a_partner_gives_all_its_effort_to_its_own_vision_and_less_to_one_it_does_not_share():
    assert rules.misalignment_factor(1.0, P) == 1.0
    assert rules.misalignment_factor(0.0, P) == pytest.approx(1.0 - P.misalignment_drag)
    assert rules.misalignment_factor(0.0, P) < rules.misalignment_factor(0.5, P) < 1.0


def test_effort_falls_as_the_vision_is_not_the_partners_own():
    assert effort_with(alignment=0.0) == pytest.approx((1 - P.misalignment_drag) * effort_with())
    assert effort_with(alignment=0.3) < effort_with()


@given(unit, unit, st.booleans(), st.booleans(), unit, unit)
def test_effort_lies_between_zero_and_one(res, com, engaged, notice, withheld, align):
    e = rules.effort(res, com, engaged, notice, withheld, align, P)
    assert 0.0 <= e <= 1.0


def test_a_fully_trustworthy_partner_delivers_all_the_effort_it_gives():
    assert rules.delivered_effort(0.6, 1.0, 0.0, P) == pytest.approx(0.6)


def test_a_less_trustworthy_partner_delivers_less_of_the_same_effort():
    assert rules.delivered_effort(0.6, 0.5, 0.0, P) == pytest.approx(0.3)
    assert rules.delivered_effort(0.6, 0.5, 0.0, P) < rules.delivered_effort(0.6, 0.9, 0.0, P)


def test_follow_through_varies_by_delivery_noise_around_trustworthiness_within_zero_and_one():
    assert rules.delivered_effort(1.0, 0.5, 1.0, P) == pytest.approx(0.5 + P.delivery_noise)
    assert rules.delivered_effort(1.0, 0.5, -1.0, P) == pytest.approx(0.5 - P.delivery_noise)
    assert rules.delivered_effort(1.0, 0.95, 3.0, P) == 1.0
    assert rules.delivered_effort(1.0, 0.05, -3.0, P) == 0.0


@given(unit, unit, st.floats(-3.0, 3.0))
def test_a_partner_delivers_between_nothing_and_the_effort_it_gave(effort, trustworthiness, eps):
    assert 0.0 <= rules.delivered_effort(effort, trustworthiness, eps, P) <= effort


def test_delivering_the_promise_keeps_it_whole_and_delivering_more_earns_no_extra_credit():
    assert rules.promise_kept(P.promise, P.promise) == pytest.approx(1.0)
    assert rules.promise_kept(2 * P.promise, P.promise) == 1.0


def test_delivering_half_the_promise_keeps_half_of_it():
    assert rules.promise_kept(P.promise / 2, P.promise) == pytest.approx(0.5)


def test_a_less_trustworthy_partner_keeps_less_of_its_promise():
    def kept(trustworthiness):
        return rules.promise_kept(rules.delivered_effort(P.promise, trustworthiness, 0.0, P),
                                  P.promise)

    assert kept(0.5) < kept(0.9) < kept(1.0) == pytest.approx(1.0)


@given(st.floats(0.0, 10.0), st.floats(0.0, 1.0))
def test_promise_kept_lies_between_zero_and_one(delivered, promised):
    assert 0.0 <= rules.promise_kept(delivered, promised) <= 1.0


def test_a_promise_of_nothing_is_kept():
    # a promise re-baselined to an effort of nothing (rebaseline 1, no resourcing, no day-job
    # effort) must not divide by zero
    assert rules.promise_kept(0.0, 0.0) == 1.0
    assert rules.promise_kept(np.zeros(3), np.array([0.0, 0.5, 0.0])).tolist() == [1, 0, 1]


def test_a_review_moves_the_promise_rebaseline_of_the_way_towards_the_effort_given():
    assert rules.rebaselined_promise(0.45, 0.25, P) == pytest.approx(
        0.45 - P.rebaseline * 0.2)
    assert rules.rebaselined_promise(0.45, 0.65, P) == pytest.approx(
        0.45 + P.rebaseline * 0.2)
    assert rules.rebaselined_promise(0.45, 0.45, P) == pytest.approx(0.45)


def test_without_rebaselining_a_partner_is_held_to_its_signing_promise_for_ever():
    p = ModelParameters(rebaseline=0.0)
    assert rules.rebaselined_promise(0.45, 0.1, p) == 0.45


def test_reviews_bring_a_promise_that_resourcing_cannot_keep_to_the_effort_actually_given():
    promise, effort = P.promise, 0.25
    for _ in range(20):
        promise = rules.rebaselined_promise(promise, effort, P)
    assert promise == pytest.approx(effort, abs=1e-4)
    # ... after which a partner keeps its promise as far as it follows through
    delivered = rules.delivered_effort(effort, 0.7, 0.0, P)
    assert rules.promise_kept(delivered, promise) == pytest.approx(0.7, abs=1e-3)


def test_a_partner_short_of_resourcing_keeps_more_of_its_promise_at_each_review():
    """Rebaselining corrects a promise resourcing cannot keep, rather than let it be broken
    for ever: a fully trustworthy partner that can give only 0.3 keeps 0.3 / promise of it at
    first, then more at every review, and nearly all of it within six reviews."""
    promise, effort = P.promise, 0.3
    kept = []
    for _ in range(6):
        kept.append(float(rules.promise_kept(rules.delivered_effort(effort, 1.0, 0.0, P),
                                             promise)))
        promise = rules.rebaselined_promise(promise, effort, P)
    assert kept[0] == pytest.approx(0.3 / P.promise)
    assert np.all(np.diff(kept) > 0) and kept[-1] > 0.95


@given(unit, unit)
def test_a_rebaselined_promise_lies_between_the_old_promise_and_the_effort(promised, effort):
    new = rules.rebaselined_promise(promised, effort, P)
    assert min(promised, effort) - 1e-12 <= new <= max(promised, effort) + 1e-12


# --- trust: Beta reputation ---------------------------------------------------------------------


def evidence_after(observed_reviews, p=P):
    """Evidence two partners hold about each other after reviews in which each saw the other
    deliver `observed` of its promise (the same both ways)."""
    kept = broken = np.zeros((2, 2))
    for seen in observed_reviews:
        kept, broken = rules.trust_evidence(kept, broken, np.full((2, 2), seen), p)
    return kept, broken


def trust_after(observed_reviews, base=0.5, p=P):
    """Trust one of two like partners (same base rate, same record) holds in the other: alike,
    so reciprocity plays no part."""
    kept, broken = evidence_after(observed_reviews, p)
    return float(rules.trust_from_evidence(kept, broken, arr(base, base), p)[0, 1])


def test_a_kept_promise_adds_one_to_the_evidence_for_a_partner():
    assert rules.trust_evidence(0.0, 0.0, 1.0, P) == pytest.approx((1.0, 0.0))


def test_a_broken_promise_adds_broken_weight_to_the_evidence_against_a_partner():
    assert rules.trust_evidence(0.0, 0.0, 0.0, P) == pytest.approx((0.0, P.broken_weight))
    assert P.broken_weight > 1.0


def test_old_evidence_fades_by_trust_memory_each_review():
    kept, broken = rules.trust_evidence(5.0, 3.0, 1.0, P)
    assert (kept, broken) == pytest.approx((P.trust_memory * 5.0 + 1.0, P.trust_memory * 3.0))


def test_delivering_one_minus_forgiveness_of_a_promise_counts_as_fully_kept():
    assert rules.trust_evidence(2.0, 1.0, 1.0 - P.forgiveness, P) == pytest.approx(
        rules.trust_evidence(2.0, 1.0, 1.0, P))
    assert trust_after([1.0 - P.forgiveness] * 3) == pytest.approx(trust_after([1.0] * 3))


def test_shortfalls_beyond_what_is_forgiven_count_partly_against_a_partner():
    half = 0.5 * (1.0 - P.forgiveness)
    assert rules.trust_evidence(0.0, 0.0, half, P) == pytest.approx(
        (0.5, 0.5 * P.broken_weight))
    assert trust_after([half]) < trust_after([1.0])


def test_with_no_evidence_trust_is_the_observers_base_rate():
    none = np.zeros((3, 3))
    trust = rules.trust_from_evidence(none, none, arr(0.3, 0.3, 0.3), P)
    assert trust == pytest.approx(np.full((3, 3), 0.3))
    alone = ModelParameters(reciprocity=0.0)
    rows = rules.trust_from_evidence(none, none, arr(0.2, 0.5, 0.9), alone)
    assert rows == pytest.approx(np.array([[0.2] * 3, [0.5] * 3, [0.9] * 3]))


def test_the_base_rate_weighs_as_much_as_trust_prior_weight_reviews_of_evidence():
    w = P.trust_prior_weight
    assert trust_after([1.0], base=0.4) == pytest.approx((1.0 + w * 0.4) / (1.0 + w))
    assert trust_after([0.0], base=0.4) == pytest.approx(w * 0.4 / (P.broken_weight + w))


def test_trust_is_slow_to_build_and_quick_to_lose():
    t = 0.5
    gained = trust_after([1.0], base=t) - t
    lost = t - trust_after([0.0], base=t)
    assert 0.0 < gained < lost


@given(base=st.floats(0.01, 0.99), weight=st.floats(0.1, 100.0), broken=st.floats(1.01, 10.0))
def test_a_kept_review_closes_less_of_the_gap_than_a_broken_one_removes_of_the_trust(
        base, weight, broken):
    p = ModelParameters(trust_prior_weight=weight, broken_weight=broken)
    gained = trust_after([1.0], base, p) - base
    lost = base - trust_after([0.0], base, p)
    assert gained / (1.0 - base) < lost / base


def test_one_kept_review_does_not_repair_one_broken_review():
    assert trust_after([0.0, 1.0]) < 0.5
    assert trust_after([1.0, 0.0]) < 0.5


def test_trust_grows_towards_a_partner_that_keeps_its_word_and_falls_towards_one_that_breaks_it():
    kept = [trust_after([1.0] * k) for k in range(8)]
    broken = [trust_after([0.0] * k) for k in range(8)]
    assert np.all(np.diff(kept) > 0) and np.all(np.diff(broken) < 0)
    # with forgetting, evidence settles at 1 / (1 - trust_memory) reviews' worth
    settled = 1.0 / (1.0 - P.trust_memory)
    w = P.trust_prior_weight
    assert kept[-1] < (settled + w * 0.5) / (settled + w) < 1.0
    assert broken[-1] > w * 0.5 / (P.broken_weight * settled + w) > 0.0


def test_forgetting_lets_trust_be_rebuilt_after_a_bad_start():
    bad_start = [0.0] * 10
    assert trust_after(bad_start) < 0.1
    assert trust_after(bad_start + [1.0] * 20) > 0.5
    assert trust_after([0.0] * 5) < 0.2
    assert trust_after([0.0] * 5 + [1.0] * 15) > 0.5
    long_memory = ModelParameters(trust_memory=0.99)
    assert trust_after(bad_start + [1.0] * 20, p=long_memory) < trust_after(
        bad_start + [1.0] * 20) - 0.2


def test_trust_is_pulled_towards_the_trust_the_other_shows():
    kept, broken = np.zeros((2, 2)), np.zeros((2, 2))
    kept[0, 1] = 3.0                         # partner 0 has seen partner 1 keep its promises
    cold, warm = broken.copy(), kept.copy()
    cold[1, 0], warm[1, 0] = 3.0, 3.0        # partner 1 has seen partner 0 break / keep them
    base = arr(0.5, 0.5)
    shown_cold = rules.trust_from_evidence(kept, cold, base, P)
    shown_warm = rules.trust_from_evidence(warm, broken, base, P)
    assert shown_warm[0, 1] > shown_cold[0, 1]
    alone = ModelParameters(reciprocity=0.0)
    assert rules.trust_from_evidence(warm, broken, base, alone)[0, 1] == pytest.approx(
        rules.trust_from_evidence(kept, cold, base, alone)[0, 1])


@st.composite
def pairwise_evidence(draw, n_max=4):
    n = draw(st.integers(1, n_max))
    kept = np.array(draw(st.lists(evidence, min_size=n * n, max_size=n * n))).reshape(n, n)
    broken = np.array(draw(st.lists(evidence, min_size=n * n, max_size=n * n))).reshape(n, n)
    base = arr(*draw(st.lists(unit, min_size=n, max_size=n)))
    return kept, broken, base


@given(pairwise_evidence(), st.floats(0.1, 100.0), unit)
def test_trust_lies_between_zero_and_one_for_any_non_negative_evidence(case, weight, recip):
    kept, broken, base = case
    p = ModelParameters(trust_prior_weight=weight, reciprocity=recip)
    trust = rules.trust_from_evidence(kept, broken, base, p)
    assert np.isfinite(trust).all() and trust.min() >= 0.0 and trust.max() <= 1.0


@given(st.lists(unit, max_size=30), unit)
def test_evidence_stays_non_negative_and_trust_in_zero_one_whatever_is_observed(seen, base):
    kept, broken = evidence_after(seen)
    assert kept.min() >= 0.0 and broken.min() >= 0.0
    assert 0.0 <= trust_after(seen, base) <= 1.0


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
    assert not np.allclose(seen, kept)


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


# --- hard decisions, building and running the service ------------------------------------------


def test_agreement_follows_leadership_ambition():
    low = rules.agreement(0.2, 0.5, 0.5, 1.0, P)
    high = rules.agreement(0.8, 0.5, 0.5, 1.0, P)
    assert low < high
    assert rules.agreement(0.8, 0.0, 0.0, 1.0, P) == pytest.approx(0.8)


def test_worry_about_control_blocks_agreement_only_without_trust():
    assert rules.agreement(0.8, 1.0, 1.0, 1.0, P) == pytest.approx(0.8)
    assert rules.agreement(0.8, 1.0, 0.0, 1.0, P) == pytest.approx(0.8 * (1 - P.control_resistance))
    assert rules.agreement(0.6, 0.8, 0.2, 1.0, P) < rules.agreement(0.6, 0.8, 0.9, 1.0, P)
    assert rules.agreement(0.6, 0.0, 0.2, 1.0, P) == pytest.approx(0.6)


def test_misalignment_slows_agreement():
    assert rules.agreement(0.8, 0.0, 1.0, 0.0, P) == pytest.approx(0.8 * (1 - P.misalignment_drag))
    assert rules.agreement(0.6, 0.8, 0.9, 0.3, P) < rules.agreement(0.6, 0.8, 0.9, 1.0, P)


def test_unanimity_pace_is_the_least_willing_active_partner():
    agree = arr(0.2, 0.6, 0.9)
    assert rules.unanimity_pace(agree, mask(True, True, True)) == 0.2
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


@pytest.mark.parametrize("rule", ["unanimity", "majority", "lead_partner"])
def test_decision_pace_applies_the_charters_decision_rule(rule):
    agree, active = arr(0.2, 0.9, 0.6), mask(True, True, True)
    expected = {"unanimity": 0.2, "majority": 0.6, "lead_partner": 0.9}[rule]
    assert rules.decision_pace(rule, agree, active, FULL_TRUST, np.array([1])) == \
        pytest.approx(expected)


def test_a_team_delivering_the_planned_capacity_with_full_skill_and_drive_has_planned_capacity():
    assert rules.programme_capacity(P.planned_capacity, 1.0, 1.0, P) == pytest.approx(
        P.planned_capacity)


def test_less_skill_or_slower_decisions_lower_the_programmes_capacity():
    full = rules.programme_capacity(0.5, 1.0, 1.0, P)
    assert rules.programme_capacity(0.5, 0.0, 1.0, P) == pytest.approx(P.skills_floor * full)
    assert rules.programme_capacity(0.5, 1.0, 0.0, P) == pytest.approx(P.routine_progress * full)


def test_an_untrained_team_that_takes_no_hard_decision_still_makes_some_progress():
    capacity = rules.programme_capacity(1.0, 0.0, 0.0, P)
    assert capacity == pytest.approx(P.skills_floor * P.routine_progress)


def test_maturity_grows_by_one_over_ramp_up_when_capacity_is_as_planned():
    assert rules.maturity_step(0.3, 4.0, P.planned_capacity, P) == pytest.approx(0.3 + 1 / 4)


def test_maturity_grows_faster_with_more_capacity_and_slower_with_less():
    planned = rules.maturity_step(0.0, 10.0, P.planned_capacity, P)
    assert rules.maturity_step(0.0, 10.0, 2 * P.planned_capacity, P) == pytest.approx(
        2 * planned)
    assert rules.maturity_step(0.0, 10.0, 0.5 * P.planned_capacity, P) == pytest.approx(
        0.5 * planned)
    assert rules.maturity_step(0.4, 10.0, 0.0, P) == 0.4


def test_maturity_is_capped_at_one():
    assert rules.maturity_step(0.95, 2.0, 1.0, P) == 1.0
    assert rules.maturity_step(1.0, 1.0, 1.0, P) == 1.0


def test_a_service_run_with_the_planned_capacity_realises_its_planned_savings():
    assert rules.running_quality(P.planned_capacity, P) == pytest.approx(1.0)


def test_a_service_run_with_less_capacity_realises_proportionally_less():
    assert rules.running_quality(0.5 * P.planned_capacity, P) == pytest.approx(
        1.0 - P.run_dependence * 0.5)
    assert rules.running_quality(0.5 * P.planned_capacity, P) < rules.running_quality(
        P.planned_capacity, P)
    assert rules.running_quality(0.0, P) == pytest.approx(1.0 - P.run_dependence)
    partly = ModelParameters(run_dependence=0.4)
    assert rules.running_quality(0.5 * partly.planned_capacity, partly) == pytest.approx(0.8)


def test_a_better_run_service_saves_more_but_never_more_than_run_ceiling():
    assert rules.running_quality(1.05 * P.planned_capacity, P) == pytest.approx(
        1.0 + 0.05 * P.run_dependence)
    assert rules.running_quality(10 * P.planned_capacity, P) == pytest.approx(P.run_ceiling)


def test_without_run_dependence_how_the_service_is_run_does_not_matter():
    p = ModelParameters(run_dependence=0.0)
    assert rules.running_quality(0.0, p) == rules.running_quality(1.0, p) == 1.0


@given(st.floats(0.0, 10.0), unit, st.floats(1.0, 10.0), st.floats(0.01, 1.0))
def test_running_quality_is_never_negative_nor_above_run_ceiling(capacity, dependence, ceiling,
                                                                 planned):
    p = ModelParameters(run_dependence=dependence, run_ceiling=ceiling, planned_capacity=planned)
    assert 0.0 <= rules.running_quality(capacity, p) <= ceiling


def test_planned_maturity_reaches_one_at_ramp_up():
    assert rules.planned_maturity(2, 4.0) == pytest.approx(0.5)
    assert rules.planned_maturity(4, 4.0) == 1.0
    assert rules.planned_maturity(9, 4.0) == 1.0


def test_size_weighted_mean_counts_only_active_partners():
    assert rules.size_weighted_mean(arr(1.0, 0.0, 0.5), arr(3.0, 1.0, 100.0),
                                    mask(True, True, False)) == pytest.approx(0.75)
    assert rules.size_weighted_mean(arr(1.0, 0.5), arr(1.0, 1.0), mask(False, False)) == 0.0


# --- money -------------------------------------------------------------------------------------


def test_a_fully_built_well_run_service_saves_half_a_years_potential_of_the_active_cost_base():
    size, active = arr(2.0, 3.0, 100.0), mask(True, True, False)
    assert rules.gross_savings(0.1, size, active, 1.0, 1.0) == pytest.approx(0.1 * 5.0 / 2)


def test_savings_follow_implementation_with_a_lag_of_one_review():
    size, active = arr(2.0, 3.0), mask(True, True)
    assert rules.gross_savings(0.1, size, active, 0.0, 1.0) == 0.0   # built only this review
    assert rules.gross_savings(0.1, size, active, 0.5, 1.0) == pytest.approx(0.1 * 5 * 0.5 / 2)


def test_a_review_saves_in_proportion_to_how_well_it_runs_the_service():
    size, active = arr(2.0, 3.0), mask(True, True)
    well = rules.gross_savings(0.1, size, active, 0.8, 1.0)
    assert rules.gross_savings(0.1, size, active, 0.8, 0.5) == pytest.approx(0.5 * well)
    assert rules.gross_savings(0.1, size, active, 0.8, 0.0) == 0.0


def spend(maturity, previous, ramp_up=4.0, cost=8.0, **kw):
    """Implementation spend of one review (no programme team, no training unless given)."""
    team = {**dict(dedicated=0.0, team_cost=0.0, training=0.0, training_cost=0.0), **kw}
    return float(rules.programme_spend(cost, maturity, previous, ramp_up, p=P, **team))


def total_spend(path, ramp_up):
    """Implementation spend over a path of maturities (one per review, starting from 0)."""
    previous = [0.0] + list(path[:-1])
    return sum(spend(m, prev, ramp_up) for m, prev in zip(path, previous))


@pytest.mark.parametrize("ramp_up", [1.0, 2.5, 4.0, 7.0])
def test_a_programme_on_plan_spends_exactly_its_implementation_budget(ramp_up):
    plan = [float(rules.planned_maturity(c, ramp_up)) for c in range(1, 16)]
    assert total_spend(plan, ramp_up) == pytest.approx(8.0)


def test_a_programme_that_takes_twice_as_long_pays_its_running_costs_twice_as_long():
    slow = [float(rules.planned_maturity(c, 8.0)) for c in range(1, 16)]
    overrun = total_spend(slow, 4.0) - 8.0
    assert overrun == pytest.approx(P.time_related_cost * 8.0)
    # ... and one that takes half as long again as planned costs more than its budget too
    later = [float(rules.planned_maturity(c, 6.0)) for c in range(1, 16)]
    assert total_spend(later, 4.0) > 8.0


def test_running_costs_stop_once_the_service_is_built():
    assert spend(1.0, 1.0) == 0.0
    assert spend(1.0, 0.9) > 0.0
    assert spend(1.0, 1.0, dedicated=1.0, team_cost=0.6) == pytest.approx(0.3)


def test_rebuilding_what_a_supplier_failure_destroyed_is_paid_for_again():
    # the service was fully built, a failure cut it to 0.5, this review rebuilds 0.25 of it
    again = spend(0.75, 0.5)
    assert again == pytest.approx(8.0 * ((1 - P.time_related_cost) * 0.25
                                         + P.time_related_cost / 4))


def test_a_review_pays_half_a_year_of_the_programme_team_and_of_training():
    assert spend(0.0, 0.0, cost=0.0, dedicated=0.5, team_cost=0.8, training=0.25,
                 training_cost=0.4) == pytest.approx((0.5 * 0.8 + 0.25 * 0.4) / 2)


@pytest.mark.parametrize("rule, expected", [("equal", [1.0, 1.0, 1.0]),
                                            ("by_size", [2.0, 3.0, 5.0])])
def test_costs_are_shared_equally_or_by_size(rule, expected):
    assert rules.cost_weights(rule, arr(2.0, 3.0, 5.0)).tolist() == expected


@pytest.mark.parametrize("rule, expected", [("equal", [1.0, 1.0, 1.0]),
                                            ("by_size", [2.0, 3.0, 5.0]),
                                            ("by_contribution", [0.5, 0.1, 0.0])])
def test_benefits_are_shared_equally_by_size_or_by_effort_delivered(rule, expected):
    assert rules.benefit_weights(rule, arr(2.0, 3.0, 5.0), arr(0.5, 0.1, 0.0)).tolist() == \
        expected


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
    assert rules.shares(arr(0.0, 0.0, 0.0), mask(True, True, False)).tolist() == [0.5, 0.5, 0.0]


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
    # handed the raw amounts, redistribute itself passes on only what someone can receive
    raw = rules.redistribute(amounts, size, active, payers)
    assert raw.sum() == pytest.approx(paid.sum(), rel=1e-12, abs=1e-9)
    assert np.all(raw[~active] == 0.0)


@given(payments(), st.integers(0, 5))
def test_redistribute_never_pays_the_payer(case, j):
    amounts, size, active, _ = case
    j = j % len(amounts)
    payer = np.arange(len(amounts)) == j
    received = rules.redistribute(rules.payable(amounts, active, payer), size, active, payer)
    assert received[j] == 0.0


def test_a_called_out_breach_is_paid_to_the_other_active_partners_pro_rata_to_size():
    kept, size = arr(0.5, 1.0, 1.0, 0.2), arr(4.0, 1.0, 3.0, 9.0)
    active, called = mask(True, True, True, False), mask(True, True, True, False)
    paid, received = rules.breach_penalties(kept, size, active, called, 0.7, 0.5)
    assert paid == pytest.approx([0.5 * 0.2 * 4.0 / 2, 0.0, 0.0, 0.0])
    assert received == pytest.approx([0.0, 0.2 * 1 / 4, 0.2 * 3 / 4, 0.0])


def test_a_breach_that_is_not_called_out_costs_nothing():
    paid, received = rules.breach_penalties(arr(0.1, 0.1), arr(1.0, 1.0), mask(True, True),
                                            mask(False, False), 0.9, 1.0)
    assert paid.tolist() == received.tolist() == [0.0, 0.0]


@given(payments(), st.lists(unit, min_size=6, max_size=6), unit, st.floats(0.0, 2.0))
def test_breach_penalties_conserve_money_and_only_breaching_active_partners_pay(
        case, kept, threshold, rate):
    _, size, active, called = case
    kept = arr(*kept[:len(size)])
    called = called & active
    paid, received = rules.breach_penalties(kept, size, active, called, threshold, rate)
    assert received.sum() == pytest.approx(paid.sum(), rel=1e-12, abs=1e-12)
    assert np.all(paid[~called | (kept >= threshold)] == 0.0)
    assert np.all(received[~active] == 0.0) and np.all(paid >= 0.0)


def test_a_leaver_pays_the_exit_penalty_times_its_annual_cost_base():
    assert rules.exit_penalty_charged(mask(True, False), arr(4.0, 9.0), 0.25).tolist() == [1.0, 0.0]


def test_leavers_pay_the_exit_penalty_to_those_who_stay_pro_rata_to_size():
    leaving, staying = mask(False, True, False, True), mask(True, False, True, False)
    paid, received = rules.exit_settlement(leaving, staying, arr(1.0, 4.0, 3.0, 2.0), 0.5)
    assert paid == pytest.approx([0.0, 2.0, 0.0, 1.0])
    assert received == pytest.approx([3.0 * 1 / 4, 0.0, 3.0 * 3 / 4, 0.0])


def test_no_exit_penalty_is_charged_when_nobody_stays():
    paid, received = rules.exit_settlement(mask(True, True), mask(False, False), arr(1.0, 2.0),
                                           0.5)
    assert paid.tolist() == received.tolist() == [0.0, 0.0]


@given(payments(), st.floats(0.0, 10.0))
def test_exit_settlement_conserves_money_and_only_leavers_pay_and_only_stayers_receive(
        case, penalty):
    _, size, active, leaving = case
    leaving = leaving & active
    staying = active & ~leaving
    paid, received = rules.exit_settlement(leaving, staying, size, penalty)
    assert received.sum() == pytest.approx(paid.sum(), rel=1e-12, abs=1e-12)
    assert np.all(paid[~leaving] == 0.0) and np.all(received[~staying] == 0.0)
    if staying.any():
        assert paid == pytest.approx(np.where(leaving, penalty * size, 0.0))


# --- the plan ----------------------------------------------------------------------------------


def plan(size, planned_active, cost_sharing="equal", benefit_sharing="equal", ramp_up=4.0,
         savings=0.1, cost=2.0, dedicated=0.5, team_cost=0.4, training=0.2, training_cost=0.3):
    return rules.planned_money(np.asarray(size, dtype=float), np.asarray(planned_active),
                               savings, cost, ramp_up, dedicated, team_cost, training,
                               training_cost, cost_sharing, benefit_sharing, P)


def test_the_plan_projects_each_partners_money_review_by_review_from_zero():
    """Two equal partners, ramp-up 2: the first review builds half the service and saves
    nothing, the second builds the rest and saves on the half built, then full savings."""
    money = plan([3.0, 3.0], np.ones((5, 2), bool), ramp_up=2.0, savings=0.1, cost=2.0,
                 dedicated=0.0, training=0.0)
    year = 0.1 * 6.0                                 # a year's savings at full maturity
    net = np.cumsum([0.0, -1.0, year / 4 - 1.0, year / 2, year / 2])
    assert money.shape == (5, 2)
    assert money.sum(axis=-1) == pytest.approx(net)
    assert money[:, 0] == pytest.approx(money[:, 1])


def test_a_scheduled_joiner_has_no_planned_money_before_it_joins():
    planned_active = np.ones((7, 3), bool)
    planned_active[:4, 2] = False                    # joins at review 4
    money = plan([2.0, 3.0, 4.0], planned_active)
    assert np.all(money[:4, 2] == 0.0)
    assert money[4, 2] != 0.0


def test_sharing_by_size_splits_the_plan_in_proportion_to_cost_base():
    money = plan([1.0, 3.0], np.ones((9, 2), bool), "by_size", "by_size")
    assert money[:, 1] == pytest.approx(3.0 * money[:, 0])


@st.composite
def plans(draw):
    n = draw(st.integers(1, 5))
    horizon = draw(st.integers(1, 12))
    size = draw(st.lists(st.floats(0.1, 50.0), min_size=n, max_size=n))
    joins = [0] + draw(st.lists(st.integers(0, horizon + 1), min_size=n - 1, max_size=n - 1))
    planned_active = np.arange(horizon + 1)[:, None] >= np.array(joins)[None, :]
    return dict(size=size, planned_active=planned_active,
                cost_sharing=draw(st.sampled_from(["equal", "by_size"])),
                benefit_sharing=draw(st.sampled_from(["equal", "by_size", "by_contribution"])),
                ramp_up=draw(st.floats(1.0, 10.0)), savings=draw(unit),
                cost=draw(st.floats(0.0, 5.0)), dedicated=draw(unit),
                team_cost=draw(st.floats(0.0, 1.0)), training=draw(unit),
                training_cost=draw(st.floats(0.0, 1.0)))


@given(plans())
def test_planned_money_sums_to_the_plans_net_savings(case):
    """Sum over partners of the planned money = the plan's own savings less its spend, review by
    review, whatever the sharing rules and whoever joins when (worked out here independently:
    maturity c / ramp-up, savings lag one review, running costs until built)."""
    money = plan(**case)
    size, active, ramp = np.array(case["size"]), case["planned_active"], case["ramp_up"]
    net, previous = [0.0], 0.0
    for cycle in range(1, len(active)):
        maturity = min(1.0, cycle / ramp)
        gross = case["savings"] * size[active[cycle]].sum() * previous / 2
        implementation = case["cost"] * (
            (1 - P.time_related_cost) * (maturity - previous)
            + P.time_related_cost * (previous < 1.0) / math.ceil(ramp))
        team = (case["dedicated"] * case["team_cost"]
                + case["training"] * case["training_cost"]) / 2
        net.append(net[-1] + gross - implementation - team)
        previous = maturity
    assert money[0].tolist() == [0.0] * len(size)
    assert money.sum(axis=-1) == pytest.approx(net, rel=1e-9, abs=1e-9)
    steps = np.diff(money, axis=0)
    assert np.all(steps[~active[1:]] == 0.0)       # nobody's plan moves before it joins


# --- fairness, alignment, satisfaction ---------------------------------------------------------


ALL3 = mask(True, True, True)


def test_equity_is_one_when_each_partners_share_of_savings_matches_its_share_of_costs_and_effort():
    share = arr(0.2, 0.3, 0.5)
    assert rules.equity_ratio(10 * share, 4 * share, 7 * share, ALL3) == pytest.approx(
        [1.0, 1.0, 1.0])


def test_a_partner_getting_a_smaller_share_of_savings_than_it_put_in_has_equity_below_one():
    received, paid, contributed = arr(1.0, 1.0, 2.0), arr(1.0, 1.0, 1.0), arr(2.0, 1.0, 1.0)
    equity = rules.equity_ratio(received, paid, contributed, ALL3)
    # partner 0: a quarter of the savings for a third of the costs and half the effort
    assert equity[0] == pytest.approx(0.25 / ((1 / 3 + 1 / 2) / 2))
    assert equity[0] < 1.0 < equity[2]


def test_equity_is_one_while_nothing_has_been_saved_yet():
    equity = rules.equity_ratio(arr(0.0, 0.0, 0.0), arr(1.0, 2.0, 3.0), arr(3.0, 0.0, 1.0), ALL3)
    assert equity.tolist() == [1.0, 1.0, 1.0]


def test_before_any_effort_is_delivered_costs_alone_are_the_input():
    equity = rules.equity_ratio(arr(1.0, 1.0), arr(1.0, 3.0), arr(0.0, 0.0), mask(True, True))
    assert equity == pytest.approx([0.5 / 0.25, 0.5 / 0.75])


def test_equity_shares_count_only_the_active_partners():
    received, paid, contributed = arr(1.0, 1.0, 50.0), arr(1.0, 1.0, 0.0), arr(1.0, 1.0, 9.0)
    assert rules.equity_ratio(received, paid, contributed, mask(True, True, False))[:2] == \
        pytest.approx([1.0, 1.0])


none_or_some = st.one_of(st.just(0.0), st.floats(1e-6, 100.0))


@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=6), st.floats(0.01, 100.0),
       none_or_some, none_or_some, st.lists(st.booleans(), min_size=6, max_size=6))
def test_equity_is_one_when_rewards_match_inputs(share, rewards, costs, effort, active):
    share = arr(*share)
    active = mask(*active[:len(share)])
    assume(active.any())
    equity = rules.equity_ratio(rewards * share, costs * share, effort * share, active)
    assert equity[active] == pytest.approx(np.ones(active.sum()))


def test_equal_returns_are_not_inequitable():
    assert rules.inequity(1.0, P) == 0.0


@given(st.floats(0.01, 0.99))
def test_getting_less_hurts_more_than_getting_more_by_the_same_amount(d):
    assert rules.inequity(1.0 - d, P) > rules.inequity(1.0 + d, P) > 0.0


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


def test_cultural_gap_is_the_mean_distance_in_appetite_for_change_and_for_giving_up_control():
    gap = rules.cultural_gap(arr(0.2, 0.8, 0.2), arr(0.5, 0.1, 0.5))
    assert gap[0, 1] == pytest.approx(0.5 * (0.6 + 0.4))
    assert np.array_equal(gap, gap.T)
    assert np.all(np.diag(gap) == 0.0) and gap[0, 2] == 0.0


def test_values_closeness_accepts_the_cultural_gap_it_would_compute():
    ambition, concern, active = arr(0.1, 0.5, 0.9), arr(0.2, 0.8, 0.4), ALL3
    gap = rules.cultural_gap(ambition, concern)
    assert rules.values_closeness(ambition, concern, active, gap) == pytest.approx(
        rules.values_closeness(ambition, concern, active))


def test_control_lost_grows_with_maturity_and_is_less_for_a_lead_partner():
    assert rules.control_lost(0.8, 0.0, 0.0) == 0.0
    assert rules.control_lost(0.8, 0.5, 0.0) < rules.control_lost(0.8, 1.0, 0.0)
    assert rules.control_lost(0.8, 1.0, 0.5) < rules.control_lost(0.8, 1.0, 0.0)
    assert rules.control_lost(0.0, 1.0, 0.0) == 0.0


def test_a_partner_on_or_ahead_of_its_plan_has_all_the_benefit_it_expected():
    assert rules.benefit_against_plan(-0.5, -0.5, 4.0, 0.1, P) == 1.0
    assert rules.benefit_against_plan(-0.5, 2.0, 4.0, 0.1, P) == 1.0


def test_the_benefit_falls_as_a_partner_falls_behind_its_plan_and_is_gone_at_the_tolerance():
    yearly = 0.1 * 4.0                 # what its cost base was planned to save in a year
    behind = P.shortfall_tolerance * yearly
    assert rules.benefit_against_plan(1.0, 1.0 - behind / 2, 4.0, 0.1, P) == pytest.approx(0.5)
    assert rules.benefit_against_plan(1.0, 1.0 - behind, 4.0, 0.1, P) == pytest.approx(0.0)
    assert rules.benefit_against_plan(1.0, 1.0 - 3 * behind, 4.0, 0.1, P) == 0.0


def test_the_same_shortfall_matters_less_to_a_partner_whose_plan_was_bigger():
    small = rules.benefit_against_plan(0.5, 0.0, 2.0, 0.1, P)
    big = rules.benefit_against_plan(0.5, 0.0, 8.0, 0.1, P)
    assert small < big < 1.0


@given(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3), st.floats(0.01, 100.0), unit)
def test_benefit_against_plan_lies_between_zero_and_one(planned, realised, size, potential):
    assert 0.0 <= rules.benefit_against_plan(planned, realised, size, potential, P) <= 1.0


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


def test_a_partner_signs_expecting_the_business_cases_benefits_and_full_fairness():
    expected = rules.expected_parts(0.8, 0.7, 0.6, 0.5, 0.0, 1.0, P)
    part = dict(zip(rules.SATISFACTION_PARTS, expected))
    assert part["benefit"] == part["fairness"] == 0.0
    assert part["vision"] == pytest.approx(P.weight_vision * 0.2)
    assert part["values"] == pytest.approx(P.weight_values * 0.3)


def test_a_partner_signs_expecting_the_trust_it_extends():
    low, high = rules.expected_parts(1.0, 1.0, np.array([0.3, 0.9]), 0.0, 0.0, 1.0, P)
    index = rules.SATISFACTION_PARTS.index("trust")
    assert low[index] == pytest.approx(P.weight_trust * 0.7)
    assert high[index] == pytest.approx(P.weight_trust * 0.1)


def test_a_partner_expects_to_hand_over_control_as_the_plan_builds_the_service():
    index = rules.SATISFACTION_PARTS.index("control")
    assert rules.expected_parts(1.0, 1.0, 1.0, 0.8, 0.0, 0.0, P)[index] == 0.0  # at signing
    assert rules.expected_parts(1.0, 1.0, 1.0, 0.8, 0.0, 1.0, P)[index] == pytest.approx(
        P.weight_control * rules.control_lost(0.8, 1.0, 0.0))
    leads_half = rules.expected_parts(1.0, 1.0, 1.0, 0.8, 0.5, 1.0, P)[index]
    assert leads_half == pytest.approx(P.weight_control * 0.4)


def test_what_a_partner_expects_moves_only_in_control_as_the_plan_builds_the_service():
    signed = rules.expected_parts(0.8, 0.7, 0.6, 0.5, 0.0, 0.0, P)
    halfway = rules.expected_as_planned(signed, 0.5, 0.0, 0.5, P)
    control = rules.SATISFACTION_PARTS.index("control")
    assert halfway[control] == pytest.approx(P.weight_control * 0.25)
    others = [i for i in range(len(signed)) if i != control]
    assert halfway[others] == pytest.approx(signed[others])
    assert signed[control] == 0.0                                  # the input is not changed


def test_a_partnership_going_to_plan_never_looks_worse_than_expected_on_control():
    """Appraisal and expectation move with the same memory, so handing over control exactly as
    planned adds nothing to the fall that makes a partner leave."""
    expected = appraisal = rules.expected_parts(0.8, 0.7, 0.6, 0.9, 0.0, 0.0, P)
    for cycle in range(1, 9):
        built = rules.planned_maturity(cycle, 4)
        parts = rules.satisfaction_parts(1.0, 1.0, 0.8, 0.7, 0.6,
                                         rules.control_lost(0.9, built, 0.0), P)
        appraisal = rules.appraised(appraisal, parts, 3)
        expected = rules.appraised(expected, rules.expected_as_planned(expected, 0.9, 0.0,
                                                                       built, P), 3)
        assert rules.exit_margin(expected, appraisal, 0.0, built, P) == pytest.approx(
            -P.signing_margin - P.integration_lock_in * built)


def test_an_impatient_partner_appraises_the_partnership_by_its_latest_review():
    previous, now = arr(0.0, 0.1, 0.0, 0.0, 0.1, 0.0), arr(0.3, 0.0, 0.0, 0.0, 0.2, 0.1)
    assert rules.appraised(previous, now, 0) == pytest.approx(now)


def test_a_patient_partner_moves_one_over_one_plus_patience_of_the_way_each_review():
    previous, now = np.zeros(6), np.full(6, 0.4)
    assert rules.appraised(previous, now, 3) == pytest.approx(np.full(6, 0.1))


def test_disappointment_is_remembered_and_fades_over_the_reviews_that_follow():
    good, bad = np.zeros(6), np.full(6, 0.2)
    after = {}
    for patience in (0, 3):
        appraisal = rules.appraised(good, bad, patience)    # one bad review
        history = [appraisal]
        for _ in range(6):                                  # then good ones
            appraisal = rules.appraised(appraisal, good, patience)
            history.append(appraisal)
        after[patience] = np.array([h.sum() for h in history])
    assert np.all(np.diff(after[3]) < 0) and after[3][-1] > 0   # fades, slowly
    assert after[0][1] == 0.0                                   # forgotten at once
    assert after[3][0] < after[0][0]                            # but weighed less at first


@given(st.lists(unit, min_size=6, max_size=6), st.lists(unit, min_size=6, max_size=6),
       st.floats(0.0, 100.0))
def test_an_appraisal_lies_between_the_previous_one_and_this_review(previous, now, patience):
    previous, now = arr(*previous), arr(*now)
    new = rules.appraised(previous, now, patience)
    assert np.all(new >= np.minimum(previous, now) - 1e-12)
    assert np.all(new <= np.maximum(previous, now) + 1e-12)


# --- exit ----------------------------------------------------------------------------------------


EXPECTED = rules.expected_parts(0.9, 0.8, 0.6, 0.5, 0.0, 1.0, P)


def fallen(part: str, by: float):
    """The appraisal of a partner whose `part` has fallen `by` since it signed."""
    appraisal = EXPECTED.copy()
    appraisal[rules.SATISFACTION_PARTS.index(part)] += by
    return appraisal


def notice_chance(appraisal, exit_penalty=0.0, maturity=0.0, p=P):
    margin = rules.exit_margin(EXPECTED, appraisal, exit_penalty, maturity, p)
    return chance(lambda u: rules.gives_notice(margin, u, p))


def test_a_partner_as_content_as_it_expected_to_be_is_signing_margin_short_of_leaving():
    assert rules.exit_margin(EXPECTED, EXPECTED, 0.0, 0.0, P) == pytest.approx(-P.signing_margin)


def test_the_exit_margin_grows_with_how_far_the_appraisal_has_fallen_since_signing():
    assert rules.exit_margin(EXPECTED, fallen("trust", 0.15), 0.0, 0.0, P) == pytest.approx(
        0.15 - P.signing_margin)


def test_an_exit_penalty_and_a_built_service_both_make_leaving_look_worse():
    appraisal = fallen("benefit", 0.3)
    free = rules.exit_margin(EXPECTED, appraisal, 0.0, 0.0, P)
    assert rules.exit_margin(EXPECTED, appraisal, 0.1, 0.0, P) == pytest.approx(
        free - P.exit_deterrence * 0.1)
    assert rules.exit_margin(EXPECTED, appraisal, 0.0, 1.0, P) == pytest.approx(
        free - P.integration_lock_in)


def test_notice_is_a_toss_up_when_leaving_and_staying_look_equally_good():
    assert chance(lambda u: rules.gives_notice(0.0, u, P)) == pytest.approx(0.5)


def test_a_partner_whose_appraisal_has_fallen_past_its_exit_threshold_is_likely_to_give_notice():
    past = fallen("fairness", P.signing_margin + 4 * P.exit_spread)
    assert notice_chance(past) > 0.95


def test_a_partner_as_content_as_it_expected_rarely_gives_notice():
    assert notice_chance(EXPECTED) < 0.01


def test_an_exit_penalty_makes_an_unhappy_partner_less_likely_to_give_notice():
    unhappy = fallen("benefit", P.signing_margin + 4 * P.exit_spread)
    assert notice_chance(unhappy, exit_penalty=0.2) < 0.01 < 0.95 < notice_chance(unhappy)
    miserable = fallen("benefit", P.signing_margin + 0.2 + 4 * P.exit_spread)
    assert notice_chance(miserable, exit_penalty=0.2) > 0.95   # ... unless it is miserable enough


def test_falls_in_several_parts_add_up_to_a_near_certain_notice_that_an_exit_penalty_deters():
    # benefit, fairness and trust together fallen 0.25 since signing
    unhappy = EXPECTED + arr(0.1, 0.05, 0.0, 0.0, 0.1, 0.0)
    assert notice_chance(unhappy) > 0.95
    assert notice_chance(unhappy, exit_penalty=0.3) < 0.05


def test_a_built_service_holds_a_partner_in():
    unhappy = fallen("trust", P.signing_margin + P.integration_lock_in / 2)
    assert notice_chance(unhappy, maturity=1.0) < 0.5 < notice_chance(unhappy, maturity=0.0)


@given(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0), unit)
def test_the_chance_of_notice_rises_with_the_margin(a, b, u):
    low, high = min(a, b), max(a, b)
    assert rules.gives_notice(high, u, P) >= rules.gives_notice(low, u, P)


def test_a_leaver_names_the_part_that_fell_most_since_signing():
    appraisal = fallen("values", 0.1)
    appraisal[rules.SATISFACTION_PARTS.index("trust")] += 0.05
    assert rules.SATISFACTION_PARTS[rules.exit_reason(EXPECTED, appraisal)] == "values"


def test_control_not_yet_handed_over_is_not_a_reason_to_leave():
    appraisal = fallen("control", -0.08)          # less control lost than it signed up to
    appraisal[rules.SATISFACTION_PARTS.index("benefit")] += 0.01
    assert rules.SATISFACTION_PARTS[rules.exit_reason(EXPECTED, appraisal)] == "benefit"


# --- shocks ------------------------------------------------------------------------------------


def test_a_scheduled_shock_strikes_at_its_cycle_whatever_the_draw():
    assert rules.shock_strikes(4, 0.0, 4, 0.99)
    assert not rules.shock_strikes(4, 1.0, 3, 0.0)


def test_a_random_shock_strikes_with_chance_rate_each_review():
    assert chance(lambda u: rules.shock_strikes(0, 0.3, 5, u)) == pytest.approx(0.3)
    assert chance(lambda u: rules.shock_strikes(0, 0.0, 5, u)) == 0.0
    assert chance(lambda u: rules.shock_strikes(0, 1.0, 5, u)) == 1.0


POOL = mask(True, False, True, True)


def test_a_shock_on_a_named_partner_hits_it_if_it_can():
    assert rules.shock_targets(2, POOL, 0.5).tolist() == [False, False, True, False]
    assert not rules.shock_targets(1, POOL, 0.5).any()       # not in the pool


def test_a_shock_on_all_hits_every_partner_in_the_pool():
    assert rules.shock_targets(rules.TARGET_ALL, POOL, 0.5).tolist() == POOL.tolist()


def test_a_shock_on_any_partner_picks_each_in_the_pool_with_equal_chance():
    picked = [int(np.flatnonzero(rules.shock_targets(rules.TARGET_ANY, POOL, u))[0])
              for u in (np.arange(300) + 0.5) / 300]
    assert {k: picked.count(k) for k in set(picked)} == {0: 100, 2: 100, 3: 100}


def test_a_shock_on_any_partner_hits_nobody_when_the_pool_is_empty():
    assert not rules.shock_targets(rules.TARGET_ANY, mask(False, False), 0.3).any()


@given(st.lists(st.booleans(), min_size=1, max_size=8), st.integers(-2, 7),
       st.floats(0.0, 1.0))
def test_a_shock_only_hits_partners_in_the_pool_and_any_hits_exactly_one(pool, target, u):
    pool = mask(*pool)
    target = target if target < 0 else target % len(pool)
    hit = rules.shock_targets(target, pool, u)
    assert hit.shape == pool.shape
    assert not np.any(hit & ~pool)
    if target == rules.TARGET_ANY:
        assert hit.sum() == min(1, pool.sum())


@pytest.mark.parametrize("kind", sorted(CHANCE_SHOCKS))
def test_a_chance_shock_goes_ahead_for_a_partner_struck_with_chance_magnitude(kind):
    hit = mask(True, False)
    assert chance(lambda u: rules.goes_ahead(kind, hit, np.stack([u, u], -1),
                                             np.full(len(u), 0.3))[:, 0]) == pytest.approx(0.3)
    assert rules.goes_ahead(kind, hit, arr(0.999, 0.0), 1.0).tolist() == [True, False]
    assert rules.goes_ahead(kind, hit, arr(0.0, 0.0), 0.0).tolist() == [False, False]


@pytest.mark.parametrize("kind", sorted(set(SHOCK_KINDS) - set(CHANCE_SHOCKS)))
def test_other_shocks_always_go_ahead_for_the_partners_struck(kind):
    hit = mask(True, False, True)
    assert rules.goes_ahead(kind, hit, arr(0.9, 0.9, 0.9), 0.1).tolist() == hit.tolist()


@pytest.mark.slow
@given(st.sampled_from(SHOCK_KINDS), st.lists(st.tuples(st.booleans(), unit), min_size=1,
                                              max_size=8), unit)
def test_a_shock_never_goes_ahead_for_more_partners_than_it_struck(kind, rows, magnitude):
    hit, u = mask(*[h for h, _ in rows]), arr(*[v for _, v in rows])
    assert not np.any(rules.goes_ahead(kind, hit, u, magnitude) & ~hit)


def test_a_cut_removes_its_magnitude_of_what_there_was():
    assert rules.cut(0.5, 0.3) == pytest.approx(0.35)
    assert rules.cut(0.5, 0.0) == 0.5
    assert rules.cut(0.5, 1.0) == 0.0


@given(unit)
def test_a_new_leaderships_ambition_lies_in_the_configured_range(u):
    a = rules.new_leadership_ambition(u, P)
    assert P.leadership_ambition_low <= a <= P.leadership_ambition_high


def test_a_new_leadership_partly_starts_afresh_from_its_organisations_openness():
    assert rules.new_leadership_base(0.9, 0.5, 0.0) == pytest.approx(0.9)
    assert rules.new_leadership_base(0.9, 0.5, 1.0) == pytest.approx(0.5)
    assert rules.new_leadership_base(0.9, 0.5, 0.5) == pytest.approx(0.7)


KEPT_E = np.array([[0.0, 4.0, 2.0],
                   [3.0, 0.0, 1.0],
                   [5.0, 2.0, 0.0]])
BROKEN_E = np.array([[0.0, 1.0, 2.0],
                     [0.5, 0.0, 3.0],
                     [1.0, 0.0, 0.0]])
NEW_AT_1 = mask(False, True, False)


def test_the_others_forget_magnitude_of_the_old_leaderships_record_and_add_doubt():
    m = 0.4
    kept, broken = rules.new_leadership_evidence(KEPT_E, BROKEN_E, NEW_AT_1, m, P)
    assert kept[[0, 2], 1] == pytest.approx((1 - m) * KEPT_E[[0, 2], 1])
    assert broken[[0, 2], 1] == pytest.approx((1 - m) * BROKEN_E[[0, 2], 1]
                                              + m * P.trust_prior_weight)


def test_a_new_leadership_forgets_magnitude_of_its_own_evidence_about_the_others():
    m = 0.4
    kept, broken = rules.new_leadership_evidence(KEPT_E, BROKEN_E, NEW_AT_1, m, P)
    assert kept[1, [0, 2]] == pytest.approx((1 - m) * KEPT_E[1, [0, 2]])
    assert broken[1, [0, 2]] == pytest.approx((1 - m) * BROKEN_E[1, [0, 2]])


def test_a_leadership_change_leaves_the_evidence_between_the_other_partners_alone():
    kept, broken = rules.new_leadership_evidence(KEPT_E, BROKEN_E, NEW_AT_1, 0.4, P)
    others = np.ix_([0, 2], [0, 2])
    assert np.array_equal(kept[others], KEPT_E[others])
    assert np.array_equal(broken[others], BROKEN_E[others])


def test_a_leadership_change_of_magnitude_zero_changes_nothing():
    kept, broken = rules.new_leadership_evidence(KEPT_E, BROKEN_E, NEW_AT_1, 0.0, P)
    assert np.array_equal(kept, KEPT_E) and np.array_equal(broken, BROKEN_E)


def test_the_others_trust_in_a_new_leadership_with_a_good_record_is_dented():
    base = arr(0.6, 0.6, 0.6)
    before = rules.trust_from_evidence(KEPT_E, BROKEN_E, base, P)
    after = rules.trust_from_evidence(*rules.new_leadership_evidence(
        KEPT_E, BROKEN_E, NEW_AT_1, 0.4, P), base, P)
    assert np.all(after[[0, 2], 1] < before[[0, 2], 1])
    assert after[0, 2] == pytest.approx(before[0, 2]) and after[2, 0] == pytest.approx(
        before[2, 0])


def test_a_new_leadership_with_no_record_yet_is_trusted_less_than_the_base_rate():
    none = np.zeros((2, 2))
    m = 0.5
    after = rules.trust_from_evidence(*rules.new_leadership_evidence(
        none, none, mask(False, True), m, ModelParameters(reciprocity=0.0)), arr(0.6, 0.6),
        ModelParameters(reciprocity=0.0))
    assert after[0, 1] == pytest.approx(0.6 / (1 + m))


@given(pairwise_evidence(), st.lists(st.booleans(), min_size=4, max_size=4), unit)
def test_a_leadership_change_adds_to_nobodys_record_and_leaves_other_pairs_alone(
        case, hit, m):
    kept_e, broken_e, _ = case
    hit = mask(*hit[:len(kept_e)])
    kept, broken = rules.new_leadership_evidence(kept_e, broken_e, hit, m, P)
    assert kept.min() >= 0.0 and broken.min() >= 0.0
    assert np.all(kept <= kept_e)
    untouched = ~hit[:, None] & ~hit[None, :]
    assert np.array_equal(kept[untouched], kept_e[untouched])
    assert np.array_equal(broken[untouched], broken_e[untouched])


# --- broadcasting: one rule, for an agent's scalars and for the engine's arrays ----------------

R, N = 4, 4
SHAPE = (R, N)


def _u(rng, shape=SHAPE):
    return rng.random(shape)


def _b(rng, shape=SHAPE):
    return rng.random(shape) < 0.5


def _e(rng, shape=SHAPE):
    return rng.uniform(-1.7, 1.7, shape)


def _pos(rng, shape=SHAPE):
    return 0.05 + rng.random(shape)


def _pair(rule):
    """A rule returning two arrays, as one array (stacked on a new last axis)."""
    return lambda *a: np.stack(np.broadcast_arrays(*rule(*a)), axis=-1)


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
    "delivered_effort": (lambda *a: rules.delivered_effort(*a, P), [_u, _u, _e]),
    "promise_kept": (rules.promise_kept, [_u, _pos]),
    "rebaselined_promise": (lambda *a: rules.rebaselined_promise(*a, P), [_u, _u]),
    "trust_evidence": (_pair(lambda k, b, o: rules.trust_evidence(3 * k, 3 * b, o, P)),
                       [_u, _u, _u]),
    "agreement": (lambda *a: rules.agreement(*a, P), [_u, _u, _u, _u]),
    "programme_capacity": (lambda *a: rules.programme_capacity(*a, P), [_u, _u, _u]),
    "maturity_step": (lambda m, r, c: rules.maturity_step(m, 1 + 9 * r, 0.2 * c, P),
                      [_u, _u, _u]),
    "running_quality": (lambda c: rules.running_quality(0.2 * c, P), [_u]),
    "planned_maturity": (lambda c, r: rules.planned_maturity(10 * c, 1 + 9 * r), [_u, _u]),
    "programme_spend": (lambda c, m, pm, r, d, tc, t, trc: rules.programme_spend(
        c, np.maximum(m, pm), pm, 1 + 9 * r, d, tc, t, trc, P), [_u] * 8),
    "penalty_charged": (rules.penalty_charged, [_u, _u, _b, _u, _u]),
    "exit_penalty_charged": (rules.exit_penalty_charged, [_b, _u, _u]),
    "inequity": (lambda r: rules.inequity(2 * r, P), [_u]),
    "control_lost": (rules.control_lost, [_u, _u, _u]),
    "benefit_against_plan": (lambda *a: rules.benefit_against_plan(*a, P),
                             [_e, _e, _pos, _pos]),
    "satisfaction_parts": (lambda *a: rules.satisfaction_parts(*a, P),
                           [_u, _u, _u, _u, _u, _u]),
    "expected_parts": (lambda *a: rules.expected_parts(*a, P), [_u, _u, _u, _u, _u, _u]),
    "gives_notice": (lambda m, u: rules.gives_notice(0.1 * m, u, P), [_e, _u]),
    "shock_strikes": (lambda rate, u: rules.shock_strikes(0, rate, 3, u), [_u, _u]),
    "cut": (rules.cut, [_u, _u]),
    "new_leadership_ambition": (lambda u: rules.new_leadership_ambition(u, P), [_u]),
    "new_leadership_base": (rules.new_leadership_base, [_u, _u, _u]),
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


def _evidence(rng):
    return 5 * rng.random((R, N, N))


def _parts(rng):
    return 0.3 * rng.random((R, N, len(rules.SATISFACTION_PARTS)))


def _per_run(rng):
    """One number per replication (a scalar in the agent's view)."""
    return rng.random(R)


def _per_run_column(rng):
    """One number per replication, as the engine passes it against partners ([R, 1])."""
    return rng.random((R, 1))


def _active(rng):
    """Replications with everyone active, some partners gone, a lone partner, nobody."""
    a = rng.random(SHAPE) < 0.6
    a[0] = True
    a[2] = [False, False, True, False]
    a[3] = False
    return a


LEADS = np.array([0, 2, 2])
H = 6
PLANNED_ACTIVE = np.arange(H + 1)[:, None] >= np.array([0, 0, 2, 5])[None, :]


def _settlement(leaving, active, size, penalty):
    return _pair(rules.exit_settlement)(leaving & active, active & ~leaving, size, penalty)


def _planned(size, ramp, dedicated, training):
    return rules.planned_money(0.1 + size, PLANNED_ACTIVE, 0.12, 2.0, 1 + 5 * ramp, dedicated,
                               0.4, training, 0.3, "by_size", "by_contribution", P)


# name -> (rule, makers of per-replication arguments); each maker returns an array whose
# leading axis is the replication.
AGGREGATE = {
    "observed_delivery": (lambda k, s, e: rules.observed_delivery(k, s, e, P),
                          [_u, _u, lambda rng: _e(rng, (R, N, N))]),
    "trust_from_evidence": (lambda k, b, base: rules.trust_from_evidence(k, b, base, P),
                            [_evidence, _evidence, _u]),
    "mean_over_others": (rules.mean_over_others, [_trust, _active]),
    "min_over_others": (rules.min_over_others, [_trust, _active]),
    "mean_pair_trust": (rules.mean_pair_trust, [_trust, _active]),
    "majority_pace": (rules.majority_pace, [_u, _active]),
    "unanimity_pace": (rules.unanimity_pace, [_u, _active]),
    "lead_partner_pace": (lambda a, act, t, f: rules.lead_partner_pace(a, act, t, LEADS, f),
                          [_u, _active, _trust, _per_run]),
    "decision_pace_lead_partner": (lambda a, act, t: rules.decision_pace(
        "lead_partner", a, act, t, LEADS), [_u, _active, _trust]),
    "size_weighted_mean": (rules.size_weighted_mean, [_u, _u, _active]),
    "gross_savings": (rules.gross_savings, [_per_run, _u, _active, _per_run, _per_run]),
    "shares": (rules.shares, [_u, _active]),
    "payable": (rules.payable, [_u, _active, _b]),
    "redistribute": (rules.redistribute, [_u, _u, _active, _b]),
    "breach_penalties": (lambda k, s, a, c, t, r: _pair(rules.breach_penalties)(
        k, s, a, a & c, t, r), [_u, _u, _active, _b, _per_run_column, _per_run_column]),
    "exit_settlement": (_settlement, [_b, _active, _u, _per_run_column]),
    "planned_money": (_planned, [_u, _per_run, _per_run, _per_run]),
    "equity_ratio": (rules.equity_ratio, [_u, _u, _u, _active]),
    "cultural_gap": (rules.cultural_gap, [_u, _u]),
    "values_closeness": (rules.values_closeness, [_u, _u, _active]),
    "vision_alignment": (rules.vision_alignment,
                         [lambda rng: rng.random((R, N, 9)), lambda rng: rng.random((R, 1, 9))]),
    "satisfaction": (lambda parts: rules.satisfaction(parts, P), [_parts]),
    "appraised": (rules.appraised, [_parts, _parts, lambda rng: 5 * rng.random(SHAPE)]),
    "exit_margin": (lambda e, a, pen, m: rules.exit_margin(e, a, pen, m, P),
                    [_parts, _parts, _per_run_column, _per_run_column]),
    "exit_reason": (rules.exit_reason, [_parts, _parts]),
    "shock_targets_named": (lambda pool, u: rules.shock_targets(2, pool, u),
                            [_active, _per_run]),
    "shock_targets_all": (lambda pool, u: rules.shock_targets(rules.TARGET_ALL, pool, u),
                          [_active, _per_run]),
    "shock_targets_any": (lambda pool, u: rules.shock_targets(rules.TARGET_ANY, pool, u),
                          [_active, _per_run]),
    "goes_ahead_chance": (lambda hit, u, m: rules.goes_ahead("lapse", hit, u, m),
                          [_b, _u, _per_run]),
    "goes_ahead_certain": (lambda hit, u, m: rules.goes_ahead("budget_cut", hit, u, m),
                           [_b, _u, _per_run]),
    "new_leadership_evidence": (lambda k, b, hit, m: _pair(rules.new_leadership_evidence)(
        k, b, hit, m, P), [_evidence, _evidence, _b, _per_run]),
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


def test_the_agents_one_row_view_of_trust_evidence_matches_the_full_matrix():
    """An agent updates only its own evidence row against its own row of observations."""
    rng = np.random.default_rng(6)
    kept, broken, seen = _evidence(rng)[0], _evidence(rng)[0], rng.random((N, N))
    full = rules.trust_evidence(kept, broken, seen, P)
    for i in range(N):
        row = rules.trust_evidence(kept[i], broken[i], seen[i], P)
        assert np.allclose(row[0], full[0][i]) and np.allclose(row[1], full[1][i])


def test_an_agents_appraisal_with_a_scalar_patience_matches_the_engines_row():
    rng = np.random.default_rng(7)
    previous, now, patience = _parts(rng)[0], _parts(rng)[0], 5 * rng.random(N)
    whole = rules.appraised(previous, now, patience)
    for i in range(N):
        assert np.allclose(rules.appraised(previous[i], now[i], patience[i]), whole[i])


@settings(max_examples=30)
@given(st.integers(1, 4), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_rules_give_exactly_the_same_values_for_arrays_of_any_shape_as_for_each_element(
        reps, n, seed):
    """Bit for bit, for 1 to 4 replications of 2 to 6 partners (the tables above allow 1e-12
    on one fixed shape)."""
    rng = np.random.default_rng(seed)
    res, com, wth, al = rng.random((4, reps, n))
    engaged, notice = rng.random((2, reps, n)) < 0.5
    whole = rules.effort(res, com, engaged, notice, wth, al, P)
    for r in range(reps):
        for i in range(n):
            one = rules.effort(res[r, i], com[r, i], engaged[r, i], notice[r, i], wth[r, i],
                               al[r, i], P)
            assert whole[r, i] == one
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


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_majority_pace_over_replications_matches_a_loop(seed):
    rng = np.random.default_rng(seed)
    agree, active = rng.random((5, 6)), rng.random((5, 6)) < 0.6
    whole = rules.majority_pace(agree, active)
    looped = [float(rules.majority_pace(agree[r], active[r])) for r in range(5)]
    assert whole == pytest.approx(looped)
