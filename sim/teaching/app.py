"""The interactive teaching app: a Solara page for one partnership (a Mesa model), review by
review.

Sliders, grouped by what they describe (the charter, the shock, each partner) and each showing
its value, set the partnership; Reset builds it (before the first review a change shows at
once), Step runs one six-month review, Play runs on, "To end" runs to the horizon. The Model
tab shows monitors (cumulative savings, mean trust, partners in), savings against the business
case, trust over time, the trust network (with its colour key), each partner's appraisal, the
partners as they are now (resourcing and skills with the programme team and training), and at
the horizon the run's verdict in the words of `collabsim run`; both tables download as CSV.
The "With and without the shock" tab runs the partnership to the end twice on the same random
numbers, without and with the chosen shock, side by side. The Info tab is in the shape of
NetLogo's model library (WHAT IS IT, HOW IT WORKS, THINGS TO NOTICE, THINGS TO TRY, EXTENDING
THE MODEL).

The page fits a classroom projector (1366 x 768) without hiding a plot: the sidebar scrolls
on its own, and the plots are drawn at the size they are shown. Mesa's SolaraViz is not used
for the page itself: its tabs are numbered ("Page 0"), its parameters sit in one column under
its own controls, and (from Mesa 3.5) its Reset rebuilds a model from Mesa's own Scenario
class. The model is a plain Mesa model either way.

The scenario's uncertain inputs are pinned at their point estimates (the mode of a three-point
estimate, the median otherwise), so what students change is what changes; the seed slider
changes only the luck of each review (lapses, delivery noise, misreadings, random shocks).

Started by `collabsim app [SCENARIO]` (which serves this module's `Page` with Solara); in a
notebook, `sim.partnership_page(scenario)` displays the same page.
"""

from __future__ import annotations

import base64
import html
import io
import os
import threading
import time

import solara

from sim.partnership import rules
from sim.partnership.model import PartnershipModel
from sim.partnership.outcomes import STATUS_MEANINGS, verdict_lines
from sim.results.text import printable
from sim.scenario.distributions import DISTRIBUTION_KINDS
from sim.scenario.fields import fields
from sim.scenario.loading import (SHIPPED_SCENARIOS, ScenarioError, as_scenario, scenario_data,
                                  scenario_from_dict)
from sim.scenario.schema import SHOCK_KINDS, Scenario
from sim.teaching import plots as tp

#: Traits with a slider for each partner.
SLIDER_TRAITS = ("ambition", "resourcing", "skills", "trustworthiness", "commitment",
                 "volatility")
#: Partners beyond this many keep the scenario's traits (the sidebar would grow too long).
MAX_PARTNERS_WITH_SLIDERS = 8
DEFAULT_SCENARIO = SHIPPED_SCENARIOS / "three_councils.yaml"
#: The environment variable through which `collabsim app` tells the page which scenario to show.
SCENARIO_ENV = "COLLABSIM_APP_SCENARIO"
NO_SHOCK = "none"
#: The page's tabs, in order.
TABS = ("Model", "With and without the shock", "Info")
#: Milliseconds between reviews when playing.
PLAY_INTERVAL_MS = 400

