"""sim.evaluate: a design of field values in, one row of outputs per point out; and the clients
that drive it (SALib's ProblemSpec, the EMA Workbench), used as their documentation shows."""

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.evaluation import design_frame, plan

THREE = "scenarios/three_councils.yaml"
TYPICAL = "scenarios/typical.yaml"


def test_a_point_of_fixed_fields_is_the_run_of_that_scenario():
    """With common random numbers, a point whose fields change the scenario (a category, a
    whole number, a model parameter) gives exactly what `sim.run` gives for the edited scenario."""
    values = {"charter.decision_rule": "majority", "charter.exit.notice_cycles": 2,
              "parameters.trust_memory": 0.7}
    table = sim.evaluate(THREE, {k: [v] for k, v in values.items()}, replications=150,
                         outputs=("p_deliver", "p_any_exit", "mean_savings_pct",
                                  "median_savings_pct"), seed=5, common_random_numbers=True)
    run = sim.run(sim.load_scenario(THREE).with_values(values), replications=150, seed=5)
    out = run.outcomes
    assert table.loc[0, "p_deliver"] == out["delivered"].mean()
    assert table.loc[0, "p_any_exit"] == (out["exits"] > 0).mean()
    assert table.loc[0, "mean_savings_pct"] == pytest.approx(out["savings_pct"].mean(), abs=1e-9)
    assert table.loc[0, "median_savings_pct"] == out["savings_pct"].median()


def test_points_keep_their_order_and_their_values_decide():
    design = pd.DataFrame({
        "partners.*.ambition": [0.1, 0.9, 0.1, 0.9],
        "charter.decision_rule": ["unanimity", "unanimity", "majority", "majority"]})
    table = sim.evaluate(THREE, design, replications=300, seed=2, common_random_numbers=True)
    assert table[list(design.columns)].equals(design)
    assert table.loc[1, "p_deliver"] > table.loc[0, "p_deliver"]
    assert table.loc[3, "p_deliver"] > table.loc[2, "p_deliver"]


def test_an_in_place_number_is_the_value_the_run_uses_even_for_a_shared_trait():
    """typical's resourcing is shared across partners (partner_similarity 0.5): a design's value
    must still be the value every partner gets, not mixed with the partnership's draw."""
    from sim.partnership.engine import draw

    how = plan(sim.load_scenario(TYPICAL), design_frame({"partners.*.resourcing": [0.25, 0.55]}))
    (sc, rows, columns, quantiles), = how.groups
    for row in range(2):
        inputs, _, _ = draw(sc, 1, np.arange(4), 0, columns,
                            np.repeat(quantiles[row:row + 1], 4, axis=0), exact=True)
        assert np.allclose(inputs.traits["resourcing"], [0.25, 0.55][row], atol=1e-15)


def test_time_series_outputs_are_means_by_review():
    table = sim.evaluate(THREE, {"partners.*.skills": [0.2, 0.6]}, replications=100, seed=4,
                         outputs=("mean_savings_pct", "timeseries.pct_business_case"))
    H = sim.load_scenario(THREE).horizon
    assert [f"pct_business_case[{t}]" for t in range(H + 1)] == list(table.columns[2:])
    assert np.allclose(table[f"pct_business_case[{H}]"], table["mean_savings_pct"])


def test_a_longer_horizon_pads_the_shorter_ones():
    table = sim.evaluate(THREE, {"horizon": [4, 6]}, replications=20, seed=4,
                         outputs=("timeseries.mean_trust",))
    assert np.isnan(table.loc[0, "mean_trust[5]"]) and not np.isnan(table.loc[1, "mean_trust[6]"])


def test_identical_whatever_the_workers_and_chunks(monkeypatch):
    design = {"partners.*.ambition": np.linspace(0, 1, 7),
              "charter.benefit_sharing": ["equal", "by_size", "by_contribution"] * 2 + ["equal"]}
    one = sim.evaluate(THREE, design, replications=40, seed=9, outputs=("p_deliver", "mean_exits"))
    from sim.analysis import evaluation   # where sim.evaluate looks the chunk size up

    monkeypatch.setattr(evaluation, "default_chunk_size", lambda *a, **k: 80)
    two = sim.evaluate(THREE, design, replications=40, seed=9, outputs=("p_deliver", "mean_exits"),
                       executor=sim.Executor(workers=2))
    assert one.equals(two)


def test_an_interrupted_evaluation_resumes_identical(tmp_path, monkeypatch):
    from sim.analysis import evaluation   # where sim.evaluate looks the chunk size up

    monkeypatch.setattr(evaluation, "default_chunk_size", lambda *a, **k: 60)
    design = {"partners.*.ambition": np.linspace(0, 1, 6)}
    whole = sim.evaluate(THREE, design, replications=30, seed=1, checkpoint=tmp_path / "c")
    parts = sorted((tmp_path / "c").glob("points-*.npy"))
    assert len(parts) == 3
    parts[1].unlink()
    again = sim.evaluate(THREE, design, replications=30, seed=1, checkpoint=tmp_path / "c")
    assert whole.equals(again)
    with pytest.raises(ValueError, match="different evaluation"):
        sim.evaluate(THREE, design, replications=30, seed=2, checkpoint=tmp_path / "c")


