"""sim.analysis.levers: the charter clauses a design may change, read from --levers text or a design
file, and the edit budget and sign share checked."""

import math
import typing
from pathlib import Path

import pytest

from sim.analysis.levers import (MAX_LEVERS, SHARES, Lever, check_budget, check_sign_share,
                                 levers_for, load_design_file, parse_lever_text)
from sim.scenario.loading import ScenarioError, load_scenario
from sim.scenario.schema import Charter
from refusals import assert_refused

ROOT = Path(__file__).resolve().parent.parent
DRAFT = load_scenario(ROOT / "scenarios" / "three_councils.yaml")


# --- --levers text --------------------------------------------------------------------------

def test_lever_text_reads_paths_ranges_and_values_as_a_design_file_would():
    specs = parse_lever_text(" charter.decision_rule , charter.programme_team.dedicated=0.2:0.9,"
                             "charter.exit.notice_cycles = 0 : 4,,"
                             "charter.benefit_sharing=by_size | by_contribution")
    assert specs == {"charter.decision_rule": None,
                     "charter.programme_team.dedicated": {"from": "0.2", "to": "0.9"},
                     "charter.exit.notice_cycles": {"from": "0", "to": "4"},
                     "charter.benefit_sharing": ["by_size", "by_contribution"]}
    assert list(specs) == ["charter.decision_rule", "charter.programme_team.dedicated",
                           "charter.exit.notice_cycles", "charter.benefit_sharing"]


@pytest.mark.parametrize("text, fragment", [
    ("charter.consensus,charter.consensus=0:1", "charter.consensus: given twice"),
    ("charter.consensus=0.5", "charter.consensus=0.5: give a range LOW:HIGH or values A|B|C"),
    ("", "name at least one charter clause"),
    (" , ,", "name at least one charter clause"),
])
def test_lever_text_that_says_no_range_values_or_clause_is_refused(text, fragment):
    assert_refused(lambda source: parse_lever_text(text), "--levers", [fragment], max_lines=3,
                   first=True)


# --- levers on a scenario -------------------------------------------------------------------

@pytest.mark.parametrize("path", ["charter.decision_rule", "charter.cost_sharing",
                                  "charter.benefit_sharing"])
def test_a_category_alone_gives_every_choice_in_the_schemas_order(path):
    [lever] = levers_for(DRAFT, {path: None})
    schema = typing.get_args(Charter.model_fields[path.split(".")[1]].annotation)
    assert lever == Lever(path, "values", DRAFT.value_of(path), values=schema)
    assert lever.describe() == " | ".join(schema)


@pytest.mark.parametrize("path", SHARES)
def test_a_share_alone_gives_zero_to_one(path):
    [lever] = levers_for(DRAFT, parse_lever_text(path))
    assert (lever.kind, lever.low, lever.high) == ("range", 0.0, 1.0)
    assert lever.draft == DRAFT.value_of(path)
    assert lever.describe() == "0 to 1"


def test_a_range_on_a_whole_number_field_is_every_whole_number_in_it():
    [lever] = levers_for(DRAFT, parse_lever_text("charter.exit.notice_cycles=0:4"))
    assert (lever.kind, lever.low, lever.high, lever.draft) == ("integers", 0, 4, 0)
    assert type(lever.low) is int and type(lever.high) is int
    assert lever.describe() == "0 to 4 (whole numbers)"


def test_a_range_on_a_number_field_is_continuous():
    [lever] = levers_for(DRAFT, parse_lever_text("charter.exit.penalty=0:0.5"))
    assert (lever.kind, lever.low, lever.high) == ("range", 0.0, 0.5)


def test_listed_values_are_choices_or_numbers_as_the_field_is():
    rule, penalty, notice = levers_for(DRAFT, parse_lever_text(
        "charter.decision_rule=majority|unanimity,charter.exit.penalty=0|0.5|1,"
        "charter.exit.notice_cycles=1|3"))
    assert rule == Lever("charter.decision_rule", "values", "unanimity",
                         values=("majority", "unanimity"))
    assert (penalty.kind, penalty.values) == ("values", (0.0, 0.5, 1.0))
    assert all(type(v) is float for v in penalty.values)
    assert (notice.kind, notice.values) == ("values", (1, 3))
    assert all(type(v) is int for v in notice.values)


def test_levers_keep_the_order_they_were_named_in():
    text = "charter.exit.penalty=0:1,charter.decision_rule,charter.consensus"
    assert [l.path for l in levers_for(DRAFT, parse_lever_text(text))] == text.replace(
        "=0:1", "").split(",")


