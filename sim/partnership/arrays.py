"""Array helpers the rules and the vectorised engine share (not rules themselves)."""

from __future__ import annotations

from functools import reduce

import numpy as np


def rowsum(x):
    """Sum over the last (partner) axis. einsum walks the short axis several times faster than
    ndarray.sum, which matters because the vectorised engine sums over partners all review."""
    return np.einsum("...j->...", x)


#: Up to this many values along the last axis, reductions go column by column: NumPy's own
#: reduction over a short last axis pays a per-row price that costs 3 to 12 times as much
#: (benchmarks/performance.py; the results are the same).
SHORT = 32


def count(mask):
    """How many entries along the last axis are true (exact integers)."""
    return np.einsum("...j->...", np.asarray(mask, dtype=bool), dtype=np.int64)


def rowmin(x):
    """Minimum along the last axis (NaN if any is NaN, like ndarray.min)."""
    x = np.asarray(x)
    if x.shape[-1] > SHORT or x.shape[-1] == 0:
        return x.min(axis=-1)
    return reduce(np.minimum, (x[..., j] for j in range(x.shape[-1])))


def rowany(mask):
    """Whether any entry along the last axis is true."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape[-1] > SHORT or mask.shape[-1] == 0:
        return mask.any(axis=-1)
    return reduce(np.logical_or, (mask[..., j] for j in range(mask.shape[-1])))


def others_active(active):
    """How many active partners each partner has besides itself ([..., n] ints)."""
    return count(active)[..., None] - active


def active_mean(values, active):
    """Mean of `values` over the active partners (last axis), 0 where none is active: one
    summation order for both engines, so their summaries agree to the last bit."""
    active = np.asarray(active, dtype=bool)
    members = count(active)
    total = np.einsum("...j,...j->...", np.where(active, values, 0.0), active.astype(float))
    return np.where(members > 0, total / np.maximum(members, 1), 0.0)

