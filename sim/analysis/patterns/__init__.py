"""Pattern-oriented modelling (Grimm et al. 2005): a register of cited patterns, each a
statistic of the model's output with a target, a source and a role, and whether the model
reproduces them.

    import sim
    from sim.analysis.patterns import evaluate_register, load_register
    register = load_register("patterns/public_sector.yaml")
    table = evaluate_register(register, replications=2000, executor=sim.Executor(workers=2))
    table[["name", "value", "target", "reproduced"]]

Modules: `schema` (the file format), `register` (reading and checking a register),
`statistics` (the statistic functions), `catalogue` (the named statistics and their
settings), `evaluate` (running the register); its tables for people are sim.results.patterns.
"""

from sim.lazy_exports import lazy_exports

#: Public names and the module each lives in, imported on first use: checking a register
#: needs neither pandas nor the executors.
_EXPORTS = {
    "NOT_SUPPORTED": "sim.analysis.patterns.catalogue",
    "STATISTICS": "sim.analysis.patterns.catalogue",
    "Statistic": "sim.analysis.patterns.catalogue", "COLUMNS": "sim.analysis.patterns.evaluate",
    "evaluate_register": "sim.analysis.patterns.evaluate",
    "with_parameters": "sim.analysis.patterns.evaluate",
    "Pattern": "sim.analysis.patterns.register", "Register": "sim.analysis.patterns.register",
    "load_register": "sim.analysis.patterns.register",
    "RegisterFile": "sim.analysis.patterns.schema", "Target": "sim.analysis.patterns.schema",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
