"""Cost per design point when the model is driven from outside: `collabsim sweep`'s own points,
`sim.evaluate` on a design, SALib's ProblemSpec with `sim.Evaluator`, and the EMA Workbench
calling `sim.outcome_function` once per experiment.

    python benchmarks/interop.py [--points 512] [--replications 32]

Every figure is milliseconds of wall time per design point in one process (the default executor), each the
best of three repeats, on three_councils.yaml. docs/PERFORMANCE.md records a run.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

import sim
from sim.analysis.sensitivity import FactorSpec, evaluate_design, sweep_factors

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "three_councils.yaml"
NUMBERS = ["partners.*.ambition", "partners.*.resourcing", "charter.penalties.rate"]
BOUNDS = [[0.0, 1.0], [0.0, 1.0], [0.0, 0.5]]


def best_of(f, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=512)
    ap.add_argument("--replications", type=int, default=32)
    args = ap.parse_args()
    P, R = args.points, args.replications
    print(f"machine: {platform.machine()}, {os.cpu_count()} logical cores, Python "
          f"{platform.python_version()}, NumPy {np.__version__}")
    print(f"command: python benchmarks/interop.py --points {P} --replications {R}\n")
    base = sim.load_scenario(SCENARIO)
    rng = np.random.default_rng(1)
    u = rng.random((P, len(NUMBERS)))
    values = np.array([lo for lo, _ in BOUNDS]) + u * np.array([hi - lo for lo, hi in BOUNDS])

    specs = [FactorSpec(p, lo, hi) for p, (lo, hi) in zip(NUMBERS, BOUNDS)]
    factors = sweep_factors(base, specs)
    columns = np.array([i for i, g in enumerate(factors.groups) if g in NUMBERS])
    groups = [factors.groups[i] for i in columns]
    quantiles = np.column_stack([u[:, NUMBERS.index(g)] for g in groups])
    rows = []

    def sweep_points():
        evaluate_design(factors.scenario, 1, quantiles, columns, R, ("p_deliver",))

    rows.append(("`collabsim sweep`'s own points (evaluate_design)", best_of(sweep_points)))

    def evaluate_numbers():
        sim.evaluate(base, dict(zip(NUMBERS, values.T)), R, seed=1)

    rows.append(("`sim.evaluate`, 3 numeric fields", best_of(evaluate_numbers)))

    def salib():
        from SALib import ProblemSpec

        sp = ProblemSpec({"names": NUMBERS, "bounds": BOUNDS})
        sp.set_samples(values)
        sp.evaluate(sim.Evaluator(base, NUMBERS, replications=R, seed=1))

    rows.append(("SALib `ProblemSpec.evaluate(sim.Evaluator(...))`", best_of(salib)))

    rules = np.array(["unanimity", "majority"])[rng.integers(0, 2, P)]
    notice = rng.integers(0, 4, P)
    memory = np.round(0.6 + 0.3 * rng.random(P), 1)    # a few distinct parameter values

    def evaluate_mixed():
        sim.evaluate(base, {**dict(zip(NUMBERS, values.T)), "charter.decision_rule": rules,
                            "charter.exit.notice_cycles": notice,
                            "parameters.trust_memory": memory}, R, seed=1)

    rows.append(("`sim.evaluate`, 3 numbers + category + whole number + parameter "
                 f"({len(set(zip(rules, notice, memory)))} scenario variants)",
                 best_of(evaluate_mixed)))

    def ema():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench import (CategoricalParameter, Model, RealParameter,
                                       ScalarOutcome, perform_experiments)
            import ema_workbench.em_framework.evaluators as evaluators
        model = Model("collabsim", function=sim.outcome_function(base, replications=R, seed=1,
                                                                 outputs=("p_deliver",)))
        model.uncertainties = [RealParameter(p, lo, hi) for p, (lo, hi) in zip(NUMBERS, BOUNDS)]
        model.uncertainties += [CategoricalParameter("charter.decision_rule",
                                                     ["unanimity", "majority"])]
        model.outcomes = [ScalarOutcome("p_deliver")]
        with evaluators.SequentialEvaluator(model) as evaluator:
            evaluator.perform_experiments(min(P, 128))

    ema_points = min(P, 128)
    seconds = best_of(ema, 1)
    print(f"| how | points | replications each | ms per point |\n|---|---:|---:|---:|")
    for name, s in rows:
        print(f"| {name} | {P:,} | {R} | {1000 * s / P:.2f} |")
    print(f"| EMA Workbench `perform_experiments`, one call per experiment | {ema_points} | {R} | "
          f"{1000 * seconds / ema_points:.2f} |")
    ratio = rows[1][1] / rows[0][1]
    print(f"\n`sim.evaluate` / sweep cost per point: **{ratio:.2f}x**")


if __name__ == "__main__":
    main()
