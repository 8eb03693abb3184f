"""Where chunks of work run: in this process, in a local process pool, or on a Dask cluster,
and who hears how far the work has got: one Executor, passed wherever work runs.

Every task is a top-level function and its arguments; results come back keyed by the task, in
whatever order they finish. Callers derive every seed from (root seed, replication or sample
index), never from the executor, so the results are identical however the work is spread.

A local pool's workers die with the process that started them (a parent-death signal on Linux,
a watchdog thread elsewhere) and let go of the files it asked to keep private (a results
folder's lock), so a parent killed by `kill -9` or the out-of-memory killer leaves nothing
running and nothing locked. How work can end badly is named by WorkerDied and SchedulerLost
(and MemoryError and OSError as Python raises them), so callers can tell the user what happened.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import re
import signal
import socket
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Callable, Hashable, Iterator, Mapping, Optional

Task = tuple[Callable[..., Any], tuple]
#: Seconds to wait for a Dask scheduler before giving up with a clear error.
CONNECT_TIMEOUT = 15
#: Share of the memory available when work starts that its chunks may take, all workers
#: together (the rest is for this process, pandas' copies when a chunk is written, and others).
MEMORY_SHARE = 0.5
#: The environment variable that sets the memory budget (bytes, or a number with K, M or G).
MEMORY_ENV = "COLLABSIM_MEMORY"
#: prctl(2) option: the signal a process gets when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1
#: File descriptors that local pool workers must not keep (see keep_from_workers).
_PRIVATE_FDS: set[int] = set()


class WorkerDied(RuntimeError):
    """A local worker process ended abruptly (killed, or by the out-of-memory killer)."""


class SchedulerUnreachable(RuntimeError):
    """The Dask scheduler could not be reached when the work started."""


class SchedulerLost(RuntimeError):
    """The Dask scheduler or its workers went away while the work was running."""


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def memory_budget() -> int:
    """Bytes the chunks of one job may hold at once, all workers together: MEMORY_SHARE of
    what the machine has available now, or of this process's own limits (an address-space or
    data ulimit, a cgroup's memory.max) when they are lower. The environment variable
    COLLABSIM_MEMORY (bytes, or with a K, M or G suffix) sets it instead."""
    given = os.environ.get(MEMORY_ENV, "").strip()
    if given:
        return parse_bytes(given)
    limits = [_available_memory()]
    try:
        import resource

        for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            soft, _ = resource.getrlimit(which)
            if soft != resource.RLIM_INFINITY:
                limits.append(soft)
    except (ImportError, AttributeError, ValueError, OSError):
        pass
    limits.append(_cgroup_limit())
    return int(MEMORY_SHARE * min(x for x in limits if x is not None))


def parse_bytes(text: str) -> int:
    """'2G', '512M', '64k' or '1000000' as bytes (ValueError naming COLLABSIM_MEMORY)."""
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    number, unit = text.upper().rstrip("B").rstrip(), ""
    if number and number[-1] in "KMGT":
        number, unit = number[:-1].strip(), number[-1]
    try:
        value = float(number) * units[unit]
    except ValueError:
        value = float("nan")
    if not value >= 1:
        raise ValueError(f"{MEMORY_ENV}={text}: give a size such as 4G, 512M or 1000000")
    return int(value)


def _available_memory() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**34   # unknown: assume a 16 GB machine


def _cgroup_limit() -> Optional[int]:
    """What this process's cgroup (v2) still lets it allocate, if it sets a limit."""
    try:
        with open("/proc/self/cgroup", encoding="ascii") as handle:
            path = next(line.split(":", 2)[2].strip() for line in handle if line.startswith("0::"))
        base = os.path.join("/sys/fs/cgroup", path.lstrip("/"))
        with open(os.path.join(base, "memory.max"), encoding="ascii") as handle:
            limit = handle.read().strip()
        if limit == "max":
            return None
        with open(os.path.join(base, "memory.current"), encoding="ascii") as handle:
            return max(0, int(limit) - int(handle.read().strip()))
    except (OSError, ValueError, StopIteration):
        return None


