"""Charter design (`collabsim design`, sim.design_charter): it finds a charter that is best by
construction, respects the budget and the partners' signatures, judges every charter on the
draft's futures and target, gives the same answer whatever the workers, and resumes exactly."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from commandline import collabsim
import sim
from sim.analysis.charter_design import epsilon_thin, nondominated
from sim.analysis.charter_futures import charter_futures, draft_targets
from sim.montecarlo.paired import layout_of

ROOT = Path(__file__).resolve().parents[1]
THREE = ROOT / "scenarios" / "three_councils.yaml"
STRONG = ROOT / "scenarios" / "strong_charter.yaml"
#: A design small enough for a test: two searches, few charters and futures.
SMALL = dict(seeds=2, population=8, evaluations=48, replications=20, max_replications=40,
             final_replications=200, bootstrap=40)
SMALL_ARGS = ["--seeds", "2", "--population", "8", "--evaluations", "48", "--replications", "20",
              "--max-replications", "40", "--final-replications", "200"]
LEVERS = "charter.decision_rule,charter.programme_team.training,charter.exit.notice_cycles=0:3"


# --- a charter that is best by construction is found ---------------------------------------


@pytest.fixture(scope="module")
def lopsided():
    """Three councils where one is ten times the others' size, and a dedicated team and
    training cost nothing. By construction the best charter has a fully dedicated team and
    everyone trained (each lifts every partner's resourcing or skills, at no cost), and shares
    costs by size: shared equally, the two small councils would pay a third of the costs each
    for a twelfth of the savings, and be worse off than staying out in many futures."""
    return sim.load_scenario(THREE).with_values({
        "partners.Northshire.size": 10.0, "partners.Eastvale.size": 1.0,
        "partners.Southmoor.size": 1.0, "charter.programme_team.team_cost_m": 0.0,
        "charter.programme_team.training_cost_m": 0.0})


def test_equal_cost_sharing_would_not_be_signed_by_the_small_councils(lopsided):
    equal = lopsided.with_values({"charter.cost_sharing": "equal",
                                  "charter.programme_team.dedicated": 1.0,
                                  "charter.programme_team.training": 1.0})
    layout = layout_of([lopsided])
    targets = draft_targets(lopsided, 7, 0, 400, layout)
    money = charter_futures(equal, 7, 0, 400, layout, targets)["money"]
    assert (money[:, 1:] > 0).mean(axis=0).max() < 0.75 and (money[:, 0] > 0).mean() > 0.9


@pytest.mark.slow
def test_the_charter_that_is_best_by_construction_is_found(lopsided):
    result = sim.design_charter(
        lopsided, "charter.cost_sharing,charter.benefit_sharing=by_size|by_contribution,"
        "charter.programme_team.dedicated,charter.programme_team.training", sign_share=0.9,
        seeds=1, evaluations=200, replications=50, max_replications=200,
        final_replications=500)
    best = result.recommended
    assert len(best) >= 1 and best["signs"].all()
    assert (best["charter.programme_team.dedicated"] >= 0.9).all()
    assert (best["charter.programme_team.training"] >= 0.9).all()
    assert (best["charter.cost_sharing"] == "by_size").all()
    evaluated = result.searches[0].evaluated
    assert not evaluated.loc[evaluated["charter.cost_sharing"] == "equal", "signs"].any()
    draft = result.table[result.table["kind"] == "draft"].iloc[0]
    assert (best["p_deliver"] > draft.p_deliver + 0.2).all()
    assert any("costs nothing" in note for note in result.notes)   # free levers are named


# --- the search's rules ------------------------------------------------------------------


points = st.lists(st.tuples(st.floats(0, 1), st.floats(-5, 5), st.floats(0, 3), st.booleans()),
                  min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(points)
def test_the_front_holds_exactly_the_signed_charters_nothing_dominates(rows):
    x = np.array([r[:3] for r in rows], float)
    ok = np.array([r[3] for r in rows])
    front = nondominated(x, ok)
    better = x * np.array([1, 1, -1])

    def dominates(a, b):
        return (better[a] >= better[b]).all() and (better[a] > better[b]).any()

    for i in range(len(x)):
        beaten = any(ok[j] and dominates(j, i) for j in range(len(x)))
        assert front[i] == (ok[i] and not beaten)
    kept = epsilon_thin(x, ok, [0.05, 0.1, 0.1])
    assert kept.any() == ok.any() and not (kept & ~ok).any()


def test_every_charter_is_judged_on_the_drafts_own_futures():
    """Replication r of any candidate is `collabsim run`'s replication r with the charter
    changed: the draft's futures are exactly the run's."""
    draft = sim.load_scenario(THREE)
    layout = layout_of([draft])
    targets = draft_targets(draft, 7, 0, 300, layout)
    mine = charter_futures(draft, 7, 0, 300, layout, targets)
    run = sim.run(draft, replications=300, seed=7).outcomes
    assert np.array_equal(mine["delivered"], run["delivered"].to_numpy(bool))
    np.testing.assert_allclose(mine["net"], run["net_savings_m"].to_numpy(float), rtol=1e-12)
    np.testing.assert_allclose(targets, run["target_net_savings_m"].to_numpy(float))


@pytest.mark.slow
def test_a_budget_keeps_every_charter_within_k_changes_of_the_draft():
    result = sim.design_charter(THREE, LEVERS + ",charter.benefit_sharing", budget=1, **SMALL)
    found = result.table[result.table["kind"] == "found"]
    assert len(found) and (found["clauses_changed"] <= 1).all()
    evaluated = pd.concat([s.evaluated for s in result.searches])
    paths = [l.path for l in result.levers]
    changed = sum((evaluated[p] != result.scenario.value_of(p)) for p in paths)
    assert (changed[evaluated["within_budget"]] <= 1).all() and (changed > 1).any()
    assert not found["within_budget"].eq(False).any()
    assert (evaluated["charter.decision_rule"].isin(["unanimity", "majority",
                                                     "lead_partner"])).all()   # names


# --- same answer whatever the workers; resumed exactly --------------------------------------


@pytest.fixture(scope="module")
def small_design():
    return sim.design_charter(THREE, LEVERS, against=[STRONG], **SMALL)


@pytest.mark.slow
def test_a_design_is_a_result_like_every_other_and_saves_as_collabsim_design_saves_it(
        small_design, tmp_path):
    assert isinstance(small_design.message, str) and small_design.message
    assert small_design.settings["seed"] == sim.load_scenario(THREE).seed
    assert set(small_design.tables) == {"charters", "failures", "convergence", "hypervolume",
                                        "evaluated", "rounds"}
    folder = sim.save(small_design, tmp_path / "design", source=str(THREE),
                      files={"design.yaml": "levers: {}\n"})
    assert {p.stem for p in folder.glob("*.parquet")} == set(small_design.tables)
    assert (folder / "design.yaml").read_text() == "levers: {}\n"
    assert json.loads((folder / "manifest.json").read_text())["kind"] == "design"


@pytest.mark.slow
def test_the_answer_is_the_same_whatever_the_workers(small_design, tmp_path):
    again = sim.design_charter(THREE, LEVERS, against=[STRONG],
                               executor=sim.Executor(workers=2),
                               folder=tmp_path / "work", **SMALL)
    pd.testing.assert_frame_equal(small_design.table, again.table)
    pd.testing.assert_frame_equal(small_design.failures, again.failures)
    # run again on the saved futures: nothing is simulated, and nothing changes
    third = sim.design_charter(THREE, LEVERS, against=[STRONG], folder=tmp_path / "work",
                               **SMALL)
    assert sum(s.simulated for s in third.searches) == 0
    pd.testing.assert_frame_equal(small_design.table, third.table)
    pd.testing.assert_frame_equal(small_design.convergence, third.convergence)


@pytest.mark.slow
def test_the_table_compares_like_with_like(small_design):
    t = small_design.table
    assert list(t["kind"][:2]) == ["draft", "against"] and t["charter"][1] == "strong_charter"
    assert "clauses that are not levers" in t["changed"][1]
    draft = t.iloc[0]
    found = t[t["kind"] == "found"]
    np.testing.assert_allclose(found["vs draft: p_deliver"],
                               found["p_deliver"] - draft.p_deliver, atol=1e-12)
    assert set(found["found_by_seeds"]) <= {"1", "2", "1,2"}
    assert small_design.convergence["share_of_pooled"].between(0, 1 + 1e-9).all()
    assert "strong_charter" in small_design.message


#: A design through the command: categorical levers (text, hashed differently in every Python
#: process), a number and a whole number, and a charter to compare with.
COMMAND = ["design", THREE, "--levers", "charter.decision_rule,charter.benefit_sharing,"
           "charter.programme_team.training,charter.exit.notice_cycles=0:3", "--against", STRONG,
           *SMALL_ARGS, "--evaluations", "80"]


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """The command's folder, run start to end in a process with hash seed 1."""
    out = tmp_path_factory.mktemp("design") / "whole"
    done = collabsim(*COMMAND, "--out", out, "--json", env={"PYTHONHASHSEED": "1"})
    assert done.returncode == 0, done.stderr
    return out, done


@pytest.mark.slow
def test_the_command_writes_a_folder_json_and_a_report(whole):
    out, done = whole
    summary = json.loads(done.stdout)
    assert summary["results"] == str(out) and summary["charters"][0]["charter"] == "draft"
    assert summary["message"].startswith(("1 charter", "2 charters", "3 charters", "Keep"))
    for name in ("charters", "failures", "convergence", "hypervolume", "evaluated", "rounds"):
        assert (out / f"{name}.parquet").is_file(), name
    for name in ("tradeoff", "parallel", "convergence"):
        assert (out / f"{name}.png").is_file(), name
    assert not (out / "work").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"].startswith("collabsim design") and manifest["kind"] == "design"
    again = collabsim("design", "--resume", out)
    assert again.returncode == 0 and "already complete" in again.stderr
    assert summary["message"] in " ".join(again.stdout.split())     # printed as well
    report = collabsim("report", out)
    assert report.returncode == 0, report.stderr
    assert "Charter design" in (out / "report.html").read_text()


@pytest.mark.slow
def test_killed_and_resumed_in_other_processes_it_ends_identical(whole, tmp_path):
    """Killed at a random moment in a process with hash seed 2 and resumed in one with hash
    seed 3, it ends as the whole run ended: neither the interruption nor the processes' text
    hashing (a categorical lever reaches platypus as indices, see sim.analysis.charter_design) shows."""
    cut = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", *map(str, COMMAND), "--out",
                             str(cut)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "PYTHONHASHSEED": "2"})
    deadline = time.time() + 120
    while time.time() < deadline and len(list(cut.glob("work/seed-0/batch-*.npz"))) < 4:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (cut / "manifest.json").exists() and list(cut.glob("work/seed-0/batch-*.npz"))
    done = collabsim("design", "--resume", cut, env={"PYTHONHASHSEED": "3"})
    assert done.returncode == 0, done.stderr
    for name in ("charters", "evaluated", "rounds", "failures", "convergence", "hypervolume"):
        pd.testing.assert_frame_equal(pd.read_parquet(whole[0] / f"{name}.parquet"),
                                      pd.read_parquet(cut / f"{name}.parquet"))


