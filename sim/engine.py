"""The vectorised engine: many replications of one scenario at once, as NumPy arrays.

Axis 0 is the replication, the last axis the partner slot (pairwise arrays [R, i, j]). Every
behavioural rule is the same function of sim.rules that the Mesa agents call; this module only
orchestrates the review in the same synchronous order as PartnershipModel.step, and draws each
replication's randomness from that replication's own generator in the same order. So for the
same seeds both engines give the same trajectories, figure for figure (tests/test_engine.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import noise as noise_mod
from sim import rules
from sim.experiment import replication_rng
from sim.inputs import TARGET_ALL, TARGET_ANY, TRAITS, count_uncertain, resolve
from sim.scenario import Scenario

SERIES = ("maturity", "gross_savings_m", "spend_m", "cum_net_savings_m", "pct_business_case",
          "mean_trust", "min_trust", "active_partners", "fairness_imbalance", "alignment",
          "decision_pace", "team_delivery", "team_skill", "mean_satisfaction", "dissolved")


@dataclass
class VectorRun:
    """Per-cycle model figures ([R, horizon + 1] each) and the final partner state."""

    series: dict[str, np.ndarray]
    exited_at: np.ndarray        # [R, n], -1 if still in
    exit_reason: np.ndarray      # [R, n] object: satisfaction part or "forced" ("" if none)
    dissolved_at: np.ndarray     # [R], -1 if intact
    net_money: np.ndarray        # [R, n]
    names: tuple[str, ...]


def _stack_inputs(scenario: Scenario, seed: int, replications, sample: int):
    """Resolve each replication's inputs and noise from its own generator, then stack them."""
    k = count_uncertain(scenario)
    inputs, blocks = [], []
    for r in replications:
        rng = replication_rng(seed, r, sample)
        inp = resolve(scenario, rng.random(k))
        inputs.append(inp)
        blocks.append(noise_mod.draw_run(rng, inp.horizon, inp.n, len(inp.shocks)))
    return inputs, np.stack(blocks)


