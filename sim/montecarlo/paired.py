"""Variants of a partnership run on the same sampled conditions (common random numbers).

Stress tests and charter comparisons ask "what difference does this change make?". Answering it
with independent Monte Carlo runs buries the difference in run-to-run noise. Here replication r
of every variant draws from the same stream (root seed, replication r): an uncertain input that
two variants share takes the same quantile in both, and when the variants have the same
partners, horizon and number of shocks, every review's random numbers are the same too. Then
the two runs of replication r differ only by the change, and paired statistics (McNemar,
paired differences) measure it with a fraction of the runs.

The first variant's runs are exactly `collabsim run`'s runs of it (the stream layout of
engine.draw with the variant's own uncertain inputs first). Shocks draw from streams of their
own (sim.partnership.noise), so variants that add, remove or move a shock keep every other random
number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import numpy as np

from sim.montecarlo.executors import Executor, as_executor
from sim.montecarlo.memory import default_chunk_size, workers_for
from sim.montecarlo.runs import chunks_of
from sim.partnership import noise as noise_mod
from sim.partnership.engine import StreamLayout, run_batch
from sim.partnership.inputs import count_run_inputs, uncertain_paths
from sim.partnership.outcomes import classify, vector_outcomes
from sim.scenario.schema import Scenario

if TYPE_CHECKING:   # pandas is loaded when tables are made, so that importing KEPT is light
    import pandas as pd

#: Per-replication outcomes kept for paired analysis (columns of the outcomes table).
KEPT = ("replication", "delivered", "status", "savings_pct", "net_savings_m", "dissolved",
        "exits", "first_exit_reason", "final_mean_trust", "shocks", "target_net_savings_m")


def layout_of(variants: list[Scenario]):
    """The shared stream layout: the first variant's uncertain inputs, then the cycle noise
    (as long as the longest variant's), then any inputs the other variants add. So the first
    variant's stream is exactly what `collabsim run` draws for it. (Shocks' inputs are drawn
    from the shocks' own streams, not from this one.)"""

    first = run_input_paths(variants[0])
    positions = {name: i for i, name in enumerate(first)}
    noise = max(v.horizon * noise_mod.width(len(v.partner_specs())) for v in variants)
    for v in variants[1:]:
        for name in run_input_paths(v):
            if name not in positions:
                positions[name] = noise + len(positions)
    length = max([len(first) + noise, *[p + 1 for p in positions.values()]])
    return StreamLayout(positions, len(first), length)


def run_input_paths(scenario: Scenario) -> list[str]:
    """The uncertain inputs a replication draws from its own stream (all but the shocks')."""
    return uncertain_paths(scenario)[:count_run_inputs(scenario)]


def fully_paired(variants: list[Scenario]) -> bool:
    """Whether every review's random numbers line up across the variants too (the same
    partners), not only the sampled conditions: the cycle noise depends only on the partner
    slots, and each shock has its own stream."""
    return len({tuple(v.partner_names()) for v in variants}) == 1


def outcomes_chunk(scenario: Scenario, seed: int, replications: range, layout) -> pd.DataFrame:
    """The kept outcomes of some replications of one variant (a top-level function, so that
    executors can send it to workers)."""

    reps = np.arange(replications.start, replications.stop)
    run = run_batch(scenario, seed, reps, layout=layout)
    return vector_outcomes(run).loc[:, list(KEPT)]


def paired_outcomes(variants: list[Scenario], seed: int, replications: int,
                    executor: Optional[Executor] = None) -> list[pd.DataFrame]:
    """Replications 0..replications-1 of every variant, paired: one table per variant, row r
    being replication r; run where `executor` says (progress in replications, all variants
    together)."""
    import pandas as pd


    if replications < 1:
        raise ValueError("replications must be at least 1")
    executor = as_executor(executor)
    layout = layout_of(variants)
    tasks, sizes = {}, {}
    for i, v in enumerate(variants):
        size = default_chunk_size(v, "vector")
        fits = workers_for(v, "vector", size, executor.workers)   # fewer if big chunks need it
        executor = executor.at_most(fits)
        for k, chunk in enumerate(chunks_of(replications, size)):
            tasks[(i, k)] = (outcomes_chunk, (v, seed, chunk, layout))
            sizes[(i, k)] = len(chunk)
    parts = executor.gather(tasks, sizes)
    return [pd.concat([parts[key] for key in sorted(k for k in parts if k[0] == i)],
                      ignore_index=True) for i in range(len(variants))]


def on_common_target(tables: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The paired tables with every variant judged like for like: against the first variant's
    business-case target, replication by replication (delivered, savings_pct), its net savings
    already net of its own programme costs. A cheaper plan, or one that counts a variant's own
    extra costs, must not make a variant look better."""
    target = tables[0]["target_net_savings_m"].to_numpy(float)
    out = []
    for t in tables:
        t = t.copy()
        net = t["net_savings_m"].to_numpy(float)
        t["delivered"] = ~t["dissolved"].to_numpy(bool) & (net >= target)
        t["savings_pct"] = 100.0 * net / target
        t["target_net_savings_m"] = target
        t["status"] = classify(t["delivered"], t["dissolved"], t["exits"],
                               t["final_mean_trust"], t["savings_pct"])
        out.append(t)
    return out

