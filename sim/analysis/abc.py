"""Approximate Bayesian computation by sequential Monte Carlo (pyabc's ABC-SMC), made
reproducible and resumable the way every other collabsim job is.

pyabc does the inference: priors, perturbation kernels, importance weights, the epsilon
schedule, the history database. What collabsim adds is a pyabc Sampler (`BatchSampler`) that
  - runs candidate particles in fixed batches in a fixed order, each candidate from its own seed
    (root seed, generation, batch, slot), so the particles accepted are the same whatever the
    number of workers or the executor (the local pool or a Dask cluster, sim.montecarlo.executors);
  - saves every finished batch to the results folder as plain JSON, so a calibration killed at
    any moment resumes from pyabc's database and the saved batches, and ends identical.

The distance between a candidate's statistics and the targets is the history-matching
implausibility of the patterns it misses: each statistic's distance outside its target
interval, in units of the target's stated uncertainty, squared and summed. A candidate that
reproduces every pattern is at distance 0.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional

import numpy as np
import pandas as pd

from sim.montecarlo import files
from sim.montecarlo.executors import Executor, as_executor

#: Candidates per batch (one executor task). Fixed, never derived from the number of workers,
#: so that the particles accepted do not depend on it.
BATCH = 8


@dataclass(frozen=True)
class Prior:
    """A uniform prior on one field (a field path; a bare name is `parameters.NAME`)."""

    path: str
    low: float
    high: float

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12.0


#: A statistic's own standard error, when a simulation reports it, is under NAME + SE.
SE = "~se"
#: The least scale a miss is measured in (a statistic with no spread at all).
LEAST_SCALE = 1e-3


@dataclass(frozen=True)
class Target:
    """A statistic's target interval (open ends infinite) and the scale misses are measured
    in: a fixed one, or (None) the standard error the simulation reports with the statistic
    (history matching's implausibility: a miss in units of the estimate's own noise)."""

    low: float
    high: float
    scale: Optional[float] = None

    def miss(self, value: float, se: float = math.nan) -> float:
        """How far `value` lies outside the interval, in units of the scale (0 inside)."""
        if value is None or not math.isfinite(value):
            return math.inf
        scale = self.scale if self.scale else max(se if math.isfinite(se) else 0.0,
                                                  LEAST_SCALE)
        return max(0.0, self.low - value, value - self.high) / scale


def implausibility(stats: Mapping[str, float], targets: Mapping[str, Target]) -> float:
    """Sum over targets of the squared miss: 0 when every pattern is reproduced."""
    return float(sum(t.miss(stats.get(name, math.nan), stats.get(name + SE, math.nan)) ** 2
                     for name, t in targets.items()))


def slot_seed(seed: int, t: int, batch: int, slot: int) -> int:
    """The seed of one candidate: its own stream (root seed, generation, batch, slot)."""
    ss = np.random.SeedSequence([int(seed), 0x414243, t + 2, batch, slot])   # t >= -2
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def run_slots(simulate_one_blob: bytes, seeds: list[int]) -> list[dict]:
    """Run one batch of candidates (a top-level function for executors): each seeds NumPy's
    global generator (pyabc draws proposals from it) and runs pyabc's simulate_one."""
    import cloudpickle

    simulate_one = cloudpickle.loads(simulate_one_blob)
    out = []
    for s in seeds:
        np.random.seed(s)
        out.append(_particle_json(simulate_one()))
    return out


def _particle_json(p) -> dict:
    return {"m": int(p.m), "parameter": {k: float(v) for k, v in p.parameter.items()},
            "weight": float(p.weight), "sum_stat": {k: float(v) for k, v in p.sum_stat.items()},
            "distance": float(p.distance), "accepted": bool(p.accepted),
            "proposal_id": int(p.proposal_id)}


def _particle(d: dict):
    from pyabc import Parameter
    from pyabc.population import Particle

    return Particle(m=d["m"], parameter=Parameter(d["parameter"]), weight=d["weight"],
                    sum_stat=d["sum_stat"], distance=d["distance"], accepted=d["accepted"],
                    proposal_id=d["proposal_id"])