def test_design_search_md_reads_the_shipped_folder():
    """Every figure docs/DESIGN-SEARCH.md states about the three councils is the shipped
    folder's (designs/three_councils/), and its command is the folder's own."""
    from sim.results.design import markdown

    folder = ROOT / "designs" / "three_councils"
    page = (ROOT / "docs" / "DESIGN-SEARCH.md").read_text()
    text = " ".join(page.split())
    assert [ln for ln in markdown(folder).splitlines() if ln not in page] == []
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["command"] + " --out designs/three_councils" in page
    t = pd.read_parquet(folder / "charters.parquet").set_index("charter")
    c1 = t.loc["C1"]
    assert c1["recommended"] and t["recommended"].sum() == 1 and c1["beats strong_charter"]
    assert (f"by {c1['vs strong_charter: p_deliver'] * 100:+.1f} points "
            f"({c1['vs strong_charter: p_deliver_low'] * 100:+.1f} to "
            f"{c1['vs strong_charter: p_deliver_high'] * 100:+.1f}, paired) at higher net "
            f"savings (+£{c1['vs strong_charter: net_savings_m']:.2f}m), with "
            f"{['no', 'one', 'two', 'three', 'four', 'five'][c1['clauses_changed']]} of the "
            "five clauses") in text
    assert c1["vs strong_charter: net_savings_m"] > 0 and c1["charter.benefit_sharing"] == \
        "by_size" and round(c1["charter.programme_team.dedicated"], 1) == 0.1
    found = t[t["kind"] == "found"]
    assert ("consensus " + ", ".join(f"{v:.2f}" for v in found["charter.consensus"][:-1])
            + f" and {found['charter.consensus'].iloc[-1]:.2f}") in text
    spread = 100 * (found["p_deliver"].max() - found["p_deliver"].min())
    assert spread <= 0.3 + 1e-9 and "within 0.3 points" in text
    off = min(t[c].min() for c in t.columns if c.startswith("better_off: "))
    assert off >= 0.995 and "at least 99.5% of futures" in text
    shares = pd.read_parquet(folder / "convergence.parquet")["share_of_pooled"]
    assert "reaches " + ", ".join(f"{s:.0%}" for s in shares[:-1]) + \
        f" and {shares.iloc[-1]:.0%} of the pooled" in text
    fails = pd.read_parquet(folder / "failures.parquet").set_index("charter")
    assert f"Where C1 fails** ({fails.loc['C1', 'fails']:.1%} of futures)" in text
    assert f"({fails.loc['C1', 'coverage']:.0%} of its failures fall there)" in text
    assert ("savings potential at most 0.0967 and implementation cost at least £1.7m"
            in text and fails.loc["C1", "conditions"] == "charter.business_case."
            "savings_potential <= 0.0967 AND charter.business_case.implementation_cost_m >= 1.7")
    assert (f"The draft fails in {fails.loc['draft', 'fails']:.1%}, "
            f"{fails.loc['draft', 'coverage']:.0%} of its failures where savings potential is "
            "at most 0.105") in text
    assert fails.loc["draft", "conditions"] == "charter.business_case.savings_potential <= 0.105"


