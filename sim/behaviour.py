"""Behavioural constants drawn from a calibration's posterior (`behaviour: {posterior: PATH}`).

A calibration (`collabsim calibrate`, sim.calibration) leaves a posterior: particles, each a
set of values of the constants it fitted, with weights. A scenario that names the folder runs
every replication with one particle's values, so a stress test carries the behavioural
uncertainty the evidence leaves, not only the partnership's.

The one rule, which both engines call: replication r (of design point `sample`, under root
seed S) draws its particle by weight with one uniform from a stream of its own, the child
BEHAVIOUR_STREAM of the replication's generator (as shocks have theirs, sim.noise). So adding
`behaviour:` changes no other random number: the replication's inputs and every review's noise
are what they were, and variants run in pairs (sim.paired) draw the same particle.

This module reads the folder (safely: regular files under size caps), chooses particles, builds
each particle's scenario, and says in plain words which patterns the behaviour reproduces.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from sim.seeds import child_rng, replication_uniforms

#: The spawn key of a replication's behaviour stream ("BHAV"; shocks' streams start "SHOK").
BEHAVIOUR_STREAM = (0x42484156,)
#: The largest posterior.parquet, patterns.parquet or manifest.json read from a folder.
MAX_POSTERIOR_BYTES = 16_000_000
#: A pattern counts as reproduced by the behaviour when this share of draws reproduce it
#: (sim.calibration.PASS_GOAL, the calibration report's own threshold).
PASS_GOAL = 0.8


class PosteriorError(ValueError):
    """A `behaviour: {posterior: PATH}` that cannot be used (the message names what)."""


# --- reading a calibration folder ----------------------------------------------------------

def _read(path: Path) -> bytes:
    from sim.loading import UnreadableFile, read_regular_file

    try:
        return read_regular_file(path, MAX_POSTERIOR_BYTES)
    except UnreadableFile as exc:
        raise PosteriorError(f"{path.name}: {exc}") from None


def _parquet(raw: bytes, name: str):
    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:       # pyarrow raises many kinds for a damaged file
        raise PosteriorError(f"{name}: not a readable Parquet table ({type(exc).__name__})") \
            from None


def read_posterior(posterior: str, base: str | os.PathLike = ".") -> dict:
    """The `particles` of a Behaviour, read from the calibration folder `posterior` (relative
    to `base`): its posterior's columns, values and weights, the file's sha256, and the
    calibration's pattern pass rates. PosteriorError says what is wrong."""
    folder = Path(posterior)
    if not folder.is_absolute():
        folder = Path(os.path.normpath(Path(base) / folder))
    if not folder.exists():
        raise PosteriorError(f"no such folder: {folder}")
    if not folder.is_dir():
        raise PosteriorError(f"{folder}: not a folder; give a calibration results folder "
                             "(written by `collabsim calibrate`)")
    if not (folder / "posterior.parquet").exists():
        raise PosteriorError(f"{folder}: not a calibration results folder (no "
                             "posterior.parquet; `collabsim calibrate --out` writes one)")
    try:
        manifest = json.loads(_read(folder / "manifest.json").decode("utf-8"))
    except PosteriorError:
        raise PosteriorError(f"{folder}: not a finished calibration (no readable "
                             "manifest.json)") from None
    except (UnicodeDecodeError, ValueError):
        raise PosteriorError(f"{folder}: manifest.json is not JSON") from None
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind != "calibrate":
        raise PosteriorError(f"{folder}: a {kind or 'results'} folder, not a calibration "
                             "(manifest.json's kind is not \"calibrate\")")
    raw = _read(folder / "posterior.parquet")
    table = _parquet(raw, "posterior.parquet")
    if "weight" not in table.columns:
        raise PosteriorError("posterior.parquet: no `weight` column")
    paths = [str(c) for c in table.columns if c != "weight"]
    if not paths:
        raise PosteriorError("posterior.parquet: no parameter columns")
    numeric = table.select_dtypes(include="number").columns
    for column in [*paths, "weight"]:
        if column not in numeric:
            raise PosteriorError(f"posterior.parquet: column {column} is not numbers")
    values = table[paths].to_numpy(float)
    weights = table["weight"].to_numpy(float)
    if not np.isfinite(weights).all() or (weights <= 0).any():
        raise PosteriorError("posterior.parquet: weights must be finite and positive")
    if not np.isfinite(values).all():
        raise PosteriorError("posterior.parquet: a value is not finite")
    patterns = []
    if (folder / "patterns.parquet").exists():
        rates = _parquet(_read(folder / "patterns.parquet"), "patterns.parquet")
        if not {"name", "role", "pass_rate"} <= set(rates.columns):
            raise PosteriorError("patterns.parquet: needs name, role and pass_rate columns")
        patterns = [{"name": str(n), "role": str(r), "pass_rate": float(p)}
                    for n, r, p in zip(rates["name"], rates["role"], rates["pass_rate"])]
    return {"folder": str(folder), "sha256": hashlib.sha256(raw).hexdigest(), "paths": paths,
            "values": values.tolist(), "weights": weights.tolist(), "patterns": patterns}


