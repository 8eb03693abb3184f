"""Chunks sent to a Dask cluster give bit-identical results to the local pool."""

from pathlib import Path

import pandas as pd
import pytest

from commandline import collabsim
import sim

pytestmark = pytest.mark.slow   # every test here takes half a second or more

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "three_councils.yaml"


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as c:
        yield c


@pytest.mark.parametrize("engine, chunk_size", [("vector", 333), ("mesa", 9)])
def test_a_dask_cluster_gives_the_local_result_bit_for_bit(cluster, engine, chunk_size):
    n = 2000 if engine == "vector" else 40
    local = sim.run(SCENARIO, replications=n, seed=4, engine=engine)
    remote = sim.run(SCENARIO, replications=n, seed=4, engine=engine, chunk_size=chunk_size,
                     executor=sim.Executor(scheduler=cluster.scheduler_address))
    pd.testing.assert_frame_equal(local.outcomes, remote.outcomes)
    pd.testing.assert_frame_equal(local.timeseries, remote.timeseries)
    assert local.summary == remote.summary


def test_the_command_line_runs_on_a_cluster(cluster, tmp_path):
    args = ("run", SCENARIO, "-n", 3000, "--seed", 4, "--chunk-size", 700, "--json")
    remote = collabsim(*args, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "r")
    assert remote.returncode == 0, remote.stderr
    local = collabsim(*args, "--workers", 2, "--out", tmp_path / "l")
    assert local.returncode == 0, local.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "r" / "outcomes"),
                                  pd.read_parquet(tmp_path / "l" / "outcomes"))


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    proc = collabsim("run", SCENARIO, "-n", 10, "--scheduler", "tcp://127.0.0.1:9",
                     "--out", tmp_path / "r")
    assert proc.returncode == 2
    assert "cannot reach the Dask scheduler" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_sweep_on_the_cluster_gives_the_local_indices(cluster):
    from sim.analysis.sensitivity import sweep

    local = sweep(SCENARIO, "sobol", samples=32, replications=8, seed=6)
    remote = sweep(SCENARIO, "sobol", samples=32, replications=8, seed=6,
                   executor=sim.Executor(scheduler=cluster.scheduler_address))
    pd.testing.assert_frame_equal(local.design, remote.design)
    pd.testing.assert_frame_equal(local.indices, remote.indices)


def test_a_calibration_on_a_cluster_is_the_local_one(cluster):
    """ABC-SMC candidates sent to Dask workers give the local pool's posterior exactly (the toy
    statistics of tests/test_abc.py: two constants, two targets)."""
    from test_abc import PRIORS, TARGETS, toy

    from sim.analysis.abc import run_abc

    local = run_abc(toy, TARGETS, PRIORS, population=30, generations=2, seed=4)
    remote = run_abc(toy, TARGETS, PRIORS, population=30, generations=2, seed=4,
                     executor=sim.Executor(scheduler=cluster.scheduler_address))
    pd.testing.assert_frame_equal(local.posterior, remote.posterior)


def test_a_charter_design_on_a_cluster_is_the_local_one(cluster):
    """Each generation's charters, sent to Dask workers, give the local design exactly."""
    settings = dict(seeds=1, population=8, evaluations=24, replications=20, max_replications=40,
                    final_replications=200, bootstrap=40)
    levers = "charter.decision_rule,charter.programme_team.training"
    local = sim.design_charter(SCENARIO, levers, **settings)
    remote = sim.design_charter(SCENARIO, levers,
                                executor=sim.Executor(scheduler=cluster.scheduler_address),
                                **settings)
    pd.testing.assert_frame_equal(local.table, remote.table)
    pd.testing.assert_frame_equal(local.searches[0].evaluated, remote.searches[0].evaluated)