_INFO = """
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

After the last review the page gives the run's verdict in the words of `collabsim run`: whether
it delivered the business case, and its outcome:

{statuses}

## THINGS TO NOTICE

* Trust falls when a partner breaks its promises, and recovers once it keeps them again: watch
  the trust network after a partner's interest lapses (the *hokey-cokey partner*).
* Savings start negative: the implementation cost comes first, and a slow programme costs more
  for longer. The dotted line is the plan.
* A partner whose money falls behind its plan grows unhappy even while the others are content:
  its appraisal line drops towards its own dashed leaving line.
* Who loses trust first after a shock is not always the partner that was hit.

## THINGS TO TRY

* In **The shock**, schedule a **budget_cut** on **Northshire** at review **4** with magnitude
  **0.6** (its resourcing falls to 0.4 of what it was), and open the **With and without the
  shock** tab: the same partnership on the same random numbers, run to the end without the cut
  and with it. The two runs are identical until review 4, so every difference from then on is
  the cut's doing. How far do savings fall behind? Then move the cut to review **8**: a late cut
  still costs savings in the reviews left.
* Set every partner's **volatility** to 0.4: a partnership of hokey-cokey partners. Then raise
  the **consensus** to 0.8 and see whether a bought-in start holds it together.
* Put the **dedicated programme team** and **training** to 0.8: the partners table shows each
  partner's resourcing and skills with the team and training. Compare the savings curve with
  the plan (the team's cost is paid out of the savings). Then try a **leadership_change** on any
  partner at review 2.
* Switch the **decision rule** from unanimity to majority with one partner's **ambition** at
  0.1: does the timid leader still hold everyone back?
* Keep everything and change only the **seed**: the same partnership, different luck. How much
  of the outcome is luck? (`collabsim run` answers that with thousands of runs.)


## EXTENDING THE MODEL

* Let partners learn: raise skills a little every review a programme is active.
* Let the outside option change with the economy, or differ between partners.
* Add a shock of your own in `sim/partnership/rules.py` and `PartnershipModel.strike` (the
vectorised
  engine in `sim/partnership/engine.py` calls the same rules; tests/test_engine.py keeps the two in
  step).
* Compare the odds behind what you see here: `collabsim stress` and `collabsim compare` run the
  same model thousands of times.
"""

#: The Info tab (NetLogo's model-library sections), with the outcome classes as
#: sim.partnership.outcomes
#: defines them.
INFO = _INFO.replace("{statuses}", "\n".join(
    f"* **{status}**: {meaning}" for status, meaning in STATUS_MEANINGS.items()))


# --- the partnership the sliders describe
# ---------------------------------------------------------


def _central(value):
    """A distribution's point estimate (as sim.partnership.inputs.central_uniforms picks it); a
    number as is."""
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
    table = fields(sc)
    for name, label in (("decision_rule", "decision rule"),
                        ("benefit_sharing", "benefit sharing")):
        path = CHARTER_SLIDERS[name]
        choices = [c for c in table[path].choices   # a lead partner needs services to lead
                   if c != "lead_partner" or sc.charter.services]
        params[name] = {"type": "Select", "value": sc.value_of(path), "values": choices,
                        "label": label}
    for name, label in (
            ("dedicated", "dedicated programme team"), ("training", "training"),
            ("consensus", "consensus before signing"),
            ("call_out", "breaches called out (chance per review)"),
            ("exit_penalty", "exit penalty (x annual cost base)")):
        params[name] = {"type": "SliderFloat", "value": float(sc.value_of(CHARTER_SLIDERS[name])),
                        "min": 0.0, "max": 1.0, "step": 0.05, "label": label}
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


#: The charter's sliders and the scenario field each sets (a sim.scenario.fields path).
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
    arguments only, as a page's Reset re-creates the model with them; Mesa's check of the
    parameters accepts a catch-all only under the name `kwargs`)."""

    def __init__(self, *, scenario=None, seed=1, **kwargs):
        base = pinned(scenario if scenario is not None else DEFAULT_SCENARIO)
        #: The slider values this model was built from (the page compares them with the sliders').
        self.settings = {"seed": seed, **kwargs}
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

    @property
    def finished(self) -> bool:
        """Whether the last review has taken place (the horizon, or a dissolution)."""
        return self.dissolved or self.cycle >= self.horizon or not self.running

    def run_to_end(self) -> "TeachingModel":
        while self.running:
            self.step()
        return self


def slider_groups(params: dict) -> list[tuple[str, list[str]]]:
    """The sidebar's groups of sliders: (title, parameter names), the charter first."""
    partners = {}
    for name in params:
        partner, sep, trait = name.rpartition(": ")
        if sep and trait in SLIDER_TRAITS:
            partners.setdefault(partner, []).append(name)
    return [("The charter", [k for k in CHARTER_SLIDERS if k in params]),
            ("The shock", ["shock", "shock_partner", "shock_cycle", "shock_magnitude"]),
            *((partner, names) for partner, names in partners.items())]


