"""The pattern register: each statistic on hand-built tables with known answers, targets, the
shipped register, bad registers refused like bad scenarios, and evaluation (one simulation per
distinct scenario, reproducible whatever the workers, the same figures as sim.analysis.validation)."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.scenario.loading import ScenarioError
from sim.montecarlo.statistics import mean_interval, wilson_interval
from sim.analysis.patterns import Target, evaluate_register, load_register
from sim.analysis.patterns import evaluate as evaluate_module
from sim.analysis.patterns import statistics as st
from refusals import assert_refused

ROOT = Path(__file__).resolve().parent.parent
REGISTER = ROOT / "patterns" / "public_sector.yaml"
CORPUS = ROOT / "tests" / "bad_inputs" / "patterns"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())


# --- statistics on hand-built tables -----------------------------------------------------


@pytest.fixture
def outcomes():
    return pd.DataFrame({
        "delivered": [True, False, True, True],
        "exits": [0, 1, 2, 0],
        "dissolved": [False, False, True, False],
        "status": ["thriving", "stumbling", "dissolved", "thriving"],
        "break_even_cycle": [3.0, 5.0, math.nan, 4.0],
        "savings_pct": [50.0, 100.0, math.nan, 150.0],
        "first_exit_reason": ["", "benefit", "fairness", ""],
    })


def _close(estimate, value, low, high):
    assert (estimate.value, estimate.low, estimate.high) == pytest.approx((value, low, high))


def test_shares_count_runs_with_a_wilson_interval(outcomes):
    _close(st.share_delivered(outcomes), 0.75, *wilson_interval(3, 4))
    _close(st.share_any_exit(outcomes), 0.5, *wilson_interval(2, 4))
    _close(st.share_dissolved(outcomes), 0.25, *wilson_interval(1, 4))
    _close(st.share_status(outcomes, "thriving"), 0.5, *wilson_interval(2, 4))


def test_break_even_share_counts_runs_that_never_broke_even_as_not(outcomes):
    _close(st.share_break_even_by(outcomes, review=4), 0.5, *wilson_interval(2, 4))


def test_mean_is_over_the_runs_where_the_column_is_defined(outcomes):
    _close(st.mean(outcomes, "savings_pct"), 100.0, *mean_interval([50.0, 100.0, 150.0]))


def test_median_has_the_order_statistic_interval():
    table = pd.DataFrame({"v": [5.0, 1.0, 4.0, 2.0, 3.0]})
    _close(st.median(table, "v"), 3.0, 1.0, 5.0)
    big = pd.DataFrame({"v": np.arange(1.0, 101.0)})
    _close(st.median(big, "v"), 50.5, 40.0, 61.0)   # the textbook ranks for n = 100


def test_correlation_pearson_and_spearman_with_fisher_interval():
    table = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6], "y": [1, 3, 2, 5, 4, 6],
                          "cube": [1, 8, 27, 64, 125, 216], "flat": [1.0] * 6})
    r = 15.5 / 17.5
    half = 1.959963984540054 / math.sqrt(3)
    _close(st.correlation(table, "x", "y"), r, math.tanh(math.atanh(r) - half),
           math.tanh(math.atanh(r) + half))
    assert st.correlation(table, "x", "y", method="spearman").value == pytest.approx(r)
    assert st.correlation(table, "x", "cube", method="spearman").value == pytest.approx(1.0)
    assert st.correlation(table, "x", "cube").value < 1.0
    assert math.isnan(st.correlation(table, "x", "flat").value)


def test_share_ratio_compares_the_lowest_and_highest_fifths():
    by = np.arange(1.0, 11.0)   # fifths: {1, 2} and {9, 10}
    table = pd.DataFrame({"by": by, "exits": np.isin(by, [1, 2, 9]).astype(int)})
    ratio = st.share_ratio(table, "any_exit", "by", fraction=0.2)
    half = 1.959963984540054 * math.sqrt(1 / 2 - 1 / 2 + 1 - 1 / 2)
    _close(ratio, 2.0, 2.0 * math.exp(-half), 2.0 * math.exp(half))
    table["exits"] = np.isin(by, [1]).astype(int)
    assert st.share_ratio(table, "any_exit", "by").value == math.inf


def test_exit_reason_share_is_among_runs_with_an_exit(outcomes):
    _close(st.exit_reason_share(outcomes, "benefit"), 0.5, *wilson_interval(1, 2))
    assert math.isnan(st.exit_reason_share(outcomes.iloc[[0, 3]], "benefit").value)


def test_hazard_is_among_the_runs_still_at_risk():
    table = pd.DataFrame({"first_exit_cycle": [math.nan, 2, 5, 7, math.nan]})
    _close(st.hazard(table, "any_exit", (5, 6)), 0.25, *wilson_interval(1, 4))
    _close(st.hazard(table, "any_exit", (1, 10)), 0.6, *wilson_interval(3, 5))


def test_regained_share_reads_each_runs_trust_path_in_review_order():
    paths = {0: [0.5, 0.40, 0.45, 0.55],    # dips, regains
             1: [0.5, 0.44, 0.50, 0.48],    # dips, does not regain
             2: [0.5, 0.48, 0.49, 0.60]}    # no dip worth the name
    rows = [{"replication": r, "cycle": c, "mean_trust": v}
            for r, path in paths.items() for c, v in enumerate(path)]
    series = pd.DataFrame(rows).sample(frac=1, random_state=1)   # any row order
    _close(st.regained_share(series, dip=0.05, within=2), 0.5, *wilson_interval(1, 2))


def test_paired_difference_is_per_replication():
    base = pd.DataFrame({"delivered": [True, False, False, True], "exits": [0, 0, 1, 0],
                         "dissolved": [False] * 4, "net_savings_m": [1.0, 2.0, 3.0, 4.0]})
    var = pd.DataFrame({"delivered": [True, True, False, True], "exits": [0, 1, 1, 1],
                        "dissolved": [False] * 4, "net_savings_m": [2.0, 2.0, 5.0, 3.0]})
    _close(st.paired_difference(base, var), 0.25, *mean_interval([0, 1, 0, 0]))
    _close(st.paired_difference(base, var, "any_exit"), 0.5, *mean_interval([0, 1, 0, 1]))
    assert st.paired_difference(base, var, "net_savings_m", "median").value == 0.5


def test_shock_harm_and_its_late_to_early_ratio():
    def t(*delivered):
        return pd.DataFrame({"delivered": delivered})

    absent = t(True, True, True, False)
    struck = {2: t(False, True, False, False), 6: t(True, False, True, False),
              7: t(True, True, True, False)}
    _close(st.shock_harm(absent, struck, [2]), 0.5, *mean_interval([1, 0, 1, 0]))
    assert st.shock_harm(absent, struck, [6, 7]).value == pytest.approx(0.125)
    ratio = st.shock_harm_ratio(absent, struck, early=[2], late=[6, 7])
    assert ratio.value == pytest.approx(0.25) and ratio.low < 0.25 < ratio.high
    assert math.isnan(st.shock_harm_ratio(absent, struck, early=[7], late=[2]).value)


# --- targets -------------------------------------------------------------------------------


def test_bounds_are_inclusive_and_above_below_strict():
    band = Target(low=0.3, high=0.5, uncertainty=0)
    assert band.contains(0.3) and band.contains(0.5) and not band.contains(0.51)
    assert not band.contains(math.nan)
    up = Target(above=0, uncertainty=0)
    assert not up.contains(0.0) and up.contains(1e-9) and up.contains(math.inf)
    assert not Target(below=0, uncertainty=0).contains(0.0)


def test_uncertainty_widens_the_target_on_both_sides():
    assert Target(low=0.10, uncertainty=0.02).contains(0.085)
    assert not Target(low=0.10, uncertainty=0.02).contains(0.079)
    point = Target(value=0.13, uncertainty=0.05)
    assert point.contains(0.18) and point.contains(0.08) and not point.contains(0.181)
    assert point.contains_interval(0.09, 0.17) and not point.contains_interval(0.07, 0.17)


# --- the shipped register --------------------------------------------------------------------


def test_the_shipped_register_loads_with_a_source_and_role_for_every_pattern():
    register = load_register(REGISTER)
    assert register.seed == 20261122 and len(register) >= 26
    for p in register.patterns:
        assert p.spec.source.citation.strip() and p.spec.source.reading.strip(), p.name
    roles = {p.role for p in register.patterns}
    assert roles == {"calibrate", "validate"}


def test_the_shipped_register_holds_every_check_of_sim_validation():
    from sim.analysis.validation import CHECKS

    names = {p.name for p in load_register(REGISTER).patterns}
    assert {c.name for c in CHECKS} <= names


# --- bad registers ---------------------------------------------------------------------------


def test_the_bad_register_corpus_is_listed():
    files = sorted(p.name for p in CORPUS.glob("*.yaml") if p.name != "expected.yaml")
    assert files == sorted(EXPECTED) and len(files) >= 8


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_bad_register_is_refused_naming_file_and_field(name):
    assert_refused(load_register, CORPUS / name, EXPECTED[name], max_lines=8)


# --- evaluation ------------------------------------------------------------------------------


def _register(tmp_path, patterns, name="register.yaml"):
    source = {"citation": "a test", "reading": "made up for the test"}
    data = {"name": "Test", "seed": 3,
            "patterns": [{"role": "validate", "source": source, **p} for p in patterns]}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_register(path)


TEAM = {"charter.programme_team.dedicated": 0.7}


def test_patterns_sharing_a_scenario_share_its_runs(tmp_path, monkeypatch):
    register = _register(tmp_path, [
        {"name": "delivers", "scenario": "typical.yaml", "statistic": "share_delivered",
         "target": {"low": 0, "uncertainty": 0}},
        {"name": "exits", "scenario": "typical.yaml", "statistic": "share_any_exit",
         "target": {"low": 0, "uncertainty": 0}},
        {"name": "team", "scenario": "typical.yaml", "variant": {"set": TEAM},
         "statistic": "paired_difference", "target": {"above": 0, "uncertainty": 0}},
        {"name": "team exits", "scenario": "typical.yaml", "variant": {"set": TEAM},
         "statistic": {"name": "paired_difference", "outcome": "any_exit"},
         "target": {"low": -1, "uncertainty": 0}},
    ])
    seen = []
    real = sim.Executor.gather

    def spy(executor, tasks, sizes):
        seen.extend(tasks)
        return real(executor, tasks, sizes)

    monkeypatch.setattr(sim.Executor, "gather", spy)
    table = evaluate_register(register, replications=40)
    runs = {key[:-1] for key in seen}   # one chunk each at this size
    assert len(runs) == 2 and {k[0] for k in runs} == {"full", "paired"}
    assert list(table["name"]) == ["delivers", "exits", "team", "team exits"]


def test_a_paired_baseline_taken_from_the_full_run_is_the_paired_run():
    from sim.montecarlo.paired import KEPT, paired_outcomes

    register = load_register(REGISTER)
    typical = next(p for p in register.patterns if p.name == "more ambition")
    baseline, _ = paired_outcomes([typical.baseline, typical.variant], 5, 60)
    plan = evaluate_module._Plan()
    key = plan.need_full(typical.baseline)
    parts = sim.Executor().gather(*plan.tasks(5, 60))
    full = evaluate_module._Results(plan, parts).kept(key, key)
    pd.testing.assert_frame_equal(full.loc[:, list(KEPT)], baseline)


@pytest.mark.slow
def test_the_same_register_and_seed_give_the_same_table_whatever_the_workers():
    register = load_register(REGISTER)
    one = evaluate_register(register, replications=40, seed=11)
    two = evaluate_register(register, replications=40, seed=11, executor=sim.Executor(workers=2))
    pd.testing.assert_frame_equal(one, two)
    assert not one.equals(evaluate_register(register, replications=40, seed=12))


def test_parameters_apply_to_every_scenario_and_bad_ones_name_the_constant(tmp_path):
    register = _register(tmp_path, [
        {"name": "delivers", "scenario": "typical.yaml", "statistic": "share_delivered",
         "target": {"low": 0, "uncertainty": 0}}])
    default = evaluate_register(register, replications=200)
    from sim.scenario.parameters import ModelParameters

    same = evaluate_register(register, replications=200, parameters={
        "planned_capacity": ModelParameters().planned_capacity})
    pd.testing.assert_frame_equal(default, same)
    lower = evaluate_register(register, replications=200, parameters={"planned_capacity": 0.05})
    assert lower["value"][0] > default["value"][0]
    as_path = evaluate_register(register, replications=200,
                                parameters={"parameters.planned_capacity": 0.05})
    pd.testing.assert_frame_equal(lower, as_path)
    with pytest.raises(ScenarioError, match=r"parameters\.plannd_capacity.*did you mean"):
        evaluate_register(register, replications=10, parameters={"plannd_capacity": 0.05})


def test_reproduced_follows_the_target_and_clearly_reproduced_the_interval(tmp_path):
    register = _register(tmp_path, [
        {"name": "inside", "scenario": "typical.yaml", "statistic": "share_delivered",
         "target": {"low": 0.0, "high": 1.0, "uncertainty": 0}},
        {"name": "edge", "scenario": "typical.yaml", "statistic": "share_delivered",
         "target": {"value": 0.4, "uncertainty": 0.02}},
        {"name": "outside", "scenario": "typical.yaml", "statistic": "share_delivered",
         "target": {"above": 0.9, "uncertainty": 0}}])
    table = evaluate_register(register, replications=300).set_index("name")
    assert table.loc["inside", "clearly_reproduced"]
    assert not table.loc["outside", "reproduced"]
    edge = table.loc["edge"]
    assert edge["reproduced"] == (0.38 <= edge["value"] <= 0.42)
    assert not edge["clearly_reproduced"]        # 300 runs: the interval is wider than ±2 pts


VALIDATION_NAMES = {"late budget cut": "late budget cut matters",
                    "late leadership change": "late leadership change matters"}


@pytest.mark.slow
def test_the_register_gives_the_figures_of_sim_validation():
    """Where they measure the same thing, on the same seed and replications, the register's
    figures are sim.analysis.validation's (docs/PATTERNS.md against docs/VALIDATION.md)."""
    from sim.analysis import validation

    n, seed = 300, 20261122
    table = evaluate_register(load_register(REGISTER), replications=n, seed=seed)
    got = table.set_index("name")["value"]
    for check in validation.CHECKS:
        row = validation.evaluate(check, n, seed, sim.Executor())
        expected = row["p_baseline"] if math.isnan(row["difference"]) else row["difference"]
        assert got[check.name] == pytest.approx(expected, abs=1e-12), check.name
        if check.expect.startswith("at_least"):
            assert got[f"{check.name} pays for itself"] == pytest.approx(
                row["median_net_difference_m"], abs=1e-12)
    for row in validation.late_shocks(n, seed, sim.Executor()):
        ratio = got[VALIDATION_NAMES[row["pattern"]]]
        harm = got[VALIDATION_NAMES[row["pattern"]].replace("matters", "still harms")]
        assert f"({ratio:.2f} of it" in row["figure"]
        assert f"mean harm at reviews 6-8 {harm:+.1%}" in row["figure"]
    early, money, trust = validation.typical_patterns(n, seed, sim.Executor())
    assert f"{got['no early break-even']:.1%} of runs break even" in early["figure"]
    assert f"({got['money reaches behaviour']:.1f}x)" in money["figure"]
    assert f"{got['trust is rebuilt']:.1%} of those regain" in trust["figure"]
