"""collabsim: stress-test a proposed partnership before it launches.

The Python API that the CLI and the notebooks use:

    import sim
    scenario = sim.load_scenario("scenarios/three_councils.yaml")
    result = sim.run(scenario, replications=1000, seed=7)
    result.summary["p_deliver"], result.outcomes, result.timeseries
    sim.run(scenario, 100_000, executor=sim.Executor(workers=4))    # where work runs (or Dask)

    indices = sim.sweep(scenario, "sobol", samples=1024, replications=64).indices
    sim.breaking_point(scenario, ["budget_cut:partner=Northshire"]).message
    sim.compare([scenario, "scenarios/strong_charter.yaml"]).message
    sim.discover(scenario).boxes
    sim.evaluate(scenario, {"partners.*.ambition": [0.2, 0.8]}, replications=200)  # a design
    scenario.with_values({"charter.decision_rule": "majority"})      # fields by path
    sim.with_shocks(scenario, ["budget_cut:partner=Northshire"])      # as `run --shock` adds them
    sim.run_experiment("experiments/ambition_by_decision_rule.yaml").table  # a named experiment
    sim.design_charter(scenario, "charter.decision_rule,charter.programme_team.training").table
    model = sim.PartnershipModel(scenario=scenario, rng=1)   # one run, review by review
    model.step()
    sim.trust_network(model)        # the teaching pictures of one run (sim.teaching.plots)
    sim.save(sim.compare([scenario, "scenarios/strong_charter.yaml"]), "results/cmp")  # a folder
    sim.resume("results/my-sweep")  # finish a job `collabsim sweep` (run, ...) left unfinished
    sim.partnership_page(scenario)  # the app's page, in a notebook
    sim.STATUS_MEANINGS             # what thriving, stumbling, crumbling and dissolved mean
"""

from typing import TYPE_CHECKING

from sim.lazy_exports import lazy_exports

#: Public names and the module each lives in. They are imported on first use, so a command that
#: never builds a Mesa model (a vectorised run, `validate`) does not pay for importing Mesa.
_EXPORTS = {
    "PartnerOrganisation": "sim.partnership.agents", "RunResult": "sim.montecarlo.runs",
    "run": "sim.montecarlo.runs", "run_model": "sim.montecarlo.runs",
    "replication_rng": "sim.partnership.seeds", "Executor": "sim.montecarlo.executors",
    "ScenarioError": "sim.scenario.loading", "load_scenario": "sim.scenario.loading",
    "scenario_from_dict": "sim.scenario.loading", "scenario_text": "sim.scenario.loading",
    "with_shocks": "sim.scenario.shocks", "PartnershipModel": "sim.partnership.model",
    "ModelParameters": "sim.scenario.parameters", "save": "sim.results.save",
    "figures": "sim.results.save", "resume": "sim.results.jobs",
    "Scenario": "sim.scenario.schema", "sweep": "sim.analysis.sensitivity",
    "grid": "sim.analysis.maps", "outcome_function": "sim.analysis.maps",
    "breaking_point": "sim.analysis.stress", "shock_timing": "sim.analysis.stress",
    "compare": "sim.analysis.comparison", "load_charter": "sim.analysis.comparison",
    "discover": "sim.analysis.discovery", "write_report": "sim.results.html",
    "evaluate": "sim.analysis.evaluation", "Evaluator": "sim.analysis.evaluation",
    "load_experiment": "sim.analysis.experiment_file",
    "run_experiment": "sim.analysis.experiment_file",
    # which charter to sign (docs/DESIGN-SEARCH.md)
    "design_charter": "sim.analysis.robust_charters",
    "CharterDesign": "sim.analysis.robust_charters", "load_design_file": "sim.analysis.levers",
    "tradeoff_figure": "sim.results.design",
    "parallel_figure": "sim.results.design", "convergence_figure": "sim.results.design",
    # what one run looks like, review by review (the teaching app and the lessons)
    "partnership_page": "sim.teaching.app", "savings_against_business_case": "sim.teaching.plots",
    "trust_over_time": "sim.teaching.plots", "trust_network": "sim.teaching.plots",
    "satisfaction_over_time": "sim.teaching.plots", "shock_side_by_side": "sim.teaching.plots",
    # the figures of the analyses, for a notebook
    "breaking_point_figure": "sim.results.workflows", "timing_figure": "sim.results.workflows",
    "comparison_figure": "sim.results.workflows", "indices_figure": "sim.results.sensitivity",
    "STATUSES": "sim.partnership.outcomes", "STATUS_MEANINGS": "sim.partnership.outcomes",
}

if TYPE_CHECKING:   # what IDEs and type checkers see: the same names, imported at once
    # (tests/test_docs.py holds this block and _EXPORTS to each other)
    from sim.analysis.comparison import compare, load_charter
    from sim.analysis.discovery import discover
    from sim.analysis.evaluation import Evaluator, evaluate
    from sim.analysis.experiment_file import load_experiment, run_experiment
    from sim.analysis.levers import load_design_file
    from sim.analysis.maps import grid, outcome_function
    from sim.analysis.robust_charters import CharterDesign, design_charter
    from sim.analysis.sensitivity import sweep
    from sim.analysis.stress import breaking_point, shock_timing
    from sim.montecarlo.executors import Executor
    from sim.montecarlo.runs import RunResult, run, run_model
    from sim.partnership.agents import PartnerOrganisation
    from sim.partnership.model import PartnershipModel
    from sim.partnership.outcomes import STATUS_MEANINGS, STATUSES
    from sim.partnership.seeds import replication_rng
    from sim.results.design import convergence_figure, parallel_figure, tradeoff_figure
    from sim.results.html import write_report
    from sim.results.jobs import resume
    from sim.results.save import figures, save
    from sim.results.sensitivity import indices_figure
    from sim.results.workflows import breaking_point_figure, comparison_figure, timing_figure
    from sim.scenario.loading import (ScenarioError, load_scenario, scenario_from_dict,
                                      scenario_text)
    from sim.scenario.parameters import ModelParameters
    from sim.scenario.schema import Scenario
    from sim.scenario.shocks import with_shocks
    from sim.teaching.app import partnership_page
    from sim.teaching.plots import (satisfaction_over_time, savings_against_business_case,
                                    shock_side_by_side, trust_network, trust_over_time)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__version__ = "0.1.0"

__all__ = [
    "Executor", "ModelParameters", "PartnerOrganisation", "PartnershipModel", "RunResult",
    "Scenario", "ScenarioError", "load_scenario", "replication_rng", "run", "run_model", "save",
    "figures", "resume", "scenario_from_dict", "scenario_text", "with_shocks", "sweep", "grid",
    "outcome_function", "breaking_point", "shock_timing", "compare", "load_charter", "discover",
    "write_report", "evaluate", "Evaluator", "load_experiment", "run_experiment", "design_charter",
    "CharterDesign", "load_design_file", "tradeoff_figure", "parallel_figure",
    "convergence_figure", "partnership_page", "savings_against_business_case", "trust_over_time",
    "trust_network", "satisfaction_over_time", "shock_side_by_side", "breaking_point_figure",
    "timing_figure", "comparison_figure", "indices_figure", "STATUSES", "STATUS_MEANINGS",
    "__version__",
]
