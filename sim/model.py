"""The partnership as a Mesa model: one step is one six-month review of the relationship.

`PartnershipModel.step` is the table of contents of the simulation. Each review is synchronous:
partners act on the state left by the previous review, phase by phase, so the order in which
agents are activated never matters.
"""

from __future__ import annotations


import mesa
import numpy as np

from sim import noise as noise_mod
from sim import rules
from sim.agents import PartnerOrganisation
from sim.loading import as_scenario
from sim.inputs import TARGET_ALL, TARGET_ANY, PartnershipInputs, count_uncertain, resolve
from sim.scenario import CHANCE_SHOCKS


class PartnershipModel(mesa.Model):
    """A proposed partnership of organisations living out its charter, review by review.

    Args:
        scenario: a Scenario, a mapping in the scenario format, or a path to a YAML file.
            Uncertain inputs are sampled from this model's own generator.
        seed / rng: as for mesa.Model (give one); the run is fully determined by it.
    """

    def __init__(self, *, scenario, seed=None, rng=None):
        super().__init__(seed=seed, rng=rng)
        self.scenario = as_scenario(scenario)
        # All randomness, in a fixed order: the uncertain inputs, then every cycle's noise.
        self.inputs: PartnershipInputs = resolve(
            self.scenario, self.rng.random(count_uncertain(self.scenario)))
        n, s = self.inputs.n, len(self.inputs.shocks)
        self.noise = noise_mod.draw_run(self.rng, self.inputs.horizon, n, s)

        self.horizon = self.inputs.horizon
        self.cycle = 0
        self.maturity = 0.0
        self.previous_maturity = 0.0
        self.gross_savings = 0.0
        self.spend = 0.0
        self.cum_net_savings = 0.0
        self.decision_pace = 0.0
        self.team_delivery = 0.0
        self.team_skill = 0.0
        self.dissolved = False
        self.dissolved_at: int | None = None
        self.events: list[tuple[int, str, str]] = []  # (cycle, what, who)
        self._alignment_by_partner = rules.vision_alignment(self.inputs.priorities,
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
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "cycle": "cycle",
                "maturity": "maturity",
                "gross_savings_m": "gross_savings",
                "spend_m": "spend",
                "cum_net_savings_m": "cum_net_savings",
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
            },
            agent_reporters={
                "partner": "name",
                "active": "active",
                "engaged": "engaged",
                "effort": "effort",
                "kept": "kept",
                "mean_trust_in_others": lambda a: a.model.mean_trust_of(a),
                "satisfaction": "satisfaction",
                "net_money_m": "net_money",
            },
        )
        self._refresh_views()
        self.datacollector.collect(self)

    # --- one review ------------------------------------------------------------------------

    def step(self):
        """One six-month review of the partnership."""
        self.cycle += 1
        self.gross_savings = self.spend = 0.0  # nothing flows unless a review takes place
        if not self.dissolved:
            noise = noise_mod.cycle_noise(self.noise[self.cycle - 1], self.inputs.n,
                                          len(self.inputs.shocks))
            self.admit_joiners()
            self.apply_shocks(noise)
            if not self.check_dissolution():
                self.review(noise)
        self._refresh_views()
        self.datacollector.collect(self)
        self.running = self.cycle < self.horizon

    def review(self, noise: noise_mod.CycleNoise) -> None:
        """Effort, delivery, decisions, money, trust, satisfaction, exits: in that order."""
        partners = self.active_partners
        active = self.active
        partners.do("update_engagement", noise.lapse)
        trust, mean_trust = self.trust_matrix(), self.mean_trust_by_partner()
        partners.do("give_effort", mean_trust, self.deterrence)
        partners.do("deliver", noise.delivery)
        self.take_hard_decisions(active, trust, mean_trust)
        equity = self.share_costs_and_benefits(active, noise.detect)
        partners.do("observe_partners", self.array("kept"), active, trust, noise.observe)
        partners.do("commit_trust")
        self.assess_satisfaction(active, equity)
        partners.do("consider_exit")
        self.settle_exits()
        self.check_dissolution()

    # --- the model's phases ----------------------------------------------------------------

    def admit_joiners(self) -> None:
        for a in self.partners:
            if a.joins_at == self.cycle and a.exited_at is None and not a.active:
                a.active = True
                self.events.append((self.cycle, "joined", a.name))

    def apply_shocks(self, noise: noise_mod.CycleNoise) -> None:
        """Scheduled and random shocks of the scenario that fall in this review."""
        p = self.inputs.params
        for k, shock in enumerate(self.inputs.shocks):
            happens = (shock.at_cycle == self.cycle) if shock.at_cycle else \
                bool(noise.shock_occur[k] < shock.rate)
            if not happens:
                continue
            if shock.kind == "supplier_failure":
                self.maturity = float(rules.cut(self.maturity, shock.magnitude))
                self.events.append((self.cycle, shock.kind, "all"))
                continue
            joining = shock.kind == "partner_join"
            for a in self.shock_targets(shock.target, noise.shock_target[k], joining):
                m, u = shock.magnitude, noise.shock_value[k, a.slot]
                if shock.kind in CHANCE_SHOCKS and not u < m:
                    continue  # it goes ahead with chance m; otherwise nothing happens
                self.events.append((self.cycle, shock.kind, a.name))
                if shock.kind == "budget_cut":
                    a.resourcing = float(rules.cut(a.resourcing, m))
                elif shock.kind == "staff_loss":
                    a.skills = float(rules.cut(a.skills, m))
                elif shock.kind == "lapse":
                    a.engaged = False  # the review's engagement draw may bring it back
                elif shock.kind == "partner_exit":
                    a.leave(self.cycle, reason="forced")
                elif shock.kind == "partner_join":
                    a.active = True
                elif shock.kind == "leadership_change":
                    a.ambition = float(rules.new_leadership_ambition(u, p))
                    a.engaged = False  # the new leadership reviews what it inherited
                    a.trust = rules.new_leadership_trust(a.trust, a.trust_propensity, m)
                    for other in self.partners:
                        if other is not a:
                            other.trust = other.trust.copy()
                            other.trust[a.slot] = rules.trust_in_new_leadership(
                                other.trust[a.slot], m)

    def shock_targets(self, target: int, u: float, joining: bool = False
                      ) -> list[PartnerOrganisation]:
        """Who a shock hits: among the active partners, or for a join among those not yet in
        (and never gone)."""
        active = [a for a in self.partners
                  if ((not a.active and a.exited_at is None) if joining else a.active)]
        if target == TARGET_ALL:
            return active
        if target == TARGET_ANY:
            return [active[min(int(u * len(active)), len(active) - 1)]] if active else []
        chosen = self.partners[target]
        return [chosen] if chosen in active else []

    def take_hard_decisions(self, active, trust, mean_trust) -> None:
        """Hard decisions at the pace the decision rule allows; the programme matures."""
        inp, p = self.inputs, self.inputs.params
        agree = rules.agreement(self.array("ambition"), self.array("control_concern"),
                                mean_trust, self._alignment_by_partner, p)
        pace = rules.decision_pace(inp.decision_rule, agree, active, trust, inp.service_leads)
        size = self.array("size")
        self.decision_pace = float(pace)
        self.team_delivery = float(rules.size_weighted_mean(self.array("kept"), size, active))
        skills = rules.effective_skills(self.array("skills"), inp.training)
        self.team_skill = float(rules.size_weighted_mean(skills, size, active))
        self.previous_maturity = self.maturity
        self.maturity = float(rules.maturity_step(self.maturity, inp.ramp_up_cycles,
                                                  self.team_delivery, self.team_skill,
                                                  self.decision_pace, p))

    def share_costs_and_benefits(self, active, detect) -> np.ndarray:
        """Savings from last review's maturity, this review's spend, shared per the charter;
        penalties for breaches that are called out. Returns each partner's equity ratio."""
        inp = self.inputs
        size, kept = self.array("size"), self.array("kept")
        self.gross_savings = float(inp.savings_potential * (size * active).sum()
                                   * self.previous_maturity / 2.0)
        self.spend = float(inp.implementation_cost_m * (self.maturity - self.previous_maturity)
                           + (inp.dedicated * inp.team_cost_m
                              + inp.training * inp.training_cost_m) / 2.0)
        self.cum_net_savings += self.gross_savings - self.spend
        cost_w = size if inp.cost_sharing == "by_size" else np.ones(inp.n)
        benefit_w = {"equal": np.ones(inp.n), "by_size": size,
                     "by_contribution": self.array("contributed")}[inp.benefit_sharing]
        cost_share = rules.shares(cost_w, active)
        benefit_share = rules.shares(benefit_w, active)
        called_out = active & (detect < inp.call_out)
        charged = rules.payable(rules.penalty_charged(kept, size, called_out,
                                                      inp.penalty_threshold, inp.penalty_rate),
                                active, called_out)
        received = rules.redistribute(charged, size, active, charged > 0)
        for a in self.partners:
            if a.active:
                a.received += benefit_share[a.slot] * self.gross_savings
                a.paid += cost_share[a.slot] * self.spend
                a.penalties_paid += charged[a.slot]
                a.penalties_received += received[a.slot]
        contribution_share = rules.shares(kept * size, active)
        return rules.equity_ratio(benefit_share, cost_share, contribution_share)

    def assess_satisfaction(self, active, equity) -> None:
        inp = self.inputs
        benefit = min(1.0, self.maturity / float(rules.planned_maturity(self.cycle,
                                                                        inp.ramp_up_cycles)))
        values = rules.values_closeness(self.array("ambition"), self.array("control_concern"),
                                        active)
        self.active_partners.do("assess_satisfaction", benefit, equity, values,
                                self.mean_trust_by_partner(), self.maturity)

    def settle_exits(self) -> None:
        """Partners whose notice has run out leave and pay the exit penalty to those who stay."""
        leaving = self.array("leaving").astype(bool) & self.active
        if not leaving.any():
            return
        staying = self.active & ~leaving
        size = self.array("size")
        charged = rules.payable(rules.exit_penalty_charged(leaving, size,
                                                           self.inputs.exit_penalty),
                                staying | leaving, leaving & staying.any())
        received = rules.redistribute(charged, size, staying, leaving)
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
        """trust[i, j]: how far partner i trusts partner j."""
        return np.stack([a.trust for a in self.partners])

    def mean_trust_by_partner(self) -> np.ndarray:
        return rules.mean_over_others(self.trust_matrix(), self.active)

    def _refresh_views(self) -> None:
        """Figures the data collector reads, computed once per review rather than per agent."""
        self._partner_mean_trust = self.mean_trust_by_partner()

    def mean_trust_of(self, agent) -> float:
        """An active partner's mean trust in the others (NaN once it has left)."""
        return float(self._partner_mean_trust[agent.slot]) if agent.active else float("nan")

    @property
    def mean_trust(self) -> float:
        return float(rules.mean_pair_trust(self.trust_matrix(), self.active))

    @property
    def min_trust(self) -> float:
        return float(rules.min_over_others(self.trust_matrix(), self.active))

    @property
    def pct_business_case(self) -> float:
        return 100.0 * self.cum_net_savings / self.inputs.target_net_savings_m

    @property
    def fairness_imbalance(self) -> float:
        active = self.active
        if not active.any():
            return 0.0
        return float(np.abs(self.array("equity")[active] - 1.0).mean())

    @property
    def alignment(self) -> float:
        active = self.active
        if not active.any():
            return 0.0
        return float(self._alignment_by_partner[active].mean())

    @property
    def mean_satisfaction(self) -> float:
        active = self.active
        return float(self.array("satisfaction")[active].mean()) if active.any() else 0.0