def workers_that_fit(task_bytes: int, workers: int) -> int:
    """At most `workers`, and no more than memory_budget() holds tasks of `task_bytes` each
    (at least one: whether one task fits is for the caller to check before work starts)."""
    return max(1, min(workers, memory_budget() // max(1, task_bytes)))


def keep_from_workers(fd: int) -> None:
    """Local pool workers started from now on must not hold `fd` (forked workers inherit every
    open file; a worker that outlived a killed parent would keep, say, a folder's lock)."""
    _PRIVATE_FDS.add(fd)


def release_from_workers(fd: int) -> None:
    _PRIVATE_FDS.discard(fd)


@dataclass(frozen=True)
class Executor:
    """Where work runs, and who hears how far it has got. One object, passed wherever work runs
    (`sim.run(scenario, executor=sim.Executor(workers=4))`), so that every analysis takes these
    settings the same way and none of them changes a result: seeds come from (root seed,
    replication or design point), never from where a chunk ran.

    Args:
        workers: local processes (1, the default: in this process). Ignored on a cluster.
        scheduler: address of a Dask distributed scheduler ("tcp://host:8786"); the cluster's
            workers need collabsim installed, and this process the `distributed` package.
        on_progress: called as on_progress(units done, units in all) as work finishes (the
            units are an analysis's own: replications, design points, charters).
    """
    workers: int = 1
    scheduler: Optional[str] = None
    on_progress: Optional[Callable[[int, int], None]] = None

    def __post_init__(self):
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) \
                or self.workers < 1:
            raise ValueError(f"workers must be a whole number of at least 1, got "
                             f"{self.workers!r}")
        if self.scheduler is not None and (not isinstance(self.scheduler, str)
                                           or not self.scheduler.strip()):
            raise ValueError(f"scheduler must be a Dask scheduler's address, got "
                             f"{self.scheduler!r}")

    @property
    def on_cluster(self) -> bool:
        """Whether the work runs on a Dask cluster (whose workers may not share this file
        system or this machine's memory)."""
        return self.scheduler is not None

    def reporting(self, on_progress: Optional[Callable[[int, int], None]]) -> "Executor":
        """The same executor, reporting progress to `on_progress` instead."""
        return replace(self, on_progress=on_progress)

    def at_most(self, workers: int) -> "Executor":
        """The same executor with at most `workers` local processes (what memory allows)."""
        return replace(self, workers=max(1, min(self.workers, workers)))

    def progress(self, done: int, total: int) -> None:
        """Report progress, if anyone listens."""
        if self.on_progress is not None:
            self.on_progress(done, total)

    def execute(self, tasks: Mapping[Hashable, Task]) -> Iterator[tuple[Hashable, Any]]:
        """Run every task; yield (key, result) as each finishes (module function execute)."""
        return execute(tasks, workers=self.workers, scheduler=self.scheduler)

    def gather(self, tasks: Mapping[Hashable, Task], sizes: Mapping[Hashable, int]) -> dict:
        """Run every task and return the results by key, reporting progress as each finishes,
        where each task counts for sizes[key] units."""
        total, done, results = sum(sizes.values()), 0, {}
        for key, result in self.execute(tasks):
            results[key] = result
            done += sizes[key]
            self.progress(done, total)
        return results

    def __str__(self) -> str:
        if self.on_cluster:
            return f"the Dask cluster at {self.scheduler}"
        return "this process" if self.workers == 1 else f"{self.workers} local processes"


def as_executor(executor: Optional[Executor]) -> Executor:
    """`executor`, or the default (in this process, no progress) for None; anything else is
    refused with a TypeError that says what to pass."""
    if executor is None:
        return Executor()
    if not isinstance(executor, Executor):
        raise TypeError(f"executor must be a sim.Executor (say sim.Executor(workers=4)), got "
                        f"{type(executor).__name__}")
    return executor


def execute(tasks: Mapping[Hashable, Task], *, workers: int = 1,
            scheduler: str | None = None) -> Iterator[tuple[Hashable, Any]]:
    """Run every task; yield (key, result) as each finishes.

    Args:
        workers: local processes (1 = in this process). Ignored when `scheduler` is given.
        scheduler: address of a Dask distributed scheduler ("tcp://host:8786"); the cluster's
            workers need collabsim installed. Requires the `distributed` package.
    Raises WorkerDied or SchedulerLost when the machinery fails; a task's own exception
    (MemoryError, OSError, ...) as the task raised it.
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
    before = set(mp.active_children())
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)),
                               mp_context=mp.get_context(method), initializer=_worker_start,
                               initargs=(os.getpid(), tuple(sorted(_PRIVATE_FDS))))
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
                try:
                    result = future.result()
                except BrokenProcessPool:
                    raise WorkerDied("a worker process ended abruptly (killed, or ended by the "
                                     "system, often for lack of memory)") from None
                yield key, result
            top_up()
    except KeyboardInterrupt:   # Ctrl-C or SIGTERM: stop the workers now, not after their
        for child in set(mp.active_children()) - before:   # current task
            child.kill()
        raise
    finally:   # otherwise running tasks finish (or fail and clean up after themselves)
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_start(parent: int, private: tuple[int, ...]) -> None:
    """Start-up of every local pool worker: die with the parent, let go of the files the parent
    keeps private, and leave Ctrl-C and SIGTERM to the parent (which stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)
    if private:
        null = os.open(os.devnull, os.O_RDONLY)
        for fd in private:
            try:
                os.dup2(null, fd)   # the number stays taken, but no longer holds the lock
            except OSError:
                pass
        os.close(null)


def die_with_parent(parent: int, *, watchdog: bool = True) -> None:
    """Make this process die when `parent` does: a parent-death signal on Linux (which survives
    exec, so a child can ask for it before it runs another program), else, with `watchdog`,
    a thread that watches the parent."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:   # it died before the signal was asked for
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    if not watchdog:
        return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="collabsim-parent-watch").start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _on_dask(tasks, scheduler: str):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RuntimeError("--scheduler needs Dask distributed: pip install 'collabsim[dask]'") \
            from None
    try:
        _probe(scheduler)
        client = Client(scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler ({exc})") from None
    lost = False
    try:
        with client.as_current():
            futures = {client.submit(fn, *args, pure=False): key
                       for key, (fn, args) in tasks.items()}
            try:
                for future in as_completed(list(futures)):
                    key = futures.pop(future)   # release the result on the cluster once here
                    try:
                        result = future.result()
                    except Exception as exc:
                        if future.status == "error":
                            raise                # the task's own exception
                        lost = True
                        raise SchedulerLost(f"lost the Dask scheduler or its workers "
                                            f"({type(exc).__name__}: {_first_line(exc)})") \
                            from None
                    yield key, result
            finally:
                with _quiet(lost):
                    try:
                        client.cancel(list(futures))
                    except Exception:   # noqa: BLE001 - the scheduler may be gone already
                        pass
    finally:
        with _quiet(lost):   # closing a client that lost its scheduler logs a traceback;
            try:             # the caller reports the loss in its own words
                client.close(timeout=5)
            except Exception:   # noqa: BLE001
                pass


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextmanager
def _quiet(on: bool):
    """Silence logging while the block runs, if `on`."""
    if not on:
        yield
        return
    before = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(before)


def _probe(address: str) -> None:
    """Connect to a plain TCP scheduler address once (OSError at once if nothing listens there,
    where Dask's client would retry for CONNECT_TIMEOUT seconds)."""
    match = re.fullmatch(r"(?:tcp://)?\[?([^\[\]/]+?)\]?:(\d+)/?", address)
    if match:
        socket.create_connection((match[1], int(match[2])), timeout=CONNECT_TIMEOUT).close()
