"""Variants of a partnership run on the same sampled conditions (common random numbers).

Stress tests and charter comparisons ask "what difference does this change make?". Answering it
with independent Monte Carlo runs buries the difference in run-to-run noise. Here replication r
of every variant draws from the same stream (root seed, replication r): an uncertain input that
two variants share takes the same quantile in both, and when the variants have the same
partners, horizon and number of shocks, every review's random numbers are the same too. Then
the two runs of replication r differ only by the change, and paired statistics (McNemar,
paired differences) measure it with a fraction of the runs.

The first variant's runs are exactly `collabsim run`'s runs of it (the stream layout of
engine.draw with the variant's own uncertain inputs first).
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import pandas as pd

from sim.inputs import uncertain_paths
from sim.scenario import Scenario

#: Per-replication outcomes kept for paired analysis (columns of the outcomes table).
KEPT = ("replication", "delivered", "status", "savings_pct", "net_savings_m", "dissolved",
        "exits", "final_mean_trust", "shocks")


def layout_of(variants: list[Scenario]):
    """The shared stream layout: the first variant's uncertain inputs, then the cycle noise
    (as long as the longest variant's), then any inputs the other variants add. So the first
    variant's stream is exactly what `collabsim run` draws for it."""
    from sim import noise as noise_mod
    from sim.engine import StreamLayout

    first = uncertain_paths(variants[0])
    positions = {name: i for i, name in enumerate(first)}
    noise = max(v.horizon * noise_mod.width(len(v.partner_specs()), len(v.shocks))
                for v in variants)
    for v in variants[1:]:
        for name in uncertain_paths(v):
            if name not in positions:
                positions[name] = noise + len(positions)
    length = max([len(first) + noise, *[p + 1 for p in positions.values()]])
    return StreamLayout(positions, len(first), length)


def fully_paired(variants: list[Scenario]) -> bool:
    """Whether every review's random numbers line up across the variants too (same partners,
    horizon and number of shocks), not only the sampled conditions."""
    shape = {(tuple(v.partner_names()), v.horizon, len(v.shocks)) for v in variants}
    return len(shape) == 1


def outcomes_chunk(scenario: Scenario, seed: int, replications: range, layout) -> pd.DataFrame:
    """The kept outcomes of some replications of one variant (a top-level function, so that
    executors can send it to workers)."""
    from sim.engine import draw, simulate_inputs
    from sim.outcomes import vector_outcomes

    reps = np.arange(replications.start, replications.stop)
    run = simulate_inputs(*draw(scenario, seed, reps, layout=layout))
    run.replications = reps
    return vector_outcomes(run).loc[:, list(KEPT)]


def paired_outcomes(variants: list[Scenario], seed: int, replications: int, *,
                    workers: int = 1, scheduler: Optional[str] = None,
                    on_progress: Optional[Callable[[int, int], None]] = None
                    ) -> list[pd.DataFrame]:
    """Replications 0..replications-1 of every variant, paired: one table per variant, row r
    being replication r."""
    from sim.executors import gather
    from sim.experiment import chunks_of
    from sim.memory import default_chunk_size, workers_for

    if replications < 1:
        raise ValueError("replications must be at least 1")
    layout = layout_of(variants)
    tasks, sizes = {}, {}
    for i, v in enumerate(variants):
        size = default_chunk_size(v, "vector")
        workers = workers_for(v, "vector", size, workers)   # fewer if big chunks need it
        for k, chunk in enumerate(chunks_of(replications, size)):
            tasks[(i, k)] = (outcomes_chunk, (v, seed, chunk, layout))
            sizes[(i, k)] = len(chunk)
    parts = gather(tasks, sizes, workers=workers, scheduler=scheduler, on_progress=on_progress)
    return [pd.concat([parts[key] for key in sorted(k for k in parts if k[0] == i)],
                      ignore_index=True) for i in range(len(variants))]
