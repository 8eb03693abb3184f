"""Behavioural constants drawn from a calibration's posterior (`behaviour: {posterior: PATH}`).

A calibration (`collabsim calibrate`, sim.analysis.calibration) leaves a posterior: particles, each
a
set of values of the constants it fitted, with weights. A scenario that names the folder runs
every replication with one particle's values, so a stress test carries the behavioural
uncertainty the evidence leaves, not only the partnership's.

The one rule, which both engines call: replication r (of design point `sample`, under root
seed S) draws its particle by weight with one uniform from a stream of its own, the child
BEHAVIOUR_STREAM of the replication's generator (as shocks have theirs, sim.partnership.noise). So
adding
`behaviour:` changes no other random number: the replication's inputs and every review's noise
are what they were, and variants run in pairs (sim.montecarlo.paired) draw the same particle.

The folder is read when the scenario loads (sim.scenario.posterior); this module chooses
particles, builds each particle's scenario, and says in plain words which patterns the
behaviour reproduces.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from sim.partnership.seeds import child_rng, replication_uniforms

#: The spawn key of a replication's behaviour stream ("BHAV"; shocks' streams start "SHOK").
BEHAVIOUR_STREAM = (0x42484156,)
#: A pattern counts as reproduced by the behaviour when this share of draws reproduce it
#: (sim.analysis.calibration.PASS_GOAL, the calibration report's own threshold).
PASS_GOAL = 0.8


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
