"""The `collabsim` command line: parse arguments, call the Python API, render the result; one
module per command group, each registering its commands on the one app (sim.cli.common).

Bad input (a malformed scenario, a bad flag) prints one clear message and exits with status 2,
never a traceback.
"""

from __future__ import annotations

import sys

# each module registers its commands on the app; `collabsim --help` lists them in this order
from sim.cli import run, sweep  # noqa: F401  # isort: skip
from sim.cli import teaching, calibrate, design  # noqa: F401  # isort: skip
from sim.cli import experiment, patterns, workflows  # noqa: F401  # isort: skip
from sim.cli.common import app, err, interruption, raise_terminated


def main() -> None:
    """Console entry point: usage errors exit 2 (click's convention), scenario errors too;
    SIGTERM is handled as Ctrl-C is (a message, the resume command, status 143)."""
    import os
    import signal

    os.environ.setdefault("MPLBACKEND", "Agg")  # figures go to files; never open a window
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        app()
    except KeyboardInterrupt as exc:
        what, status = interruption(exc)
        err.print(what)
        sys.exit(status)

