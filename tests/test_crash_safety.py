"""Crash safety: a long run and a long sweep, SIGKILLed at random moments several times, each
resume to exactly what an uninterrupted job gives; a folder never looks complete before it is;
and two jobs started at once never write into the same folder."""

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from test_resume import ROOT, TYPICAL, collabsim, command, tables

THREE = ROOT / "scenarios" / "three_councils.yaml"
RUN = ["run", TYPICAL, "-n", 30000, "--seed", 5, "--chunk-size", 1500, "--workers", 2]
SWEEP = ["sweep", THREE, "--method", "sobol", "-N", 512, "-n", 64, "--seed", 3,
         "--workers", 2]
KILLS = 3


def saved_parts(folder: Path, kind: str) -> int:
    pattern = "outcomes/part-*.parquet" if kind == "run" else "points/points-*.npy"
    return len(list(folder.glob(pattern))) if folder.exists() else 0


def kill_at_a_random_moment(args, folder, kind, rng):
    """Start (or resume) a job, let it save at least one more part, wait a random moment more,
    then SIGKILL its whole process group. Returns False if the job finished first."""
    before = saved_parts(folder, kind)
    proc = subprocess.Popen(command(*args), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while saved_parts(folder, kind) <= before and proc.poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.6))
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    return True


def kill_repeatedly(start, resume, folder, kind, seed) -> int:
    """Start a job, then kill it and each resume at random moments, up to KILLS times; after
    every kill the folder must not look complete. Returns how many kills landed."""
    rng, kills = random.Random(seed), 0
    for attempt in range(KILLS):
        if not kill_at_a_random_moment(start if attempt == 0 else resume, folder, kind, rng):
            break
        kills += 1
        assert not (folder / "manifest.json").exists(), "killed, so not complete"
    print(f"{kind}: {kills} kills landed")
    assert kills >= 2, f"the {kind} was too quick to kill repeatedly"
    return kills


def no_temporary_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if ".tmp" in p.name or ".partial" in p.name]


def test_a_run_killed_several_times_at_random_moments_resumes_exactly(tmp_path):
    whole = tmp_path / "whole"
    assert collabsim(*RUN, "--out", whole).returncode == 0
    folder = tmp_path / "killed"
    kill_repeatedly(RUN + ["--out", folder], ["run", "--resume", folder, "--workers", 2],
                    folder, "run", 20261123)
    done = collabsim("run", "--resume", folder, "--workers", 2)
    assert done.returncode == 0, done.stderr
    for mine, theirs in zip(tables(folder), tables(whole)):
        pd.testing.assert_frame_equal(mine, theirs)
    assert (folder / "outcomes.csv").read_bytes() == (whole / "outcomes.csv").read_bytes()
    assert no_temporary_files(folder)


def test_a_sweep_killed_several_times_at_random_moments_resumes_exactly(tmp_path):
    whole = tmp_path / "whole"
    assert collabsim(*SWEEP, "--out", whole).returncode == 0
    folder = tmp_path / "killed"
    kill_repeatedly(SWEEP + ["--out", folder], ["sweep", "--resume", folder, "--workers", 2],
                    folder, "sweep", 7)
    assert 0 < saved_parts(folder, "sweep")
    done = collabsim("sweep", "--resume", folder, "--workers", 2, "--json")
    assert done.returncode == 0, done.stderr
    for name in ("design.parquet", "indices.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(folder / name),
                                      pd.read_parquet(whole / name))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["command"] == json.loads((whole / "manifest.json").read_text())["command"]
    assert not (folder / "points").exists() and no_temporary_files(folder)
    again = collabsim("sweep", "--resume", folder)
    assert again.returncode == 0 and "already complete" in again.stderr


def test_a_sweep_folder_is_not_taken_for_a_run_and_the_other_way_round(tmp_path):
    folder = tmp_path / "s"
    proc = subprocess.Popen(command(*SWEEP, "--out", folder), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    while not (folder / "plan.json").exists():
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    wrong = collabsim("run", "--resume", folder)
    assert wrong.returncode == 2 and "collabsim sweep --resume" in wrong.stderr


@pytest.mark.parametrize("job", ["run", "sweep"])
def test_two_jobs_started_at_once_never_write_into_the_same_folder(tmp_path, job):
    folder = tmp_path / "shared"
    args = (RUN if job == "run" else SWEEP) + ["--out", folder]
    procs = [subprocess.Popen(command(*args), cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    assert "another collabsim process" in loser or "not an empty folder" in loser
    assert "Traceback" not in loser
    solo = tmp_path / "solo"
    assert collabsim(*(RUN if job == "run" else SWEEP), "--out", solo).returncode == 0
    if job == "run":
        for mine, theirs in zip(tables(folder), tables(solo)):
            pd.testing.assert_frame_equal(mine, theirs)
    else:
        pd.testing.assert_frame_equal(pd.read_parquet(folder / "indices.parquet"),
                                      pd.read_parquet(solo / "indices.parquet"))


def test_two_comparisons_started_at_once_never_mix_their_files(tmp_path):
    folder = tmp_path / "shared"
    args = ["compare", THREE, ROOT / "scenarios" / "strong_charter.yaml", "-n", 3000, "--out",
            folder]
    procs = [subprocess.Popen(command(*args), cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    assert sorted(code for code, _ in results) == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    assert "another process filled this folder first" in loser and "Traceback" not in loser
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "compare"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".partial")]
