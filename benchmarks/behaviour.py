"""What drawing the behaviour from a posterior costs: `typical.yaml` against
`typical_calibrated.yaml` (the same scenario with the shipped posterior, 100 particles), one
process, the same replications and seed; best of --repeats. docs/PERFORMANCE.md section 7.

    python benchmarks/behaviour.py [--replications 20000] [--repeats 3]
"""

import argparse
import time
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parent.parent


def best(scenario, replications: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sim.run(scenario, replications=replications, seed=1)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    calibrated = sim.load_scenario(ROOT / "scenarios" / "typical_calibrated.yaml")
    load = time.perf_counter() - start
    plain = sim.load_scenario(ROOT / "scenarios" / "typical.yaml")
    sim.run(plain, replications=200, seed=1)          # warm up imports and caches
    sim.run(calibrated, replications=200, seed=1)
    a = best(plain, args.replications, args.repeats)
    b = best(calibrated, args.replications, args.repeats)
    n = args.replications
    print(f"loading typical_calibrated.yaml (reads the posterior): {load:.2f} s")
    print("| scenario | replications | seconds | µs per replication |")
    print("|---|---:|---:|---:|")
    print(f"| typical.yaml | {n:,} | {a:.2f} | {1e6 * a / n:.0f} |")
    print(f"| typical_calibrated.yaml (100 particles) | {n:,} | {b:.2f} | {1e6 * b / n:.0f} |")
    print(f"cost of the posterior: x{b / a:.2f}")


if __name__ == "__main__":
    main()
