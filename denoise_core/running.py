"""Running reductions over runs of consecutive values, exact whatever the blocks a stream comes in."""

from __future__ import annotations

import numpy as np

__all__ = ["nearby_max", "running_reduce"]


def running_reduce(x: np.ndarray, m: int, op: np.ufunc = np.add) -> np.ndarray:
    """``op`` (``np.add``: sums; ``np.minimum``: least) of ``m`` consecutive values along the last axis.

    Returns ``n - m + 1`` values. Each is built from the results over 1, 2,
    4, ... values, about ``2 * log2(m)`` passes, and depends only on the
    values in its run, not on where the array starts, so streamed blocks
    give the same bits.
    """
    n_out = x.shape[-1] - m + 1
    total, have = None, 0  # the results so far cover the first `have` values of each run
    partial, width = x, 1  # results over `width` consecutive values
    while True:
        if m & width:
            piece = partial[..., have : have + n_out]
            total = piece.copy() if total is None else op(total, piece)
            have += width
        if 2 * width > m:
            return total
        partial = op(partial[..., :-width], partial[..., width:])
        width *= 2


def nearby_max(x: np.ndarray, reach: int) -> np.ndarray:
    """Largest value of ``x`` within ``reach`` places either side along the last axis (zeros beyond its ends).

    Returns
    -------
    np.ndarray
        Same shape and dtype as ``x``.
    """
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(reach, reach)])
    return running_reduce(padded, 2 * reach + 1, np.maximum)
