"""PartnershipModel with Mesa's own batch_run, called as Mesa's documentation calls it: a Scenario
as a single parameter, a last row per run that is its final review and its row of the outcomes
table, two processes; and the model as one run: stepping past the horizon, seeds, agents."""

from pathlib import Path

import mesa
import pandas as pd
import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
THREE = ROOT / "scenarios" / "three_councils.yaml"


@pytest.fixture(scope="module")
def three():
    return sim.load_scenario(THREE)


def batch_run(parameters, max_steps, processes=1, period=-1):
    """mesa.batch_run as its documentation shows it, as a table."""
    return pd.DataFrame(mesa.batch_run(
        sim.PartnershipModel, parameters=parameters, max_steps=max_steps,
        number_processes=processes, data_collection_period=period, display_progress=False))


# --- mesa.batch_run ---------------------------------------------------------------------------


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
