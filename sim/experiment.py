"""Monte Carlo: many replications of one scenario, each with its own seed.

Replication r of a run with root seed S draws from a seed derived from
SeedSequence(S, spawn_key=(sample, r)) (see replication_seed), so
any replication can be recomputed on its own and the result never depends on how replications
are grouped or in which order they run. `sample` is 0 for a plain run; sweeps use it to give
every design point its own family of seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import pandas as pd

from sim.model import PartnershipModel, _as_scenario
from sim.outcomes import run_outcome, summarise
from sim.scenario import Scenario
from sim.seeds import replication_seed

TIMESERIES_COLUMNS = (
    "cycle", "maturity", "gross_savings_m", "spend_m", "cum_net_savings_m", "pct_business_case",
    "mean_trust", "min_trust", "active_partners", "fairness_imbalance", "alignment",
    "decision_pace", "team_delivery", "mean_satisfaction", "dissolved",
)


def run_model(scenario: Scenario, seed: int, replication: int, sample: int = 0) -> PartnershipModel:
    """Build and run one replication to its horizon; returns the finished Mesa model."""
    model = PartnershipModel(scenario=scenario, rng=replication_seed(seed, replication, sample))
    while model.running:
        model.step()
    return model


@dataclass
class RunResult:
    """A Monte Carlo run: one outcomes row per replication, one time-series row per replication
    and review cycle, and the headline summary."""

    scenario: Scenario
    seed: int
    outcomes: pd.DataFrame
    timeseries: pd.DataFrame
    summary: dict = field(default_factory=dict)


def run_chunk(scenario: Scenario, seed: int, replications: range, sample: int = 0):
    """Run a contiguous block of replications; returns (outcome rows, time-series columns).
    A top-level function so process pools (spawn or fork) can send it to workers."""
    rows, series = [], {c: [] for c in ("replication",) + TIMESERIES_COLUMNS}
    for r in replications:
        model = run_model(scenario, seed, r, sample)
        rows.append({"replication": r, **run_outcome(model)})
        data = model.datacollector.model_vars
        series["replication"].extend([r] * len(data["cycle"]))
        for c in TIMESERIES_COLUMNS:
            series[c].extend(data[c])
    return rows, series


def run(
    scenario,
    replications: int = 1000,
    seed: Optional[int] = None,
    on_progress: Optional[Callable[[int, int], None]] = None,
    workers: int = 1,
    chunk_size: int = 50,
) -> RunResult:
    """Run `replications` replications of `scenario` (a Scenario, mapping or YAML path).

    Args:
        seed: root seed; defaults to the scenario's own `seed`.
        on_progress: called as on_progress(done, total) as replications finish.
        workers: processes to spread replications over (1 = in this process). The result is
            identical whatever the number of workers or the chunk size.
    """
    scenario = _as_scenario(scenario)
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if workers < 1 or chunk_size < 1:
        raise ValueError("workers and chunk_size must be at least 1")
    seed = scenario.seed if seed is None else int(seed)
    chunks = [range(a, min(a + chunk_size, replications))
              for a in range(0, replications, chunk_size)]
    results: dict[int, tuple] = {}
    done = 0
    if workers == 1 or len(chunks) == 1:
        for k, chunk in enumerate(chunks):
            results[k] = run_chunk(scenario, seed, chunk)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, replications)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # fork where the platform has it: workers need not re-import the caller's __main__
        # (which fails for stdin scripts and some notebooks under spawn); spawn elsewhere.
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        context = mp.get_context(method)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(run_chunk, scenario, seed, chunk): k
                       for k, chunk in enumerate(chunks)}
            for future in as_completed(futures):
                k = futures[future]
                results[k] = future.result()
                done += len(chunks[k])
                if on_progress is not None:
                    on_progress(done, replications)
    rows, series = [], {c: [] for c in ("replication",) + TIMESERIES_COLUMNS}
    for k in range(len(chunks)):
        chunk_rows, chunk_series = results[k]
        rows.extend(chunk_rows)
        for c in series:
            series[c].extend(chunk_series[c])
    outcomes = pd.DataFrame(rows)
    timeseries = pd.DataFrame(series)
    return RunResult(scenario, seed, outcomes, timeseries, summarise(outcomes, seed))
