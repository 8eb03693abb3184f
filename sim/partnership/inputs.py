"""One replication's concrete inputs: every uncertain number of a scenario, sampled.

Uncertain numbers are visited in a fixed order (partners in file order, their traits in schema
order, then the charter, then shocks) and each consumes the next uniform of the replication's
input block: the run's own stream for all but the shocks, each shock's own stream for its rate
and magnitude (sim.partnership.noise). `count_uncertain` tells the caller how many uniforms there
are,
`count_run_inputs` how many come from the run's own stream.

The business case is part of a replication's inputs: planners know each partner's cost base and
the charter when they sign, so the plan (and, with `target_net_savings_m: plan`, the target) is
projected per replication from those and from the point estimates of what is truly uncertain
(savings rate, implementation and programme costs, ramp-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from sim.partnership import noise
from sim.partnership.rules import TARGET_ALL, TARGET_ANY, planned_money
from sim.scenario.distributions import Uniform, is_uncertain
from sim.scenario.fields import CHARTER_NUMBERS
from sim.scenario.parameters import ModelParameters
from sim.scenario.schema import BENEFITS, DEFAULT_MAGNITUDE, PLAN, TRAITS, Scenario

#: joins_at of a prospective partner (`joins_at: null`): no review is ever that late.
NEVER = 2**31 - 1


@dataclass(frozen=True)
class ShockInputs:
    kind: str
    target: int          # partner index, TARGET_ALL or TARGET_ANY
    at_cycle: int        # scheduled cycle, or 0 for a random shock
    rate: float | np.ndarray       # chance per review for a random shock (0 if scheduled)
    magnitude: float | np.ndarray
    stream: tuple = ()   # spawn key of its own random stream (noise.shock_stream)


#: Fields sampled per replication (a float for one run, an [R] array for a batch): the
#: charter's numbers, named as in the table of sim.scenario.fields.
SCALARS = tuple(name for _, name in CHARTER_NUMBERS)


@dataclass(frozen=True)
class PartnershipInputs:
    """Concrete values for one run, or for a batch of R runs of the same scenario.

    For one run the SCALARS are floats, traits [n], priorities [n, 9] and vision [9]; for a
    batch every sampled field gains a leading replication axis ([R], [R, n], ...). The structure
    (names, joins, charter choices, shock kinds and targets) is the scenario's and is shared."""

    names: tuple[str, ...]
    traits: dict[str, np.ndarray]          # TRAITS -> [n] (batch: [R, n])
    priorities: np.ndarray                 # [n, 9] (batch: [R, n, 9])
    joins_at: np.ndarray                   # [n] int
    vision: np.ndarray                     # [9] (batch: [R, 9])
    target_net_savings_m: float
    savings_potential: float
    implementation_cost_m: float
    ramp_up_cycles: float
    decision_rule: str
    cost_sharing: str
    benefit_sharing: str
    penalty_threshold: float
    penalty_rate: float
    call_out: float
    exit_penalty: float
    notice_cycles: int
    dedicated: float
    training: float
    team_cost_m: float
    training_cost_m: float
    consensus: float
    service_leads: np.ndarray              # [services] int partner index
    lead_share: np.ndarray                 # [n] share of services each partner leads
    shocks: tuple[ShockInputs, ...]
    horizon: int
    #: each partner's planned cumulative net money, £m, [H + 1, n] (batch: [R, H + 1, n])
    planned_money: np.ndarray
    #: the point estimates the plan uses (savings potential, costs, ramp-up)
    plan_savings_potential: float
    plan_ramp_up_cycles: float
    #: the uncertain inputs (uncertain_paths) and their sampled values [k] (batch: [R, k])
    input_paths: tuple[str, ...]
    sampled: np.ndarray
    params: ModelParameters = field(default_factory=ModelParameters)

    @property
    def n(self) -> int:
        return len(self.names)

    def replication(self, k: int) -> "PartnershipInputs":
        """Replication k of a batch, as the inputs of one run."""
        return replace(
            self,
            traits={t: v[k] for t, v in self.traits.items()},
            priorities=self.priorities[k], vision=self.vision[k],
            planned_money=self.planned_money[k], sampled=self.sampled[k],
            shocks=tuple(replace(sh, rate=float(sh.rate[k]), magnitude=float(sh.magnitude[k]))
                         for sh in self.shocks),
            **{name: float(getattr(self, name)[k]) for name in SCALARS},
        )


