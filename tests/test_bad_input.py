"""Bad input gets one clear message naming the file and the field, exit status 2, no traceback,
and leaves nothing behind."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import sim
from sim.loading import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASE = yaml.safe_load((ROOT / "scenarios" / "three_councils.yaml").read_text())


def _edit(fn):
    d = copy.deepcopy(BASE)
    fn(d)
    return yaml.safe_dump(d)


def _set(path, value):
    def fn(d):
        node = d
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value
    return fn


def _bomb():
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(ord("b"), ord("j")):
        refs = ",".join(["*" + chr(i - 1)] * 9)
        text += f"{chr(i)}: &{chr(i)} [{refs}]\n"
    return text


def _one_partner(d):
    d["partners"] = d["partners"][:1]
    d["charter"]["services"] = []


def _unknown_lead(d):
    d["charter"]["services"][0]["lead"] = "Westford"


# (id, file content (str or bytes), fragments the message must contain)
CASES = [
    ("typo_key", _edit(_set(["partners", 0, "ambtion"], 0.5)),
     ["partners[0] (Northshire).ambtion", "did you mean 'ambition'"]),
    ("typo_top_level", _edit(_set(["horizn"], 10)), ["horizn", "did you mean 'horizon'"]),
    ("typo_charter", _edit(_set(["charter", "decison_rule"], "majority")),
     ["charter.decison_rule", "did you mean 'decision_rule'"]),
    ("out_of_range", _edit(_set(["partners", 0, "ambition"], 1.5)),
     ["partners[0] (Northshire).ambition", "within [0, 1]"]),
    ("negative_size", _edit(_set(["partners", 1, "size"], -3)),
     ["partners[1] (Eastvale).size", "within"]),
    ("wrong_type", _edit(_set(["partners", 0, "ambition"], "high")),
     ["partners[0] (Northshire).ambition", "number or a distribution"]),
    ("wrong_type_int", _edit(_set(["horizon"], "ten")), ["horizon", "integer"]),
    ("nan", _edit(_set(["partners", 0, "size"], float("nan"))), ["size", "finite"]),
    ("infinity", _edit(_set(["charter", "business_case", "target_net_savings_m"], float("inf"))),
     ["target_net_savings_m", "finite"]),
    ("low_above_high", _edit(_set(["partners", 0, "ambition"], {"uniform": [0.7, 0.3]})),
     ["ambition", "must not exceed"]),
    ("triangular_disordered", _edit(_set(["partners", 0, "ambition"],
                                         {"triangular": [0.2, 0.9, 0.5]})),
     ["ambition", "low <= mode <= high"]),
    ("duplicate_names", _edit(_set(["partners", 1, "name"], "Northshire")),
     ["partners[1]", "duplicate partner name 'Northshire'"]),
    ("shock_unknown_partner", _edit(_set(["shocks", 0, "partner"], "Northshir")),
     ["shocks[0].partner", "did you mean 'Northshire'"]),
    ("shock_unknown_kind", _edit(_set(["shocks", 0, "kind"], "earthquake")),
     ["shocks[0].kind", "budget_cut"]),
    ("shock_two_timings", _edit(_set(["shocks", 0, "at_cycle"], 2)),
     ["shocks[0]", "exactly one of at_cycle"]),
    ("shock_after_horizon", _edit(lambda d: d["shocks"].append(
        {"kind": "budget_cut", "partner": "all", "at_cycle": 40})),
     ["shocks[2].at_cycle", "after the horizon"]),
    ("fewer_than_two_partners", _edit(_one_partner), ["partners", "at least two"]),
    ("unknown_service_lead", _edit(_unknown_lead),
     ["charter.services[0] (HR).lead", "unknown partner 'Westford'"]),
    ("bad_decision_rule", _edit(_set(["charter", "decision_rule"], "consensus")),
     ["charter.decision_rule", "unanimity"]),
    ("missing_charter", _edit(lambda d: d.pop("charter")), ["charter", "required"]),
    ("missing_size", _edit(lambda d: d["partners"][0].pop("size")),
     ["partners[0] (Northshire).size", "required"]),
    ("population_and_partners", _edit(_set(["population"], {"count": 3, "traits": {"size": 1}})),
     ["exactly one of `partners`"]),
    ("horizon_zero", _edit(_set(["horizon"], 0)), ["horizon"]),
    ("empty", "", ["file is empty"]),
    ("only_comments", "# nothing here\n", ["file is empty"]),
    ("not_yaml", "name: [unclosed\n", ["not valid YAML", "line 2"]),
    ("a_list", "- a\n- b\n", ["mapping", "list"]),
    ("a_scalar", "just text\n", ["mapping", "str"]),
    ("python_tag", '!!python/object/apply:os.system ["echo pwned"]\n', ["unsupported YAML tag"]),
    ("python_tag_nested", 'name: x\nx: !!python/object/new:os.system ["echo pwned"]\n',
     ["unsupported YAML tag", "line 2"]),
    ("alias_bomb", _bomb(), ["aliases"]),
    ("self_reference", "name: x\ncharter: &c {business_case: *c}\n", ["refers to itself"]),
    ("non_utf8", b"\xff\xfe\x00name: x\n", ["not UTF-8"]),
    ("latin1", "name: Ni\u00f1o\n".encode("latin-1"), ["not UTF-8"]),
    ("non_text_keys", "1: a\n2: b\n", ["keys must be text"]),
    ("deep_nesting", "a: " + "[" * 60 + "]" * 60 + "\n", ["nested"]),
]


def _write(tmp_path, content, name="scenario.yaml"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize("content, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_scenario_is_refused_with_a_message_naming_file_and_field(
        tmp_path, content, fragments):
    path = _write(tmp_path, content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    assert len(message.splitlines()) <= 6, message


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

def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


CLI_CASES = ["typo_key", "out_of_range", "wrong_type", "nan", "low_above_high", "duplicate_names",
             "shock_unknown_partner", "fewer_than_two_partners", "empty", "not_yaml", "a_list",
             "python_tag", "alias_bomb", "non_utf8"]


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_run_refuses_bad_scenario_with_status_2_and_writes_nothing(tmp_path, case):
    content, fragments = {c[0]: c[1:] for c in CASES}[case]
    path = _write(tmp_path, content)
    out = tmp_path / "results"
    proc = _cli("run", path, "--replications", 5, "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert str(path) in proc.stderr and fragments[0] in proc.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".partial-*"))


@pytest.mark.parametrize("args, fragment", [
    (["run", "scenarios/typical.yaml", "--replications", "0"], "replications"),
    (["run", "scenarios/typical.yaml", "--replications", "abc"], "replications"),
    (["run", "scenarios/typical.yaml", "--seed", "-1"], "seed"),
    (["run", "scenarios/typical.yaml", "--bogus"], "bogus"),
    (["run"], "SCENARIO"),
    (["validate", "no/such/file.yaml"], "no such file"),
    (["validate", "scenarios"], "is a directory"),
    (["frobnicate"], "frobnicate"),
])
def test_bad_command_lines_exit_2_without_traceback(args, fragment):
    proc = _cli(*args, cwd=ROOT)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert fragment.lower() in proc.stderr.lower()


def test_out_folder_that_already_holds_files_is_refused(tmp_path):
    (tmp_path / "keep.txt").write_text("precious")
    proc = _cli("run", ROOT / "scenarios" / "three_councils.yaml", "-n", 3, "--out", tmp_path)
    assert proc.returncode == 2
    assert (tmp_path / "keep.txt").read_text() == "precious"


def test_validate_reports_a_good_scenario_as_json():
    proc = _cli("validate", "scenarios/three_councils.yaml", "--json", cwd=ROOT)
    assert proc.returncode == 0
    info = json.loads(proc.stdout)
    assert info["valid"] and info["partners"] == 3
