"""Sensitivity sweeps and two-factor maps: SALib's methods on the vectorised engine, factors
addressed by path, reproducible whatever the workers, bad factors refused clearly."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from commandline import collabsim
import sim
from sim.analysis.maps import grid, outcome_function
from sim.analysis.sensitivity import (METHODS, OUTPUTS, FactorError, FactorSpec, sweep,
                                      sweep_factors)

ROOT = Path(__file__).resolve().parent.parent
COUNCILS = ROOT / "scenarios" / "three_councils.yaml"
TYPICAL = ROOT / "scenarios" / "typical.yaml"


@pytest.fixture(scope="module")
def sobol():
    # three_councils has no penalties (call_out 0), so the penalty rate provably cannot matter
    return sweep(COUNCILS, "sobol", samples=256, replications=32, seed=3,
                 factors=["charter.penalties.rate=0:1"])


@pytest.mark.slow
def test_a_factor_the_outcome_ignores_has_total_index_near_zero(sobol):
    frame = sobol.indices.set_index("factor")
    assert sim.load_scenario(COUNCILS).charter.penalties.call_out == 0
    ignored = frame.loc["charter.penalties.rate", "ST"]
    top = frame["ST"].max()
    assert ignored < 0.03 and ignored < top / 20
    assert frame.index[0] == "charter.business_case.savings_potential"


@pytest.mark.slow
def test_the_sweep_does_not_depend_on_the_number_of_workers(sobol):
    again = sweep(COUNCILS, "sobol", samples=256, replications=32, seed=3,
                  factors=["charter.penalties.rate=0:1"], executor=sim.Executor(workers=2))
    pd.testing.assert_frame_equal(sobol.design, again.design)
    pd.testing.assert_frame_equal(sobol.indices, again.indices)


def test_the_design_holds_every_point_and_its_outputs(sobol):
    d = sobol.design
    D = len(sobol.factors.names)
    assert len(d) == 256 * (D + 2)
    assert d["p_deliver"].between(0, 1).all()
    assert sobol.problem.samples.shape == (len(d), D)


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_every_method_ranks_the_factors(method):
    n = 65 if method == "fast" else 32
    result = sweep(COUNCILS, method, samples=n, replications=8, seed=1,
                   outputs=("p_deliver", "mean_savings_pct"))
    for output in ("p_deliver", "mean_savings_pct"):
        frame = result.indices[result.indices["output"] == output]
        assert set(frame["factor"]) == set(sweep_factors(COUNCILS).factor_names)
        assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert set(result.adequacy) == {"p_deliver", "mean_savings_pct"}


def test_population_traits_and_star_paths_are_grouped_factors():
    f = sweep_factors(TYPICAL)
    assert "partners.*.ambition" in f.factor_names
    assert not any(n.startswith("partners.Partner 1.") for n in f.factor_names)
    g = sweep_factors(COUNCILS, [FactorSpec.parse("partners.*.skills=0.1:0.6")])
    assert g.groups.count("partners.*.skills") == 3


def test_a_sweep_with_too_few_samples_says_how_many_to_use():
    result = sweep(COUNCILS, "sobol", samples=16, replications=4, seed=2)
    a = result.adequacy["p_deliver"]
    assert a["checked"] and not a["adequate"] and a["suggested_samples"] > 16
    # the verdict in words, the same for a notebook as for the command line
    assert result.large_enough("p_deliver") is False
    verdict = result.verdict("p_deliver")
    assert f"widest ± {a['widest_half_width']:.3f}, for {a['widest_factor']}" in verdict
    assert f"about {a['suggested_samples']} samples would do" in verdict
    assert result.large_enough("median_savings_pct") is None
    assert "not analysed" in result.verdict("median_savings_pct")


def test_the_verdict_says_when_the_sample_is_large_enough_and_when_it_cannot_judge(sobol):
    a = sobol.adequacy["p_deliver"]
    assert sobol.large_enough("p_deliver") is a["adequate"]
    assert sobol.verdict("p_deliver").startswith(
        "sample size: large enough to rank" if a["adequate"] else
        ("the leading factor is clear, but " if a["leader_clear"] else "the 95% CIs"))
    pawn = sweep(COUNCILS, "pawn", samples=32, replications=4, seed=2)   # no intervals
    assert pawn.large_enough("p_deliver") is None
    assert pawn.verdict("p_deliver") == "sample size: not checked (pawn gives no confidence " \
        "intervals)"


@pytest.mark.parametrize("text, message", [
    ("partners.Northshire.ambtion=0:1", "did you mean 'partners.Northshire.ambition'"),
    ("charter.nonsense=0:1", "not a numeric field"),
    ("partners.Northshire.ambition", "PATH=LOW:HIGH"),
    ("partners.Northshire.ambition=0.9:0.1", "LOW <= HIGH"),
    ("partners.Northshire.ambition=a:b", "numbers"),
])
def test_bad_factors_are_refused_with_the_reason(text, message):
    with pytest.raises(FactorError, match=message):
        sweep(COUNCILS, samples=8, replications=2, factors=[text])


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (("--factor", "partners.Northshire.ambtion=0:1"), "did you mean"),
    (("--factor", "partners.Northshire.ambition=0:2"), "ambition"),
    (("--method", "anova"), "--method anova"),
    (("--output", "happiness"), "outputs must be among"),
])
def test_bad_sweeps_exit_2_without_a_traceback(tmp_path, args, message):
    proc = collabsim("sweep", COUNCILS, "-N", 8, "-n", 2, "--out", tmp_path / "s", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_the_sweep_command_prints_json_and_saves_everything(tmp_path):
    out = tmp_path / "s"
    proc = collabsim("sweep", COUNCILS, "--method", "morris", "-N", 8, "-n", 4,
                     "--factor", "partners.*.resourcing=0.1:0.6", "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {row["factor"] for row in data["indices"]} >= {"partners.*.resourcing"}
    for name in ("indices.parquet", "indices.csv", "design.parquet", "indices-p_deliver.png",
                 "manifest.json"):
        assert (out / name).stat().st_size > 0, name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and "--factor" in manifest["command"]
    assert len(pd.read_parquet(out / "design.parquet")) == data["settings"]["points"]


def test_a_grid_maps_an_outcome_over_two_inputs():
    result = grid(COUNCILS, "charter.programme_team.dedicated=0:1",
                  "charter.programme_team.training=0:1", steps=2, replications=300, seed=4)
    m = result.matrix()
    assert m.shape == (2, 2) and m.to_numpy().min() >= 0 and m.to_numpy().max() <= 1
    assert m.loc[1.0, 1.0] > m.loc[0.0, 0.0]  # a dedicated, trained team helps (VALIDATION)


@pytest.mark.slow
def test_the_grid_command_draws_the_heat_map(tmp_path):
    proc = collabsim("grid", COUNCILS, "--x", "partners.*.resourcing=0.1:0.6",
                     "--y", "partners.*.ambition=0.2:0.8", "--steps", 3, "-n", 20,
                     "--out", tmp_path / "g")
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_csv(tmp_path / "g" / "grid.csv")) == 9
    assert (tmp_path / "g" / "grid-p_deliver.png").read_bytes()[:4] == b"\x89PNG"
    bad = collabsim("grid", COUNCILS, "--x", "partners.*.resourcing=0.1:0.6",
                    "--y", "partners.*.resourcing=0.2:0.8", "--out", tmp_path / "h")
    assert bad.returncode == 2 and "both" in bad.stderr


def test_the_model_is_a_function_of_named_inputs():
    f = outcome_function(COUNCILS, replications=64)
    base = f()
    assert set(base) == set(OUTPUTS)
    assert f() == base, "calls share their replication streams"
    low = f(**{"partners.Northshire.ambition": 0.0, "partners.Eastvale.ambition": 0.0})
    assert low["p_deliver"] < base["p_deliver"]


@pytest.mark.slow
def test_ema_workbench_can_drive_the_model():
    ema = pytest.importorskip("ema_workbench")
    model = ema.Model("collabsim", function=outcome_function(COUNCILS, replications=16,
                                                             outputs=("p_deliver",)))
    model.uncertainties = [ema.RealParameter("partners.Northshire.ambition", 0.2, 0.8),
                           ema.RealParameter("charter.programme_team.dedicated", 0.0, 1.0)]
    model.outcomes = [ema.ScalarOutcome("p_deliver")]
    experiments, outcomes = ema.perform_experiments(model, 5)
    assert len(experiments) == 5
    assert np.all((outcomes["p_deliver"] >= 0) & (outcomes["p_deliver"] <= 1))


@pytest.mark.slow
def test_second_order_sobol_gives_every_pair_and_saves_it(tmp_path):
    out = tmp_path / "s2"
    proc = collabsim("sweep", COUNCILS, "-N", 16, "-n", 2, "--second-order", "--out", out)
    assert proc.returncode == 0, proc.stderr
    pairs = pd.read_csv(out / "indices_second_order.csv")
    D = len(sweep_factors(COUNCILS).factor_names)
    assert len(pairs) == D * (D - 1) // 2
    assert {"factor", "with", "S2", "S2_conf"} <= set(pairs.columns)


def test_a_scenario_without_uncertain_inputs_is_told_to_add_factors():
    data = sim.load_scenario(COUNCILS).model_dump(mode="json", exclude_none=True)
    for p in data["partners"]:
        for k, v in list(p.items()):
            if isinstance(v, dict) and k != "priorities":
                p[k] = 0.5
    bc = data["charter"]["business_case"]
    bc["savings_potential"], bc["implementation_cost_m"] = 0.1, 2.0
    with pytest.raises(FactorError, match="no uncertain inputs"):
        sweep(sim.scenario_from_dict(data), samples=8, replications=2)


def test_a_priority_factor_keeps_the_rest_of_a_partners_weights():
    from sim.analysis.sensitivity import with_factors

    base = sim.load_scenario(TYPICAL)
    sc, _ = with_factors(base, [FactorSpec.parse("partners.Partner 1.priorities.quality=0:2")])
    before, after = base.partner_specs()[0].priorities, sc.partner_specs()[0].priorities
    assert set(after) == set(before)
    three = sim.load_scenario(ROOT / "scenarios" / "three_councils.yaml")
    no_priorities = [p for p in three.partner_specs() if p.priorities is None]
    if no_priorities:
        who = no_priorities[0].name
        sc, _ = with_factors(three, [FactorSpec.parse(f"partners.{who}.priorities.quality=0:2")])
        mine = next(p for p in sc.partner_specs() if p.name == who).priorities
        assert set(mine) >= set(three.charter.vision)


def test_seed_zero_sweeps_are_reproducible_bootstrap_included():
    a = sweep(COUNCILS, "sobol", samples=16, replications=4, seed=0)
    b = sweep(COUNCILS, "sobol", samples=16, replications=4, seed=0)
    pd.testing.assert_frame_equal(a.indices, b.indices)


@pytest.mark.slow
def test_a_constant_output_is_reported_not_analysed():
    # an exit penalty of ten years' cost base: nobody ever leaves, so P(dissolved) is always 0
    data = yaml.safe_load(COUNCILS.read_text())
    data["charter"]["exit"] = {"penalty": 10}
    locked_in = sim.scenario_from_dict(data)
    result = sweep(locked_in, "rbd_fast", samples=32, replications=4, seed=1,
                   outputs=("p_deliver", "p_dissolved"))
    assert result.outputs == ("p_deliver",)
    assert "p_dissolved" in result.design and any("p_dissolved" in n for n in result.notes)
    alone = sweep(locked_in, "sobol", samples=8, replications=2, outputs=("p_dissolved",))
    assert alone.outputs == () and alone.indices.empty and len(alone.design) == 8 * 13
    assert "nothing to analyse" in alone.skipped["p_dissolved"]


def test_a_partner_named_with_a_dot_can_be_a_factor():
    data = sim.load_scenario(COUNCILS).model_dump(mode="json", exclude_none=True)
    data["partners"][0]["name"] = "St. Helens"
    for s in data["charter"].get("services", []):
        if s.get("lead") == "Northshire":
            s["lead"] = "St. Helens"
    from sim.analysis.sensitivity import with_factors
    sc, _ = with_factors(sim.scenario_from_dict(data),
                         [FactorSpec.parse("partners.St. Helens.ambition=0.9:1.0")])
    assert sc.partner_specs()[0].ambition.bounds() == (0.9, 1.0)


def test_a_named_partner_factor_is_not_folded_into_its_population_group():
    f = sweep_factors(TYPICAL, [FactorSpec.parse("partners.Partner 1.ambition=0.7:0.9")])
    assert "partners.Partner 1.ambition" in f.factor_names
    assert f.bounds["partners.Partner 1.ambition"] == (0.7, 0.9)


def test_overlapping_grid_axes_are_refused():
    with pytest.raises(FactorError, match="same input"):
        grid(COUNCILS, "partners.Eastvale.ambition=0:1", "partners.*.ambition=0:1", steps=2,
             replications=2)


def test_pinning_a_fixed_input_to_its_own_value_changes_nothing():
    f = outcome_function(COUNCILS, replications=64)
    skills = sim.load_scenario(COUNCILS).partner_specs()[0].skills
    assert f(**{"partners.Northshire.skills": skills}) == f()


# --- tables hold values, not codes -----------------------------------------------------------


def _triangular_ppf(u, low, mode, high):
    split = (mode - low) / (high - low)
    return np.where(u < split, low + np.sqrt(u * (high - low) * (mode - low)),
                    high - np.sqrt((1 - u) * (high - low) * (high - mode)))


@pytest.mark.slow
def test_the_design_table_holds_each_inputs_value_beside_its_quantile():
    data = yaml.safe_load(COUNCILS.read_text())
    result = sweep(COUNCILS, "rbd_fast", samples=16, replications=2, seed=1,
                   factors=["charter.penalties.rate=0.2:0.7"])
    d = result.design
    names = result.factors.names
    assert list(d.columns[1:1 + 2 * len(names)]) == [c for n in names for c in (n, f"u:{n}")]
    declared = {f"partners.{p['name']}.{k}": v for p in data["partners"] for k, v in p.items()
                if isinstance(v, dict) and k != "priorities"}
    declared.update({f"charter.business_case.{k}": v
                     for k, v in data["charter"]["business_case"].items() if isinstance(v, dict)})
    declared["charter.penalties.rate"] = {"uniform": [0.2, 0.7]}
    assert set(names) == set(declared)
    for name, dist in declared.items():
        u = d[f"u:{name}"].to_numpy()
        if "uniform" in dist:
            low, high = dist["uniform"]
            expected = low + u * (high - low)
        else:
            expected = _triangular_ppf(u, *dist["triangular"])
        np.testing.assert_allclose(d[name], expected, rtol=1e-12, err_msg=name)
    assert d["u:charter.penalties.rate"].nunique() == 16   # every point its own value


def test_each_member_of_a_grouped_factor_has_its_own_value_column():
    result = sweep(COUNCILS, "morris", samples=4, replications=2, seed=1,
                   factors=["partners.*.skills=0.1:0.6"])
    d = result.design
    for who in ("Northshire", "Eastvale", "Southmoor"):
        name = f"partners.{who}.skills"
        np.testing.assert_allclose(d[name], 0.1 + 0.5 * d[f"u:{name}"], rtol=1e-12)


GRID_AXES = ("partners.*.resourcing=0.1:0.6", "partners.*.ambition=0.2:0.8")


@pytest.fixture(scope="module")
def grids():
    return {n: grid(COUNCILS, *GRID_AXES, steps=2, replications=n, seed=4, outputs=tuple(OUTPUTS))
            for n in (40, 640)}


def test_a_grid_table_names_its_columns_by_path_with_a_ci_for_every_output(grids):
    t = grids[40].table
    assert list(t.columns) == ["partners.*.resourcing", "partners.*.ambition"] + [
        c for o in OUTPUTS for c in (o, f"{o}_ci_low", f"{o}_ci_high")]
    for o in OUTPUTS:
        assert (t[f"{o}_ci_low"] <= t[o]).all() and (t[o] <= t[f"{o}_ci_high"]).all(), o
    assert grids[40].matrix("p_deliver_ci_low").shape == (2, 2)


def test_grid_cis_narrow_with_more_replications(grids):
    for o in OUTPUTS:
        width = {n: (g.table[f"{o}_ci_high"] - g.table[f"{o}_ci_low"]).mean()
                 for n, g in grids.items()}
        # CI widths shrink as 1/sqrt(n): 16 times the runs, about a quarter of the width
        assert width[640] < 0.5 * width[40] or width[40] == 0, (o, width)
    assert (grids[640].table["p_deliver_ci_high"] - grids[640].table["p_deliver_ci_low"]).max() \
        < 0.1


def test_grid_cis_are_the_wilson_normal_and_order_statistic_intervals(grids):
    from sim.montecarlo.statistics import median_ranks, wilson_interval

    t = grids[40].table
    for _, row in t.iterrows():
        k = round(row["p_deliver"] * 40)
        assert (row["p_deliver_ci_low"], row["p_deliver_ci_high"]) == wilson_interval(k, 40)
    assert median_ranks(100) == (40, 61)   # Conover's table for n = 100
    assert median_ranks(5) == (1, 5) and median_ranks(6) == (1, 6)
    half = (t["mean_final_trust_ci_high"] - t["mean_final_trust_ci_low"]) / 2
    assert np.allclose(t["mean_final_trust"], t["mean_final_trust_ci_low"] + half)


def test_evaluate_points_gives_the_same_outputs_with_or_without_intervals_in_any_chunks():
    from sim.analysis.sensitivity import evaluate_points, interval_names

    sc = sim.load_scenario(COUNCILS)
    k = len(sweep_factors(sc).names)
    design = np.random.default_rng(0).random((4, k))
    cols = np.arange(k)
    plain = evaluate_points(sc, 3, design, cols, 0, 16, tuple(OUTPUTS))
    names = interval_names(OUTPUTS)
    whole = evaluate_points(sc, 3, design, cols, 0, 16, names)
    parts = np.vstack([evaluate_points(sc, 3, design[:1], cols, 0, 16, names),
                       evaluate_points(sc, 3, design[1:], cols, 1, 16, names)])
    assert np.array_equal(whole[:, ::3], plain)
    assert np.array_equal(whole, parts, equal_nan=True)
    with pytest.raises(ValueError, match="outputs must be among"):
        evaluate_points(sc, 3, design, cols, 0, 2, ("p_deliver_ci_middle",))
    one = evaluate_points(sc, 3, design, cols, 0, 1, interval_names(("mean_final_trust",
                                                                     "median_savings_pct")))
    assert np.isnan(one[:, 1:3]).all()                  # no interval for a mean of one run
    assert (one[:, 4] == one[:, 3]).all() and (one[:, 5] == one[:, 3]).all()   # its range


def test_a_correlated_traits_value_is_what_the_run_uses():
    from sim.partnership.inputs import resolve_batch, uncertain_paths
    from sim.analysis.sensitivity import input_values

    sc = sim.load_scenario(TYPICAL)                     # resourcing and skills correlated
    names = uncertain_paths(sc)
    u = np.random.default_rng(5).random((6, len(names)))
    values = input_values(sc, u)
    common = names.index("partner_similarity.resourcing")
    assert np.array_equal(values[:, common], u[:, common])
    own = names.index("partners.Partner 1.resourcing")
    assert not np.allclose(values[:, own], 0.1 + 0.3 * u[:, own])   # mixed with the common
    assert np.array_equal(values[:, own], resolve_batch(sc, u).traits["resourcing"][:, 0])
    assert ((values[:, own] >= 0.1) & (values[:, own] <= 0.4)).all()


# --- a sweep never throws its work away ------------------------------------------------------


def _nearly_always_delivers(tmp_path=None):
    """strong_charter with two uncertain inputs: it delivers at nearly every design point, so
    SALib's delta analysis of p_deliver meets a singular matrix."""
    data = yaml.safe_load((ROOT / "scenarios" / "strong_charter.yaml").read_text())
    for p in data["partners"]:
        p["ambition"] = p["ambition"]["uniform"][0]
        p["trustworthiness"] = p["trustworthiness"]["triangular"][1]
        if p["name"] != "Eastvale":
            p["resourcing"] = p["resourcing"]["uniform"][1]
    data["charter"]["business_case"]["implementation_cost_m"] = 2.0
    if tmp_path is None:
        return sim.scenario_from_dict(data)
    path = tmp_path / "nearly_always.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.slow
