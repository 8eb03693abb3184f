"""Running `collabsim` as a user does, for every test that drives the command line: the
installed command when there is one (as the README's quick start installs it), else
`python -m sim.cli` with this interpreter; output captured as text.

A refusal of bad input must come fast (within 2 s, docs/PERFORMANCE.md measures it with
benchmarks/refusals.py). Tests do not time it, which a busy machine would make flaky; they check
what makes it fast: the command said no before importing any of the HEAVY libraries, which each
take a noticeable part of a second to import (`refused_light`, with `trace_imports=True`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Libraries a refusal must not import, each of which (with what it imports) takes a third of the
#: 2 s or more to import on the reference machine (docs/PERFORMANCE.md): SciPy (0.7 s) and
#: SALib, the Mesa model (0.8 s), matplotlib (0.4 s with its pyplot), the EMA Workbench (1.3 s),
#: pyabc (2.9 s), Dask's client and the app's Solara. pandas and pyarrow (0.5 s together) may
#: load: some input is checked against a table (a resumed job's saved plan).
HEAVY = ("scipy", "SALib", "mesa", "matplotlib", "ema_workbench", "pyabc", "distributed", "dask",
         "solara")
_IMPORT_TIME = "import time:"


def command(*args) -> list[str]:
    """The argument list that runs `collabsim ARGS`."""
    exe = shutil.which("collabsim", path=str(Path(sys.executable).parent))
    return ([exe] if exe else [sys.executable, "-m", "sim.cli"]) + [str(a) for a in args]


def collabsim(*args, cwd=ROOT, env=None, timeout=600,
              trace_imports: bool = False) -> subprocess.CompletedProcess:
    """Run `collabsim ARGS` in `cwd` (the repository by default), with `env`'s variables added
    to this process's environment. With `trace_imports`, Python reports every module it
    imports (PYTHONPROFILEIMPORTTIME); the report is taken out of stderr and kept, as the set
    of module names, in the result's `imported`."""
    env = {**os.environ, **(env or {})}
    if trace_imports:
        env["PYTHONPROFILEIMPORTTIME"] = "1"
    proc = subprocess.run(command(*args), capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=env)
    if trace_imports:
        lines = proc.stderr.splitlines(keepends=True)
        proc.imported = {line.rsplit("|", 1)[-1].strip() for line in lines
                         if line.startswith(_IMPORT_TIME)}
        proc.stderr = "".join(line for line in lines if not line.startswith(_IMPORT_TIME))
    return proc


def heavy_imports(proc: subprocess.CompletedProcess) -> list[str]:
    """The HEAVY libraries a command run with `trace_imports=True` imported."""
    return sorted(name for name in proc.imported if name.split(".")[0] in HEAVY
                  and "." not in name)


def refused_light(proc: subprocess.CompletedProcess) -> bool:
    """Whether a command run with `trace_imports=True` ended without importing a HEAVY library
    (so that it answers within 2 s however loaded the machine; asserted with this message)."""
    assert proc.imported, "run with trace_imports=True"
    return not heavy_imports(proc)
