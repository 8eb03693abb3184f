"""Bad input gets one clear message naming the file and the field, exit status 2, no traceback,
and leaves nothing behind."""

import copy
import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from commandline import collabsim, heavy_imports, refused_light
import sim
from sim.scenario.loading import ScenarioError, load_scenario
from refusals import assert_refused

ROOT = Path(__file__).resolve().parent.parent
BASE = yaml.safe_load((ROOT / "scenarios" / "three_councils.yaml").read_text())


def _edit(fn):
    d = copy.deepcopy(BASE)
    fn(d)
    return yaml.safe_dump(d)


#: The corpus: malformed scenario files, and what each error must say besides the file name
#: (the field first, then how it is wrong).
CORPUS = ROOT / "tests" / "bad_inputs"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())


def test_the_corpus_holds_at_least_fifty_malformed_files():
    files = sorted(p.name for p in CORPUS.glob("*.yaml") if p.name != "expected.yaml")
    assert files == sorted(EXPECTED) and len(files) >= 50


def _write(tmp_path, content, name="scenario.yaml"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_scenario_is_refused_with_a_message_naming_file_and_field(name):
    assert_refused(load_scenario, CORPUS / name, EXPECTED[name], max_lines=6)


def test_missing_file_and_directory_are_named(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path)


def test_absurdly_large_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("# padding\n" * 300_000)
    with pytest.raises(ScenarioError, match="limited to"):
        load_scenario(path)


def test_several_problems_are_reported_together(tmp_path):
    content = _edit(lambda d: (d["partners"][0].update(ambition=2, skills=-1)))
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, content))
    assert "2 problems" in str(info.value)


@pytest.mark.parametrize("form", [{"uniform": [0.2, 0.4]}, {"triangular": [0.2, 0.3, 0.6]},
                                  {"beta": {"a": 2, "b": 5}}, [0.2, 0.4, 0.6], 0.3])
def test_every_distribution_form_is_accepted_and_sampled_within_its_range(form):
    d = copy.deepcopy(BASE)
    d["partners"][0]["ambition"] = form
    scenario = sim.scenario_from_dict(d)
    values = [sim.PartnershipModel(scenario=scenario, rng=s).partners[0].ambition
              for s in range(30)]
    lo, hi = (0.0, 1.0) if not isinstance(form, dict) else (0.0, 1.0)
    assert all(lo <= v <= hi for v in values)
    if form != 0.3:
        assert len(set(values)) > 1


# --- through the real command line -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_run_refuses_every_corpus_file_quickly_with_status_2_and_writes_nothing(
        tmp_path, name):
    path = tmp_path / name
    shutil.copy(CORPUS / name, path)
    proc = collabsim("run", path, "--replications", 5, cwd=tmp_path,   # results/ would go here
                     trace_imports=True)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert str(path) in proc.stderr and EXPECTED[name][0] in proc.stderr, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == [name], "nothing written"
    assert refused_light(proc), heavy_imports(proc)


