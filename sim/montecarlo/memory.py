"""How much memory work needs, and how many workers it can use: chunk sizes are chosen, and
settings checked, so that memory stays bounded whatever the scenario.

A replication's working memory grows with its partners (pairwise state, n^2) and its reviews
(every review's random numbers are drawn up front, n^2 per review). A chunk holds its
replications at once (vector engine) or one at a time (Mesa model). Work whose chunk cannot fit
in the memory available (sim.montecarlo.executors.memory_budget) is refused before it starts,
naming how
many replications would fit; work whose chunks fit one at a time but not one per worker uses
fewer workers. Light to import: the command line checks this before loading pandas.
"""

from __future__ import annotations

from sim.montecarlo.executors import memory_budget, workers_that_fit
from sim.partnership.inputs import count_uncertain
from sim.partnership.noise import shock_width, width
from sim.scenario.schema import Scenario

#: Largest chunks: enough replications to amortise the vector engine's per-review array work,
#: few enough for Mesa runs to report progress often.
DEFAULT_CHUNK = {"vector": 20_000, "mesa": 50}
#: Estimated working memory a vector chunk is sized to (its noise blocks, the pairwise state
#: arrays, its tables): 20,000 replications of `typical` (about 280 MB measured). Two workers
#: on two cores ran a million replications fastest with chunks this large (docs/PERFORMANCE.md).
CHUNK_BYTES = 512 * 2**20
#: Bytes a Mesa replication's recorded series and outcomes take per review, once it has run.
MESA_ROW_BYTES = 1024


class MemoryLimitError(ValueError):
    """Work whose chunks cannot fit in the memory available, refused before it starts."""


def replication_bytes(scenario: Scenario) -> int:
    """Working memory of one replication: its noise block (every review's uniforms, drawn up
    front), the pairwise and per-partner state, and its rows of the result tables. It errs
    high: benchmarks/memory.py compares it with measured peak memory (docs/RELIABILITY.md)."""

    n = len(scenario.partner_names())
    noise = width(n) + len(scenario.shocks) * shock_width(n)   # the run's and each shock's
    return 8 * (3 * count_uncertain(scenario) + scenario.horizon * noise
                + 60 * n * n + 60 * n + 40 * (scenario.horizon + 1))


def chunk_bytes(scenario: Scenario, engine: str, replications: int,
                per: int | None = None) -> int:
    """Working memory of a chunk of `replications` runs (`per` replication, if known): the
    vector engine holds them all at once; the Mesa model one at a time, keeping each one's
    series."""
    per = replication_bytes(scenario) if per is None else per
    if engine == "vector":
        return replications * per
    return per + replications * MESA_ROW_BYTES * (scenario.horizon + 1)


def default_chunk_size(scenario: Scenario, engine: str) -> int:
    """Replications per chunk: DEFAULT_CHUNK, cut for big partnerships so that one chunk's
    working memory stays near CHUNK_BYTES (so memory is bounded whatever the partner count),
    and so that two workers' chunks fit in the memory available (a small machine gets smaller
    chunks, not a refusal; the results do not depend on the chunk size)."""
    if engine != "vector":
        return DEFAULT_CHUNK.get(engine, 1)

    per = replication_bytes(scenario)
    return int(max(1, min(DEFAULT_CHUNK["vector"], CHUNK_BYTES // per,
                          memory_budget() // (2 * per))))


def check_memory(scenario: Scenario, engine: str, chunk_size: int, *,
                 setting: str = "--chunk-size") -> None:
    """Refuse (MemoryLimitError), before any work starts, chunks that cannot fit in the memory
    available, saying how many replications per chunk would."""

    per = replication_bytes(scenario)
    budget, need = memory_budget(), chunk_bytes(scenario, engine, chunk_size, per)
    if need <= budget:
        return
    one = chunk_bytes(scenario, engine, 1, per)
    if one > budget:
        raise MemoryLimitError(
            f"one replication of {scenario.name!r} needs about {_size(one)} of memory "
            f"({len(scenario.partner_names())} partners over {scenario.horizon} reviews), but "
            f"only {_size(budget)} is available to collabsim; shorten the horizon or use fewer "
            "partners")
    raise MemoryLimitError(
        f"{setting} {chunk_size}: a chunk of {chunk_size:,} replications needs about "
        f"{_size(need)} of memory, but {_size(budget)} is available to collabsim; at most "
        f"{_largest_chunk(scenario, engine, budget, per):,} fit")


def largest_task(scenario: Scenario, replications: int) -> int:
    """Runs in the largest task of work that runs `replications` per point in chunks of
    default size (a sweep, a grid): a chunk, or one point's runs if they are more."""
    return max(default_chunk_size(scenario, "vector"), replications)


def _largest_chunk(scenario: Scenario, engine: str, budget: int, per: int) -> int:
    """The most replications per chunk (of `per` bytes each) that fit in `budget` bytes."""
    if engine == "vector":
        return budget // per
    return (budget - per) // (MESA_ROW_BYTES * (scenario.horizon + 1))


def workers_for(scenario: Scenario, engine: str, chunk_size: int, workers: int, *,
                setting: str = "--chunk-size") -> int:
    """Check that a chunk fits in memory (check_memory), and how many of `workers` to use so
    that their chunks fit together: fewer for big scenarios rather than run out of memory."""

    check_memory(scenario, engine, chunk_size, setting=setting)
    if workers <= 1:
        return 1
    return workers_that_fit(chunk_bytes(scenario, engine, chunk_size), workers)


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"
