"""Monte Carlo runs (sim.run): the result depends only on the scenario and the root seed, never
on how replications are spread over workers or chunks; any replication can be recomputed alone;
the summary is consistent with the outcomes table."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.montecarlo.runs import TIMESERIES_COLUMNS, replication_seed
from sim.partnership.inputs import count_run_inputs
from sim.partnership.noise import width
from sim.partnership.outcomes import STATUSES, run_outcome
from sim.montecarlo.statistics import wilson_interval

ROOT = Path(__file__).resolve().parent.parent
N = 30


@pytest.fixture(scope="module")
def scenario():
    return sim.load_scenario(ROOT / "scenarios" / "three_councils.yaml")


@pytest.fixture(scope="module")
def result(scenario):
    return sim.run(scenario, replications=N, seed=11, engine="mesa")


@pytest.fixture(scope="module")
def vector(scenario):
    return sim.run(scenario, replications=N, seed=11, engine="vector")


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["mesa", "vector"])
def test_the_result_does_not_depend_on_the_number_of_workers(scenario, engine, request):
    alone = request.getfixturevalue("result" if engine == "mesa" else "vector")
    parallel = sim.run(scenario, replications=N, seed=11, executor=sim.Executor(workers=2),
                       chunk_size=7, engine=engine)
    pd.testing.assert_frame_equal(alone.outcomes, parallel.outcomes)
    pd.testing.assert_frame_equal(alone.timeseries, parallel.timeseries)
    assert alone.summary == parallel.summary


def test_both_engines_give_the_same_tables(result, vector):
    pd.testing.assert_frame_equal(result.outcomes, vector.outcomes, check_dtype=False,
                                  check_exact=False, rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(result.timeseries, vector.timeseries, check_exact=False,
                                  rtol=0, atol=1e-9)


def test_the_vector_engine_is_the_default(scenario, vector):
    pd.testing.assert_frame_equal(sim.run(scenario, replications=N, seed=11).outcomes,
                                  vector.outcomes)


@pytest.mark.slow
@pytest.mark.parametrize("chunk_size", [1, 7, 29, 1000])
def test_vector_results_do_not_depend_on_the_chunk_size(scenario, vector, chunk_size):
    other = sim.run(scenario, replications=N, seed=11, chunk_size=chunk_size)
    pd.testing.assert_frame_equal(vector.outcomes, other.outcomes)
    pd.testing.assert_frame_equal(vector.timeseries, other.timeseries)
    assert vector.summary == other.summary


@pytest.mark.slow
def test_the_result_does_not_depend_on_the_chunk_size(scenario, result):
    small = sim.run(scenario, replications=N, seed=11, chunk_size=7, engine="mesa")
    large = sim.run(scenario, replications=N, seed=11, chunk_size=50, engine="mesa")
    pd.testing.assert_frame_equal(small.outcomes, large.outcomes)
    pd.testing.assert_frame_equal(small.timeseries, large.timeseries)
    pd.testing.assert_frame_equal(small.outcomes, result.outcomes)


def test_a_run_is_reproducible_from_its_root_seed(scenario, result):
    again = sim.run(scenario, replications=N, seed=11)
    pd.testing.assert_frame_equal(result.outcomes, again.outcomes)
    pd.testing.assert_frame_equal(result.timeseries, again.timeseries)


def test_another_root_seed_gives_another_run(scenario, result):
    other = sim.run(scenario, replications=N, seed=12)
    assert not other.outcomes["net_savings_m"].equals(result.outcomes["net_savings_m"])


def test_a_shorter_run_is_the_start_of_a_longer_one(scenario, result):
    short = sim.run(scenario, replications=10, seed=11, engine="mesa")
    pd.testing.assert_frame_equal(short.outcomes, result.outcomes.iloc[:10])


@pytest.mark.parametrize("r", [0, 13, N - 1])
def test_any_replication_can_be_recomputed_alone(scenario, result, r):
    model = sim.run_model(scenario, 11, r)
    row = result.outcomes.iloc[r]
    assert row["replication"] == r
    expected = pd.Series({"replication": r, **run_outcome(model)}, name=r)
    pd.testing.assert_series_equal(row, expected, check_dtype=False, check_exact=True)
    assert model.cum_net_savings == row["net_savings_m"]
    series = model.datacollector.get_model_vars_dataframe()
    mine = result.timeseries[result.timeseries["replication"] == r]
    for column in TIMESERIES_COLUMNS:
        assert mine[column].tolist() == series[column].tolist(), column


def test_replications_are_not_copies_of_each_other(result):
    assert result.outcomes["net_savings_m"].nunique() > N // 2


def test_the_replication_generator_is_the_one_the_model_draws_from(scenario):
    model = sim.PartnershipModel(scenario=scenario, rng=replication_seed(11, 4))
    rng = sim.replication_rng(11, 4)
    rng.random(count_run_inputs(scenario))
    expected = rng.random((scenario.horizon, width(3)))
    assert np.array_equal(model.noise, expected)


def test_design_points_of_a_sweep_get_their_own_seeds(scenario):
    a = sim.run_model(scenario, 11, 0, sample=0).datacollector.get_model_vars_dataframe()
    b = sim.run_model(scenario, 11, 0, sample=1).datacollector.get_model_vars_dataframe()
    assert not a.equals(b)


def test_the_tables_have_one_row_per_replication_and_per_review(scenario, result):
    assert result.outcomes["replication"].tolist() == list(range(N))
    assert len(result.timeseries) == N * (scenario.horizon + 1)
    assert list(result.timeseries.columns) == ["replication", *TIMESERIES_COLUMNS]
    assert result.timeseries.groupby("replication")["cycle"].apply(list).map(
        lambda c: c == list(range(scenario.horizon + 1))).all()


def test_p_deliver_is_the_share_delivered_and_lies_in_its_wilson_interval(result):
    s = result.summary
    delivered = int(result.outcomes["delivered"].sum())
    assert s["replications"] == N and s["seed"] == 11
    assert s["p_deliver"] == pytest.approx(delivered / N)
    assert s["p_deliver"] == result.outcomes["delivered"].mean()     # exactly
    low, high = s["p_deliver_ci"]
    assert (low, high) == pytest.approx(wilson_interval(delivered, N))
    assert 0.0 <= low <= s["p_deliver"] <= high <= 1.0


def test_status_shares_cover_every_status_and_sum_to_one(result):
    shares = result.summary["status_shares"]
    assert set(shares) == set(STATUSES)
    assert sum(shares.values()) == pytest.approx(1.0)
    for status, share in shares.items():
        assert share == pytest.approx((result.outcomes["status"] == status).mean())


def test_the_summary_agrees_with_the_outcomes_table(result):
    s, out = result.summary, result.outcomes
    assert s["p_dissolved"] == pytest.approx(out["dissolved"].mean())
    assert s["p_any_exit"] == pytest.approx((out["exits"] > 0).mean())
    assert s["median_savings_pct"] == pytest.approx(out["savings_pct"].median())
    assert s["p_dissolved"] == pytest.approx(s["status_shares"]["dissolved"])


@pytest.mark.parametrize("successes, n", [(0, 10), (10, 10), (3, 10), (50, 100)])
def test_the_wilson_interval_contains_the_observed_share(successes, n):
    low, high = wilson_interval(successes, n)
    assert 0.0 <= low <= successes / n <= high <= 1.0


def test_the_wilson_interval_at_none_or_all_is_one_sided_and_narrow():
    low, high = wilson_interval(0, 50)
    assert low == 0.0 and 0.0 < high < 0.1
    low, high = wilson_interval(50, 50)
    assert 0.9 < low < 1.0 and high == 1.0


def test_the_seed_defaults_to_the_scenarios_own(scenario):
    default = sim.run(scenario, replications=3)
    explicit = sim.run(scenario, replications=3, seed=scenario.seed)
    assert default.seed == scenario.seed
    pd.testing.assert_frame_equal(default.outcomes, explicit.outcomes)


def test_run_accepts_a_path_and_reports_progress_up_to_the_total(scenario):
    calls = []
    path = ROOT / "scenarios" / "three_councils.yaml"
    by_path = sim.run(path, replications=5, seed=2, chunk_size=2, executor=sim.Executor(
        on_progress=lambda done, total: calls.append((done, total))))
    assert calls == [(2, 5), (4, 5), (5, 5)]
    by_object = sim.run(scenario, replications=5, seed=2)
    pd.testing.assert_frame_equal(by_path.outcomes, by_object.outcomes)
    by_text = sim.run(str(path), replications=5, seed=2)
    pd.testing.assert_frame_equal(by_text.outcomes, by_object.outcomes)


@pytest.mark.parametrize("bad", [{"replications": 0}, {"replications": -3},
                                 {"replications": 5, "chunk_size": 0},
                                 {"replications": 5, "engine": "netlogo"}])
def test_run_rejects_empty_runs_and_nonsensical_batching(scenario, bad):
    with pytest.raises(ValueError):
        sim.run(scenario, seed=1, **bad)
