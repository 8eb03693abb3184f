"""All the randomness of one run, drawn up front from the run's own streams in a fixed order.

A run draws from its own generator: first one uniform per uncertain input of the scenario
(shocks' own inputs excepted), then one block of uniforms per review cycle, whatever happens in
it (a partner that has left still has its numbers, they are simply unused). The block's width
depends only on the number of partner slots.

Each shock has a stream of its own, a child of the run's generator named by the shock's
identity (its kind, its target and how many identical shocks come before it in the file:
`shock_stream`). It holds that shock's uncertain rate and magnitude, then, for every review,
whether it strikes, whom it picks and one value per partner. So adding, removing or moving a
shock changes no other random number: the same run with and without a budget cut at review 4 is
identical, figure for figure, until review 4 (common random numbers for stress tests and charter
comparisons).

The trajectory therefore depends only on the seed, never on the engine, the order in which
agents act, or how replications are spread over workers; and a vectorised engine can stack the
same blocks for many replications.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

SQRT3 = np.sqrt(3.0)
#: First spawn-key word of every shock stream ("SHOK"), so no other child stream can collide.
SHOCK_DOMAIN = 0x53484F4B


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
    exit: np.ndarray         # [..., n]     uniforms: the random part of exit decisions


@dataclass(frozen=True)
class ShockNoise:
    """One review's numbers of every shock (from each shock's own stream)."""

    occur: np.ndarray        # [..., s]     uniforms: does a random shock strike?
    target: np.ndarray       # [..., s]     uniforms: which partner does an 'any' shock hit?
    value: np.ndarray        # [..., s, n]  uniforms: per-partner values (new ambition, chance)


def width(n_partners: int) -> int:
    """Uniforms per review cycle in a run's own stream, for `n_partners` partner slots."""
    n = n_partners
    return 4 * n + n * n


def shock_width(n_partners: int) -> int:
    """Uniforms per review cycle in a shock's stream."""
    return 2 + n_partners


def shock_stream(kind: str, target: str, ordinal: int) -> tuple[int, int]:
    """The spawn key of a shock's stream: the shock's identity (kind, target name, and how many
    earlier shocks in the scenario share both), hashed. Changing its timing, rate or magnitude
    keeps its stream; so does adding or removing other shocks."""
    return (SHOCK_DOMAIN, zlib.crc32(f"{kind}\x1f{target}\x1f{ordinal}".encode()))


def draw_run(rng: np.random.Generator, horizon: int, n_partners: int) -> np.ndarray:
    """One run's cycle noise from its own generator: uniforms of shape [horizon, width]."""
    return rng.random((horizon, width(n_partners)))


def cycle_noise(block: np.ndarray, n: int) -> CycleNoise:
    """Slice one cycle's uniforms (shape [..., width]) into named, transformed parts."""
    lapse = block[..., :n]
    delivery = unit_noise(block[..., n:2 * n])
    observe = unit_noise(block[..., 2 * n:2 * n + n * n]).reshape(block.shape[:-1] + (n, n))
    detect = block[..., 2 * n + n * n:3 * n + n * n]
    exit_u = block[..., 3 * n + n * n:4 * n + n * n]
    return CycleNoise(lapse, delivery, observe, detect, exit_u)


def shock_noise(blocks: np.ndarray, n: int) -> ShockNoise:
    """One cycle's numbers of every shock: `blocks` [..., s, shock_width] -> named parts."""
    return ShockNoise(blocks[..., 0], blocks[..., 1], blocks[..., 2:2 + n])