S = str(ROOT / "scenarios" / "three_councils.yaml")
T = str(ROOT / "scenarios" / "typical.yaml")
#: Bad command lines: (arguments, what the message must name). Each is refused in under two
#: seconds with exit status 2, no traceback, and nothing written.
BAD_COMMAND_LINES = [
    (["run", T, "--replications", "0"], "--replications"),
    (["run", T, "--replications", "-5"], "--replications"),
    (["run", T, "--replications", "abc"], "--replications"),
    (["run", T, "--seed", "-1"], "--seed"),
    (["run", T, "--seed", str(2**64)], "--seed"),
    (["run", T, "--workers", "-1"], "--workers"),
    (["run", T, "--chunk-size", "0"], "--chunk-size"),
    (["run", T, "--engine", "turbo"], "--engine"),
    (["run", T, "--bogus"], "bogus"),
    (["run", T, "--shock", "earthquake"], "unknown shock kind 'earthquake'"),
    (["run", T, "--shock", "budget_cut:partner=Nobody"], "shocks[3].partner"),
    (["run"], "SCENARIO"),
    (["run", "--resume", "/no/such/folder"], "not a run folder"),
    (["validate", "no/such/file.yaml"], "no such file"),
    (["validate", str(ROOT / "scenarios")], "is a directory"),
    (["frobnicate"], "frobnicate"),
    (["sweep", S, "--samples", "3"], "--samples 3: Sobol sampling needs a power of two"),
    (["sweep", S, "--samples", "1"], "--samples"),
    (["sweep", S, "--method", "guess"], "--method guess"),
    (["sweep", S, "--output", "happiness"], "outputs must be among"),
    (["sweep", S, "--factor", "partners.Northshire.ambition"], "PATH=LOW:HIGH"),
    (["sweep", S, "--factor", "partners.Nowhere.ambition=0:1"], "partners.Nowhere.ambition"),
    (["sweep", S, "--factor", "partners.Northshire.ambition=0:2"], "ambition"),
    (["sweep", S, "--replications", "0"], "--replications"),
    (["sweep", "--resume", "/no/such/folder"], "not a sweep folder"),
    (["grid", S, "--x", "charter.consensus=0:1", "--y", "charter.consensus=0:1"],
     "both charter.consensus"),
    (["grid", S, "--x", "charter.consensus=0:1", "--y", "charter.training=0:1", "--steps", "1"],
     "--steps"),
    (["stress", S, "--shock", "budget_cut", "--threshold", "2"], "--threshold"),
    (["stress", S, "--shock", "budget_cut", "--range", "1:0"], "need 0 <= low < high <= 1"),
    (["stress", S, "--shock", "budget_cut", "--tolerance", "0"], "--tolerance"),
    (["stress", S], "--shock"),
    (["compare", S], "give two or more scenarios"),
    (["compare", S, "--charter", "/no/such/charter.yaml"], "no such file"),
    (["discover", S, "--failure", "bankrupt"], "--failure bankrupt"),
    (["discover", S, "--boxes", "0"], "--boxes"),
    (["discover", S, "--density", "2"], "--density"),
    (["report", "/no/such/folder"], "no such results folder"),
    (["app", "/no/such/scenario.yaml"], "no such file"),
    (["app", S, "--port", "70000"], "--port"),
    # hardening, round two
    (["run", S, "--shock", "budget_cut:partner=Northshire,partner=Eastvale"],
     "partner is given twice"),
    (["validate", "/dev/zero"], "not a regular file (a character device)"),
    (["run", "/dev/zero"], "not a regular file"),
    (["stress", S, "--shock", "budget_cut", "--partner", "Northshire\x1b[2J"],
     "shocks[2].partner: contains a control character"),
]


@pytest.mark.slow
@pytest.mark.parametrize("args, fragment", BAD_COMMAND_LINES,
                         ids=[" ".join(a[:3]).replace(str(ROOT) + "/", "") for a, _ in
                              BAD_COMMAND_LINES])