class _Uniforms:
    """Hands out the columns of a [R, k] block of uniforms, one per uncertain input, and keeps
    the value each gave (uncertain_paths order)."""

    def __init__(self, u, fixed=()):
        self.u = u
        self.i = 0
        self.values: list[np.ndarray] = []
        #: inputs a design sets (their quantiles are the values wanted, never mixed by a copula)
        self.fixed = frozenset(int(c) for c in np.asarray(fixed).reshape(-1))

    def quantile(self) -> np.ndarray:
        """The next uniform, as a quantile (a partnership-wide component of a trait)."""
        q = self.u[:, self.i]
        self.i += 1
        self.values.append(q)
        return q

    def value(self, x, common=None, similarity: float = 0.0) -> np.ndarray:
        if not is_uncertain(x):
            return np.full(len(self.u), float(x))
        q = self.u[:, self.i]
        if common is not None and self.i not in self.fixed:
            q = correlated_quantile(q, common, similarity)
        self.i += 1
        v = np.asarray(x.ppf(q), dtype=float)
        self.values.append(v)
        return v


def correlated_quantile(own, common, similarity: float):
    """A partner's quantile of a trait when `similarity` of the trait's variation is common to
    the partnership (Gaussian copula with equicorrelation `similarity`): its own quantile mixed
    with the partnership's on the normal scale, so its marginal distribution is unchanged."""
    # scipy is imported here, not at the top: this module is on the path of refusing a bad
    # scenario, which must stay fast (docs/RELIABILITY.md), and only correlated traits need it
    from scipy.special import ndtr, ndtri

    eps = 1e-16
    z = np.sqrt(similarity) * ndtri(np.clip(common, eps, 1 - eps)) \
        + np.sqrt(1.0 - similarity) * ndtri(np.clip(own, eps, 1 - eps))
    return ndtr(z)


#: The partnership-wide component of a correlated trait, among the uncertain inputs: a quantile.
_COMMON = Uniform(uniform=(0.0, 1.0))


def correlated_traits(scenario: Scenario) -> list[str]:
    """Traits whose partners' draws share a partnership-wide component (partner_similarity),
    in TRAITS order: those with a positive similarity that at least two partners leave
    uncertain."""
    specs = scenario.partner_specs()
    return [t for t in TRAITS if scenario.similarity(t) > 0
            and sum(is_uncertain(getattr(p, t)) for p in specs) >= 2]


def uncertain_leaves(scenario: Scenario):
    """Every number of the scenario that may be uncertain, in the fixed sampling order."""
    for trait in correlated_traits(scenario):
        yield _COMMON
    for partner in scenario.partner_specs():
        for trait in TRAITS:
            yield getattr(partner, trait)
        if partner.priorities is not None:
            for b in BENEFITS:
                if b in partner.priorities:
                    yield partner.priorities[b]
    c = scenario.charter
    for b in BENEFITS:
        if b in c.vision:
            yield c.vision[b]
    for _, value in _charter_numbers(c):
        yield value
    for shock in scenario.shocks:
        yield from _shock_leaves(shock)


def _charter_numbers(charter):
    """(path under `charter`, value) of the charter's numbers, in sampling order (the table in
    sim.scenario.fields); a `plan` target is not a number and is left out."""
    for path, _ in CHARTER_NUMBERS:
        value = charter
        for part in path.split("."):
            value = getattr(value, part)
        if not (isinstance(value, str) and value == PLAN):
            yield path, value


def _shock_leaves(shock):
    """A shock's numbers that may be uncertain (drawn from the shock's own stream)."""
    if shock.rate is not None:
        yield shock.rate
    if shock.magnitude is not None:
        yield shock.magnitude


def shock_input_counts(scenario: Scenario) -> list[int]:
    """How many uncertain inputs each shock draws from its own stream."""
    return [sum(1 for leaf in _shock_leaves(s) if is_uncertain(leaf)) for s in scenario.shocks]