@pytest.mark.parametrize("design, outputs, words", [
    ({"partners.*.ambitoin": [0.5]}, ("p_deliver",), ["did you mean 'partners.*.ambition'"]),
    ({"charter.decision_rule": ["majorty"]}, ("p_deliver",), ["charter.decision_rule",
                                                              "'majority'"]),
    ({"charter.exit.notice_cycles": [0.5]}, ("p_deliver",), ["whole number"]),
    ({"partners.*.ambition": [0.5]}, ("p_delivr",), ["did you mean 'p_deliver'"]),
    ({"partners.*.ambition": [0.5]}, ("timeseries.trust",), ["not an output"]),
    ({"partners.*.ambition": [1.5]}, ("p_deliver",), ["ambition", "[0, 1]"]),
])
def test_wrong_names_and_values_are_refused_before_anything_runs(design, outputs, words):
    with pytest.raises(sim.ScenarioError) as info:
        sim.evaluate(THREE, design, replications=10, outputs=outputs)
    for word in words:
        assert word in str(info.value)


def test_salib_problemspec_drives_the_model_through_an_evaluator():
    """As SALib's documentation shows: ProblemSpec -> sample -> evaluate(func) -> analyze."""
    from SALib import ProblemSpec

    sp = ProblemSpec({"names": ["partners.*.resourcing", "charter.penalties.threshold"],
                      "bounds": [[0.0, 1.0], [0.0, 1.0]]})
    f = sim.Evaluator(TYPICAL, sp["names"], replications=16, seed=3)
    (sp.sample_sobol(64, calc_second_order=False, seed=1).evaluate(f)
     .analyze_sobol(calc_second_order=False, seed=1))
    total = sp.analysis["ST"]
    assert total[0] > 0.5 and total[1] < 0.1   # resourcing decides; the unused threshold does not
    with pytest.raises(sim.ScenarioError, match="did you mean"):
        sim.Evaluator(TYPICAL, ["partners.*.resourcng"])


def test_ema_workbench_real_integer_and_categorical_parameters_with_a_time_series():
    """As the EMA Workbench's documentation shows: a Model around a function, uncertainties,
    outcomes, perform_experiments."""
    from ema_workbench import (CategoricalParameter, IntegerParameter, Model, RealParameter,
                               ScalarOutcome, TimeSeriesOutcome, perform_experiments)

    f = sim.outcome_function(THREE, replications=20, seed=1,
                             outputs=("p_deliver", "timeseries.mean_trust"))
    model = Model("collabsim", function=f)
    model.uncertainties = [
        RealParameter("partners.*.ambition", 0.1, 0.9),
        IntegerParameter("charter.exit.notice_cycles", 0, 3),
        CategoricalParameter("charter.decision_rule", ["unanimity", "majority"]),
    ]
    model.outcomes = [ScalarOutcome("p_deliver"), TimeSeriesOutcome("timeseries.mean_trust")]
    experiments, outcomes = perform_experiments(model, 6)
    H = sim.load_scenario(THREE).horizon
    assert outcomes["timeseries.mean_trust"].shape == (6, H + 1)
    for i, row in experiments.iterrows():   # each experiment is the function at its values
        again = f(**{p: row[p] for p in ("partners.*.ambition", "charter.exit.notice_cycles",
                                         "charter.decision_rule")})
        assert again["p_deliver"] == outcomes["p_deliver"][i]


def test_outcome_function_checks_outputs_and_inputs_when_built():
    with pytest.raises(sim.ScenarioError, match="p_delivr"):
        sim.outcome_function(THREE, outputs=("p_delivr",))
    with pytest.raises(sim.ScenarioError, match="did you mean"):
        sim.outcome_function(THREE, inputs=["charter.decision_rul"])


def test_intervals_are_those_of_the_points_own_runs():
    from sim.montecarlo.statistics import mean_interval, median_rank_bounds, wilson_interval

    outputs = ("p_deliver", "mean_savings_pct", "median_savings_pct", "timeseries.mean_trust")
    table = sim.evaluate(THREE, {"charter.decision_rule": ["majority"]}, replications=120, seed=6,
                         outputs=outputs, common_random_numbers=True, intervals=True)
    out = sim.run(sim.load_scenario(THREE).with_values({"charter.decision_rule": "majority"}),
                  replications=120, seed=6)
    row = table.iloc[0]
    assert (row["p_deliver_low"], row["p_deliver_high"]) == pytest.approx(
        wilson_interval(int(out.outcomes["delivered"].sum()), 120))
    assert (row["mean_savings_pct_low"], row["mean_savings_pct_high"]) == pytest.approx(
        mean_interval(out.outcomes["savings_pct"]))
    ranked = np.sort(out.outcomes["savings_pct"].to_numpy())
    lo, hi = median_rank_bounds(120)
    assert (row["median_savings_pct_low"], row["median_savings_pct_high"]) == (ranked[lo],
                                                                               ranked[hi])
    assert row["mean_trust_low[5]"] < row["mean_trust[5]"] < row["mean_trust_high[5]"]
    assert list(table.columns[:5]) == ["charter.decision_rule", "p_deliver", "p_deliver_low",
                                       "p_deliver_high", "mean_savings_pct"]


def test_the_median_interval_covers_95_percent_whenever_it_can():
    from scipy.stats import binom

    from sim.montecarlo.statistics import median_rank_bounds

    for n in (6, 7, 20, 64, 201, 1000):
        lo, hi = median_rank_bounds(n)
        assert hi == n - 1 - lo
        coverage = binom.cdf(hi, n, 0.5) - binom.cdf(lo, n, 0.5)
        assert 0.95 <= coverage < 0.99 or lo == 0


def test_every_named_output_has_one_summary():
    from sim.analysis.evaluation import SUMMARIES
    from sim.scenario.output_names import OUTPUTS

    assert list(SUMMARIES) == list(OUTPUTS)
