"""Crash safety: a long run and a long sweep, SIGKILLed at random moments several times, each
resume to exactly what an uninterrupted job gives; a folder never looks complete before it is;
and two jobs started at once never write into the same folder. However a job ends (its parent
killed alone, SIGTERM, a dead worker, a lost scheduler, no memory, a full disk) it says so in
one line with its own exit status and the command that finishes it, and leaves no process
behind."""

import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from commandline import collabsim, command
from test_resume import ROOT, TYPICAL, tables

pytestmark = pytest.mark.slow   # every test here takes half a second or more

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


def uninterrupted(tmp_path_factory, kind: str, command) -> Path:
    """The folder an uninterrupted `command` writes: what a killed-and-resumed one must equal."""
    whole = tmp_path_factory.mktemp(kind) / "whole"
    done = collabsim(*command, "--out", whole)
    assert done.returncode == 0, done.stderr
    return whole


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory):
    return uninterrupted(tmp_path_factory, "run", RUN)


@pytest.fixture(scope="module")
def whole_sweep(tmp_path_factory):
    return uninterrupted(tmp_path_factory, "sweep", SWEEP)


def test_a_run_killed_several_times_at_random_moments_resumes_exactly(tmp_path, whole_run):
    whole = whole_run
    folder = tmp_path / "killed"
    kill_repeatedly(RUN + ["--out", folder], ["run", "--resume", folder, "--workers", 2],
                    folder, "run", 20261123)
    done = collabsim("run", "--resume", folder, "--workers", 2)
    assert done.returncode == 0, done.stderr
    for mine, theirs in zip(tables(folder), tables(whole)):
        pd.testing.assert_frame_equal(mine, theirs)
    assert (folder / "outcomes.csv").read_bytes() == (whole / "outcomes.csv").read_bytes()
    assert no_temporary_files(folder)


def test_a_sweep_killed_several_times_at_random_moments_resumes_exactly(tmp_path, whole_sweep):
    whole = whole_sweep
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


# --- hardening, round two: however the job ends ---------------------------------------------

def start(args, folder, kind, parts=2, **options):
    """Start a job in its own session and wait until it has saved `parts` parts."""
    proc = subprocess.Popen(command(*args), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **options)
    deadline = time.monotonic() + 120
    while saved_parts(folder, kind) < parts and proc.poll() is None:
        assert time.monotonic() < deadline, "the job saved nothing in two minutes"
        time.sleep(0.01)
    assert proc.poll() is None, f"the {kind} finished before it could be stopped"
    return proc


def nothing_left_running(proc, seconds=30.0) -> bool:
    """No process is left in the job's process group (its pool workers) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return True
        alive = [p for p in psutil.process_iter(["pid", "status"])
                 if p.info["status"] != psutil.STATUS_ZOMBIE and _group(p.info["pid"]) == proc.pid]
        if not alive:
            return True
        time.sleep(0.02)
    return False


def _group(pid):
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def same_sweep(folder, whole):
    for name in ("design.parquet", "indices.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(folder / name),
                                      pd.read_parquet(whole / name))


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_killing_only_the_parent_leaves_no_worker_and_resumes_at_once(tmp_path, kind, request):
    """kill -9 of the parent alone (as the out-of-memory killer does): its pool workers die
    with it and let go of the folder's lock, so --resume works at once, bit-identical."""
    folder = tmp_path / kind
    proc = start((RUN if kind == "run" else SWEEP) + ["--out", folder], folder, kind)
    try:
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        done = collabsim(kind, "--resume", folder, "--workers", 2)   # at once: no waiting
        assert done.returncode == 0, done.stderr
        assert nothing_left_running(proc)
        assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    finally:
        kill_group(proc)
    if kind == "run":
        whole = request.getfixturevalue("whole_run")
        for mine, theirs in zip(tables(folder), tables(whole)):
            pd.testing.assert_frame_equal(mine, theirs)
    else:
        same_sweep(folder, request.getfixturevalue("whole_sweep"))
    assert no_temporary_files(folder)


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_sigterm_is_handled_as_ctrl_c(tmp_path, kind, request):
    folder = tmp_path / kind
    proc = start((RUN if kind == "run" else SWEEP) + ["--out", folder], folder, kind)
    try:
        os.kill(proc.pid, signal.SIGTERM)   # the parent alone, as `kill PID` does
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        assert "terminated (SIGTERM)" in err and f"collabsim {kind} --resume {folder}" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert nothing_left_running(proc)
    finally:
        kill_group(proc)
    assert not (folder / "manifest.json").exists()
    done = collabsim(kind, "--resume", folder, "--workers", 2)
    assert done.returncode == 0, done.stderr
    if kind == "run":
        for mine, theirs in zip(tables(folder), tables(request.getfixturevalue("whole_run"))):
            pd.testing.assert_frame_equal(mine, theirs)
    else:
        same_sweep(folder, request.getfixturevalue("whole_sweep"))


