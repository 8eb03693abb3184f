"""The vectorised engine: many replications of one scenario at once, as NumPy arrays.

Axis 0 is the replication, the last axis the partner slot (pairwise arrays [R, i, j]). Every
behavioural rule is the same function of sim.partnership.rules that the Mesa agents call; this
module only
orchestrates the review in the same synchronous order as PartnershipModel.step, phase for phase
and name for name (`Partnership.step`), and draws each replication's randomness from that
replication's own streams in the same order. So for the same seeds both engines give the same
trajectories, figure for figure (tests/test_engine.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

import numpy as np

from sim.partnership import noise as noise_mod
from sim.partnership import rules
from sim.partnership.arrays import active_mean, count, rowany, rowsum
from sim.partnership.behaviour import (particle_scenario, particles_of, replication_particles,
                                       values_of)
from sim.partnership.inputs import (SCALARS, PartnershipInputs, count_run_inputs, resolve_batch,
                                    shock_input_counts, shock_streams, uncertain_paths)
from sim.partnership.seeds import replication_uniforms
from sim.scenario.schema import Scenario

#: The engines a Monte Carlo run can use: this one, and the Mesa model (the reference).
ENGINES = ("vector", "mesa")

SERIES = ("maturity", "running_quality", "gross_savings_m", "spend_m", "cum_net_savings_m",
          "planned_net_savings_m", "pct_business_case", "mean_trust", "min_trust",
          "active_partners", "fairness_imbalance", "alignment", "decision_pace",
          "team_delivery", "team_skill", "mean_satisfaction", "dissolved")


@dataclass
class VectorRun:
    """Per-cycle model figures ([R, horizon + 1] each) and the final partner state.

    A scenario with a posterior (`behaviour:`) runs each particle's replications as a run of
    their own: `parts` holds them ((rows of this run, that particle's VectorRun)), each with
    its `particle` (its index and values). The merged run has every per-replication array in
    replication order; its `inputs.params` is one part's, and its `shock_events` are left in
    the parts: what reads either (vector_outcomes, discovery) reads the parts."""

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
    #: the particle this run used ({"particle": k, path: value, ...}), with a posterior
    particle: dict | None = None
    #: each particle's own run, with a posterior (see above)
    parts: list = field(default_factory=list)


@dataclass(frozen=True)
class StreamLayout:
    """Where each uncertain input of the run's own stream (by path) and the cycle noise sit in
    that stream, when variants of a scenario share streams (sim.montecarlo.paired)."""

    positions: dict            # uncertain path -> column in the stream
    noise_start: int           # first column of the cycle noise
    length: int                # columns drawn per replication


def draw(scenario: Scenario, seed: int, replications, sample=0, columns=None, values=None,
         layout: StreamLayout | None = None, exact: bool = False):
    """Each replication's inputs and noise, from its own streams in the Mesa model's order:
    (batch inputs, cycle noise [R, H, width], shock noise [R, H, s, shock_width]).

    The run's own stream holds its uncertain inputs (all but the shocks'), then every cycle's
    uniforms; each shock's stream holds the shock's own uncertain inputs, then its numbers for
    every cycle. `sample` is one design-point index or one per replication. A design sets some
    inputs itself: `values` [R, len(columns)] replace the uniforms of the uncertain inputs at
    `columns` (quantiles of their distributions) before the inputs are resolved. A sweep's
    quantiles are the run's own uniforms, so a trait the partners share (partner_similarity)
    is still mixed with the partnership's draw; with `exact` (a grid or sim.evaluate setting
    values) each set input is its distribution's value at its own quantile.

    `layout` pairs variants of a scenario (common random numbers): each uncertain input takes
    the column of its name, so an input shared by two variants gets the same quantile in
    both, and the noise starts at the same column in every variant."""
    if particles_of(scenario) is not None:
        raise ValueError(f"{scenario.name}: draws its behaviour from a posterior; simulate it "
                         "with engine.run_batch (each particle's replications apart)")
    replications = np.asarray(replications, dtype=np.int64).reshape(-1)
    R = len(replications)
    k = count_run_inputs(scenario)
    n, H = len(scenario.partner_specs()), scenario.horizon
    w = noise_mod.width(n)
    start, length = (k, k + H * w) if layout is None else (layout.noise_start, layout.length)
    block = replication_uniforms(seed, replications, length, sample,
                                 out=_scratch((R, length)))
    run_inputs = block[:, :k]
    if layout is not None:
        names = uncertain_paths(scenario)[:k]
        run_inputs = block[:, [layout.positions[name] for name in names]]
    cycle = block[:, start:start + H * w].reshape(R, H, w)
    shock_inputs, shock_blocks = [], []
    sw = noise_mod.shock_width(n)
    for inputs, stream in zip(shock_input_counts(scenario), shock_streams(scenario)):
        own = replication_uniforms(seed, replications, inputs + H * sw, sample, stream=stream)
        shock_inputs.append(own[:, :inputs])
        shock_blocks.append(own[:, inputs:].reshape(R, H, sw))
    uniforms = np.concatenate([run_inputs, *shock_inputs], axis=1)  # a copy: the block is reused
    if columns is not None:
        uniforms[:, columns] = values
    shocks = np.stack(shock_blocks, axis=2) if shock_blocks else np.zeros((R, H, 0, sw))
    fixed = columns if exact and columns is not None else ()
    return resolve_batch(scenario, uniforms, fixed), cycle, shocks


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
    return run_batch(scenario, seed, np.asarray(list(replications), dtype=np.int64), sample)


def run_batch(scenario: Scenario, seed: int, replications, sample=0, columns=None, values=None,
              layout: StreamLayout | None = None, exact: bool = False) -> VectorRun:
    """Draw (as `draw`, with the same arguments) and simulate some replications of `scenario`.

    With a posterior (`behaviour:`), each replication's particle is chosen from its own
    stream (sim.partnership.behaviour), and each particle's replications are drawn and simulated
    with
    that particle's scenario (its constants shape the plan too), then merged back into
    replication order; their random numbers are what they would be without the posterior."""
    replications = np.asarray(replications, dtype=np.int64).reshape(-1)
    particles = particles_of(scenario)
    if particles is None:
        run = simulate_inputs(*draw(scenario, seed, replications, sample, columns, values,
                                    layout, exact))
        run.replications = replications
        return run
    which = replication_particles(particles, seed, replications, sample)
    samples = np.broadcast_to(np.asarray(sample, dtype=np.int64), replications.shape)
    parts = []
    for k in np.unique(which).tolist():
        rows = np.flatnonzero(which == k)
        part = run_batch(particle_scenario(scenario, k), seed, replications[rows],
                         samples[rows], columns,
                         None if values is None else np.asarray(values)[rows], layout, exact)
        part.particle = {"particle": k, **values_of(particles, k)}
        parts.append((rows, part))
    return merge_parts(parts, len(replications))


def merge_parts(parts: list, R: int) -> VectorRun:
    """One run of R replications from runs of some of them (rows of the whole, run)."""
    first = parts[0][1]
    if len(parts) == 1:
        run = replace(first, parts=parts)
        return run
    position = np.empty(R, dtype=np.int64)
    position[np.concatenate([rows for rows, _ in parts])] = np.arange(R)

    def join(arrays):
        return np.concatenate(arrays)[position]

    runs = [run for _, run in parts]
    inputs = [run.inputs for run in runs]
    merged_inputs = replace(
        first.inputs,
        traits={t: join([i.traits[t] for i in inputs]) for t in first.inputs.traits},
        priorities=join([i.priorities for i in inputs]),
        vision=join([i.vision for i in inputs]),
        planned_money=join([i.planned_money for i in inputs]),
        sampled=join([i.sampled for i in inputs]),
        shocks=tuple(replace(sh, rate=join([i.shocks[j].rate for i in inputs]),
                             magnitude=join([i.shocks[j].magnitude for i in inputs]))
                     for j, sh in enumerate(first.inputs.shocks)),
        **{name: join([np.broadcast_to(getattr(i, name), (len(r.replications),))
                       for i, r in zip(inputs, runs)]) for name in SCALARS})
    return VectorRun(
        series={name: join([run.series[name] for run in runs]) for name in first.series},
        exited_at=join([run.exited_at for run in runs]),
        exit_reason=join([run.exit_reason for run in runs]),
        dissolved_at=join([run.dissolved_at for run in runs]),
        net_money=join([run.net_money for run in runs]),
        names=first.names, inputs=merged_inputs,
        replications=join([run.replications for run in runs]), parts=parts)


def simulate_inputs(inputs: PartnershipInputs, noise: np.ndarray,
                    shock_noise: np.ndarray) -> VectorRun:
    """Simulate a batch of resolved inputs ([R] leading axis) driven by `noise` [R, H, width]
    and `shock_noise` [R, H, s, shock_width]."""
    partnership = Partnership(inputs)
    for t in range(1, inputs.horizon + 1):
        partnership.step(t, noise[:, t - 1], shock_noise[:, t - 1])
    return partnership.result()


_PART_NAMES = np.array(rules.SATISFACTION_PARTS, dtype=object)
_CONTROL = rules.SATISFACTION_PARTS.index("control")


class Partnership:
    """R replications of one partnership, as arrays, stepped review by review. Its `step` and
    phases follow PartnershipModel's, name for name; each phase applies the rules to every
    replication whose review takes place, and leaves the others as they were."""

    def __init__(self, inputs: PartnershipInputs):
        self.inputs = inputs
        p = self.p = inputs.params
        tr = inputs.traits
        R, n = tr["size"].shape
        self.R, self.n = R, n
        self.col = (slice(None), None)                 # per-replication scalars over partners
        self.size = tr["size"]
        self.ambition = tr["ambition"].copy()
        self.resourcing = tr["resourcing"].copy()
        self.skills = tr["skills"].copy()
        self.alignment = rules.vision_alignment(inputs.priorities, inputs.vision[:, None, :])
        self.deterrence = rules.deterrence(inputs.call_out, inputs.penalty_rate, p)
        self.gap = rules.cultural_gap(self.ambition, tr["control_concern"])
        self.values = np.zeros((R, n))                  # shared values, while still valid:
        self.stale = np.ones(R, bool)                   # recomputed where membership or a
                                                        # leadership changed
        self.others = ~np.eye(n, dtype=bool)            # pairs of distinct partners

        self.active = np.broadcast_to(inputs.joins_at == 0, (R, n)).copy()
        self.engaged = np.ones((R, n), bool)
        self.on_notice = np.zeros((R, n), bool)
        self.notice_left = np.zeros((R, n), int)
        self.leaving = np.zeros((R, n), bool)
        self.exited_at = np.full((R, n), -1)
        self.reason = np.full((R, n), "", dtype=object)
        self.base_trust = rules.initial_trust(tr["trust_propensity"],
                                              inputs.consensus[self.col], p)
        self.kept_evidence = np.zeros((R, n, n))
        self.broken_evidence = np.zeros((R, n, n))
        self.promise = np.full((R, n), p.promise)
        self.effort = np.zeros((R, n))
        self.delivered = np.zeros((R, n))
        self.kept = np.zeros((R, n))
        self.contributed = np.zeros((R, n))
        self.received = np.zeros((R, n))
        self.paid = np.zeros((R, n))
        self.penalties_paid = np.zeros((R, n))          # as PartnerOrganisation holds them
        self.penalties_received = np.zeros((R, n))
        parts = len(rules.SATISFACTION_PARTS)
        self.expected = np.zeros((R, n, parts))
        self.appraisal = np.zeros((R, n, parts))
        self.satisfaction = np.zeros((R, n))
        self.equity = np.ones((R, n))
        self.maturity, self.previous, self.quality = np.zeros(R), np.zeros(R), np.zeros(R)
        self.gross, self.spend, self.cum = np.zeros(R), np.zeros(R), np.zeros(R)
        self.pace, self.team_delivery, self.team_skill = np.zeros(R), np.zeros(R), np.zeros(R)
        self.dissolved = np.zeros(R, bool)
        self.dissolved_at = np.full(R, -1)
        self.events: list = []
        self.cycle = 0
        self.series = {k: np.zeros((inputs.horizon + 1, R)) for k in SERIES}  # row per review
        self.trust = self.trust_matrix()
        self.sign_charter(self.active)
        self.collect(0)

    # --- one review ------------------------------------------------------------------------

    def step(self, t: int, noise: np.ndarray, shock_noise: np.ndarray) -> None:
        """One six-month review of every replication (PartnershipModel.step)."""
        self.cycle = t
        self.gross, self.spend, self.quality = np.zeros(self.R), np.zeros(self.R), np.zeros(self.R)
        live = ~self.dissolved
        self.admit_joiners(t, live)
        self.apply_shocks(t, live, noise_mod.shock_noise(shock_noise, self.n))
        self.check_dissolution(t, live)
        self.review(t, noise_mod.cycle_noise(noise, self.n))
        self.collect(t)

    def review(self, t: int, noise: noise_mod.CycleNoise) -> None:
        """Effort, delivery, decisions, money, trust, satisfaction, exits: in that order, for
        the replications still intact (`go`) and their active partners (`act`)."""
        go = ~self.dissolved
        act = self.active & go[:, None]
        self.update_engagement(act, noise.lapse)
        trust = self.trust            # evidence has not changed since it was last computed
        mean_trust = rules.mean_over_others(trust, self.active)
        self.give_effort(act, mean_trust)
        self.deliver(act, noise.delivery)
        self.take_hard_decisions(go, trust, mean_trust)
        self.share_costs_and_benefits(go, act, noise.detect)
        self.observe_partners(act, noise.observe)
        self.rebaseline_promise(act)
        self.assess_satisfaction(t, act)
        self.consider_exit(act, noise.exit)
        self.settle_exits(t, act)
        self.check_dissolution(t, go)

    # --- the phases ----------------------------------------------------------------------

    def sign_charter(self, signing) -> None:
        """Partners `signing` ([R, n]) enter with the satisfaction they expect."""
        inp = self.inputs
        values = rules.values_closeness(self.ambition, inp.traits["control_concern"],
                                        self.active, self.gap)
        trust = rules.mean_over_others(self.trust_matrix(), self.active)
        expected = rules.expected_parts(
            self.alignment, values, trust, inp.traits["control_concern"], inp.lead_share,
            rules.planned_maturity(self.cycle, inp.plan_ramp_up_cycles), self.p)
        self.expected = np.where(signing[..., None], expected, self.expected)
        self.appraisal = np.where(signing[..., None], expected, self.appraisal)
        self.satisfaction = np.where(signing, rules.satisfaction(expected, self.p),
                                     self.satisfaction)

    def admit_joiners(self, t: int, live) -> None:
        joining = live[:, None] & (self.inputs.joins_at == t)[None, :] & (self.exited_at < 0) \
            & ~self.active
        if joining.any():
            self.active = self.active | joining
            self.stale |= rowany(joining)
            self.sign_charter(joining)

    def apply_shocks(self, t: int, live, noise: noise_mod.ShockNoise) -> None:
        """Every shock of the scenario, in scenario order (PartnershipModel.apply_shocks)."""
        inp, p, col = self.inputs, self.p, self.col
        for k, sh in enumerate(inp.shocks):
            strikes = live & rules.shock_strikes(sh.at_cycle, sh.rate, t, noise.occur[:, k])
            m = sh.magnitude
            if sh.kind == "supplier_failure":
                self.maturity = np.where(strikes, rules.cut(self.maturity, m), self.maturity)
                if strikes.any():
                    self.events.append((t, sh.kind, strikes))
                continue
            rows = np.flatnonzero(strikes)
            if not len(rows):
                continue
            joining = sh.kind == "partner_join"
            pool = ~self.active & (self.exited_at < 0) if joining else self.active
            hit = np.zeros((self.R, self.n), bool)
            hit[rows] = rules.shock_targets(sh.target, pool[rows], noise.target[rows, k])
            u = noise.value[:, k]
            hit = rules.goes_ahead(sh.kind, hit, u, m)
            if not hit.any():
                continue
            self.events.append((t, sh.kind, hit))
            self.stale |= rowany(hit)
            self.strike(sh.kind, hit, m[col], u, t)

    def strike(self, kind: str, hit, m, u, t: int) -> None:
        """What a shock does to the partners it hits (PartnershipModel.strike, then the
        partnership-wide change of a leadership change), in the replications it struck."""
        p = self.p
        rows = np.flatnonzero(rowany(hit))
        h, m = hit[rows], m[rows]
        if kind == "budget_cut":
            self.resourcing[rows] = np.where(h, rules.cut(self.resourcing[rows], m),
                                             self.resourcing[rows])
        elif kind == "staff_loss":
            self.skills[rows] = np.where(h, rules.cut(self.skills[rows], m), self.skills[rows])
        elif kind == "lapse":
            self.engaged[rows] &= ~h
        elif kind == "partner_join":
            self.active = self.active | hit
            self.sign_charter(hit)
        elif kind == "partner_exit":
            self.active[rows] &= ~h
            self.leaving[rows] &= ~h
            self.on_notice[rows] &= ~h
            self.exited_at[rows] = np.where(h, t, self.exited_at[rows])
            self.reason[rows] = np.where(h, "forced", self.reason[rows])
        elif kind == "leadership_change":
            self.ambition[rows] = np.where(h, rules.new_leadership_ambition(u[rows], p),
                                           self.ambition[rows])
            self.engaged[rows] &= ~h
            self.base_trust[rows] = np.where(h, rules.new_leadership_base(
                self.base_trust[rows], self.inputs.traits["trust_propensity"][rows], m),
                self.base_trust[rows])
            kept_e, broken_e = rules.new_leadership_evidence(
                self.kept_evidence[rows], self.broken_evidence[rows], h, m[:, 0], p)
            self.kept_evidence[rows], self.broken_evidence[rows] = kept_e, broken_e
            self.gap[rows] = rules.cultural_gap(self.ambition[rows],
                                                self.inputs.traits["control_concern"][rows])
            self.trust[rows] = rules.trust_from_evidence(kept_e, broken_e, self.base_trust[rows],
                                                         p)

    def check_dissolution(self, t: int, live) -> None:
        """Below two partners, the partnership dissolves."""
        newly = live & ~self.dissolved & (count(self.active) < 2)
        self.dissolved = self.dissolved | newly
        self.dissolved_at = np.where(newly, t, self.dissolved_at)

    def update_engagement(self, act, u) -> None:
        tr = self.inputs.traits
        np.copyto(self.engaged, rules.engagement(self.engaged, tr["volatility"],
                                                 tr["commitment"], u), where=act)

    def give_effort(self, act, mean_trust) -> None:
        inp = self.inputs
        withheld = rules.withheld_share(mean_trust, self.deterrence[self.col], self.p)
        resourcing = rules.effective_resourcing(self.resourcing, inp.dedicated[self.col])
        effort = rules.effort(resourcing, inp.traits["commitment"], self.engaged, self.on_notice,
                              withheld, self.alignment, self.p)
        np.copyto(self.effort, effort, where=act)

    def deliver(self, act, eps) -> None:
        delivered = rules.delivered_effort(self.effort, self.inputs.traits["trustworthiness"],
                                           eps, self.p)
        np.copyto(self.delivered, delivered, where=act)
        np.copyto(self.kept, rules.promise_kept(self.delivered, self.promise), where=act)
        np.copyto(self.contributed, self.contributed + self.delivered * self.size, where=act)

    def take_hard_decisions(self, go, trust, mean_trust) -> None:
        inp, p = self.inputs, self.p
        agree = rules.agreement(self.ambition, inp.traits["control_concern"], mean_trust,
                                self.alignment, p)
        pace = rules.decision_pace(inp.decision_rule, agree, self.active, trust,
                                   inp.service_leads)
        skills = rules.effective_skills(self.skills, inp.training[self.col])
        self.pace = np.where(go, pace, self.pace)
        self.team_delivery = np.where(go, rules.size_weighted_mean(self.delivered, self.size,
                                                                   self.active),
                                      self.team_delivery)
        self.team_skill = np.where(go, rules.size_weighted_mean(skills, self.size, self.active),
                                   self.team_skill)
        capacity = rules.programme_capacity(self.team_delivery, self.team_skill, self.pace, p)
        self.previous = self.maturity
        self.maturity = np.where(go, rules.maturity_step(self.maturity, inp.ramp_up_cycles,
                                                         capacity, p), self.maturity)
        self.quality = np.where(go, rules.running_quality(capacity, p), 0.0)

    def share_costs_and_benefits(self, go, act, detect) -> None:
        inp, col = self.inputs, self.col
        self.gross = np.where(go, rules.gross_savings(inp.savings_potential, self.size,
                                                      self.active, self.previous, self.quality),
                              0.0)
        self.spend = np.where(go, rules.programme_spend(
            inp.implementation_cost_m, self.maturity, self.previous, inp.plan_ramp_up_cycles,
            inp.dedicated, inp.team_cost_m, inp.training, inp.training_cost_m, self.p), 0.0)
        self.cum = self.cum + np.where(go, self.gross - self.spend, 0.0)
        cost_share = rules.shares(rules.cost_weights(inp.cost_sharing, self.size), self.active)
        benefit_share = rules.shares(rules.benefit_weights(inp.benefit_sharing, self.size,
                                                           self.contributed), self.active)
        called = self.active & (detect < inp.call_out[col])
        charged, received = rules.breach_penalties(self.kept, self.size, self.active, called,
                                                   inp.penalty_threshold[col],
                                                   inp.penalty_rate[col])
        np.copyto(self.received, self.received + benefit_share * self.gross[col], where=act)
        np.copyto(self.paid, self.paid + cost_share * self.spend[col], where=act)
        np.copyto(self.penalties_paid, self.penalties_paid + charged, where=act)
        np.copyto(self.penalties_received, self.penalties_received + received, where=act)

    def observe_partners(self, act, eps) -> None:
        """Every active partner reads every other and adds to its evidence (then commits)."""
        skills = rules.effective_skills(self.skills, self.inputs.training[self.col])
        seen = rules.observed_delivery(self.kept, skills, eps, self.p)
        kept_e, broken_e = rules.trust_evidence(self.kept_evidence, self.broken_evidence, seen,
                                                self.p)
        pair = act[:, :, None] & self.active[:, None, :] & self.others
        np.copyto(self.kept_evidence, kept_e, where=pair)
        np.copyto(self.broken_evidence, broken_e, where=pair)

    def rebaseline_promise(self, act) -> None:
        np.copyto(self.promise, rules.rebaselined_promise(self.promise, self.effort, self.p),
                  where=act)

    def assess_satisfaction(self, t: int, act) -> None:
        inp, p, col = self.inputs, self.p, self.col
        cc = inp.traits["control_concern"]
        equity = rules.equity_ratio(self.received, self.paid, self.contributed, self.active)
        values = self.shared_values()
        self.trust = self.trust_matrix()        # the evidence of this review is in
        mean_trust = rules.mean_over_others(self.trust, self.active)
        benefit = rules.benefit_against_plan(inp.planned_money[:, t, :], self.net_money,
                                             self.size, inp.plan_savings_potential, p)
        fairness = 1.0 - rules.inequity(equity, p)
        lost = rules.control_lost(cc, self.maturity[col], inp.lead_share)
        parts = rules.satisfaction_parts(benefit, fairness, self.alignment, values, mean_trust,
                                         lost, p)
        np.copyto(self.equity, equity, where=act)
        np.copyto(self.satisfaction, rules.satisfaction(parts, p), where=act)
        np.copyto(self.appraisal, rules.appraised(self.appraisal, parts, inp.traits["patience"]),
                  where=act[..., None])
        # of what a partner expects only the control part moves (rules.expected_as_planned)
        planned = rules.expected_control(cc, inp.lead_share, rules.planned_maturity(
            t, inp.plan_ramp_up_cycles), p)
        control = rules.appraised(self.expected[..., _CONTROL, None], planned[..., None],
                                  inp.traits["patience"])[..., 0]
        self.expected[..., _CONTROL] = np.where(act, control, self.expected[..., _CONTROL])

    def shared_values(self):
        """values_closeness of every replication, recomputed only where membership or a
        leadership has changed since it was last computed (the result is the same)."""
        rows = np.flatnonzero(self.stale)
        if len(rows):
            self.values[rows] = rules.values_closeness(
                self.ambition[rows], self.inputs.traits["control_concern"][rows],
                self.active[rows], self.gap[rows])
            self.stale[rows] = False
        return self.values

    def consider_exit(self, act, u) -> None:
        inp = self.inputs
        margin = rules.exit_margin(self.expected, self.appraisal, inp.exit_penalty[self.col],
                                   self.maturity[self.col], self.p)
        self.notice_left = np.where(act & self.on_notice, self.notice_left - 1, self.notice_left)
        gives = act & ~self.on_notice & rules.gives_notice(margin, u, self.p)
        if gives.any():
            why = rules.exit_reason(self.expected[gives], self.appraisal[gives])
            self.reason[gives] = _PART_NAMES[why]
        self.notice_left = np.where(gives, inp.notice_cycles, self.notice_left)
        self.on_notice = self.on_notice | gives
        self.leaving = np.where(act, self.on_notice & (self.notice_left <= 0), self.leaving)

    def settle_exits(self, t: int, act) -> None:
        quitting = self.leaving & act
        if not quitting.any():
            return
        staying = act & ~quitting
        charged, received = rules.exit_settlement(quitting, staying, self.size,
                                                  self.inputs.exit_penalty[self.col])
        self.penalties_paid = self.penalties_paid + charged
        self.penalties_received = self.penalties_received + received
        self.stale |= rowany(quitting)
        self.active = self.active & ~quitting
        self.leaving = self.leaving & ~quitting
        self.on_notice = self.on_notice & ~quitting
        self.exited_at = np.where(quitting, t, self.exited_at)

    # --- views -----------------------------------------------------------------------------

    @property
    def net_money(self):
        return rules.net_money(self.received, self.paid, self.penalties_received,
                               self.penalties_paid)

    def trust_matrix(self):
        return rules.trust_from_evidence(self.kept_evidence, self.broken_evidence,
                                         self.base_trust, self.p)

    def collect(self, t: int) -> None:
        """This review's row of every series (what PartnershipModel's DataCollector records)."""
        active = self.active
        members = count(active)
        values = {
            "maturity": self.maturity, "running_quality": self.quality,
            "gross_savings_m": self.gross, "spend_m": self.spend, "cum_net_savings_m": self.cum,
            "planned_net_savings_m": rowsum(self.inputs.planned_money[:, t, :]),
            "pct_business_case": 100.0 * self.cum / self.inputs.target_net_savings_m,
            "mean_trust": rules.mean_pair_trust(self.trust, active),
            "min_trust": rules.min_over_others(self.trust, active),
            "active_partners": members,
            "fairness_imbalance": active_mean(np.abs(self.equity - 1.0), active),
            "alignment": active_mean(self.alignment, active),
            "decision_pace": self.pace, "team_delivery": self.team_delivery,
            "team_skill": self.team_skill,
            "mean_satisfaction": active_mean(self.satisfaction, active),
            "dissolved": self.dissolved,
        }
        for name, value in values.items():
            self.series[name][t] = value

    def result(self) -> VectorRun:
        out = {k: v.T for k, v in self.series.items()}  # [R, H + 1]
        return VectorRun(out, self.exited_at, self.reason, self.dissolved_at, self.net_money,
                         self.inputs.names, self.inputs, np.arange(self.R), self.events)
