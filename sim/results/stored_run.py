"""A Monte Carlo run written to its results folder chunk by chunk, so it can be resumed.

The folder's life:

1. `plan`: the folder is created with plan.json (scenario text, seed, replications, engine,
   chunk size): everything that fixes the result.
2. `execute`: each finished chunk is written as timeseries/part-<k>.parquet, then
   outcomes/part-<k>.parquet, each by write-then-rename; a chunk is done when its outcomes
   file exists. The parent holds at most a few chunks at a time, so memory stays bounded however
   many replications are asked for. An interrupted run (Ctrl-C, a killed process, a lost
   machine) keeps its finished chunks; `execute` on the same folder runs only the rest.
3. `assemble`: CSV copies are streamed together from the parts when a table fits a
   spreadsheet, the figures and summary.md are drawn, and manifest.json is written last. A
   folder is complete exactly when it has manifest.json. Each table stays a folder of parts
   (read it whole with pandas.read_parquet(folder / "outcomes")), so nothing is copied twice.

Chunk boundaries come from the plan and every replication's seed from (root seed, index), so a
resumed run ends with exactly the tables of an uninterrupted one.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import pandas as pd
import pyarrow.parquet as pq

from sim.montecarlo import files
from sim.montecarlo.executors import Executor, as_executor
from sim.montecarlo.memory import check_memory, default_chunk_size, workers_for
from sim.montecarlo.runs import RunResult, check_settings, chunks_of, run_chunk
from sim.montecarlo.statistics import summarise
from sim.partnership.behaviour import particles_of
from sim.results import folders
from sim.scenario.loading import load_scenario_text, read_scenario_text

PLAN = "plan.json"
#: Outcome columns the headline summary needs (the rest stay on disk).
SUMMARY_COLUMNS = ("delivered", "status", "savings_pct", "break_even_cycle", "exits",
                   "first_exit_cycle", "first_exit_reason", "exit_log", "dissolved",
                   "final_mean_trust", "failure_path")


class RunFolderError(ValueError):
    """A folder that cannot be started or resumed (not a run, another run's, damaged)."""


@dataclass(frozen=True)
class Plan:
    """What fixes a run's result (nothing about how it is executed)."""

    scenario_path: Optional[str]
    scenario_text: str
    seed: int
    replications: int
    engine: str
    chunk_size: int
    command: str
    #: the sha256 of the posterior the scenario's `behaviour:` reads, if it has one
    posterior_sha256: Optional[str] = None

    def chunks(self) -> list[range]:
        return chunks_of(self.replications, self.chunk_size)

    def scenario(self):
        """The run's scenario; with a posterior, read again and checked unchanged (a resumed
        run must use the particles its first chunks used)."""

        scenario = load_scenario_text(self.scenario_text, self.scenario_path or "<plan.json>")
        particles = particles_of(scenario)
        if (particles.sha256 if particles is not None else None) != self.posterior_sha256:
            raise RunFolderError(f"{self.scenario_path}: its behaviour's posterior has changed "
                                 "since this run started (sha256 differs); the results folder "
                                 "keeps the one it used, as posterior.parquet")
        return scenario


def plan(folder: Path, scenario_path: str, seed: int, replications: int, engine: str = "vector",
         chunk_size: Optional[int] = None, command: str = "",
         scenario_text: Optional[str] = None) -> Plan:
    """Create `folder` (which must not exist or be empty) for a new run and record its plan.
    `scenario_text` replaces the file's text when the run changes the scenario (--shock)."""

    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or not files.is_empty_folder(folder)):
        raise RunFolderError(f"{folder}: already exists and is not an empty folder")
    text = scenario_text if scenario_text is not None else read_scenario_text(scenario_path)
    scenario = load_scenario_text(text, str(scenario_path))
    if chunk_size is None:
        chunk_size = default_chunk_size(scenario, engine)
    check_settings(replications, engine, chunk_size)
    check_memory(scenario, engine, min(chunk_size, replications))   # before anything is written
    record, tables = folders.behaviour_record(scenario)
    p = Plan(str(scenario_path), text, int(seed), int(replications), engine, int(chunk_size),
             command, (record.get("behaviour") or {}).get("posterior_sha256"))
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():      # the posterior the run uses, as it was read
        folders.write_table(table, folder, name)
    files.write_json(folder / PLAN, {"format": 1, **asdict(p)})
    return p


def load_plan(folder: Path) -> Plan:
    """The plan of a run folder, which must hold only regular files (files.check_folder)."""
    folder = Path(folder)
    if not folder.is_dir() or not (folder / PLAN).exists():
        what = "a finished run from before resumable runs" if (folder / "manifest.json").exists() \
            else "a run folder"
        raise RunFolderError(f"{folder}: not {what} (no {PLAN})")
    try:
        files.check_folder(folder)
        data = files.read_json(folder / PLAN)
        if not isinstance(data, dict):
            raise TypeError("not a mapping")
        data.pop("format", None)
        kind = data.pop("kind", "run")
        if kind != "run":
            article = "an" if str(kind)[:1] in "aeiou" else "a"
            raise RunFolderError(f"{folder}: {article} {kind} folder; finish it with "
                                 f"`collabsim {kind} --resume {folder}`")
        return Plan(**data)
    except RunFolderError:
        raise
    except files.UnsafeFolder as exc:
        raise RunFolderError(str(exc)) from None
    except (ValueError, TypeError) as exc:
        raise RunFolderError(f"{folder / PLAN}: damaged ({exc})") from None


def is_complete(folder: Path) -> bool:
    return (Path(folder) / "manifest.json").is_file()


def _part(folder: Path, k: int) -> Path:
    return folder / "timeseries" / files.part_name(k)