def _make_sampler(seed: int, executor: Executor, folder: Optional[Path],
                  on_batch: Optional[Callable[[int, int, int], None]]):
    """A BatchSampler (a pyabc Sampler subclass, built here so pyabc is imported only when a
    calibration runs)."""
    import cloudpickle
    from pyabc.sampler import Sampler

    class BatchSampler(Sampler):
        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                    all_accepted=False, ana_vars=None):
            sample = self._create_empty_sample()
            blob = cloudpickle.dumps(simulate_one)
            accepted = evaluated = 0
            batch = 0
            rate = 1.0      # acceptance so far in this generation (a first guess: all)
            while accepted < n and evaluated < max_eval:
                # how many batches to run now only decides how much is computed in vain: the
                # particles kept are the first n accepted in batch and slot order, whatever ran
                wanted = math.ceil((n - accepted) / max(rate, 0.05) / BATCH)
                keys = range(batch, batch + max(wanted, executor.workers, 1))
                found = {b: _load_batch(folder, t, b) for b in keys}
                tasks = {b: (run_slots, (blob, [slot_seed(seed, t, b, i) for i in range(BATCH)]))
                         for b in keys if found[b] is None}
                for b, particles in executor.execute(tasks):
                    _save_batch(folder, t, b, particles)
                    found[b] = particles
                for b in keys:                   # in batch and slot order, whatever finished first
                    for d in found[b]:
                        if accepted >= n or evaluated >= max_eval:
                            break
                        p = _particle(d)
                        sample.append(p)
                        evaluated += 1
                        accepted += p.accepted
                batch = keys.stop
                rate = max(accepted, 1) / max(evaluated, 1)
                if on_batch is not None:
                    on_batch(t, accepted, evaluated)
            self.nr_evaluations_ = evaluated
            if accepted < n:
                sample.ok = False
            return sample

    return BatchSampler()


def _batch_path(folder: Path, t: int, b: int) -> Path:
    return folder / "batches" / f"t{t + 2:03d}-b{b:06d}.json"


def _load_batch(folder: Optional[Path], t: int, b: int):
    if folder is None:
        return None
    path = _batch_path(folder, t, b)
    return json.loads(files.read_file(path)) if path.is_file() else None


def _save_batch(folder: Optional[Path], t: int, b: int, particles: list[dict]) -> None:
    if folder is not None:
        path = _batch_path(folder, t, b)
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_json(path, particles)


def key_of(i: int) -> str:
    """pyabc's name for parameter i (field paths hold characters pyabc's database would quote)."""
    return f"p{i}"


@dataclass
class AbcResult:
    """The posterior (one row per particle of the last generation: values and weight), each
    generation's epsilon and acceptance, and the priors."""

    priors: list[Prior]
    posterior: pd.DataFrame
    generations: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def contraction(self) -> pd.DataFrame:
        """Per parameter: prior and posterior mean and sd, and the contraction 1 - posterior
        variance / prior variance (0: the evidence taught nothing; 1: pinned down)."""
        w = self.posterior["weight"].to_numpy()
        rows = []
        for prior in self.priors:
            x = self.posterior[prior.path].to_numpy()
            mean = float(np.sum(w * x))
            var = float(np.sum(w * (x - mean) ** 2))
            rows.append({"parameter": prior.path, "prior_low": prior.low,
                         "prior_high": prior.high, "posterior_mean": mean,
                         "posterior_sd": math.sqrt(var),
                         "q05": _weighted_quantile(x, w, 0.05),
                         "q50": _weighted_quantile(x, w, 0.5),
                         "q95": _weighted_quantile(x, w, 0.95),
                         "contraction": 1.0 - var / prior.variance})
        return pd.DataFrame(rows)

    def draws(self, k: int, seed: int) -> pd.DataFrame:
        """k parameter sets drawn from the weighted posterior (with replacement, reproducibly)."""
        rng = np.random.default_rng([int(seed), 0x5052])
        w = self.posterior["weight"].to_numpy()
        rows = rng.choice(len(w), size=k, replace=True, p=w / w.sum())
        return self.posterior.iloc[rows][[p.path for p in self.priors]].reset_index(drop=True)


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    return float(x[order][min(np.searchsorted(cum, q), len(x) - 1)])