def test_a_delta_sweep_skips_a_nearly_constant_output_with_a_note_and_analyses_the_rest():
    from SALib import ProblemSpec

    sc = _nearly_always_delivers()
    result = sweep(sc, "delta", samples=32, replications=8, seed=1,
                   outputs=("p_deliver", "mean_final_trust", "p_any_exit"))
    d = result.design
    assert (d["p_deliver"] == 1).mean() > 0.9 and d["p_deliver"].nunique() > 1
    problem = ProblemSpec({"names": result.factors.names, "bounds": [[0, 1]] * 2})
    problem.set_samples(d.filter(like="u:").to_numpy()).set_results(d["p_deliver"].to_numpy())
    with pytest.raises(ValueError, match="Singular matrix"), warnings.catch_warnings(record=True):
        problem.analyze_delta(seed=2, method="delta")   # what SALib does on its own
    assert result.outputs == ("mean_final_trust",)
    assert set(result.indices["output"]) == {"mean_final_trust"}
    assert set(result.skipped) == {"p_deliver", "p_any_exit"}
    assert "Singular matrix" in result.skipped["p_deliver"]
    assert "nothing to analyse" in result.skipped["p_any_exit"]
    assert result.notes[0].startswith("p_deliver: not analysed: SALib's delta analysis failed")
    assert {"p_deliver", "mean_final_trust", "p_any_exit"} <= set(d.columns)
    assert result.settings["analysed_outputs"] == ["mean_final_trust"]


