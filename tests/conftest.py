"""What many test files share: the shipped scenarios, loaded once, and fresh copies of their
data to edit. Helpers that tests import by name live beside this file: commandline.py (running
`collabsim` as a user does), refusals.py (how a refused file is checked), strategies.py
(hypothesis strategies for valid scenarios), behaviour_folders.py (calibration folders).

The quick loop is `python -m pytest -m "not slow"` (under a minute in one process;
benchmarks/quick_loop.py measures it); CI runs every test (`.ci/run`). Mark a test
`@pytest.mark.slow` when it takes half a second or more: most such tests start a `collabsim`
process (Python and the command's imports), rerun a documented command, kill long jobs,
execute notebooks or drive a browser or a cluster; a module whose every test is slow says so
once with `pytestmark`."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def _data(name: str) -> dict:
    return yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())


_DATA = {}


@pytest.fixture
def scenario_data():
    """scenario_data(NAME): a fresh copy of scenarios/NAME.yaml as a dict, to edit freely."""
    def load(name: str) -> dict:
        if name not in _DATA:
            _DATA[name] = _data(name)
        return copy.deepcopy(_DATA[name])
    return load


@pytest.fixture(scope="session")
def three_councils():
    """scenarios/three_councils.yaml, loaded once (a Scenario is not changed in place: its
    with_values returns a new one)."""
    import sim

    return sim.load_scenario(SCENARIOS / "three_councils.yaml")


@pytest.fixture(scope="session")
def typical():
    """scenarios/typical.yaml, loaded once."""
    import sim

    return sim.load_scenario(SCENARIOS / "typical.yaml")
