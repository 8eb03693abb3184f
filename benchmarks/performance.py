"""How fast collabsim runs, measured (nothing here is asserted: speed is measured, not tested).

    python benchmarks/performance.py            # everything, about 5 minutes on 2 cores
    python benchmarks/performance.py --quick    # smaller sizes, under a minute

Prints Markdown tables:
1. Mesa engine vs vectorised engine, runs per second on the same scenario in one process (both
   through experiment.run_chunk, so both build the same outcomes and time-series tables).
2. The vectorised engine's cost as replications (1e3..1e6), partners (2..50) and horizon
   (10..40 reviews) grow, in one process.
3. Whole `collabsim run` jobs (simulate, save every chunk, assemble the results folder) with 1,
   2 and N local workers, and one million replications, with wall time and the peak memory of
   the whole process tree (parent and workers, sampled every 50 ms).
4. A 10-factor Sobol sweep with second-order indices, N = 1024 (22,528 design points) x 64
   replications: three_councils.yaml with its implementation cost fixed, leaving 10 uncertain
   inputs.

    python benchmarks/performance.py --only sweep    # one section (engines, scaling, jobs, sweep)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.montecarlo.executors import default_workers  # noqa: E402
from sim.montecarlo.runs import chunks_of, default_chunk_size, run_chunk  # noqa: E402

TYPICAL = ROOT / "scenarios" / "typical.yaml"


def variant(count: int = 5, horizon: int = 10):
    """typical.yaml with another partner count or horizon."""
    data = yaml.safe_load(TYPICAL.read_text())
    data["population"]["count"] = count
    data["horizon"] = horizon
    return sim.scenario_from_dict(data)


def vector_seconds(scenario, replications: int, seed: int = 1) -> float:
    """Time to simulate `replications` in this process, chunk by chunk, tables included."""
    size = default_chunk_size(scenario, "vector")
    run_chunk(scenario, seed, range(min(200, replications)))  # warm up
    start = time.perf_counter()
    for chunk in chunks_of(replications, size):
        run_chunk(scenario, seed, chunk)
    return time.perf_counter() - start


def mesa_seconds(scenario, replications: int, seed: int = 1) -> float:
    run_chunk(scenario, seed, range(2), engine="mesa")
    start = time.perf_counter()
    run_chunk(scenario, seed, range(replications), engine="mesa")
    return time.perf_counter() - start


def engines(mesa_n: int, vector_n: int) -> None:
    scenario = sim.load_scenario(TYPICAL)
    m = mesa_n / mesa_seconds(scenario, mesa_n)
    v = vector_n / vector_seconds(scenario, vector_n)
    print("\n## 1. Engines on typical.yaml, one process\n")
    print("| engine | replications | runs per second |\n|---|---:|---:|")
    print(f"| mesa | {mesa_n:,} | {m:,.0f} |")
    print(f"| vector | {vector_n:,} | {v:,.0f} |")
    print(f"\nratio vector / mesa: **{v / m:,.0f}x**")


def scaling(reps: list[int], partners: list[int], horizons: list[int], base_n: int) -> None:
    print("\n## 2. Vectorised engine scaling, one process\n")
    print("| replications | partners | horizon | chunk | seconds | µs per replication |")
    print("|---:|---:|---:|---:|---:|---:|")

    def row(scenario, n, label_p, label_h):
        s = vector_seconds(scenario, n)
        chunk = default_chunk_size(scenario, "vector")
        print(f"| {n:,} | {label_p} | {label_h} | {chunk:,} | {s:.2f} | {1e6 * s / n:.1f} |",
              flush=True)

    typical = sim.load_scenario(TYPICAL)
    for n in reps:
        row(typical, n, 5, 10)
    for p in partners:
        row(variant(count=p), max(base_n * 5 * 5 // (p * p), 200), p, 10)
    for h in horizons:
        row(variant(horizon=h), base_n, 5, h)


class TreeMemory:
    """Peak resident memory of a process and all its children, sampled in a thread."""

    def __init__(self, pid: int):
        import psutil

        self.root, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                total = sum(p.memory_info().rss for p in procs)
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def cli_job(replications: int, workers: int, folder: Path) -> tuple[float, int]:
    """Wall seconds and peak tree memory of `collabsim run` (the whole job)."""
    exe = shutil.which("collabsim", path=str(Path(sys.executable).parent))
    command = ([exe] if exe else [sys.executable, "-m", "sim.cli"]) + [
        "run", str(TYPICAL), "-n", str(replications), "--workers", str(workers),
        "--out", str(folder), "--json"]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=ROOT)
    memory = TreeMemory(proc.pid)
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    peak = memory.stop()
    if proc.returncode:
        raise SystemExit(f"collabsim run failed: {err.decode()[-2000:]}")
    shutil.rmtree(folder)
    return wall, peak


def jobs(pool_n: int, million: int) -> None:
    n_cores = default_workers()
    counts = sorted({1, 2, n_cores})
    print(f"\n## 3. Whole `collabsim run` jobs on typical.yaml ({n_cores} cores)\n")
    print("| replications | workers | wall seconds | runs per second | speed-up | peak memory |")
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        for w in counts:
            wall, peak = cli_job(pool_n, w, Path(tmp) / f"w{w}")
            base = base or wall
            print(f"| {pool_n:,} | {w} | {wall:.1f} | {pool_n / wall:,.0f} | {base / wall:.2f}x "
                  f"| {peak / 2**20:,.0f} MiB |", flush=True)
        wall, peak = cli_job(million, n_cores, Path(tmp) / "million")
        print(f"| {million:,} | {n_cores} | {wall:.1f} | {million / wall:,.0f} | | "
              f"{peak / 2**20:,.0f} MiB |")


def sweep_benchmark(samples: int, replications: int) -> None:
    from sim.analysis.sensitivity import sweep

    data = yaml.safe_load((ROOT / "scenarios" / "three_councils.yaml").read_text())
    data["charter"]["business_case"]["implementation_cost_m"] = 2.0
    scenario = sim.scenario_from_dict(data)
    workers = default_workers()
    start = time.perf_counter()
    result = sweep(scenario, "sobol", samples=samples, replications=replications,
                   second_order=True, executor=sim.Executor(workers=workers))
    wall = time.perf_counter() - start
    points = len(result.design)
    print(f"\n## 4. Sobol sweep, {len(result.factors.factor_names)} factors, second order "
          f"({workers} workers)\n")
    print("| N | design points | replications each | simulated runs | wall seconds | "
          "runs per second |\n|---:|---:|---:|---:|---:|---:|")
    print(f"| {samples:,} | {points:,} | {replications} | {points * replications:,} | "
          f"{wall:.1f} | {points * replications / wall:,.0f} |")
    a = result.adequacy["p_deliver"]
    print(f"\nwidest 95% CI half-width of ST: {a['widest_half_width']:.3f} "
          f"({'adequate' if a['adequate'] else 'not adequate'} by the 0.05 rule)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--only", choices=("engines", "scaling", "jobs", "sweep"),
                    help="run one section")
    args = ap.parse_args()
    q = args.quick
    print(f"machine: {platform.machine()}, {os.cpu_count()} logical cores "
          f"({default_workers()} usable), {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}, mesa "
          f"{__import__('mesa').__version__}")
    print(f"command: python benchmarks/performance.py{' --quick' if q else ''}")
    run = (lambda name: args.only in (None, name))
    if run("engines"):
        engines(mesa_n=50 if q else 300, vector_n=5_000 if q else 50_000)
    if run("scaling"):
        scaling(reps=[1_000, 10_000] if q else [1_000, 10_000, 100_000, 1_000_000],
                partners=[2, 10] if q else [2, 5, 10, 20, 50],
                horizons=[20] if q else [10, 20, 40], base_n=2_000 if q else 20_000)
    if run("jobs"):
        jobs(pool_n=20_000 if q else 200_000, million=50_000 if q else 1_000_000)
    if run("sweep"):
        sweep_benchmark(samples=64 if q else 1024, replications=16 if q else 64)


if __name__ == "__main__":
    main()
