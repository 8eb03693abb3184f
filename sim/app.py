"""The interactive teaching app: a Mesa SolaraViz page for one partnership, review by review.

Sliders set each partner's traits and the main charter clauses, and can schedule one shock;
Reset builds the partnership with them, Step runs one six-month review, play runs on. The page
shows savings against the business case, trust over time, the trust network and each partner's
satisfaction, and an Info tab in the shape of NetLogo's model library (WHAT IS IT, HOW IT
WORKS, THINGS TO NOTICE, THINGS TO TRY, EXTENDING THE MODEL).

The scenario's uncertain inputs are pinned at their point estimates (the mode of a three-point
estimate, the median otherwise), so what students change is what changes; the seed slider
changes only the luck of each review (lapses, delivery noise, misreadings, random shocks).

Started by `collabsim app [SCENARIO]` (which serves this module's `Page` with Solara); in a
notebook, `sim.app.partnership_page(scenario)` displays the same page.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import solara

from sim.distributions import DISTRIBUTION_KINDS
from sim.loading import ScenarioError, as_scenario, scenario_data, scenario_from_dict
from sim.model import PartnershipModel
from sim.scenario import SHOCK_KINDS, Scenario
from sim.text import printable

#: Traits with a slider for each partner.
SLIDER_TRAITS = ("ambition", "resourcing", "skills", "trustworthiness", "commitment",
                 "volatility")
#: Partners beyond this many keep the scenario's traits (the sidebar would grow too long).
MAX_PARTNERS_WITH_SLIDERS = 8
DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "three_councils.yaml"
#: The environment variable through which `collabsim app` tells the page which scenario to show.
SCENARIO_ENV = "COLLABSIM_APP_SCENARIO"
NO_SHOCK = "none"

INFO = """
## WHAT IS IT?

A partnership between organisations (a shared service between councils, say) living out the
charter its partners signed, one six-month review at a time. Up to 70% of such partnerships are
said not to deliver their business case, through timid leadership, under-resourced and
untrained teams, eroding trust and misaligned goals. This page lets you watch how that happens,
and what holds a partnership together.

## HOW IT WORKS

At every review each partner gives effort (its **resourcing** and **commitment**, less what it
holds back when it distrusts the others) and delivers part of it (its **trustworthiness**, with
some luck). The hard decisions (redundancies, relocations) are taken at the pace the **decision
rule** and the partners' **ambition** allow; **skills** turn effort into progress. Together they
build the shared service and run it: what each review saves depends on how well that review
runs the service, so a shock at review 8 costs savings at review 8. Savings and costs are
shared by the charter's rules.

Each partner judges the others on whether they kept their promises (promises are re-baselined
at every review against what each partner can really give) and keeps the evidence: kept
promises build trust, broken ones cost more, and old evidence fades, so trust can be rebuilt.
Each partner also weighs what the partnership gives it: its money against the business case's
plan for it, fairness, shared vision and values, trust, and control handed over. When that
appraisal falls far enough below what it expected at signing, net of what leaving would cost
(the exit penalty, unpicking what has been built), it is likely to give notice. Below two
partners, the partnership dissolves. Every rule is in docs/ODD.md, with its source.

## THINGS TO NOTICE

* Trust falls when a partner breaks its promises, and recovers once it keeps them again: watch
  the trust network after a partner's interest lapses (the *hokey-cokey partner*).
* Savings start negative: the implementation cost comes first, and a slow programme costs more
  for longer. The dotted line is the plan.
* A partner whose money falls behind its plan grows unhappy even while the others are content:
  its appraisal line drops towards its own dashed leaving line.
* Who loses trust first after a shock is not always the partner that was hit.

## THINGS TO TRY

* Schedule a **budget_cut** on **Northshire** at review **4** with magnitude **0.6** (its
  resourcing falls to 0.4 of what it was), press Reset and run: how far do savings fall behind
  the plan? Then move it to review **8**: a late cut still costs savings in the reviews left.
* Set every partner's **volatility** to 0.4: a partnership of hokey-cokey partners. Then raise
  the **consensus** to 0.8 and see whether a bought-in start holds it together.
* Put the **dedicated** programme team and **training** to 0.8 and compare the savings curve
  with the plan. Then try a **leadership_change** on any partner at review 2.
* Switch the **decision rule** from unanimity to majority with one partner's **ambition** at
  0.1: does the timid leader still hold everyone back?
* Keep everything and change only the **seed**: the same partnership, different luck. How much
  of the outcome is luck? (`collabsim run` answers that with thousands of runs.)

## EXTENDING THE MODEL

* Let partners learn: raise skills a little every review a programme is active.
* Let the outside option change with the economy, or differ between partners.
* Add a shock of your own in `sim/rules.py` and `PartnershipModel.strike` (the vectorised
  engine in `sim/engine.py` calls the same rules; tests/test_engine.py keeps the two in step).
