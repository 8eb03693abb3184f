"""collabsim: stress-test a proposed partnership before it launches.

The Python API that the CLI and the notebooks use:

    import sim
    scenario = sim.load_scenario("scenarios/three_councils.yaml")
    result = sim.run(scenario, replications=1000, seed=7)
    result.summary["p_deliver"], result.outcomes, result.timeseries

    model = sim.PartnershipModel(scenario=scenario, rng=1)   # one run, review by review
    model.step()
"""

from sim.agents import PartnerOrganisation
from sim.experiment import RunResult, run, run_model
from sim.seeds import replication_rng
from sim.loading import ScenarioError, load_scenario, scenario_from_dict
from sim.model import PartnershipModel
from sim.parameters import ModelParameters
from sim.report import save_run
from sim.scenario import Scenario

__version__ = "0.1.0"

__all__ = [
    "ModelParameters", "PartnerOrganisation", "PartnershipModel", "RunResult", "Scenario",
    "ScenarioError", "load_scenario", "replication_rng", "run", "run_model", "save_run",
    "scenario_from_dict", "__version__",
]