@pytest.mark.parametrize("specs, fragments", [
    ({"charter.decision_rul": None}, ["did you mean 'charter.decision_rule'"]),
    ({"partners.*.ambition": {"from": 0, "to": 1}}, ["not a charter clause"]),
    ({"charter.business_case.savings_potential": {"from": 0, "to": 0.2}}, ["distribution"]),
    ({"charter.business_case.target_net_savings_m": {"from": 1, "to": 5}},
     ["cannot be a lever"]),
    ({"charter.programme_team.team_cost_m": {"from": 0, "to": 1}},
     ["the price of a dedicated team is an estimate of the world"]),
    ({"charter.programme_team.training_cost_m": {"from": 0, "to": 1}},
     ["the price of training"]),
    ({"charter.consensus": {"from": 1, "to": 0}}, ["the range 1 to 0 is empty"]),
    ({"charter.consensus": {"from": 0, "to": 2}}, ["within [0, 1]"]),
    ({"charter.consensus": {"from": "a", "to": "b"}}, ["from: a number, got 'a'"]),
    ({"charter.consensus": {"from": math.nan, "to": 1}}, ["from: a finite number"]),
    ({"charter.consensus": {"from": True, "to": 1}}, ["from: a number, got True"]),
    ({"charter.consensus": {"from": 0}}, ["a range is {from: LOW, to: HIGH}"]),
    ({"charter.consensus": ["0.5"]}, ["one value is not a choice"]),
    ({"charter.consensus": [0.5, 0.5]}, ["a value is listed twice"]),
    ({"charter.consensus": True}, ["expected nothing, a range"]),
    ({"charter.decision_rule": ["unanimity", "vote"]}, ["got 'vote'"]),
    ({"charter.decision_rule": {"from": 0, "to": 1}}, ["list the choices (A|B), not a range"]),
    ({"charter.exit.penalty": None}, ["charter.exit.penalty=LOW:HIGH"]),
    ({"charter.exit.notice_cycles": {"from": 0, "to": 2.5}}, ["a whole number, got 2.5"]),
    ({"charter.exit.notice_cycles": {"from": 0, "to": 200}}, ["less than or equal to 100"]),
    ({"charter.exit.notice_cycles": list(range(101))}, ["101 values: at most 100"]),
    ({}, ["name at least one charter clause"]),
    ({f"charter.x{i}": None for i in range(MAX_LEVERS + 1)}, [f"at most {MAX_LEVERS}"]),
])
def test_a_bad_lever_is_refused_naming_its_source_and_the_clause(specs, fragments):
    path = next(iter(specs), "")
    assert_refused(lambda source: levers_for(DRAFT, specs, source), "design.yaml",
                   [path, *fragments], max_lines=20, first=True)


def test_every_bad_lever_is_reported_together():
    with pytest.raises(ScenarioError) as info:
        levers_for(DRAFT, parse_lever_text("charter.decision_rul,charter.consensus=0:2"))
    message = str(info.value)
    assert "2 problems" in message and "charter.decision_rul" in message \
        and "within [0, 1]" in message


# --- budget and sign share ------------------------------------------------------------------

TWO = levers_for(DRAFT, parse_lever_text("charter.decision_rule,charter.consensus"))


@pytest.mark.parametrize("budget", [None, 1, 2])
def test_a_budget_from_one_to_the_number_of_levers_is_accepted(budget):
    assert check_budget(budget, TWO) is None


@pytest.mark.parametrize("budget", [0, -1, 3, True, 1.5, "1"])
def test_any_other_budget_is_refused_naming_its_source(budget):
    assert_refused(lambda source: check_budget(budget, TWO, source), "--budget",
                   [f"{budget!r}:", "from 1 to the number of levers (2)"], max_lines=2,
                   first=True)


@pytest.mark.parametrize("share", [0, 0.5, 1, 1.0])
def test_a_sign_share_from_zero_to_one_is_accepted_as_a_float(share):
    assert check_sign_share(share) == share and type(check_sign_share(share)) is float


@pytest.mark.parametrize("share", [-0.1, 1.5, math.nan, math.inf, True, "0.5", None])
def test_any_other_sign_share_is_refused_naming_its_source(share):
    assert_refused(lambda source: check_sign_share(share, source), "--sign-share",
                   [f"{share!r}: a share of futures, from 0 to 1"], max_lines=2, first=True)


# --- design files ---------------------------------------------------------------------------

