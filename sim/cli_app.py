"""`collabsim app`: serve the interactive teaching page (sim.app) with Solara."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

from sim.cli_common import (INTERRUPTED, TERMINATED, Terminated, app, err, fail, load_or_exit,
                             show)


@app.command("app")
def serve_app(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML file (default: "
                                              "scenarios/three_councils.yaml)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", min=0, max=65535,
                             help="Port to listen on (0: any free port)."),
) -> None:
    """Interactive teaching app: sliders for each partner's traits and the charter, step through
    the reviews, and watch savings, trust, the trust network and satisfaction (Mesa SolaraViz).
    Open the address it prints in a browser; Ctrl-C stops it."""
    if scenario is not None:
        load_or_exit(scenario)  # a bad scenario fails here (quickly), not in the browser
    from sim.app import DEFAULT_SCENARIO, SCENARIO_ENV   # Solara and Mesa's page: slow to load

    path = Path(scenario) if scenario is not None else DEFAULT_SCENARIO
    env = {**os.environ, SCENARIO_ENV: str(path.resolve())}
    command = [sys.executable, "-m", "solara", "run", "sim.app", "--host", host, "--port",
               str(port), "--production", "--no-open", "--log-level", "warning"]
    show(f"collabsim app: {path} on http://{host}:{port}/ (Ctrl-C stops it)", err)
    try:
        code = subprocess.call(command, env=env)   # stops the server if we are stopped
    except KeyboardInterrupt as exc:
        raise typer.Exit(TERMINATED if isinstance(exc, Terminated) else INTERRUPTED) from None
    except OSError as exc:
        fail(f"cannot start the app server: {exc}")
    raise typer.Exit(code)
