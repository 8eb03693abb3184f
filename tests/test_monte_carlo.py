"""Monte Carlo runs: reproducible by seed, whatever the workers or chunking."""

import pandas as pd
import pytest

import sim
from sim.montecarlo.statistics import wilson_interval

SCENARIO = "scenarios/three_councils.yaml"


@pytest.fixture(scope="module")
def reference():
    return sim.run(SCENARIO, replications=40, seed=11)


def test_results_do_not_depend_on_workers_or_chunk_size(reference):
    for kwargs in ({"workers": 2, "chunk_size": 7}, {"workers": 1, "chunk_size": 3}):
        other = sim.run(SCENARIO, replications=40, seed=11, **kwargs)
        pd.testing.assert_frame_equal(other.outcomes, reference.outcomes)
        pd.testing.assert_frame_equal(other.timeseries, reference.timeseries)
        assert other.summary == reference.summary


def test_any_replication_can_be_recomputed_alone(reference):
    scenario = sim.load_scenario(SCENARIO)
    model = sim.run_model(scenario, 11, 23)
    row = reference.outcomes.iloc[23]
    assert model.cum_net_savings == row["net_savings_m"]
    assert model.dissolved == row["dissolved"]


def test_the_scenario_seed_is_the_default_root_seed():
    scenario = sim.load_scenario(SCENARIO)
    a = sim.run(scenario, replications=5)
    b = sim.run(scenario, replications=5, seed=scenario.seed)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    assert a.seed == scenario.seed


def test_summary_is_consistent_with_the_outcomes(reference):
    s = reference.summary
    n = len(reference.outcomes)
    assert s["replications"] == n == 40
    lo, hi = s["p_deliver_ci"]
    assert lo <= s["p_deliver"] <= hi
    assert sum(s["status_shares"].values()) == pytest.approx(1.0)
    assert s["p_deliver"] == reference.outcomes["delivered"].mean()
    assert len(reference.timeseries) == n * (reference.scenario.horizon + 1)


def test_wilson_interval_is_sound_at_the_edges():
    lo, hi = wilson_interval(0, 50)
    assert lo == 0 and 0 < hi < 0.1
    lo, hi = wilson_interval(50, 50)
    assert 0.9 < lo < 1 and hi == 1


def test_run_rejects_nonsense_sizes():
    with pytest.raises(ValueError):
        sim.run(SCENARIO, replications=0)
    with pytest.raises(ValueError):
        sim.run(SCENARIO, replications=5, executor=sim.Executor(workers=0))
