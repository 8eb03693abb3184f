"""Runs are saved chunk by chunk and survive being killed: `--resume` finishes them with exactly
the result of an uninterrupted run, whatever the workers or executor."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from commandline import collabsim, command
from sim.results import stored_run

ROOT = Path(__file__).resolve().parent.parent
TYPICAL = ROOT / "scenarios" / "typical.yaml"


def tables(folder):
    return (pd.read_parquet(folder / "outcomes"),
            pd.read_parquet(folder / "timeseries").sort_values(["replication", "cycle"],
                                                               ignore_index=True))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    proc = collabsim("run", TYPICAL, "-n", 30000, "--seed", 5, "--chunk-size", 1500,
                     "--workers", 2, "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr
    return out


def kill_part_way(out, workers, sig):
    """Start a run, wait until some but not all chunks are saved, then send it `sig`."""
    proc = subprocess.Popen(command("run", TYPICAL, "-n", 30000, "--seed", 5, "--chunk-size",
                                    1500, "--workers", workers, "--out", out),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        saved = list((out / "outcomes").glob("part-*.parquet")) if out.exists() else []
        if len(saved) >= 3 or proc.poll() is not None:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    os.killpg(proc.pid, sig)  # the whole process group: parent and pool workers
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_killed_run_resumes_to_exactly_the_uninterrupted_result(tmp_path, uninterrupted,
                                                                  workers):
    out = tmp_path / "run"
    code, _ = kill_part_way(out, workers, signal.SIGKILL)
    assert code == -signal.SIGKILL
    plan = stored_run.load_plan(out)
    saved = stored_run.done_chunks(out, plan)
    assert 3 <= len(saved) < len(plan.chunks())
    assert not (out / "manifest.json").exists(), "an unfinished folder has no manifest"
    resumed = collabsim("run", "--resume", out, "--workers", 2, "--json")
    assert resumed.returncode == 0, resumed.stderr
    mine, theirs = tables(out), tables(uninterrupted)
    pd.testing.assert_frame_equal(mine[0], theirs[0])
    pd.testing.assert_frame_equal(mine[1], theirs[1])
    assert json.loads(resumed.stdout)["p_deliver"] == \
        json.loads((uninterrupted / "manifest.json").read_text())["summary"]["p_deliver"]
    assert not list(out.rglob(".*tmp*")), "no temporary files are left behind"


@pytest.mark.slow
def test_ctrl_c_keeps_the_saved_chunks_and_says_how_to_resume(tmp_path, uninterrupted):
    out = tmp_path / "run"
    code, err = kill_part_way(out, 1, signal.SIGINT)
    assert code == 130
    assert f"collabsim run --resume {out}" in err
    assert "Traceback" not in err
    resumed = collabsim("run", "--resume", out, "--json")
    assert resumed.returncode == 0, resumed.stderr
    pd.testing.assert_frame_equal(tables(out)[0], tables(uninterrupted)[0])


@pytest.mark.slow
def test_resuming_a_finished_run_changes_nothing(uninterrupted):
    before = (uninterrupted / "manifest.json").stat().st_mtime_ns
    proc = collabsim("run", "--resume", uninterrupted, "--json")
    assert proc.returncode == 0, proc.stderr
    assert "already complete" in proc.stderr
    assert (uninterrupted / "manifest.json").stat().st_mtime_ns == before


@pytest.mark.slow
def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path):
    proc = collabsim("run", "--resume", tmp_path)
    assert proc.returncode == 2
    assert "not a run folder" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_resume_refuses_a_different_scenario(tmp_path, uninterrupted):
    proc = collabsim("run", ROOT / "scenarios" / "three_councils.yaml", "--resume", uninterrupted)
    assert proc.returncode == 2
    assert "different scenario" in proc.stderr


@pytest.mark.slow
def test_the_stored_run_equals_the_in_memory_run(tmp_path):
    import sim

    folder = tmp_path / "stored"
    stored_run.plan(folder, TYPICAL, 8, 700, chunk_size=300)
    summary = stored_run.run_stored(folder, sim.Executor(workers=2))
    memory = sim.run(TYPICAL, replications=700, seed=8)
    assert summary == memory.summary
    assert stored_run.run_stored(folder) == summary  # already complete: read back
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "outcomes"), memory.outcomes)
    stored = pd.read_parquet(folder / "timeseries").sort_values(["replication", "cycle"],
                                                                ignore_index=True)
    pd.testing.assert_frame_equal(stored, memory.timeseries)


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (("run", TYPICAL, "--engine", "netlogo"), "--engine netlogo"),
    (("run",), "give a scenario file, or --resume"),
    (("run", TYPICAL, "--chunk-size", 0), "--chunk-size"),
])
def test_bad_run_options_are_clear_errors(args, message):
    proc = collabsim(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_a_new_run_refuses_a_folder_that_is_in_use(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(stored_run.RunFolderError, match="not an empty folder"):
        stored_run.plan(tmp_path / "busy", TYPICAL, 1, 10)
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


# --- the same from Python: sim.resume finishes any job a command began ---------------------

def _plan_only(finished: Path, fresh: Path) -> Path:
    """A job's folder as it is before any of its work is saved: only the plan of `finished`."""
    fresh.mkdir()
    (fresh / "plan.json").write_bytes((finished / "plan.json").read_bytes())
    return fresh


@pytest.mark.slow
def test_sim_resume_finishes_a_run_and_a_sweep_as_the_command_does(tmp_path):
    import sim

    run = tmp_path / "run"
    done = collabsim("run", TYPICAL, "-n", 2000, "--seed", 3, "--chunk-size", 500, "--out", run)
    assert done.returncode == 0, done.stderr
    sweep = tmp_path / "sweep"
    done = collabsim("sweep", TYPICAL, "--method", "morris", "--samples", 4, "--replications", 8,
                     "--seed", 3, "--out", sweep)
    assert done.returncode == 0, done.stderr
    result = sim.resume(_plan_only(run, tmp_path / "run-again"))
    assert result.summary == json.loads((run / "manifest.json").read_text())["summary"]
    for mine, theirs in zip(tables(tmp_path / "run-again"), tables(run)):
        pd.testing.assert_frame_equal(mine, theirs)
    result = sim.resume(_plan_only(sweep, tmp_path / "sweep-again"))
    pd.testing.assert_frame_equal(result.indices, pd.read_parquet(sweep / "indices.parquet"),
                                  check_dtype=False)
    again = json.loads((tmp_path / "sweep-again" / "manifest.json").read_text())
    assert again["command"] == json.loads((sweep / "manifest.json").read_text())["command"]
    assert not (tmp_path / "sweep-again" / "points").exists(), "the scratch folder goes"
    from sim.results.jobs import JobError

    with pytest.raises(JobError, match="already complete"):
        sim.resume(sweep)


def test_sim_resume_refuses_a_folder_that_is_not_an_unfinished_job(tmp_path):
    import sim
    from sim.results.jobs import JobError

    with pytest.raises(JobError, match="no such folder"):
        sim.resume(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(JobError, match="not a job's folder"):
        sim.resume(tmp_path / "empty")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "plan.json").write_text('{"kind": "bake"}')
    with pytest.raises(JobError, match="not the plan of a collabsim job"):
        sim.resume(tmp_path / "other")
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / "plan.json").write_text('{"kind": "sweep", "method": "sobol"}')
    with pytest.raises(JobError, match="damaged"):
        sim.resume(tmp_path / "damaged")
