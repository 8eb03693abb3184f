"""Charter comparison: paired on the same conditions, honest about no difference, and the same
answer whether a charter comes as a scenario or as its own file."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from commandline import collabsim
import sim
from sim.analysis.comparison import compare, holm, load_charter, mcnemar
from sim.scenario.loading import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
THREE = ROOT / "scenarios" / "three_councils.yaml"
STRONG = ROOT / "scenarios" / "strong_charter.yaml"


def test_a_scenario_compared_with_itself_shows_no_difference():
    result = compare([THREE, THREE], replications=500)
    d = result.differences.iloc[0]
    assert d["p_deliver_difference"] == 0 and d["ci_low"] == d["ci_high"] == 0
    assert d["p_value"] == 1.0 and not d["real"]
    assert result.clauses.empty and "identical in every setting" in result.message
    a, b = (g.drop(columns="variant").reset_index(drop=True)
            for _, g in result.runs.groupby("variant", sort=False))
    pd.testing.assert_frame_equal(a, b)
    assert (result.table["p_regret"] == 0).all()


def test_the_first_variant_runs_exactly_what_collabsim_run_runs():
    result = compare([THREE, STRONG], replications=400, seed=7)
    run = sim.run(THREE, replications=400, seed=7)
    first = result.runs[result.runs["variant"] == result.names[0]]
    assert first["delivered"].tolist() == run.outcomes["delivered"].tolist()
    assert np.allclose(first["savings_pct"], run.outcomes["savings_pct"])


def test_the_strong_charter_is_more_robust_and_the_clauses_that_differ_are_listed():
    result = compare([THREE, STRONG], replications=2000)
    assert result.paired == "fully"
    assert result.table.iloc[0]["variant"] == "Three councils with a strong charter"
    d = result.differences.iloc[0]
    assert d["real"] and d["ci_low"] > 0 and d["p_value"] < 1e-6
    settings = set(result.clauses["setting"])
    assert {"charter.decision_rule", "charter.consensus",
            "charter.programme_team.dedicated"} <= settings
    assert not any(s.startswith("partners") for s in settings)
    # like for like: both judged against the first draft's business case, money net of costs
    assert "judged against Three councils sharing HR, finance and IT's business case" \
        in result.message
    assert "net of each charter's own costs" in result.message
    first = result.runs[result.runs["variant"] == result.names[0]]
    strong = result.runs[result.runs["variant"] == result.names[1]]
    assert (strong["target_net_savings_m"].to_numpy() ==
            first["target_net_savings_m"].to_numpy()).all()
    # regret: in each run, £ short of the better of the two
    money = result.runs.pivot(index="replication", columns="variant", values="net_savings_m")
    regret = money.max(axis=1).to_numpy()[:, None] - money.to_numpy()
    for name, column in zip(money.columns, regret.T):
        row = result.table[result.table["variant"] == name].iloc[0]
        assert row["mean_regret_m"] == pytest.approx(column.mean())


def test_a_charter_file_applied_to_a_scenario_gives_the_same_runs_as_the_whole_scenario(
        tmp_path):
    charter = yaml.safe_load(STRONG.read_text())["charter"]
    path = tmp_path / "strong.yaml"
    path.write_text(yaml.safe_dump(charter))
    base = sim.load_scenario(THREE)
    variant = load_charter(path, base)
    assert variant.charter == sim.load_scenario(STRONG).charter
    assert variant.partners == base.partners
    by_file = compare([base, variant], replications=500)
    by_scenario = compare([base, STRONG], replications=500)
    assert by_file.table["p_deliver"].tolist() == by_scenario.table["p_deliver"].tolist()
    # a file with a top-level `charter:` (e.g. a whole scenario) works too
    assert load_charter(STRONG, base).charter == variant.charter


def test_a_bad_charter_file_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("business_case: {target_net_savings_m: 3}\ndecision_rule: dictator\n")
    with pytest.raises(ScenarioError) as info:
        load_charter(path, sim.load_scenario(THREE))
    assert "bad.yaml" in str(info.value) and "charter.decision_rule" in str(info.value)


def test_mcnemar_and_holm():
    assert mcnemar(0, 0) == 1.0
    assert mcnemar(10, 10) == 1.0
    assert mcnemar(20, 0) < 1e-5
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


@pytest.mark.slow
def test_compare_command_with_a_charter_file(tmp_path):
    charter = tmp_path / "strong.yaml"
    charter.write_text(yaml.safe_dump(yaml.safe_load(STRONG.read_text())["charter"]))
    folder = tmp_path / "cmp"
    done = collabsim("compare", THREE, "--charter", charter, "-n", "300", "--out", folder,
                     "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["best"].endswith("+ strong")
    assert {"comparison.csv", "differences.csv", "clauses.csv", "runs.parquet",
            "comparison.png", "manifest.json"} <= {p.name for p in folder.iterdir()}
    text = collabsim("compare", THREE, STRONG, "-n", "300", "--out", tmp_path / "plain")
    assert text.returncode == 0 and "What differs" in text.stdout


@pytest.mark.slow
@pytest.mark.parametrize("args, fragment", [
    ([THREE], "give two or more scenarios"),
    ([THREE, "--charter", "missing.yaml"], "missing.yaml"),
    ([THREE, STRONG, "--replications", "3"], "--replications"),
])
def test_bad_compare_commands_exit_2(tmp_path, args, fragment):
    done = collabsim("compare", *args, "--out", tmp_path / "x")
    assert done.returncode == 2 and fragment in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "x").exists()


def test_the_shipped_charter_file_applies_to_the_three_councils():
    path = ROOT / "scenarios" / "charters" / "dedicated_team.yaml"
    base = sim.load_scenario(THREE)
    variant = load_charter(path, base)
    assert variant.charter.programme_team.dedicated == 0.7
    assert variant.charter.business_case == base.charter.business_case
    result = compare([base, variant], replications=300)
    # the three councils price the team and training they have not chosen: the charter file
    # changes only how much of each it buys
    assert set(result.clauses["setting"]) == {
        "charter.programme_team.dedicated", "charter.programme_team.training"}


def test_the_first_variant_keeps_its_runs_when_another_adds_an_uncertain_input():
    data = yaml.safe_load(THREE.read_text())
    data["charter"]["consensus"] = {"uniform": [0.2, 0.8]}
    result = compare([THREE, data], replications=400, seed=7)
    first = result.runs[result.runs["variant"] == result.names[0]]
    run = sim.run(THREE, replications=400, seed=7)
    assert first["delivered"].tolist() == run.outcomes["delivered"].tolist()


@pytest.mark.slow
def test_two_inputs_with_the_same_file_name_are_both_kept(tmp_path):
    done = collabsim("compare", THREE, THREE, "-n", "20", "--out", tmp_path / "c")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "c").glob("source-*")) == [
        "source-1-three_councils.yaml", "source-2-three_councils.yaml"]
