"""`collabsim design` refuses bad input the way every command does: exit status 2, one short
message naming the option (or file) and the field, no traceback, nothing written (no results
folder, not even an empty one), and before anything heavy runs."""

from pathlib import Path

import pytest
from commandline import collabsim, heavy_imports, refused_light

pytestmark = pytest.mark.slow   # every test here takes half a second or more

ROOT = Path(__file__).resolve().parent.parent
S = str(ROOT / "scenarios" / "three_councils.yaml")
T = str(ROOT / "scenarios" / "typical.yaml")       # five partners: not three_councils' three


def _named(fragment, message):
    """A fragment, or a tuple of fragments any one of which will do, is in `message`."""
    options = fragment if isinstance(fragment, tuple) else (fragment,)
    return any(option in message for option in options)


#: What the message names when the message itself is the point (see _named).
SIGN_SHARE = ("--sign-share", "sign_share")
NAMES_ONLY_THE_STEM = ("--against with another partnership is refused, but the message names "
                       "only the file's stem ('typical: its partners and horizon must be the "
                       "draft's'): not the file, nor --against (sim.analysis.robust_charters."
                       "against_charters is given a name -> scenario mapping, so its source is "
                       "the stem)")
NAMES_SETTINGS_NOT_SIGN_SHARE = ("--sign-share out of range is refused as \"the design's "
                                 "settings: <value>: a share of futures, from 0 to 1\": neither "
                                 "--sign-share nor sign_share is named (sim.analysis.robust_charters."
                                 "check_settings keeps check_sign_share's problems but drops its "
                                 "source)")
DESIGN_FILE_NAMED_AS_OPTION = ("a problem in a design file's levers or budget is reported as "
                               "--levers / --budget, which were not given, and the design file "
                               "is not named (sim.cli.design._check_or_exit calls levers_for and "
                               "check_budget with their command-line sources)")
AGAINST_WITHOUT_DESIGN_FILE = ("a design file's `against` naming a missing file is refused as "
                               "'<its folder>/nowhere.yaml: no such file': the missing file is "
                               "named, but neither the design file nor its `against` field")


def _xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


def _cases(cases):
    """Plain (id, ...) tuples as params with that id; pytest.param cases (marked) as given."""
    return [pytest.param(*c, id=c[0]) if type(c) is tuple else c for c in cases]


