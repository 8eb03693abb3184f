"""The behavioural rules of the model, each once, as pure NumPy functions.

Every rule broadcasts: a partner agent calls it with its own scalar values, and a vectorised
engine calls it with whole arrays (leading axes = replications, last axis = partner). Arrays
over partners put the partner on the last axis; pairwise arrays are [..., observer, observed].
Nothing here draws random numbers: noise arrives as arguments, drawn by the caller from the
run's own generator (sim.noise), so the rules are deterministic and testable in isolation.

Each function names the seed passage it implements; docs/ODD.md gives the equations in prose.
"""

from __future__ import annotations

import numpy as np

from sim.arrays import others_active, rowsum
from sim.parameters import ModelParameters


# --- who takes part ------------------------------------------------------------------------


def effective_resourcing(resourcing, dedicated):
    """A dedicated programme team lifts day-job resourcing towards fully dedicated (000)."""
    return resourcing + (1.0 - resourcing) * dedicated


def effective_skills(skills, training):
    """Training practitioners lifts a partner's collaboration skills towards 1 (000)."""
    return skills + (1.0 - skills) * training


def initial_trust(trust_propensity, consensus, p: ModelParameters):
    """The trust a partner extends at signing: its openness, raised by real consensus (001)."""
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


def promise_kept(effort_given, trustworthiness, eps, p: ModelParameters):
    """Share of its promise a partner delivers: its effort against what it promised, times how
    fully it follows through ('be trustworthy yourself', 001). `eps` is unit-variance noise."""
    follow_through = np.clip(trustworthiness + p.delivery_noise * eps, 0.0, 1.0)
    return np.clip(effort_given / p.promise, 0.0, 1.0) * follow_through


# --- trust ---------------------------------------------------------------------------------


def observed_delivery(kept, skills_eff, eps, p: ModelParameters):
    """What each observer believes each other partner delivered: [..., observer, observed].
    Misreading shrinks with the observer's skills ('always be clear', 001)."""
    sigma = p.misreading * (1.0 - skills_eff)[..., :, None]
    return np.clip(kept[..., None, :] + sigma * eps, 0.0, 1.0)


def updated_trust(trust, observed, trust_shown, p: ModelParameters):
    """Asymmetric trust update: a kept promise closes `trust_gain` of the gap to 1, a broken one
    removes `trust_loss` of the trust held, trust_loss > trust_gain ('slow to build, quick to
    lose'). Small shortfalls are forgiven (Axelrod's generous tit-for-tat). Then a pull towards the trust the other shows (`trust_shown` = its trust in the
    observer): 'make others aware that you trust them' (001). Stays in [0, 1]."""
    kept = np.minimum(1.0, observed / (1.0 - p.forgiveness))  # generous tit-for-tat
    t = trust + p.trust_gain * kept * (1.0 - trust) - p.trust_loss * (1.0 - kept) * trust
    t = t + p.reciprocity * (trust_shown - t)
    return np.clip(t, 0.0, 1.0)


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
    seen = np.where(active[..., None, :], pairwise, np.inf)       # held in active partners
    seen.reshape(seen.shape[:-2] + (n * n,))[..., ::n + 1] = np.inf  # not in oneself
    lowest = np.where(active, seen.min(axis=-1), np.inf).min(axis=-1)  # by active holders
    return np.where(np.isfinite(lowest), lowest, 0.0)


# --- hard decisions and programme maturity ---------------------------------------------------


def agreement(ambition, control_concern, mean_trust, alignment, p: ModelParameters):
    """How readily a partner agrees to hard decisions (redundancies, relocations, culture
    change, 000): its leadership's ambition, held back by worry about losing control when it
    does not trust the others (001), and by how little the shared vision is its own (001, 002)."""
    control = 1.0 - p.control_resistance * control_concern * (1.0 - mean_trust)
    return ambition * control * misalignment_factor(alignment, p)


def majority_pace(agree, active):
    """A decision carries when more than half of the active partners agree: the pace is the
    agreement of the pivotal partner, the (floor(m/2)+1)-th most willing of m."""
    m = active.sum(axis=-1)
    ranked = np.sort(np.where(active, agree, np.inf), axis=-1)  # active first, ascending
    k = m // 2 + 1                                             # votes needed
    idx = np.clip(m - k, 0, agree.shape[-1] - 1)
    pace = np.take_along_axis(ranked, np.asarray(idx)[..., None], axis=-1)[..., 0]
    return np.where(m > 0, pace, 0.0)


def unanimity_pace(agree, active):
    """Every active partner must agree: the least willing sets the pace (a veto)."""
    lowest = np.where(active, agree, np.inf).min(axis=-1)
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


