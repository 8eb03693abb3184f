"""The model's behavioural constants, in one place, each with its reason.

These are not properties of a partnership (those live in the scenario's partners and charter)
but of how organisations behave in one: how fast trust is lost compared with how fast it is
built, how much a day-job team still gets done. A scenario may override any of them under
`parameters:` (for sensitivity analysis of the model itself); the defaults are the calibrated
values recorded in docs/VALIDATION.md and explained in docs/ODD.md.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


def _p(default: float, low: float, high: float, why: str):
    return Field(default, ge=low, le=high, description=why)


class ModelParameters(BaseModel):
    """Behavioural constants shared by every partner (see docs/ODD.md, 'Details')."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- effort (000: under-resourced, added to managers' day jobs) -------------------------
    day_job_effort: float = _p(
        0.35, 0, 1,
        "Effort a partner with no dedicated resourcing still gives (resourcing = 0); "
        "the rest scales with resourcing (000: projects 'added to managers' day jobs').",
    )
    commitment_floor: float = _p(
        0.5, 0, 1, "Effort multiplier at commitment 0; rises linearly to 1 at commitment 1."
    )
    lapsed_effort: float = _p(
        0.3, 0, 1,
        "Share of its effort a partner gives while its interest has lapsed "
        "(001: 'hokey-cokey partners who lose interest periodically').",
    )
    notice_effort: float = _p(
        0.5, 0, 1, "Share of its effort a partner gives while working out its exit notice."
    )
    protectionism: float = _p(
        0.6, 0, 1,
        "Largest share of effort withheld when trust in the others is zero "
        "(001: 'when trust is lacking there is a greater chance of protectionism').",
    )
    protection_trust: float = _p(
        0.5, 0.01, 1, "Mean trust below which a partner starts to withhold effort."
    )
    penalty_half_rate: float = _p(
        0.05, 1e-6, 10,
        "Penalty rate at which deterrence reaches half its maximum (Axelrod: a penalty with "
        "detection probability lowers the temptation to defect).",
    )

    # --- delivery, promises and trust (001: 'be trustworthy yourself', 'be clear') ------------
    promise: float = _p(
        0.45, 0.05, 1,
        "Effort each partner promises when it signs: what the business case needs from an "
        "average day-job team (resourcing 0.3, commitment 0.7). Re-baselined at every review.",
    )
    rebaseline: float = _p(
        0.5, 0, 1,
        "Share of the gap between a partner's promise and the effort it could actually give "
        "that each six-monthly review closes (001: 'review your plan of actions against the "
        "reality'); 0 holds partners to their signing promise for ever.",
    )
    delivery_noise: float = _p(
        0.1, 0, 1, "Standard deviation of a partner's follow-through around its trustworthiness."
    )
    misreading: float = _p(
        0.25, 0, 2,
        "Standard deviation of the error in reading another's delivery for a partner with no "
        "skills; scaled by (1 - skills) (001: 'always be clear to avoid misunderstandings').",
    )
    forgiveness: float = _p(
        0.2, 0, 0.95,
        "Shortfall from a promise that observers forgive: delivering (1 - forgiveness) of it "
        "counts as fully kept (generous tit-for-tat, Axelrod 1984: forgiving lets "
        "relationships recover from a misread delivery).",
    )
    trust_memory: float = _p(
        0.8, 0, 0.99,
        "Share of its evidence about a partner that an observer still weighs a review later "
        "(Beta reputation with forgetting, Josang & Ismail 2002): 0.8 halves the weight of a "
        "review's evidence in about three reviews, so trust can be rebuilt.",
    )
    broken_weight: float = _p(
        2.0, 1, 10,
        "Weight of a broken promise as evidence against a partner, relative to a kept one as "
        "evidence for it: above 1, trust is slow to build and quick to lose (Slovic 1993: "
        "negative events move trust more than positive ones).",
    )
    trust_prior_weight: float = _p(
        2.0, 0.1, 100,
        "Weight of a partner's initial trust (its base rate) against the evidence: Josang's "
        "non-informative prior weight W = 2.",
    )
    reciprocity: float = _p(
        0.1, 0, 1,
        "Pull of a partner's trust towards the trust the other shows it "
        "(001: 'make others aware that you trust them').",
    )
    consensus_trust: float = _p(
        0.3, 0, 1,
        "Share of the gap to full initial trust closed by a charter with full consensus "
        "(001 step 5: 'this open, honest and inclusive approach builds trust').",
    )

    # --- hard decisions and programme maturity (000: leadership ambition) --------------------
    control_resistance: float = _p(
        0.6, 0, 1,
        "How strongly worry about losing control blocks a partner's agreement to hard decisions "
        "when it does not trust the others (001: 'reluctance to share control').",
    )
    misalignment_drag: float = _p(
        0.5, 0, 1,
        "How far a partner's effort and agreement to hard decisions fall when its priorities "
        "share nothing with the charter's vision (001: misaligned partners 'pull in different directions'; "
        "002: without a shared vision 'there will be constant struggles and fighting').",
    )
    routine_progress: float = _p(
        0.5, 0, 1,
        "Share of the programme that moves without any hard decision (the uncontroversial parts).",
    )
    skills_floor: float = _p(
        0.6, 0, 1,
        "Programme capacity of a wholly untrained team relative to a fully skilled one "
        "(000: teams 'untrained in key collaboration and shared service skills').",
    )

    planned_capacity: float = _p(
        0.0893, 0.01, 1,
        "Programme capacity (delivered effort x skill factor x decision drive) that a business "
        "case assumes when it sets the ramp-up time and the savings of a running service; a "
        "team with more or less capacity beats or misses the plan. The model's one fitted "
        "constant: `python -m sim.analysis.validation --fit --replications 4000` sets it so that "
        "`typical` delivers in 40% of runs (the centre of the 30-50% band); docs/VALIDATION.md "
        "says which other constants were chosen with a target in view.",
    )

    time_related_cost: float = _p(
        0.5, 0, 1,
        "Share of the implementation budget that is the cost of running the programme "
        "(programme office, consultants, double running) over the planned ramp-up, paid every "
        "review until the service is built: a late programme costs more (cost overruns follow "
        "schedule overruns).",
    )
    run_dependence: float = _p(
        1.0, 0, 1,
        "How much a built service's savings depend on how well each review runs it (staffing, "
        "quality, continuity, current systems: 001's benefits): run at the capacity the plan "
        "assumed it realises the planned savings, and this share of them moves in proportion "
        "to the capacity it is run with; the rest stays whatever the partners do.",
    )
    run_ceiling: float = _p(
        1.1, 1, 10,
        "Most a review can realise, as a multiple of the planned savings, however well the "
        "service is run: a better-run service finds some savings the plan missed, but cannot "
        "save money the cost base does not hold.",
    )

    # --- satisfaction (002: the five shareds; 001: control, data, third parties) -------------
    weight_benefit: float = _p(0.3, 0, 1, "Weight of benefits against expectation in satisfaction.")
    weight_fairness: float = _p(0.2, 0, 1, "Weight of fairness (shared risk, resources, rewards).")
    weight_vision: float = _p(0.15, 0, 1, "Weight of shared vision (own priorities vs charter).")
    weight_values: float = _p(0.1, 0, 1, "Weight of shared values (closeness of cultures).")
    weight_trust: float = _p(0.25, 0, 1, "Weight of trust in the other partners.")
    weight_control: float = _p(
        0.2, 0, 1, "Weight of control lost, for a partner fully concerned about control."
    )
    inequity_disadvantage: float = _p(
        1.0, 0, 10, "Fehr-Schmidt alpha: displeasure per unit of getting less than one's input."
    )
    inequity_advantage: float = _p(
        0.25, 0, 10, "Fehr-Schmidt beta: displeasure per unit of getting more than one's input."
    )

    shortfall_tolerance: float = _p(
        2.0, 0.1, 100,
        "Years of the savings its own cost base was planned to yield that a partner can fall "
        "behind its business-case plan before the benefit part of its satisfaction is wholly "
        "lost.",
    )

    # --- exit (Phelan, Arend & Seale 2005) ----------------------------------------------------
    signing_margin: float = _p(
        0.1, 0, 1,
        "How much better than going it alone a partner expected the partnership to be when it "
        "signed (in satisfaction units); leaving looks better once its appraisal has fallen "
        "this far, plus what leaving costs.",
    )
    exit_deterrence: float = _p(
        1.0, 0, 100,
        "Satisfaction a partner needs to lose, per unit of exit penalty (as a share of its "
        "annual cost base), before the penalty stops holding it in.",
    )
    integration_lock_in: float = _p(
        0.1, 0, 1,
        "Satisfaction a partner would give up to unpick a fully built service (taking staff "
        "back, re-procuring systems): what has been invested holds it in, more as the service "
        "matures.",
    )
    exit_spread: float = _p(
        0.02, 0.001, 1,
        "Spread of the random part of an exit decision (logit; McFadden 1974): the chance of "
        "giving notice at a review is logistic(margin / exit_spread), 50% when leaving and "
        "staying look equally good.",
    )
    leadership_ambition_low: float = _p(
        0.1, 0, 1, "Lowest ambition of a new leadership after political turnover."
    )
    leadership_ambition_high: float = _p(
        0.6, 0, 1,
        "Highest ambition of a new leadership after political turnover: it inherits a charter "
        "it did not sign, and the programme's champions left with the old leadership.",
    )

    @model_validator(mode="after")
    def _leadership_range_in_order(self) -> "ModelParameters":
        """A new leadership's ambition is drawn between the low and the high value."""
        if self.leadership_ambition_low > self.leadership_ambition_high:
            raise ValueError(
                f"leadership_ambition_low ({self.leadership_ambition_low:g}) must not exceed "
                f"leadership_ambition_high ({self.leadership_ambition_high:g})")
        return self