def test_bad_command_lines_exit_2_quickly_without_traceback_or_files(tmp_path, args, fragment):
    proc = collabsim(*args, cwd=tmp_path, trace_imports=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert fragment.lower() in proc.stderr.lower(), proc.stderr
    assert list(tmp_path.iterdir()) == [], "nothing written"
    assert refused_light(proc), heavy_imports(proc)


@pytest.mark.slow
def test_out_folder_that_already_holds_files_is_refused(tmp_path):
    (tmp_path / "keep.txt").write_text("precious")
    proc = collabsim("run", ROOT / "scenarios" / "three_councils.yaml", "-n", 3, "--out",
                     tmp_path)
    assert proc.returncode == 2
    assert (tmp_path / "keep.txt").read_text() == "precious"


@pytest.mark.slow
def test_validate_reports_a_good_scenario_as_json():
    proc = collabsim("validate", "scenarios/three_councils.yaml", "--json", cwd=ROOT)
    assert proc.returncode == 0
    info = json.loads(proc.stdout)
    assert info["valid"] and info["partners"] == 3


# --- hardening, round two: files, memory, user text -----------------------------------------

def _refused_quickly(proc, fragment, folder):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert fragment in proc.stderr, proc.stderr
    assert refused_light(proc), heavy_imports(proc)


@pytest.mark.slow
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    for command in ("validate", "run"):
        proc = collabsim(command, fifo, cwd=tmp_path, trace_imports=True)
        _refused_quickly(proc, "not a regular file (a named pipe)",
                         tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["scenario.yaml"], "nothing written"


def _big(tmp_path, name, edit):
    path = tmp_path / name
    path.write_text(edit((ROOT / "scenarios" / "three_councils.yaml").read_text()))
    assert path.stat().st_size < 2_000_000   # under the size limit: refused for its shape
    return path


HUGE = {   # 199,000 unknown keys; a list of 199,000 values; 10,000 lists of 20 values
    "keys.yaml": (lambda text: text + "".join(f"k{i:x}: 1\n" for i in range(199_000)),
                  "(top): a mapping with more than 100 keys"),
    "values.yaml": (lambda text: text.replace("ambition: {uniform: [0.3, 0.6]}", "ambition: ["
                                              + ",".join(["0.5"] * 199_000) + "]", 1),
                    "partners[0].ambition: a list of more than 10,000 items"),
    "nested.yaml": (lambda text: text + "extra:\n" + f"  - [{','.join(['1'] * 20)}]\n" * 9_999,
                    "more than 200,000 values"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HUGE))
def test_huge_structures_are_refused_quickly_and_for_what_they_are(tmp_path, name):
    edit, fragment = HUGE[name]
    path = _big(tmp_path, name, edit)
    proc = collabsim("run", path, "-n", 5, cwd=tmp_path, trace_imports=True)
    _refused_quickly(proc, fragment, tmp_path)
    assert "not valid YAML" not in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == [name], "nothing written"


def test_the_alias_limit_is_not_called_invalid_yaml():
    with pytest.raises(ScenarioError) as info:
        load_scenario(CORPUS / "too_many_aliases.yaml")
    assert "not valid YAML" not in str(info.value)


def test_yaml_1_2_numbers_and_booleans_are_read_as_written(tmp_path):
    d = copy.deepcopy(BASE)
    text = yaml.safe_dump(d).replace("horizon: 10", "horizon: 1e1").replace("seed: 7",
                                                                            "seed: +7")
    scenario = load_scenario(_write(tmp_path, text))
    assert scenario.horizon == 10 and scenario.seed == 7
    d["name"] = "yes"
    assert load_scenario(_write(tmp_path, yaml.safe_dump(d))).name == "yes"


def test_a_chunk_that_cannot_fit_in_memory_is_refused_before_work_starts(tmp_path):
    proc = collabsim("run", T, "--chunk-size", 600_000, "-n", 600_000, cwd=tmp_path,
                     env={"COLLABSIM_MEMORY": "1G"}, trace_imports=True)
    _refused_quickly(proc, "--chunk-size 600000: a chunk of "
                     "600,000 replications needs about", tmp_path)
    fits = int(re.search(r"at most ([\d,]+) fit", proc.stderr)[1].replace(",", ""))
    assert 1_000 < fits < 600_000
    assert list(tmp_path.iterdir()) == [], "nothing written"


@pytest.mark.slow
def test_a_scenario_too_big_for_one_replication_is_refused_before_work_starts(tmp_path):
    d = copy.deepcopy(yaml.safe_load(open(T)))
    d["population"]["count"], d["horizon"] = 1000, 400
    path = _write(tmp_path, yaml.safe_dump(d))
    for args in (["run", path, "-n", 10], ["stress", path, "--shock", "budget_cut", "-n", 10],
                 ["sweep", path, "-N", 8, "-n", 4]):
        proc = collabsim(*args, cwd=tmp_path, env={"COLLABSIM_MEMORY": "2G"},
                         trace_imports=True)
        _refused_quickly(proc, "one replication of", tmp_path)
        assert "1000 partners over 400 reviews" in proc.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.yaml"], args


@pytest.mark.slow
def test_big_scenarios_use_fewer_workers_rather_than_run_out_of_memory(tmp_path):
    d = copy.deepcopy(yaml.safe_load(open(T)))
    d["population"]["count"], d["horizon"] = 60, 20
    path = _write(tmp_path, yaml.safe_dump(d))
    proc = collabsim("run", path, "-n", 40, "--chunk-size", 10, "--workers", 2, "--out",
                     tmp_path / "r", "--json", cwd=tmp_path, env={"COLLABSIM_MEMORY": "25M"})
    assert proc.returncode == 0, proc.stderr
    assert "note: 1 worker instead of 2" in proc.stderr
    assert json.loads(proc.stdout)["replications"] == 40


MARKUP_NAME = "Councils [/] [draft] [bold]x $\\frac$"


@pytest.fixture(scope="module")
def markup_scenario(tmp_path_factory):
    """A valid scenario whose name, path and partner names read as Rich markup and
    matplotlib mathematics (in a folder named `odd [`, so its path holds `[/]`)."""
    folder = tmp_path_factory.mktemp("markup") / "odd ["
    folder.mkdir()
    d = copy.deepcopy(BASE)
    d["name"] = MARKUP_NAME
    d["partners"][0]["name"] = "North [/] $x"
    for service in d["charter"].get("services", []):
        service["lead"] = service["lead"].replace("Northshire", "North [/] $x")
    path = folder / "] three.yaml"
    path.write_text(yaml.safe_dump(d, allow_unicode=True))
    assert "[/]" in str(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("command", [
    ["validate"], ["run", "-n", 30], ["sweep", "-N", 8, "-n", 4],
    ["grid", "--x", "charter.consensus=0:1", "--y", "charter.programme_team.training=0:1",
     "--steps", 2,
     "-n", 10],
    ["stress", "--shock", "budget_cut", "-n", 20, "--tolerance", 0.2],
    ["compare", "SECOND", "-n", 20]], ids=lambda c: c[0])
def test_names_that_look_like_markup_are_shown_as_written_by_every_command(
        markup_scenario, tmp_path, command):
    args = [command[0], markup_scenario, *command[1:]]
    args = [markup_scenario if a == "SECOND" else a for a in args]
    if command[0] != "validate":
        args += ["--out", tmp_path / "out", "--workers", 1]
    proc = collabsim(*args, cwd=tmp_path, env={"COLUMNS": "250"})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    shown = " ".join((proc.stdout + proc.stderr).split())   # tables wrap long titles
    assert MARKUP_NAME in shown, proc.stdout
    if command[0] == "validate":
        assert str(markup_scenario) in proc.stdout


@pytest.mark.slow
def test_control_characters_never_reach_the_terminal(tmp_path):
    """A path (which no schema checks) and a refused name are shown with their control
    characters written out."""
    path = tmp_path / "bad\x1b]0;owned\x07.yaml"
    shutil.copy(CORPUS / "name_escape_sequence.yaml", path)
    for command in ("validate", "run"):
        proc = collabsim(command, path, cwd=tmp_path)
        assert proc.returncode == 2
        assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
        assert "bad\\x1b]0;owned\\x07.yaml" in proc.stderr, proc.stderr
    d = copy.deepcopy(BASE)
    d["partners"][0]["name"] = "North\x1b[2Jshire"
    proc = collabsim("validate", _write(tmp_path, yaml.safe_dump(d)), cwd=tmp_path)
    assert proc.returncode == 2 and "\x1b" not in proc.stderr
    assert "North\\x1b[2Jshire" in proc.stderr and "control character (U+001B)" in proc.stderr
