"""How long the quick test loop takes (`python -m pytest -m "not slow"`, one process, as a
developer runs it between edits) and how many tests it runs and leaves to CI.

    python benchmarks/quick_loop.py        # prints the machine, the counts and the wall time
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    print(f"machine: {platform.machine()}, {os.cpu_count()} logical cores, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "not slow", "-q",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-2000:])
        return done.returncode
    passed = int(re.search(r"(\d+) passed", last)[1])
    deselected = int(re.search(r"(\d+) deselected", last)[1])
    print(f"quick loop: {passed} tests passed in {seconds:.1f} s wall time (one process); "
          f"{deselected} slow tests left to the full suite")
    return 0


if __name__ == "__main__":
    sys.exit(main())
