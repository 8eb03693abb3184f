"""The behavioural rules of the model, each once, as pure NumPy functions.

Every rule broadcasts: a partner agent calls it with its own scalar values, and a vectorised
engine calls it with whole arrays (leading axes = replications, last axis = partner). Arrays
over partners put the partner on the last axis; pairwise arrays are [..., observer, observed].
Nothing here draws random numbers: noise arrives as arguments, drawn by the caller from the
run's own streams (sim.partnership.noise), so the rules are deterministic and testable in
isolation.

Each function names the seed passage it implements; docs/ODD.md gives the equations in prose.
"""

from __future__ import annotations

import numpy as np

from sim.partnership.arrays import count, others_active, rowany, rowmin, rowsum
from sim.scenario.parameters import ModelParameters
from sim.scenario.schema import CHANCE_SHOCKS

# --- who takes part ------------------------------------------------------------------------


def effective_resourcing(resourcing, dedicated):
    """A dedicated programme team lifts day-job resourcing towards fully dedicated (000)."""
    return resourcing + (1.0 - resourcing) * dedicated


def effective_skills(skills, training):
    """Training practitioners lifts a partner's collaboration skills towards 1 (000)."""
    return skills + (1.0 - skills) * training


def initial_trust(trust_propensity, consensus, p: ModelParameters):
    """The trust a partner extends at signing, before any evidence: its openness, raised by
    real consensus (001). It is the base rate of the partner's trust (trust_from_evidence)."""
    return trust_propensity + (1.0 - trust_propensity) * p.consensus_trust * consensus


def engagement(engaged, volatility, commitment, u):
    """Hokey-cokey partners (001): an engaged partner lapses with chance `volatility`;
    a lapsed one re-engages with chance `commitment`. `u` is one uniform per partner."""
    return np.where(engaged, u >= volatility, u < commitment)


# --- effort and delivery -------------------------------------------------------------------


def deterrence(call_out, rate, p: ModelParameters):
    """How much a charter penalty curbs withholding: detection chance x bite of the penalty."""
    return call_out * rate / (rate + p.penalty_half_rate)


def withheld_share(mean_trust, deter, p: ModelParameters):
    """Protectionism (001): below a trust threshold, partners hold back effort and control."""
    shortfall = np.clip((p.protection_trust - mean_trust) / p.protection_trust, 0.0, 1.0)
    return p.protectionism * shortfall * (1.0 - deter)


def effort(resourcing_eff, commitment, engaged, on_notice, withheld, alignment,
           p: ModelParameters):
    """Programme effort a partner gives this review, in [0, 1] (000, 001): what its resourcing
    and commitment allow, less while its interest has lapsed or it is leaving, less what distrust
    holds back, and less as the shared vision is not its own (partners with misaligned
    aspirations 'pull in different directions', 001)."""
    base = p.day_job_effort + (1.0 - p.day_job_effort) * resourcing_eff
    engage = p.commitment_floor + (1.0 - p.commitment_floor) * commitment
    lapse = np.where(engaged, 1.0, p.lapsed_effort)
    notice = np.where(on_notice, p.notice_effort, 1.0)
    return base * engage * lapse * notice * (1.0 - withheld) * misalignment_factor(alignment, p)


def misalignment_factor(alignment, p: ModelParameters):
    """Share of effort and agreement a partner gives a programme whose vision is only partly
    its own: 1 when its priorities match the charter's vision, 1 - misalignment_drag when they
    share nothing."""
    return 1.0 - p.misalignment_drag * (1.0 - alignment)


def delivered_effort(effort_given, trustworthiness, eps, p: ModelParameters):
    """Effort a partner actually delivers: what it gave, times how fully it follows through on
    it ('be trustworthy yourself ... follow through on your intentions', 001). `eps` is
    unit-variance noise on follow-through."""
    follow_through = np.clip(trustworthiness + p.delivery_noise * eps, 0.0, 1.0)
    return effort_given * follow_through