def run_abc(simulate: Callable[[dict, int], dict], targets: Mapping[str, Target],
            priors: list[Prior], *, population: int = 100, generations: int = 6,
            seed: int = 1, executor: Optional[Executor] = None,
            folder: Optional[Path] = None, minimum_epsilon: float = 0.0,
            on_batch: Optional[Callable[[int, int, int], None]] = None) -> AbcResult:
    """ABC-SMC of `priors` against `targets`: `simulate(values, seed)` maps {path: value} and a
    seed to {statistic: value}. Batches of candidates run where `executor` says; after each,
    `on_batch(generation, accepted, evaluated)`. With `folder`, pyabc's database and every
    finished batch are kept there, and calling again with the same folder resumes where the
    last call stopped."""
    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("pyabc").setLevel(logging.WARNING)
    paths = [p.path for p in priors]
    prior = pyabc.Distribution(**{key_of(i): pyabc.RV("uniform", p.low, p.high - p.low)
                                  for i, p in enumerate(priors)})
    names = list(targets)

    def model(parameter):
        values = {path: float(parameter[key_of(i)]) for i, path in enumerate(paths)}
        stats = simulate(values, int(np.random.randint(0, 2**31 - 1)))
        return {key: float(stats.get(key, math.nan)) for name in names
                for key in (name, name + SE)}

    def distance(x, x0):
        return implausibility(x, targets)

    sampler = _make_sampler(seed, as_executor(executor), Path(folder) if folder else None,
                            on_batch)
    abc = pyabc.ABCSMC(model, prior, distance, population_size=population, sampler=sampler)
    if folder is None:
        db = "sqlite://"
        abc.new(db, {key: 0.0 for name in names for key in (name, name + SE)})
        done = 0
    else:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        db = f"sqlite:///{(folder / 'abc.db').resolve()}"
        if (folder / "abc.db").is_file() and _run_exists(db):
            history = abc.load(db, 1)
            done = history.max_t + 1
        else:   # nothing finished yet (the saved batches make starting again quick)
            (folder / "abc.db").unlink(missing_ok=True)
            abc.new(db, {key: 0.0 for name in names for key in (name, name + SE)})
            done = 0
    np.random.seed(slot_seed(seed, -2, 0, 0))    # pyabc's own draws between generations
    history = abc.history
    if done < generations and not _converged(history, minimum_epsilon):
        history = abc.run(max_nr_populations=generations - done, minimum_epsilon=minimum_epsilon)
    frame, w = history.get_distribution(m=0, t=history.max_t)
    posterior = pd.DataFrame({path: frame[key_of(i)].to_numpy()
                              for i, path in enumerate(paths)})
    posterior["weight"] = np.asarray(w, dtype=float) / np.sum(w)
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    gens = pd.DataFrame({"generation": pops["t"].to_numpy() + 1,
                         "epsilon": pops["epsilon"].to_numpy(),
                         "evaluations": pops["samples"].to_numpy()})
    gens["acceptance"] = population / gens["evaluations"]
    return AbcResult(list(priors), posterior, gens, {"population": population,
                                                     "generations": generations, "seed": seed})


def _run_exists(db: str) -> bool:
    import pyabc

    try:
        return pyabc.History(db).n_populations > 0
    except Exception:   # an empty or foreign database: start afresh  # noqa: BLE001
        return False


def _converged(history, minimum_epsilon: float) -> bool:
    try:
        pops = history.get_all_populations()
    except Exception:  # noqa: BLE001 - nothing run yet
        return False
    pops = pops[pops["t"] >= 0]
    return len(pops) > 0 and float(pops["epsilon"].iloc[-1]) <= minimum_epsilon


def parse_prior(text: str, defaults: Callable[[str], tuple[float, float]]) -> Prior:
    """`PATH` (its default range from `defaults(path)`) or `PATH=LOW:HIGH`; a bare name means
    `parameters.NAME`."""
    m = re.fullmatch(r"\s*([^=]+?)\s*(?:=\s*([^:]+):([^:]+))?\s*", text)
    if not m:
        raise ValueError(f"{text!r}: write PATH or PATH=LOW:HIGH")
    path = m.group(1) if "." in m.group(1) else f"parameters.{m.group(1)}"
    if m.group(2) is None:
        low, high = defaults(path)
    else:
        try:
            low, high = float(m.group(2)), float(m.group(3))
        except ValueError:
            raise ValueError(f"{text!r}: LOW and HIGH must be numbers") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{text!r}: need finite LOW < HIGH")
    return Prior(path, low, high)
