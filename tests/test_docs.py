"""The documentation cannot drift from the code."""

import inspect
import re

import pytest
from pathlib import Path

from sim import rules, schema_docs
from sim.parameters import ModelParameters

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_scenarios_md_is_generated_from_the_schema():
    assert (DOCS / "SCENARIOS.md").read_text() == schema_docs.render(), \
        "docs/SCENARIOS.md is stale: run `python -m sim.schema_docs > docs/SCENARIOS.md`"


def test_odd_describes_every_rule_and_every_parameter():
    odd = (DOCS / "ODD.md").read_text()
    public = [name for name, fn in inspect.getmembers(rules, inspect.isfunction)
              if fn.__module__ == "sim.rules" and not name.startswith("_")]
    missing = [name for name in public if f"`{name}`" not in odd]
    assert not missing, f"docs/ODD.md does not describe: {missing}"
    params = [name for name in ModelParameters.model_fields if f"`{name}`" not in odd]
    assert not params, f"docs/ODD.md does not name parameters: {params}"


def test_odd_cites_every_seed_document():
    odd = (DOCS / "ODD.md").read_text()
    for doc in ("000", "001", "002"):
        assert re.search(rf"\b{doc}\b", odd), doc


def test_validation_md_gives_the_command_that_regenerates_it():
    text = (DOCS / "VALIDATION.md").read_text()
    assert "python -m sim.validation --replications 2000" in text
    assert "python -m sim.validation --fit --replications 4000" in text


@pytest.mark.slow
def test_every_table_in_validation_md_is_what_the_command_prints(capsys):
    """The checks, patterns and findings tables are pasted from `python -m sim.validation
    --replications 2000`: rerun it and require every line it prints on the page."""
    from sim import validation

    status = validation.main(["--replications", "2000"])
    printed = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ")]
    page = (DOCS / "VALIDATION.md").read_text().splitlines()
    missing = [ln for ln in printed if ln not in page]
    assert not missing, "docs/VALIDATION.md is stale; rerun the command:\n" + "\n".join(missing)
    assert status == (1 if "**no**" in "\n".join(printed) else 0)


@pytest.mark.slow
def test_the_tradeoff_table_in_validation_md_is_what_the_command_prints(capsys):
    from sim import validation

    assert validation.main(["--tradeoff", "--replications", "2000"]) == 0
    printed = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ")]
    page = (DOCS / "VALIDATION.md").read_text().splitlines()
    assert len(printed) == 1 + len(validation.TRADEOFF)          # the header and each row
    assert [ln for ln in printed if ln not in page] == []


def test_the_fitted_constant_in_validation_md_is_the_default():
    from sim.parameters import ModelParameters

    text = (DOCS / "VALIDATION.md").read_text()
    assert f"prints `planned_capacity {ModelParameters().planned_capacity}" in text


