"""Where the engine's samples come from: one reader for arrays and for files.

A :class:`Source` hands a recording to the block pipeline as consecutive
float32 blocks ``(n, n_channels)`` of at most :data:`BLOCK_SAMPLES` samples,
each checked to be finite. It owns the two rules every caller shares:

* the block size, and
* the scale rule: a float recording whose peak is above full scale is divided
  by its peak on the way in and multiplied back on the way out, so nothing is
  clipped before the gate; the output is then clipped to [-1, 1].

:class:`ArraySource` reads an array in soundfile's layout as views (a float32
array is never copied; other types are converted one block at a time);
:class:`denoise_core.files.FileSource` reads a file through soundfile.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .errors import AudioInputError
from .validation import MAX_CHANNELS, validate_sr

__all__ = ["BLOCK_SAMPLES", "ArraySource", "Source"]

#: Samples per channel read at a time (2**16: with the default 75 % overlap
#: that is 256 frames at 48 kHz, whose gain temporaries stay within the
#: processor's cache: 10 % faster than 2**17 or 2**15 on 60 s at 48 kHz).
BLOCK_SAMPLES = 1 << 16

_FLOAT32_MAX = float(np.finfo(np.float32).max)


class Source:
    """A recording read block by block.

    Attributes
    ----------
    sr : float
        Sample rate in Hz.
    n_channels : int
    n_samples : int
        Length in samples per channel.
    scale : float
        The recording's peak when a float recording exceeds full scale, else 1.
    """

    sr: float
    n_channels: int
    n_samples: int
    scale: float = 1.0
    #: Samples per channel read at a time.
    block_samples: int = BLOCK_SAMPLES

    def read(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Samples ``start`` to ``stop`` (``None``: the end) as unscaled float blocks ``(n, n_channels)``."""
        raise NotImplementedError

    def blocks(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Like :meth:`read`, divided by :attr:`scale`, as float32: what the gate works on."""
        inv_scale = 1.0 / self.scale
        for block in self.read(start, stop):
            if self.scale != 1.0:
                block = block * (np.float32(inv_scale) if block.dtype == np.float32 else inv_scale)
            yield block.astype(np.float32, copy=False)

    def restore(self, block: np.ndarray) -> np.ndarray:
        """Undo the scale rule on gated samples and clip them to full scale (float32)."""
        if self.scale != 1.0:
            # In float32 as the gate works, unless the scale itself is beyond float32's range;
            # a product beyond it becomes inf, which the clip brings back to full scale.
            with np.errstate(over="ignore"):
                block = block * (np.float32(self.scale) if self.scale <= _FLOAT32_MAX else self.scale)
        return np.clip(block, -1.0, 1.0).astype(np.float32, copy=False)

    def _check_finite(self, block: np.ndarray, first: int) -> None:
        if not np.isfinite(block).all():
            bad = first + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise AudioInputError(
                f"The audio holds invalid samples (NaN or infinite values), the first at sample {bad}."
            )


class ArraySource(Source):
    """An array in soundfile's layout, read as views.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Audio, float (full scale 1.0) or integer (scaled to full scale;
        ``uint8`` is offset by 128, as in 8-bit WAV).
    sr : float
        Sample rate in Hz, 8000 to 192000.

    Raises
    ------
    AudioInputError
        If the rate is out of range, or the array is empty, not 1-D or 2-D,
        has more than 64 channels, is not real numbers, or holds NaN or
        infinite samples (the message gives the first).
    """

    def __init__(self, y: np.ndarray, sr: float) -> None:
        self.sr = validate_sr(sr)
        y = np.asarray(y)
        if y.dtype == bool or not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
            raise AudioInputError(f"Audio must be an array of real numbers, got dtype {y.dtype}.")
        if y.ndim not in (1, 2):
            raise AudioInputError(
                f"Audio must have shape (samples,) or (samples, channels), got {y.ndim} dimensions {y.shape}."
            )
        if y.size == 0:
            raise AudioInputError("The audio is empty (no samples).")
        if y.ndim == 2 and y.shape[1] > MAX_CHANNELS:
            raise AudioInputError(
                f"Audio has {y.shape[1]} channels (shape {y.shape}); at most {MAX_CHANNELS} are supported. "
                "Arrays are (samples, channels): transpose a (channels, samples) array first."
            )
        self.shape: tuple[int, ...] = y.shape
        self._columns = y.reshape(y.shape[0], -1)
        self.n_samples, self.n_channels = self._columns.shape
        self._offset, self._int_scale = 0.0, 1.0
        if np.issubdtype(y.dtype, np.integer):
            info = np.iinfo(y.dtype)
            self._offset = float((int(info.max) + 1) // 2 if info.min == 0 else 0)
            self._int_scale = float(int(info.max) + 1 - self._offset)
        else:
            peak = 0.0
            for block in self.read():
                peak = max(peak, float(np.max(np.abs(block))))
            self.scale = peak if peak > 1.0 else 1.0

    def read(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        stop = self.n_samples if stop is None else stop
        for first in range(start, stop, self.block_samples):
            block = self._columns[first : min(first + self.block_samples, stop)]
            if self._int_scale != 1.0:
                yield ((block - self._offset) / self._int_scale).astype(np.float32)
                continue
            if block.dtype != np.float32 and block.dtype != np.float64:
                block = block.astype(np.float64)
            self._check_finite(block, first)
            yield block
