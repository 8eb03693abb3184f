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

    # --- delivery and trust (001: 'be trustworthy yourself', 'be clear') ---------------------
    promise: float = _p(
        0.45, 0.05, 1,
        "Effort partners promise when they sign: what an average day-job team (resourcing "
        "0.3, commitment 0.7) can give. Delivery is judged against it.",
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
    trust_gain: float = _p(
        0.15, 0, 1, "Share of the gap to full trust closed by a fully kept promise in one review."
    )
    trust_loss: float = _p(
        0.35, 0, 1,
        "Share of trust lost after a fully broken promise in one review; larger than trust_gain "
        "so trust is slow to build and quick to lose (Slovic 1993).",
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
        0.2, 0.01, 1,
        "Programme capacity (delivery x skill factor x decision drive) that a business case "
        "assumes when it sets the ramp-up time; a team with more or less capacity beats or "
        "misses the plan. The model's one calibrated constant: fitted so the `typical` scenario "
        "delivers in 30-50% of runs; every other check in docs/VALIDATION.md is out of sample.",
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

    # --- exit (Phelan, Arend & Seale 2005) ----------------------------------------------------
    outside_option: float = _p(
        0.6, 0, 1,
        "Satisfaction a partner expects from going it alone: a partnership that scores 60% on "
        "every count is worth no more. Below it a review counts as dissatisfied, and after "
        "patience runs out the partner considers leaving.",
    )
    exit_deterrence: float = _p(
        1.0, 0, 100,
        "Satisfaction a partner needs to lose, per unit of exit penalty (as a share of its "
        "annual cost base), before the penalty stops holding it in.",
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
