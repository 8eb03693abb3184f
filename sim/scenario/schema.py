"""The scenario file format: a proposed partnership and the charter its partners mean to sign.

This schema *is* the documentation of the YAML format (docs/SCENARIOS.md is generated from the
same descriptions). Every number that a planner is unsure of may be a distribution
(see sim.scenario.distributions); it is sampled afresh in each replication. Unknown keys are
errors, so
a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Annotated, Literal, Optional, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      ValidationError, field_validator, model_validator)

from sim.scenario.distributions import is_uncertain, uncertain
from sim.scenario.parameters import ModelParameters

#: The nine primary benefits of shared services (001, "Benefits of Shared Services").
BENEFITS: tuple[str, ...] = (
    "continuity",       # 1. continuity and resilience of service
    "quality",          # 2. raising quality and adding value to existing services
    "savings",          # 3. securing cost savings and sustainable efficiencies
    "staff_time",       # 4. releasing staff time for more customer facing activities
    "scalability",      # 5. improving systems scalability
    "modern_systems",   # 6. ensuring improved and more 'current' systems
    "new_services",     # 7. otherwise unsustainable services, such as strategy and transformation
    "transformation",   # 8. leveraging transformation
    "collaboration",    # 9. collaboration
)
Benefit = Literal[
    "continuity", "quality", "savings", "staff_time", "scalability",
    "modern_systems", "new_services", "transformation", "collaboration",
]

Unit = uncertain(0.0, 1.0)
#: `target_net_savings_m: plan`: the target is what each replication's own plan projects.
PLAN = "plan"

#: Partner traits in schema order (each may be uncertain; priorities are separate).
TRAITS = (
    "size", "ambition", "resourcing", "skills", "trustworthiness", "trust_propensity",
    "commitment", "volatility", "control_concern", "patience",
)
Trait = Literal[TRAITS]

#: What no name or description may hold: control characters (C0, DEL, C1), which a terminal
#: would obey (ESC sequences set its title or clear the screen), and the invisible bidirectional
#: overrides that make text read differently from what it is. Descriptions may hold line breaks
#: and tabs.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: Shock targets with a meaning of their own, so no partner may be called them.
RESERVED_NAMES = ("all", "any")
#: The largest posterior a scenario's `behaviour:` may carry (particles, columns).
MAX_PARTICLES = 100_000
MAX_POSTERIOR_COLUMNS = 1_000


def _no_controls(value: str, allowed: str = "") -> str:
    for char in CONTROL.findall(value):
        if char not in allowed:
            raise ValueError(f"contains a control character (U+{ord(char):04X}); only plain, "
                             "printable text is allowed")
    return value


def _plain_name(value: str) -> str:
    _no_controls(value)
    if not value.strip():
        raise ValueError("is blank; give a name with at least one visible character")
    return value


def _partner_name(value: str) -> str:
    _plain_name(value)
    if value.strip().lower() in RESERVED_NAMES:
        raise ValueError(f"{value.strip()!r} is reserved: a shock aimed at 'all' hits every "
                         "partner and one aimed at 'any' a random one; give this partner "
                         "another name")
    return value


def _no_yes_no_or_text(kind: str):
    """A before-validator: yes/no and text are not numbers (YAML 1.1 would have read `yes` as 1
    and `1:30` as 90; pydantic would have taken true as 1 and "7" as 7). `kind` names what the
    field should be ("an integer", "a number")."""
    def check(value):
        if isinstance(value, bool):
            raise ValueError(f"should be {kind}, got {str(value).lower()} (a yes/no value)")
        if isinstance(value, str):
            raise ValueError(f"should be {kind}, got text {value!r}")
        return value
    return check


whole_number = _no_yes_no_or_text("an integer")


Name = Annotated[str, AfterValidator(_plain_name)]
PartnerName = Annotated[str, AfterValidator(_partner_name)]
Text = Annotated[str, AfterValidator(lambda v: _no_controls(v, allowed="\n\t"))]
Count = Annotated[int, BeforeValidator(whole_number)]


def _can_be_zero(weight) -> bool:
    """Whether a weight (a number or a distribution) is zero in some runs."""
    if not is_uncertain(weight):
        return weight == 0
    low, high = weight.bounds()
    return high == 0 or 0.0 in getattr(weight, "one_of", ())


def _some_weight(weights):
    """A weight map with nothing to weigh would be replaced by equal weights in the model:
    refuse it instead, so a planner's zeros are never silently read as 'all equal'."""
    if weights is None:
        return weights
    if not weights:
        raise ValueError("is empty; give at least one benefit a positive weight")
    if all(_can_be_zero(w) for w in weights.values()):
        raise ValueError("every weight is zero (or can be zero in the same run); give at "
                         "least one benefit a positive weight")
    return weights


