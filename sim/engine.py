"""The vectorised engine: many replications of one scenario at once, as NumPy arrays.

Axis 0 is the replication, the last axis the partner slot (pairwise arrays [R, i, j]). Every
behavioural rule is the same function of sim.rules that the Mesa agents call; this module only
orchestrates the review in the same synchronous order as PartnershipModel.step, and draws each
replication's randomness from that replication's own generator in the same order. So for the
same seeds both engines give the same trajectories, figure for figure (tests/test_engine.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from sim import noise as noise_mod
from sim import rules
from sim.inputs import (TARGET_ALL, TARGET_ANY, PartnershipInputs, count_uncertain, resolve_batch,
                        uncertain_paths)
from sim.seeds import replication_uniforms
from sim.scenario import CHANCE_SHOCKS, Scenario

#: The engines a Monte Carlo run can use: this one, and the Mesa model (the reference).
ENGINES = ("vector", "mesa")

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
    inputs: PartnershipInputs    # the batch's resolved inputs
    replications: np.ndarray     # [R] replication indices
    #: (cycle, shock kind, who): who is [R, n] partners hit, or [R] for a partnership-wide shock
    shock_events: list = field(default_factory=list)


@dataclass(frozen=True)
class StreamLayout:
    """Where each uncertain input (by path) and the cycle noise sit in a replication's stream,
    when variants of a scenario share streams (sim.paired)."""

    positions: dict            # uncertain path -> column in the stream
    noise_start: int           # first column of the cycle noise
    length: int                # columns drawn per replication


def draw(scenario: Scenario, seed: int, replications, sample=0, columns=None, values=None,
         layout: StreamLayout | None = None):
    """Each replication's inputs and cycle noise, from its own stream in the Mesa model's order
    (the uncertain inputs, then every cycle's uniforms): (batch inputs, noise [R, H, width]).

    `sample` is one design-point index or one per replication. A design sets some inputs
    itself: `values` [R, len(columns)] replace the uniforms of the uncertain inputs at
    `columns` (quantiles of their distributions) before the inputs are resolved.

    `layout` pairs variants of a scenario (common random numbers): each uncertain input takes
    the column of its name, so an input shared by two variants gets the same quantile in
    both, and the noise starts at the same column in every variant."""
    replications = np.asarray(replications, dtype=np.int64).reshape(-1)
    k = count_uncertain(scenario)
    n, s, H = len(scenario.partner_specs()), len(scenario.shocks), scenario.horizon
    w = noise_mod.width(n, s)
    start, length = (k, k + H * w) if layout is None else (layout.noise_start, layout.length)
    block = replication_uniforms(seed, replications, length, sample,
                                 out=_scratch((len(replications), length)))
    if columns is not None:
        block[:, columns] = values
    inputs = block[:, :k]
    if layout is not None:
        inputs = block[:, [layout.positions[name] for name in uncertain_paths(scenario)]]
    noise = block[:, start:start + H * w].reshape(len(replications), H, w)
    return resolve_batch(scenario, inputs), noise


_local = threading.local()


def _scratch(shape) -> np.ndarray:
    """A per-thread buffer for the noise block, reused from chunk to chunk: a fresh array of
    tens of MB per chunk costs as much in page faults as drawing the numbers. Valid until the
    thread's next draw (simulate_inputs has finished with it by then)."""
    size = int(np.prod(shape))
    buffer = getattr(_local, "buffer", None)
    if buffer is None or buffer.size < size:
        buffer = _local.buffer = np.empty(size)
    return buffer[:size].reshape(shape)


def simulate(scenario: Scenario, seed: int, replications, sample: int = 0) -> VectorRun:
    """Simulate the given replication indices of `scenario` under root `seed`."""
    replications = np.asarray(list(replications), dtype=np.int64)
    run = simulate_inputs(*draw(scenario, seed, replications, sample))
    run.replications = replications
    return run


def simulate_inputs(inputs: PartnershipInputs, noise: np.ndarray) -> VectorRun:
    """Simulate a batch of resolved inputs ([R] leading axis) driven by `noise` [R, H, width]."""
    events = []
    first = inputs
    p = inputs.params
    R, n, s, H = len(noise), inputs.n, len(inputs.shocks), inputs.horizon
    tr = inputs.traits
    size = tr["size"]
    priorities, vision = inputs.priorities, inputs.vision
    joins_at = inputs.joins_at
    target, potential, impl, ramp = (inputs.target_net_savings_m, inputs.savings_potential,
                                     inputs.implementation_cost_m, inputs.ramp_up_cycles)
    threshold, rate, call_out, exit_penalty = (inputs.penalty_threshold, inputs.penalty_rate,
                                               inputs.call_out, inputs.exit_penalty)
    dedicated, training, team_cost, training_cost, consensus = (
        inputs.dedicated, inputs.training, inputs.team_cost_m, inputs.training_cost_m,
        inputs.consensus)
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
    out = {k: np.zeros((H + 1, R)) for k in SERIES}  # a row per review: contiguous writes
    eye = np.eye(n, dtype=bool)
    gap = rules.cultural_gap(ambition, tr["control_concern"])  # changes with new leaderships

    def collect(t):
        pairs_trust = rules.mean_pair_trust(trust, active)
        count = active.sum(axis=-1)
        weight = active.astype(float)
        values = {
            "maturity": maturity, "gross_savings_m": gross, "spend_m": spend,
            "cum_net_savings_m": cum, "pct_business_case": 100.0 * cum / target,
            "mean_trust": pairs_trust, "min_trust": rules.min_over_others(trust, active),
            "active_partners": count,
            "fairness_imbalance": _masked_mean(np.abs(equity - 1.0), weight, count),
            "alignment": _masked_mean(alignment, weight, count),
            "decision_pace": pace, "team_delivery": team_delivery, "team_skill": team_skill,
            "mean_satisfaction": _masked_mean(satisfaction, weight, count),
            "dissolved": dissolved,
        }
        for k, v in values.items():
            out[k][t] = v

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
                                                                       < sh.rate))
            m = sh.magnitude
            if sh.kind == "supplier_failure":
                maturity = np.where(happens, rules.cut(maturity, m), maturity)
                if happens.any():
                    events.append((t, sh.kind, happens))
                continue
            is_join = sh.kind == "partner_join"
            hit = np.zeros((R, n), bool)
            rows = np.flatnonzero(happens)
            pool = ~active & (exited_at < 0) if is_join else active  # who it can hit
            hit[rows] = _targets(sh.target, pool[rows], cn.shock_target[rows, k])
            u = cn.shock_value[:, k]
            mc = m[:, None]
            if sh.kind in CHANCE_SHOCKS:
                hit &= u < mc  # it goes ahead with chance m
            if len(rows) and hit.any():
                events.append((t, sh.kind, hit))
            if sh.kind == "budget_cut":
                resourcing = np.where(hit, rules.cut(resourcing, mc), resourcing)
            elif sh.kind == "staff_loss":
                skills = np.where(hit, rules.cut(skills, mc), skills)
            elif sh.kind == "lapse":
                engaged = engaged & ~hit
            elif is_join:
                active = active | hit
            elif sh.kind == "partner_exit":
                active = active & ~hit
                leaving, on_notice = leaving & ~hit, on_notice & ~hit
                exited_at = np.where(hit, t, exited_at)
                reason = np.where(hit, "forced", reason)
            elif sh.kind == "leadership_change":
                ambition = np.where(hit, rules.new_leadership_ambition(u, p), ambition)
                engaged = engaged & ~hit
                rows = np.flatnonzero(hit.any(axis=-1))  # only the replications it struck
                if len(rows):
                    gap[rows] = rules.cultural_gap(ambition[rows], tr["control_concern"][rows])
                    trust[rows] = _new_leadership_trust(trust[rows], hit[rows],
                                                        tr["trust_propensity"][rows], mc[rows])
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
        values = rules.values_closeness(ambition, tr["control_concern"], active, gap)
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
        reason[gives] = _PART_NAMES[np.argmax(parts[gives], axis=-1)]
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
    out = {k: v.T for k, v in out.items()}  # [R, H + 1]
    return VectorRun(out, exited_at, reason, dissolved_at, money, first.names, inputs,
                     np.arange(R), events)