def promise_kept(delivered, promised):
    """Share of its promise a partner delivered, in [0, 1]: delivering more earns no extra
    credit, and a promise of nothing is kept. What the others judge it on."""
    promised = np.asarray(promised, dtype=float)
    share = np.clip(delivered, 0.0, promised) / np.where(promised > 0, promised, 1.0)  # <= 1
    return np.where(promised > 0, share, 1.0)


def rebaselined_promise(promised, effort_given, p: ModelParameters):
    """At each six-monthly review partners 'review [their] plan of actions against the
    reality' (001): each moves `rebaseline` of the way from what it promised towards the
    effort it could actually give, so a promise made at signing that its resourcing cannot
    keep is corrected rather than broken review after review."""
    return promised + p.rebaseline * (effort_given - promised)


# --- trust (Beta reputation: Josang & Ismail 2002) -------------------------------------------


def observed_delivery(kept, skills_eff, eps, p: ModelParameters):
    """What each observer believes each other partner delivered of its promise:
    [..., observer, observed]. Misreading shrinks with the observer's skills ('always be clear
    to avoid misunderstandings', 001)."""
    sigma = p.misreading * (1.0 - skills_eff)[..., :, None]
    return np.clip(kept[..., None, :] + sigma * eps, 0.0, 1.0)


def trust_evidence(kept_evidence, broken_evidence, observed, p: ModelParameters):
    """Evidence for and against each partner's reliability after one review (Beta reputation,
    Josang & Ismail 2002): old evidence fades by `trust_memory`; a promise seen kept adds to
    the first count, a broken one to the second with weight `broken_weight` > 1, so trust is
    slow to build and quick to lose (Slovic 1993). Small shortfalls are forgiven (generous
    tit-for-tat, Axelrod 1984). Returns (kept, broken) counts."""
    kept = np.minimum(1.0, observed / (1.0 - p.forgiveness))
    return (p.trust_memory * kept_evidence + kept,
            p.trust_memory * broken_evidence + p.broken_weight * (1.0 - kept))


def trust_from_evidence(kept_evidence, broken_evidence, base, p: ModelParameters):
    """Trust as the expected reliability of each partner, [..., observer, observed]: the Beta
    expectation with the observer's base rate `base` ([..., observer], its initial trust) as
    prior, E = (r + W base) / (r + s + W), W = `trust_prior_weight` (Josang's base-rate form).
    Then each observer's trust leans `reciprocity` of the way towards the trust the other
    shows it ('make others aware that you trust them', 001). With no evidence yet, trust is
    the base rate; it grows towards partners who keep their promises and falls towards those
    who do not, whatever the partnership's age (Vanneste et al. 2014)."""
    w = p.trust_prior_weight
    expected = (kept_evidence + w * base[..., :, None]) / (kept_evidence + broken_evidence + w)
    shown = np.swapaxes(expected, -1, -2)
    return np.clip(expected + p.reciprocity * (shown - expected), 0.0, 1.0)


def mean_over_others(pairwise, active):
    """Mean of each observer's row over the other active partners ([..., i, j] -> [..., i]).
    An observer with no active other gets 0."""
    weight = np.asarray(active, dtype=float)
    total = np.einsum("...ij,...j->...i", pairwise, weight) \
        - np.einsum("...ii->...i", pairwise) * weight     # all active partners, less oneself
    count = others_active(active)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def min_over_others(pairwise, active):
    """Lowest trust any active partner holds in another active partner ([..., i, j] -> [...])."""
    n = pairwise.shape[-1]
    pairs = active[..., :, None] & active[..., None, :] & ~np.eye(n, dtype=bool)
    seen = np.where(pairs, pairwise, np.inf)
    lowest = rowmin(seen.reshape(seen.shape[:-2] + (n * n,)))
    return np.where(np.isfinite(lowest), lowest, 0.0)