def count_run_inputs(scenario: Scenario) -> int:
    """How many uncertain inputs a replication draws from its own stream (all but shocks')."""
    return count_uncertain(scenario) - sum(shock_input_counts(scenario))


def shock_streams(scenario: Scenario) -> list[tuple]:
    """The spawn key of each shock's own stream, in scenario order (noise.shock_stream)."""
    seen: dict[tuple, int] = {}
    keys = []
    for shock in scenario.shocks:
        identity = (shock.kind, shock.partner)
        keys.append(noise.shock_stream(shock.kind, shock.partner, seen.get(identity, 0)))
        seen[identity] = seen.get(identity, 0) + 1
    return keys


#: The least target a plan can set (£m): a plan projecting a loss for some replication still
#: gives it a positive target, so that "% of the business case" stays defined.
MIN_TARGET = 1e-6


def point_estimate(value) -> float:
    """An input's point estimate: its value, or for an uncertain one the value at the mode of a
    three-point estimate (the median of other distributions): what a plan is drawn up with."""
    return float(value.ppf(value.central_u())) if is_uncertain(value) else float(value)


def central_uniforms(scenario: Scenario) -> np.ndarray:
    """Uniforms that give every uncertain input its point estimate (mode of a three-point
    estimate, median otherwise): the values a plan is drawn up with."""
    return np.array([leaf.central_u() for leaf in uncertain_leaves(scenario)
                     if is_uncertain(leaf)], dtype=float)


def count_uncertain(scenario: Scenario) -> int:
    return sum(1 for leaf in uncertain_leaves(scenario) if is_uncertain(leaf))


def uncertain_paths(scenario: Scenario) -> list[str]:
    """Human-readable names of the uncertain inputs, in sampling order (for tables). The
    partnership-wide quantile of a correlated trait is `partner_similarity.TRAIT`."""
    names = [f"partner_similarity.{t}" for t in correlated_traits(scenario)]
    for partner in scenario.partner_specs():
        for trait in TRAITS:
            if is_uncertain(getattr(partner, trait)):
                names.append(f"partners.{partner.name}.{trait}")
        for b in BENEFITS:
            if partner.priorities and b in partner.priorities and is_uncertain(partner.priorities[b]):
                names.append(f"partners.{partner.name}.priorities.{b}")
    c = scenario.charter
    for b in BENEFITS:
        if b in c.vision and is_uncertain(c.vision[b]):
            names.append(f"charter.vision.{b}")
    names += [f"charter.{path}" for path, value in _charter_numbers(c) if is_uncertain(value)]
    for i, s in enumerate(scenario.shocks):
        if s.rate is not None and is_uncertain(s.rate):
            names.append(f"shocks[{i}].rate")
        if s.magnitude is not None and is_uncertain(s.magnitude):
            names.append(f"shocks[{i}].magnitude")
    return names


def resolve(scenario: Scenario, uniforms: np.ndarray) -> PartnershipInputs:
    """Sample every uncertain number of `scenario` from `uniforms` (one per uncertain input)."""
    return resolve_batch(scenario, np.asarray(uniforms, dtype=float)[None, :]).replication(0)


