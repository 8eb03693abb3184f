"""Resumable jobs: a results folder that holds its plan while the work runs, and is finished
from that plan whenever the work was stopped, by `sim.resume(FOLDER)` in a notebook as by
`collabsim KIND --resume FOLDER` on the command line.

A job's folder holds plan.json (what to do, written first, with the input files' text as they
were read), the work saved so far (a scratch folder: a sweep's or an experiment's finished
design points, a calibration's or a design's batches; a run's chunks) and, once finished, the
results and manifest.json. Resuming runs only what is not saved yet, so the result is the one
an uninterrupted job would have had. One process at a time writes to a folder (its lock).
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Optional

from sim.montecarlo import files
from sim.montecarlo.executors import Executor, as_executor

#: The jobs a folder may hold, and the scratch folder of each (removed once it is finished).
SCRATCH = {"run": None, "sweep": "points", "experiment": "points", "calibrate": "work",
           "design": "work"}


class JobError(ValueError):
    """A folder that cannot be resumed: not a job's, finished already, or its plan damaged or
    its inputs changed (the message says which)."""


def read_plan(folder) -> dict:
    """The plan of the job in `folder` (JobError if there is none, or it is not one)."""
    folder = Path(folder)
    path = folder / "plan.json"
    if not path.is_file():
        raise JobError(f"{folder}: not a job's folder (no plan.json)")
    files.check_folder(folder)     # UnsafeFolder: links or special files are not followed
    try:
        plan = files.read_json(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JobError(f"{path}: damaged ({exc})") from None
    if not isinstance(plan, dict) or plan.get("kind", "run") not in SCRATCH:
        raise JobError(f"{path}: not the plan of a collabsim job")
    return {**plan, "kind": plan.get("kind", "run")}   # a run's plan predates kinds


# --- the plans: what plan.json holds for each kind of job, in one place --------------------

def sweep_plan(scenario_path, scenario_text: str, *, method: str, samples: int,
               replications: int, outputs, factors, seed: int, second_order: bool,
               command: str) -> dict:
    return {"format": 1, "kind": "sweep", "scenario_path": str(scenario_path),
            "scenario_text": scenario_text, "method": method, "samples": samples,
            "replications": replications, "outputs": list(outputs), "factors": list(factors),
            "seed": seed, "second_order": second_order, "command": command}


def experiment_plan(experiment, command: str) -> dict:
    """The plan of an experiment (a loaded Experiment: its file's and its scenario's text)."""
    return {"format": 1, "kind": "experiment", "experiment_path": str(experiment.source),
            "experiment_text": experiment.text, "scenario_path": experiment.scenario_path,
            "scenario_text": experiment.scenario_text, "command": command}


def calibration_plan(register_path, register_text: str, parameters, *, population: int,
                     generations: int, replications: int, predictive: int,
                     predictive_replications: int, seed: int, command: str) -> dict:
    return {"format": 1, "kind": "calibrate", "register": str(register_path),
            "register_text": register_text, "parameters": list(parameters),
            "population": population, "generations": generations,
            "replications": replications, "predictive": predictive,
            "predictive_replications": predictive_replications, "seed": seed,
            "command": command}


def design_plan(scenario_path, scenario_text: str, levers: dict, terms: dict, against: dict,
                design_text: Optional[str], command: str) -> dict:
    """The plan of a charter design; `against` maps each name to (path, text)."""
    return {"format": 1, "kind": "design", "scenario_path": str(scenario_path),
            "scenario_text": scenario_text, "levers": levers, "terms": terms,
            "against": [[name, path, text] for name, (path, text) in against.items()],
            "design_text": design_text, "command": command}


# --- running and saving a plan ----------------------------------------------------------------

def work(plan: dict, folder, executor: Optional[Executor] = None,
         on_stage: Optional[Callable[[str, int, int], None]] = None):
    """Run what is left of the job `plan` describes, keeping its work in `folder` as it
    finishes; returns the result (not saved: see save_result). `on_stage` reports a
    calibration's or a design's stages; `executor` says where the work runs."""
    folder, kind = Path(folder), plan["kind"]
    executor = as_executor(executor)
    try:
        if kind == "sweep":
            from sim.analysis.sensitivity import sweep
            from sim.results import folders
            from sim.scenario.loading import load_scenario_text

            scenario = load_scenario_text(plan["scenario_text"], plan["scenario_path"])
            return sweep(scenario, plan["method"], plan["samples"], plan["replications"],
                         tuple(plan["outputs"]), plan["factors"], plan["seed"],
                         plan["second_order"], executor=executor, checkpoint=folder / "points",
                         on_evaluated=lambda design: folders.write_table(design, folder,
                                                                         "design"))
        if kind == "experiment":
            from sim.analysis.experiment_file import experiment_from_text, run_experiment

            experiment = experiment_from_text(
                plan["experiment_text"], plan["experiment_path"],
                base=Path(plan["experiment_path"]).parent, scenario_text=plan["scenario_text"])
            return run_experiment(experiment, executor=executor, checkpoint=folder / "points")
        if kind == "calibrate":
            from sim.analysis.calibration import calibrate
            from sim.analysis.patterns.register import load_register

            register = load_register(plan["register"])
            if register.text != plan["register_text"]:
                raise JobError(f"{plan['register']}: changed since this calibration started; "
                               "start a new one")
            return calibrate(register, plan["parameters"], population=plan["population"],
                             generations=plan["generations"],
                             replications=plan["replications"], predictive=plan["predictive"],
                             predictive_replications=plan["predictive_replications"],
                             seed=plan["seed"], executor=executor, folder=folder / "work",
                             on_stage=on_stage)
        if kind == "design":
            from sim.analysis.robust_charters import design_charter
            from sim.scenario.loading import load_scenario_text

            draft = load_scenario_text(plan["scenario_text"], plan["scenario_path"])
            against = {name: load_scenario_text(text, path)
                       for name, path, text in plan["against"]}
            return design_charter(draft, plan["levers"], against=against, executor=executor,
                                  folder=folder / "work", on_stage=on_stage, **plan["terms"])
        from sim.results import stored_run  # a run: its chunks are its saved work

        stored_run.execute(folder, executor)
        return None
    except (KeyError, TypeError) as exc:    # a plan another version wrote, or an altered one
        raise JobError(f"{folder / 'plan.json'}: damaged ({type(exc).__name__}: {exc})") \
            from None


def save_result(result, plan: dict, folder):
    """Write a finished job's results into its folder, manifest.json last (the caller holds
    the folder's lock), and remove its scratch folder; returns the result (for a run, the
    RunResult of its summary columns and figure sample, the full tables staying on disk)."""
    folder, kind = Path(folder), plan["kind"]
    if kind == "run":
        from sim.results import stored_run

        result = stored_run.assemble(folder)
    else:
        from sim.results.save import save

        if kind == "calibrate":   # pyabc's database of the whole history, for other tools
            shutil.copyfile(folder / "work" / "abc" / "abc.db", folder / "abc.db")
        source = {"experiment": None, "calibrate": plan.get("register")}.get(
            kind, plan.get("scenario_path"))
        source_text = {"sweep": plan.get("scenario_text"),
                       "calibrate": plan.get("register_text")}.get(kind)
        design_text = plan.get("design_text") if kind == "design" else None
        save(result, folder, command=plan["command"], source=source, source_text=source_text,
             files={"design.yaml": design_text} if design_text else None, job_folder=True)
    if SCRATCH[kind]:
        shutil.rmtree(folder / SCRATCH[kind], ignore_errors=True)
    return result


@contextmanager
def job_folder(folder, plan: Optional[dict] = None):
    """Hold a job folder's lock (creating the folder) while a job writes to it. With a `plan`,
    a new job's: the folder must be empty, and its plan is written first, so that whatever
    happens next the job can be resumed. Yields the folder."""
    folder = Path(folder)
    with files.folder_lock(folder):   # one process per folder, for as long as it writes
        if plan is not None:
            if not files.is_empty_folder(folder):
                raise JobError(f"{folder}: already exists and is not an empty folder")
            files.write_json(folder / "plan.json", plan)
        yield folder


def run_job(folder, plan: dict, *, new: bool, executor: Optional[Executor] = None,
            on_stage: Optional[Callable[[str, int, int], None]] = None):
    """Start (`new`: the plan is written first, into an empty folder) or finish the job `plan`
    describes in `folder`, under the folder's lock, and return its result: its work runs where
    `executor` says, then its results are saved (save_result). A job stopped on the way is
    finished by resume(folder), ending as it would have."""
    with job_folder(folder, plan if new else None):
        return save_result(work(plan, folder, executor, on_stage), plan, folder)


def resume(folder, executor: Optional[Executor] = None,
           on_stage: Optional[Callable[[str, int, int], None]] = None):
    """Finish the interrupted job in `folder` (a run, sweep, experiment, calibration or charter
    design that a `collabsim` command began) and return its result: the one it would have had
    uninterrupted (for a run, the RunResult of its summary columns and figure sample). Work
    runs where `executor` says; `on_stage` reports a calibration's or a design's stages.
    JobError if the folder is not an unfinished job's; FolderBusy if another process is
    writing to it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise JobError(f"{folder}: no such folder")
    plan = read_plan(folder)
    if (folder / "manifest.json").is_file():
        raise JobError(f"{folder}: already complete")
    return run_job(folder, plan, new=False, executor=executor, on_stage=on_stage)