def mean_pair_trust(trust, active):
    """Mean trust over every ordered pair of distinct active partners ([..., i, j] -> [...])."""
    weight = np.asarray(active, dtype=float)
    total = np.einsum("...i,...i->...", np.einsum("...ij,...j->...i", trust, weight), weight) \
        - np.einsum("...ii,...i->...", trust, weight)        # every active pair, less i = j
    m = count(active)
    pairs = m * (m - 1)
    return np.where(pairs > 0, total / np.maximum(pairs, 1), 0.0)


# --- hard decisions, building and running the service (000) ---------------------------------


def agreement(ambition, control_concern, mean_trust, alignment, p: ModelParameters):
    """How readily a partner agrees to hard decisions (redundancies, relocations, culture
    change, 000): its leadership's ambition, held back by worry about losing control when it
    does not trust the others (001), and by how little the shared vision is its own (001, 002)."""
    control = 1.0 - p.control_resistance * control_concern * (1.0 - mean_trust)
    return ambition * control * misalignment_factor(alignment, p)


def majority_pace(agree, active):
    """A decision carries when more than half of the active partners agree: the pace is the
    agreement of the pivotal partner, the (floor(m/2)+1)-th most willing of m."""
    m = count(active)
    ranked = np.sort(np.where(active, agree, np.inf), axis=-1)  # active first, ascending
    k = m // 2 + 1                                             # votes needed
    idx = np.clip(m - k, 0, agree.shape[-1] - 1)
    pace = np.take_along_axis(ranked, np.asarray(idx)[..., None], axis=-1)[..., 0]
    return np.where(m > 0, pace, 0.0)


def unanimity_pace(agree, active):
    """Every active partner must agree: the least willing sets the pace (a veto)."""
    lowest = rowmin(np.where(active, agree, np.inf))
    return np.where(np.isfinite(lowest), lowest, 0.0)


def lead_partner_pace(agree, active, trust, leads, fallback):
    """Each service's lead decides for it, as fast as its own agreement allows and as far as the
    others trust it enough to follow; a service whose lead has left falls back to `fallback`
    (majority). `leads` holds one partner index per service. Returns the mean over services."""
    lead_active = np.take(active, leads, axis=-1)                       # [..., s]
    lead_agree = np.take(agree, leads, axis=-1)                         # [..., s]
    trust_in = np.take(trust, leads, axis=-1)                           # [..., i, s]
    n = active.shape[-1]
    followers = active[..., :, None] & (np.arange(n)[:, None] != np.asarray(leads)[None, :])
    count = followers.sum(axis=-2)
    follow = np.where(count > 0, np.where(followers, trust_in, 0.0).sum(axis=-2)
                      / np.maximum(count, 1), 1.0)
    per_service = np.where(lead_active, lead_agree * (0.5 + 0.5 * follow), fallback[..., None])
    return per_service.mean(axis=-1)


def decision_pace(rule: str, agree, active, trust, leads):
    """The pace of hard decisions under the charter's decision rule: 'unanimity', 'majority'
    or 'lead_partner' (which falls back to majority for a service whose lead has left)."""
    if rule == "unanimity":
        return unanimity_pace(agree, active)
    majority = majority_pace(agree, active)
    if rule == "majority":
        return majority
    return lead_partner_pace(agree, active, trust, leads, np.asarray(majority))


def programme_capacity(team_delivery, team_skill, pace, p):
    """What the partnership's people can move in a review: delivered effort x skill factor x
    decision drive (000: resourcing, skills, leadership ambition)."""
    skill = p.skills_floor + (1.0 - p.skills_floor) * team_skill
    drive = p.routine_progress + (1.0 - p.routine_progress) * pace
    return team_delivery * skill * drive


def maturity_step(maturity, ramp_up_cycles, capacity, p):
    """Building the shared service: maturity grows by 1/ramp_up per review when the programme
    has the capacity the business case assumed (`planned_capacity`); faster or slower as it
    has more or less (000)."""
    return np.minimum(1.0, maturity + capacity / (p.planned_capacity * ramp_up_cycles))


