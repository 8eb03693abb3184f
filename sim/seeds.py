"""Every replication's own random stream, and the same streams for thousands of replications at
once.

Replication r of design point `sample` under root seed S runs on
``numpy.random.default_rng(replication_seed(S, r, sample))``: a PCG64 generator seeded from
``SeedSequence(S, spawn_key=(sample, r))``. Any replication can be recomputed on its own, and no
result depends on how replications are grouped, ordered or spread over machines.

Building those generators one by one costs about 20 microseconds per replication (two
SeedSequence hashes in Python), more than simulating the replication with the vectorised engine.
`replication_uniforms` computes the same two hashes for a whole block of replications with NumPy
array arithmetic (numpy's SeedSequence algorithm, which NumPy keeps stable across releases), sets
one reusable PCG64 to each resulting state and fills that replication's row. The rows are
bit-identical to what each replication's own generator draws (tests/test_seeds.py checks this
against NumPy itself), so the vectorised engine and the Mesa model see the same numbers.
"""

from __future__ import annotations

import numpy as np

# numpy/random/bit_generator.pyx (SeedSequence), stable since NumPy 1.17
_POOL = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_MASK32 = 0xFFFFFFFF
# PCG64's 128-bit LCG multiplier (numpy/random/src/pcg64/pcg64.h)
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645
_MASK128 = (1 << 128) - 1


def replication_seed(seed: int, replication: int, sample: int = 0) -> int:
    """The 128-bit integer seed of one replication, from SeedSequence(seed, spawn_key=(sample,
    replication)): independent of every other replication, reproducible alone.

    An integer, not a Generator, is what the Mesa model is given: Mesa 3.3's Model consumes a
    draw from a Generator it is handed (to seed its stdlib `random`), which would shift the
    run's stream in a Mesa-version-dependent way; from an integer both engines build the same
    stream with numpy.random.default_rng."""
    words = np.random.SeedSequence(seed, spawn_key=(sample, replication)).generate_state(
        2, dtype=np.uint64)
    return (int(words[0]) << 64) | int(words[1])


def replication_rng(seed: int, replication: int, sample: int = 0) -> np.random.Generator:
    """The generator of one replication (what PartnershipModel.rng is for that replication)."""
    return np.random.default_rng(replication_seed(seed, replication, sample))


class _HashConstants:
    """The data-independent sequence of hash constants a SeedSequence step runs through."""

    def __init__(self, init: int, mult: int):
        self.value, self.mult = init, mult

    def next(self) -> tuple[int, int]:
        current = self.value
        self.value = (self.value * self.mult) & _MASK32
        return current, self.value


def _hashmix(value, constants: _HashConstants):
    """SeedSequence's hashmix, on uint32 arrays (which wrap) or Python ints (masked)."""
    before, after = constants.next()
    value = _u32(value ^ before) * after
    value = _u32(value)
    return value ^ (value >> 16)


def _mix(x, y):
    result = _u32(_u32(_MIX_L * x) - _u32(_MIX_R * y))
    return result ^ (result >> 16)


def _u32(x):
    return x & _MASK32 if isinstance(x, int) else x.astype(np.uint32, copy=False)


def _int_words(n: int) -> list[int]:
    """SeedSequence's coercion of a non-negative integer to little-endian uint32 words."""
    if n < 0:
        raise ValueError(f"seeds must be non-negative, got {n}")
    words = [n & _MASK32]
    n >>= 32
    while n:
        words.append(n & _MASK32)
        n >>= 32
    return words


