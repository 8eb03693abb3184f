"""One function saves the result of any analysis as a results folder: `sim.save(result, FOLDER)`.

Every result (a run, a sweep or grid, a breaking point or timing, a comparison, a discovery, an
experiment, a calibration, a charter design) is turned into the same Contents: its kind, its
settings and summary, its tables, its figures and the files kept beside them. One writer
(sim.results.folders.save_results) then lays the folder out the same way for all: each table
as Parquet (and CSV when small enough for a spreadsheet), each figure as PNG, and
manifest.json, written last, saying how to reproduce it. A run is the one exception in layout,
not in function: its folder is laid out as a resumable run's (outcomes/ and timeseries/ in
parts, summary.md), so a run saved here and one run by `collabsim run` read the same way.

Which Contents a result has is said by the results module of its analysis (the figures are
drawn there, with matplotlib, only when a folder is written); CONTENTS names them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

#: For each kind of result (its class name), the function that gives its Contents.
CONTENTS = {
    "SweepResult": "sim.results.sensitivity:sweep_contents",
    "GridResult": "sim.results.sensitivity:grid_contents",
    "BreakingPoint": "sim.results.workflows:breaking_point_contents",
    "Timing": "sim.results.workflows:timing_contents",
    "Comparison": "sim.results.workflows:comparison_contents",
    "Discovery": "sim.results.workflows:discovery_contents",
    "ExperimentResult": "sim.results.experiments:experiment_contents",
    "Calibration": "sim.results.calibration:calibration_contents",
    "CharterDesign": "sim.results.design:design_contents",
}


@dataclass
class Contents:
    """What a results folder of one result holds."""
    kind: str                      # the manifest's kind: "sweep", "stress", "compare", ...
    settings: dict                 # what the analysis was asked to do (with its seed)
    summary: dict                  # what it found, as the manifest records it
    tables: dict                   # name -> DataFrame
    figures: dict                  # name -> matplotlib Figure
    scenario: object = None        # the scenario it ran on (its posterior is recorded too)
    source: Optional[str] = None   # the file it ran on, if the result knows it
    source_text: Optional[str] = None
    files: dict = field(default_factory=dict)    # more files to keep: name -> text
    record: dict = field(default_factory=dict)   # more manifest entries


def contents(result, sources: Sequence[str] = ()) -> Contents:
    """The Contents of `result` (`sources`: the files it ran on, for a comparison, which
    keeps a copy of each). TypeError for anything that is not a result of an analysis."""
    name = type(result).__name__
    if name not in CONTENTS or not type(result).__module__.startswith("sim."):
        raise TypeError(f"sim.save saves the result of an analysis ({', '.join(CONTENTS)} or "
                        f"RunResult), not a {name}")
    module, function = CONTENTS[name].split(":")
    return getattr(importlib.import_module(module), function)(result, list(sources))


def figures(result) -> dict:
    """The figures a results folder of `result` holds, by name (matplotlib Figures: a
    notebook shows them; close them when done)."""
    return contents(result).figures


def save(result, folder, *, command: Optional[str] = None, source=None,
         source_text: Optional[str] = None, files: Optional[dict] = None,
         job_folder: bool = False) -> Path:
    """Write `result` as a complete results folder at `folder` (which must not exist, or be
    empty) and return its path.

    Args:
        command: how to reproduce it, as the manifest and the HTML report show it (default:
            this process's command line).
        source: the scenario or register file the analysis ran on, recorded with its text
            (`source_text`, default: the file as it is now); for a comparison, the list of
            files compared, each kept as a copy.
        files: more text files to keep in the folder (name -> text), such as a design file.
        job_folder: the folder is a resumable job's, whose lock the caller holds: files are
            moved in one by one, manifest.json last (otherwise the folder appears whole).
    """
    from sim.results import folders

    command = folders.reproduce_command() if command is None else command
    if type(result).__name__ == "RunResult":
        from sim.results.run_folder import save_run

        return save_run(result, Path(folder), source, command)
    sources = [str(s) for s in source] if isinstance(source, (list, tuple)) else []
    c = contents(result, sources)
    path = sources[0] if sources else (str(source) if source is not None else c.source)
    try:
        return folders.save_results(
            Path(folder), c.kind, scenario_path=path, seed=c.settings["seed"],
            settings=c.settings, command=command, summary=c.summary, tables=c.tables,
            figures=c.figures, extra_files={**c.files, **(files or {})} or None,
            scenario_text=source_text if source_text is not None else c.source_text,
            job_folder=job_folder, record=c.record or None, scenario=c.scenario)
    finally:   # saved figures are closed already; these are any a failed write left open
        import matplotlib.pyplot as plt

        for fig in c.figures.values():
            plt.close(fig)
