"""`collabsim app`: serve the interactive teaching page (sim.teaching.app) with Solara.

The page is served by a `solara run` child process. The port is checked before anything is
announced (a busy port is refused with exit status 2 and a hint), and the child never outlives
this command: Ctrl-C and SIGTERM stop it, and a parent-death signal stops it even if this
process is killed outright (`kill -9`).
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

from sim.cli.common import app, err, fail, interruption, load_or_exit, show
from sim.montecarlo.executors import die_with_parent

#: Seconds the server is given to stop by itself before it is killed.
STOP_TIMEOUT = 10
#: Solara's settings for a classroom page: no "runs on Solara" banner over the plots, a plain
#: loader, the page's own title, and no usage reports sent from the server (nothing leaves the
#: machine: a classroom may have no internet).
SERVER_SETTINGS = {"SOLARA_THEME_SHOW_BANNER": "False", "SOLARA_THEME_LOADER": "plain",
                   "SOLARA_THEME_TITLE": "collabsim", "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}


def free_port(host: str, port: int) -> int:
    """The port to serve on: `port` if nothing listens there, any free port if `port` is 0.
    Raises OSError (errno EADDRINUSE for a busy port) if the address cannot be taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # as the server itself will bind: a port left in TIME_WAIT is free, a listening one not
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        return probe.getsockname()[1]


def _stop(server: subprocess.Popen) -> None:
    """Stop the server (SIGTERM, then SIGKILL after STOP_TIMEOUT seconds) and reap it."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@app.command("app")
def serve_app(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML file (default: "
                                              "scenarios/three_councils.yaml)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", min=0, max=65535,
                             help="Port to listen on (0: any free port)."),
) -> None:
    """Interactive teaching app: sliders for each partner's traits and the charter, step through
    the reviews, and watch savings, trust, the trust network and satisfaction (Mesa model,
    Solara page). Open the address it prints in a browser; Ctrl-C stops it."""
    if scenario is not None:
        load_or_exit(scenario)  # a bad scenario fails here (quickly), not in the browser
    try:
        port = free_port(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            fail(f"port {port} on {host} is already in use (another `collabsim app`?); choose "
                 f"another with --port, e.g. --port {port + 1 if port < 65535 else 8765}, or "
                 "--port 0 for any free port")
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    # Solara and Mesa's page: slow to load
    from sim.teaching.app import DEFAULT_SCENARIO, SCENARIO_ENV

    path = Path(scenario) if scenario is not None else DEFAULT_SCENARIO
    env = {**os.environ, **SERVER_SETTINGS, SCENARIO_ENV: str(path.resolve())}
    # Solara warns, on every page load over plain http, about a cookie setting meant for https
    env.setdefault("PYTHONWARNINGS", "ignore:Cookies with samesite=none:UserWarning")
    command = [sys.executable, "-m", "solara", "run", "sim.teaching.app", "--host", host, "--port",
               str(port), "--production", "--no-open", "--log-level", "warning"]
    parent = os.getpid()
    try:
        server = subprocess.Popen(command, env=env,
                                  preexec_fn=lambda: die_with_parent(parent, watchdog=False))
    except OSError as exc:
        fail(f"cannot start the app server: {exc}")
    show(f"collabsim app: {path} on http://{host}:{port}/ (Ctrl-C stops it)", err)
    try:
        code = server.wait()
    except KeyboardInterrupt as exc:   # Ctrl-C, or SIGTERM (sim.cli raises Terminated)
        _, status = interruption(exc)
        _stop(server)
        raise typer.Exit(status) from None
    raise typer.Exit(code)
