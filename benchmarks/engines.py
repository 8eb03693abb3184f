"""Runs per second of the Mesa model and the vectorised engine on the same scenario, in one
process. Prints a table; nothing here is asserted (speed is measured, not tested).

    python benchmarks/engines.py [--scenario scenarios/typical.yaml] [--mesa 200] [--vector 5000]
"""

from __future__ import annotations

import argparse
import platform
import time

import sim
from sim.engine import simulate
from sim.experiment import run_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/typical.yaml")
    ap.add_argument("--mesa", type=int, default=200, help="Mesa replications to time")
    ap.add_argument("--vector", type=int, default=5000, help="vector replications to time")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    scenario = sim.load_scenario(args.scenario)

    t = time.perf_counter()
    for r in range(args.mesa):
        run_model(scenario, args.seed, r)
    mesa_rate = args.mesa / (time.perf_counter() - t)

    t = time.perf_counter()
    simulate(scenario, args.seed, range(args.vector))
    vector_rate = args.vector / (time.perf_counter() - t)

    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, one process")
    print(f"scenario: {args.scenario}")
    print(f"| engine | replications | runs per second |")
    print(f"|---|---|---|")
    print(f"| mesa | {args.mesa} | {mesa_rate:,.0f} |")
    print(f"| vector | {args.vector} | {vector_rate:,.0f} |")
    print(f"ratio vector / mesa: {vector_rate / mesa_rate:.1f}x")


if __name__ == "__main__":
    main()
