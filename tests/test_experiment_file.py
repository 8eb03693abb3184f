"""Named experiments (`collabsim experiment FILE.yaml`, sim.run_experiment): designs as the file
says, one table of input values and outputs with 95% intervals that is sim.evaluate's, a
results folder that resumes after a kill, and bad files refused with the file and field named."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from commandline import collabsim, heavy_imports, refused_light
import sim
from sim.analysis.experiment_file import experiment_from_dict
from refusals import assert_refused

ROOT = Path(__file__).resolve().parent.parent
THREE = str(ROOT / "scenarios" / "three_councils.yaml")
EXAMPLE = ROOT / "experiments" / "ambition_by_decision_rule.yaml"


def experiment(**fields):
    """An experiment of the three councils, with `fields` over a small default."""
    return experiment_from_dict({"name": "test", "scenario": THREE, "repetitions": 40,
                                 "seed": 3, **fields})


# --- designs -----------------------------------------------------------------------------------

def test_a_full_factorial_is_every_combination_with_the_first_factor_slowest():
    exp = experiment(factors={"partners.*.ambition": {"from": 0.2, "to": 0.8, "steps": 4},
                              "charter.decision_rule": ["unanimity", "majority"],
                              "charter.exit.notice_cycles": {"from": 1, "to": 3}})
    design = exp.design()
    assert len(design) == exp.points == 4 * 2 * 3
    assert list(design.columns) == ["partners.*.ambition", "charter.decision_rule",
                                    "charter.exit.notice_cycles"]
    assert design["partners.*.ambition"].tolist() == [v for v in (0.2, 0.4, 0.6, 0.8)
                                                      for _ in range(6)]
    assert design["charter.decision_rule"].tolist()[:6] == ["unanimity"] * 3 + ["majority"] * 3
    assert design["charter.exit.notice_cycles"].tolist()[:3] == [1, 2, 3]
    assert not design.duplicated().any()
    assert design["charter.exit.notice_cycles"].dtype == np.int64


SAMPLED = {"partners.*.ambition": {"from": 0.2, "to": 0.8},
           "charter.exit.notice_cycles": {"from": 0, "to": 3},
           "charter.decision_rule": ["unanimity", "majority", "lead_partner"]}


@pytest.mark.slow
def test_a_latin_hypercube_has_its_samples_within_bounds_whole_and_among_the_choices():
    design = experiment(design="latin_hypercube", samples=24, factors=SAMPLED).design()
    assert len(design) == 24
    ambition = design["partners.*.ambition"]
    assert ambition.between(0.2, 0.8).all() and ambition.nunique() == 24
    # Latin hypercube: one point in each of the 24 equal strata of the range
    strata = np.floor((ambition - 0.2) / 0.6 * 24).astype(int)
    assert sorted(strata) == list(range(24))
    notice = design["charter.exit.notice_cycles"]
    assert notice.dtype == np.int64 and set(notice) == {0, 1, 2, 3}
    assert notice.value_counts().tolist() == [6, 6, 6, 6]          # 24 samples, 4 levels
    assert design["charter.decision_rule"].value_counts().tolist() == [8, 8, 8]


def test_a_sobol_design_is_saltellis_n_times_factors_plus_two_and_salib_can_analyse_it():
    exp = experiment(design="sobol", samples=16, factors=SAMPLED)
    design = exp.design()
    assert len(design) == exp.points == 16 * (3 + 2)
    assert design["partners.*.ambition"].between(0.2, 0.8).all()
    assert set(design["charter.exit.notice_cycles"]) <= {0, 1, 2, 3}
    assert set(design["charter.decision_rule"]) <= {"unanimity", "majority", "lead_partner"}
    problem = exp.problem()          # the quantiles behind the design, in SALib's order
    assert np.allclose(0.2 + 0.6 * problem.samples[:, 0], design["partners.*.ambition"])
    problem.set_results(design["partners.*.ambition"].to_numpy()).analyze_sobol(
        calc_second_order=False, seed=1)
    assert problem.analysis["ST"][0] > 0.9      # the output is the first factor itself


@pytest.mark.parametrize("design, samples", [("latin_hypercube", 20), ("sobol", 8)])
def test_a_sampled_design_is_reproducible_with_its_seed_and_changes_with_another(design,
                                                                                  samples):
    first = experiment(design=design, samples=samples, factors=SAMPLED).design()
    again = experiment(design=design, samples=samples, factors=SAMPLED).design()
    other = experiment(design=design, samples=samples, factors=SAMPLED, seed=4).design()
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    before = np.random.get_state()[1].copy()
    experiment(design=design, samples=samples, factors=SAMPLED).design()
    assert (np.random.get_state()[1] == before).all(), "NumPy's global state is left alone"


def test_a_stepped_range_is_its_levels_in_a_sampled_design_too():
    design = experiment(design="latin_hypercube", samples=30, factors={
        "partners.*.ambition": {"from": 0.2, "to": 0.8, "steps": 3}}).design()
    assert sorted(design["partners.*.ambition"].unique()) == [0.2, 0.5, 0.8]


# --- the table ---------------------------------------------------------------------------------

def test_the_table_is_sim_evaluate_on_the_same_design_with_intervals():
    exp = experiment(factors={"partners.*.ambition": [0.3, 0.7],
                              "charter.decision_rule": ["unanimity", "majority"]},
                     outputs=["p_deliver", "median_savings_pct", "mean_exits"])
    result = sim.run_experiment(exp)
    expected = sim.evaluate(THREE, exp.design(), 40, ("p_deliver", "median_savings_pct",
                                                      "mean_exits"), 3, intervals=True)
    assert result.table["point"].tolist() == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(result.table.drop(columns="point"), expected,
                                  check_dtype=False)
    for o in exp.outputs:
        low, value, high = (result.table[c] for c in (f"{o}_low", o, f"{o}_high"))
        assert ((low <= value) & (value <= high)).all() and (low < high).any(), o


def test_per_review_the_table_is_long_one_row_per_point_and_review():
    assert sim.analysis.experiment_file.SERIES == sim.analysis.evaluation.SERIES   # `timeseries.` written or not
    exp = experiment(factors={"charter.decision_rule": ["unanimity", "majority"]},
                     outputs=["pct_business_case", "timeseries.mean_trust"], per="review")
    result = sim.run_experiment(exp)
    H = sim.load_scenario(THREE).horizon
    table = result.table
    assert len(table) == 2 * (H + 1)
    assert table["review"].tolist() == list(range(H + 1)) * 2
    assert list(table.columns) == ["point", "charter.decision_rule", "review",
                                   "pct_business_case", "pct_business_case_low",
                                   "pct_business_case_high", "mean_trust", "mean_trust_low",
                                   "mean_trust_high"]
    wide = sim.evaluate(THREE, exp.design(), 40, ("timeseries.pct_business_case",), 3,
                        intervals=True)
    for t in (0, 4, H):
        assert table.loc[table["review"] == t, "pct_business_case_high"].tolist() == \
            wide[f"pct_business_case_high[{t}]"].tolist()
    assert (table["mean_trust_low"] <= table["mean_trust"]).all()
    assert [row[2] for row in result.cells()[1]] == [
        sim.analysis.experiment_file.cell("mean_trust", {"value": r["mean_trust"],
                                                "low": r["mean_trust_low"],
                                                "high": r["mean_trust_high"]})
        for _, r in table[table["review"] == H].iterrows()]


def test_a_horizon_factor_leaves_out_the_reviews_past_each_points_horizon():
    result = sim.run_experiment(experiment(factors={"horizon": [4, 6]}, per="review",
                                           outputs=["mean_trust"]))
    assert result.table.groupby("point")["review"].max().tolist() == [4, 6]
    assert len(result.table) == 5 + 7 and not result.table["mean_trust"].isna().any()


def test_constants_hold_a_field_at_one_value_in_every_run():
    exp = experiment(factors={"partners.*.ambition": [0.3, 0.7]},
                     constants={"charter.decision_rule": "majority",
                                "charter.programme_team.dedicated": 0.9})
    assert exp.scenario.charter.decision_rule == "majority"
    assert exp.scenario.charter.programme_team.dedicated == 0.9
    held = sim.load_scenario(THREE).with_values({"charter.decision_rule": "majority",
                                                 "charter.programme_team.dedicated": 0.9})
    expected = sim.evaluate(held, exp.design(), 40, ("p_deliver",), 3)
    assert sim.run_experiment(exp).table["p_deliver"].tolist() == expected["p_deliver"].tolist()


def test_the_extremes_name_the_point_and_its_values():
    result = sim.run_experiment(experiment(factors={"partners.*.ambition": [0.1, 0.9]},
                                           repetitions=300))
    top = result.summary["extremes"]["p_deliver"]["highest"]
    assert top["at"] == {"partners.*.ambition": 0.9} and top["low"] <= top["value"]


# --- bad files ---------------------------------------------------------------------------------

CORPUS = ROOT / "tests" / "bad_inputs" / "experiments"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())


def test_the_corpus_of_bad_experiment_files_is_all_checked():
    files = sorted(p.name for p in CORPUS.glob("*.yaml") if p.name != "expected.yaml")
    assert files == sorted(EXPECTED) and len(files) >= 20


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_bad_experiment_file_is_refused_naming_the_file_and_the_field(name):
    assert_refused(sim.load_experiment, CORPUS / name, EXPECTED[name], max_lines=6, first=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_cli_refuses_a_bad_experiment_file_quickly_with_status_2_writing_nothing(
        tmp_path, name):
    path = CORPUS / name
    proc = collabsim("experiment", path, cwd=tmp_path,   # results/ would go here
                     trace_imports=True)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert str(path) in proc.stderr and EXPECTED[name][0] in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == [], "nothing written"
    assert refused_light(proc), heavy_imports(proc)


@pytest.mark.slow
def test_values_that_together_make_no_valid_scenario_are_refused_naming_the_file(tmp_path):
    """Each horizon and each joining review is valid alone; a partner joining after the
    horizon is not (found when the design is planned, before anything runs or is written)."""
    data = yaml.safe_load((ROOT / "scenarios" / "three_councils.yaml").read_text())
    data["partners"][2]["joins_at"] = 2
    scenario = tmp_path / "joining.yaml"
    scenario.write_text(yaml.safe_dump(data))
    path = tmp_path / "together.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "scenario": "joining.yaml", "repetitions": 5,
                                    "factors": {"horizon": [3, 8],
                                                "partners.Southmoor.joins_at": [2, 5]}}))
    with pytest.raises(sim.ScenarioError, match="these values together"):
        sim.run_experiment(path)
    proc = collabsim("experiment", path, "--out", tmp_path / "out")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert str(path) in proc.stderr and "joins_at" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists(), "nothing written"


# --- the command line --------------------------------------------------------------------------

@pytest.mark.slow
def test_the_cli_writes_the_folder_prints_json_and_the_report_renders(tmp_path):
    path = tmp_path / "ambition.yaml"
    path.write_text(yaml.safe_dump({
        "name": "Ambition <b>and</b> rule", "scenario": THREE, "repetitions": 30, "seed": 2,
        "factors": {"partners.*.ambition": [0.3, 0.7],
                    "charter.decision_rule": ["unanimity", "majority"]},
        "outputs": ["p_deliver", "mean_final_trust"]}))
    folder = tmp_path / "out"
    proc = collabsim("experiment", path, "--out", folder, "--workers", 1, "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["results"] == str(folder) and summary["settings"]["points"] == 4
    assert summary["extremes"]["p_deliver"]["highest"]["at"]["partners.*.ambition"] in (0.3, 0.7)
    assert sorted(p.name for p in folder.iterdir()) == [
        ".lock", "experiment.yaml", "manifest.json", "mean_final_trust.png", "p_deliver.png",
        "plan.json", "scenario.yaml", "table.csv", "table.parquet"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "experiment" and manifest["command"] == \
        f"collabsim experiment {path}"
    assert manifest["experiment"] == path.read_text() == (folder / "experiment.yaml").read_text()
    assert (folder / "scenario.yaml").read_text() == Path(THREE).read_text()
    table = pd.read_parquet(folder / "table.parquet")
    pd.testing.assert_frame_equal(table, sim.run_experiment(path).table)
    report = collabsim("report", folder)
    assert report.returncode == 0, report.stderr
    page = (folder / "report.html").read_text()
    assert "Experiment: Ambition &lt;b&gt;and&lt;/b&gt; rule" in page
    assert "p_deliver_high" in page and page.count("data:image/png;base64") == 2
    again = collabsim("experiment", "--resume", folder, "--json")
    assert again.returncode == 0 and "already complete" in again.stderr
    assert json.loads(again.stdout) == summary


@pytest.mark.slow
def test_the_cli_prints_a_small_table_whole(tmp_path):
    proc = collabsim("experiment", EXAMPLE, "--out", tmp_path / "out", env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "p_deliver [95% CI]" in proc.stdout and proc.stdout.count("unanimity") == 4


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (("experiment",), "give an experiment file, or --resume"),
    (("experiment", "--resume", "/no/such/folder"), "not an experiment folder"),
    (("experiment", EXAMPLE, "--workers", -1), "--workers"),
])
def test_bad_command_lines_are_refused_with_status_2(tmp_path, args, message):
    proc = collabsim(*args, cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


SMALL_CHUNKS = {"COLLABSIM_MEMORY": "10M"}   # 8 points of 50 runs per chunk: many to stop between


@pytest.fixture
def long_experiment(tmp_path):
    """160 design points of 50 runs: 20 chunks of points with SMALL_CHUNKS."""
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump({
        "name": "Long", "scenario": THREE, "repetitions": 50, "seed": 5,
        "design": "latin_hypercube", "samples": 160,
        "factors": {"partners.*.ambition": {"from": 0.2, "to": 0.8},
                    "charter.decision_rule": ["unanimity", "majority"]},
        "outputs": ["p_deliver", "p_any_exit"]}))
    return path


def _stop_part_way(path, folder, sig, parts=3):
    """Start `collabsim experiment PATH --out FOLDER`, wait until `parts` chunks of points are
    saved, then send `sig` to its whole process group; its exit status and what it printed."""
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "experiment", str(path), "--out",
                             str(folder), "--workers", "1"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, **SMALL_CHUNKS})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((folder / "points").glob("points-*.npy"))) >= parts:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the experiment finished before it could be stopped"
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.mark.slow
def test_an_experiment_killed_mid_run_resumes_to_the_identical_table(tmp_path, long_experiment):
    folder = tmp_path / "killed"
    code, _ = _stop_part_way(long_experiment, folder, signal.SIGKILL)
    assert code == -signal.SIGKILL
    saved = len(list((folder / "points").glob("points-*.npy")))
    assert not (folder / "manifest.json").exists(), "killed, so not complete"
    resumed = collabsim("experiment", "--resume", folder, "--workers", 2, "--json",
                        env=SMALL_CHUNKS)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["settings"]["points"] == 160
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "table.parquet"),
                                  sim.run_experiment(long_experiment,
                                                     executor=sim.Executor(workers=2)).table)
    assert 3 <= saved < 160 / 8
    assert not (folder / "points").exists()
    assert not [p for p in folder.rglob("*") if ".tmp" in p.name or ".partial" in p.name]


@pytest.mark.slow
def test_ctrl_c_keeps_the_finished_points_and_says_how_to_resume(tmp_path, long_experiment):
    folder = tmp_path / "interrupted"
    code, err = _stop_part_way(long_experiment, folder, signal.SIGINT, parts=1)
    assert code == 130 and "Traceback" not in err
    assert "The finished design points are saved in" in err
    assert f"collabsim experiment --resume {folder}" in err
    other = collabsim("experiment", EXAMPLE, "--resume", folder)
    assert other.returncode == 2 and "holds a different experiment" in other.stderr


@pytest.mark.slow
def test_a_run_or_sweep_resume_points_an_experiment_folder_at_the_right_command(tmp_path):
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "plan.json").write_text(json.dumps({"format": 1, "kind": "experiment"}))
    for kind in ("run", "sweep"):
        proc = collabsim(kind, "--resume", folder)
        assert proc.returncode == 2, proc.stderr
        assert "an experiment folder" in proc.stderr
        assert f"collabsim experiment --resume {folder}" in proc.stderr
