"""Array helpers the rules and the vectorised engine share (not rules themselves)."""

from __future__ import annotations

import numpy as np


def rowsum(x):
    """Sum over the last (partner) axis. einsum walks the short axis several times faster than
    ndarray.sum, which matters because the vectorised engine sums over partners all review."""
    return np.einsum("...j->...", x)


def others_active(active):
    """How many active partners each partner has besides itself ([..., n] ints)."""
    return active.sum(axis=-1, keepdims=True) - active