def _outcomes_chunk(folder: Path, k: int) -> Path:
    return folder / "outcomes" / files.part_name(k)


def done_chunks(folder: Path, p: Plan) -> set[int]:
    return {k for k in range(len(p.chunks())) if _outcomes_chunk(folder, k).is_file()}


def save_chunk(folder: Path, k: int, outcomes: pd.DataFrame, timeseries: pd.DataFrame) -> int:
    """Write chunk k's tables (the outcomes file last: it marks the chunk done)."""
    files.write_parquet(timeseries, _part(folder, k))
    files.write_parquet(outcomes, _outcomes_chunk(folder, k))
    return len(outcomes)


def run_and_save_chunk(folder: Path, k: int, scenario, seed: int, replications: range,
                       engine: str) -> int:
    """A local worker's task: run chunk k and write it straight into the folder, so tables
    never travel back through the parent process."""
    return save_chunk(folder, k, *run_chunk(scenario, seed, replications, 0, engine))


def execute(folder: Path, executor: Optional[Executor] = None) -> None:
    """Run every chunk of the folder's plan that is not yet on disk, where `executor` says
    (progress in replications, counting those already on disk)."""
    folder = Path(folder)
    p = load_plan(folder)
    scenario = p.scenario()
    chunks = p.chunks()
    executor = as_executor(executor)
    executor = executor.at_most(workers_for(scenario, p.engine,
                                            min(p.chunk_size, p.replications), executor.workers))
    finished = done_chunks(folder, p)
    done = sum(len(chunks[k]) for k in finished)
    executor.progress(done, p.replications)
    files.remove_stale_temporaries(folder)   # half-written by a process that was killed
    todo = [k for k in range(len(chunks)) if k not in finished]
    if not executor.on_cluster:  # workers share this file system: they write their own chunks
        tasks = {k: (run_and_save_chunk, (folder, k, scenario, p.seed, chunks[k], p.engine))
                 for k in todo}
    else:                  # a cluster's workers may not: tables come back here to be written
        tasks = {k: (run_chunk, (scenario, p.seed, chunks[k], 0, p.engine)) for k in todo}
    try:
        with closing(executor.execute(tasks)) as finished:
            for k, result in finished:
                if executor.on_cluster:
                    save_chunk(folder, k, *result)
                done += len(chunks[k])
                executor.progress(done, p.replications)
    except BaseException:
        files.remove_stale_temporaries(folder)   # of workers stopped mid-write: a disk that
        raise                                    # is full is not left fuller


def assemble(folder: Path):
    """Turn a folder whose chunks are all done into finished results; returns the RunResult
    of the run, with the outcomes table's summary columns and the figure sample's time
    series (the full tables stay on disk)."""
    from sim.results import run_figures as plots  # matplotlib: only once the run is done
    from sim.results.run_folder import summary_markdown

    folder = Path(folder)
    p = load_plan(folder)
    missing = set(range(len(p.chunks()))) - done_chunks(folder, p)
    if missing:
        raise RunFolderError(f"{folder}: {len(missing)} chunks still to run")
    scenario = p.scenario()
    n_chunks = len(p.chunks())
    if p.replications <= folders.CSV_ROW_LIMIT:
        _concat_csv([_outcomes_chunk(folder, k) for k in range(n_chunks)], folder / "outcomes.csv")
    if p.replications * (scenario.horizon + 1) <= folders.CSV_ROW_LIMIT:
        _concat_csv([_part(folder, k) for k in range(n_chunks)], folder / "timeseries.csv")
    outcomes = pd.read_parquet(folder / "outcomes", columns=list(SUMMARY_COLUMNS))
    summary = summarise(outcomes, p.seed, scenario=scenario)
    sample = _figure_sample(folder, p)
    result = RunResult(scenario, p.seed, outcomes, sample, summary)
    title = scenario.name
    plots.save(plots.savings_fan(sample, title), folder / "savings_fan.png")
    plots.save(plots.trust_over_time(sample, title), folder / "trust.png")
    plots.save(plots.outcome_shares(summary, title), folder / "outcomes.png")
    files.write_text(folder / "summary.md", summary_markdown(result, p.command))
    settings = {"replications": p.replications, "engine": p.engine, "chunk_size": p.chunk_size,
                "figure_replications": min(p.replications, folders.FIGURE_REPLICATIONS)}
    record, _ = folders.behaviour_record(scenario)
    files.write_json(folder / "manifest.json", {**folders.manifest(
        "run", p.scenario_path, p.scenario_text, p.seed, settings, p.command, summary),
        **record})
    return result


def _figure_sample(folder: Path, p: Plan) -> pd.DataFrame:
    frames, have = [], 0
    for k in range(len(p.chunks())):
        if have >= folders.FIGURE_REPLICATIONS:
            break
        frame = pd.read_parquet(_part(folder, k))
        frames.append(frame[frame["replication"] < folders.FIGURE_REPLICATIONS])
        have += len(p.chunks()[k])
    return pd.concat(frames, ignore_index=True)


def _concat_csv(paths: list[Path], target: Path) -> None:
    import pyarrow.csv as pacsv

    with files.replacing(target) as handle:
        writer = None
        try:
            for path in paths:
                table = pq.read_table(path)
                if writer is None:
                    writer = pacsv.CSVWriter(handle, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()


def run_stored(folder: Path, executor: Optional[Executor] = None):
    """Execute what is left of the folder's plan and assemble it; returns the summary (read
    back from manifest.json if the folder was already complete)."""
    folder = Path(folder)
    if is_complete(folder):
        return files.read_json(folder / "manifest.json")["summary"]
    execute(folder, executor)
    return assemble(folder).summary
