"""Scenario discovery finds a planted failure region: in synthetic data, and in the model."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commandline import collabsim
import sim
from sim.analysis.discovery import discover, find_boxes

ROOT = Path(__file__).resolve().parent.parent


def test_prim_recovers_a_planted_box_in_synthetic_data():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.random((4000, 4)), columns=["a", "b", "c", "d"])
    failed = ((X["a"] < 0.3) & (X["b"] > 0.6)).to_numpy() | (rng.random(4000) < 0.05)
    boxes, floor = find_boxes(X, failed)
    box = boxes[0]
    limits = box.limits.set_index("condition")
    assert set(limits.index) == {"a", "b"}
    assert limits.loc["a", "high"] == pytest.approx(0.3, abs=0.03)
    assert limits.loc["b", "low"] == pytest.approx(0.6, abs=0.03)
    assert box.density >= floor and box.coverage > 0.5
    assert box.rule() == (f"a <= {limits.loc['a', 'high']:.3g} AND "
                          f"b >= {limits.loc['b', 'low']:.3g}")


def planted(low: float, high: float) -> dict:
    """Steady partners whose savings hardly vary; the business-case target is uncertain, so
    the run fails exactly when the target is above what they save. The penalty rate is
    uncertain too but cannot matter (breaches are never called out)."""
    partner = {"size": 3.0, "ambition": 0.8, "resourcing": 0.8, "skills": 0.8,
               "trustworthiness": 0.9, "trust_propensity": 0.7, "commitment": 0.9,
               "volatility": 0.0, "control_concern": 0.3, "patience": 10}
    return {"name": "planted", "horizon": 8, "seed": 3,
            "partners": [{"name": n, **partner} for n in ("A", "B", "C")],
            "charter": {"business_case": {"target_net_savings_m": {"uniform": [low, high]},
                                          "savings_potential": 0.1, "ramp_up_cycles": 3},
                        "penalties": {"rate": {"uniform": [0, 2]}, "call_out": 0.0}}}


def test_discovery_finds_a_planted_failure_region_in_the_model():
    fixed = sim.run(sim.scenario_from_dict({**planted(1, 1), "charter": {
        **planted(1, 1)["charter"], "business_case": {
            "target_net_savings_m": 1.0, "savings_potential": 0.1, "ramp_up_cycles": 3}}}),
        replications=500, seed=3)
    saved = fixed.outcomes["net_savings_m"]
    assert saved.std() < 0.05 * saved.median()       # savings barely vary between runs
    m = float(saved.median())
    result = discover(planted(0.5 * m, 1.5 * m), replications=3000, boxes=1)
    assert 0.4 < result.base_rate < 0.6
    box = result.boxes[0]
    limits = box.limits.set_index("condition")
    assert list(limits.index) == ["charter.business_case.target_net_savings_m"]
    assert limits.iloc[0]["low"] == pytest.approx(m, rel=0.05)
    assert box.density > 0.95 and box.coverage > 0.9
    assert "charter.penalties.rate" in result.conditions   # considered, and left out


@pytest.mark.slow
def test_a_population_scenario_is_described_by_its_lowest_mean_and_highest_traits():
    result = discover(ROOT / "scenarios" / "typical.yaml", replications=600, boxes=1)
    columns = set(result.conditions.columns)
    assert {"Partners min ambition", "Partners mean resourcing", "Partners max skills",
            "leadership_change shocks (count)"} <= columns
    assert not any(c.startswith("partners.Partner 1") for c in columns)
    counts = result.conditions["leadership_change shocks (count)"]
    logged = sim.run(ROOT / "scenarios" / "typical.yaml", replications=600).outcomes["shocks"]
    assert counts.tolist() == [s.count("leadership_change") for s in logged]


def test_nothing_to_find_is_said_plainly():
    always = planted(1000.0, 2000.0)   # targets far beyond anything saved: every run fails
    result = discover(always, replications=200)
    assert result.base_rate == 1.0 and not result.boxes
    assert "all of 200 runs" in result.message


@pytest.mark.slow
def test_discover_command_prints_rules_and_saves_the_plots(tmp_path):
    folder = tmp_path / "d"
    done = collabsim("discover", ROOT / "scenarios" / "three_councils.yaml", "-n", "1500",
                     "--out", folder)
    assert done.returncode == 0, done.stderr
    assert "Box 1" in done.stdout and "coverage" in done.stdout
    names = {p.name for p in folder.iterdir()}
    assert {"prim_tradeoff.png", "box-1.png", "box-1-limits.csv", "conditions.parquet",
            "manifest.json"} <= names
    data = json.loads(collabsim("discover", ROOT / "scenarios" / "three_councils.yaml", "-n",
                                "300", "--out", tmp_path / "j", "--json").stdout)
    assert data["failure"] == "not_delivered" and "boxes" in data


@pytest.mark.slow
@pytest.mark.parametrize("args, fragment", [
    (["--failure", "bankrupt"], "--failure bankrupt"),
    (["--replications", "10"], "--replications"),
    (["--density", "1.5"], "--density"),
])
def test_bad_discover_commands_exit_2(tmp_path, args, fragment):
    done = collabsim("discover", ROOT / "scenarios" / "three_councils.yaml", *args,
                     "--out", tmp_path / "x")
    assert done.returncode == 2 and fragment in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "x").exists()


@pytest.mark.slow
def test_a_density_below_the_overall_failure_rate_does_not_make_a_box():
    result = discover(ROOT / "scenarios" / "typical.yaml", replications=600, density=0.3)
    assert result.density_floor > result.base_rate
    assert all(b.density >= result.density_floor for b in result.boxes)
    assert any("close to the overall rate" in n for n in result.notes)
