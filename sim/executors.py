"""Where chunks of work run: in this process, in a local process pool, or on a Dask cluster.

Every task is a top-level function and its arguments; results come back keyed by the task, in
whatever order they finish. Callers derive every seed from (root seed, replication or sample
index), never from the executor, so the results are identical however the work is spread.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Hashable, Iterator, Mapping, Optional

Task = tuple[Callable[..., Any], tuple]
#: Seconds to wait for a Dask scheduler before giving up with a clear error.
CONNECT_TIMEOUT = 15


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def execute(tasks: Mapping[Hashable, Task], *, workers: int = 1,
            scheduler: str | None = None) -> Iterator[tuple[Hashable, Any]]:
    """Run every task; yield (key, result) as each finishes.

    Args:
        workers: local processes (1 = in this process). Ignored when `scheduler` is given.
        scheduler: address of a Dask distributed scheduler ("tcp://host:8786"); the cluster's
            workers need collabsim installed. Requires the `distributed` package.
    """
    if scheduler is not None:
        yield from _on_dask(tasks, scheduler)
    elif workers <= 1 or len(tasks) <= 1:
        for key, (fn, args) in tasks.items():
            yield key, fn(*args)
    else:
        yield from _on_local_pool(tasks, workers)


def _on_local_pool(tasks, workers: int):
    # fork where the platform has it: workers need not re-import the caller's __main__
    # (which fails for stdin scripts and some notebooks under spawn); spawn elsewhere.
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)),
                               mp_context=mp.get_context(method))
    try:
        # keep a bounded number of tasks in flight, so a run of millions of replications holds
        # only a few chunks' results in memory at once
        queue = iter(tasks.items())
        pending = {}

        def top_up():
            while len(pending) < 2 * workers:
                item = next(queue, None)
                if item is None:
                    return
                key, (fn, args) = item
                pending[pool.submit(fn, *args)] = key

        top_up()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                key = pending.pop(future)
                yield key, future.result()
            top_up()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _on_dask(tasks, scheduler: str):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RuntimeError("--scheduler needs Dask distributed: pip install 'collabsim[dask]'") \
            from None
    with Client(scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT) as client, \
            client.as_current():
        futures = {client.submit(fn, *args, pure=False): key
                   for key, (fn, args) in tasks.items()}
        try:
            for future in as_completed(list(futures)):
                key = futures.pop(future)  # release the result on the cluster once we have it
                yield key, future.result()
        finally:
            client.cancel(list(futures))


def gather(tasks: Mapping[Hashable, Task], sizes: Mapping[Hashable, int], *, workers: int = 1,
           scheduler: Optional[str] = None,
           on_progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Run every task (as execute does) and return the results by key, reporting progress as
    on_progress(units done, units in all), where each task counts for sizes[key] units."""
    total, done, results = sum(sizes.values()), 0, {}
    for key, result in execute(tasks, workers=workers, scheduler=scheduler):
        results[key] = result
        done += sizes[key]
        if on_progress is not None:
            on_progress(done, total)
    return results