* Compare the odds behind what you see here: `collabsim stress` and `collabsim compare` run the
  same model thousands of times.
"""


# --- the partnership the sliders describe ---------------------------------------------------------


def _central(value):
    """A distribution's point estimate (as sim.inputs.central_uniforms picks it); a number as is."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in DISTRIBUTION_KINDS:
        dist = DISTRIBUTION_KINDS[next(iter(value))].model_validate(value)
        return float(dist.ppf(dist.central_u()))
    if isinstance(value, dict):
        return {k: _central(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_central(v) for v in value]
    return value


def pinned(scenario) -> Scenario:
    """The scenario with every uncertain input at its point estimate and a population expanded
    into named partners."""
    sc = as_scenario(scenario)
    data = scenario_data(sc)
    if data.get("population") is not None:
        data["partners"] = [p.model_dump(mode="json", exclude_none=True)
                            for p in sc.partner_specs()]
        data.pop("population")
    return scenario_from_dict(_central(data), source=sc.name)


def slider_name(partner: str, trait: str) -> str:
    return f"{partner}: {trait}"


def model_params(scenario) -> dict:
    """SolaraViz model_params: the pinned scenario (fixed), and a slider or choice for each
    partner's main traits, the main charter clauses, one shock and the seed."""
    sc = pinned(scenario)
    params: dict = {"scenario": sc}
    params["seed"] = {"type": "SliderInt", "value": 1, "min": 0, "max": 999, "step": 1,
                      "label": "seed (the luck of each review)"}
    c = sc.charter
    params["decision_rule"] = {"type": "Select", "value": c.decision_rule,
                               "values": ["unanimity", "majority"] +
                               (["lead_partner"] if c.services else []),
                               "label": "decision rule"}
    params["benefit_sharing"] = {"type": "Select", "value": c.benefit_sharing,
                                 "values": ["equal", "by_size", "by_contribution"],
                                 "label": "benefit sharing"}
    for name, value, label in (
            ("dedicated", c.programme_team.dedicated, "dedicated programme team"),
            ("training", c.programme_team.training, "training"),
            ("consensus", c.consensus, "consensus before signing"),
            ("call_out", c.penalties.call_out, "breaches called out (chance per review)"),
            ("exit_penalty", c.exit.penalty, "exit penalty (x annual cost base)")):
        params[name] = {"type": "SliderFloat", "value": float(value), "min": 0.0,
                        "max": 1.0, "step": 0.05, "label": label}
    names = sc.partner_names()
    kinds = [k for k in SHOCK_KINDS if k != "partner_join" or can_join(sc)]
    params["shock"] = {"type": "Select", "value": NO_SHOCK, "values": [NO_SHOCK, *kinds],
                       "label": "shock"}
    params["shock_partner"] = {"type": "Select", "value": names[0],
                               "values": [*names, "all", "any"], "label": "shock hits"}
    params["shock_cycle"] = {"type": "SliderInt", "value": min(4, sc.horizon), "min": 1,
                             "max": sc.horizon, "step": 1, "label": "shock at review"}
    params["shock_magnitude"] = {"type": "SliderFloat", "value": 0.5, "min": 0.0, "max": 1.0,
                                 "step": 0.05, "label": "shock magnitude"}
    for partner in sc.partners[:MAX_PARTNERS_WITH_SLIDERS]:
        for trait in SLIDER_TRAITS:
            params[slider_name(partner.name, trait)] = {
                "type": "SliderFloat", "value": float(getattr(partner, trait)), "min": 0.0,
                "max": 1.0, "step": 0.05, "label": slider_name(partner.name, trait)}
    return params


def can_join(scenario: Scenario) -> bool:
    """Whether a partner_join shock has anyone to bring in (a prospective or later partner)."""
    return any(p.joins_at != 0 for p in scenario.partners or [])


#: The charter's sliders and the scenario field each sets (a sim.fields path).
CHARTER_SLIDERS = {
    "decision_rule": "charter.decision_rule", "benefit_sharing": "charter.benefit_sharing",
    "dedicated": "charter.programme_team.dedicated", "training": "charter.programme_team.training",
    "consensus": "charter.consensus", "call_out": "charter.penalties.call_out",
    "exit_penalty": "charter.exit.penalty",
}


def scenario_with(scenario: Scenario, *, shock=NO_SHOCK, shock_partner="any", shock_cycle=1,
                  shock_magnitude=0.5, **sliders) -> Scenario:
    """The scenario with the sliders' values (a slider left at None keeps the scenario's);
    trait sliders are named 'PARTNER: trait'."""
    names = scenario.partner_names()
    values = {}
    for key, value in sliders.items():
        if value is None:
            continue
        partner, _, trait = key.rpartition(": ")
        if key in CHARTER_SLIDERS:
            values[CHARTER_SLIDERS[key]] = value
        elif partner in names and trait in SLIDER_TRAITS:
            values[f"partners.{partner}.{trait}"] = value
        else:
            raise ValueError(f"unknown slider {key!r}")
    chosen = scenario.with_values(values, source="the app's sliders")
    if shock == NO_SHOCK:
        return chosen
    data = scenario_data(chosen)
    data["shocks"] = data.get("shocks", []) + [{
        "kind": shock, "partner": shock_partner, "at_cycle": int(shock_cycle),
        "magnitude": float(shock_magnitude)}]
    return scenario_from_dict(data, source="the app's sliders")


class TeachingModel(PartnershipModel):
    """The partnership model built from a pinned scenario and the app's slider values (keyword
    arguments only, as SolaraViz re-creates the model with them on Reset; Mesa's check of the
    parameters accepts a catch-all only under the name `kwargs`)."""

    def __init__(self, *, scenario=None, seed=1, **kwargs):
        base = pinned(scenario if scenario is not None else DEFAULT_SCENARIO)
        #: Why the chosen shock was left out (a join aimed at a founding partner), if it was.
        self.notice = ""
        try:
            chosen = scenario_with(base, **kwargs)
        except ScenarioError as exc:
            if kwargs.get("shock", NO_SHOCK) == NO_SHOCK:
                raise
            chosen = scenario_with(base, **{**kwargs, "shock": NO_SHOCK})
            self.notice = f"The shock was left out: {'; '.join(exc.problems)}"
        super().__init__(scenario=chosen, rng=int(seed))


# --- the page -------------------------------------------------------------------------------------


def _figure_component(draw):
    def component(model):
        return solara.FigureMatplotlib(draw(model), format="png")

    component.__name__ = draw.__name__
    return component


def _markdown(text: str):
    """Markdown as plain HTML (solara.Markdown would fetch a maths renderer from a CDN, which
    a classroom without internet cannot reach)."""
    import markdown

    return solara.HTML(tag="div", unsafe_innerHTML=markdown.markdown(text, extensions=["tables"]),
                       style={"padding": "0 1em", "font-size": "0.95em"})


def _status(model):
    """Where the run stands, and each partner as it is now (the sliders' values, changed by any
    shock since): what the sliders do not show. Names are the user's text, so the page is built
    as HTML with every name escaped (never read as Markdown: a partner called
    `[x](javascript:...)` must not become a link, nor `![b](http://...)` fetch an image)."""
    e = html.escape
    happened = "; ".join(f"review {c}: {what} ({who})" for c, what, who in model.events[-6:])
    head = "".join(f"<th>{e(t)}</th>" for t in ("partner", *SLIDER_TRAITS, "engaged",
                                                 "satisfaction"))
    rows = []
    for a in model.partners:
        state = "yes" if a.engaged else "lapsed"
        if not a.active:
            state = f"left at {a.exited_at}" if a.exited_at is not None else "not yet in"
        cells = [e(printable(a.name)), *(f"{getattr(a, t):.2f}" for t in SLIDER_TRAITS),
                 e(state), f"{a.satisfaction:.2f}"]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    notice = getattr(model, "notice", "")
    page = (
        f"<p><b>{e(printable(model.scenario.name))}</b>: review {model.cycle} of "
        f"{model.horizon}, {int(model.active.sum())} partners in, savings "
        f"{model.pct_business_case:.0f}% of the business case"
        f"{', dissolved' if model.dissolved else ''}.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p>{e(printable('Events: ' + happened)) if happened else 'No shocks or exits yet.'}</p>"
        + (f"<p><b>{e(printable(notice))}</b></p>" if notice else "")
        + "<p><i>Sliders take effect on Reset. The Info tab (Page 1) explains the model and "
        "suggests things to try.</i></p>")
    return solara.HTML(tag="div", unsafe_innerHTML=page,
                       style={"padding": "0 1em", "font-size": "0.95em"})


def _info(model):
    return _markdown(INFO)


def partnership_page(scenario=None):
    """The SolaraViz page for a scenario (a path, mapping or Scenario; default three_councils).
    Displayed in a notebook, or served by `collabsim app`."""
    from mesa.visualization import SolaraViz

    from sim import teaching_plots as tp

    params = model_params(scenario if scenario is not None else DEFAULT_SCENARIO)
    start = {k: v["value"] if isinstance(v, dict) and "type" in v else v
             for k, v in params.items()}
    model = TeachingModel(**start)
    components = [(_status, 0)] + [
        (_figure_component(draw), 0) for draw in (
            tp.savings_against_business_case, tp.trust_over_time, tp.trust_network,
            tp.satisfaction_over_time)] + [(_info, 1)]
    return SolaraViz(model, components=components, model_params=params,
                     name=f"collabsim: {params['scenario'].name}", play_interval=400)


@solara.component
def Page():  # noqa: N802 - the name `solara run` looks for
    """The page `collabsim app` serves: the scenario named by COLLABSIM_APP_SCENARIO."""
    return partnership_page(os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO)
