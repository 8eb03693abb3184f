"""`collabsim run` as a user runs it: the summary, the results folder, reproducibility."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from commandline import collabsim

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "three_councils.yaml"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "first"
    proc = collabsim("run", SCENARIO, "--replications", 30, "--seed", 3, "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.mark.slow
def test_json_summary_has_the_headline_figures(first_run):
    out, proc = first_run
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, "stdout holds exactly one JSON object"
    s = json.loads(lines[0])
    assert s["replications"] == 30 and s["seed"] == 3
    lo, hi = s["p_deliver_ci"]
    assert lo <= s["p_deliver"] <= hi
    assert sum(s["status_shares"].values()) == pytest.approx(1.0)
    assert set(s["status_shares"]) == {"thriving", "stumbling", "crumbling", "dissolved"}
    for key in ("median_savings_pct", "p_any_exit", "median_break_even_cycle", "failure_paths"):
        assert key in s
    assert s["results"] == str(out)


def test_results_folder_holds_tables_figures_summary_and_manifest(first_run):
    out, _ = first_run
    for name in ("manifest.json", "outcomes/part-00000000.parquet", "outcomes.csv",
                 "timeseries.csv", "timeseries/part-00000000.parquet", "summary.md", "savings_fan.png", "trust.png",
                 "outcomes.png"):
        assert (out / name).stat().st_size > 0, name
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert manifest["scenario"] == SCENARIO.read_text()
    assert len(manifest["scenario_sha256"]) == 64
    assert manifest["versions"]["mesa"] and manifest["versions"]["numpy"]
    assert manifest["command"].startswith("collabsim run")
    assert "--seed 3" in manifest["command"] and "--replications 30" in manifest["command"]
    outcomes = pd.read_parquet(out / "outcomes")
    assert len(outcomes) == 30
    assert len(pd.read_csv(out / "timeseries.csv")) == 30 * 11
    assert len(pd.read_parquet(out / "timeseries")) == 30 * 11
    assert "Delivers the business case" in (out / "summary.md").read_text()


@pytest.mark.slow
def test_the_manifest_command_reproduces_the_results_exactly(first_run, tmp_path):
    out, _ = first_run
    command = json.loads((out / "manifest.json").read_text())["command"].split()[1:]
    again = tmp_path / "again"
    proc = collabsim(*command, "--out", again, "--workers", 1)
    assert proc.returncode == 0, proc.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out / "outcomes"),
                                  pd.read_parquet(again / "outcomes"))
    assert (out / "outcomes.csv").read_text() == (again / "outcomes.csv").read_text()


@pytest.mark.slow
def test_human_readable_output_shows_the_headline_and_where_results_went(tmp_path):
    proc = collabsim("run", SCENARIO, "-n", 10, "--seed", 1, "--out", tmp_path / "r",
                     "--workers", 1)
    assert proc.returncode == 0, proc.stderr
    assert "Delivers the business case" in proc.stdout
    assert f"results: {tmp_path / 'r'}" in proc.stdout


@pytest.mark.slow
def test_default_folder_is_a_new_folder_under_results(tmp_path):
    scenario = tmp_path / "mine.yaml"
    scenario.write_text(SCENARIO.read_text())
    exe = shutil.which("collabsim", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "sim.cli"]
    for _ in range(2):
        proc = subprocess.run(command + ["run", str(scenario), "-n", "3", "--workers", "1"],
                              capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert proc.returncode == 0, proc.stderr
    folders = sorted((tmp_path / "results").iterdir())
    assert len(folders) == 2 and all(f.name.startswith("mine-") for f in folders)


@pytest.mark.slow
def test_the_summary_shows_names_and_descriptions_as_text_not_markdown(tmp_path):
    import markdown
    import yaml

    data = yaml.safe_load(SCENARIO.read_text())
    data["name"] = "Beacon ![b](http://example.invalid/b.png) [x](javascript:alert(1)) <b>"
    data["description"] = "# not a heading\n<script>alert(1)</script> *not emphasis*"
    path = tmp_path / "odd ```.yaml"
    path.write_text(yaml.safe_dump(data))
    done = collabsim("run", path, "-n", 20, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    page = markdown.markdown((tmp_path / "out" / "summary.md").read_text())
    title, rest = page.split("</h1>", 1)
    assert title == "<h1>Beacon ![b](http://example.invalid/b.png) [x](javascript:alert(1)) " \
                    "&lt;b&gt;"
    assert "example.invalid" not in rest.split("<h2>")[0]
    assert "<script" not in page and "<em>" not in page and page.count("<h1>") == 1
    assert "javascript:" not in page.replace("[x](javascript:alert(1))", "")
    assert str(path) in page   # the reproduce command, in a code block that the path's
                               # backticks do not close