def start_values(params: dict) -> dict:
    """Each parameter's starting value (a slider's `value`, a fixed parameter as it is)."""
    return {k: v["value"] if isinstance(v, dict) and "type" in v else v
            for k, v in params.items()}


def with_and_without(values: dict) -> tuple[TeachingModel, TeachingModel]:
    """The partnership the sliders describe, run to the end on the same random numbers without
    the chosen shock and with it (model v2 gives each shock its own random stream, so the two
    runs are identical until the shock's review)."""
    without = TeachingModel(**{**values, "shock": NO_SHOCK}).run_to_end()
    return without, TeachingModel(**values).run_to_end()


def first_difference(a: PartnershipModel, b: PartnershipModel):
    """The first review at which two runs' collected figures differ (None if they never do)."""
    ha = a.datacollector.get_model_vars_dataframe()
    hb = b.datacollector.get_model_vars_dataframe()
    for review in range(min(len(ha), len(hb))):
        if not ha.iloc[[review]].equals(hb.iloc[[review]]):
            return review
    return None


def history_csv(model, partners: bool = False) -> bytes:
    """What the plots show, as CSV: the partnership's figures at every review, or (partners)
    each partner's."""
    dc = model.datacollector
    frame = dc.get_agent_vars_dataframe() if partners else dc.get_model_vars_dataframe()
    if partners:
        frame = frame.rename_axis(["review", "agent"]).reset_index()
    else:
        frame = frame.set_index("cycle").rename_axis("review").reset_index()
    return frame.to_csv(index=False).encode()


# --- what the page shows (HTML built here escapes every name: user text) -------------------------


def _e(text) -> str:
    return html.escape(printable(text))


def title_html(model) -> str:
    return _e(f"collabsim: {model.scenario.name}")


def monitors_html(model) -> str:
    """The monitors (review, cumulative net savings against the business case, mean trust,
    partners in, the team's cost) and, after the last review, the verdict."""
    inp = model.inputs
    team = float(inp.dedicated * inp.team_cost_m + inp.training * inp.training_cost_m)
    cells = [("review", f"{model.cycle} of {model.horizon}"),
             ("net savings so far", f"£{model.cum_net_savings:.2f}m"),
             ("business case", f"£{inp.target_net_savings_m:.2f}m "
              f"({model.pct_business_case:.0f}% so far)"),
             ("mean trust", f"{model.mean_trust:.2f}"),
             ("partners in", f"{int(model.active.sum())} of {len(model.partners)}"),
             ("team and training", f"£{team:.2f}m a year")]
    out = ['<div class="cs-monitors">'] + [
        f'<div class="cs-monitor"><div class="cs-monitor-label">{_e(label)}</div>'
        f'<div class="cs-monitor-value" data-monitor="{_e(label)}">{_e(value)}</div></div>'
        for label, value in cells] + ["</div>"]
    if model.finished:
        st = model.standing
        tone = "good" if st.delivered else "bad"
        lines = "; ".join(f"<b>{_e(k)}</b>: {_e(v)}" for k, v in verdict_lines(st))
        out.append(f'<div class="cs-verdict cs-{tone}" data-status="{_e(st.status)}">'
                   f"Verdict after review {model.dissolved_at or model.cycle}: {lines}</div>")
    return "".join(out)