@pytest.mark.slow
def test_the_search_neither_moves_nor_is_moved_by_the_callers_random_numbers():
    import random

    settings = dict(SMALL, seeds=1, evaluations=16)
    sim.design_charter(THREE, LEVERS, **settings)         # what it imports is imported
    random.seed(11)
    first = sim.design_charter(THREE, LEVERS, **settings)
    after = random.random()
    random.seed(11)
    assert random.random() == after                       # the caller's stream is untouched
    random.seed(99)                                       # and the search ignores it
    again = sim.design_charter(THREE, LEVERS, **settings)
    pd.testing.assert_frame_equal(first.table, again.table)


def test_performance_md_counts_the_shipped_designs_runs():
    folder = ROOT / "designs" / "three_councils"
    c = pd.read_parquet(folder / "convergence.parquet")
    manifest = json.loads((folder / "manifest.json").read_text())
    first = int(c["evaluated"].sum()) * manifest["settings"]["replications"]
    runs = int(c["runs"].sum())
    fresh = manifest["settings"]["final_replications"] * len(manifest["summary"]["charters"])
    text = " ".join((ROOT / "docs" / "PERFORMANCE.md").read_text().split())
    assert (f"| 5 | {len(c)} | {int(c['evaluated'].sum()):,} | {runs + fresh:,} |" in text)
    assert (f"Of the searches' {runs:,} runs, {first:,} were each charter's first 100 futures "
            f"and {runs - first:,} the extra futures") in text