#: Bad command lines: (id, arguments after the scenario, what the message must name).
BAD_LEVERS = [
    ("misspelt path", ["--levers", "charter.decision_rul"],
     ["--levers", "charter.decision_rul:", "did you mean 'charter.decision_rule'"]),
    ("not a charter clause", ["--levers", "partners.*.ambition=0:1"],
     ["--levers", "partners.*.ambition", "not a charter clause"]),
    ("a distribution in the scenario",
     ["--levers", "charter.business_case.savings_potential=0.05:0.2"],
     ["--levers", "charter.business_case.savings_potential", "distribution"]),
    ("the business case's target",
     ["--levers", "charter.business_case.target_net_savings_m=1:5"],
     ["--levers", "charter.business_case.target_net_savings_m", "cannot be a lever"]),
    ("empty range", ["--levers", "charter.consensus=1:0"],
     ["--levers", "charter.consensus", "the range 1 to 0 is empty"]),
    ("range outside the field's bounds", ["--levers", "charter.consensus=0:2"],
     ["--levers", "charter.consensus", "within [0, 1]"]),
    ("non-numeric range", ["--levers", "charter.consensus=a:b"],
     ["--levers", "charter.consensus", "a number, got 'a'"]),
    ("a single number", ["--levers", "charter.consensus=0.5"],
     ["--levers", "charter.consensus=0.5", "LOW:HIGH"]),
    ("a single choice", ["--levers", "charter.decision_rule=unanimity"],
     ["--levers", "charter.decision_rule=unanimity", "A|B|C"]),
    ("an unknown choice", ["--levers", "charter.decision_rule=unanimity|vote"],
     ["--levers", "charter.decision_rule", "got 'vote'"]),
    ("a number field needs a range", ["--levers", "charter.exit.penalty"],
     ["--levers", "charter.exit.penalty", "charter.exit.penalty=LOW:HIGH"]),
    ("a whole-number field, a fractional range",
     ["--levers", "charter.exit.notice_cycles=0:2.5"],
     ["--levers", "charter.exit.notice_cycles", "a whole number, got 2.5"]),
    ("a lever given twice", ["--levers", "charter.consensus,charter.consensus=0:1"],
     ["--levers", "charter.consensus: given twice"]),
    ("empty --levers", ["--levers", ""], ["--levers", "name at least one charter clause"]),
    ("neither --levers nor --design", [], ["--levers", "--design"]),
    ("both --levers and --design", ["--levers", "charter.consensus", "--design", "DESIGN"],
     ["give --levers or --design, not both"]),
]
BAD_TERMS = [
    ("budget 0", ["--levers", "charter.consensus", "--budget", "0"],
     ["--budget: 0:", "from 1 to the number of levers (1)"]),
    ("budget negative", ["--levers", "charter.consensus", "--budget", "-1"],
     ["--budget: -1:", "from 1 to the number of levers (1)"]),
    ("budget above the levers", ["--levers", "charter.consensus,charter.decision_rule",
                                 "--budget", "3"],
     ["--budget: 3:", "from 1 to the number of levers (2)"]),
    pytest.param("sign-share -0.1", ["--levers", "charter.consensus", "--sign-share", "-0.1"],
                 [SIGN_SHARE, "-0.1", "from 0 to 1"],
                 id="sign-share -0.1"),
    pytest.param("sign-share 1.5", ["--levers", "charter.consensus", "--sign-share", "1.5"],
                 [SIGN_SHARE, "1.5", "from 0 to 1"],
                 id="sign-share 1.5"),
    pytest.param("sign-share nan", ["--levers", "charter.consensus", "--sign-share", "nan"],
                 [SIGN_SHARE, "nan", "from 0 to 1"],
                 id="sign-share nan"),
    ("against a missing file", ["--levers", "charter.consensus", "--against", "IN/nope.yaml"],
     ["IN/nope.yaml", "no such file"]),
    pytest.param("against another partnership", ["--levers", "charter.consensus",
                                                 "--against", T],
                 [T, "its partners", "must be the draft's"],
                 id="against another partnership"),
    ("against malformed YAML", ["--levers", "charter.consensus", "--against", "IN/broken.yaml"],
     ["IN/broken.yaml", "not valid YAML"]),
    ("evaluations below the population",
     ["--levers", "charter.consensus", "--evaluations", "10", "--population", "20"],
     ["evaluations (10) must be at least the population (20)"]),
    ("max-replications below replications",
     ["--levers", "charter.consensus", "--max-replications", "20", "--replications", "50"],
     ["max_replications (20) must be at least replications (50)"]),
]
#: Bad design files: (id, the file's text, what the message must name besides the file).
BAD_DESIGN_FILES = [
    ("not a mapping", "- charter.consensus\n- charter.decision_rule\n", ["must be a mapping"]),
    ("an unknown key", "levers: {charter.consensus: }\nbogus: 1\n",
     ["bogus: unknown field"]),
    ("no levers", "budget: 1\nsign_share: 0.5\n", ["levers: required field is missing"]),
    ("budget 0", "levers: {charter.consensus: }\nbudget: 0\n",
     ["budget: should be greater than or equal to 1"]),
    ("sign_share 2", "levers: {charter.consensus: }\nsign_share: 2\n",
     ["sign_share: should be less than or equal to 1"]),
    pytest.param("a bad lever", "levers: {charter.consensus: {from: 0, to: 2}}\n",
                 ["charter.consensus", "within [0, 1]"],
                 id="a bad lever"),
    pytest.param("no lever at all", "levers: {}\n", ["levers", "name at least one"],
                 id="no lever at all"),
    pytest.param("budget above the levers", "levers: {charter.consensus: }\nbudget: 3\n",
                 ["budget", "from 1 to the number of levers (1)"],
                 id="budget above the levers"),
    pytest.param("against a missing file",   # resolved against the design file's folder
                 "levers: {charter.consensus: }\nagainst: [nowhere.yaml]\n",
                 ["IN/nowhere.yaml", "no such file"],
                 id="against a missing file"),
    pytest.param("against another partnership",
                 f"levers: {{charter.consensus: }}\nagainst: [{T}]\n",
                 [T, "its partners", "must be the draft's"],
                 id="against another partnership"),
]