def partners_html(model) -> str:
    """Each partner as it is now (the sliders' values, changed by any shock since), with its
    resourcing and skills as the programme team and training make them."""
    inp = model.inputs
    team, training = float(inp.dedicated), float(inp.training)
    head = ["partner", "in?", "ambition",
            "resourcing" + (" (with the team)" if team else ""),
            "skills" + (" (with training)" if training else ""),
            "trustworthiness", "commitment", "volatility", "satisfaction"]
    rows = []
    for a in model.partners:
        state = "yes" if a.engaged else "lapsed"
        if not a.active:
            state = f"left at {a.exited_at}" if a.exited_at is not None else "not yet in"
        resourcing = f"{a.resourcing:.2f}" + (
            f" → {float(rules.effective_resourcing(a.resourcing, team)):.2f}" if team else "")
        skills = f"{a.skills:.2f}" + (
            f" → {float(rules.effective_skills(a.skills, training)):.2f}" if training else "")
        cells = [a.name, state, f"{a.ambition:.2f}", resourcing, skills,
                 f"{a.trustworthiness:.2f}", f"{a.commitment:.2f}", f"{a.volatility:.2f}",
                 f"{a.satisfaction:.2f}"]
        rows.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    happened = "; ".join(f"review {c}: {what} ({who})" for c, what, who in model.events[-6:])
    notice = getattr(model, "notice", "")
    return (f'<table class="cs-table"><thead><tr>{"".join(f"<th>{_e(h)}</th>" for h in head)}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<p class="cs-events">{_e("Events: " + happened) if happened else "No shocks or exits yet."}'
            + (f" <b>{_e(notice)}</b>" if notice else "") + "</p>")


