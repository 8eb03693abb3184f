"""One `collabsim ... --json` command run and timed, for the benchmarks that measure a whole
job (calibration.py, design.py): the machine it ran on, the command, its wall time and summary."""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_timed(command: list[str]) -> tuple[float, dict]:
    """Print the machine and `command` (a `collabsim ... --json` argument list), run it from
    the repository with this interpreter, and return its wall time (s) and JSON summary; exit
    with its error if it fails."""
    print(f"machine: {platform.machine()}, {os.cpu_count()} logical cores, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start")
    print(f"command: {shlex.join(command)}")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sim.cli", *command[1:]], cwd=ROOT,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}):\n{done.stderr}")
    return seconds, json.loads(done.stdout)
