"""One function saves every analysis's result as a results folder (sim.save), laid out the same
way for all: each table as Parquet, each figure (the ones sim.figures draws) as PNG, and a
manifest that names the kind, the settings, the source and how to reproduce it."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
THREE = str(ROOT / "scenarios" / "three_councils.yaml")
STRONG = str(ROOT / "scenarios" / "strong_charter.yaml")
SHOCK = ["budget_cut:partner=Northshire"]

#: A small result of each kind (what the analysis is asked), and the kind its folder records.
RESULTS = {
    "sweep": lambda: sim.sweep(THREE, "morris", samples=4, replications=4, seed=1),
    "grid": lambda: sim.grid(THREE, "partners.*.ambition=0.2:0.8",
                             "partners.*.resourcing=0.2:0.8", steps=2, replications=8, seed=1),
    "stress": lambda: sim.breaking_point(THREE, SHOCK, replications=40, tolerance=0.2),
    "timing": lambda: sim.shock_timing(THREE, SHOCK, cycles=[1, 2, 3], replications=40),
    "compare": lambda: sim.compare([THREE, STRONG], replications=40),
    "discover": lambda: sim.discover(THREE, replications=200),
    "experiment": lambda: sim.run_experiment(
        ROOT / "experiments" / "ambition_by_decision_rule.yaml"),
}
KIND = {"timing": "stress"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RESULTS))
def test_every_result_is_saved_the_same_way_with_the_figures_sim_figures_draws(tmp_path, name):
    result = RESULTS[name]()
    # what every result offers: its finding in a sentence, its settings, summary and tables
    assert isinstance(result.message, str) and result.message
    assert isinstance(result.summary, dict) and result.settings["seed"] is not None
    assert result.tables and all(isinstance(t, pd.DataFrame) for t in result.tables.values())
    drawn = sim.figures(result)
    names = sorted(drawn)
    for fig in drawn.values():
        plt.close(fig)
    folder = sim.save(result, tmp_path / "folder", command="collabsim (a test)",
                      source=THREE if name != "compare" else [THREE, STRONG])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == KIND.get(name, name)
    assert manifest["command"] == "collabsim (a test)"
    assert manifest["settings"]["seed"] == result.settings["seed"]
    assert manifest["scenario_path"] == (result.experiment.scenario_path
                                         if name == "experiment" else THREE)
    assert sorted(p.stem for p in folder.glob("*.png")) == names and names
    saved = {p.stem for p in folder.glob("*.parquet")}
    assert saved == set(result.tables) | ({"posterior"} if "posterior" in saved else set())
    for table in result.tables:
        assert len(pd.read_parquet(folder / f"{table}.parquet")) == len(result.tables[table])
    if name == "compare":   # a comparison keeps a copy of each file it compared
        assert manifest["settings"]["sources"] == [THREE, STRONG]
        assert (folder / "source-2-strong_charter.yaml").read_text() == Path(STRONG).read_text()
    assert not plt.get_fignums(), "every figure is closed"


def test_a_run_is_saved_as_a_resumable_run_lays_its_folder_out(tmp_path):
    result = sim.run(THREE, replications=30, seed=2)
    folder = sim.save(result, tmp_path / "run", source=THREE, command="collabsim run")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "run" and manifest["summary"] == json.loads(
        json.dumps(result.summary))
    assert result.message.startswith(f"Three councils sharing HR, finance and IT delivers its "
                                     f"business case in {result.summary['p_deliver']:.1%} of 30")
    assert result.settings == {"replications": 30, "seed": 2} and set(result.tables) == {
        "outcomes", "timeseries"}
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "outcomes"), result.outcomes)
    assert (folder / "summary.md").is_file() and (folder / "savings_fan.png").is_file()


def test_a_folder_that_is_not_empty_is_not_written_into(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError):
        sim.save(sim.run(THREE, replications=10, seed=1), tmp_path / "full")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_anything_but_a_result_is_refused_naming_what_can_be_saved(tmp_path):
    with pytest.raises(TypeError, match=r"SweepResult.*CharterDesign or RunResult\), not a dict"):
        sim.save({"p_deliver": 0.5}, tmp_path / "x")
    assert not (tmp_path / "x").exists()