@pytest.mark.slow
def test_the_sweep_command_saves_the_design_and_shows_the_note_when_an_analysis_fails(tmp_path):
    scenario = _nearly_always_delivers(tmp_path)
    out = tmp_path / "s"
    proc = collabsim("sweep", scenario, "--method", "delta", "-N", 32, "-n", 8, "--seed", 1,
                     "-o", "p_deliver", "-o", "mean_final_trust", "--out", out, "--workers", 1)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "note: p_deliver: not analysed: SALib's delta analysis failed (ValueError: " \
        "ERROR [" in proc.stderr and "Singular matrix" in proc.stderr
    assert "delta indices for mean_final_trust" in proc.stdout
    design = pd.read_parquet(out / "design.parquet")
    assert len(design) == 32 and {"p_deliver", "mean_final_trust"} <= set(design.columns)
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["summary"]["skipped"]) == {"p_deliver"}
    assert ["p_deliver: not analysed", manifest["summary"]["skipped"]["p_deliver"]] \
        in manifest["summary"]["headline"]
    again = collabsim("sweep", "--resume", out)
    assert again.returncode == 0 and "note: p_deliver: not analysed" in again.stderr
    from sim.results.html import build_report

    page = build_report(out)
    assert "<th>p_deliver: not analysed</th>" in page and "Singular matrix" in page