def _mix_entropy(entropy: list) -> tuple[list, _HashConstants]:
    """SeedSequence.mix_entropy over words that are ints (shared) or uint32 arrays."""
    constants = _HashConstants(_INIT_A, _MULT_A)
    pool = [_hashmix(entropy[i] if i < len(entropy) else 0, constants) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = _mix(pool[dst], _hashmix(pool[src], constants))
    for word in entropy[_POOL:]:
        for dst in range(_POOL):
            pool[dst] = _mix(pool[dst], _hashmix(word, constants))
    return pool


def _generate_words(pool: list, n_words32: int) -> list:
    constants = _HashConstants(_INIT_B, _MULT_B)
    out = []
    for i in range(n_words32):
        before, after = constants.next()
        value = _u32(_u32(pool[i % _POOL] ^ before) * after)
        out.append(value ^ (value >> 16))
    return out


def _pcg64_states(seed: int, replications: np.ndarray, sample, stream: tuple = ()):
    """(state, inc) of the PCG64 generator of each pair of replication r and sample index s
    (`sample` an int, or an array like `replications`): default_rng(replication_seed(seed, r,
    s)), or with `stream` (a tuple of 32-bit ints) the child stream of it,
    default_rng(SeedSequence(replication_seed(seed, r, s), spawn_key=stream))."""
    r = np.asarray(replications, dtype=np.int64)
    k = np.broadcast_to(np.asarray(sample, dtype=np.int64), r.shape)
    for name, values in (("replication", r), ("sample", k)):
        if values.size and (values.min() < 0 or values.max() > _MASK32):
            raise ValueError(f"{name} indices must lie in [0, 2**32)")
    if any(not 0 <= int(word) <= _MASK32 for word in stream):
        raise ValueError("stream keys must lie in [0, 2**32)")
    run = _int_words(int(seed))
    run += [0] * (_POOL - len(run))              # padded because a spawn key follows
    entropy = run + [k.astype(np.uint32), r.astype(np.uint32)]
    seed_words = _generate_words(_mix_entropy(entropy), 4)  # replication_seed, 4 x uint32
    # replication_seed = w64[0] << 64 | w64[1]; SeedSequence coerces it to little-endian words
    # (four of them: with a spawn key the run entropy is padded to the pool size anyway)
    words = [np.broadcast_to(_u32(w), r.shape) for w in seed_words]
    entropy = [words[2], words[3], words[0], words[1], *[int(word) for word in stream]]
    state = [w.astype(np.uint64) for w in _generate_words(_mix_entropy(entropy), 8)]
    w64 = [state[2 * i] | (state[2 * i + 1] << np.uint64(32)) for i in range(4)]
    return w64


def child_rng(rng: np.random.Generator, stream: tuple) -> np.random.Generator:
    """The generator of a named child stream of `rng` (a generator built from a seed, as every
    run's is): default_rng(SeedSequence(its entropy, spawn_key=its spawn key + stream)). Drawing
    from the child never moves `rng`, and the child depends only on `rng`'s seed and `stream`:
    what lets a shock have its own random numbers (sim.noise)."""
    parent = rng.bit_generator.seed_seq
    return np.random.default_rng(np.random.SeedSequence(
        parent.entropy, spawn_key=tuple(parent.spawn_key) + tuple(stream)))


def replication_uniforms(seed: int, replications, count: int, sample=0,
                         out: np.ndarray | None = None, stream: tuple = ()) -> np.ndarray:
    """[len(replications), count] uniforms: row k is exactly
    ``replication_rng(seed, replications[k], sample[k]).random(count)`` (`sample` an int for
    every row, or one per row), or with `stream` the same of child_rng(that generator,
    stream). `out` may supply the array to fill (of that shape)."""
    replications = np.asarray(replications, dtype=np.int64).reshape(-1)
    if out is None:
        out = np.empty((len(replications), count))
    elif out.shape != (len(replications), count):
        raise ValueError(f"out has shape {out.shape}, need {(len(replications), count)}")
    if not len(replications):
        return out
    w64 = [w.tolist() for w in _pcg64_states(seed, replications, sample, stream)]
    bits = np.random.PCG64(0)
    generator = np.random.Generator(bits)
    state = {"bit_generator": "PCG64", "state": {"state": 0, "inc": 1},
             "has_uint32": 0, "uinteger": 0}
    for k, (a, b, c, d) in enumerate(zip(*w64)):
        inc = ((((c << 64) | d) << 1) | 1) & _MASK128
        # pcg_setseq_128_srandom_r: state 0, step (-> inc), add initstate, step
        s = ((inc + ((a << 64) | b)) * _PCG_MULT + inc) & _MASK128
        state["state"] = {"state": s, "inc": inc}
        bits.state = state
        generator.random(out=out[k])
    return out