def _numbers_only(values):
    """Model parameters are numbers: refuse yes/no values and text before pydantic would
    read true as 1.0 or "0.3" as 0.3."""
    if isinstance(values, dict):
        for key, value in values.items():
            if isinstance(value, (bool, str)):
                shown = str(value).lower() if isinstance(value, bool) else f"text {value!r}"
                raise FieldError((key,), f"should be a number, got {shown}")
    return values

SHOCK_KINDS = (
    "leadership_change", "budget_cut", "staff_loss", "supplier_failure", "partner_exit", "lapse",
    "partner_join",
)
ShockKind = Literal[SHOCK_KINDS]
#: Shocks whose magnitude is the chance that the event goes ahead when the shock strikes.
CHANCE_SHOCKS = ("partner_exit", "lapse", "partner_join")
#: What `magnitude` means when a shock specification leaves it out.
DEFAULT_MAGNITUDE = {
    "leadership_change": 0.3, "budget_cut": 0.3, "staff_loss": 0.3,
    "supplier_failure": 0.2, "partner_exit": 1.0, "lapse": 1.0, "partner_join": 1.0,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartnerTraits(_Strict):
    """What an organisation brings to the partnership. Traits are in [0, 1] unless noted."""

    size: uncertain(0.01, 100_000.0) = Field(
        description="Annual in-scope cost base, £m: what it could save, and its share of costs."
    )
    ambition: Unit = Field(
        0.5,
        description="Leadership ambition to drive through hard decisions: redundancies, "
        "relocations, culture change (000).",
    )
    resourcing: Unit = Field(
        0.3,
        description="Share of its programme effort that is dedicated rather than added to "
        "managers' day jobs (000). 0 = entirely day-job.",
    )
    skills: Unit = Field(
        0.3,
        description="Share of its team trained in collaboration / shared-service practice (000).",
    )
    trustworthiness: Unit = Field(
        0.7, description="How fully it follows through on what it promised (001)."
    )
    trust_propensity: Unit = Field(
        0.5, description="Openness to trusting others: the trust it extends at the start (001)."
    )
    commitment: Unit = Field(
        0.7,
        description="Engagement with the programme; also the chance per review that a lapsed "
        "partner re-engages (001).",
    )
    volatility: Unit = Field(
        0.1,
        description="Chance per review that its interest lapses: the 'hokey-cokey partner' (001).",
    )
    control_concern: Unit = Field(
        0.5,
        description="Worry about losing local control, data stored elsewhere, relying on a "
        "third party (001).",
    )
    patience: uncertain(0.0, 100.0) = Field(
        3.0,
        description="How many reviews of experience it weighs before acting on it: its appraisal "
        "of the partnership moves 1 / (1 + patience) of the way to each review's satisfaction.",
    )
    priorities: Optional[dict[Benefit, uncertain(0.0, 1e6)]] = Field(
        None,
        description="Its own weights over the nine benefits (001): its reasons for entering. "
        "Normalised; omitted means it shares the charter's vision exactly.",
    )

    @field_validator("priorities")
    @classmethod
    def _weights(cls, weights):
        return _some_weight(weights)


class Partner(PartnerTraits):
    """A named partner organisation."""

    name: PartnerName = Field(min_length=1, max_length=80,
                              description="Unique name of the organisation ('all' and 'any' "
                              "are reserved for shocks).")
    joins_at: Optional[Count] = Field(
        0, ge=0, le=10_000,
        description="Review cycle at which it joins (0 = founding partner); null = a prospective "
        "partner that joins only if a `partner_join` shock brings it in.",
    )


class Population(_Strict):
    """Partners generated from distributions: each replication draws each partner's traits."""

    count: Count = Field(ge=2, le=1000, description="Number of partners.")
    name_prefix: Name = Field(
        "Partner", min_length=1, max_length=60, description="Partners are named 'PREFIX 1', ..."
    )
    traits: PartnerTraits = Field(description="Trait values or distributions for every partner.")


def _plan_or_number(value):
    """`plan`, or a number or distribution: a misspelt word gets one plain message."""
    if isinstance(value, str) and value != PLAN:
        raise ValueError(f"a number of £m, a distribution, or `plan` (the business case's own "
                         f"projection), got {value!r}")
    return value


class BusinessCase(_Strict):
    """'What good looks like': the quantified target the partners agree (001 step 3)."""

    _target = field_validator("target_net_savings_m", mode="before")(_plan_or_number)

    target_net_savings_m: Union[Literal["plan"], uncertain(1e-6, 1e7)] = Field(
        PLAN,
        description="Cumulative net savings (£m) by the horizon that counts as delivering; or "
        "`plan` (the default): what the business case's own plan projects in each replication "
        "from what the planners know when they sign (each partner's cost base, who joins when, "
        "the charter) and the point estimates of what they cannot know (savings potential, "
        "implementation and programme costs, ramp-up), with every partner delivering its "
        "promise and staying.",
    )
    savings_potential: Unit = Field(
        0.15,
        description="Share of the combined in-scope cost base saved each year at full maturity.",
    )
    implementation_cost_m: uncertain(0.0, 1e7) = Field(
        0.0, description="One-off cost (£m) of implementing the whole programme."
    )
    ramp_up_cycles: uncertain(1.0, 200.0) = Field(
        4.0, description="Planned reviews to full maturity if everything goes to plan."
    )


class Penalties(_Strict):
    """What happens if a party doesn't deliver as promised (001 step 4)."""

    threshold: Unit = Field(
        0.7, description="Delivery (share of the promise) below which a partner is in breach."
    )
    rate: uncertain(0.0, 10.0) = Field(
        0.0,
        description="Penalty per unit of shortfall, as a share of the partner's half-year "
        "cost base.",
    )
    call_out: Unit = Field(
        0.0,
        description="Chance per review that a breach is called out and penalised "
        "('abuses are called out quickly', 001).",
    )


class ExitTerms(_Strict):
    """The penalties if a party decided to leave the arrangement (001 step 4)."""

    penalty: uncertain(0.0, 10.0) = Field(
        0.0, description="Exit penalty as a share of the leaver's annual cost base."
    )
    notice_cycles: Count = Field(0, ge=0, le=100, description="Reviews of notice before leaving.")


class ProgrammeTeam(_Strict):
    """A dedicated, trained programme team, and what it costs (000)."""

    dedicated: Unit = Field(
        0.0,
        description="Share of programme effort from a dedicated team; lifts every partner's "
        "resourcing towards 1.",
    )
    training: Unit = Field(
        0.0, description="Share of practitioners trained; lifts every partner's skills towards 1."
    )
    team_cost_m: uncertain(0.0, 1e6) = Field(
        0.0, description="Annual cost (£m) of a fully dedicated team; scaled by `dedicated`."
    )
    training_cost_m: uncertain(0.0, 1e6) = Field(
        0.0, description="Annual cost (£m) of training everyone; scaled by `training`."
    )


class Service(_Strict):
    """A shared service and the partner that leads it (001 step 4)."""

    name: Name = Field(min_length=1, max_length=80, description="Name of the service.")
    lead: Name = Field(description="Name of the partner that leads (and keeps control of) it.")


class Charter(_Strict):
    """The relationship charter / Target Operating Model the partners mean to sign (001, 002)."""

    vision: dict[Benefit, uncertain(0.0, 1e6)] = Field(
        default_factory=lambda: {b: 1.0 for b in BENEFITS},
        description="Agreed weights over the nine benefits: the shared vision (normalised).",
    )
    business_case: BusinessCase
    decision_rule: Literal["unanimity", "majority", "lead_partner"] = Field(
        "unanimity", description="How the hard decisions are taken."
    )
    cost_sharing: Literal["equal", "by_size"] = Field(
        "by_size", description="How programme costs are split."
    )
    benefit_sharing: Literal["equal", "by_size", "by_contribution"] = Field(
        "by_size",
        description="How savings are split; by_contribution follows effort given so far.",
    )
    penalties: Penalties = Field(default_factory=Penalties)
    exit: ExitTerms = Field(default_factory=ExitTerms)
    programme_team: ProgrammeTeam = Field(default_factory=ProgrammeTeam)
    consensus: Unit = Field(
        0.0,
        description="How fully every party has bought in before signing (001 step 5); "
        "raises the trust partners start with.",
    )
    services: list[Service] = Field(
        default_factory=list, max_length=100, description="Shared services and their leads."
    )

    @field_validator("vision")
    @classmethod
    def _weights(cls, weights):
        return _some_weight(weights)


class Shock(_Strict):
    """Something that happens to the partnership: scheduled (at_cycle) or random (rate)."""

    kind: ShockKind = Field(description="What happens; see docs/ODD.md for each effect.")
    partner: Name = Field(
        "any",
        description="Who it hits: a partner's name, 'all', or 'any' (one active partner at "
        "random). A partner_join shock picks among the partners not yet in.",
    )
    at_cycle: Optional[Count] = Field(None, ge=1, le=10_000,
                                      description="Review it happens at.")
    rate: Optional[Unit] = Field(None, description="Chance per review that it happens.")
    magnitude: Optional[Unit] = Field(
        None, description="Size of the effect; each kind has a default (docs/ODD.md)."
    )

    @model_validator(mode="after")
    def _one_timing(self) -> "Shock":
        if (self.at_cycle is None) == (self.rate is None):
            raise ValueError("give exactly one of at_cycle (scheduled) or rate (random)")
        return self


class PatternRate(_Strict):
    """One pattern of the register a posterior was calibrated to, and how often the posterior's
    draws reproduce it (the calibration's patterns table)."""

    name: Text = Field(max_length=500, description="The pattern's name in its register.")
    role: Literal["calibrate", "validate"] = Field(description="What the pattern was used for.")
    pass_rate: float = Field(ge=0.0, le=1.0, description="Share of posterior-predictive draws "
                             "that reproduce it.")


class Particles(_Strict):
    """A calibration's posterior, as loaded: one row of values per particle, and its weight."""

    folder: Text = Field(max_length=4096, description="The calibration results folder read.")
    sha256: str = Field(max_length=64, description="sha256 of its posterior.parquet.")
    paths: list[str] = Field(min_length=1, max_length=MAX_POSTERIOR_COLUMNS,
                             description="The field path of each column.")
    values: list[list[float]] = Field(min_length=1, max_length=MAX_PARTICLES,
                                      description="Each particle's value of each path.")
    weights: list[float] = Field(min_length=1, max_length=MAX_PARTICLES,
                                 description="Each particle's weight (finite and positive).")
    patterns: list[PatternRate] = Field(default_factory=list, max_length=10_000,
                                        description="The calibration's pass rates.")

    @model_validator(mode="after")
    def _table(self) -> "Particles":
        if len(set(self.paths)) < len(self.paths):
            raise ValueError("a column is given twice")
        if len(self.values) != len(self.weights):
            raise ValueError(f"{len(self.values)} particles but {len(self.weights)} weights")
        for i, row in enumerate(self.values):
            if len(row) != len(self.paths):
                raise ValueError(f"particle {i} has {len(row)} values for {len(self.paths)} "
                                 "columns")
            if not all(math.isfinite(v) for v in row):
                raise ValueError(f"particle {i} has a value that is not finite")
        bad = [i for i, w in enumerate(self.weights) if not (math.isfinite(w) and w > 0)]
        if bad:
            raise ValueError(f"weights must be finite and positive; particle {bad[0]}'s is "
                             f"{self.weights[bad[0]]!r}")
        return self


class Behaviour(_Strict):
    """Where the model's behavioural constants come from, when not from `parameters:`."""

    posterior: Text = Field(
        min_length=1, max_length=4096,
        description="A calibration results folder (written by `collabsim calibrate`), relative "
        "to the scenario file's folder or absolute. Each replication draws one of its "
        "posterior's particles, by weight, from a random stream of its own, and runs with that "
        "particle's values (docs/PATTERNS.md, 'Running with the calibrated behaviour').")
    particles: Optional[Particles] = Field(
        None,
        description="Filled in from the folder when the scenario is loaded (a file gives only "
        "`posterior`); a scenario that carries it runs without the folder.")


class Scenario(_Strict):
    """A proposed partnership: who, on what terms, for how long, and what may go wrong."""

    #: One value, not a collection of (field, value) pairs as pydantic models iterate: so that
    #: mesa.batch_run, which sweeps over any iterable parameter, takes a Scenario as it is.
    __iter__ = None

    name: Name = Field(min_length=1, max_length=200, description="Short title of the scenario.")
    description: Text = Field("", max_length=20_000,
                              description="What situation it stands for.")
    horizon: Count = Field(10, ge=1, le=400, description="Six-month review cycles simulated.")
    seed: Count = Field(0, ge=0, le=2**63 - 1, description="Default root seed for Monte Carlo.")
    partners: Optional[list[Partner]] = Field(
        None, max_length=1000, description="The partner organisations (or give `population`).")
    population: Optional[Population] = Field(
        None, description="Partners drawn from distributions (instead of `partners`).")
    charter: Charter = Field(description="The relationship charter the partners mean to sign.")
    partner_similarity: Union[float, dict[str, float]] = Field(
        0.0,
        description="How alike the partners of one partnership are: for each trait, the share "
        "of its variation that is common to the whole partnership (same region, sector and "
        "funding regime, one programme), from 0 (each partner drawn on its own) to 1 (all at "
        "the same quantile). A number for every trait, or a mapping trait -> share. Each "
        "partner keeps its own distribution; only their dependence changes (a Gaussian "
        "copula). Applies to traits that are uncertain for at least two partners.",
    )
    shocks: list[Shock] = Field(default_factory=list, max_length=1000,
                                description="What may happen to the partnership.")
    parameters: Annotated[ModelParameters, BeforeValidator(_numbers_only)] = Field(
        default_factory=ModelParameters,
        description="Behavioural constants of the model (advanced; see below).")
    behaviour: Optional[Behaviour] = Field(
        None,
        description="Draw the behavioural constants from a calibration's posterior: "
        "`{posterior: PATH}` (see [Behaviour](#behaviour)). Its columns override `parameters:`.")

    @field_validator("partner_similarity", mode="before")
    @classmethod
    def _share(cls, v):
        if isinstance(v, dict):
            for trait in v:
                if trait not in TRAITS:
                    raise ValueError(f"unknown trait {trait!r}{suggest(str(trait), TRAITS)}; "
                                     f"traits: {', '.join(TRAITS)}")
        shares = v.values() if isinstance(v, dict) else [v]
        for share in shares:
            if isinstance(share, bool) or not isinstance(share, (int, float)) \
                    or not 0.0 <= share <= 1.0:
                raise ValueError(f"a share between 0 and 1 (or a mapping trait -> share), "
                                 f"got {share!r}")
        return v

    def similarity(self, trait: str) -> float:
        """The share of `trait`'s variation common to the whole partnership."""
        v = self.partner_similarity
        return float(v.get(trait, 0.0) if isinstance(v, dict) else v)

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        if (self.partners is None) == (self.population is None):
            raise ValueError("give exactly one of `partners` (a list) or `population`")
        names = self.partner_names()
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                raise FieldError(("partners", i, "name"), f"duplicate partner name {name!r}")
            seen.add(name)
        founders = 0
        if self.partners is not None:
            for i, p in enumerate(self.partners):
                if p.joins_at is not None and p.joins_at > self.horizon:
                    raise FieldError(
                        ("partners", i, "joins_at"),
                        f"{p.joins_at} is after the horizon ({self.horizon})",
                    )
                founders += p.joins_at == 0
        else:
            founders = self.population.count
        if founders < 2:
            raise FieldError(("partners",), "a partnership needs at least two founding partners")
        for i, service in enumerate(self.charter.services):
            if service.lead not in seen:
                raise FieldError(
                    ("charter", "services", i, "lead"),
                    f"unknown partner {service.lead!r}{suggest(service.lead, names)}",
                )
        if self.charter.decision_rule == "lead_partner" and not self.charter.services:
            raise FieldError(
                ("charter", "decision_rule"),
                "lead_partner needs charter.services naming a lead for each service",
            )
        for i, shock in enumerate(self.shocks):
            if shock.partner not in ("all", "any") and shock.partner not in seen:
                raise FieldError(
                    ("shocks", i, "partner"),
                    f"unknown partner {shock.partner!r}{suggest(shock.partner, names)}; "
                    "use a partner's name, 'all' or 'any'",
                )
            if shock.kind == "partner_join":
                _check_join(self, i, shock)
            if shock.at_cycle is not None and shock.at_cycle > self.horizon:
                raise FieldError(
                    ("shocks", i, "at_cycle"),
                    f"{shock.at_cycle} is after the horizon ({self.horizon})",
                )
        if self.behaviour is not None and self.behaviour.particles is not None:
            _check_posterior_columns(self)
        return self

    def with_values(self, values: dict, source: Optional[str] = None) -> "Scenario":
        """A copy with fields set by path, e.g. `{"partners.*.ambition": 0.5,
        "charter.decision_rule": "majority"}`, validated as a scenario file is
        (sim.scenario.fields)."""
        from sim.scenario.fields import with_values

        return with_values(self, values, source)

    def value_of(self, path: str):
        """The value of the field at `path` (sim.scenario.fields), e.g.
        `"charter.exit.penalty"`."""
        from sim.scenario.fields import value_of

        return value_of(self, path)

    def partner_names(self) -> list[str]:
        if self.partners is not None:
            return [p.name for p in self.partners]
        pop = self.population
        return [f"{pop.name_prefix} {i + 1}" for i in range(pop.count)]

    def partner_specs(self) -> list[Partner]:
        """Every partner, with population partners expanded (traits still possibly uncertain)."""
        if self.partners is not None:
            return list(self.partners)
        traits = self.population.traits.model_dump()
        return [Partner(name=n, **traits) for n in self.partner_names()]


def _check_join(scenario: Scenario, i: int, shock: Shock) -> None:
    """A join needs someone to join: a partner with a later `joins_at`, or a prospective one."""
    later = [p.name for p in scenario.partners or [] if p.joins_at != 0]
    if shock.partner in ("all", "any"):
        if not later:
            raise FieldError(("shocks", i, "kind"),
                              "partner_join needs a partner that is not a founder: give one "
                              "`joins_at: null` (prospective) or a later `joins_at`")
    elif shock.partner not in later:
        raise FieldError(("shocks", i, "partner"),
                          f"{shock.partner} is a founding partner and cannot join; give it "
                          "`joins_at: null` (prospective) or a later `joins_at`")


def _check_posterior_columns(scenario: Scenario) -> None:
    """A posterior's columns must be number fields of the scenario that it gives as plain
    numbers: a particle replaces the value, and changes no random number (an uncertain input,
    or a partner_similarity that decides which inputs are drawn, would)."""
    from sim.scenario.fields import field_of
    from sim.scenario.loading import ScenarioError

    loc = ("behaviour", "posterior")
    for path in scenario.behaviour.particles.paths:
        try:
            field = field_of(scenario, path)
        except ScenarioError as exc:
            raise FieldError(loc, f"column {exc.problems[0]}") from None
        if field.kind != "number" or path.startswith("partner_similarity"):
            what = f"a {field.kind}" if field.kind != "number" else "how alike partners are drawn"
            raise FieldError(loc, f"column {path}: {what}; a posterior may set only the "
                              "model's numbers")
        values = scenario.value_of(path)
        if any(is_uncertain(v) for v in (values if isinstance(values, list) else [values])):
            raise FieldError(loc, f"column {path}: a distribution in this scenario; give it "
                              "a number to let the posterior set it")
    _check_particle_values(scenario)


def _check_particle_values(scenario: Scenario) -> None:
    """Every particle's values must be values the scenario takes: the model's constants are
    checked particle by particle (their own rules relate some of them), any other number at
    each column's least and greatest value (its range is all that limits it)."""

    from sim.scenario.loading import ScenarioError

    particles = scenario.behaviour.particles
    loc = ("behaviour", "posterior")
    constants = [(i, p.split(".", 1)[1]) for i, p in enumerate(particles.paths)
                 if p.startswith("parameters.")]
    if constants:
        own = scenario.parameters.model_dump()
        for k, row in enumerate(particles.values):
            try:
                ModelParameters(**{**own, **{name: row[i] for i, name in constants}})
            except ValidationError as exc:
                err = exc.errors(include_url=False)[0]
                where = ".".join(map(str, err["loc"])) or "parameters"
                raise FieldError(loc, f"particle {k}: parameters.{where}: "
                                  f"{err['msg'].replace('Value error, ', '')}") from None
    others = [i for i, p in enumerate(particles.paths) if not p.startswith("parameters.")]
    if others:
        plain = scenario.model_copy(update={"behaviour": None})
        table = list(zip(*particles.values))
        for pick in (min, max):
            try:
                plain.with_values({particles.paths[i]: pick(table[i]) for i in others})
            except ScenarioError as exc:
                raise FieldError(loc, f"a particle's {exc.problems[0]}") from None


class FieldError(ValueError):
    """A cross-field problem that knows which field it belongs to."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message


def suggest(word: str, options) -> str:

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


#: The number check that refuses yes/no and text, for schemas that follow this one (the pattern
#: register, sim.analysis.patterns.schema, also uses FieldError, suggest and whole_number).
plain_number = _no_yes_no_or_text("a number")