def test_ci_runs_exactly_the_readmes_second_quick_start_command():
    root = DOCS.parent
    readme = (root / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(commands) == 2, "the quick start has exactly two commands"
    ci = [ln for ln in (root / ".ci" / "run").read_text().splitlines()
          if ln.strip() and not ln.startswith(("#", "set ", "cd "))]
    assert ci == [commands[1]]
    assert "collabsim run scenarios/" in commands[0] and "pip install -e ." in commands[0]


def _python_block(text: str, after: str) -> str:
    return text.split(after, 1)[1].split("```python", 1)[1].split("```", 1)[0]


def test_the_ema_workbench_example_in_sensitivity_md_runs(monkeypatch):
    import pytest

    pytest.importorskip("ema_workbench")
    monkeypatch.chdir(DOCS.parent)
    code = _python_block((DOCS / "SENSITIVITY.md").read_text(),
                         "## The model as a function")
    namespace = {}
    exec(compile(code, "SENSITIVITY.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert len(namespace["experiments"]) == 20
    assert ((namespace["outcomes"]["p_deliver"] >= 0) & (namespace["outcomes"]["p_deliver"] <= 1)).all()


def test_the_python_api_example_in_sensitivity_md_runs(monkeypatch):
    monkeypatch.chdir(DOCS.parent)
    code = _python_block((DOCS / "SENSITIVITY.md").read_text(), "## Python API")
    code = code.replace("samples=1024, replications=64", "samples=16, replications=4") \
        .replace("steps=9, replications=200", "steps=3, replications=10")
    namespace = {}
    exec(compile(code, "SENSITIVITY.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert namespace["heat"].matrix().shape == (3, 3)
    assert len(namespace["result"].indices) > 0


def test_the_python_api_example_in_stress_md_runs(monkeypatch, capsys):
    monkeypatch.chdir(DOCS.parent)
    code = _python_block((DOCS / "STRESS.md").read_text(), "## Python API")
    namespace = {}
    exec(compile(code, "STRESS.md", "exec"), namespace)  # noqa: S102 - our own docs
    printed = capsys.readouterr().out
    assert "P(deliver) falls below 50% at magnitude" in printed
    assert "hurt more" in printed or "no detectable difference" in printed
    assert namespace["found"].boxes


def test_every_command_is_in_the_readme():
    from sim.cli import app

    readme = (DOCS.parent / "README.md").read_text()
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert set(names) >= {"run", "sweep", "grid", "stress", "compare", "discover", "report"}
    assert [n for n in names if f"collabsim {n}" not in readme] == []


def test_no_public_name_is_shadowed_by_a_module_of_the_same_name():
    # importing sim.X sets the attribute X on the package, hiding a function exported as sim.X
    import importlib

    import sim

    for name, module in sim._EXPORTS.items():
        importlib.import_module(module)
        assert not (DOCS.parent / "sim" / f"{name}.py").exists(), name
        assert getattr(sim, name) is getattr(importlib.import_module(module), name), name


@pytest.mark.slow
def test_the_stress_testing_session_in_the_readme_prints_what_it_says(tmp_path):
    """Each `collabsim` command of the README's stress-testing session, followed by a comment,
    prints that comment's text in its message."""
    import json
    import subprocess
    import sys

    root = DOCS.parent
    block = (root / "README.md").read_text().split("### A stress-testing session", 1)[1]
    lines = block.split("```bash", 1)[1].split("```", 1)[0].splitlines()
    pairs = [(cmd, said[1:].strip()) for cmd, said in zip(lines, lines[1:])
             if cmd.startswith("collabsim ") and said.startswith("#")]
    assert len(pairs) == 4
    for k, (command, said) in enumerate(pairs):
        args = command.split()[1:] + ["--json", "--out", str(tmp_path / f"out{k}")]
        done = subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=root,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert said in json.loads(done.stdout)["message"], (command, said)


def _indented_blocks(text: str, after: str) -> list[str]:
    """The indented (4-space) blocks following a heading, each as one line (continuations
    joined)."""
    section = text.split(after, 1)[1].split("\n## ", 1)[0]
    blocks, current = [], []
    for line in section.splitlines() + [""]:
        if line.startswith("    "):
            current.append(line.strip().rstrip("\\").strip())
        elif current:
            blocks.append(" ".join(current))
            current = []
    return blocks


def _collabsim(command: str, out):
    import shlex
    import subprocess
    import sys

    args = shlex.split(command)
    assert args[0] == "collabsim"
    return subprocess.run([sys.executable, "-m", "sim.cli", *args[1:], "--out", str(out)],
                          capture_output=True, text=True, cwd=DOCS.parent, timeout=600)


def test_the_skipped_output_note_in_sensitivity_md_is_what_the_command_prints(tmp_path):
    command, note = _indented_blocks((DOCS / "SENSITIVITY.md").read_text(),
                                     "## Outputs that cannot be analysed")
    done = _collabsim(command, tmp_path / "sweep")
    assert done.returncode == 0, done.stderr
    assert note in done.stderr.splitlines()
    assert "Traceback" not in done.stderr


def test_the_grid_columns_and_widest_ci_in_sensitivity_md_are_what_the_command_prints(tmp_path):
    command, header, widest = _indented_blocks((DOCS / "SENSITIVITY.md").read_text(),
                                               "## Two-factor maps")
    done = _collabsim(command, tmp_path / "grid")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "grid" / "grid.csv").read_text().splitlines()[0] == header
    assert widest in done.stdout.splitlines()


def test_the_median_interval_figures_in_sensitivity_md_are_the_codes():
    from sim.outcomes import median_ranks

    text = " ".join((DOCS / "SENSITIVITY.md").read_text().split())
    assert "For R = 100 that is the 40th and 61st." in text
    assert median_ranks(100) == (40, 61)
    assert "At least 95% from R = 6; below that it is the range of the runs" in text
    assert median_ranks(6) == (1, 6) and 1 - 2 * 0.5 ** 6 >= 0.95      # the range covers
    assert median_ranks(5) == (1, 5) and 1 - 2 * 0.5 ** 5 < 0.95       # it falls short
