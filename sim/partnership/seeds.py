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

import threading

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
    what lets a shock have its own random numbers (sim.partnership.noise)."""
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
    states = _seeded_states(_pcg64_states(seed, replications, sample, stream))
    _filler().fill(states, out)
    return out


_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_M32 = np.uint64(0xFFFFFFFF)
_PCG_MULT_LO = np.uint64(_PCG_MULT & 0xFFFFFFFFFFFFFFFF)
_PCG_MULT_HI = np.uint64(_PCG_MULT >> 64)


def _mulhi64(u, v):
    """The high 64 bits of u x v for uint64 arrays (Hacker's Delight, 32-bit limbs)."""
    s32 = np.uint64(32)
    u0, u1 = u & _M32, u >> s32
    v0, v1 = v & _M32, v >> s32
    t = u0 * v0
    t = u1 * v0 + (t >> s32)
    w1, w2 = t & _M32, t >> s32
    t = u0 * v1 + w1
    return u1 * v1 + w2 + (t >> s32)


def _seeded_states(w64) -> np.ndarray:
    """[R, 4] uint64 (state low, state high, inc low, inc high) of each PCG64 after seeding
    from its SeedSequence words `w64` (pcg_setseq_128_srandom_r: inc from the last two words,
    state 0, step, add the first two words, step), in 128-bit arithmetic on uint64 arrays."""
    a, b, c, d = w64
    one = np.uint64(1)
    with np.errstate(over="ignore"):
        inc_lo = (d << one) | one
        inc_hi = (c << one) | (d >> np.uint64(63))
        x_lo = b + inc_lo                                   # initstate + inc
        x_hi = a + inc_hi + (x_lo < b).astype(np.uint64)
        p_lo = x_lo * _PCG_MULT_LO                          # x * multiplier (mod 2**128)
        p_hi = _mulhi64(x_lo, _PCG_MULT_LO) + x_lo * _PCG_MULT_HI + x_hi * _PCG_MULT_LO
        s_lo = p_lo + inc_lo                                # + inc
        s_hi = p_hi + inc_hi + (s_lo < p_lo).astype(np.uint64)
    return np.stack([s_lo, s_hi, inc_lo, inc_hi], axis=1)


class _Filler:
    """Fills rows of uniforms from many PCG64 states with one reusable generator.

    Setting a state through `PCG64.state` parses a dict and costs more than drawing a row, so
    when it can, this writes each state straight into the generator's memory, through the
    address NumPy publishes for low-level use (`PCG64.ctypes.state_address`). How NumPy lays out
    its 128-bit numbers depends on the build, so the layout is found by probing, and checked:
    a probe row drawn both ways must match, or the slow, documented way is used."""

    def __init__(self):
        import ctypes

        self.bits = np.random.PCG64(0)
        self.generator = np.random.Generator(self.bits)
        self.memory = None
        self._ctypes = ctypes
        try:
            address = ctypes.c_void_p.from_address(self.bits.ctypes.state_address).value
            memory = np.ctypeslib.as_array((ctypes.c_uint64 * 4).from_address(address))
            probe = {"state": (7 << 64) | 5, "inc": (11 << 64) | 9}   # odd inc, as PCG needs
            self._set(probe)
            order = {tuple(memory.tolist()): None}
            layouts = {(5, 7, 9, 11): [0, 1, 2, 3], (7, 5, 11, 9): [1, 0, 3, 2]}
            self.order = layouts.get(next(iter(order)))
            if self.order is not None:
                self.memory = memory
                self._check()
        except (AttributeError, TypeError, ValueError, OSError):
            self.memory = None

    def _set(self, state: dict) -> None:
        self.bits.state = {"bit_generator": "PCG64", "state": state, "has_uint32": 0,
                           "uinteger": 0}

    def _check(self) -> None:
        states = np.array([[3, 1, 13, 0], [2**63 + 1, 17, 2**40 + 1, 3]], dtype=np.uint64)
        fast, slow = np.empty((2, 8)), np.empty((2, 8))
        self._fill_fast(states, fast)
        self._fill_slow(states, slow)
        if not np.array_equal(fast, slow):
            self.memory = None

    def fill(self, states: np.ndarray, out: np.ndarray) -> None:
        if self.memory is not None:
            self._fill_fast(states, out)
        else:
            self._fill_slow(states, out)

    def _fill_fast(self, states, out) -> None:
        self._set({"state": 1, "inc": 1})           # a clean buffer (has_uint32 = 0)
        words = np.ascontiguousarray(states[:, self.order])
        memory, random = self.memory, self.generator.random
        for k in range(len(words)):
            memory[:] = words[k]
            random(out=out[k])

    def _fill_slow(self, states, out) -> None:
        for k, (s_lo, s_hi, i_lo, i_hi) in enumerate(states.tolist()):
            self._set({"state": (s_hi << 64) | s_lo, "inc": (i_hi << 64) | i_lo})
            self.generator.random(out=out[k])


def _filler() -> _Filler:
    """This thread's filler (a generator is not safe to share between threads)."""
    filler = getattr(_threads, "filler", None)
    if filler is None:
        filler = _threads.filler = _Filler()
    return filler


_threads = threading.local()
