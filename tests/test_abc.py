"""ABC-SMC (pyabc) made reproducible and resumable: sim.analysis.abc."""

import math

import numpy as np
import pytest

import sim
from sim.analysis.abc import Prior, Target, implausibility, parse_prior, run_abc


def toy(values, seed):
    """Two statistics of two parameters, with noise: a + b and a - b."""
    rng = np.random.default_rng(seed)
    a, b = values["parameters.a"], values["parameters.b"]
    return {"sum": a + b + 0.05 * rng.normal(), "difference": a - b + 0.05 * rng.normal()}


TARGETS = {"sum": Target(0.95, 1.05, 0.05), "difference": Target(0.15, 0.25, 0.05)}
PRIORS = [Prior("parameters.a", 0.0, 1.0), Prior("parameters.b", 0.0, 1.0)]


@pytest.fixture(scope="module")
def toy_result():
    return run_abc(toy, TARGETS, PRIORS, population=60, generations=4, seed=3)


@pytest.mark.slow
def test_a_known_answer_is_recovered_and_the_evidence_narrows_it(toy_result):
    table = toy_result.contraction().set_index("parameter")
    assert table.loc["parameters.a", "posterior_mean"] == pytest.approx(0.6, abs=0.05)
    assert table.loc["parameters.b", "posterior_mean"] == pytest.approx(0.4, abs=0.05)
    assert (table["contraction"] > 0.8).all()
    eps = toy_result.generations["epsilon"].to_numpy()
    assert (np.diff(eps) < 0).all()               # each generation asks for a closer match
    assert toy_result.posterior["weight"].sum() == pytest.approx(1.0)


@pytest.mark.slow
def test_identical_whatever_the_workers(toy_result):
    two = run_abc(toy, TARGETS, PRIORS, population=60, generations=4, seed=3,
                  executor=sim.Executor(workers=2))
    assert two.posterior.equals(toy_result.posterior)


@pytest.mark.slow
def test_stopped_after_two_generations_and_resumed_it_ends_identical(tmp_path, toy_result):
    run_abc(toy, TARGETS, PRIORS, population=60, generations=2, seed=3, folder=tmp_path)
    resumed = run_abc(toy, TARGETS, PRIORS, population=60, generations=4, seed=3,
                      folder=tmp_path)
    assert resumed.posterior.equals(toy_result.posterior)
    assert list(resumed.generations["generation"]) == [1, 2, 3, 4]


@pytest.mark.slow
def test_killed_inside_a_generation_the_saved_batches_are_used_again(tmp_path, toy_result):
    """A calibration killed before its first generation was recorded keeps its finished
    batches; starting again reuses them (never re-simulated) and ends identical."""
    log = tmp_path / "calls.log"    # simulations run in copies of this function: count in a file

    def counting(values, seed):
        with open(log, "a") as f:
            f.write("x\n")
        return toy(values, seed)

    folder = tmp_path / "calibration"
    run_abc(counting, TARGETS, PRIORS, population=60, generations=1, seed=3, folder=folder)
    first = len(log.read_text().splitlines())
    (folder / "abc.db").unlink()        # as if killed before pyabc recorded the generation
    log.unlink()
    again = run_abc(counting, TARGETS, PRIORS, population=60, generations=4, seed=3,
                    folder=folder)
    rerun = len(log.read_text().splitlines())
    log.unlink()
    run_abc(counting, TARGETS, PRIORS, population=60, generations=4, seed=3,
            folder=tmp_path / "uninterrupted")
    whole = len(log.read_text().splitlines())
    assert first > 0 and rerun == whole - first
    assert again.posterior.equals(toy_result.posterior)


def test_the_distance_is_zero_exactly_when_every_target_is_met():
    assert implausibility({"sum": 1.0, "difference": 0.2}, TARGETS) == 0.0
    assert implausibility({"sum": 1.15, "difference": 0.2}, TARGETS) == pytest.approx(4.0)
    assert implausibility({"sum": math.nan, "difference": 0.2}, TARGETS) == math.inf


def test_priors_are_parsed_with_defaults_for_bare_names():
    assert parse_prior("trust_memory=0.5:0.9", None) == Prior("parameters.trust_memory", 0.5,
                                                               0.9)
    assert parse_prior("partners.*.patience", lambda p: (1.0, 5.0)) == Prior(
        "partners.*.patience", 1.0, 5.0)
    for bad in ("trust_memory=0.9:0.5", "trust_memory=a:b", "x=1:inf"):
        with pytest.raises(ValueError):
            parse_prior(bad, None)


# The identical twin on the model itself, through a pattern register: tests/test_calibration.py