def simulate(scenario: Scenario, seed: int, replications, sample: int = 0) -> VectorRun:
    """Simulate the given replication indices of `scenario` under root `seed`."""
    replications = list(replications)
    inputs, noise = _stack_inputs(scenario, seed, replications, sample)
    first = inputs[0]
    p = first.params
    R, n, s, H = len(inputs), first.n, len(first.shocks), first.horizon

    def per_rep(name):
        return np.array([getattr(i, name) for i in inputs], dtype=float)

    tr = {t: np.stack([i.traits[t] for i in inputs]) for t in TRAITS}
    size = tr["size"]
    priorities = np.stack([i.priorities for i in inputs])
    vision = np.stack([i.vision for i in inputs])
    joins_at = first.joins_at
    target, potential, impl, ramp = (per_rep(x) for x in (
        "target_net_savings_m", "savings_potential", "implementation_cost_m", "ramp_up_cycles"))
    threshold, rate, call_out, exit_penalty = (per_rep(x) for x in (
        "penalty_threshold", "penalty_rate", "call_out", "exit_penalty"))
    dedicated, training, team_cost, training_cost, consensus = (per_rep(x) for x in (
        "dedicated", "training", "team_cost_m", "training_cost_m", "consensus"))
    shock_rate = np.array([[sh.rate for sh in i.shocks] for i in inputs]).reshape(R, s)
    shock_mag = np.array([[sh.magnitude for sh in i.shocks] for i in inputs]).reshape(R, s)
    leads, lead_share = first.service_leads, first.lead_share
    col = (slice(None), None)  # per-replication scalars broadcast over partners

    alignment = rules.vision_alignment(priorities, vision[:, None, :])
    deter = rules.deterrence(call_out, rate, p)
    ambition, resourcing, skills = tr["ambition"].copy(), tr["resourcing"].copy(), \
        tr["skills"].copy()

    active = np.broadcast_to(joins_at == 0, (R, n)).copy()
    engaged = np.ones((R, n), bool)
    on_notice = np.zeros((R, n), bool)
    notice_left = np.zeros((R, n), int)
    leaving = np.zeros((R, n), bool)
    exited_at = np.full((R, n), -1)
    reason = np.full((R, n), "", dtype=object)
    dissatisfied = np.zeros((R, n), int)
    trust = np.repeat(rules.initial_trust(tr["trust_propensity"], consensus[col], p)[:, :, None],
                      n, axis=2)
    kept = np.zeros((R, n))
    contributed = np.zeros((R, n))
    satisfaction = np.full((R, n), p.outside_option)
    equity = np.ones((R, n))
    money = np.zeros((R, n))
    maturity, gross, spend, cum = (np.zeros(R) for _ in range(4))
    pace, team_delivery, team_skill = np.zeros(R), np.zeros(R), np.zeros(R)
    dissolved = np.zeros(R, bool)
    dissolved_at = np.full(R, -1)
    out = {k: np.zeros((R, H + 1)) for k in SERIES}
    eye = np.eye(n, dtype=bool)

    def collect(t):
        pairs_trust = rules.mean_pair_trust(trust, active)
        count = active.sum(axis=-1)
        some = count > 0
        values = {
            "maturity": maturity, "gross_savings_m": gross, "spend_m": spend,
            "cum_net_savings_m": cum, "pct_business_case": 100.0 * cum / target,
            "mean_trust": pairs_trust, "min_trust": rules.min_over_others(trust, active),
            "active_partners": count,
            "fairness_imbalance": _masked_mean(np.abs(equity - 1.0), active, some),
            "alignment": _masked_mean(alignment, active, some),
            "decision_pace": pace, "team_delivery": team_delivery, "team_skill": team_skill,
            "mean_satisfaction": _masked_mean(satisfaction, active, some),
            "dissolved": dissolved,
        }
        for k, v in values.items():
            out[k][:, t] = v

    collect(0)
    for t in range(1, H + 1):
        cn = noise_mod.cycle_noise(noise[:, t - 1], n, s)
        gross, spend = np.zeros(R), np.zeros(R)
        live = ~dissolved
        # joiners
        joining = live[:, None] & (joins_at == t)[None, :] & (exited_at < 0)
        active = active | joining
        # shocks, in scenario order
        for k, sh in enumerate(first.shocks):
            happens = live & ((sh.at_cycle == t) if sh.at_cycle else (cn.shock_occur[:, k]
                                                                       < shock_rate[:, k]))
            m = shock_mag[:, k]
            if sh.kind == "supplier_failure":
                maturity = np.where(happens, rules.cut(maturity, m), maturity)
                continue
            hit = happens[:, None] & _targets(sh.target, active, cn.shock_target[:, k])
            u = cn.shock_value[:, k]
            mc = m[:, None]
            if sh.kind == "budget_cut":
                resourcing = np.where(hit, rules.cut(resourcing, mc), resourcing)
            elif sh.kind == "staff_loss":
                skills = np.where(hit, rules.cut(skills, mc), skills)
            elif sh.kind == "lapse":
                engaged = np.where(hit, u >= mc, engaged)
            elif sh.kind == "partner_exit":
                active = active & ~hit
                leaving, on_notice = leaving & ~hit, on_notice & ~hit
                exited_at = np.where(hit, t, exited_at)
                reason = np.where(hit, "forced", reason)
            elif sh.kind == "leadership_change":
                ambition = np.where(hit, rules.new_leadership_ambition(u, p), ambition)
                engaged = engaged & ~hit
                for a in range(n):  # partner by partner, in slot order, as the Mesa model
                    ha = hit[:, a]
                    if not ha.any():
                        continue
                    row = rules.new_leadership_trust(trust[:, a, :],
                                                     tr["trust_propensity"][:, a, None], mc)
                    trust[:, a, :] = np.where(ha[:, None], row, trust[:, a, :])
                    column = rules.trust_in_new_leadership(trust[:, :, a], mc)
                    others = ha[:, None] & (np.arange(n) != a)[None, :]
                    trust[:, :, a] = np.where(others, column, trust[:, :, a])
        newly = live & (active.sum(axis=-1) < 2)
        dissolved = dissolved | newly
        dissolved_at = np.where(newly, t, dissolved_at)
        go = ~dissolved
        act = active & go[:, None]
        # engagement, effort, delivery
        engaged = np.where(act, rules.engagement(engaged, tr["volatility"], tr["commitment"],
                                                 cn.lapse), engaged)
        mean_trust = rules.mean_over_others(trust, active)
        withheld = rules.withheld_share(mean_trust, deter[col], p)
        effort = rules.effort(rules.effective_resourcing(resourcing, dedicated[col]),
                              tr["commitment"], engaged, on_notice, withheld, alignment, p)
        kept = np.where(act, rules.promise_kept(effort, tr["trustworthiness"], cn.delivery, p),
                        kept)
        contributed = np.where(act, contributed + kept * size, contributed)
        # hard decisions and maturity
        agree = rules.agreement(ambition, tr["control_concern"], mean_trust, alignment, p)
        new_pace = rules.decision_pace(first.decision_rule, agree, active, trust, leads)
        s_eff = rules.effective_skills(skills, training[col])
        pace = np.where(go, new_pace, pace)
        team_delivery = np.where(go, rules.size_weighted_mean(kept, size, active), team_delivery)
        team_skill = np.where(go, rules.size_weighted_mean(s_eff, size, active), team_skill)
        previous = maturity
        maturity = np.where(go, rules.maturity_step(maturity, ramp, team_delivery, team_skill,
                                                    pace, p), maturity)
        # money
        gross = np.where(go, potential * (size * active).sum(axis=-1) * previous / 2.0, 0.0)
        spend = np.where(go, impl * (maturity - previous)
                         + (dedicated * team_cost + training * training_cost) / 2.0, 0.0)
        cum = cum + np.where(go, gross - spend, 0.0)
        cost_w = size if first.cost_sharing == "by_size" else np.ones((R, n))
        benefit_w = {"equal": np.ones((R, n)), "by_size": size,
                     "by_contribution": contributed}[first.benefit_sharing]
        cost_share, benefit_share = rules.shares(cost_w, active), rules.shares(benefit_w, active)
        called = active & (cn.detect < call_out[col])
        charged = rules.payable(rules.penalty_charged(kept, size, called, threshold[col],
                                                      rate[col]), active, called)
        received = rules.redistribute(charged, size, active, charged > 0)
        money = np.where(act, money + benefit_share * gross[col], money)
        money = np.where(act, money - cost_share * spend[col], money)
        money = np.where(act, money - charged + received, money)
        equity = np.where(act, rules.equity_ratio(benefit_share, cost_share,
                                                  rules.shares(kept * size, active)), equity)
        # trust
        seen = rules.observed_delivery(kept, s_eff, cn.observe, p)
        new_trust = rules.updated_trust(trust, seen, np.swapaxes(trust, -1, -2), p)
        pair = act[:, :, None] & active[:, None, :] & ~eye
        trust = np.where(pair, new_trust, trust)
        # satisfaction
        mean_trust = rules.mean_over_others(trust, active)
        benefit = np.minimum(1.0, maturity / rules.planned_maturity(t, ramp))
        values = rules.values_closeness(ambition, tr["control_concern"], active)
        fairness = 1.0 - rules.inequity(equity, p)
        lost = rules.control_lost(tr["control_concern"], maturity[col], lead_share)
        parts = rules.satisfaction_parts(benefit[col], fairness, alignment, values, mean_trust,
                                         lost, p)
        satisfaction = np.where(act, rules.satisfaction(parts, p), satisfaction)
        # exits
        new_count = rules.dissatisfied_count(dissatisfied, satisfaction >= p.outside_option)
        dissatisfied = np.where(act, new_count, dissatisfied)
        notice_left = np.where(act & on_notice, notice_left - 1, notice_left)
        gives = act & ~on_notice & rules.gives_notice(satisfaction, dissatisfied,
                                                      tr["patience"], exit_penalty[col], p)
        why = np.array(rules.SATISFACTION_PARTS, dtype=object)[np.argmax(parts, axis=-1)]
        reason = np.where(gives, why, reason)
        notice_left = np.where(gives, first.notice_cycles, notice_left)
        on_notice = on_notice | gives
        leaving = np.where(act, on_notice & (notice_left <= 0), leaving)
        quitting = leaving & act
        staying = act & ~quitting
        charged = rules.payable(rules.exit_penalty_charged(quitting, size, exit_penalty[col]),
                                staying | quitting, quitting & staying.any(axis=-1)[:, None])
        received = rules.redistribute(charged, size, staying, quitting)
        money = money - charged + received
        active = active & ~quitting
        leaving = leaving & ~quitting
        on_notice = on_notice & ~quitting
        exited_at = np.where(quitting, t, exited_at)
        newly = go & (active.sum(axis=-1) < 2)
        dissolved = dissolved | newly
        dissolved_at = np.where(newly, t, dissolved_at)
        collect(t)
    return VectorRun(out, exited_at, reason, dissolved_at, money, first.names)


def _masked_mean(values, active, some):
    total = np.where(active, values, 0.0).sum(axis=-1)
    return np.where(some, total / np.maximum(active.sum(axis=-1), 1), 0.0)


def _targets(target: int, active, u):
    """Which partners a shock hits: [R, n] mask (see PartnershipModel.shock_targets)."""
    R, n = active.shape
    if target == TARGET_ALL:
        return active.copy()
    if target == TARGET_ANY:
        count = active.sum(axis=-1)
        pick = np.minimum((u * count).astype(int), np.maximum(count - 1, 0))
        order = np.cumsum(active, axis=-1) - 1     # rank among active partners
        return active & (order == pick[:, None]) & (count > 0)[:, None]
    hit = np.zeros((R, n), bool)
    hit[:, target] = active[:, target]
    return hit