@pytest.mark.slow
def test_a_sweep_with_no_analysable_output_saves_everything_and_exits_7(tmp_path):
    scenario = _nearly_always_delivers(tmp_path)
    out = tmp_path / "s"
    proc = collabsim("sweep", scenario, "--method", "delta", "-N", 32, "-n", 8, "--seed", 1,
                     "-o", "p_deliver", "-o", "p_any_exit", "--out", out, "--workers", 1)
    assert proc.returncode == 7, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "note: p_any_exit: not analysed: the same (0)" in proc.stderr
    assert f"error: no output could be analysed; every design point and its outputs are " \
        f"saved in {out / 'design.parquet'}" in " ".join(proc.stderr.split())
    assert len(pd.read_parquet(out / "design.parquet")) == 32
    assert (out / "manifest.json").is_file() and not (out / "points").exists()
    again = collabsim("sweep", "--resume", out)
    assert again.returncode == 7 and "already complete" in again.stderr


@pytest.mark.slow
def test_the_design_is_saved_before_the_analysis_and_resume_ends_identical(tmp_path,
                                                                           monkeypatch):
    from typer.testing import CliRunner

    import sim.analysis.sensitivity
    from sim.cli import app

    args = ["sweep", str(COUNCILS), "-N", "16", "-n", "4", "--seed", "3", "--workers", "1",
            "-o", "p_deliver", "-o", "mean_final_trust"]
    whole = tmp_path / "whole"
    assert collabsim(*args, "--out", whole).returncode == 0

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt   # Ctrl-C while SALib analyses
    monkeypatch.setattr(sim.analysis.sensitivity, "_analyse", interrupted)
    folder = tmp_path / "interrupted"
    ended = CliRunner().invoke(app, args + ["--out", str(folder)])
    assert ended.exit_code == 130, ended.output
    assert "design.parquet" in " ".join(ended.output.split())
    assert not (folder / "manifest.json").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "design.parquet"),
                                  pd.read_parquet(whole / "design.parquet"))
    done = collabsim("sweep", "--resume", folder)
    assert done.returncode == 0, done.stderr
    for name in ("design.parquet", "indices.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(folder / name),
                                      pd.read_parquet(whole / name))


def test_a_grid_sets_a_shared_traits_value_exactly():
    """typical's partners share resourcing (partner_similarity 0.5); a grid's x value is still
    the value every partner gets, not mixed with the partnership's draw (a sweep's quantiles
    are the run's uniforms and are mixed, as in a run)."""
    from sim.partnership.engine import draw
    from sim.analysis.maps import fixed_design

    spec = FactorSpec.parse("partners.*.resourcing=0.1:0.7")
    sc, columns, design = fixed_design(sim.load_scenario(TYPICAL), [spec],
                                       np.array([[0.25], [0.55]]))
    for row, value in enumerate((0.25, 0.55)):
        inputs, _, _ = draw(sc, 1, np.arange(3), 0, columns,
                            np.repeat(design[row:row + 1], 3, axis=0), exact=True)
        assert np.allclose(inputs.traits["resourcing"], value, atol=1e-15)