def comparison_html(without, with_shock, at_cycle) -> tuple[str, str]:
    """What the shock did: where the two runs part and both verdicts; and a table of the two
    runs review by review."""
    first = first_difference(without, with_shock)
    hw = without.datacollector.get_model_vars_dataframe()
    hs = with_shock.datacollector.get_model_vars_dataframe()
    seed = without.settings["seed"]
    if first is None:
        parted = "The two runs never differ: this shock changed nothing here."
    else:
        parted = (f"The same partnership with the same luck (seed {seed}): the two runs are "
                  f"identical up to review {first - 1} and differ from review {first}, the "
                  f"shock's review ({at_cycle}), on.")
        if first != at_cycle:
            parted = (f"The runs are identical up to review {first - 1} and differ from review "
                      f"{first}; the shock was set for review {at_cycle}.")
    lost = without.cum_net_savings - with_shock.cum_net_savings
    ends = (f"By the end the shock has cost £{lost:.2f}m of net savings "
            f"({without.pct_business_case:.0f}% of the business case without it, "
            f"{with_shock.pct_business_case:.0f}% with it)." if first is not None else "")
    verdicts = "".join(
        f'<p class="cs-verdict-line"><b>{_e(label)}</b>: ' + "; ".join(
            f"{_e(k)}: {_e(v)}" for k, v in verdict_lines(m.standing)) + "</p>"
        for label, m in (("Without the shock", without), ("With the shock", with_shock)))
    rows = []
    for review in range(min(len(hw), len(hs))):
        a, b = hw.iloc[review], hs.iloc[review]
        diff = b["cum_net_savings_m"] - a["cum_net_savings_m"]
        same = first is None or review < first
        rows.append(
            f'<tr class="{"cs-same" if same else "cs-differs"}" data-review="{review}">'
            f"<td>{review}</td><td>{a['cum_net_savings_m']:.2f}</td>"
            f"<td>{b['cum_net_savings_m']:.2f}</td><td>{diff:+.2f}</td>"
            f"<td>{a['mean_trust']:.2f}</td><td>{b['mean_trust']:.2f}</td>"
            f"<td>{'same' if same else 'differs'}</td></tr>")
    head = ("review", "£m without", "£m with", "difference", "trust without", "trust with",
            "every figure")
    notice = getattr(with_shock, "notice", "")
    return (f'<p class="cs-parted">{_e(parted)} {_e(ends)}</p>'
            + (f"<p><b>{_e(notice)}</b></p>" if notice else "") + verdicts,
            '<table class="cs-table cs-compare"><thead><tr>'
            + "".join(f"<th>{_e(h)}</th>" for h in head)
            + f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode()


CSS = """
.cs-root { height: 100vh; display: flex; overflow: hidden; font-size: 14px; color: #1d2d35; }
.cs-side { width: 330px; flex: none; overflow-y: auto; padding: 6px 12px 12px;
           border-right: 1px solid #d5dadd; background: #f6f8f9; }
.cs-main { flex: 1; min-width: 0; overflow-y: auto; padding: 0 10px 8px; }
.cs-title { font-size: 15px; font-weight: 600; margin: 4px 0 6px; line-height: 1.25; }
.cs-buttons { display: flex; gap: 6px; margin-bottom: 4px; }
.cs-buttons .v-btn { flex: 1; min-width: 0 !important; padding: 0 4px !important;
                     text-transform: none; letter-spacing: 0; font-size: 14px; }
.cs-slider { margin: 2px 0 0; }
.cs-slider-head { display: flex; justify-content: space-between; font-size: 13px;
                  line-height: 18px; }
.cs-value { font-weight: 700; font-variant-numeric: tabular-nums; }
.cs-slider .v-input { margin-top: -4px !important; padding-top: 0 !important; }
.cs-slider .v-input__slot { margin-bottom: 0 !important; min-height: 22px; }
.cs-side .v-expansion-panel-header { min-height: 34px !important; padding: 4px 12px;
                                     font-weight: 600; }
.cs-side .v-expansion-panel-content__wrap { padding: 0 12px 6px; }
.cs-side .v-select { margin-top: 10px; padding-top: 4px; }
.cs-side .v-text-field__details { display: none; }
.cs-pending { font-size: 13px; background: #fff3cd; padding: 2px 6px; margin: 2px 0 4px; }
.cs-main .v-tabs > .v-tabs-bar { height: 36px; }
.cs-main .v-tab { text-transform: none; letter-spacing: 0; font-size: 15px; }
.cs-monitors { display: flex; gap: 6px; margin: 4px 0; }
.cs-monitor { flex: 1; background: #eef2f3; border-radius: 4px; padding: 2px 8px; }
.cs-monitor-label { font-size: 12px; color: #4a5a62; }
.cs-monitor-value { font-size: 15px; font-weight: 700; font-variant-numeric: tabular-nums; }
.cs-verdict { padding: 3px 8px; margin: 4px 0; border-radius: 4px; font-size: 13.5px; }
.cs-good { background: #d8f0ec; } .cs-bad { background: #fbe3dc; }
.cs-plots { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 6px; }
.cs-plot { width: 100%; height: auto; display: block; }
.cs-wide { width: 100%; height: auto; display: block; }
.cs-table { border-collapse: collapse; font-size: 13px; margin-top: 4px; }
.cs-table th, .cs-table td { padding: 1px 8px; border-bottom: 1px solid #e2e6e8;
                             text-align: right; white-space: nowrap; }
.cs-table th:first-child, .cs-table td:first-child { text-align: left; }
.cs-differs td { background: #fdf0ec; }
.cs-events, .cs-parted, .cs-verdict-line { margin: 2px 0; font-size: 13px; }
.cs-info { padding: 0 1em; font-size: 15px; max-width: 60em; }
"""


# --- the page ---------------------------------------------------------------------------------


def _snap(value, spec):
    """A slider's value on its step (the browser sends floats such as 0.15000000000000002)."""
    if spec["type"] == "SliderInt":
        return int(round(value))
    step = spec.get("step") or 0.01
    return round(round(float(value) / step) * step, 10)


def _shown(value, spec) -> str:
    return f"{int(value)}" if spec["type"] == "SliderInt" else f"{float(value):.2f}"


@solara.component
def ValueSlider(name: str, spec: dict, value, on_value):
    """A slider whose value is always shown beside its label, above a full-width track."""
    with solara.Div(classes=["cs-slider"]):
        solara.HTML(tag="div", classes=["cs-slider-head"], unsafe_innerHTML=(
            f'<span class="cs-label">{_e(spec.get("label", name))}</span>'
            f'<span class="cs-value" data-slider="{_e(name)}">{_shown(value, spec)}</span>'))
        solara.v.Slider(v_model=value, min=spec["min"], max=spec["max"], step=spec["step"],
                        dense=True, hide_details=True,
                        on_v_model=lambda v: on_value(name, _snap(v, spec)))


@solara.component
def Control(name: str, spec: dict, value, on_value):
    if spec["type"] == "Select":
        solara.Select(spec.get("label", name), values=spec["values"], value=value, dense=True,
                      on_value=lambda v: on_value(name, v))
    else:
        ValueSlider(name, spec, value, on_value)


@solara.component
def Figure(draw, model, tick, wide=False):
    """A matplotlib picture of the model, redrawn only when the model moves on."""
    src = solara.use_memo(lambda: _png(draw(model)), [model, tick])
    title = (draw.__doc__ or "").split(".")[0]
    return solara.HTML(tag="div", unsafe_innerHTML=(
        f'<img class="{"cs-wide" if wide else "cs-plot"}" alt="{_e(title)}" '
        f'src="data:image/png;base64,{src}">'))


@solara.component
def ShockComparison(values: dict):
    """The partnership run to the end without and with the chosen shock, side by side."""
    chosen = values.get("shock", NO_SHOCK) != NO_SHOCK
    key = tuple(sorted((k, repr(v)) for k, v in values.items() if k != "scenario"))
    runs = solara.use_memo(lambda: with_and_without(values) if chosen else None, [key])
    if not chosen:
        solara.HTML(tag="p", unsafe_innerHTML=(
            "Choose a shock under <b>The shock</b> in the sidebar (its kind, whom it hits, at "
            "which review and how hard): this tab then runs the partnership to the end twice on "
            "the same random numbers, without the shock and with it, so every difference you see "
            "is the shock's doing."), classes=["cs-parted"])
        return
    without, with_shock = runs
    at = int(values["shock_cycle"])
    summary, table = comparison_html(without, with_shock, at)
    solara.HTML(tag="div", unsafe_innerHTML=summary)
    Figure(lambda _: tp.shock_side_by_side(without, with_shock, at), without, key, wide=True)
    solara.HTML(tag="div", unsafe_innerHTML=table)


def _settings_differ(values: dict, model) -> bool:
    return any(model.settings.get(k, v) != v for k, v in values.items() if k != "scenario")


@solara.component
def PartnershipPage(scenario=None):
    """The whole page for a scenario (a path, mapping or Scenario; default three_councils)."""
    params = solara.use_memo(
        lambda: model_params(scenario if scenario is not None else DEFAULT_SCENARIO), [])
    values = solara.use_reactive(start_values(params))
    first_model = solara.use_memo(lambda: TeachingModel(**values.value), [])
    model = solara.use_reactive(first_model)
    tick = solara.use_reactive(0)          # bumped whenever the model moves on
    playing = solara.use_reactive(False)
    error = solara.use_reactive("")
    tab = solara.use_reactive(0)
    open_groups = solara.use_reactive([0, 1])   # the charter and the shock, at first
    lock = solara.use_memo(threading.Lock, [])

    def rebuild(settings=None):
        playing.set(False)
        try:
            with lock:
                model.set(TeachingModel(**(settings or values.value)))
            error.set("")
        except (ScenarioError, ValueError) as exc:
            error.set(f"These settings do not make a partnership: {exc}")
        tick.set(tick.value + 1)

    def set_value(name, value):
        new = {**values.value, name: value}
        values.set(new)
        if model.value.cycle == 0 and not playing.value:
            rebuild(new)   # nothing has happened yet: show the partnership the sliders describe

    def step(to_end=False):
        with lock:
            m = model.value
            while not m.finished:
                m.step()
                if not to_end:
                    break
        tick.set(tick.value + 1)

    def play():
        while playing.value and not model.value.finished:
            time.sleep(PLAY_INTERVAL_MS / 1000)
            if playing.value:
                step()
        playing.set(False)

    solara.use_thread(play, dependencies=[playing.value])

    m = model.value
    solara.Style(CSS)
    with solara.Div(classes=["cs-root"]):
        with solara.Div(classes=["cs-side"]):
            solara.HTML(tag="div", classes=["cs-title"], unsafe_innerHTML=title_html(m))
            with solara.Div(classes=["cs-buttons"]):
                solara.Button("Reset", color="primary", small=True, on_click=rebuild)
                solara.Button("Pause" if playing.value else "Play", color="primary", small=True,
                              disabled=m.finished, on_click=lambda: playing.set(not playing.value))
                solara.Button("Step", color="primary", small=True,
                              disabled=playing.value or m.finished, on_click=step)
                solara.Button("To end", color="primary", small=True,
                              disabled=playing.value or m.finished,
                              on_click=lambda: step(to_end=True))
            if _settings_differ(values.value, m):
                solara.HTML(tag="div", classes=["cs-pending"], unsafe_innerHTML=(
                    "Sliders changed during the run: press <b>Reset</b> to build the "
                    "partnership they describe."))
            if error.value:
                solara.Error(error.value)
            Control("seed", params["seed"], values.value["seed"], set_value)
            panels = []
            for title, names in slider_groups(params):
                panels.append(solara.v.ExpansionPanel(children=[
                    solara.v.ExpansionPanelHeader(children=[title]),
                    solara.v.ExpansionPanelContent(children=[
                        Control(n, params[n], values.value[n], set_value) for n in names])]))
            solara.v.ExpansionPanels(multiple=True, accordion=True, v_model=open_groups.value,
                                     on_v_model=open_groups.set, children=panels)
            with solara.Row(style={"margin-top": "6px", "flex-wrap": "wrap", "gap": "4px"}):
                solara.FileDownload(lambda: history_csv(model.value), "partnership_reviews.csv",
                                    label="CSV: the partnership")
                solara.FileDownload(lambda: history_csv(model.value, partners=True),
                                    "partners_reviews.csv", label="CSV: each partner")
        with solara.Div(classes=["cs-main"]):
            with solara.lab.Tabs(value=tab, lazy=True):
                with solara.lab.Tab(TABS[0]):
                    solara.HTML(tag="div", unsafe_innerHTML=monitors_html(m))
                    with solara.Div(classes=["cs-plots"]):
                        for draw in (tp.savings_against_business_case, tp.trust_over_time,
                                     tp.trust_network, tp.satisfaction_over_time):
                            Figure(draw, m, tick.value)
                    solara.HTML(tag="div", unsafe_innerHTML=partners_html(m))
                with solara.lab.Tab(TABS[1]):
                    ShockComparison(values.value)
                with solara.lab.Tab(TABS[2]):
                    solara.HTML(tag="div", classes=["cs-info"], unsafe_innerHTML=_info_html())


def _info_html() -> str:
    """The Info tab as plain HTML (solara.Markdown would fetch a maths renderer from a CDN, which
    a classroom without internet cannot reach)."""
    import markdown

    return markdown.markdown(INFO, extensions=["tables"])


def partnership_page(scenario=None):
    """The page for a scenario (a path, mapping or Scenario; default three_councils):
    displayed in a notebook, or served by `collabsim app`."""
    return PartnershipPage(scenario=scenario)


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's signature
    """The page fills the window itself: no app bar or navigation drawer around it."""
    return solara.Div(children=children)


@solara.component
def Page():  # noqa: N802 - the name `solara run` looks for
    """The page `collabsim app` serves: the scenario named by COLLABSIM_APP_SCENARIO."""
    return partnership_page(os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO)
