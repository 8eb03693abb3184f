"""The documentation cannot drift from the code."""

import inspect
import re

import pytest
from pathlib import Path

from sim.partnership import rules

from sim.scenario import schema_docs
from sim.scenario.parameters import ModelParameters

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_scenarios_md_is_generated_from_the_schema():
    assert (DOCS / "SCENARIOS.md").read_text() == schema_docs.render(), \
        "docs/SCENARIOS.md is stale: run `python -m sim.scenario.schema_docs > docs/SCENARIOS.md`"


def test_odd_describes_every_rule_and_every_parameter():
    odd = (DOCS / "ODD.md").read_text()
    public = [name for name, fn in inspect.getmembers(rules, inspect.isfunction)
              if fn.__module__ == "sim.partnership.rules" and not name.startswith("_")]
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
    assert "python -m sim.analysis.validation --replications 2000" in text
    assert "python -m sim.analysis.validation --fit --replications 4000" in text


@pytest.mark.slow
def test_every_table_in_validation_md_is_what_the_command_prints(capsys):
    """The checks, patterns and findings tables are pasted from `python -m sim.analysis.validation
    --replications 2000`: rerun it and require every line it prints on the page."""
    from sim.analysis import validation

    status = validation.main(["--replications", "2000"])
    printed = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ")]
    page = (DOCS / "VALIDATION.md").read_text().splitlines()
    missing = [ln for ln in printed if ln not in page]
    assert not missing, "docs/VALIDATION.md is stale; rerun the command:\n" + "\n".join(missing)
    assert status == (1 if "**no**" in "\n".join(printed) else 0)


@pytest.mark.slow
def test_the_tradeoff_table_in_validation_md_is_what_the_command_prints(capsys):
    from sim.analysis import validation

    assert validation.main(["--tradeoff", "--replications", "2000"]) == 0
    printed = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ")]
    page = (DOCS / "VALIDATION.md").read_text().splitlines()
    assert len(printed) == 1 + len(validation.TRADEOFF)          # the header and each row
    assert [ln for ln in printed if ln not in page] == []


def test_the_fitted_constant_in_validation_md_is_the_default():
    from sim.scenario.parameters import ModelParameters

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