def test_a_worker_killed_by_the_system_ends_the_run_with_status_3(tmp_path, whole_run):
    folder = tmp_path / "run"
    proc = start(RUN + ["--out", folder], folder, "run")
    try:
        psutil.Process(proc.pid).children()[0].kill()   # as the out-of-memory killer would
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 3, err
        assert "a worker process ended abruptly" in err
        assert f"Finish with: collabsim run --resume {folder}" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert nothing_left_running(proc)
    finally:
        kill_group(proc)
    done = collabsim("run", "--resume", folder, "--workers", 2)
    assert done.returncode == 0, done.stderr
    for mine, theirs in zip(tables(folder), tables(whole_run)):
        pd.testing.assert_frame_equal(mine, theirs)


def test_out_of_memory_ends_the_run_with_status_5(tmp_path):
    """A real MemoryError: an address-space limit below what a chunk needs (the memory check is
    told there is plenty, so the run starts)."""
    folder = tmp_path / "run"

    def small_address_space():
        resource.setrlimit(resource.RLIMIT_AS, (2_500_000_000, resource.RLIM_INFINITY))

    done = subprocess.run(command("run", TYPICAL, "-n", 400_000, "--chunk-size", 200_000,
                                  "--workers", 1, "--out", folder),
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          preexec_fn=small_address_space,
                          env={**os.environ, "COLLABSIM_MEMORY": "100G"})
    assert done.returncode == 5, done.stderr
    assert "out of memory" in done.stderr and f"collabsim run --resume {folder}" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def file_size_limit(limit=60_000):
    """A file-size limit: writes beyond it fail as on a full disk (EFBIG, as ENOSPC)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def run_on_a_full_disk(folder, *options):
    """`collabsim run` of typical into `folder` with writes failing as on a full disk."""
    done = subprocess.run(command("run", TYPICAL, "-n", 6000, "--chunk-size", 1500, *options,
                                  "--out", folder),
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          preexec_fn=file_size_limit())
    assert done.returncode == 6, done.stderr
    assert "cannot write the results: File too large" in done.stderr
    assert "Traceback" not in done.stderr
    assert no_temporary_files(folder)
    return done


@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_is_named_and_leaves_no_temporary_file(tmp_path, workers):
    folder = tmp_path / "run"
    done = run_on_a_full_disk(folder, "--workers", workers)
    assert str(folder / "timeseries" / "part-") in done.stderr
    assert f"collabsim run --resume {folder}" in done.stderr
    assert "scheduler" not in done.stderr
    assert collabsim("run", "--resume", folder).returncode == 0   # once there is room


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster():
    """A Dask scheduler and one worker, each a process of its own (so the test can kill the
    scheduler); yields the scheduler's address and process."""
    pytest.importorskip("distributed")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--dashboard-address", ":0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1",
         "--nthreads", "1", "--dashboard-address", ":0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=ROOT)
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
        yield address, scheduler
    finally:
        kill_group(scheduler)
        kill_group(worker)


def test_a_lost_scheduler_ends_the_run_with_status_4(tmp_path, dask_cluster, whole_run):
    address, scheduler = dask_cluster
    folder = tmp_path / "run"
    args = ["run", TYPICAL, "-n", 30000, "--seed", 5, "--chunk-size", 1500, "--scheduler",
            address, "--out", folder]
    proc = start(args, folder, "run")
    try:
        kill_group(scheduler)
        _, err = proc.communicate(timeout=120)
    finally:
        kill_group(proc)
    assert proc.returncode == 4, err
    assert f"--scheduler {address}: lost the Dask scheduler" in err
    assert f"Finish with: collabsim run --resume {folder}" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    done = collabsim("run", "--resume", folder, "--workers", 2)
    assert done.returncode == 0, done.stderr
    for mine, theirs in zip(tables(folder), tables(whole_run)):
        pd.testing.assert_frame_equal(mine, theirs)


