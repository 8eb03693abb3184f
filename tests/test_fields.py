"""The one table of scenario field paths (sim.scenario.fields): get and set by path, checked."""

import pytest
from hypothesis import given, settings, strategies as st
from pydantic import BaseModel

import sim
from sim.scenario.fields import (CHARTER_CHOICES, CHARTER_INTEGERS, CHARTER_NUMBERS, fields,
                                 sampled_paths)
from sim.scenario.schema import Charter

THREE = "scenarios/three_councils.yaml"
TYPICAL = "scenarios/typical.yaml"


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every leaf field of a pydantic model class, as dotted paths (nested models descended)."""
    out = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _leaves(ann, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_charter_clause_is_in_the_one_table():
    """Adding a clause to the charter schema without adding it to sim.scenario.fields fails here."""
    tabled = {p for p, _ in CHARTER_NUMBERS} | set(CHARTER_CHOICES) | set(CHARTER_INTEGERS)
    leaves = set(_leaves(Charter)) - {"vision", "services"}  # vision by benefit; services named
    assert leaves == tabled


def test_every_model_parameter_and_trait_has_a_path():
    sc = sim.load_scenario(THREE)
    table = fields(sc)
    for name in sim.ModelParameters.model_fields:
        assert table[f"parameters.{name}"].kind == "number"
    for who in ("*", "Northshire"):
        assert table[f"partners.{who}.ambition"].sampled
    assert table["charter.decision_rule"].choices == ("unanimity", "majority", "lead_partner")
    assert table["charter.exit.notice_cycles"].kind == "integer"
    assert table["horizon"].kind == "integer"


def test_values_of_every_kind_are_set_and_read_back():
    sc = sim.load_scenario(THREE).with_values({
        "partners.*.ambition": 0.5, "partners.Eastvale.skills": 0.9,
        "charter.decision_rule": "majority", "charter.exit.notice_cycles": 2,
        "charter.programme_team.dedicated": 0.7, "parameters.trust_memory": 0.7,
        "horizon": 12, "partner_similarity.skills": 0.4})
    assert sc.value_of("partners.*.ambition") == [0.5, 0.5, 0.5]
    assert sc.value_of("partners.Eastvale.skills") == 0.9
    assert sc.charter.decision_rule == "majority"
    assert sc.value_of("charter.exit.notice_cycles") == 2
    assert sc.value_of("charter.programme_team.dedicated") == 0.7
    assert sc.parameters.trust_memory == 0.7 and sc.horizon == 12
    assert sc.similarity("skills") == 0.4 and sc.similarity("ambition") == 0.0


def test_numpy_values_are_plain_python():
    np = pytest.importorskip("numpy")
    sc = sim.load_scenario(THREE).with_values({"charter.exit.notice_cycles": np.int64(3),
                                               "partners.*.skills": np.float64(0.25)})
    assert sc.charter.exit.notice_cycles == 3 and type(sc.charter.exit.notice_cycles) is int


def test_a_population_keeps_its_form_for_star_and_is_expanded_for_a_name():
    typical = sim.load_scenario(TYPICAL)
    star = typical.with_values({"partners.*.resourcing": {"uniform": [0.4, 0.7]}})
    assert star.population is not None
    assert star.population.traits.resourcing.bounds() == (0.4, 0.7)
    named = typical.with_values({"partners.*.resourcing": 0.6, "partners.Partner 2.skills": 0.9})
    assert named.population is None
    assert [p.resourcing for p in named.partners] == [0.6] * len(named.partners)
    assert named.partners[1].skills == 0.9
    assert named.partners[0].skills == typical.population.traits.skills


def test_a_number_set_by_path_runs_as_the_same_number_written_in_the_file():
    data = sim.load_scenario(THREE).model_dump(mode="json", exclude_none=True)
    for p in data["partners"]:
        p["ambition"] = 0.3
    data["charter"]["decision_rule"] = "majority"
    by_file = sim.scenario_from_dict(data)
    by_path = sim.load_scenario(THREE).with_values({"partners.*.ambition": 0.3,
                                                    "charter.decision_rule": "majority"})
    a = sim.run(by_file, replications=40, seed=3).outcomes
    b = sim.run(by_path, replications=40, seed=3).outcomes
    assert a.equals(b)


@pytest.mark.parametrize("values, words", [
    ({"partners.*.ambitoin": 0.5}, ["partners.*.ambitoin", "did you mean 'partners.*.ambition'"]),
    ({"partners.Northshre.skills": 0.5}, ["did you mean 'partners.Northshire.skills'"]),
    ({"charter.decision_rule": "majorty"}, ["charter.decision_rule", "'majority'"]),
    ({"charter.exit.notice_cycles": 1.5}, ["charter.exit.notice_cycles", "whole number"]),
    ({"partners.Eastvale.ambition": 1.5}, ["Eastvale", "ambition", "[0, 1]"]),
    ({"parameters.trust_memroy": 0.5}, ["did you mean 'parameters.trust_memory'"]),
    ({"charter.consensus": "high"}, ["charter.consensus", "a number"]),
    ({"horizon": True}, ["horizon", "whole number"]),
])
def test_a_wrong_path_or_value_is_the_scenarios_field_error(values, words):
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(THREE).with_values(values)
    for word in words:
        assert word in str(info.value)


def test_all_problems_are_reported_at_once():
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(THREE).with_values({"charter.decision_rule": "x", "horizon": 0.5})
    assert len(info.value.problems) == 2


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_sampled_number_set_by_path_reads_back(data):
    sc = sim.load_scenario(THREE)
    path = data.draw(st.sampled_from([p for p in sampled_paths(sc)
                                      if not p.startswith("charter.business_case.target")]))
    value = data.draw(st.floats(0.0, 1.0))
    if path.endswith("ramp_up_cycles"):
        value += 1.0
    if path.startswith("partners.") and path.endswith(".size"):
        value += 0.01
    try:
        changed = sc.with_values({path: value})
    except sim.ScenarioError as exc:   # only a cross-field rule may refuse an in-range number
        assert path.split(".")[-1] in str(exc) or "weight" in str(exc)
        return
    got = changed.value_of(path)
    got = got if not isinstance(got, list) else got[0]
    assert got == pytest.approx(value)


def test_types_of_the_table_are_known_kinds():
    for field in fields(sim.load_scenario(TYPICAL)).values():
        assert field.kind in ("number", "integer", "category")
        assert not (field.sampled and field.kind != "number")
        assert bool(field.choices) == (field.kind == "category")


@pytest.mark.parametrize("name", ["three_councils", "typical", "strong_charter", "hokey_cokey",
                                  "misaligned_vision", "under_resourced_untrained"])
def test_every_path_of_every_shipped_scenario_has_a_value(name):
    sc = sim.load_scenario(f"scenarios/{name}.yaml")
    for path, field in fields(sc).items():
        value = sc.value_of(path)
        if field.kind == "category":
            assert value in field.choices
        elif field.kind == "integer":
            assert isinstance(value, int) or isinstance(value, list)


@pytest.mark.slow
def test_the_fields_command_lists_paths_kinds_and_values(tmp_path):
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "sim.cli", "fields", THREE, "--json",
                           "--match", "charter."], capture_output=True, text=True, check=True)
    rows = {r["path"]: r for r in json.loads(done.stdout)}
    assert rows["charter.decision_rule"]["choices"] == ["unanimity", "majority", "lead_partner"]
    assert rows["charter.exit.notice_cycles"]["kind"] == "integer"
    assert all(p.startswith("charter.") or "charter." in p for p in rows)
    shown = subprocess.run([sys.executable, "-m", "sim.cli", "fields", THREE],
                           capture_output=True, text=True)
    assert shown.returncode == 0 and "parameters.trust_memory" in shown.stdout