@pytest.mark.slow
def test_saved_futures_of_another_design_are_refused_never_mixed(tmp_path):
    settings = dict(SMALL, seeds=1, evaluations=16)
    sim.design_charter(THREE, LEVERS, folder=tmp_path, **settings)
    with pytest.raises(ValueError, match="belong to a different design"):
        sim.design_charter(THREE, LEVERS, folder=tmp_path, seed=8, **settings)


# --- what a review found: each once a crash, a hang or a misleading answer -------------------

TINY = dict(SMALL, seeds=1, evaluations=16)


@pytest.mark.slow
def test_when_no_charter_is_signed_it_says_so():
    result = sim.design_charter(THREE, LEVERS, sign_share=1.0, **TINY)
    assert result.recommended.empty and "No charter on the table is one every partner" in \
        result.message


@pytest.mark.slow
def test_a_draft_outside_a_levers_range_is_simply_not_in_the_space():
    """(Once a hang: platypus gray-codes a whole number below its range forever.)"""
    days = sim.design_charter(THREE, "charter.exit.notice_cycles=2:4", **TINY)
    assert days.searches[0].evaluated["charter.exit.notice_cycles"].between(2, 4).all()
    rules = sim.design_charter(THREE, "charter.decision_rule=majority|lead_partner", **TINY)
    assert set(rules.searches[0].evaluated["charter.decision_rule"]) <= {"majority",
                                                                          "lead_partner"}


