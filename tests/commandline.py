"""Running `collabsim` as a user does, for every test that drives the command line: the
installed command when there is one (as the README's quick start installs it), else
`python -m sim.cli` with this interpreter; output captured as text."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def command(*args) -> list[str]:
    """The argument list that runs `collabsim ARGS`."""
    exe = shutil.which("collabsim", path=str(Path(sys.executable).parent))
    return ([exe] if exe else [sys.executable, "-m", "sim.cli"]) + [str(a) for a in args]


def collabsim(*args, cwd=ROOT, env=None, timeout=600) -> subprocess.CompletedProcess:
    """Run `collabsim ARGS` in `cwd` (the repository by default), with `env`'s variables added
    to this process's environment."""
    return subprocess.run(command(*args), capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env={**os.environ, **(env or {})})