def running_quality(capacity, p):
    """How well the shared service is run this review, a multiplier of its planned savings: a
    service must be kept, staffed and improved every review (001's benefits: continuity,
    quality, staff time, current systems), so what a review realises depends on that review's
    collaboration. With x = capacity / planned_capacity, it is 1 - run_dependence +
    run_dependence x: the planned savings at the capacity the plan assumed, proportionally less
    below it, more above it up to `run_ceiling` (a better-run service cannot save money the
    cost base does not hold)."""
    x = capacity / p.planned_capacity
    return np.minimum(p.run_ceiling, 1.0 - p.run_dependence + p.run_dependence * x)


def planned_maturity(cycle, ramp_up_cycles):
    """Where the business case expects the programme to be at a review."""
    return np.minimum(1.0, cycle / ramp_up_cycles)


def size_weighted_mean(values, size, active):
    w = np.where(active, size, 0.0)
    total = rowsum(w)
    return np.where(total > 0, rowsum(w * values) / np.where(total > 0, total, 1.0), 0.0)


# --- money ---------------------------------------------------------------------------------


def gross_savings(savings_potential, size, active, previous_maturity, quality):
    """Savings of one review (half a year), £m: the potential share of the active partners'
    annual cost base, as far as the service was built by the last review and as well as it is
    run in this one (savings follow implementation with a lag)."""
    return savings_potential * rowsum(np.where(active, size, 0.0)) * previous_maturity \
        * quality / 2.0


def programme_spend(implementation_cost, maturity, previous_maturity, planned_ramp_up,
                    dedicated, team_cost, training, training_cost, p: ModelParameters):
    """Spend of one review, £m. Implementation: `time_related_cost` of its budget is the cost of
    running the programme (programme office, consultants, double running) spread over the
    planned ramp-up, paid every review until the service is built, so a slow programme costs
    more (overruns follow delays; 001: 'the time it takes to establish and maintain
    satisfactory partnerships'); the rest is paid in proportion to what is built (rebuilding
    what a supplier failure destroyed is paid for again). Plus half a year of the programme
    team and training."""
    built = np.maximum(maturity - previous_maturity, 0.0)
    running = np.where(previous_maturity < 1.0, 1.0, 0.0) / np.ceil(planned_ramp_up)
    return implementation_cost * ((1.0 - p.time_related_cost) * built
                                  + p.time_related_cost * running) \
        + (dedicated * team_cost + training * training_cost) / 2.0


def cost_weights(rule: str, size):
    """Weights of the charter's cost-sharing rule ('equal' or 'by_size')."""
    return size if rule == "by_size" else np.ones_like(size)


def benefit_weights(rule: str, size, contributed):
    """Weights of the charter's benefit-sharing rule: 'equal', 'by_size', or
    'by_contribution' (effort delivered so far, weighted by size: shared rewards, 002)."""
    if rule == "by_size":
        return size
    if rule == "by_contribution":
        return contributed
    return np.ones_like(size)


def shares(rule_weights, active):
    """Normalise non-negative weights over active partners (equal split if all are zero)."""
    w = np.where(active, rule_weights, 0.0)
    total = rowsum(w)[..., None]
    equal = np.where(active, 1.0, 0.0)
    eq_total = np.maximum(count(active)[..., None], 1)
    return np.where(total > 0, w / np.where(total > 0, total, 1.0), equal / eq_total)


def penalty_charged(kept, size, called_out, threshold, rate):
    """Penalty for non-delivery (001 step 4): a partner in breach and called out this review
    pays `rate` x shortfall x its half-year cost base."""
    shortfall = np.maximum(threshold - kept, 0.0)
    return np.where(called_out & (shortfall > 0), rate * shortfall * size / 2.0, 0.0)


