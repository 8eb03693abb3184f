"""Monte Carlo: many replications of one scenario, each with its own seed.

Replication r of a run with root seed S draws from a seed derived from
SeedSequence(S, spawn_key=(sample, r)) (see replication_seed), so
any replication can be recomputed on its own and the result never depends on how replications
are grouped or in which order they run. `sample` is 0 for a plain run; sweeps use it to give
every design point its own family of seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

# chunk sizes and the memory they need: sim.montecarlo.memory (still importable from here)
from sim.montecarlo.executors import Executor, as_executor
from sim.montecarlo.memory import (CHUNK_BYTES, DEFAULT_CHUNK, default_chunk_size,  # noqa: F401
                                   workers_for)
from sim.montecarlo.statistics import summarise
from sim.partnership.engine import ENGINES  # noqa: F401 - the engines a run can use
from sim.partnership.engine import simulate
from sim.partnership.outcomes import run_outcome, vector_outcomes
from sim.partnership.seeds import replication_seed
from sim.scenario.loading import as_scenario
# noqa: F401 - a run's time-series columns
from sim.scenario.output_names import TIMESERIES_COLUMNS
from sim.scenario.schema import Scenario


def run_model(scenario: Scenario, seed: int, replication: int, sample: int = 0):
    """Build and run one replication to its horizon; returns the finished Mesa model
    (a PartnershipModel; Mesa is imported only when a model is built)."""
    from sim.partnership.model import PartnershipModel

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

    @property
    def settings(self) -> dict:
        return {"replications": len(self.outcomes), "seed": self.seed}

    @property
    def message(self) -> str:
        """The headline in a sentence: how often the partnership delivers its business case."""
        s = self.summary
        lo, hi = s["p_deliver_ci"]
        return (f"{self.scenario.name} delivers its business case in {s['p_deliver']:.1%} of "
                f"{s['replications']:,} runs (95% CI {lo:.1%} to {hi:.1%})")

    @property
    def tables(self) -> dict:
        return {"outcomes": self.outcomes, "timeseries": self.timeseries}


def run_chunk(scenario: Scenario, seed: int, replications: range, sample: int = 0,
              engine: str = "vector") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a contiguous block of replications; returns (outcomes, time series) tables.
    A top-level function so process pools and Dask can send it to workers."""
    if engine == "vector":
        return _vector_chunk(scenario, seed, replications, sample)
    if engine != "mesa":
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    rows, series = [], {c: [] for c in ("replication",) + TIMESERIES_COLUMNS}
    for r in replications:
        model = run_model(scenario, seed, r, sample)
        rows.append({"replication": r, **run_outcome(model)})
        data = model.datacollector.model_vars
        series["replication"].extend([r] * len(data["cycle"]))
        for c in TIMESERIES_COLUMNS:
            series[c].extend(data[c])
    return pd.DataFrame(rows), _timeseries_frame(series)


def _vector_chunk(scenario, seed, replications, sample):

    result = simulate(scenario, seed, replications, sample)
    R, T = result.series["maturity"].shape
    series = {"replication": np.repeat(result.replications, T), "cycle": np.tile(np.arange(T), R)}
    for c in TIMESERIES_COLUMNS[1:]:
        series[c] = result.series[c].reshape(-1)
    return vector_outcomes(result), _timeseries_frame(series)


def _timeseries_frame(series) -> pd.DataFrame:
    """One row per replication and review; the same column types from either engine."""
    frame = pd.DataFrame(series)
    return frame.astype({"replication": "int64", "cycle": "int64", "active_partners": "int64",
                         "dissolved": "bool"})


def chunks_of(replications: int, chunk_size: int) -> list[range]:
    """The fixed cut of replications 0..replications-1 into chunks."""
    return [range(a, min(a + chunk_size, replications)) for a in range(0, replications, chunk_size)]


def check_settings(replications: int, engine: str, chunk_size: int) -> None:
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")


def run(
    scenario,
    replications: int = 1000,
    seed: Optional[int] = None,
    *,
    executor: Optional[Executor] = None,
    chunk_size: Optional[int] = None,
    engine: str = "vector",
) -> RunResult:
    """Run `replications` replications of `scenario` (a Scenario, mapping or YAML path) and
    hold every table in memory (for runs that fit; sim.results.stored_run writes chunk by chunk).

    Args:
        seed: root seed; defaults to the scenario's own `seed`.
        executor: where the chunks run and who hears of progress (in replications); by
            default in this process (sim.Executor).
        chunk_size: replications per chunk (default: default_chunk_size).
        engine: "vector" (NumPy, fast) or "mesa" (the agent-based reference); for the same seed
            both give the same runs (to 1e-9 in every figure, identical events).
    The result is identical whatever the executor or chunk size.
    """
    executor = as_executor(executor)
    scenario = as_scenario(scenario)
    chunk_size = default_chunk_size(scenario, engine) if chunk_size is None else chunk_size
    check_settings(replications, engine, chunk_size)
    executor = executor.at_most(workers_for(scenario, engine, min(chunk_size, replications),
                                            executor.workers, setting="chunk_size"))
    seed = scenario.seed if seed is None else int(seed)
    chunks = chunks_of(replications, chunk_size)
    tasks = {k: (run_chunk, (scenario, seed, chunk, 0, engine)) for k, chunk in enumerate(chunks)}
    results = executor.gather(tasks, {k: len(c) for k, c in enumerate(chunks)})
    outcomes = pd.concat([results[k][0] for k in range(len(chunks))], ignore_index=True)
    timeseries = pd.concat([results[k][1] for k in range(len(chunks))], ignore_index=True)
    return RunResult(scenario, seed, outcomes, timeseries, summarise(outcomes, seed,
                                                                         scenario=scenario))
