"""collabsim: stress-test a proposed partnership before it launches.

The Python API that the CLI and the notebooks use:

    import sim
    scenario = sim.load_scenario("scenarios/three_councils.yaml")
    result = sim.run(scenario, replications=1000, seed=7)
    result.summary["p_deliver"], result.outcomes, result.timeseries

    indices = sim.sweep(scenario, "sobol", samples=1024, replications=64).indices
    sim.breaking_point(scenario, ["budget_cut:partner=Northshire"]).message
    sim.compare([scenario, "scenarios/strong_charter.yaml"]).message
    sim.discover(scenario).boxes
    sim.evaluate(scenario, {"partners.*.ambition": [0.2, 0.8]}, replications=200)  # a design
    scenario.with_values({"charter.decision_rule": "majority"})      # fields by path (sim.fields)
    sim.run_experiment("experiments/ambition_by_decision_rule.yaml").table  # a named experiment
    sim.design_charter(scenario, "charter.decision_rule,charter.programme_team.training").table
    model = sim.PartnershipModel(scenario=scenario, rng=1)   # one run, review by review
    model.step()
    sim.trust_network(model)        # the teaching pictures of one run (sim.teaching_plots)
    sim.partnership_page(scenario)  # the app's page, in a notebook
    sim.STATUS_MEANINGS             # what thriving, stumbling, crumbling and dissolved mean
"""

from typing import TYPE_CHECKING

from sim.lazy_exports import lazy_exports

#: Public names and the module each lives in. They are imported on first use, so a command that
#: never builds a Mesa model (a vectorised run, `validate`) does not pay for importing Mesa.
_EXPORTS = {
    "PartnerOrganisation": "sim.agents", "RunResult": "sim.experiment", "run": "sim.experiment",
    "run_model": "sim.experiment", "replication_rng": "sim.seeds",
    "ScenarioError": "sim.loading", "load_scenario": "sim.loading",
    "scenario_from_dict": "sim.loading", "PartnershipModel": "sim.model",
    "ModelParameters": "sim.parameters", "save_run": "sim.report", "Scenario": "sim.scenario",
    "sweep": "sim.sensitivity", "grid": "sim.maps", "outcome_function": "sim.maps",
    "breaking_point": "sim.stress", "shock_timing": "sim.stress",
    "compare": "sim.comparison", "load_charter": "sim.comparison",
    "discover": "sim.discovery", "write_report": "sim.html_report",
    "evaluate": "sim.evaluation", "Evaluator": "sim.evaluation",
    "load_experiment": "sim.experiment_file", "run_experiment": "sim.experiment_file",
    # which charter to sign (docs/DESIGN-SEARCH.md)
    "design_charter": "sim.robust_charters", "CharterDesign": "sim.robust_charters",
    "load_design_file": "sim.levers", "save_design": "sim.design_report",
    "tradeoff_figure": "sim.design_report", "parallel_figure": "sim.design_report",
    "convergence_figure": "sim.design_report",
    # what one run looks like, review by review (the teaching app and the lessons)
    "partnership_page": "sim.app",
    "savings_against_business_case": "sim.teaching_plots", "trust_over_time": "sim.teaching_plots",
    "trust_network": "sim.teaching_plots", "satisfaction_over_time": "sim.teaching_plots",
    "shock_side_by_side": "sim.teaching_plots",
    # the figures of the analyses, for a notebook
    "breaking_point_figure": "sim.workflow_report", "timing_figure": "sim.workflow_report",
    "comparison_figure": "sim.workflow_report", "indices_figure": "sim.sensitivity_report",
    "STATUSES": "sim.outcomes", "STATUS_MEANINGS": "sim.outcomes",
}

if TYPE_CHECKING:   # what IDEs and type checkers see: the same names, imported at once
    # (tests/test_docs.py holds this block and _EXPORTS to each other)
    from sim.agents import PartnerOrganisation
    from sim.experiment import RunResult, run, run_model
    from sim.seeds import replication_rng
    from sim.loading import ScenarioError, load_scenario, scenario_from_dict
    from sim.model import PartnershipModel
    from sim.parameters import ModelParameters
    from sim.report import save_run
    from sim.scenario import Scenario
    from sim.sensitivity import sweep
    from sim.maps import grid, outcome_function
    from sim.stress import breaking_point, shock_timing
    from sim.comparison import compare, load_charter
    from sim.discovery import discover
    from sim.html_report import write_report
    from sim.evaluation import evaluate, Evaluator
    from sim.experiment_file import load_experiment, run_experiment
    from sim.robust_charters import design_charter, CharterDesign
    from sim.levers import load_design_file
    from sim.design_report import save_design, tradeoff_figure, parallel_figure, convergence_figure
    from sim.app import partnership_page
    from sim.teaching_plots import (savings_against_business_case, trust_over_time, trust_network,
                                    satisfaction_over_time, shock_side_by_side)
    from sim.workflow_report import breaking_point_figure, timing_figure, comparison_figure
    from sim.sensitivity_report import indices_figure
    from sim.outcomes import STATUSES, STATUS_MEANINGS

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__version__ = "0.1.0"

__all__ = [
    "ModelParameters", "PartnerOrganisation", "PartnershipModel", "RunResult", "Scenario",
    "ScenarioError", "load_scenario", "replication_rng", "run", "run_model", "save_run",
    "scenario_from_dict", "sweep", "grid", "outcome_function", "breaking_point", "shock_timing",
    "compare", "load_charter", "discover", "write_report", "evaluate", "Evaluator",
    "load_experiment", "run_experiment", "design_charter", "CharterDesign", "load_design_file",
    "save_design", "tradeoff_figure", "parallel_figure", "convergence_figure", "partnership_page", "savings_against_business_case",
    "trust_over_time", "trust_network", "satisfaction_over_time", "shock_side_by_side",
    "breaking_point_figure", "timing_figure", "comparison_figure", "indices_figure",
    "STATUSES", "STATUS_MEANINGS", "__version__",
]