def payable(amounts, active, payers):
    """What payers actually pay: nothing when no other active partner is left to receive it
    (a penalty with no payee is not charged)."""
    return np.where(payers & (others_active(active) > 0), amounts, 0.0)


def redistribute(amounts, size, active, payers):
    """Hand the sum paid by `payers` to the other active partners pro rata to size, so money is
    conserved: returns what each partner receives."""
    amounts, size, active, payers = np.broadcast_arrays(amounts, size, active, payers)
    out = np.zeros(amounts.shape)
    rows = rowany(payers)               # payments are rare: work only where somebody pays
    if rows.any():
        out[rows] = _pro_rata(amounts[rows], size[rows], active[rows], payers[rows])
    return out


def _pro_rata(amounts, size, active, payers):
    n = amounts.shape[-1]
    recv = active[..., None, :] & ~np.eye(n, dtype=bool)       # [..., payer, receiver]
    w = np.where(recv, size[..., None, :], 0.0)
    total = rowsum(w)[..., None]
    pay = np.where(payers, amounts, 0.0)[..., None]
    share = np.where(total > 0, pay * w / np.where(total > 0, total, 1.0), 0.0)
    return np.einsum("...jk->...k", share)


def breach_penalties(kept, size, active, called_out, threshold, rate):
    """Penalties of one review (001 step 4, 'abuses are called out quickly'): what each partner
    pays for a breach that was called out, and what each receives: (paid, received)."""
    if not np.any(called_out):            # most charters call nothing out: nothing to pay
        nothing = np.zeros(np.broadcast_shapes(np.shape(kept), np.shape(called_out)))
        return nothing, nothing.copy()
    charged = payable(penalty_charged(kept, size, called_out, threshold, rate), active,
                      called_out)
    return charged, redistribute(charged, size, active, charged > 0)


def net_money(received, paid, penalties_received, penalties_paid):
    """What the partnership has been worth to a partner so far, £m: savings received less costs
    paid, plus the penalties it received less those it paid. The penalties are netted first:
    they can be far smaller than the money (a tiny penalty rate), and added one at a time to
    it, each would be rounded at the money's scale, leaving the sum an ulp or two off (which
    benefit_against_plan can read as a shortfall against the plan)."""
    return (received - paid) + (penalties_received - penalties_paid)


def planned_money(size, planned_active, savings_potential, implementation_cost, ramp_up_cycles,
                  dedicated, team_cost, training, training_cost, cost_sharing: str,
                  benefit_sharing: str, p: ModelParameters):
    """The business case as its planners project it (001 step 3, 'what good looks like'):
    maturity reaching 1 after the ramp-up, the service run as planned, every partner delivering
    its promise and staying. `planned_active` [H + 1, n] says who the plan counts in at each
    review (founders and scheduled joiners). Returns each partner's planned cumulative net
    money, £m, [..., H + 1, n] (review 0 is 0); its sum over partners is the plan's net
    savings. The same savings, spend and sharing rules as the simulation."""
    size = np.asarray(size, dtype=float)
    H = planned_active.shape[0] - 1
    out = np.zeros(size.shape[:-1] + (H + 1, size.shape[-1]))
    cum = np.zeros(size.shape)
    previous = np.zeros(size.shape[:-1])
    members = None
    for cycle in range(1, H + 1):
        active = planned_active[cycle]
        maturity = planned_maturity(cycle, ramp_up_cycles) + np.zeros_like(previous)
        gross = gross_savings(savings_potential, size, active, previous, 1.0)
        spend = programme_spend(implementation_cost, maturity, previous, ramp_up_cycles,
                                dedicated, team_cost, training, training_cost, p)
        if members is None or not np.array_equal(active, members):  # shares change on joins
            members = active
            cost_share = np.where(active, shares(cost_weights(cost_sharing, size), active), 0.0)
            benefit_share = np.where(active, shares(benefit_weights(benefit_sharing, size, size),
                                                    active), 0.0)
        cum = cum + benefit_share * np.asarray(gross)[..., None] \
            - cost_share * np.asarray(spend)[..., None]
        out[..., cycle, :] = cum
        previous = maturity
    return out


