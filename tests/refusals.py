"""How the tests check that a bad file is refused: a ScenarioError whose message names the
file (first, when `first`), says each expected fragment, and stays short."""

import pytest

from sim.scenario.loading import ScenarioError


def assert_refused(load, path, fragments, *, max_lines: int, first: bool = False) -> str:
    """`load(path)` raises ScenarioError naming `path` and every one of `fragments`, in at most
    `max_lines` lines; returns the message."""
    with pytest.raises(ScenarioError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(str(path)) if first else str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert len(message.splitlines()) <= max_lines, message
    return message
