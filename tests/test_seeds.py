"""Every replication has its own stream, and the batched draw reproduces it bit for bit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.partnership.inputs import (SCALARS, TRAITS, central_uniforms, count_uncertain, resolve,
                                    resolve_batch)
from sim.partnership.seeds import replication_rng, replication_seed, replication_uniforms
from strategies import scenarios


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**128), sample=st.integers(0, 2**32 - 1),
       reps=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=8),
       count=st.integers(0, 40))
def test_batched_draw_equals_each_replications_own_generator(seed, sample, reps, count):
    block = replication_uniforms(seed, reps, count, sample)
    assert block.shape == (len(reps), count)
    for row, r in zip(block, reps):
        np.testing.assert_array_equal(row, replication_rng(seed, r, sample).random(count))


def test_replication_seed_is_numpys_seed_sequence_spawn():
    words = np.random.SeedSequence(3, spawn_key=(1, 2)).generate_state(2, dtype=np.uint64)
    assert replication_seed(3, 2, 1) == (int(words[0]) << 64) | int(words[1])


def test_each_row_may_have_its_own_sample_index():
    reps, samples = [0, 1, 0, 5], [0, 0, 3, 2**32 - 1]
    block = replication_uniforms(9, reps, 6, np.array(samples))
    for row, r, k in zip(block, reps, samples):
        np.testing.assert_array_equal(row, replication_rng(9, r, k).random(6))


def test_streams_differ_between_replications_and_design_points():
    block = replication_uniforms(1, range(50), 20)
    assert len({row.tobytes() for row in block}) == 50
    assert not np.array_equal(replication_uniforms(1, [0], 20, sample=1), block[:1])


@pytest.mark.parametrize("bad", [dict(seed=-1, replications=[0]),
                                 dict(seed=1, replications=[-1]),
                                 dict(seed=1, replications=[2**32]),
                                 dict(seed=1, replications=[0], sample=2**32)])
def test_out_of_range_indices_are_refused(bad):
    with pytest.raises(ValueError):
        replication_uniforms(count=3, **bad)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(scenarios(max_partners=8), st.integers(0, 2**32 - 1))
def test_batch_resolution_equals_one_by_one(data, seed):
    scenario = sim.scenario_from_dict(data)
    u = replication_uniforms(seed, range(4), count_uncertain(scenario))
    batch = resolve_batch(scenario, u)
    for k in range(4):
        one, row = resolve(scenario, u[k]), batch.replication(k)
        for t in TRAITS:
            np.testing.assert_array_equal(one.traits[t], row.traits[t])
        np.testing.assert_array_equal(one.priorities, row.priorities)
        np.testing.assert_array_equal(one.vision, row.vision)
        for name in SCALARS:
            assert getattr(one, name) == getattr(row, name)
        assert one.shocks == row.shocks


def test_resolution_refuses_a_block_of_the_wrong_width():
    scenario = sim.load_scenario("scenarios/typical.yaml")
    with pytest.raises(ValueError, match="uniforms given"):
        resolve(scenario, np.append(central_uniforms(scenario), 0.5))