# --- fairness, alignment, satisfaction (002: the five shareds) -------------------------------


#: Less than this (£m, or a share) is nothing: a total or share this small is not divided by.
NOTHING = 1e-12


def equity_ratio(received, paid, contributed, active):
    """Adams (1965), on everything so far: a partner's share of the rewards (savings received)
    against its share of the risk and resources it put in (costs paid, effort delivered);
    1 when there is nothing yet to compare. Shares are over the active partners."""
    def share(x):
        total = rowsum(np.where(active, x, 0.0))[..., None]
        some = total > NOTHING
        return np.where(some, x / np.where(some, total, 1.0), 0.0), some

    reward, rewarded = share(received)
    risk, risked = share(paid)
    resource, resourced = share(contributed)
    count = risked.astype(float) + resourced.astype(float)
    inputs = np.where(count > 0, (risk + resource) / np.maximum(count, 1.0), 0.0)
    ok = rewarded & (count > 0) & (inputs > 0)
    # a share of the inputs too small to divide by (below NOTHING) is as unfair as any tiny one:
    # the ratio is far past the point where inequity reaches 1
    return np.where(ok, reward / np.where(ok, np.maximum(inputs, NOTHING), 1.0), 1.0)


def inequity(ratio, p: ModelParameters):
    """Fehr-Schmidt (1999) displeasure at unequal returns, in [0, 1]; getting less than one's
    share hurts more than getting more."""
    worse = np.maximum(1.0 - ratio, 0.0)
    better = np.maximum(ratio - 1.0, 0.0)
    return np.clip(p.inequity_disadvantage * worse + p.inequity_advantage * better, 0.0, 1.0)


