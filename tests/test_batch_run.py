"""PartnershipModel with Mesa's own batch_run, called as Mesa's documentation calls it: a Scenario
as a single parameter, a last row per run that is its final review and its row of the outcomes
table, two processes; and the model as one run: stepping past the horizon, seeds, agents."""

import inspect
from pathlib import Path

import mesa
import pandas as pd
import pytest

import sim
from sim.partnership.seeds import replication_seed

ROOT = Path(__file__).resolve().parent.parent
THREE = ROOT / "scenarios" / "three_councils.yaml"
#: The outcomes table's verdict columns, which the model reports after every review.
VERDICT = ["delivered", "status", "savings_pct", "failure_path"]
SEED = 7


def batch_run(parameters, max_steps, processes=1, period=-1):
    """mesa.batch_run as its documentation shows it, as a table."""
    return pd.DataFrame(mesa.batch_run(
        sim.PartnershipModel, parameters=parameters, max_steps=max_steps,
        number_processes=processes, data_collection_period=period, display_progress=False))


def last_rows(table):
    """Each run's last row (one per run: with agent reporters Mesa gives one per agent)."""
    return table.sort_values(["RunId", "Step"]).groupby("RunId").tail(1).set_index("RunId")


# --- mesa.batch_run ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_last_row_of_each_run_is_its_final_review_and_its_row_of_the_outcomes_table(
        three_councils):
    runs, ambitions = 12, [0.2, 0.8]
    seeds = [replication_seed(SEED, r) for r in range(runs)]
    table = mesa.batch_run(sim.PartnershipModel,
                           parameters={"scenario": three_councils,
                                       "partners.*.ambition": ambitions, "seed": seeds},
                           iterations=1, max_steps=three_councils.horizon, number_processes=2,
                           data_collection_period=-1, display_progress=False)
    last = last_rows(pd.DataFrame(table))
    assert len(last) == runs * len(ambitions)
    horizon = three_councils.horizon
    assert (last["Step"] == horizon).all() and (last["cycle"] == horizon).all()
    for ambition in ambitions:
        # the path took effect: the runs are the Monte Carlo runs of the edited scenario
        edited = three_councils.with_values({"partners.*.ambition": ambition})
        outcomes = sim.run(edited, replications=runs, seed=SEED, engine="mesa").outcomes
        mine = last[last["partners.*.ambition"] == ambition]
        mine = mine.assign(replication=[seeds.index(s) for s in mine["seed"]])
        mine = mine.sort_values("replication").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine[VERDICT], outcomes[VERDICT], check_dtype=False)
        # so the share delivered read from batch_run is the Monte Carlo run's P(deliver)
        assert mine["delivered"].mean() == sim.run(edited, replications=runs,
                                                   seed=SEED).summary["p_deliver"]
    by_ambition = last.groupby("partners.*.ambition")["savings_pct"].mean()
    assert by_ambition[0.8] > by_ambition[0.2]


def test_batch_run_sweeps_scenario_field_paths_of_any_kind(three_councils):
    table = last_rows(batch_run({"scenario": three_councils, "seed": 1,
                                 "partners.Northshire.ambition": [0.1, 0.9],
                                 "charter.decision_rule": ["unanimity", "majority"],
                                 "parameters.trust_memory": 0.5}, three_councils.horizon))
    assert len(table) == 4
    for _, row in table.iterrows():
        data = three_councils.model_dump(mode="json", exclude_none=True)
        data["partners"][0]["ambition"] = row["partners.Northshire.ambition"]
        data["charter"]["decision_rule"] = row["charter.decision_rule"]
        data["parameters"]["trust_memory"] = 0.5
        expected = sim.PartnershipModel(sim.scenario_from_dict(data), seed=1)
        while expected.running:
            expected.step()
        assert row["cum_net_savings_m"] == expected.cum_net_savings
    assert table["cum_net_savings_m"].nunique() > 1


def test_every_review_is_reported_when_collecting_every_step(three_councils):
    table = batch_run({"scenario": three_councils, "seed": [3]}, three_councils.horizon, period=1)
    steps = table.drop_duplicates("Step")
    assert steps["Step"].tolist() == list(range(three_councils.horizon + 1))
    direct = sim.PartnershipModel(three_councils, seed=3)
    while direct.running:
        direct.step()
    expected = direct.datacollector.get_model_vars_dataframe()
    for column in ("cycle", "cum_net_savings_m", "mean_trust", *VERDICT):
        assert steps[column].tolist() == expected[column].tolist(), column


def test_a_single_scenario_is_one_parameter_value_not_a_sweep_over_its_fields(three_councils):
    table = batch_run({"scenario": three_councils, "seed": 1}, three_councils.horizon)
    assert table["RunId"].nunique() == 1
    assert table["scenario"].iloc[0] == three_councils
    by_path = batch_run({"scenario": str(THREE), "seed": 1}, three_councils.horizon)
    assert by_path["RunId"].nunique() == 1


def test_a_scenario_is_not_iterable_but_stays_a_pydantic_model(three_councils):
    with pytest.raises(TypeError):
        iter(three_councils)
    assert sim.scenario_from_dict(three_councils.model_dump(mode="json")) == three_councils
    assert three_councils.model_copy(update={"horizon": 4}).horizon == 4


