"""`behaviour: {posterior: PATH}`: every replication runs with one particle of a calibration's
posterior, drawn from a stream of its own, in every job and both engines."""

import functools
import json
import os

import numpy as np
import pandas as pd
import pytest

from commandline import collabsim
import sim
from behaviour_folders import ROOT, SHIPPED_POSTERIOR, calibration_folder, with_posterior
from sim.partnership.behaviour import BEHAVIOUR_STREAM, choose
from sim.partnership.engine import SERIES, simulate
from sim.montecarlo.runs import run_model
from sim.scenario.loading import ScenarioError
from sim.partnership.outcomes import vector_outcomes
from sim.montecarlo.paired import paired_outcomes
from sim.partnership.seeds import child_rng, replication_rng

TYPICAL = ROOT / "scenarios" / "typical.yaml"
THREE = ROOT / "scenarios" / "three_councils.yaml"
CALIBRATED = ROOT / "scenarios" / "typical_calibrated.yaml"
STRONG = {"parameters.planned_capacity": [0.06, 0.12], "parameters.protectionism": [0.3, 0.9],
          "weight": [0.5, 0.5]}


@pytest.fixture
def strong(tmp_path):
    return calibration_folder(tmp_path / "cal", STRONG)


@pytest.mark.slow
def test_the_particle_is_chosen_by_weight_from_the_replications_own_stream(tmp_path):
    folder = calibration_folder(tmp_path / "cal", {"parameters.planned_capacity": [0.06, 0.12],
                                                   "weight": [0.2, 0.8]})
    scenario = with_posterior(THREE, folder)
    table = vector_outcomes(simulate(scenario, 4, range(20_000)))
    assert table["particle"].mean() == pytest.approx(0.8, abs=0.01)
    for r in (0, 1, 17):        # the one rule: a uniform of the child stream BEHAVIOUR_STREAM
        u = child_rng(replication_rng(4, r), BEHAVIOUR_STREAM).random()
        assert table["particle"][r] == choose([0.2, 0.8], u)
    values = table["parameters.planned_capacity"]
    assert set(values) == {0.06, 0.12}
    assert (values == np.where(table["particle"] == 1, 0.12, 0.06)).all()


def test_adding_behaviour_changes_no_other_random_number(tmp_path, strong):
    """The inputs each replication samples and every review's noise are the same with and
    without the posterior; with particles at the scenario's own values the runs are identical."""
    base = sim.load_scenario(TYPICAL)
    with_strong = with_posterior(TYPICAL, strong)
    reps = range(40)
    plain, drawn = simulate(base, 8, reps), simulate(with_strong, 8, reps)
    np.testing.assert_array_equal(plain.inputs.sampled, drawn.inputs.sampled)
    np.testing.assert_array_equal(plain.inputs.traits["size"], drawn.inputs.traits["size"])
    for r in (0, 5):
        a, b = run_model(base, 8, r), run_model(with_strong, 8, r)
        np.testing.assert_array_equal(a.noise, b.noise)
        np.testing.assert_array_equal(a.shock_noise, b.shock_noise)
    same = calibration_folder(tmp_path / "same", {
        "parameters.planned_capacity": [base.parameters.planned_capacity] * 3,
        "parameters.protectionism": [base.parameters.protectionism] * 3,
        "weight": [0.1, 0.3, 0.6]})
    unchanged = simulate(with_posterior(TYPICAL, same), 8, reps)
    for name in SERIES:
        np.testing.assert_array_equal(plain.series[name], unchanged.series[name])
    np.testing.assert_array_equal(plain.exited_at, unchanged.exited_at)
    pd.testing.assert_frame_equal(
        vector_outcomes(plain),
        vector_outcomes(unchanged).drop(columns=["particle", "parameters.planned_capacity",
                                                 "parameters.protectionism"]))


def test_each_particle_runs_with_its_own_constants_and_plan(strong):
    scenario = with_posterior(THREE, strong)
    run = simulate(scenario, 3, range(200))
    assert len(run.parts) == 2
    for rows, part in run.parts:
        k = part.particle["particle"]
        assert part.inputs.params.planned_capacity == STRONG["parameters.planned_capacity"][k]
        assert part.inputs.params.protectionism == STRONG["parameters.protectionism"][k]
        np.testing.assert_array_equal(run.series["cum_net_savings_m"][rows],
                                      part.series["cum_net_savings_m"])
    table = vector_outcomes(run)
    first, second = (table.loc[table["particle"] == k, "savings_pct"].median() for k in (0, 1))
    assert abs(first - second) > 20, "the constants matter"