def vision_alignment(priorities, vision):
    """Cosine similarity between a partner's benefit weights and the charter's shared vision
    (001 'agree the areas common to you all'; 002 'shared vision')."""
    num = rowsum(priorities * vision)
    den = np.linalg.norm(priorities, axis=-1) * np.linalg.norm(vision, axis=-1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def cultural_gap(ambition, control_concern):
    """Cultural distance between each pair of partners ([..., i, j]), culture read as appetite
    for change (ambition) and for giving up control (002 'shared values')."""
    return 0.5 * (np.abs(ambition[..., :, None] - ambition[..., None, :])
                  + np.abs(control_concern[..., :, None] - control_concern[..., None, :]))


def values_closeness(ambition, control_concern, active, gap=None):
    """Shared values (002): 1 minus the mean cultural distance to the other active partners.
    `gap` may pass in cultural_gap(ambition, control_concern) when the caller already has it
    (it changes only when a new leadership brings a new ambition)."""
    if gap is None:
        gap = cultural_gap(ambition, control_concern)
    return 1.0 - mean_over_others(gap, active)


def control_lost(control_concern, maturity, lead_share):
    """Control a partner feels it has handed over: grows with integration, less for services it
    leads itself (001: 'concerns over loss of local control')."""
    return control_concern * maturity * (1.0 - lead_share)


def benefit_against_plan(planned, realised, size, savings_potential, p: ModelParameters):
    """What the partnership gives a partner against what the business case promised it (000:
    'do not deliver the desired business case outcomes'), in [0, 1]: 1 while its net money so
    far is at least its plan so far, falling to 0 as the shortfall reaches
    `shortfall_tolerance` years of the savings its own cost base was planned to yield
    (`savings_potential` x size a year)."""
    yearly = np.maximum(savings_potential * size, 1e-12)
    behind = (planned - realised) / yearly
    return np.clip(1.0 - behind / p.shortfall_tolerance, 0.0, 1.0)


SATISFACTION_PARTS = ("benefit", "fairness", "vision", "values", "trust", "control")


def satisfaction_parts(benefit, fairness, vision, values, trust, control, p: ModelParameters):
    """Each part's weighted shortfall from a fully satisfied partner, stacked on a new last
    axis in SATISFACTION_PARTS order."""
    return np.stack(np.broadcast_arrays(
        p.weight_benefit * (1.0 - benefit),
        p.weight_fairness * (1.0 - fairness),
        p.weight_vision * (1.0 - vision),
        p.weight_values * (1.0 - values),
        p.weight_trust * (1.0 - trust),
        p.weight_control * control,
    ), axis=-1)


def satisfaction(parts, p: ModelParameters):
    """Satisfaction: the positive weights' total less every shortfall (002: 'any imbalances ...
    put the likely success of the relationship at risk')."""
    top = p.weight_benefit + p.weight_fairness + p.weight_vision + p.weight_values + p.weight_trust
    return top - rowsum(parts)


def expected_parts(vision, values, trust, control_concern, lead_share, planned_maturity,
                   p: ModelParameters):
    """The satisfaction parts a partner expects: the benefits and fairness the business case
    promises, the vision and values it can see when it signs, the trust it starts with, and the
    control it agreed to hand over as far as the plan has built the service by now
    (`planned_maturity`). Its appraisal starts here."""
    return satisfaction_parts(1.0, 1.0, vision, values, trust,
                              control_lost(control_concern, planned_maturity, lead_share), p)


def expected_control(control_concern, lead_share, planned_maturity, p: ModelParameters):
    """The control part a partner expects at a review: the control it agreed to hand over, as
    far as the plan has built the service by then."""
    return p.weight_control * control_lost(control_concern, planned_maturity, lead_share)


def expected_as_planned(expected, control_concern, lead_share, planned_maturity,
                        p: ModelParameters):
    """What a partner expects at a review: what it expected when it signed, with the control
    handed over by then as the plan builds the service (the other parts do not change)."""
    out = np.array(expected, dtype=float, copy=True)
    out[..., SATISFACTION_PARTS.index("control")] = expected_control(
        control_concern, lead_share, planned_maturity, p)
    return out


def appraised(previous, current, patience):
    """A partner's running appraisal of the partnership (its satisfaction parts, smoothed):
    each review moves it 1 / (1 + patience) of the way to what this review gave, so a patient
    partner weighs its whole experience and an impatient one its latest review. Its
    expectations move with the same memory, so what goes to plan is never a surprise."""
    return previous + (current - previous) / (1.0 + np.asarray(patience)[..., None])


# --- exit (Phelan, Arend & Seale 2005) -----------------------------------------------------


def exit_margin(expected, appraisal, exit_penalty, maturity, p: ModelParameters):
    """How far staying has fallen below going it alone: the fall of the partner's appraisal
    since it signed (its satisfaction parts summed: what the partnership gives it), less the
    margin by which it expected to be better off inside (`signing_margin`), less what leaving
    would cost it: the exit penalty (`exit_deterrence` per unit of penalty) and unpicking what
    has been built (`integration_lock_in` at full maturity). Positive: leaving looks better."""
    fall = rowsum(appraisal) - rowsum(expected)
    return fall - p.signing_margin - p.exit_deterrence * exit_penalty \
        - p.integration_lock_in * maturity


def gives_notice(margin, u, p: ModelParameters):
    """Exit is a decision, taken at a review with noise (random utility, McFadden 1974): a
    partner gives notice with chance logistic(margin / exit_spread), so it is likely once
    leaving looks better than staying, and rare but possible before."""
    z = np.clip(margin / p.exit_spread, -50.0, 50.0)
    return u < 1.0 / (1.0 + np.exp(-z))


def exit_reason(expected, appraisal):
    """Index (in SATISFACTION_PARTS) of the part whose appraisal fell most since signing: the
    reason a leaving partner gives."""
    return np.argmax(appraisal - expected, axis=-1)


def exit_penalty_charged(leaving, size, exit_penalty):
    """Exit penalty (001 step 4): a leaver pays `exit_penalty` x its annual cost base."""
    return np.where(leaving, exit_penalty * size, 0.0)


def exit_settlement(leaving, staying, size, exit_penalty):
    """What leavers pay and stayers receive when partners leave: the exit penalty, handed to
    those who stay pro rata to size (none is charged if nobody stays): (paid, received)."""
    staying_any = rowany(staying)[..., None]
    charged = payable(exit_penalty_charged(leaving, size, exit_penalty), staying | leaving,
                      leaving & staying_any)
    return charged, redistribute(charged, size, staying, leaving)


# --- shocks (DESIGN: political turnover, budget cuts, loss of key staff, supplier failure) --


#: Target codes of a shock aimed at every eligible partner, or at one of them at random.
TARGET_ALL, TARGET_ANY = -1, -2


def shock_strikes(at_cycle, rate, cycle, u):
    """Whether a shock strikes at this review: on its scheduled cycle, or with chance `rate`
    per review when it is random (at_cycle 0)."""
    return (at_cycle == cycle) if at_cycle else (u < rate)


def shock_targets(target: int, pool, u):
    """Which partners a shock hits, among those it can hit (`pool`, [..., n]): a named partner
    (if in the pool), every one (TARGET_ALL), or one picked by the uniform `u` [...]
    (TARGET_ANY). A mask [..., n]."""
    pool = np.asarray(pool, dtype=bool)
    if target == TARGET_ALL:
        return pool.copy()
    if target == TARGET_ANY:
        size = count(pool)
        pick = np.minimum((np.asarray(u) * size).astype(int), np.maximum(size - 1, 0))
        order = np.cumsum(pool, axis=-1) - 1     # rank within the pool
        return pool & (order == pick[..., None]) & (size > 0)[..., None]
    hit = np.zeros(pool.shape, bool)
    hit[..., target] = pool[..., target]
    return hit


def goes_ahead(kind: str, hit, u, magnitude):
    """For a chance shock (CHANCE_SHOCKS), the partners struck for whom the event goes ahead:
    its value uniform is below the magnitude. Other shocks always go ahead."""
    if kind in CHANCE_SHOCKS:
        return hit & (u < np.asarray(magnitude)[..., None])
    return hit


def cut(value, magnitude):
    """A budget cut (resourcing), loss of key staff (skills) or supplier failure (maturity)
    removes `magnitude` of what there was."""
    return value * (1.0 - magnitude)


def new_leadership_ambition(u, p: ModelParameters):
    """Political turnover: the incoming leadership's ambition is anyone's guess."""
    return p.leadership_ambition_low + (p.leadership_ambition_high - p.leadership_ambition_low) * u


def new_leadership_base(base, trust_propensity, magnitude):
    """A new leadership did not take part in the consensus before signing: its base rate of
    trust moves `magnitude` of the way back to its organisation's own openness."""
    return base * (1.0 - magnitude) + magnitude * trust_propensity


def new_leadership_evidence(kept_evidence, broken_evidence, hit, magnitude,
                            p: ModelParameters):
    """Evidence after new leaderships take over the partners `hit` ([..., n]): a newcomer
    forgets `magnitude` of its own evidence about the others (it starts partly afresh), and the
    others forget as much of their evidence about it, the old leadership's record, and add
    `magnitude` x trust_prior_weight of doubt ('politics between organisations may create
    uncertainty and distrust', 001). Returns (kept, broken)."""
    m = np.asarray(magnitude)[..., None, None]
    n = hit.shape[-1]
    rows = hit[..., :, None]
    columns = hit[..., None, :] & ~np.eye(n, dtype=bool)
    keep = np.where(rows, 1.0 - m, 1.0) * np.where(columns, 1.0 - m, 1.0)
    doubt = np.where(columns, m * p.trust_prior_weight, 0.0)
    return kept_evidence * keep, broken_evidence * keep + doubt