def test_a_change_no_bigger_than_the_resolution_keeps_the_draft():
    result = sim.design_charter(THREE, "charter.penalties.rate=0|0.5", **TINY)
    assert result.message.startswith("Keep the draft") and result.table["recommended"][0]
    assert not (result.table["kind"].eq("found") & result.table["changed"].eq("(as drafted)")).any()


@pytest.mark.slow
def test_a_charter_to_compare_with_must_live_in_the_same_world():
    three = sim.load_scenario(THREE)
    rich = three.with_values({"charter.business_case.savings_potential": 0.3})
    with pytest.raises(sim.ScenarioError, match="its business case must be the draft's"):
        sim.design_charter(THREE, "charter.decision_rule", against={"rich": rich}, **TINY)
    uncertain = three.with_values({"charter.consensus": {"uniform": [0.2, 0.9]}})
    table = sim.design_charter(THREE, "charter.consensus", against={"unsure": uncertain},
                               **TINY).table.set_index("charter")
    assert "consensus: uniform=(0.2, 0.9)" in table.loc["unsure", "changed"]   # not a crash


@pytest.mark.slow
def test_saved_fresh_futures_of_other_charters_to_compare_with_are_refused(tmp_path):
    three = sim.load_scenario(THREE)
    sim.design_charter(THREE, "charter.decision_rule", against={"rival": STRONG},
                       folder=tmp_path, **TINY)
    with pytest.raises(ValueError, match="belong to a different design"):
        sim.design_charter(THREE, "charter.decision_rule", folder=tmp_path, **TINY,
                           against={"rival": three.with_values({"charter.consensus": 0.3})})


@pytest.mark.slow
def test_a_charter_kept_off_the_front_that_beats_the_answer_is_named():
    result = sim.design_charter(THREE, LEVERS, budget=1, against=[STRONG], **TINY)
    t = result.table.set_index("charter")
    assert not t.loc["strong_charter", "within_budget"]
    assert "strong_charter beats" in result.message and "outside the budget" in result.message