def test_a_design_file_gives_ranges_lists_and_defaults_and_its_terms(tmp_path):
    path = tmp_path / "design.yaml"
    path.write_text("levers:\n"
                    "  charter.decision_rule: [majority, unanimity]\n"
                    "  charter.programme_team.dedicated: {from: 0.1, to: 0.8}\n"
                    "  charter.exit.notice_cycles: {from: 0, to: 3}\n"
                    "  charter.consensus:\n"
                    "  charter.benefit_sharing: null\n"
                    "budget: 2\n"
                    "sign_share: 0.6\n")
    design = load_design_file(path)
    assert design.levers == {"charter.decision_rule": ["majority", "unanimity"],
                             "charter.programme_team.dedicated": {"from": 0.1, "to": 0.8},
                             "charter.exit.notice_cycles": {"from": 0, "to": 3},
                             "charter.consensus": None, "charter.benefit_sharing": None}
    assert (design.budget, design.sign_share, design.against) == (2, 0.6, ())
    assert design.text == path.read_text()
    rule, team, notice, consensus, sharing = levers_for(DRAFT, design.levers, str(path))
    assert rule.values == ("majority", "unanimity")
    assert (team.kind, team.low, team.high) == ("range", 0.1, 0.8)
    assert (notice.kind, notice.low, notice.high) == ("integers", 0, 3)
    assert (consensus.kind, consensus.low, consensus.high) == ("range", 0.0, 1.0)
    assert sharing.values == ("equal", "by_size", "by_contribution")
    check_budget(design.budget, [rule, team, notice, consensus, sharing], str(path))


def test_a_design_files_terms_are_optional(tmp_path):
    path = tmp_path / "design.yaml"
    path.write_text("levers: {charter.decision_rule: }\n")
    design = load_design_file(path)
    assert (design.budget, design.sign_share, design.against) == (None, None, ())


def test_against_is_relative_to_the_design_files_folder_not_the_working_folder(
        tmp_path, monkeypatch):
    folder = tmp_path / "designs"
    folder.mkdir()
    (tmp_path / "mine.yaml").write_text((ROOT / "scenarios" / "strong_charter.yaml").read_text())
    path = folder / "design.yaml"
    strong = ROOT / "scenarios" / "strong_charter.yaml"
    path.write_text(f"levers: {{charter.decision_rule: }}\nagainst: [../mine.yaml, {strong}]\n")
    monkeypatch.chdir(ROOT)   # where ../mine.yaml is not
    mine, absolute = load_design_file(path).against
    assert Path(mine).resolve() == (tmp_path / "mine.yaml").resolve() and Path(mine).is_file()
    assert Path(absolute) == strong
    path.write_text("levers: {charter.decision_rule: }\nagainst: ../mine.yaml\n")   # one, alone
    [mine] = load_design_file(path).against
    assert Path(mine).resolve() == (tmp_path / "mine.yaml").resolve()
    relative = Path("designs") / "design.yaml"                      # the file named relatively
    monkeypatch.chdir(tmp_path)
    [mine] = load_design_file(relative).against
    assert Path(mine).resolve() == (tmp_path / "mine.yaml").resolve()


@pytest.mark.parametrize("text, fragments", [
    ("- charter.consensus\n", ["must be a mapping"]),
    ("42\n", ["mapping"]),
    ("levers: {charter.consensus: }\nbogus: 1\n", ["bogus: unknown field"]),
    ("budget: 1\n", ["levers: required field is missing"]),
    ("levers: [charter.consensus]\n", ["levers: should be a valid dictionary"]),
    ("levers: {charter.consensus: }\nbudget: 0\n", ["budget: should be greater than or equal"]),
    ("levers: {charter.consensus: }\nbudget: two\n", ["budget: should be an integer"]),
    ("levers: {charter.consensus: }\nsign_share: 2\n", ["sign_share: should be less than"]),
    ("levers: {charter.consensus: }\nsign_share: -0.5\n", ["sign_share: should be greater"]),
    ("levers: {charter.consensus: , charter.consensus: }\n", ["duplicate key"]),
    ("levers: {1: }\n", ["keys must be text"]),
    ("levers: {charter.consensus: }\nagainst: 3\n", ["against"]),
    ("levers: [unclosed\n", ["not valid YAML"]),
    ("", ["empty"]),
])
def test_a_bad_design_file_is_refused_naming_the_file_and_the_field(tmp_path, text, fragments):
    path = tmp_path / "design.yaml"
    path.write_text(text)
    assert_refused(load_design_file, path, fragments, max_lines=6, first=True)


def test_a_missing_design_file_is_named(tmp_path):
    assert_refused(load_design_file, tmp_path / "nope.yaml", ["no such file"], max_lines=2,
                   first=True)
