"""Breaking points and shock timing: the search finds known crossings, says honestly when there
is none, and the curve is paired (common random numbers) and reproducible."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commandline import collabsim
import sim
from sim.analysis.stress import (StressError, breaking_point, first_crossing, parse_shock,
                                 shock_timing, with_shocks)

ROOT = Path(__file__).resolve().parent.parent
THREE = ROOT / "scenarios" / "three_councils.yaml"


def steady_pair():
    """Two strong partners and an easy business case: almost every run delivers, unless the
    forced exit at review 1 (which goes ahead with chance = magnitude) dissolves the pair."""
    partner = {"size": 3.0, "ambition": 0.9, "resourcing": 0.9, "skills": 0.9,
               "trustworthiness": 0.95, "trust_propensity": 0.8, "commitment": 0.95,
               "volatility": 0.0, "control_concern": 0.2, "patience": 10}
    return sim.scenario_from_dict({
        "name": "steady pair", "horizon": 8, "seed": 11,
        "partners": [{"name": "A", **partner}, {"name": "B", **partner}],
        "charter": {"business_case": {"target_net_savings_m": 0.1, "savings_potential": 0.1,
                                      "ramp_up_cycles": 2}},
    })


@pytest.mark.slow
def test_the_search_finds_a_known_crossing_with_few_evaluations():
    # delivered iff the exit's uniform u >= m, so P(deliver)(m) = p0 (1 - m): crossing at
    # 1 - threshold / p0
    result = breaking_point(steady_pair(), ["partner_exit:partner=B,at_cycle=1"],
                            replications=4000, tolerance=0.01)
    p0 = result.baseline["p_deliver"]
    assert p0 > 0.95
    expected = 1 - 0.5 / p0
    assert result.status == "crossing"
    # within three standard errors of the truth (one sample of 4000 runs: a single seed's 95%
    # interval misses the truth one time in twenty, so the test does not ask it to cover it)
    se = (0.25 / 4000) ** 0.5 / p0
    assert result.crossing == pytest.approx(expected, abs=3 * se + 0.005)
    lo, hi = result.crossing_ci
    assert lo <= result.crossing <= hi and hi - lo < 0.06
    # a scan of 5 points and a bisection to 0.01, not a fine grid
    assert len(result.curve) <= 5 + 5
    assert (result.curve["stage"] == "bisection").sum() >= 3
    assert result.curve["p_deliver"].is_monotonic_decreasing


def test_no_breaking_point_within_range_is_said_plainly():
    result = breaking_point(steady_pair(), ["partner_exit:partner=B,at_cycle=1"],
                            low=0.0, high=0.2, replications=1000)
    assert result.status == "none_in_range" and result.crossing is None
    assert "no breaking point within magnitude 0 to 0.2" in result.message
    assert len(result.curve) == 5


def test_a_partnership_already_below_the_threshold_has_nothing_to_break():
    result = breaking_point(THREE, ["budget_cut:partner=Northshire"], threshold=0.9,
                            replications=500)
    assert result.status == "below_from_the_start" and result.crossing is None
    assert "already below 90%" in result.message


@pytest.mark.slow
def test_the_curve_is_paired_and_reproducible_whatever_the_workers():
    shocks = ["budget_cut:partner=Northshire,at_cycle=2"]
    one = breaking_point(THREE, shocks, replications=600)
    two = breaking_point(THREE, shocks, replications=600, executor=sim.Executor(workers=2))
    pd.testing.assert_frame_equal(one.curve, two.curve)
    # a budget cut of size 0 changes nothing, and the same runs are used: exactly the baseline
    zero = one.curve[one.curve["magnitude"] == 0.0].iloc[0]
    assert zero["p_deliver"] == one.baseline["p_deliver"]
    # and the baseline is exactly `collabsim run` of the scenario with the same seed
    run = sim.run(with_shocks(sim.load_scenario(THREE), [{"kind": "budget_cut", "rate": 0.0}]),
                  replications=600, seed=one.settings["seed"])
    assert run.summary["p_deliver"] == one.baseline["p_deliver"]


def test_combined_shocks_share_the_varied_value_and_rate_can_vary():
    result = breaking_point(THREE, ["budget_cut:partner=all,magnitude=0.5",
                                    "staff_loss:partner=all,magnitude=0.5"], vary="rate",
                            replications=300, threshold=0.2)
    assert list(result.curve.columns[:1]) == ["rate"]
    assert len(result.settings["shocks"]) == 2
    assert result.curve["p_deliver"].iloc[0] > result.curve["p_deliver"].iloc[-1]


def test_first_crossing_interpolates_and_reports_none_honestly():
    values = np.array([0.0, 0.5, 1.0])
    P = np.array([[0.9, 0.6, 0.2],    # crosses 0.5 between 0.5 and 1.0, a quarter of the way
                  [0.9, 0.8, 0.7],    # never below
                  [0.4, 0.3, 0.2]])   # below from the start
    x = first_crossing(values, P, 0.5)
    assert x[0] == pytest.approx(0.625)
    assert np.isnan(x[1]) and np.isnan(x[2])


@pytest.mark.slow
def test_timing_compares_each_review_with_the_shock_absent():
    result = shock_timing(THREE, ["budget_cut:partner=Northshire,magnitude=0.8"], replications=2000)
    t = result.table
    assert t["at_cycle"].tolist() == list(range(1, 11))
    assert np.allclose(t["harm"], result.baseline["p_deliver"] - t["p_deliver"], atol=1e-12)
    assert result.early_late["difference"] > 0 and result.early_late["ci_low"] > 0
    assert result.message.startswith("early shocks hurt more")


@pytest.mark.slow
def test_shocks_written_as_on_the_command_line_are_added_as_run_shock_adds_them(tmp_path):
    """sim.with_shocks takes the texts `collabsim run --shock` takes, so a notebook adds the
    same shocks; sim.scenario_text is the YAML a results folder records, and loads back."""
    base = sim.load_scenario(THREE)
    added = sim.with_shocks(THREE, ["budget_cut:partner=Northshire",
                                    {"kind": "lapse", "partner": "all", "rate": 0.1}])
    assert added.shocks[:len(base.shocks)] == base.shocks
    new = added.shocks[len(base.shocks):]
    assert (new[0].kind, new[0].partner, new[0].at_cycle) == ("budget_cut", "Northshire", 2)
    assert (new[1].kind, new[1].rate) == ("lapse", 0.1)
    path = tmp_path / "shocked.yaml"
    path.write_text(sim.scenario_text(added))
    assert sim.load_scenario(path) == added
    proc = collabsim("run", THREE, "-n", 50, "--seed", 3, "--shock",
                     "budget_cut:partner=Northshire", "--json", "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stderr
    ran = json.loads(proc.stdout)
    in_code = sim.run(sim.with_shocks(THREE, ["budget_cut:partner=Northshire"]), 50, seed=3)
    assert ran["p_deliver"] == in_code.summary["p_deliver"]
    with pytest.raises(StressError, match="did you mean 'budget_cut'"):
        sim.with_shocks(THREE, ["budget_cuts"])


def test_shock_texts_are_parsed_and_checked():
    assert parse_shock("budget_cut:partner=Northshire,at_cycle=3,magnitude=0.4") == {
        "kind": "budget_cut", "partner": "Northshire", "at_cycle": 3, "magnitude": 0.4}
    assert parse_shock("lapse", partner="all", at_cycle=2) == {
        "kind": "lapse", "partner": "all", "at_cycle": 2}
    assert parse_shock("lapse:rate=0.1", at_cycle=2) == {"kind": "lapse", "rate": 0.1}
    with pytest.raises(StressError, match="did you mean 'budget_cut'"):
        parse_shock("budget_cuts")
    with pytest.raises(StressError, match="not partner=NAME"):
        parse_shock("budget_cut:who=Northshire")
    with pytest.raises(StressError, match="at_cycle=soon is not a number"):
        parse_shock("budget_cut:at_cycle=soon")
    with pytest.raises(StressError, match="Westshire"):
        breaking_point(THREE, ["budget_cut:partner=Westshire"], replications=100)


@pytest.mark.slow
def test_stress_command_saves_the_curve_and_prints_json(tmp_path):
    folder = tmp_path / "bp"
    done = collabsim("stress", THREE, "--shock", "supplier_failure", "--partner", "all",
                     "--threshold", "0.3", "-n", "500", "--out", folder, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "crossing" and 0 < data["crossing"] < 1
    assert {"manifest.json", "curve.csv", "curve.parquet", "breaking_point.png"} <= \
        {p.name for p in folder.iterdir()}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "stress" and "--threshold 0.3" in manifest["command"]
    again = collabsim(*manifest["command"].split()[1:], "--out", tmp_path / "again", "--json",
                      cwd=ROOT)
    assert json.loads(again.stdout)["crossing"] == data["crossing"]


@pytest.mark.slow
@pytest.mark.parametrize("args, fragment", [
    (["--shock", "earthquake"], "unknown shock kind 'earthquake'"),
    (["--shock", "budget_cut", "--partner", "Northshir"], "did you mean 'Northshire'"),
    (["--shock", "budget_cut", "--range", "0.8:0.2"], "need 0 <= low < high <= 1"),
    (["--shock", "budget_cut", "--range", "a:b"], "give LOW:HIGH"),
    (["--shock", "budget_cut", "--vary", "size"], "must be magnitude or rate"),
    (["--shock", "budget_cut", "--at-cycle", "11"], "after the horizon"),
    (["--shock", "budget_cut", "--replications", "0"], "--replications"),
])
def test_bad_stress_commands_exit_2_without_a_traceback(tmp_path, args, fragment):
    done = collabsim("stress", THREE, *args, "--out", tmp_path / "x")
    assert done.returncode == 2
    assert fragment in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_run_takes_shocks_on_the_command_line(tmp_path):
    folder = tmp_path / "run"
    done = collabsim("run", THREE, "-n", "300", "--shock",
                     "supplier_failure:partner=all,magnitude=0.6", "--out", folder, "--json")
    assert done.returncode == 0, done.stderr
    shocked = json.loads(done.stdout)["p_deliver"]
    plain = sim.run(THREE, replications=300).summary["p_deliver"]
    assert shocked < plain
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "--shock supplier_failure:partner=all,magnitude=0.6" in manifest["command"]
    recorded = sim.scenario.loading.load_scenario_text(manifest["scenario"])
    assert recorded.shocks[-1].kind == "supplier_failure" and recorded.shocks[-1].at_cycle == 2
    bad = collabsim("run", THREE, "-n", "10", "--shock", "budget_cut:partner=Nobody",
                    "--out", tmp_path / "bad")
    assert bad.returncode == 2 and "--shock: shocks[2].partner" in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_settings_the_search_would_override_are_refused_not_ignored():
    with pytest.raises(StressError, match="its magnitude is what --vary magnitude varies"):
        breaking_point(THREE, ["budget_cut:partner=all,magnitude=0.5"], replications=50)
    with pytest.raises(StressError, match="its magnitude is what --vary magnitude varies"):
        breaking_point(THREE, ["budget_cut"], magnitude=0.5, replications=50)
    with pytest.raises(StressError, match="leave at_cycle and rate out"):
        breaking_point(THREE, ["budget_cut:at_cycle=3"], vary="rate", replications=50)
    with pytest.raises(StressError, match="strikes at each review in turn"):
        shock_timing(THREE, ["budget_cut:rate=0.2"], replications=50)


def test_timing_sorts_the_reviews_and_leaves_the_middle_one_out_of_early_and_late():
    result = shock_timing(THREE, ["supplier_failure:partner=all"], cycles=[5, 1, 3],
                          replications=100)
    assert result.table["at_cycle"].tolist() == [1, 3, 5]
    assert result.early_late["early_cycles"] == [1] and result.early_late["late_cycles"] == [5]


@pytest.mark.slow
@pytest.mark.parametrize("args, fragment", [
    (["--shock", "supplier_failure:partner=[/]"], "unknown partner '[/]'"),
    (["--shock", "budget_cut", "--magnitude", "0.5"], "its magnitude is what"),
    (["--shock", "budget_cut", "--timing", "--at-cycle", "3"], "--at-cycle"),
])
def test_odd_stress_values_are_reported_as_typed(tmp_path, args, fragment):
    done = collabsim("stress", THREE, *args, "--out", tmp_path / "x")
    assert done.returncode == 2 and fragment in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()


def test_resuming_a_run_does_not_take_shocks_again(tmp_path):
    done = collabsim("run", THREE, "-n", "10", "--resume", tmp_path, "--shock", "budget_cut")
    assert done.returncode == 2 and "already records its shocks" in done.stderr


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    done = collabsim("stress", THREE, "--shock", "budget_cut", "-n", "20", "--scheduler",
                     "tcp://127.0.0.1:9", "--out", tmp_path / "x")
    assert done.returncode == 2 and "cannot reach the Dask scheduler" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "x").exists()