def _inputs(tmp_path):
    """The folder the bad files live in (the design command's cwd is `tmp_path`, so that a
    default results/ folder would show up there)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.yaml").write_text("name: [unclosed\nhorizon: 10\n")
    (folder / "design.yaml").write_text("levers: {charter.decision_rule: }\n")
    return folder


def _substitute(items, folder):
    return [str(a).replace("IN/", f"{folder}/").replace("DESIGN", str(folder / "design.yaml"))
            for a in items]


def _snapshot(folder):
    """Every file and folder under `folder`, with each file's bytes."""
    return {p.relative_to(folder): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}


def _assert_refused(tmp_path, folder, before, proc, fragments, out):
    message = proc.stderr
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    for fragment in fragments:
        assert _named(fragment, message), message
    assert len(message.strip().splitlines()) <= 6, message
    assert not out.exists(), "no results folder"
    assert sorted(tmp_path.iterdir()) == [folder], "nothing written (no results/ either)"
    assert _snapshot(folder) == before, "the inputs are untouched"
    assert refused_light(proc), f"refused only after importing {heavy_imports(proc)}"


@pytest.mark.parametrize("name, args, fragments", _cases(BAD_LEVERS + BAD_TERMS))
def test_a_bad_command_line_exits_2_naming_the_option_and_writes_nothing(
        tmp_path, name, args, fragments):
    folder = _inputs(tmp_path)
    before = _snapshot(folder)
    out = tmp_path / "results" / "design"
    proc = collabsim("design", S, *_substitute(args, folder), "--out", out, "--workers", 1,
                     cwd=tmp_path, trace_imports=True)
    _assert_refused(tmp_path, folder, before, proc,
                    [_substitute([f], folder)[0] if isinstance(f, str) else f
                     for f in fragments], out)


@pytest.mark.parametrize("name, text, fragments", _cases(BAD_DESIGN_FILES))
def test_a_bad_design_file_exits_2_naming_the_file_and_the_field_and_writes_nothing(
        tmp_path, name, text, fragments):
    folder = _inputs(tmp_path)
    path = folder / "bad design.yaml"
    path.write_text(text)
    before = _snapshot(folder)
    out = tmp_path / "results" / "design"
    proc = collabsim("design", S, "--design", path, "--out", out, "--workers", 1, cwd=tmp_path,
                     trace_imports=True)
    _assert_refused(tmp_path, folder, before, proc,
                    [str(path), *_substitute(fragments, folder)], out)


@pytest.mark.parametrize("args, fragment", [
    (["--levers", "charter.decision_rul"], "did you mean 'charter.decision_rule'"),
    (["--levers", "charter.consensus", "--budget", "0"], "--budget: 0:"),
    (["--levers", "charter.consensus", "--evaluations", "10", "--population", "20"],
     "evaluations (10)"),
    (["--levers", "charter.consensus", "--against", "IN/broken.yaml"], "not valid YAML"),
    (["--design", "IN/bad.yaml"], "bogus: unknown field"),
], ids=["lever", "budget", "settings", "against", "design file"])
def test_a_pre_created_empty_out_folder_stays_empty(tmp_path, args, fragment):
    folder = _inputs(tmp_path)
    (folder / "bad.yaml").write_text("levers: {charter.consensus: }\nbogus: 1\n")
    out = tmp_path / "out"
    out.mkdir()
    proc = collabsim("design", S, *_substitute(args, folder), "--out", out, "--workers", 1,
                     cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert fragment in proc.stderr, proc.stderr
    assert list(out.iterdir()) == [], "no lock, no plan, nothing"
    assert sorted(tmp_path.iterdir()) == [folder, out]


@pytest.mark.parametrize("kind", ["a plain folder", "another kind of job", "a missing folder"])
def test_resume_refuses_a_folder_that_is_not_a_design_folder(tmp_path, kind):
    folder = tmp_path / "job"
    if kind == "a plain folder":
        folder.mkdir()
        (folder / "notes.txt").write_text("not a design")
        fragment = f"{folder}: not a design folder"
    elif kind == "another kind of job":
        folder.mkdir()
        (folder / "plan.json").write_text('{"format": 1, "kind": "sweep"}')
        fragment = f"{folder}: a sweep folder, not a design"
    else:
        fragment = f"{folder}: not a design folder"
    before = _snapshot(tmp_path)
    proc = collabsim("design", "--resume", folder, cwd=tmp_path, trace_imports=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert fragment in proc.stderr, proc.stderr
    assert _snapshot(tmp_path) == before, "nothing written"
    assert sorted(p.name for p in tmp_path.iterdir()) == (["job"] if folder.exists() else [])
    assert refused_light(proc), heavy_imports(proc)