def resolve_batch(scenario: Scenario, uniforms: np.ndarray, fixed=()) -> PartnershipInputs:
    """Sample R runs' inputs at once from `uniforms` [R, count_uncertain(scenario)]: row k gives
    exactly what resolve(scenario, uniforms[k]) gives. The inputs at positions `fixed` are set
    by a design: each takes its distribution's value at its own quantile, even for a trait the
    partners share through `partner_similarity` (the design says what the value is)."""
    u = _Uniforms(np.asarray(uniforms, dtype=float), fixed)
    R = len(u.u)
    specs = scenario.partner_specs()
    names = tuple(p.name for p in specs)
    index = {name: i for i, name in enumerate(names)}
    traits = {t: np.empty((R, len(specs))) for t in TRAITS}
    common = {t: u.quantile() for t in correlated_traits(scenario)}
    partner_w = []
    for i, partner in enumerate(specs):  # a partner's priorities follow its traits
        for t in TRAITS:
            traits[t][:, i] = u.value(getattr(partner, t), common.get(t), scenario.similarity(t))
        pr = partner.priorities
        partner_w.append(None if pr is None else np.stack(
            [u.value(pr[b]) if b in pr else np.zeros(R) for b in BENEFITS], axis=-1))
    c = scenario.charter
    vision = np.stack([u.value(c.vision[b]) if b in c.vision else np.zeros(R)
                       for b in BENEFITS], axis=-1)
    vision = np.where(vision.sum(axis=-1, keepdims=True) <= 0, 1.0, vision)
    vision = vision / vision.sum(axis=-1, keepdims=True)
    priorities = np.empty((R, len(specs), len(BENEFITS)))
    for i, w in enumerate(partner_w):
        if w is None:
            priorities[:, i] = vision
        else:
            total = w.sum(axis=-1, keepdims=True)
            priorities[:, i] = np.where(total <= 0, vision, w / np.where(total <= 0, 1.0, total))
    bc = c.business_case
    names_of = dict(CHARTER_NUMBERS)
    sampled = {names_of[path]: u.value(value) for path, value in _charter_numbers(c)}
    shocks = []
    for s, stream in zip(scenario.shocks, shock_streams(scenario)):
        rate_s = u.value(s.rate) if s.rate is not None else np.zeros(R)
        mag = u.value(s.magnitude) if s.magnitude is not None else \
            np.full(R, DEFAULT_MAGNITUDE[s.kind])
        target_code = {"all": TARGET_ALL, "any": TARGET_ANY}.get(s.partner)
        shocks.append(ShockInputs(
            kind=s.kind, target=index[s.partner] if target_code is None else target_code,
            at_cycle=s.at_cycle or 0, rate=rate_s, magnitude=mag, stream=stream,
        ))
    leads = np.array([index[s.lead] for s in c.services], dtype=int)
    lead_share = np.zeros(len(specs))
    if len(leads):
        np.add.at(lead_share, leads, 1.0 / len(leads))
    if u.i != u.u.shape[-1]:
        raise ValueError(f"{scenario.name}: {u.u.shape[-1]} uniforms given for "
                         f"{u.i} uncertain inputs")
    joins_at = np.array([NEVER if p.joins_at is None else p.joins_at for p in specs], dtype=int)
    estimate = {name: point_estimate(value) for name, value in (
        ("savings_potential", bc.savings_potential),
        ("implementation_cost", bc.implementation_cost_m), ("ramp_up_cycles", bc.ramp_up_cycles),
        ("team_cost", c.programme_team.team_cost_m),
        ("training_cost", c.programme_team.training_cost_m))}
    planned_active = np.arange(scenario.horizon + 1)[:, None] >= joins_at[None, :]
    plan = planned_money(traits["size"], planned_active, estimate["savings_potential"],
                         estimate["implementation_cost"], estimate["ramp_up_cycles"],
                         sampled["dedicated"], estimate["team_cost"], sampled["training"],
                         estimate["training_cost"], c.cost_sharing, c.benefit_sharing,
                         scenario.parameters)
    if bc.target_net_savings_m == PLAN:
        sampled["target_net_savings_m"] = np.maximum(plan[:, -1].sum(axis=-1), MIN_TARGET)
    return PartnershipInputs(
        names=names, traits=traits, priorities=priorities, joins_at=joins_at, vision=vision,
        input_paths=tuple(uncertain_paths(scenario)),
        # one contiguous row per input (a [R, k] view): each becomes a column of the outcomes
        sampled=np.stack(u.values).T if u.values else np.zeros((R, 0)),
        planned_money=plan, plan_savings_potential=estimate["savings_potential"],
        plan_ramp_up_cycles=estimate["ramp_up_cycles"],
        decision_rule=c.decision_rule, cost_sharing=c.cost_sharing,
        benefit_sharing=c.benefit_sharing, notice_cycles=c.exit.notice_cycles,
        service_leads=leads, lead_share=lead_share, shocks=tuple(shocks),
        horizon=scenario.horizon, params=scenario.parameters, **sampled,
    )
