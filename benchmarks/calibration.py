"""Wall time of the shipped calibration: eight behavioural constants fitted to the calibrate
patterns of patterns/public_sector.yaml with `collabsim calibrate`, on every core.

    python benchmarks/calibration.py [--out DIR]

Prints the machine, the command, the wall time and what the calibration found (its results
folder is kept: docs/VALIDATION.md records it). docs/PERFORMANCE.md records a run.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from timed_command import run_timed

#: The eight constants the shipped register is asked about (docs/VALIDATION.md says why these).
PARAMETERS = ("planned_capacity,run_ceiling,run_dependence,day_job_effort,skills_floor,"
              "routine_progress,time_related_cost,protectionism")
SETTINGS = ["--population", "100", "--generations", "5", "--replications", "100",
            "--predictive", "40", "--predictive-replications", "500"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="results folder (default: a new "
                    "temporary one)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="calibration-")) / "calibration"
    command = ["collabsim", "calibrate", "patterns/public_sector.yaml", "--parameters",
               PARAMETERS, *SETTINGS, "--out", str(out), "--json"]
    seconds, summary = run_timed(command)
    print(f"\nwall time: **{seconds / 60:.1f} minutes** ({seconds:.0f} s), "
          f"{summary['generations']} generations, final epsilon {summary['final_epsilon']:.3g}")
    for line in summary["headline"]:
        print(f"- {line}")
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
