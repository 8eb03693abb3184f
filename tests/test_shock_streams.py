"""Every shock draws from its own random stream: adding, removing or moving a shock changes no
other random number, so a run with a shock and the same run without it are the same run until
the shock strikes (common random numbers for stress tests, comparisons and lessons)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.partnership.engine import SERIES, StreamLayout, draw, simulate
from sim.montecarlo.runs import run_model
from sim.partnership.inputs import shock_streams
from sim.scenario.loading import scenario_data, scenario_from_dict
from sim.montecarlo.paired import fully_paired, layout_of
from sim.scenario.schema import SHOCK_KINDS
from sim.partnership.seeds import child_rng, replication_rng, replication_uniforms
from strategies import scenarios

ROOT = Path(__file__).resolve().parent.parent
THREE = ROOT / "scenarios" / "three_councils.yaml"
TYPICAL = ROOT / "scenarios" / "typical.yaml"


def with_shock(path, **shock):
    data = scenario_data(sim.load_scenario(path))
    data["shocks"] = data["shocks"] + [shock]
    return scenario_from_dict(data)


def series_before(run, cycle):
    """Every series of a VectorRun for the reviews before `cycle` (review 0 included)."""
    return {name: run.series[name][:, :cycle] for name in SERIES}


@pytest.mark.parametrize("kind", [k for k in SHOCK_KINDS if k != "partner_join"])
def test_every_review_before_a_shock_is_identical_with_and_without_it(kind):
    base = sim.load_scenario(THREE)
    shocked = with_shock(THREE, kind=kind, partner="all", at_cycle=5, magnitude=1.0)
    a, b = simulate(base, 3, range(200)), simulate(shocked, 3, range(200))
    for name, values in series_before(a, 5).items():
        np.testing.assert_array_equal(values, series_before(b, 5)[name], err_msg=name)
    # and the shock does strike at review 5
    assert not all(np.array_equal(a.series[n][:, 5:], b.series[n][:, 5:]) for n in SERIES)


def test_the_mesa_model_draws_the_same_numbers_with_and_without_a_shock():
    base = sim.load_scenario(THREE)
    shocked = with_shock(THREE, kind="budget_cut", partner="Eastvale", at_cycle=4,
                         magnitude=0.8)
    for r in range(4):
        a, b = run_model(base, 5, r), run_model(shocked, 5, r)
        np.testing.assert_array_equal(a.noise, b.noise)
        np.testing.assert_array_equal(a.shock_noise, b.shock_noise[:, :len(base.shocks)])
        early_a = a.datacollector.get_model_vars_dataframe().iloc[:4]
        early_b = b.datacollector.get_model_vars_dataframe().iloc[:4]
        pd.testing.assert_frame_equal(early_a, early_b)


def test_moving_a_shock_keeps_its_numbers_and_everything_before_it():
    early = with_shock(THREE, kind="leadership_change", partner="any", at_cycle=3)
    late = with_shock(THREE, kind="leadership_change", partner="any", at_cycle=7)
    assert shock_streams(early) == shock_streams(late)
    _, noise_a, shocks_a = draw(early, 9, range(50))
    _, noise_b, shocks_b = draw(late, 9, range(50))
    np.testing.assert_array_equal(noise_a, noise_b)
    np.testing.assert_array_equal(shocks_a, shocks_b)
    a, b = simulate(early, 9, range(50)), simulate(late, 9, range(50))
    for name, values in series_before(a, 3).items():
        np.testing.assert_array_equal(values, series_before(b, 3)[name], err_msg=name)


def test_adding_or_removing_a_shock_leaves_the_other_shocks_numbers_alone():
    data = scenario_data(sim.load_scenario(TYPICAL))
    both = scenario_from_dict(data)
    data["shocks"] = data["shocks"][1:]          # drop the first of three
    fewer = scenario_from_dict(data)
    _, noise_both, shocks_both = draw(both, 4, range(30))
    inputs_fewer, noise_fewer, shocks_fewer = draw(fewer, 4, range(30))
    np.testing.assert_array_equal(noise_both, noise_fewer)
    np.testing.assert_array_equal(shocks_both[:, :, 1:], shocks_fewer)
    # and every sampled input the two share has the same value
    inputs_both = draw(both, 4, range(30))[0]
    for t in inputs_both.traits:
        np.testing.assert_array_equal(inputs_both.traits[t], inputs_fewer.traits[t])


def test_an_uncertain_shock_draws_its_inputs_from_its_own_stream():
    plain = with_shock(THREE, kind="budget_cut", partner="any", rate=0.2)
    uncertain = with_shock(THREE, kind="budget_cut", partner="any",
                           rate={"uniform": [0.1, 0.3]}, magnitude={"uniform": [0.2, 0.6]})
    a, b = draw(plain, 2, range(40)), draw(uncertain, 2, range(40))
    np.testing.assert_array_equal(a[1], b[1])                   # the run's own noise
    for t in a[0].traits:                                       # every other input
        np.testing.assert_array_equal(a[0].traits[t], b[0].traits[t])
    np.testing.assert_array_equal(a[2][:, :, :-1], b[2][:, :, :-1])  # the other shocks


def test_a_shocks_stream_is_a_named_child_of_the_replications_generator():
    scenario = with_shock(THREE, kind="staff_loss", partner="Southmoor", at_cycle=2)
    key = shock_streams(scenario)[-1]
    model = run_model(scenario, 13, 6)
    own = child_rng(replication_rng(13, 6), key)
    expected = own.random((scenario.horizon, 2 + 3))
    np.testing.assert_array_equal(model.shock_noise[:, -1], expected)
    batch = replication_uniforms(13, [6], scenario.horizon * 5, stream=key)
    np.testing.assert_array_equal(batch[0], expected.reshape(-1))


def test_identical_shocks_get_different_streams_and_keep_them_in_order():
    data = scenario_data(sim.load_scenario(THREE))
    data["shocks"] = [{"kind": "lapse", "partner": "any", "rate": 0.1},
                      {"kind": "lapse", "partner": "any", "rate": 0.1},
                      {"kind": "lapse", "partner": "Eastvale", "rate": 0.1}]
    keys = shock_streams(scenario_from_dict(data))
    assert len(set(keys)) == 3


def test_variants_that_differ_only_in_shocks_are_fully_paired():
    base = sim.load_scenario(THREE)
    shocked = with_shock(THREE, kind="budget_cut", partner="all", at_cycle=6)
    assert fully_paired([base, shocked])
    layout = layout_of([base, shocked])
    a = draw(base, 1, range(20), layout=layout)
    b = draw(shocked, 1, range(20), layout=layout)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2][:, :, :len(base.shocks)])


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(max_partners=6), st.integers(0, 2**32 - 1), st.integers(1, 15),
       st.sampled_from([k for k in SHOCK_KINDS if k != "partner_join"]))
def test_on_any_scenario_a_new_shock_changes_nothing_before_it_strikes(data, seed, at, kind):
    base = scenario_from_dict(data)
    at = min(at, base.horizon)
    extra = dict(data, shocks=data["shocks"] + [{"kind": kind, "partner": "all",
                                                 "at_cycle": at, "magnitude": 1.0}])
    shocked = scenario_from_dict(extra)
    a, b = simulate(base, seed, range(4)), simulate(shocked, seed, range(4))
    for name, values in series_before(a, at).items():
        np.testing.assert_array_equal(values, series_before(b, at)[name], err_msg=name)


@pytest.mark.slow
def test_run_with_a_shock_from_the_command_line_keeps_every_review_before_it(tmp_path):
    def collabsim(*args):
        done = subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done

    common = [str(THREE), "--replications", "300", "--seed", "4", "--workers", "1"]
    collabsim("run", *common, "--out", str(tmp_path / "plain"))
    collabsim("run", *common, "--shock", "budget_cut:partner=all,at_cycle=6,magnitude=1",
              "--out", str(tmp_path / "shocked"))
    plain = pd.read_parquet(tmp_path / "plain" / "timeseries")
    shocked = pd.read_parquet(tmp_path / "shocked" / "timeseries")
    before = plain["cycle"] < 6
    pd.testing.assert_frame_equal(plain[before].reset_index(drop=True),
                                  shocked[before].reset_index(drop=True))
    assert not plain[~before].equals(shocked[~before])
    manifest = json.loads((tmp_path / "shocked" / "manifest.json").read_text())
    assert "budget_cut" in json.dumps(manifest)