def maturity_step(maturity, ramp_up_cycles, team_delivery, team_skill, pace, p):
    """Programme maturity grows by 1/ramp_up per review when the team performs as the business
    case assumed (capacity = planned_capacity); more or less as it delivers more or less, is
    more or less skilled, and takes hard decisions faster or slower (000)."""
    capacity = programme_capacity(team_delivery, team_skill, pace, p)
    return np.minimum(1.0, maturity + capacity / (p.planned_capacity * ramp_up_cycles))


def programme_capacity(team_delivery, team_skill, pace, p):
    """What the programme team can move in a review: delivery x skill factor x decision drive."""
    skill = p.skills_floor + (1.0 - p.skills_floor) * team_skill
    drive = p.routine_progress + (1.0 - p.routine_progress) * pace
    return team_delivery * skill * drive


def planned_maturity(cycle, ramp_up_cycles):
    """Where the business case expects the programme to be at a review."""
    return np.minimum(1.0, cycle / ramp_up_cycles)


def size_weighted_mean(values, size, active):
    w = np.where(active, size, 0.0)
    total = rowsum(w)
    return np.where(total > 0, rowsum(w * values) / np.where(total > 0, total, 1.0), 0.0)


# --- money ---------------------------------------------------------------------------------


def shares(rule_weights, active):
    """Normalise non-negative weights over active partners (equal split if all are zero)."""
    w = np.where(active, rule_weights, 0.0)
    total = rowsum(w)[..., None]
    equal = np.where(active, 1.0, 0.0)
    eq_total = np.maximum(active.sum(axis=-1, keepdims=True), 1)
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
    rows = payers.any(axis=-1)          # payments are rare: work only where somebody pays
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


# --- fairness, alignment, satisfaction (002: the five shareds) -------------------------------


def equity_ratio(benefit_share, cost_share, contribution_share):
    """Adams (1965): what a partner gets relative to what it puts in (money and effort)."""
    inputs = 0.5 * (cost_share + contribution_share)
    return np.where(inputs > 0, benefit_share / np.where(inputs > 0, inputs, 1.0), 1.0)


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


SATISFACTION_PARTS = ("benefit", "fairness", "vision", "values", "trust", "control")


def satisfaction_parts(benefit, fairness, vision, values, trust, control, p: ModelParameters):
    """Each part's weighted shortfall from a fully satisfied partner; the largest one is the
    reason a partner gives when it leaves. Stacked on a new last axis in SATISFACTION_PARTS order."""
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


# --- exit ----------------------------------------------------------------------------------


def dissatisfied_count(count, satisfied_now):
    """Reviews of dissatisfaction remembered: +1 after a bad review, -1 (to 0) after a good one."""
    return np.where(satisfied_now, np.maximum(count - 1, 0), count + 1)


def gives_notice(sat, count, patience, exit_penalty, p: ModelParameters):
    """Phelan, Arend & Seale (2005): once patience has run out, leave when staying is worth less
    than the outside option net of the exit penalty."""
    return (count > patience) & (sat < p.outside_option - p.exit_deterrence * exit_penalty)


def mean_pair_trust(trust, active):
    """Mean trust over every ordered pair of distinct active partners ([..., i, j] -> [...])."""
    weight = np.asarray(active, dtype=float)
    total = np.einsum("...i,...i->...", np.einsum("...ij,...j->...i", trust, weight), weight) \
        - np.einsum("...ii,...i->...", trust, weight)        # every active pair, less i = j
    m = active.sum(axis=-1)
    count = m * (m - 1)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def exit_penalty_charged(leaving, size, exit_penalty):
    """Exit penalty (001 step 4): a leaver pays `exit_penalty` x its annual cost base."""
    return np.where(leaving, exit_penalty * size, 0.0)


# --- shocks (DESIGN: political turnover, budget cuts, loss of key staff, supplier failure) --


def cut(value, magnitude):
    """A budget cut (resourcing), loss of key staff (skills) or supplier failure (maturity)
    removes `magnitude` of what there was."""
    return value * (1.0 - magnitude)


def new_leadership_ambition(u, p: ModelParameters):
    """Political turnover: the incoming leadership's ambition is anyone's guess."""
    return p.leadership_ambition_low + (p.leadership_ambition_high - p.leadership_ambition_low) * u


def trust_in_new_leadership(trust, magnitude):
    """Others' trust in a partner whose leadership changed is dented ('politics between
    organisations may create uncertainty and distrust', 001)."""
    return trust * (1.0 - magnitude)


def new_leadership_trust(trust, trust_propensity, magnitude):
    """A new leadership partly starts afresh, from its organisation's openness to trust."""
    return trust * (1.0 - magnitude) + magnitude * trust_propensity
