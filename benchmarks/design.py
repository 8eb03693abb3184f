"""Wall time of a charter design: the shipped five-lever design of the three councils' charter
(designs/three_councils.yaml) with `collabsim design` at its default settings, on every core.

    python benchmarks/design.py [--out DIR]

Prints the machine, the command, the wall time, how many charters and runs it took and what it
found (the results folder is kept). docs/PERFORMANCE.md records a run; docs/DESIGN-SEARCH.md
reads the shipped folder, designs/three_councils/.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from timed_command import run_timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="results folder (default: a new "
                    "temporary one)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="design-")) / "design"
    command = ["collabsim", "design", "scenarios/three_councils.yaml", "--design",
               "designs/three_councils.yaml", "--out", str(out), "--json"]
    seconds, summary = run_timed(command)
    convergence = pd.read_parquet(out / "convergence.parquet")
    evaluated = int(convergence["evaluated"].sum())
    runs = int(convergence["runs"].sum())
    levers = len(summary["settings"]["levers"])
    fresh = summary["settings"]["final_replications"] * len(summary["charters"])
    print(f"\nwall time: **{seconds / 60:.1f} minutes** ({seconds:.0f} s) for {levers} levers, "
          f"{len(convergence)} seeds: {evaluated:,} charters evaluated, {runs:,} runs in the "
          f"searches and {fresh:,} on the fresh sample ({len(summary['charters'])} charters)")
    print(f"{1e6 * seconds / (runs + fresh):.0f} µs of wall time per run, all included")
    for key, line in summary["headline"]:
        print(f"- {key}: {line}")
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
