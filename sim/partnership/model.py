"""The partnership as a Mesa model: one step is one six-month review of the relationship.

`PartnershipModel.step` is the table of contents of the simulation. Each review is synchronous:
partners act on the state left by the previous review, phase by phase, so the order in which
agents are activated never matters.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.partnership import noise as noise_mod
from sim.partnership import rules
from sim.partnership.agents import PartnerOrganisation
from sim.partnership.arrays import active_mean, rowsum
from sim.partnership.behaviour import model_particle, particle_scenario, particles_of, values_of
from sim.partnership.inputs import (PartnershipInputs, count_run_inputs, resolve,
                                    shock_input_counts, shock_streams)
from sim.partnership.outcomes import STANDING_SERIES, Standing, standing
from sim.partnership.seeds import child_rng
from sim.scenario.loading import as_scenario
from sim.scenario.schema import TRAITS, Scenario


class PartnershipModel(mesa.Model):
    """A proposed partnership of organisations living out its charter, review by review.

    Args:
        scenario: a Scenario, a mapping in the scenario format, or a path to a YAML file.
            Uncertain inputs are sampled from this model's own generator.
        rng: as for mesa.Model; the run is fully determined by it. `seed=` is taken as `rng`
            (give one, not both).
        **kwargs: scenario field paths and their values, set on the scenario before the run
            (`**{"partners.*.ambition": 0.8, "charter.decision_rule": "majority"}`; see
            sim.scenario.fields), so `mesa.batch_run` can sweep any field. A wrong path or value
            raises
            sim.ScenarioError naming it, with a suggestion.

    `running` stays True after the last review until the model is stepped once more: that
    closing step changes and collects nothing, and makes the last row of `mesa.batch_run`
    the final review (Mesa 3.3 and 3.4 report the collection made before their last step,
    `model.steps - 1`; 3.5 reports the last collection, which is the same row).
    """

    def __init__(self, scenario, *, rng=None, **kwargs):
        # `seed` is left out of the signature: Mesa 3.4+'s batch_run passes its own seed (None
        # unless given) as `seed` to a model whose signature names one, which would override a
        # `seed` among the parameters; and Mesa 3.5 deprecates `seed=`.
        seed = kwargs.pop("seed", None)
        if seed is not None and rng is not None:
            raise ValueError("give seed or rng, not both")
        super().__init__(rng=rng if seed is None else seed)
        self.scenario = as_scenario(scenario).with_values(kwargs)
        # With a posterior, the run's particle (from a stream of its own:
        # sim.partnership.behaviour), and
        # the scenario as that particle runs it.
        particles = particles_of(self.scenario)
        self.behaviour: dict | None = None
        if particles is not None:
            k = model_particle(particles, self.rng)
            self.behaviour = {"particle": k, **values_of(particles, k)}
            self.scenario = particle_scenario(self.scenario, k)
        n = len(self.scenario.partner_specs())
        horizon = self.scenario.horizon
        # All randomness, in a fixed order: the uncertain inputs, then every cycle's noise, from
        # the run's own generator; each shock's inputs and numbers from its own child stream.
        run_inputs = self.rng.random(count_run_inputs(self.scenario))
        self.noise = noise_mod.draw_run(self.rng, horizon, n)
        shock_inputs, shock_blocks = [], []
        for count, key in zip(shock_input_counts(self.scenario), shock_streams(self.scenario)):
            stream = child_rng(self.rng, key)
            shock_inputs.append(stream.random(count))
            shock_blocks.append(stream.random((horizon, noise_mod.shock_width(n))))
        self.shock_noise = np.stack(shock_blocks, axis=1) if shock_blocks else \
            np.zeros((horizon, 0, noise_mod.shock_width(n)))    # [horizon, s, width]
        self.inputs: PartnershipInputs = resolve(
            self.scenario, np.concatenate([run_inputs, *shock_inputs]))

        self.horizon = horizon
        self.cycle = 0
        self.maturity = 0.0
        self.previous_maturity = 0.0
        self.running_quality = 0.0
        self.gross_savings = 0.0
        self.spend = 0.0
        self.cum_net_savings = 0.0
        self.decision_pace = 0.0
        self.team_delivery = 0.0
        self.team_skill = 0.0
        self.dissolved = False
        self.dissolved_at: int | None = None
        self.events: list[tuple[int, str, str]] = []  # (cycle, what, who)
        self.alignment_by_partner = rules.vision_alignment(self.inputs.priorities,
                                                           self.inputs.vision)
        self.deterrence = float(rules.deterrence(self.inputs.call_out, self.inputs.penalty_rate,
                                                 self.inputs.params))

        for slot, name in enumerate(self.inputs.names):
            PartnerOrganisation(
                self, slot=slot, name=name,
                traits={t: float(v[slot]) for t, v in self.inputs.traits.items()},
                priorities=self.inputs.priorities[slot],
                joins_at=int(self.inputs.joins_at[slot]),
            )
        self.partners = sorted(self.agents, key=lambda a: a.slot)
        self.sign_charter(self.active)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "cycle": "cycle",
                "maturity": "maturity",
                "running_quality": "running_quality",
                "gross_savings_m": "gross_savings",
                "spend_m": "spend",
                "cum_net_savings_m": "cum_net_savings",
                "planned_net_savings_m": lambda m: m.planned_net_savings,
                "pct_business_case": lambda m: m.pct_business_case,
                "mean_trust": lambda m: m.mean_trust,
                "min_trust": lambda m: m.min_trust,
                "active_partners": lambda m: int(m.active.sum()),
                "fairness_imbalance": lambda m: m.fairness_imbalance,
                "alignment": lambda m: m.alignment,
                "decision_pace": "decision_pace",
                "team_delivery": "team_delivery",
                "team_skill": "team_skill",
                "mean_satisfaction": lambda m: m.mean_satisfaction,
                "dissolved": "dissolved",
                # the outcomes table's verdict, as it stands after each review
                "delivered": lambda m: m.standing.delivered,
                "status": lambda m: m.standing.status,
                "savings_pct": lambda m: m.standing.savings_pct,
                "failure_path": lambda m: m.standing.failure_path,
            },
            agent_reporters={
                "partner": "name",
                **{trait: trait for trait in TRAITS},   # as they are now, after any shock
                "active": "active",
                "engaged": "engaged",
                "effort": "effort",
                "promise": "promise",
                "kept": "kept",
                "mean_trust_in_others": lambda a: a.model.mean_trust_of(a),
                "benefit": "benefit",
                "satisfaction": "satisfaction",
                "appraisal": "appraisal_value",
                "leave_below": "leave_below",
                "net_money_m": "net_money",
            },
        )
        self._refresh_views()
        self.datacollector.collect(self)

    @property
    def scenario(self) -> Scenario:
        """The scenario this run lives out. (Mesa 3.5's Model has a `scenario` of its own, whose
        setter ties it to the model; ours is a frozen pydantic model, kept as it is.)"""
        return self._partnership_scenario

    @scenario.setter
    def scenario(self, scenario) -> None:
        self._partnership_scenario = scenario

    # --- one review ------------------------------------------------------------------------

    def step(self):
        """One six-month review of the partnership; after the last, the closing step."""
        if self.cycle == self.horizon:
            self.running = False
            return
        self.cycle += 1
        self.gross_savings = self.spend = self.running_quality = 0.0  # nothing flows unless
        if not self.dissolved:                                        # a review takes place
            n = self.inputs.n
            noise = noise_mod.cycle_noise(self.noise[self.cycle - 1], n)
            self.admit_joiners()
            self.apply_shocks(noise_mod.shock_noise(self.shock_noise[self.cycle - 1], n))
            if not self.check_dissolution():
                self.review(noise)
        self._refresh_views()
        self.datacollector.collect(self)

    def review(self, noise: noise_mod.CycleNoise) -> None:
        """Effort, delivery, decisions, money, trust, satisfaction, exits: in that order."""
        partners = self.active_partners
        active = self.active
        partners.do("update_engagement", noise.lapse)
        trust = self.trust_matrix()
        mean_trust = rules.mean_over_others(trust, active)
        partners.do("give_effort", mean_trust, self.deterrence)
        partners.do("deliver", noise.delivery)
        self.take_hard_decisions(active, trust, mean_trust)
        self.share_costs_and_benefits(active, noise.detect)
        partners.do("observe_partners", self.array("kept"), active, noise.observe)
        partners.do("commit_evidence")
        partners.do("rebaseline_promise")
        self.assess_satisfaction(active)
        partners.do("consider_exit", noise.exit, self.maturity)
        self.settle_exits()
        self.check_dissolution()

    # --- the model's phases ----------------------------------------------------------------

    def sign_charter(self, signing) -> None:
        """Partners `signing` (a mask) enter with the satisfaction they expect from the charter:
        the founders at the start, a joiner when it joins."""
        inp = self.inputs
        values = rules.values_closeness(self.array("ambition"), self.array("control_concern"),
                                        self.active)
        trust = rules.mean_over_others(self.trust_matrix(), self.active)
        expected = rules.expected_parts(
            self.alignment_by_partner, values, trust, self.array("control_concern"),
            inp.lead_share, rules.planned_maturity(self.cycle, inp.plan_ramp_up_cycles),
            inp.params)
        for a in self.partners:
            if signing[a.slot]:
                a.sign(expected[a.slot])

    def admit_joiners(self) -> None:
        joining = np.array([a.joins_at == self.cycle and a.exited_at is None and not a.active
                            for a in self.partners])
        for a in self.partners:
            if joining[a.slot]:
                a.active = True
                self.events.append((self.cycle, "joined", a.name))
        if joining.any():
            self.sign_charter(joining)

    def apply_shocks(self, noise: noise_mod.ShockNoise) -> None:
        """Scheduled and random shocks of the scenario that fall in this review, in scenario
        order; whom each hits and what it does are rules (shock_targets, goes_ahead, ...)."""
        p = self.inputs.params
        for k, shock in enumerate(self.inputs.shocks):
            if not rules.shock_strikes(shock.at_cycle, shock.rate, self.cycle, noise.occur[k]):
                continue
            if shock.kind == "supplier_failure":
                self.maturity = float(rules.cut(self.maturity, shock.magnitude))
                self.events.append((self.cycle, shock.kind, "all"))
                continue
            joining = shock.kind == "partner_join"
            pool = np.array([(not a.active and a.exited_at is None) if joining else a.active
                             for a in self.partners])
            m, u = shock.magnitude, noise.value[k]
            hit = rules.goes_ahead(shock.kind, rules.shock_targets(shock.target, pool,
                                                                   noise.target[k]), u, m)
            for a in self.partners:
                if hit[a.slot]:
                    self.events.append((self.cycle, shock.kind, a.name))
                    self.strike(a, shock.kind, m, u[a.slot])
            if joining and hit.any():
                self.sign_charter(hit)
            if shock.kind == "leadership_change" and hit.any():
                kept_e, broken_e = rules.new_leadership_evidence(
                    np.stack([a.kept_evidence for a in self.partners]),
                    np.stack([a.broken_evidence for a in self.partners]), hit, m, p)
                for a in self.partners:
                    a.kept_evidence, a.broken_evidence = kept_e[a.slot], broken_e[a.slot]

    def strike(self, a: PartnerOrganisation, kind: str, magnitude: float, u: float) -> None:
        """What a shock does to one partner it hits (the partnership-wide evidence change of a
        leadership change follows in apply_shocks)."""
        p = self.inputs.params
        if kind == "budget_cut":
            a.resourcing = float(rules.cut(a.resourcing, magnitude))
        elif kind == "staff_loss":
            a.skills = float(rules.cut(a.skills, magnitude))
        elif kind == "lapse":
            a.engaged = False  # the review's engagement draw may bring it back
        elif kind == "partner_exit":
            a.leave(self.cycle, reason="forced")
        elif kind == "partner_join":
            a.active = True
        elif kind == "leadership_change":
            a.ambition = float(rules.new_leadership_ambition(u, p))
            a.engaged = False  # the new leadership reviews what it inherited
            a.base_trust = float(rules.new_leadership_base(a.base_trust, a.trust_propensity,
                                                           magnitude))

    def take_hard_decisions(self, active, trust, mean_trust) -> None:
        """Hard decisions at the pace the decision rule allows; the programme builds the service
        and runs it with the capacity this review's collaboration gives."""
        inp, p = self.inputs, self.inputs.params
        agree = rules.agreement(self.array("ambition"), self.array("control_concern"),
                                mean_trust, self.alignment_by_partner, p)
        pace = rules.decision_pace(inp.decision_rule, agree, active, trust, inp.service_leads)
        size = self.array("size")
        self.decision_pace = float(pace)
        self.team_delivery = float(rules.size_weighted_mean(self.array("delivered"), size,
                                                            active))
        skills = rules.effective_skills(self.array("skills"), inp.training)
        self.team_skill = float(rules.size_weighted_mean(skills, size, active))
        capacity = rules.programme_capacity(self.team_delivery, self.team_skill,
                                            self.decision_pace, p)
        self.previous_maturity = self.maturity
        self.maturity = float(rules.maturity_step(self.maturity, inp.ramp_up_cycles, capacity, p))
        self.running_quality = float(rules.running_quality(capacity, p))

    def share_costs_and_benefits(self, active, detect) -> None:
        """Savings of this review, its spend, shared per the charter; penalties for breaches
        that are called out."""
        inp = self.inputs
        size, kept = self.array("size"), self.array("kept")
        self.gross_savings = float(rules.gross_savings(
            inp.savings_potential, size, active, self.previous_maturity, self.running_quality))
        self.spend = float(rules.programme_spend(
            inp.implementation_cost_m, self.maturity, self.previous_maturity,
            inp.plan_ramp_up_cycles, inp.dedicated, inp.team_cost_m, inp.training,
            inp.training_cost_m, inp.params))
        self.cum_net_savings += self.gross_savings - self.spend
        cost_share = rules.shares(rules.cost_weights(inp.cost_sharing, size), active)
        benefit_share = rules.shares(rules.benefit_weights(
            inp.benefit_sharing, size, self.array("contributed")), active)
        called_out = active & (detect < inp.call_out)
        charged, received = rules.breach_penalties(kept, size, active, called_out,
                                                   inp.penalty_threshold, inp.penalty_rate)
        for a in self.partners:
            if a.active:
                a.received += benefit_share[a.slot] * self.gross_savings
                a.paid += cost_share[a.slot] * self.spend
                a.penalties_paid += charged[a.slot]
                a.penalties_received += received[a.slot]

    def assess_satisfaction(self, active) -> None:
        equity = rules.equity_ratio(self.array("received"), self.array("paid"),
                                    self.array("contributed"), active)
        values = rules.values_closeness(self.array("ambition"), self.array("control_concern"),
                                        active)
        mean_trust = rules.mean_over_others(self.trust_matrix(), active)
        self.active_partners.do("assess_satisfaction", equity, values, mean_trust,
                                self.maturity, self.cycle)

    def settle_exits(self) -> None:
        """Partners whose notice has run out leave and pay the exit penalty to those who stay."""
        leaving = self.array("leaving").astype(bool) & self.active
        if not leaving.any():
            return
        staying = self.active & ~leaving
        charged, received = rules.exit_settlement(leaving, staying, self.array("size"),
                                                  self.inputs.exit_penalty)
        for a in self.partners:
            a.penalties_paid += charged[a.slot]
            a.penalties_received += received[a.slot]
            if leaving[a.slot]:
                a.leave(self.cycle)
                self.events.append((self.cycle, f"exit ({a.exit_reason})", a.name))

    def check_dissolution(self) -> bool:
        """Below two partners, the partnership dissolves."""
        if not self.dissolved and self.active.sum() < 2:
            self.dissolved = True
            self.dissolved_at = self.cycle
            self.events.append((self.cycle, "dissolved", ""))
        return self.dissolved

    # --- views of the state ------------------------------------------------------------------

    @property
    def active_partners(self) -> mesa.agent.AgentSet:
        return self.agents.select(lambda a: a.active)

    @property
    def active(self) -> np.ndarray:
        return np.array([a.active for a in self.partners], dtype=bool)

    def array(self, attribute: str) -> np.ndarray:
        """One attribute of every partner slot, as an array."""
        return np.array([getattr(a, attribute) for a in self.partners], dtype=float)

    def trust_matrix(self) -> np.ndarray:
        """trust[i, j]: how far partner i trusts partner j, from i's evidence about j."""
        return rules.trust_from_evidence(np.stack([a.kept_evidence for a in self.partners]),
                                         np.stack([a.broken_evidence for a in self.partners]),
                                         self.array("base_trust"), self.inputs.params)

    def mean_trust_by_partner(self) -> np.ndarray:
        return rules.mean_over_others(self.trust_matrix(), self.active)

    def _refresh_views(self) -> None:
        """Figures the data collector reads, computed once per review rather than per agent."""
        self._trust = self.trust_matrix()
        self._partner_mean_trust = rules.mean_over_others(self._trust, self.active)
        self.standing: Standing = standing(self, self._figures_so_far(STANDING_SERIES))

    def _figures_so_far(self, names) -> dict:
        """Each named model figure at reviews 0..now: as collected, then as it is now."""
        reporters, collected = self.datacollector.model_reporters, self.datacollector.model_vars
        return {name: [*collected[name], getattr(self, reporters[name])
                       if isinstance(reporters[name], str) else reporters[name](self)]
                for name in names}

    def mean_trust_of(self, agent) -> float:
        """An active partner's mean trust in the others (NaN once it has left)."""
        return float(self._partner_mean_trust[agent.slot]) if agent.active else float("nan")

    @property
    def mean_trust(self) -> float:
        return float(rules.mean_pair_trust(self._trust, self.active))

    @property
    def min_trust(self) -> float:
        return float(rules.min_over_others(self._trust, self.active))

    @property
    def planned_net_savings(self) -> float:
        """Where the business case's plan expected cumulative net savings to be by now."""
        return float(rowsum(self.inputs.planned_money[self.cycle]))

    @property
    def pct_business_case(self) -> float:
        return 100.0 * self.cum_net_savings / self.inputs.target_net_savings_m

    @property
    def fairness_imbalance(self) -> float:
        return float(active_mean(np.abs(self.array("equity") - 1.0), self.active))

    @property
    def alignment(self) -> float:
        return float(active_mean(self.alignment_by_partner, self.active))

    @property
    def mean_satisfaction(self) -> float:
        return float(active_mean(self.array("satisfaction"), self.active))