def test_the_ema_workbench_example_in_interoperability_md_runs(monkeypatch):
    import pytest

    pytest.importorskip("ema_workbench")
    monkeypatch.chdir(DOCS.parent)
    code = _python_block((DOCS / "INTEROPERABILITY.md").read_text(), "## EMA Workbench")
    namespace = {}
    exec(compile(code, "INTEROPERABILITY.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert len(namespace["experiments"]) == 20
    assert ((namespace["outcomes"]["p_deliver"] >= 0) & (namespace["outcomes"]["p_deliver"] <= 1)).all()
    assert namespace["outcomes"]["timeseries.mean_trust"].shape == (20, 11)


@pytest.mark.slow
def test_the_field_path_evaluate_and_salib_examples_in_interoperability_md_run(monkeypatch,
                                                                               capsys):
    import sim

    monkeypatch.chdir(DOCS.parent)
    text = (DOCS / "INTEROPERABILITY.md").read_text()
    namespace = {}
    for section in ("## Field paths", "## `sim.evaluate`", "## SALib"):
        exec(compile(_python_block(text, section), "INTEROPERABILITY.md", "exec"),  # noqa: S102
             namespace)
    assert namespace["edited"].charter.decision_rule == "majority"
    table = namespace["table"]
    assert len(table) == 4 and (table["p_deliver_low"] <= table["p_deliver"]).all()
    total = namespace["sp"].analysis["ST"]
    assert total[0] > total[2]        # resourcing matters more than the unused threshold
    # the error quoted on the page is the one the code gives
    quoted = " ".join(text.split("raises `sim.ScenarioError`:", 1)[1].split("\n\n", 1)[0]
                      .split()).strip('"').rstrip('".')
    try:
        namespace["scenario"].with_values({"charter.decision_rule": "majorty"})
    except sim.ScenarioError as exc:
        assert quoted.rstrip('"') in str(exc)
    else:
        raise AssertionError("a misspelt category was accepted")


@pytest.mark.slow
def test_the_mesa_batch_run_example_in_interoperability_md_prints_what_it_says(monkeypatch):
    import pytest

    import sim

    monkeypatch.chdir(DOCS.parent)
    heading = "## Mesa's `batch_run`"
    text = (DOCS / "INTEROPERABILITY.md").read_text()
    namespace = {"__name__": "__main__"}
    exec(compile(_python_block(text, heading), "INTEROPERABILITY.md", "exec"),  # noqa: S102
         namespace)
    runs, scenario = namespace["runs"], namespace["scenario"]
    assert len(runs) == 100 and (runs["Step"] == scenario.horizon).all()
    shares = runs.groupby("partners.*.ambition")["delivered"].mean()
    section = " ".join(text.split(heading, 1)[1].split())
    said = re.search(r"delivered the business case at each ambition: ([\d.]+) at 0\.2 and "
                     r"([\d.]+) at 0\.8", section)
    assert said.groups() == (f"{shares[0.2]:.2f}", f"{shares[0.8]:.2f}")
    # the error quoted on the page is the one the model gives
    quoted = section.split("sim.PartnershipModel(scenario, ambition=0.8)` raises \"", 1)[1]
    with pytest.raises(sim.ScenarioError) as raised:
        sim.PartnershipModel(scenario, ambition=0.8)
    assert quoted.split('".', 1)[0] in str(raised.value)


def test_the_readmes_batch_run_call_runs_each_ambition_and_seed_to_its_final_review():
    import mesa

    import sim

    readme = " ".join((DOCS.parent / "README.md").read_text().split())
    call = re.search(r"`(mesa\.batch_run\(sim\.PartnershipModel, .*?\))`", readme).group(1)
    scenario = sim.load_scenario(DOCS.parent / "scenarios" / "three_councils.yaml")
    rows = eval(call, {"mesa": mesa, "sim": sim, "scenario": scenario})  # noqa: S307 - our docs
    last = {(r["partners.*.ambition"], r["seed"]): r for r in rows}
    assert len(last) == 2 * 20
    assert all(r["Step"] == r["cycle"] == scenario.horizon for r in last.values())
    assert {type(r["delivered"]) for r in last.values()} == {bool}


def test_the_python_api_example_in_sensitivity_md_runs(monkeypatch):
    monkeypatch.chdir(DOCS.parent)
    code = _python_block((DOCS / "SENSITIVITY.md").read_text(), "## Python API")
    code = code.replace("samples=1024, replications=64", "samples=16, replications=4") \
        .replace("steps=9, replications=200", "steps=3, replications=10")
    namespace = {}
    exec(compile(code, "SENSITIVITY.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert namespace["heat"].matrix().shape == (3, 3)
    assert len(namespace["result"].indices) > 0


@pytest.mark.slow
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


def test_ides_and_type_checkers_see_exactly_the_public_api():
    """sim/__init__.py's `if TYPE_CHECKING:` imports (what an IDE or type checker reads) are
    the lazily loaded `_EXPORTS`, name for name and module for module, and every one is in
    `__all__`."""
    import ast

    import sim

    tree = ast.parse((DOCS.parent / "sim" / "__init__.py").read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If)
                 and getattr(node.test, "id", None) == "TYPE_CHECKING")
    seen = {alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}
    assert seen == sim._EXPORTS
    assert set(seen) | {"__version__"} == set(sim.__all__)


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


# --- docs/PATTERNS.md ----------------------------------------------------------------------

PATTERNS_COMMAND = "collabsim patterns patterns/public_sector.yaml --replications 2000 --markdown"


def _patterns_table(text: str) -> list[str]:
    """The register's table on a page or in the command's output, with its summary line."""
    lines = text.splitlines()
    start = lines.index("| pattern | role | statistic | value (95% CI) | target | reproduced |")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return lines[start:end + 1]


def _patterns_values() -> dict[str, str]:
    """Pattern name -> its 'value (95% CI)' cell in docs/PATTERNS.md."""
    rows = [ln.split(" | ") for ln in _patterns_table((DOCS / "PATTERNS.md").read_text())[2:-1]]
    return {row[0].lstrip("| ").replace("\\", ""): row[3] for row in rows}


def test_patterns_md_gives_the_command_and_documents_every_statistic():
    from sim.analysis.patterns import NOT_SUPPORTED, STATISTICS

    page = (DOCS / "PATTERNS.md").read_text()
    assert PATTERNS_COMMAND in page
    for name in [*STATISTICS, *NOT_SUPPORTED]:
        assert f"| `{name}` |" in page or f"`{name}`" in page.split("Not offered:")[1], name


def test_the_example_register_in_patterns_md_loads(tmp_path):
    from sim.analysis.patterns import load_register

    block = (DOCS / "PATTERNS.md").read_text().split("## Adding a pattern", 1)[1]
    path = tmp_path / "my_patterns.yaml"
    path.write_text(block.split("```yaml", 1)[1].split("```", 1)[0])
    register = load_register(path)
    assert [p.name for p in register.patterns] == ["councils leave"]


def _signed(cell: str) -> list[float]:
    return [float(x) for x in re.findall(r"[-+]\d+\.\d+", cell)]


def test_patterns_md_agrees_with_validation_md_where_they_measure_the_same_thing():
    """Same seed, same replications: the register's figures are docs/VALIDATION.md's."""
    from sim.analysis.validation import CHECKS

    got = _patterns_values()
    validation = (DOCS / "VALIDATION.md").read_text()
    # the checks and patterns tables (the calibration's table further down repeats the names)
    validation = validation.split("## Calibration against the pattern register", 1)[0]
    checks = {row[0].lstrip("| "): row for row in
              (ln.split(" | ") for ln in validation.splitlines() if ln.startswith("| "))}
    for check in CHECKS:
        row = checks[check.name]
        if check.expect.startswith("range"):
            assert re.findall(r"\d+\.\d+", got[check.name]) == re.findall(r"\d+\.\d+", row[3])
            continue
        assert _signed(got[check.name]) == _signed(row[5]), check.name
        if check.expect.startswith("at_least"):
            median = float(got[f"{check.name} pays for itself"].split()[0])
            assert f"{median:+.2f}" == row[6], check.name
    for kind in ("budget cut", "leadership change"):
        figure = checks[f"late {kind}"][1]
        assert f"({got[f'late {kind} matters'].split()[0]} of it" in figure
        assert f"reviews 6-8 {got[f'late {kind} still harms'].split()[0]}%" in figure
    assert f"{got['no early break-even'].split()[0]} of runs" in checks["no early break-even"][1]
    money = checks["money reaches behaviour"][1]
    assert f"({float(got['money reaches behaviour'].split()[0]):.1f}x)" in money
    reasons = {k: int(v) for k, v in re.findall(r"'(\w+)': (\d+)", money)}
    for reason in ("benefit", "fairness"):
        share = reasons[reason] / sum(reasons.values())
        assert got[f"{reason} is a reason to leave"].split()[0] == f"{share:.1%}"
    assert f"{got['trust is rebuilt'].split()[0]} of those regain" in checks["trust is rebuilt"][1]


@pytest.mark.slow
def test_the_table_in_patterns_md_is_what_the_command_prints():
    """docs/PATTERNS.md's table is pasted from its command: rerun it and require the same
    lines, figure for figure."""
    import subprocess
    import sys

    root = DOCS.parent
    args = PATTERNS_COMMAND.split()[1:]
    done = subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=root,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    printed = _patterns_table(done.stdout)
    page = _patterns_table((DOCS / "PATTERNS.md").read_text())
    assert printed == page, "docs/PATTERNS.md is stale; rerun: " + PATTERNS_COMMAND


def _printed_rows(stdout: str) -> list[list[str]]:
    """The header and rows of a Rich table as printed (cells stripped)."""
    return [[cell.strip() for cell in line.strip()[1:-1].split(line.strip()[0])]
            for line in stdout.splitlines() if line.strip()[:1] in ("┃", "│")]


def _markdown_rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip()[1:-1].split("|")]
            for line in text.splitlines() if line.startswith("| ")]


@pytest.mark.slow
def test_the_example_table_in_experiments_md_is_what_the_command_prints(tmp_path):
    import os
    import subprocess
    import sys

    root = DOCS.parent
    section = (DOCS / "EXPERIMENTS.md").read_text().split("## An example", 1)[1] \
        .split("\n## ", 1)[0]
    command = "collabsim experiment experiments/ambition_by_decision_rule.yaml"
    assert command in " ".join(section.split())
    proc = subprocess.run([sys.executable, "-m", "sim.cli", *command.split()[1:], "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=root,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    printed = _printed_rows(proc.stdout)
    assert len(printed) == 1 + 8
    assert _markdown_rows(section) == printed, "docs/EXPERIMENTS.md's example table is stale"


def test_the_python_api_example_in_experiments_md_runs(monkeypatch):
    monkeypatch.chdir(DOCS.parent)
    code = _python_block((DOCS / "EXPERIMENTS.md").read_text(), "## Python API")
    code = code.replace('"samples": 64, "repetitions": 50', '"samples": 8, "repetitions": 10')
    namespace = {}
    exec(compile(code, "EXPERIMENTS.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert len(namespace["result"].table) == 8
    assert len(namespace["sobol"].table) == 8 * (2 + 2)
    assert len(namespace["sobol"].problem.analysis["ST"]) == 2


def test_experiments_md_counts_the_bad_experiment_files():
    corpus = DOCS.parent / "tests" / "bad_inputs" / "experiments"
    files = [p for p in corpus.glob("*.yaml") if p.name != "expected.yaml"]
    text = " ".join((DOCS / "EXPERIMENTS.md").read_text().split())
    assert f"holds {len(files)} malformed experiment files" in text


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


@pytest.mark.slow
def test_the_skipped_output_note_in_sensitivity_md_is_what_the_command_prints(tmp_path):
    command, note = _indented_blocks((DOCS / "SENSITIVITY.md").read_text(),
                                     "## Outputs that cannot be analysed")
    done = _collabsim(command, tmp_path / "sweep")
    assert done.returncode == 0, done.stderr
    assert note in done.stderr.splitlines()
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_grid_columns_and_widest_ci_in_sensitivity_md_are_what_the_command_prints(tmp_path):
    command, header, widest = _indented_blocks((DOCS / "SENSITIVITY.md").read_text(),
                                               "## Two-factor maps")
    done = _collabsim(command, tmp_path / "grid")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "grid" / "grid.csv").read_text().splitlines()[0] == header
    assert widest in done.stdout.splitlines()


def test_the_median_interval_figures_in_sensitivity_md_are_the_codes():
    from sim.montecarlo.statistics import median_ranks

    text = " ".join((DOCS / "SENSITIVITY.md").read_text().split())
    assert "For R = 100 that is the 40th and 61st." in text
    assert median_ranks(100) == (40, 61)
    assert "At least 95% from R = 6; below that it is the range of the runs" in text
    assert median_ranks(6) == (1, 6) and 1 - 2 * 0.5 ** 6 >= 0.95      # the range covers
    assert median_ranks(5) == (1, 5) and 1 - 2 * 0.5 ** 5 < 0.95       # it falls short
