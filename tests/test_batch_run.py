"""PartnershipModel with Mesa's own batch_run, called as Mesa's documentation calls it: a Scenario
as a single parameter, a last row per run that is its final review and its row of the outcomes
table, two processes; and the model as one run: stepping past the horizon, seeds, agents."""

from pathlib import Path

import mesa
import pandas as pd
import pytest

import sim
from sim.seeds import replication_seed

ROOT = Path(__file__).resolve().parent.parent
THREE = ROOT / "scenarios" / "three_councils.yaml"
#: The outcomes table's verdict columns, which the model reports after every review.
VERDICT = ["delivered", "status", "savings_pct", "failure_path"]
SEED = 7


@pytest.fixture(scope="module")
def three():
    return sim.load_scenario(THREE)


def batch_run(parameters, max_steps, processes=1, period=-1):
    """mesa.batch_run as its documentation shows it, as a table."""
    return pd.DataFrame(mesa.batch_run(
        sim.PartnershipModel, parameters=parameters, max_steps=max_steps,
        number_processes=processes, data_collection_period=period, display_progress=False))


def last_rows(table):
    """Each run's last row (one per run: with agent reporters Mesa gives one per agent)."""
    return table.sort_values(["RunId", "Step"]).groupby("RunId").tail(1).set_index("RunId")


# --- mesa.batch_run ---------------------------------------------------------------------------


def test_the_last_row_of_each_run_is_its_final_review_and_its_row_of_the_outcomes_table(three):
    runs = 24
    seeds = [replication_seed(SEED, r) for r in range(runs)]
    table = batch_run({"scenario": three, "seed": seeds}, three.horizon, processes=2)
    last = last_rows(table)
    assert len(last) == runs
    assert (last["Step"] == three.horizon).all() and (last["cycle"] == three.horizon).all()
    outcomes = sim.run(three, replications=runs, seed=SEED, engine="mesa").outcomes
    mine = last.assign(replication=[seeds.index(s) for s in last["seed"]])
    mine = mine.sort_values("replication").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine[VERDICT], outcomes[VERDICT], check_dtype=False)
    # so the share delivered read from batch_run is the Monte Carlo run's P(deliver)
    assert mine["delivered"].mean() == pytest.approx(
        sim.run(three, replications=runs, seed=SEED).summary["p_deliver"])


def test_every_review_is_reported_when_collecting_every_step(three):
    table = batch_run({"scenario": three, "seed": [3]}, three.horizon, period=1)
    steps = table.drop_duplicates("Step")
    assert steps["Step"].tolist() == list(range(three.horizon + 1))
    direct = sim.PartnershipModel(scenario=three, seed=3)
    while direct.running:
        direct.step()
    expected = direct.datacollector.get_model_vars_dataframe()
    for column in ("cycle", "cum_net_savings_m", "mean_trust", *VERDICT):
        assert steps[column].tolist() == expected[column].tolist(), column


def test_a_single_scenario_is_one_parameter_value_not_a_sweep_over_its_fields(three):
    table = batch_run({"scenario": three, "seed": 1}, three.horizon)
    assert table["RunId"].nunique() == 1
    assert table["scenario"].iloc[0] == three
    assert batch_run({"scenario": str(THREE), "seed": 1}, three.horizon)["RunId"].nunique() == 1


def test_a_scenario_is_not_iterable_but_stays_a_pydantic_model(three):
    with pytest.raises(TypeError):
        iter(three)
    assert sim.scenario_from_dict(three.model_dump(mode="json")) == three
    assert three.model_copy(update={"horizon": 4}).horizon == 4


# --- one run ----------------------------------------------------------------------------------


def test_stepping_past_the_horizon_closes_the_run_and_changes_nothing(three):
    model = sim.PartnershipModel(scenario=three, rng=2)
    for _ in range(three.horizon):
        model.step()
    before = model.datacollector.get_model_vars_dataframe()
    savings, events = model.cum_net_savings, list(model.events)
    for _ in range(3):
        model.step()        # the first is the closing step; none is a review
        assert not model.running
    assert model.cycle == three.horizon
    assert model.cum_net_savings == savings and model.events == events
    pd.testing.assert_frame_equal(model.datacollector.get_model_vars_dataframe(), before)



def test_a_partner_reads_as_its_name():
    model = sim.PartnershipModel(scenario=THREE, rng=1)
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
    model = sim.PartnershipModel(scenario=scenario, rng=3)
    while model.running:
        model.step()
    agents = model.datacollector.get_agent_vars_dataframe()
    eastvale = agents[agents["partner"] == "Eastvale"].droplevel("AgentID")[trait]
    assert (eastvale.loc[:3] == eastvale.loc[0]).all()
    assert eastvale.loc[4] != eastvale.loc[3]
    assert eastvale.loc[scenario.horizon] == getattr(model.partners[1], trait)
    others = agents[agents["partner"] != "Eastvale"][trait]
    assert others.groupby("AgentID").nunique().eq(1).all()
