"""A partner organisation in a proposed partnership, as a Mesa agent.

Read the methods top to bottom: they are the partner's side of one six-month review, in the
order the model calls them. Each applies a rule from sim.rules to this partner's own values;
the review is synchronous, so a partner only ever reads what the others did in an earlier phase
of the same review (or in the previous review), never what they are deciding now.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim import rules


class PartnerOrganisation(mesa.Agent):
    """An organisation with traits (ambition, resourcing, skills, ...) and trust in the others.

    Args:
        model: the PartnershipModel it belongs to.
        slot: its index in the partnership's arrays (trust rows, noise).
        name: the organisation's name.
        traits: its sampled traits (see sim.scenario.PartnerTraits).
        priorities: its weights over the nine benefits, normalised.
        joins_at: review cycle it joins at (0 = founding partner).
    """

    def __init__(self, model, slot: int, name: str, traits: dict, priorities, joins_at: int):
        super().__init__(model)
        self.slot = slot
        self.name = name
        p = model.inputs
        self.size = traits["size"]
        self.ambition = traits["ambition"]
        self.resourcing = traits["resourcing"]
        self.skills = traits["skills"]
        self.trustworthiness = traits["trustworthiness"]
        self.trust_propensity = traits["trust_propensity"]
        self.commitment = traits["commitment"]
        self.volatility = traits["volatility"]
        self.control_concern = traits["control_concern"]
        self.patience = traits["patience"]
        self.priorities = priorities
        self.joins_at = joins_at
        # state
        self.active = joins_at == 0
        self.engaged = True
        self.on_notice = False
        self.notice_left = 0
        self.leaving = False
        self.exited_at: int | None = None
        self.exit_reason = ""
        self.dissatisfied = 0
        self.trust = np.full(p.n, float(rules.initial_trust(self.trust_propensity, p.consensus,
                                                              p.params)))
        self._next_trust = self.trust
        self.effort = 0.0
        self.kept = 0.0
        self.contributed = 0.0          # cumulative size-weighted delivery, for by_contribution
        self.satisfaction = float(p.params.outside_option)
        self.parts = np.zeros(len(rules.SATISFACTION_PARTS))
        self.fairness = 1.0
        self.equity = 1.0
        # money, £m, cumulative
        self.received = 0.0
        self.paid = 0.0
        self.penalties_paid = 0.0
        self.penalties_received = 0.0

    # --- the review, in order ------------------------------------------------------------

    def update_engagement(self, u) -> None:
        """Hokey-cokey: interest lapses with chance volatility, returns with chance commitment."""
        self.engaged = bool(rules.engagement(self.engaged, self.volatility, self.commitment,
                                             u[self.slot]))

    def give_effort(self, mean_trust, deterrence) -> None:
        """Put effort in: resourcing, commitment, engagement, less what distrust holds back."""
        p = self.model.inputs
        withheld = rules.withheld_share(mean_trust[self.slot], deterrence, p.params)
        resourcing = rules.effective_resourcing(self.resourcing, p.dedicated)
        self.effort = float(rules.effort(resourcing, self.commitment, self.engaged,
                                         self.on_notice, withheld,
                                         self.model._alignment_by_partner[self.slot], p.params))

    def deliver(self, eps) -> None:
        """Deliver against the promise made in the charter, as trustworthy as it is."""
        self.kept = float(rules.promise_kept(self.effort, self.trustworthiness, eps[self.slot],
                                             self.model.inputs.params))
        self.contributed += self.kept * self.size

    def observe_partners(self, kept, active, trust, eps) -> None:
        """Read what each other partner delivered (misreading less when skilled) and revise
        trust in it; the new trust takes effect when every partner has observed."""
        p = self.model.inputs
        skills = rules.effective_skills(self.skills, p.training)
        seen = rules.observed_delivery(kept, np.atleast_1d(skills), eps[self.slot][None, :],
                                       p.params)[0]
        new = rules.updated_trust(self.trust, seen, trust[:, self.slot], p.params)
        others = active & (np.arange(p.n) != self.slot)
        self._next_trust = np.where(others, new, self.trust)

    def commit_trust(self) -> None:
        self.trust = self._next_trust

    def assess_satisfaction(self, benefit, equity, values, mean_trust, maturity) -> None:
        """Weigh the partnership: benefits against expectation, fairness, vision, values,
        trust, and control handed over (002: the five shareds)."""
        p = self.model.inputs
        self.equity = float(equity[self.slot])
        self.fairness = float(1.0 - rules.inequity(self.equity, p.params))
        vision = self.model._alignment_by_partner[self.slot]
        lost = rules.control_lost(self.control_concern, maturity, p.lead_share[self.slot])
        self.parts = rules.satisfaction_parts(benefit, self.fairness, vision, values[self.slot],
                                              mean_trust[self.slot], lost, p.params)
        self.satisfaction = float(rules.satisfaction(self.parts, p.params))

    def consider_exit(self) -> None:
        """Count dissatisfied reviews; once patience runs out and staying is worth less than
        going it alone net of the exit penalty, give notice. Notice, once given, stands."""
        p = self.model.inputs
        self.dissatisfied = int(rules.dissatisfied_count(
            self.dissatisfied, self.satisfaction >= p.params.outside_option))
        if self.on_notice:
            self.notice_left -= 1
        elif rules.gives_notice(self.satisfaction, self.dissatisfied, self.patience,
                                p.exit_penalty, p.params):
            self.on_notice = True
            self.notice_left = p.notice_cycles
            self.exit_reason = rules.SATISFACTION_PARTS[int(np.argmax(self.parts))]
        self.leaving = self.on_notice and self.notice_left <= 0

    # --- what the model does to a partner ------------------------------------------------

    def leave(self, cycle: int, reason: str | None = None) -> None:
        """Leave the partnership for good."""
        self.active = False
        self.leaving = False
        self.on_notice = False
        self.exited_at = cycle
        if reason is not None:
            self.exit_reason = reason

    @property
    def net_money(self) -> float:
        """What the partnership has been worth to it so far, £m."""
        return self.received - self.paid + self.penalties_received - self.penalties_paid