def fill_particles(data, source: str, base=None):
    """`data` (a scenario mapping) with its `behaviour.particles` read from the posterior
    folder, when it names one and carries no particles yet (ScenarioError otherwise). `base`
    is the folder a relative PATH is read from: the scenario file's, by default."""
    from sim.loading import ScenarioError

    behaviour = data.get("behaviour") if isinstance(data, dict) else None
    if not isinstance(behaviour, dict) or "particles" in behaviour \
            or not isinstance(behaviour.get("posterior"), str) or not behaviour["posterior"]:
        return data
    if base is None:
        base = Path(source).parent if not source.startswith("<") else Path(".")
    try:
        particles = read_posterior(behaviour["posterior"], base)
    except PosteriorError as exc:
        raise ScenarioError(source, [f"behaviour.posterior: {exc}"]) from None
    return {**data, "behaviour": {**behaviour, "particles": particles}}


# --- choosing a particle (the rule both engines call) --------------------------------------

def choose(weights, u) -> np.ndarray:
    """The particle each uniform `u` picks, with chance proportional to its weight."""
    cum = np.cumsum(np.asarray(weights, dtype=float))
    picked = np.searchsorted(cum, np.asarray(u, dtype=float) * cum[-1], side="right")
    return np.minimum(picked, len(cum) - 1)


def replication_particles(particles, seed: int, replications, sample=0) -> np.ndarray:
    """[R] the particle of each replication (vectorised): one uniform from each replication's
    behaviour stream."""
    u = replication_uniforms(seed, replications, 1, sample, stream=BEHAVIOUR_STREAM)[:, 0]
    return choose(particles.weights, u)


def model_particle(particles, rng: np.random.Generator) -> int:
    """The particle of the run whose generator is `rng` (the Mesa model): the same uniform."""
    return int(choose(particles.weights, child_rng(rng, BEHAVIOUR_STREAM).random(1))[0])


def values_of(particles, k: int) -> dict:
    """Particle k's values, by path."""
    return dict(zip(particles.paths, particles.values[k]))


_CACHE: OrderedDict = OrderedDict()


def particle_scenario(scenario, k: int):
    """`scenario` as particle k runs it: its `behaviour` dropped and the particle's values set
    (validated as a scenario is). Kept for the scenario's next chunks (a small cache)."""
    key = (id(scenario), int(k))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is scenario:
        return hit[1]
    plain = scenario.model_copy(update={"behaviour": None})
    built = plain.with_values(values_of(scenario.behaviour.particles, k),
                              source=f"{scenario.name} (posterior particle {k})")
    _CACHE[key] = (scenario, built)
    while len(_CACHE) > 2048:
        _CACHE.popitem(last=False)
    return built


def particles_of(scenario):
    """The scenario's posterior particles, or None when it has no `behaviour:`."""
    behaviour = getattr(scenario, "behaviour", None)
    return behaviour.particles if behaviour is not None else None


# --- what to record and say ----------------------------------------------------------------

def posterior_table(particles):
    """The particles as a table (one column per path, then `weight`), as the folder held it."""
    import pandas as pd

    table = pd.DataFrame(particles.values, columns=particles.paths)
    table["weight"] = particles.weights
    return table


def summary(scenario) -> dict | None:
    """What a run's summary says of its behaviour: the posterior, its size, and how many of
    the calibration's patterns it reproduces in at least PASS_GOAL of draws, by role."""
    particles = particles_of(scenario)
    if particles is None:
        return None
    out = {"posterior": scenario.behaviour.posterior, "folder": particles.folder,
           "posterior_sha256": particles.sha256, "particles": len(particles.weights),
           "parameters": list(particles.paths), "pass_goal": PASS_GOAL}
    for role in ("calibrate", "validate"):
        rates = [p.pass_rate for p in particles.patterns if p.role == role]
        out[f"{role}_patterns"] = len(rates)
        out[f"{role}_reproduced"] = sum(r >= PASS_GOAL for r in rates)
    out["not_reproduced"] = [p.name for p in particles.patterns if p.pass_rate < PASS_GOAL]
    return out


def sentence(info: dict) -> str:
    """The summary in plain words."""
    n = info["particles"]
    names = [p.removeprefix("parameters.") for p in info["parameters"]]
    text = (f"Behavioural constants drawn from the posterior at {info['posterior']}: "
            f"{n:,} particle{'s' if n != 1 else ''} of {len(names)} constant"
            f"{'s' if len(names) != 1 else ''} ({', '.join(names)}), one particle per "
            "replication.")
    parts = []
    for role in ("calibrate", "validate"):
        if info.get(f"{role}_patterns"):
            parts.append(f"{info[f'{role}_reproduced']} of {info[f'{role}_patterns']} "
                         f"{role} patterns")
    if parts:
        goal = f"{100 * info['pass_goal']:.0f}%"
        text += (f" The behaviour used reproduces {' and '.join(parts)} in at least {goal} of "
                 "the calibration's posterior draws")
        missed = info.get("not_reproduced") or []
        text += f" (not: {', '.join(missed)})." if missed else "."
    else:
        text += " Its calibration recorded no pattern pass rates."
    return text