@pytest.mark.slow
def test_results_do_not_depend_on_workers_or_chunk_size(strong):
    scenario = with_posterior(THREE, strong)
    one = sim.run(scenario, replications=120, seed=11, chunk_size=120).outcomes
    for workers, chunk in ((2, 7), (1, 50), (2, 50)):
        other = sim.run(scenario, replications=120, seed=11, executor=sim.Executor(workers=workers),
                        chunk_size=chunk).outcomes
        pd.testing.assert_frame_equal(one, other)


def test_paired_variants_draw_the_same_particle_in_every_replication(strong):
    a = with_posterior(THREE, strong)
    b = a.with_values({"charter.decision_rule": "majority"})
    assert b.behaviour == a.behaviour
    ta, tb = (vector_outcomes(simulate(v, 2, range(60))) for v in (a, b))
    assert (ta["particle"] == tb["particle"]).all()
    pa, pb = paired_outcomes([a, b], 2, 60)
    assert (pa["replication"] == ta["replication"]).all()
    assert (pa["delivered"] == ta["delivered"]).all()


def test_a_value_set_by_path_wins_over_the_posteriors(strong):
    scenario = with_posterior(THREE, strong)
    set_one = scenario.with_values({"parameters.planned_capacity": 0.1})
    assert set_one.behaviour.particles.paths == ["parameters.protectionism"]
    table = vector_outcomes(simulate(set_one, 1, range(30)))
    assert "parameters.planned_capacity" not in table
    set_both = set_one.with_values({"parameters.protectionism": 0.5})
    assert set_both.behaviour is None


def test_every_job_honours_the_posterior(strong):
    """A grid over a charter clause, sim.evaluate and discovery run each replication with its
    particle (their figures differ from the same jobs without the posterior)."""
    from sim.analysis.discovery import discovery_chunk
    from sim.analysis.evaluation import evaluate

    base = sim.load_scenario(THREE)
    drawn = with_posterior(THREE, strong)
    design = {"charter.programme_team.dedicated": [0.0, 0.5]}
    plain = evaluate(base, design, replications=200, seed=3)
    posterior = evaluate(drawn, design, replications=200, seed=3)
    assert not np.allclose(plain["p_deliver"], posterior["p_deliver"])
    conditions, outcomes = discovery_chunk(drawn, 3, range(50))
    assert conditions["parameters.planned_capacity"].nunique() == 2
    assert len(outcomes) == 50


@pytest.mark.slow
def test_the_shipped_posterior_reproduces_6_of_6_calibrate_and_19_of_20_validate_patterns():
    """The figures docs/PATTERNS.md quotes for scenarios/typical_calibrated.yaml."""
    scenario = sim.load_scenario(CALIBRATED)
    assert len(scenario.behaviour.particles.weights) == 100
    summary = sim.run(scenario, replications=400, seed=1).summary["behaviour"]
    assert (summary["calibrate_reproduced"], summary["calibrate_patterns"]) == (6, 6)
    assert (summary["validate_reproduced"], summary["validate_patterns"]) == (19, 20)
    assert summary["not_reproduced"] == ["fairness is a reason to leave"]
    assert summary["particles"] == 100 and len(summary["parameters"]) == 8


_cli = functools.partial(collabsim, env={"COLUMNS": "400"})


@pytest.mark.slow
def test_run_says_where_the_behaviour_came_from_and_records_the_posterior(tmp_path):
    out = tmp_path / "run"
    proc = _cli("run", CALIBRATED, "--replications", 300, "--seed", 2, "--out", out,
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stdout.split())
    assert "drawn from the posterior at ../patterns/calibrations/public_sector" in said
    assert "100 particles" in said
    assert "reproduces 6 of 6 calibrate patterns and 19 of 20 validate patterns" in said
    manifest = json.loads((out / "manifest.json").read_text())
    kept = pd.read_parquet(out / "posterior.parquet")
    shipped = pd.read_parquet(SHIPPED_POSTERIOR / "posterior.parquet")
    pd.testing.assert_frame_equal(kept, shipped)
    assert manifest["behaviour"]["particles"] == 100
    assert manifest["behaviour"]["posterior_sha256"] == manifest["summary"]["behaviour"][
        "posterior_sha256"]
    assert len(manifest["behaviour_patterns"]) == 26
    assert "reproduces 6 of 6 calibrate" in (out / "summary.md").read_text()
    assert _cli("report", out, cwd=tmp_path).returncode == 0
    assert "reproduces 6 of 6 calibrate patterns" in (out / "report.html").read_text()
    outcomes = pd.read_parquet(out / "outcomes")
    assert outcomes["particle"].between(0, 99).all()


