"""Previews: a stretch of the recording cleaned at once whenever a setting changes.

Cleaning a 10-minute file takes tens of seconds, so the page does not clean the
whole recording to let the user hear a change. It cleans a stretch of at most
:data:`PREVIEW_SAMPLES` samples (all channels together: 18.8 s of 48 kHz mono,
10.2 s of 44.1 kHz stereo) with the noise profile of the whole recording, and
plays that stretch before and after. A recording that fits in a stretch is
previewed whole, and its preview *is* the cleaned recording.

Nothing here imports Streamlit. :class:`PreviewStore` is a small per-session
store the page keeps in its session state.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from denoise_core import DenoiseParams, DenoiseReport, NoiseProfile, StftConfig, VoiceTake, denoise_with_profile

from .media import encode_player
from .pooling import PooledSpectrogram, audio_spectrogram

__all__ = [
    "MIN_CLEAN_S",
    "PICTURE_COLUMNS",
    "PREVIEW_SAMPLES",
    "Original",
    "Preview",
    "PreviewStore",
    "Stretch",
    "default_stretch",
    "make_preview",
    "original_of",
    "stretch_at",
    "stretch_frames",
    "window_hint",
]

#: Most samples (all channels together) in a preview stretch: 18.8 s of 48 kHz mono, 10.2 s of 44.1 kHz
#: stereo; about 0.3 s of work on a 2-core machine (0.6 s when other jobs load it).
PREVIEW_SAMPLES = 900_000
#: Shortest recording the page cleans, in seconds: below this, speech and noise cannot be told apart.
MIN_CLEAN_S = 0.5
#: Spectrogram columns of a preview's pictures: about one per two pixels of a wide chart, and quick to draw.
PICTURE_COLUMNS = 500
#: Frames per level measurement when looking for a stretch with speech and pauses, in seconds.
_LEVEL_FRAME_S = 0.05


@dataclass(frozen=True)
class Stretch:
    """Samples ``start:stop`` of a recording at rate ``sr``."""

    start: int
    stop: int
    sr: int

    @property
    def start_s(self) -> float:
        """Start in seconds."""
        return self.start / self.sr

    @property
    def stop_s(self) -> float:
        """End in seconds."""
        return self.stop / self.sr

    @property
    def n_samples(self) -> int:
        """Length in samples per channel."""
        return self.stop - self.start


def stretch_frames(sr: int, n_channels: int, n_samples: int) -> int:
    """Length of a preview stretch in samples per channel: :data:`PREVIEW_SAMPLES` over the channels, at most the recording."""
    return int(min(n_samples, max(sr, PREVIEW_SAMPLES // max(n_channels, 1))))


def stretch_at(start_s: float, length: int, n_samples: int, sr: int) -> Stretch:
    """The stretch of ``length`` samples starting nearest ``start_s`` seconds, kept inside the recording."""
    length = min(length, n_samples)
    start = round(min(max(float(start_s), 0.0) * sr, n_samples - length))
    return Stretch(start, start + length, sr)


def default_stretch(y: np.ndarray, sr: int, length: int) -> Stretch:
    """A stretch with both speech and noise: the one whose loud and quiet moments differ most.

    The level of every :data:`_LEVEL_FRAME_S` frame is measured in dB; each
    candidate stretch (in steps of a tenth of its length) is scored by the
    spread between its 90th and 10th percentile frames, which is large where
    speech alternates with pauses and small in steady noise or continuous speech.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        The recording.
    sr : int
        Sample rate in Hz.
    length : int
        Length of the stretch in samples.

    Returns
    -------
    Stretch
        The whole recording when it is no longer than ``length``.
    """
    n = int(np.shape(y)[0])
    if n <= length:
        return Stretch(0, n, sr)
    hop = max(1, int(_LEVEL_FRAME_S * sr))
    n_frames = n // hop
    y2 = np.asarray(y).reshape(n, -1)
    power = np.empty(n_frames)
    block = max(1, (1 << 20) // hop)  # frames per block: no full-size temporary
    for f0 in range(0, n_frames, block):
        f1 = min(n_frames, f0 + block)
        chunk = y2[f0 * hop : f1 * hop].astype(np.float64)
        power[f0:f1] = (chunk**2).reshape(f1 - f0, hop * y2.shape[1]).mean(axis=1)
    level = 10.0 * np.log10(power + 1e-12)
    per_stretch = max(1, length // hop)
    step = max(1, per_stretch // 10)
    starts = np.arange(0, n_frames - per_stretch + 1, step)
    spread = [np.subtract(*np.percentile(level[s : s + per_stretch], [90, 10])) for s in starts]
    best = int(starts[int(np.argmax(spread))]) * hop
    start = min(best, n - length)
    return Stretch(start, start + length, sr)


@dataclass(frozen=True)
class Preview:
    """A stretch cleaned with one set of settings, ready to play and draw.

    Attributes
    ----------
    stretch : Stretch
    audio : np.ndarray [shape=(n,) or (n, n_channels), dtype=float32]
        The cleaned stretch.
    report : DenoiseReport
        The engine's numbers for the stretch.
    seconds : float
        Time taken to clean and prepare it, in seconds.
    before, after, removed : bytes
        Players (:func:`encode_player`) of the original stretch, the cleaned one
        and their difference.
    before_picture, after_picture : PooledSpectrogram
        Spectrograms of the stretch (times from the stretch's start).
    """

    stretch: Stretch
    audio: np.ndarray
    report: DenoiseReport
    seconds: float
    before: bytes
    after: bytes
    removed: bytes
    before_picture: PooledSpectrogram
    after_picture: PooledSpectrogram


@dataclass(frozen=True)
class Original:
    """The original stretch's player and picture: they depend only on the stretch, not on the settings."""

    player: bytes
    picture: PooledSpectrogram


def original_of(y: np.ndarray, config: StftConfig, stretch: Stretch) -> Original:
    """Player and picture of ``y[stretch]`` with the transform ``config``."""
    piece = y[stretch.start : stretch.stop]
    return Original(
        player=encode_player(piece, int(config.sr)),
        picture=audio_spectrogram(piece, config, max_columns=PICTURE_COLUMNS),
    )


def make_preview(
    y: np.ndarray,
    noise: NoiseProfile,
    params: DenoiseParams,
    stretch: Stretch,
    original: Original | None = None,
    take: VoiceTake | None = None,
) -> Preview:
    """Clean ``y[stretch]`` against ``noise`` and prepare its players and pictures.

    Classic engine: the cleaning of a stretch equals the cleaning of the
    whole recording there, except in its first seconds, where the gate's
    noise tracking and its minimum statistics start afresh (about -25 dB of
    difference in the first half second, -35 dB after three seconds). Voice
    engine: ``take`` (:func:`denoise_core.voice_take` of the stretch, its
    network warmed up before it) is mixed at ``params.reduction_db``, so a
    change of strength runs no network. ``original`` (from
    :func:`original_of`) is made here when not given.
    """
    started = time.perf_counter()
    piece = y[stretch.start : stretch.stop]  # a view
    config = noise.config
    sr = int(config.sr)
    # libsndfile and NumPy's FFT release the GIL: the players are encoded while the picture is made.
    with ThreadPoolExecutor(max_workers=2) as pool:
        before = pool.submit(original_of, y, config, stretch) if original is None else None
        audio, report = take.at(params.reduction_db) if take is not None else denoise_with_profile(piece, noise, params)
        audio.setflags(write=False)
        after = pool.submit(encode_player, audio, sr)
        removed = pool.submit(encode_player, np.subtract(piece, audio, dtype=np.float32), sr)
        after_picture = audio_spectrogram(audio, config, max_columns=PICTURE_COLUMNS)
        original = original if before is None else before.result()
        return Preview(
            stretch=stretch,
            audio=audio,
            report=report,
            seconds=time.perf_counter() - started,
            before=original.player,
            after=after.result(),
            removed=removed.result(),
            before_picture=original.picture,
            after_picture=after_picture,
        )


class PreviewStore:
    """The latest few previews, original stretches, voice takes and noise profiles of one session, least recently used dropped.

    A page shows one preview; keeping the one before makes going back
    instant. A preview of :data:`PREVIEW_SAMPLES` samples holds 3.6 MB of
    audio, 2 to 5 MB of players and two pictures of up to 2 MB each; an
    original stretch 1 to 4 MB; a voice take (the network's result, for every
    strength) 7.2 MB. Five items (the noise, the original, the take and two
    previews) is what a voice page needs so that a change of strength finds
    the take again: a session holds at most about 40 MB here.
    """

    def __init__(self, capacity: int = 5) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, object] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], object]):
        """The item stored under ``key``, made now if missing (nothing is stored if ``make`` raises)."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        item = make()
        self._items[key] = item
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return item

    def peek(self, key: Hashable) -> object | None:
        """The item under ``key`` if stored, else ``None`` (nothing is made)."""
        return self._items.get(key)

    def __len__(self) -> int:
        return len(self._items)


def window_hint(window_s: tuple[float, float] | None, recommended_s: float) -> str | None:
    """A plain hint when a chosen noise window is shorter than ``recommended_s`` seconds, else ``None``."""
    if window_s is None:
        return None
    length = window_s[1] - window_s[0]
    if length >= recommended_s - 1e-9:
        return None
    return (
        f"The noise sample is {length:.2f} s long. Half a second or more of noise alone gives a steadier "
        "result: drag across a longer pause on the waveform."
    )
