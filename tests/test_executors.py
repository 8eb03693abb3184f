"""Executors run every task once and hand back results keyed by task; chunk sizes are chosen
so a chunk's working memory stays bounded."""

import pytest
import yaml

import sim
from sim.montecarlo.executors import default_workers, execute
from sim.montecarlo.runs import DEFAULT_CHUNK, default_chunk_size

TYPICAL = "scenarios/typical.yaml"


def square(x):
    return x * x


def fail_on(x, bad):
    if x == bad:
        raise ValueError(f"task {x} failed")
    return x


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_task_runs_once_and_comes_back_under_its_key(workers):
    tasks = {f"t{k}": (square, (k,)) for k in range(11)}
    results = dict(execute(tasks, workers=workers))
    assert results == {f"t{k}": k * k for k in range(11)}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_task_raises_in_the_caller(workers):
    tasks = {k: (fail_on, (k, 3)) for k in range(6)}
    with pytest.raises(ValueError, match="task 3 failed"):
        dict(execute(tasks, workers=workers))


def test_no_tasks_is_no_results():
    assert list(execute({}, workers=2)) == []


def test_default_workers_is_the_usable_cores():
    assert default_workers() >= 1


def scenario_with(partners: int):
    data = yaml.safe_load(open(TYPICAL).read())
    data["population"]["count"] = partners
    return sim.scenario_from_dict(data)


def test_chunks_shrink_as_partnerships_grow_so_memory_stays_bounded():
    from sim.montecarlo.memory import CHUNK_BYTES, replication_bytes

    scenarios = [scenario_with(n) for n in (2, 5, 20, 50)]
    sizes = [default_chunk_size(sc, "vector") for sc in scenarios]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] == DEFAULT_CHUNK["vector"]
    assert all(size * replication_bytes(sc) <= CHUNK_BYTES for size, sc in zip(sizes, scenarios))
    assert 1 <= sizes[-1] < sizes[0] / 20
    assert default_chunk_size(scenario_with(50), "mesa") == DEFAULT_CHUNK["mesa"]