def test_a_resumed_run_refuses_a_posterior_that_has_changed(tmp_path, strong):
    from sim.results import stored_run

    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(THREE.read_text() + f"behaviour: {{posterior: {strong}}}\n")
    folder = tmp_path / "run"
    stored_run.plan(folder, str(scenario_file), 1, 20)
    pd.DataFrame({**STRONG, "weight": [0.1, 0.9]}).to_parquet(strong / "posterior.parquet")
    with pytest.raises(stored_run.RunFolderError, match="posterior has changed"):
        stored_run.execute(folder)


def _bad(tmp_path, posterior: dict | None = None, kind="calibrate", base=THREE):
    folder = tmp_path / "cal"
    if posterior is not None:
        calibration_folder(folder, posterior, kind=kind)
    path = tmp_path / "scenario.yaml"
    path.write_text(base.read_text() + "behaviour:\n  posterior: cal\n")
    return path


BAD_FOLDERS = [
    (None, "calibrate", "no such folder"),
    ({"parameters.planned_capacity": [0.1], "weight": [1.0]}, "run", "not a calibration"),
    ({"parameters.no_such_constant": [0.1], "weight": [1.0]}, "calibrate",
     "parameters.no_such_constant: not a field"),
    ({"horizon": [10.0], "weight": [1.0]}, "calibrate", "horizon: a integer"),
    ({"partners.*.ambition": [0.5], "weight": [1.0]}, "calibrate", "a distribution"),
    ({"partner_similarity.skills": [0.5], "weight": [1.0]}, "calibrate", "how alike"),
    ({"parameters.planned_capacity": [0.1, 0.2], "weight": [1.0, 0.0]}, "calibrate",
     "finite and positive"),
    ({"parameters.planned_capacity": [0.1, 0.2], "weight": [1.0, float("nan")]}, "calibrate",
     "finite and positive"),
    ({"parameters.planned_capacity": [0.1]}, "calibrate", "no `weight` column"),
    ({"parameters.planned_capacity": [0.1, 5.0], "weight": [1.0, 1.0]}, "calibrate",
     "particle 1: parameters.planned_capacity"),
    ({"partners.*.patience": [2.0, -1.0], "weight": [1.0, 1.0]}, "calibrate",
     "partners"),
]


@pytest.mark.parametrize("posterior,kind,fragment", BAD_FOLDERS)
def test_a_posterior_that_cannot_be_used_is_refused_naming_file_and_field(
        tmp_path, posterior, kind, fragment):
    base = TYPICAL if "ambition" in str(posterior) else THREE
    path = _bad(tmp_path, posterior, kind, base)
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(path)
    message = str(info.value)
    assert str(path) in message and "behaviour" in message and fragment in message, message


@pytest.mark.slow
def test_the_cli_refuses_a_bad_posterior_with_status_2_and_writes_nothing(tmp_path):
    path = _bad(tmp_path, {"parameters.planned_capacity": [0.1], "weight": [-1.0]})
    before = sorted(os.listdir(tmp_path))
    proc = _cli("run", path, "--replications", 5, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "behaviour.posterior" in proc.stderr
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.slow
@pytest.mark.parametrize("job", [
    ["grid", "--x", "partners.*.ambition=0.2:0.8", "--y", "partners.*.skills=0.2:0.8",
     "--steps", 2, "--replications", 10],
    ["sweep", "--method", "morris", "--samples", 4, "--replications", 4],
])
def test_sweep_and_grid_folders_record_the_posterior_they_drew_from(tmp_path, job):
    out = tmp_path / "folder"
    proc = _cli(job[0], CALIBRATED, *job[1:], "--seed", 3, "--out", out, "--workers", 1,
                cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["behaviour"]["posterior_sha256"]
    assert {p["role"] for p in manifest["behaviour_patterns"]} == {"calibrate", "validate"}
    assert (out / "posterior.parquet").is_file()


def test_the_behaviours_pass_goal_is_the_calibrations():
    """sim.partnership.behaviour keeps its own copy (scenario loading must not import pandas): the same."""
    from sim.partnership import behaviour
    from sim.analysis import calibration

    assert behaviour.PASS_GOAL == calibration.PASS_GOAL