# --- one run ----------------------------------------------------------------------------------


def test_stepping_past_the_horizon_closes_the_run_and_changes_nothing(three_councils):
    model = sim.PartnershipModel(three_councils, rng=2)
    for _ in range(three_councils.horizon):
        model.step()
    before = model.datacollector.get_model_vars_dataframe()
    savings, events = model.cum_net_savings, list(model.events)
    for _ in range(3):
        model.step()        # the first is the closing step; none is a review
        assert not model.running
    assert model.cycle == three_councils.horizon
    assert model.cum_net_savings == savings and model.events == events
    pd.testing.assert_frame_equal(model.datacollector.get_model_vars_dataframe(), before)


def test_a_scenario_can_be_given_by_position_and_seed_means_rng(three_councils):
    by_path = sim.PartnershipModel(str(THREE), rng=4)
    assert by_path.scenario == three_councils
    by_seed = sim.PartnershipModel(three_councils, seed=4)
    assert by_seed.inputs.sampled.tolist() == by_path.inputs.sampled.tolist()
    with pytest.raises(ValueError, match="not both"):
        sim.PartnershipModel(three_councils, seed=4, rng=4)


def test_mesa_3_4_and_later_batch_run_seed_the_model_by_rng_and_keep_a_seed_parameter(
        three_councils):
    """Mesa 3.4+'s batch_run passes its own seed (None unless batch_run(rng=...) is given) as
    `seed` when the model's signature names one, else as `rng`: the model names only `rng`,
    so a `seed` among the parameters still seeds the run."""
    assert "seed" not in inspect.signature(sim.PartnershipModel).parameters
    named = sim.PartnershipModel(three_councils, rng=None, seed=9)
    assert named.inputs.sampled.tolist() == sim.PartnershipModel(
        three_councils, rng=9).inputs.sampled.tolist()


def test_an_unknown_keyword_is_a_scenario_error_with_a_suggestion(three_councils):
    with pytest.raises(sim.ScenarioError, match=r"ambition: not a field.*'partners\.\*\.ambition'"):
        sim.PartnershipModel(three_councils, rng=1, ambition=0.5)
    with pytest.raises(sim.ScenarioError, match=r"'charter\.decision_rule'"):
        sim.PartnershipModel(three_councils, rng=1, decision_rule="majority")
    with pytest.raises(sim.ScenarioError, match=r"\(Northshire\)\.ambition: .* within \[0, 1\]"):
        sim.PartnershipModel(three_councils, rng=1, **{"partners.Northshire.ambition": 2.0})


def test_the_model_keeps_its_scenario_where_mesa_3_5_ties_a_scenario_of_its_own(monkeypatch):
    """Mesa 3.5's Model has a `scenario` property whose setter sets `scenario.model = self`,
    which a frozen pydantic Scenario refuses: here mesa.Model is given that property."""
    def tie(model, scenario):
        model._mesa_scenario = scenario
        scenario.model = model

    monkeypatch.setattr(mesa.Model, "scenario",
                        property(lambda model: model._mesa_scenario, tie), raising=False)
    model = sim.PartnershipModel(THREE, rng=1)
    assert model.scenario.name == sim.load_scenario(THREE).name
    model.step()


def test_a_partner_reads_as_its_name():
    model = sim.PartnershipModel(THREE, rng=1)
    assert "Northshire" in repr(model.partners[0])
    assert [a.name for a in model.partners] == model.scenario.partner_names()


def _three_with(shocks, **charter):
    data = sim.load_scenario(THREE).model_dump(mode="json", exclude_none=True)
    data["shocks"] = shocks
    data["charter"].update(charter)
    return sim.scenario_from_dict(data)


@pytest.mark.parametrize("shock, trait", [
    ({"kind": "budget_cut", "partner": "Eastvale", "at_cycle": 4, "magnitude": 0.5},
     "resourcing"),
    ({"kind": "staff_loss", "partner": "Eastvale", "at_cycle": 4, "magnitude": 0.5}, "skills"),
    ({"kind": "leadership_change", "partner": "Eastvale", "at_cycle": 4, "magnitude": 0.5},
     "ambition"),
])
def test_agent_reporters_follow_the_traits_a_shock_changes(shock, trait):
    # a heavy exit penalty keeps Eastvale in until its shock strikes
    scenario = _three_with([shock], exit={"penalty": 10})
    model = sim.PartnershipModel(scenario, rng=3)
    while model.running:
        model.step()
    agents = model.datacollector.get_agent_vars_dataframe()
    eastvale = agents[agents["partner"] == "Eastvale"].droplevel("AgentID")[trait]
    assert (eastvale.loc[:3] == eastvale.loc[0]).all()
    assert eastvale.loc[4] != eastvale.loc[3]
    assert eastvale.loc[scenario.horizon] == getattr(model.partners[1], trait)
    others = agents[agents["partner"] != "Eastvale"][trait]
    assert others.groupby("AgentID").nunique().eq(1).all()
