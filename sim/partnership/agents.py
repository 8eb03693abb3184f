"""A partner organisation in a proposed partnership, as a Mesa agent.

Read the methods top to bottom: they are the partner's side of one six-month review, in the
order the model calls them. Each applies a rule from sim.partnership.rules to this partner's own
values;
the review is synchronous, so a partner only ever reads what the others did in an earlier phase
of the same review (or in the previous review), never what they are deciding now.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.partnership import rules


class PartnerOrganisation(mesa.Agent):
    """An organisation with traits (ambition, resourcing, skills, ...), a promise, evidence
    about each other partner's reliability, and an appraisal of what the partnership gives it.

    Args:
        model: the PartnershipModel it belongs to.
        slot: its index in the partnership's arrays (trust rows, noise).
        name: the organisation's name.
        traits: its sampled traits (see sim.scenario.schema.PartnerTraits).
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
        self.base_trust = float(rules.initial_trust(self.trust_propensity, p.consensus, p.params))
        self.kept_evidence = np.zeros(p.n)     # evidence about each partner, for and against
        self.broken_evidence = np.zeros(p.n)
        self._next_evidence = (self.kept_evidence, self.broken_evidence)
        self.promise = p.params.promise
        self.effort = 0.0
        self.delivered = 0.0
        self.kept = 0.0
        self.contributed = 0.0          # cumulative size-weighted delivered effort
        parts = len(rules.SATISFACTION_PARTS)
        self.expected = np.zeros(parts)  # satisfaction parts it expects when it signs
        self.appraisal = np.zeros(parts)  # its running appraisal of them
        self.parts = np.zeros(parts)
        self.satisfaction = 0.0
        self.appraisal_value = 0.0      # its appraisal as one figure (satisfaction, smoothed)
        self.leave_below = 0.0          # the appraisal below which leaving looks better
        self.fairness = 1.0
        self.equity = 1.0
        self.benefit = 1.0
        # money, £m, cumulative
        self.received = 0.0
        self.paid = 0.0
        self.penalties_paid = 0.0
        self.penalties_received = 0.0

    def __repr__(self) -> str:
        return f"<PartnerOrganisation {self.name!r} (slot {self.slot})>"

    def sign(self, expected) -> None:
        """Join with the satisfaction parts it expects (rules.expected_parts): its appraisal
        starts there."""
        p = self.model.inputs
        self.expected = np.array(expected, dtype=float)
        self.appraisal = self.expected.copy()
        self.parts = self.expected.copy()
        self.satisfaction = self.appraisal_value = float(rules.satisfaction(self.parts, p.params))
        self.leave_below = self.appraisal_value + float(rules.exit_margin(
            self.expected, self.appraisal, p.exit_penalty, self.model.maturity, p.params))

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
                                         self.model.alignment_by_partner[self.slot], p.params))

    def deliver(self, eps) -> None:
        """Deliver, as trustworthy as it is; judged against the promise it holds."""
        self.delivered = float(rules.delivered_effort(self.effort, self.trustworthiness,
                                                      eps[self.slot], self.model.inputs.params))
        self.kept = float(rules.promise_kept(self.delivered, self.promise))
        self.contributed += self.delivered * self.size

    def observe_partners(self, kept, active, eps) -> None:
        """Read what each other partner delivered of its promise (misreading less when
        skilled) and add it to the evidence about it; the new evidence takes effect when every
        partner has observed."""
        p = self.model.inputs
        skills = rules.effective_skills(self.skills, p.training)
        seen = rules.observed_delivery(kept, np.atleast_1d(skills), eps[self.slot][None, :],
                                       p.params)[0]
        kept_e, broken_e = rules.trust_evidence(self.kept_evidence, self.broken_evidence, seen,
                                                p.params)
        others = active & (np.arange(p.n) != self.slot)
        self._next_evidence = (np.where(others, kept_e, self.kept_evidence),
                               np.where(others, broken_e, self.broken_evidence))

    def commit_evidence(self) -> None:
        self.kept_evidence, self.broken_evidence = self._next_evidence

    def rebaseline_promise(self) -> None:
        """At the review, re-baseline what it promises for the next period against reality."""
        self.promise = float(rules.rebaselined_promise(self.promise, self.effort,
                                                       self.model.inputs.params))

    def assess_satisfaction(self, equity, values, mean_trust, maturity, cycle) -> None:
        """Weigh the partnership: what it gives this partner against its business-case plan,
        fairness, vision, values, trust, and control handed over (002: the five shareds)."""
        p = self.model.inputs
        self.equity = float(equity[self.slot])
        self.fairness = float(1.0 - rules.inequity(self.equity, p.params))
        self.benefit = float(rules.benefit_against_plan(
            p.planned_money[cycle, self.slot], self.net_money, self.size,
            p.plan_savings_potential, p.params))
        lost = rules.control_lost(self.control_concern, maturity, p.lead_share[self.slot])
        self.parts = rules.satisfaction_parts(
            self.benefit, self.fairness, self.model.alignment_by_partner[self.slot],
            values[self.slot], mean_trust[self.slot], lost, p.params)
        self.satisfaction = float(rules.satisfaction(self.parts, p.params))
        self.appraisal = rules.appraised(self.appraisal, self.parts, self.patience)
        self.appraisal_value = float(rules.satisfaction(self.appraisal, p.params))
        planned = rules.expected_as_planned(
            self.expected, self.control_concern, p.lead_share[self.slot],
            rules.planned_maturity(cycle, p.plan_ramp_up_cycles), p.params)
        self.expected = rules.appraised(self.expected, planned, self.patience)

    def consider_exit(self, u, maturity) -> None:
        """Weigh staying against going it alone, net of what leaving costs; give notice with
        the chance that margin gives. Notice, once given, stands."""
        p = self.model.inputs
        margin = float(rules.exit_margin(self.expected, self.appraisal, p.exit_penalty, maturity,
                                         p.params))
        self.leave_below = self.appraisal_value + margin
        if self.on_notice:
            self.notice_left -= 1
        else:
            if rules.gives_notice(margin, u[self.slot], p.params):
                self.on_notice = True
                self.notice_left = p.notice_cycles
                self.exit_reason = rules.SATISFACTION_PARTS[
                    int(rules.exit_reason(self.expected, self.appraisal))]
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
        return float(rules.net_money(self.received, self.paid, self.penalties_received,
                                     self.penalties_paid))
