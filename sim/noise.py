"""All the randomness of one run, drawn up front from the run's own generator in a fixed order.

A run draws exactly two blocks of uniform numbers: one for its uncertain inputs, then one for
every review cycle (whatever happens in it: a partner that has left still has its numbers, they
are simply unused). So the trajectory depends only on the seed, never on the engine, the order
in which agents act, or how replications are spread over workers; and a vectorised engine can
stack the same blocks for many replications.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SQRT3 = np.sqrt(3.0)


def unit_noise(u):
    """Map U(0, 1) to a zero-mean, unit-variance uniform on [-sqrt 3, sqrt 3]."""
    return (2.0 * u - 1.0) * SQRT3


@dataclass(frozen=True)
class CycleNoise:
    """The random numbers of one review cycle (arrays over partners, shape [..., n])."""

    lapse: np.ndarray        # [..., n]     uniforms for engagement (lapse / re-engage)
    delivery: np.ndarray     # [..., n]     unit noise on follow-through
    observe: np.ndarray      # [..., n, n]  unit noise on reading each other's delivery
    detect: np.ndarray       # [..., n]     uniforms: is a breach called out?
    shock_occur: np.ndarray  # [..., s]     uniforms: does a random shock happen?
    shock_target: np.ndarray  # [..., s]    uniforms: which partner does an 'any' shock hit?
    shock_value: np.ndarray  # [..., s, n]  uniforms: per-partner values (e.g. new ambition)


def width(n_partners: int, n_shocks: int) -> int:
    """Uniforms per cycle for a partnership of `n_partners` slots and `n_shocks` shock specs."""
    n, s = n_partners, n_shocks
    return 3 * n + n * n + s * (2 + n)


def draw_run(rng: np.random.Generator, horizon: int, n_partners: int, n_shocks: int) -> np.ndarray:
    """One run's cycle noise: uniforms of shape [horizon, width]."""
    return rng.random((horizon, width(n_partners, n_shocks)))


def cycle_noise(block: np.ndarray, n: int, s: int) -> CycleNoise:
    """Slice one cycle's uniforms (shape [..., width]) into named, transformed parts."""
    i = 0

    def take(k):
        nonlocal i
        part = block[..., i:i + k]
        i += k
        return part

    lapse = take(n)
    delivery = unit_noise(take(n))
    observe = unit_noise(take(n * n)).reshape(block.shape[:-1] + (n, n))
    detect = take(n)
    shocks = take(s * (2 + n)).reshape(block.shape[:-1] + (s, 2 + n))
    return CycleNoise(lapse, delivery, observe, detect,
                      shocks[..., 0], shocks[..., 1], shocks[..., 2:])
