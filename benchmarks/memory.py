"""How much memory a chunk takes, against what sim.montecarlo.memory estimates (measured, not tested).

    python benchmarks/memory.py            # the sizes in docs/RELIABILITY.md, about a minute
    python benchmarks/memory.py --big      # also 1000 partners over 400 reviews (3.3 GB, ~1 min)

Each case runs one chunk of typical.yaml (with another partner count and horizon) in a fresh
process, writes it as a run would (run_chunk, then both Parquet tables), and reports the peak
resident memory above the process's memory before the chunk, per replication, next to
sim.montecarlo.memory.replication_bytes. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = [(5, 10, 10_000), (5, 10, 40_000), (20, 10, 2_000), (100, 40, 40), (100, 400, 20),
         (300, 100, 2)]
BIG = [(1000, 400, 1)]

ONE = """
import json, resource, sys, tempfile, yaml
from pathlib import Path
sys.path.insert(0, {root!r})
import sim
from sim.montecarlo.runs import run_chunk
from sim.montecarlo.memory import replication_bytes
from sim.results.stored_run import save_chunk
data = yaml.safe_load(open({typical!r}))
save_chunk(Path(tempfile.mkdtemp()), 0, *run_chunk(sim.scenario_from_dict(data), 1, range(50)))
data["population"]["count"], data["horizon"] = {partners}, {horizon}   # (above: imports)
scenario = sim.scenario_from_dict(data)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
save_chunk(Path(tempfile.mkdtemp()), 0, *run_chunk(scenario, 1, range({replications})))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"estimate": replication_bytes(scenario),
                  "measured": (peak - before) / {replications}}}))
"""


def measure(partners: int, horizon: int, replications: int) -> dict:
    code = ONE.format(root=str(ROOT), typical=str(ROOT / "scenarios" / "typical.yaml"),
                      partners=partners, horizon=horizon, replications=replications)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also 1000 partners, 400 reviews")
    args = parser.parse_args()
    print("| partners | reviews | replications in the chunk | estimate per replication | "
          "measured peak per replication | estimate / measured |")
    print("|---|---|---|---|---|---|")
    for partners, horizon, replications in CASES + (BIG if args.big else []):
        m = measure(partners, horizon, replications)
        print(f"| {partners} | {horizon} | {replications:,} | {_size(m['estimate'])} | "
              f"{_size(m['measured'])} | {m['estimate'] / m['measured']:.2f} |", flush=True)


def _size(n: float) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


if __name__ == "__main__":
    main()
