"""One replication's concrete inputs: every uncertain number of a scenario, sampled.

Uncertain numbers are visited in a fixed order (partners in file order, their traits in schema
order, then the charter, then shocks) and each consumes the next uniform of the replication's
input block. `count_uncertain` tells the caller how many uniforms to draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.distributions import is_uncertain
from sim.parameters import ModelParameters
from sim.scenario import BENEFITS, DEFAULT_MAGNITUDE, Scenario

TRAITS = (
    "size", "ambition", "resourcing", "skills", "trustworthiness", "trust_propensity",
    "commitment", "volatility", "control_concern", "patience",
)
SHOCK_CODES = {k: i for i, k in enumerate(DEFAULT_MAGNITUDE)}
TARGET_ALL, TARGET_ANY = -1, -2


@dataclass(frozen=True)
class ShockInputs:
    kind: str
    target: int          # partner index, TARGET_ALL or TARGET_ANY
    at_cycle: int        # scheduled cycle, or 0 for a random shock
    rate: float          # chance per review for a random shock (0 if scheduled)
    magnitude: float


@dataclass(frozen=True)
class PartnershipInputs:
    """Concrete values for one run. Partner arrays have one entry per partner slot."""

    names: tuple[str, ...]
    traits: dict[str, np.ndarray]          # TRAITS -> [n]
    priorities: np.ndarray                 # [n, 9]
    joins_at: np.ndarray                   # [n] int
    vision: np.ndarray                     # [9]
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
    params: ModelParameters = field(default_factory=ModelParameters)

    @property
    def n(self) -> int:
        return len(self.names)


class _Uniforms:
    def __init__(self, u):
        self.u = u
        self.i = 0

    def value(self, x) -> float:
        if is_uncertain(x):
            v = float(x.ppf(self.u[self.i]))
            self.i += 1
            return v
        return float(x)


def _uncertain_leaves(scenario: Scenario):
    """Every number of the scenario that may be uncertain, in the fixed sampling order."""
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
    bc = c.business_case
    yield from (bc.target_net_savings_m, bc.savings_potential, bc.implementation_cost_m,
                bc.ramp_up_cycles)
    yield from (c.penalties.threshold, c.penalties.rate, c.penalties.call_out, c.exit.penalty)
    t = c.programme_team
    yield from (t.dedicated, t.training, t.team_cost_m, t.training_cost_m, c.consensus)
    for s in scenario.shocks:
        if s.rate is not None:
            yield s.rate
        if s.magnitude is not None:
            yield s.magnitude


def central_uniforms(scenario: Scenario) -> np.ndarray:
    """Uniforms that give every uncertain input its point estimate (mode of a three-point
    estimate, median otherwise): the values a plan is drawn up with."""
    return np.array([leaf.central_u() for leaf in _uncertain_leaves(scenario)
                     if is_uncertain(leaf)], dtype=float)


def count_uncertain(scenario: Scenario) -> int:
    return sum(1 for leaf in _uncertain_leaves(scenario) if is_uncertain(leaf))


def uncertain_paths(scenario: Scenario) -> list[str]:
    """Human-readable names of the uncertain inputs, in sampling order (for tables)."""
    names = []
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
    for path in ("business_case.target_net_savings_m", "business_case.savings_potential",
                 "business_case.implementation_cost_m", "business_case.ramp_up_cycles",
                 "penalties.threshold", "penalties.rate", "penalties.call_out", "exit.penalty",
                 "programme_team.dedicated", "programme_team.training",
                 "programme_team.team_cost_m", "programme_team.training_cost_m", "consensus"):
        obj = c
        for part in path.split("."):
            obj = getattr(obj, part)
        if is_uncertain(obj):
            names.append(f"charter.{path}")
    for i, s in enumerate(scenario.shocks):
        if s.rate is not None and is_uncertain(s.rate):
            names.append(f"shocks[{i}].rate")
        if s.magnitude is not None and is_uncertain(s.magnitude):
            names.append(f"shocks[{i}].magnitude")
    return names


def resolve(scenario: Scenario, uniforms: np.ndarray) -> PartnershipInputs:
    """Sample every uncertain number of `scenario` from `uniforms` (one per uncertain input)."""
    u = _Uniforms(np.asarray(uniforms, dtype=float))
    specs = scenario.partner_specs()
    names = tuple(p.name for p in specs)
    index = {name: i for i, name in enumerate(names)}
    traits = {t: np.empty(len(specs)) for t in TRAITS}
    partner_w = []
    for i, partner in enumerate(specs):  # a partner's priorities follow its traits
        for t in TRAITS:
            traits[t][i] = u.value(getattr(partner, t))
        pr = partner.priorities
        partner_w.append(None if pr is None else
                         np.array([u.value(pr[b]) if b in pr else 0.0 for b in BENEFITS]))
    c = scenario.charter
    vision = np.array([u.value(c.vision[b]) if b in c.vision else 0.0 for b in BENEFITS])
    if vision.sum() <= 0:
        vision = np.ones(len(BENEFITS))
    vision = vision / vision.sum()
    priorities = np.empty((len(specs), len(BENEFITS)))
    for i, w in enumerate(partner_w):
        priorities[i] = vision if w is None or w.sum() <= 0 else w / w.sum()
    bc = c.business_case
    target, potential, impl, ramp = (u.value(bc.target_net_savings_m), u.value(bc.savings_potential),
                                     u.value(bc.implementation_cost_m), u.value(bc.ramp_up_cycles))
    threshold, rate, call_out = (u.value(c.penalties.threshold), u.value(c.penalties.rate),
                                 u.value(c.penalties.call_out))
    exit_penalty = u.value(c.exit.penalty)
    t = c.programme_team
    dedicated, training, team_cost, training_cost = (u.value(t.dedicated), u.value(t.training),
                                                     u.value(t.team_cost_m),
                                                     u.value(t.training_cost_m))
    consensus = u.value(c.consensus)
    shocks = []
    for s in scenario.shocks:
        rate_s = u.value(s.rate) if s.rate is not None else 0.0
        mag = u.value(s.magnitude) if s.magnitude is not None else DEFAULT_MAGNITUDE[s.kind]
        target_code = {"all": TARGET_ALL, "any": TARGET_ANY}.get(s.partner)
        shocks.append(ShockInputs(
            kind=s.kind, target=index[s.partner] if target_code is None else target_code,
            at_cycle=s.at_cycle or 0, rate=rate_s, magnitude=mag,
        ))
    leads = np.array([index[s.lead] for s in c.services], dtype=int)
    lead_share = np.zeros(len(specs))
    if len(leads):
        np.add.at(lead_share, leads, 1.0 / len(leads))
    assert u.i == len(u.u), "sampling order out of step with count_uncertain"
    return PartnershipInputs(
        names=names, traits=traits, priorities=priorities,
        joins_at=np.array([p.joins_at for p in specs], dtype=int), vision=vision,
        target_net_savings_m=target, savings_potential=potential, implementation_cost_m=impl,
        ramp_up_cycles=ramp, decision_rule=c.decision_rule, cost_sharing=c.cost_sharing,
        benefit_sharing=c.benefit_sharing, penalty_threshold=threshold, penalty_rate=rate,
        call_out=call_out, exit_penalty=exit_penalty, notice_cycles=c.exit.notice_cycles,
        dedicated=dedicated, training=training, team_cost_m=team_cost,
        training_cost_m=training_cost, consensus=consensus, service_leads=leads,
        lead_share=lead_share, shocks=tuple(shocks), horizon=scenario.horizon,
        params=scenario.parameters,
    )

