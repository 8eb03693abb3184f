"""Executors run every task once and hand back results keyed by task, wherever the one
Executor object says work runs; chunk sizes are chosen so a chunk's working memory stays
bounded."""

import pytest
import yaml

import sim
from sim.montecarlo.executors import Executor, as_executor, default_workers, execute
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


@pytest.mark.parametrize("workers", [1, 2])
def test_an_executor_gathers_every_result_and_reports_progress_in_units(workers):
    calls = []
    executor = Executor(workers=workers, on_progress=lambda done, total: calls.append((done,
                                                                                      total)))
    tasks = {k: (square, (k,)) for k in range(5)}
    assert executor.gather(tasks, {k: k + 1 for k in range(5)}) == {k: k * k for k in range(5)}
    assert [total for _, total in calls] == [15] * 5
    assert sorted(done for done, _ in calls)[-1] == 15 and len(calls) == 5
    assert all(a < b for (a, _), (b, _) in zip(calls, calls[1:]))


def test_an_executor_says_where_work_runs_and_changes_only_what_it_is_asked_to():
    assert str(Executor()) == "this process"
    assert str(Executor(workers=4)) == "4 local processes"
    assert str(Executor(workers=4, scheduler="tcp://h:8786")) == \
        "the Dask cluster at tcp://h:8786"
    assert Executor(scheduler="tcp://h:8786").on_cluster and not Executor(workers=8).on_cluster
    four = Executor(workers=4)
    assert four.at_most(2) == Executor(workers=2) and four.at_most(9) == four
    assert four.at_most(0).workers == 1
    report = print
    assert four.reporting(report) == Executor(workers=4, on_progress=report)
    assert four.on_progress is None          # frozen: reporting made a new one
    Executor().progress(1, 2)                # nobody listens: nothing happens


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_an_executor_refuses_a_number_of_workers_that_is_not_a_positive_whole_number(workers):
    with pytest.raises(ValueError, match="workers must be a whole number of at least 1"):
        Executor(workers=workers)


def test_an_executor_refuses_an_empty_scheduler_address_and_anything_but_itself():
    with pytest.raises(ValueError, match="Dask scheduler's address"):
        Executor(scheduler=" ")
    assert as_executor(None) == Executor()
    with pytest.raises(TypeError, match="sim.Executor"):
        as_executor(2)
    with pytest.raises(TypeError, match="sim.Executor"):
        sim.run(TYPICAL, replications=5, executor=2)


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
