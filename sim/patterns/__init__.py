"""Pattern-oriented modelling (Grimm et al. 2005): a register of cited patterns, each a
statistic of the model's output with a target, a source and a role, and whether the model
reproduces them.

    from sim.patterns import evaluate_register, load_register
    register = load_register("patterns/public_sector.yaml")
    table = evaluate_register(register, replications=2000, workers=2)
    table[["name", "value", "target", "reproduced"]]

Modules: `schema` (the file format), `register` (reading and checking a register),
`statistics` (the statistic functions), `catalogue` (the named statistics and their
settings), `evaluate` (running the register), `report` (tables for people).
"""

from sim.patterns.catalogue import NOT_SUPPORTED, STATISTICS, Statistic
from sim.patterns.evaluate import COLUMNS, evaluate_register, with_parameters
from sim.patterns.register import Pattern, Register, load_register
from sim.patterns.schema import RegisterFile, Target

__all__ = ["COLUMNS", "NOT_SUPPORTED", "STATISTICS", "Pattern", "Register", "RegisterFile",
           "Statistic", "Target", "evaluate_register", "load_register", "with_parameters"]