_PART_NAMES = np.array(rules.SATISFACTION_PARTS, dtype=object)


def _new_leadership_trust(trust, hit, propensity, magnitude):
    """Trust after new leaderships take over the partners `hit` ([R, n]), partner by partner in
    slot order as the Mesa model applies them: the newcomer's own trust is reset towards its
    propensity, and everyone else's trust in it is dented."""
    n = hit.shape[-1]
    for a in range(n):
        ha = hit[:, a]
        if not ha.any():
            continue
        row = rules.new_leadership_trust(trust[:, a, :], propensity[:, a, None], magnitude)
        trust[:, a, :] = np.where(ha[:, None], row, trust[:, a, :])
        column = rules.trust_in_new_leadership(trust[:, :, a], magnitude)
        others = ha[:, None] & (np.arange(n) != a)[None, :]
        trust[:, :, a] = np.where(others, column, trust[:, :, a])
    return trust


def _masked_mean(values, weight, count):
    """Mean over the active partners (weight = active as 0/1 floats; values are finite)."""
    return np.where(count > 0, np.einsum("...j,...j->...", values, weight)
                    / np.maximum(count, 1), 0.0)


def _targets(target: int, pool, u):
    """Which partners a shock hits, among those it can hit (`pool`, [R, n]): [R, n] mask (see
    PartnershipModel.shock_targets)."""
    R, n = pool.shape
    if target == TARGET_ALL:
        return pool.copy()
    if target == TARGET_ANY:
        count = pool.sum(axis=-1)
        pick = np.minimum((u * count).astype(int), np.maximum(count - 1, 0))
        order = np.cumsum(pool, axis=-1) - 1     # rank within the pool
        return pool & (order == pick[:, None]) & (count > 0)[:, None]
    hit = np.zeros((R, n), bool)
    hit[:, target] = pool[:, target]
    return hit
