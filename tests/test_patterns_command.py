"""`collabsim patterns`: bad registers are refused like bad scenarios (status 2, the file and
field named, no traceback, nothing written, at once); a good one prints its table as text,
JSON or Markdown, user text as written, and writes a results folder only when asked."""

import functools
import json
import shutil
from pathlib import Path

import pytest
import yaml

from commandline import collabsim, heavy_imports, refused_light
from sim.analysis.patterns import load_register

pytestmark = pytest.mark.slow   # every test here takes half a second or more

ROOT = Path(__file__).resolve().parent.parent
REGISTER = ROOT / "patterns" / "public_sector.yaml"
CORPUS = ROOT / "tests" / "bad_inputs" / "patterns"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())


_cli = functools.partial(collabsim, env={"COLUMNS": "200"})


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_refuses_every_bad_register_quickly_with_status_2_and_writes_nothing(
        tmp_path, name):
    path = tmp_path / name
    shutil.copy(CORPUS / name, path)
    proc = _cli("patterns", path, "--replications", 5, "--out", tmp_path / "out", cwd=tmp_path,
                trace_imports=True)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert str(path) in proc.stderr and EXPECTED[name][0] in proc.stderr, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == [name], "nothing written"
    assert refused_light(proc), heavy_imports(proc)


def test_cli_refuses_json_with_markdown(tmp_path):
    proc = _cli("patterns", REGISTER, "--json", "--markdown", cwd=tmp_path)
    assert proc.returncode == 2 and "choose one" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_prints_the_table_as_json_and_writes_a_folder_when_asked(tmp_path):
    proc = _cli("patterns", REGISTER, "-n", 30, "--workers", 1, "--json", "--out",
                tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["seed"] == 20261122 and result["replications"] == 30
    assert len(result["table"]) == result["patterns"] == len(load_register(REGISTER))
    first = result["table"][0]
    assert first["name"] == "typical delivers" and first["target_high"] == 0.5
    assert isinstance(first["reproduced"], bool)
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["manifest.json", "patterns.csv", "patterns.md", "patterns.parquet"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["kind"] == "patterns" and manifest["scenario"] == REGISTER.read_text()


def test_cli_shows_register_text_as_written(tmp_path):
    data = yaml.safe_load(REGISTER.read_text())
    data["name"] = "Register [bold]x[/] $y$"
    data["patterns"] = data["patterns"][:1]
    data["patterns"][0]["name"] = "delivers [red]|[/red]"
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    proc = _cli("patterns", path, "-n", 20, "--workers", 1, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    shown = " ".join(proc.stdout.split())
    assert "Register [bold]x[/] $y$" in shown and "delivers [red]|[/red]" in shown
    proc = _cli("patterns", path, "-n", 20, "--workers", 1, "--markdown", cwd=tmp_path)
    assert "delivers \\[red\\]\\|\\[/red\\]" in proc.stdout