def test_a_full_disk_with_a_scheduler_is_not_blamed_on_the_scheduler(tmp_path, dask_cluster):
    address, _ = dask_cluster
    done = run_on_a_full_disk(tmp_path / "run", "--scheduler", address)
    assert "cannot reach" not in done.stderr


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_an_unreachable_scheduler_leaves_nothing_behind(tmp_path, kind):
    folder = tmp_path / "nested" / "out"
    args = [kind, THREE, "-n", 10] + (["-N", 8] if kind == "sweep" else [])
    done = collabsim(*args, "--scheduler", "tcp://127.0.0.1:9", "--out", folder)
    assert done.returncode == 2, done.stderr
    assert "cannot reach the Dask scheduler" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "nested").exists(), "nothing written"
    again = collabsim(*args, "--out", folder, "--workers", 1)   # the same command, locally
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_starting_again_in_an_unfinished_folder_points_at_resume(tmp_path, kind):
    folder = tmp_path / kind
    proc = start((RUN if kind == "run" else SWEEP) + ["--out", folder], folder, kind, parts=1)
    kill_group(proc)
    proc.wait(timeout=60)
    again = collabsim(*(RUN if kind == "run" else SWEEP), "--out", folder)
    assert again.returncode == 2
    assert f"holds an unfinished job; finish it with: collabsim {kind} --resume {folder}" \
        in again.stderr


# --- results folders from someone else ------------------------------------------------------

@pytest.fixture
def unfinished_run(tmp_path):
    folder = tmp_path / "shared"
    proc = start(RUN + ["--out", folder], folder, "run", parts=2)
    kill_group(proc)
    proc.wait(timeout=60)
    return folder


@pytest.mark.parametrize("name", ["summary.md", "trust.png", "outcomes.csv", "manifest.json",
                                  "outcomes/part-00000019.parquet", "plan.json", ".lock"])
def test_resume_refuses_a_folder_whose_files_are_symbolic_links(unfinished_run, tmp_path, name):
    """A shared "please finish this run" folder cannot make --resume write (or read) outside
    it: a symbolic link anywhere in it is refused, and the file it points to is untouched."""
    target = tmp_path / "profile"
    target.write_text("export PATH=/usr/bin\n")
    link = unfinished_run / name
    link.unlink(missing_ok=True)
    link.symlink_to(target)
    done = collabsim("run", "--resume", unfinished_run)
    assert done.returncode == 2, done.stderr
    assert str(link) in done.stderr and "symbolic link" in done.stderr
    assert "Traceback" not in done.stderr
    assert target.read_text() == "export PATH=/usr/bin\n"
    assert link.is_symlink()


def test_resume_refuses_a_special_file_in_the_folder(unfinished_run):
    os.mkfifo(unfinished_run / "summary.md")
    done = collabsim("run", "--resume", unfinished_run)
    assert done.returncode == 2 and "not a regular file" in done.stderr


def test_sweep_resume_refuses_a_folder_with_a_symbolic_link(tmp_path):
    folder = tmp_path / "shared"
    proc = start(SWEEP + ["--out", folder], folder, "sweep", parts=1)
    kill_group(proc)
    proc.wait(timeout=60)
    target = tmp_path / "profile"
    target.write_text("keep\n")
    (folder / "points" / "points-99999999.npy").symlink_to(target)
    done = collabsim("sweep", "--resume", folder)
    assert done.returncode == 2 and "symbolic link" in done.stderr, done.stderr
    assert target.read_text() == "keep\n"


def test_a_short_job_stopped_by_sigterm_says_nothing_was_written(tmp_path):
    folder = tmp_path / "compare"
    proc = subprocess.Popen(command("compare", THREE, ROOT / "scenarios" / "strong_charter.yaml",
                                    "-n", 2_000_000, "--workers", 2, "--out", folder),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(psutil.Process(proc.pid).children()) < 2:   # its workers are at work
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        assert "terminated (SIGTERM). Nothing was written; run the command again." in err
        assert nothing_left_running(proc)
    finally:
        kill_group(proc)
    assert not folder.exists() and not list(tmp_path.iterdir())


SWALLOWED = """
import os, signal, sys, time
from sim.cli.common import Terminated, interruption, raise_terminated

signal.signal(signal.SIGTERM, raise_terminated)

class Swallow:
    def __del__(self):   # a callback whose errors Python ignores, as logging's after-fork one
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)  # the handler runs here, and its Terminated is dropped

try:
    Swallow()
    print("went on", flush=True)
    time.sleep(60)
    sys.exit(1)
except Terminated as exc:
    sys.exit(interruption(exc)[1])
"""


def test_a_sigterm_that_python_drops_is_delivered_again():
    """A SIGTERM whose exception Python drops (raised inside a callback whose errors it ignores:
    what happened when a pool forked a worker at the moment the signal came) is delivered again
    by a watchdog, so the job still ends as terminated instead of running on."""
    done = subprocess.run([sys.executable, "-c", SWALLOWED], capture_output=True, text=True,
                          cwd=ROOT, timeout=30)
    assert "Exception ignored" in done.stderr and "Terminated" in done.stderr, done.stderr
    assert done.stdout == "went on\n"
    assert done.returncode == 143, done.stderr
