"""What an engine did, in numbers a person can read, accumulated block by block.

Every number is one that was measured; where nothing could be measured (a
recording of digital silence, or nothing above the noise), it is ``None``,
never an infinity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .noise import NoiseProfile

__all__ = ["NO_VOICE_DB", "DenoiseReport", "ReportAccumulator", "VoiceReportAccumulator"]


#: Below this ratio of output to input energy (dB) the voice engine heard no voice worth keeping ...
NO_VOICE_DB = -10.0
#: ... unless 100 ms frames that kept their energy within it add up to this many seconds (a voice
#: beside a door slam keeps its frames, while the slam, taken out, outweighs it in the whole).
_VOICE_KEPT_S = 0.5
#: The voice report measures power over frames of this length, in seconds ...
_VOICE_FRAME_S = 0.1
#: ... and takes the quietest this share of them for the noise ...
_QUIET_SHARE = 0.2
#: ... after this many seconds, while the network's states settle (unless the recording is short).
_SETTLE_S = 1.0


@dataclass(frozen=True)
class DenoiseReport:
    """Summary of one denoising run.

    Attributes
    ----------
    noise_window_s : (float, float)
        Stretch in seconds the noise profile was measured on.
    noise_method : str
        ``"window"`` (given by the caller) or ``"quietest stretch"`` (found automatically).
    snr_before_db, snr_after_db : float or None
        Estimated signal-to-noise ratio in dB of the input and of the result.
        The classic engine takes the noise profile as the noise (after
        gating, the profile times the mean squared gain of each bin); the
        voice engine the quietest fifth of the recording. ``None`` when it
        cannot be measured: no noise at all (digital silence), or nothing
        rising above the noise.
    noise_removed_db : float
        By how many dB the estimated noise power went down.
    loudness_before_lufs, loudness_after_lufs : float or None
        Integrated loudness (ITU-R BS.1770) of the input and of the result in
        LUFS (``-inf`` for silence), measured when the loudness is normalized;
        ``None`` otherwise.
    true_peak_dbtp : float or None
        4x-oversampled peak of the normalized result in dBTP, or ``None``.
    hum_hz : float or None
        Fundamental in Hz of the mains hum removed, or ``None`` (none found, or off).
    engine : {"classic", "voice"}
        The engine that cleaned the recording.
    speech_heard : bool or None
        Voice engine: whether it kept a voice (``False`` when it kept less than
        :data:`NO_VOICE_DB` of the recording's energy, and of no more than half
        a second of its 100 ms frames: nothing it took for a voice). ``None``
        for the classic engine, which keeps any sound.
    profile_lowered_db : float or None
        Classic engine: when the noise sample was louder than the
        recording's background and the profile was lowered to it, by how
        many dB at most (:attr:`NoiseProfile.lowered_db`); ``None`` when the
        sample was used as measured.
    """

    noise_window_s: tuple[float, float]
    noise_method: str
    snr_before_db: float | None
    snr_after_db: float | None
    noise_removed_db: float
    loudness_before_lufs: float | None = None
    loudness_after_lufs: float | None = None
    true_peak_dbtp: float | None = None
    hum_hz: float | None = None
    engine: str = "classic"
    speech_heard: bool | None = None
    profile_lowered_db: float | None = None


def _db(x: float) -> float:
    return float(10.0 * np.log10(max(x, 1e-20)))


def _snr_db(total: float, noise: float) -> float | None:
    """SNR in dB of a mixture of power ``total`` holding noise of power ``noise``; ``None`` if not measurable."""
    return _db(total - noise) - _db(noise) if total > noise > 0.0 else None


class ReportAccumulator:
    """Sums over frames that give the classic engine's :class:`DenoiseReport` at the end.

    Parameters
    ----------
    n_freqs : int
        Number of frequency bins.
    """

    def __init__(self, n_freqs: int) -> None:
        self._power_in = 0.0
        self._power_out = 0.0
        self._gain_sq = np.zeros(n_freqs)
        self._n_frames = 0

    def add(self, power: np.ndarray, gain: np.ndarray) -> None:
        """Add frames: ``power`` and ``gain`` of shape ``(n_channels, n_freqs, n_frames)``."""
        gain_sq = gain * gain  # products in float32, sums in float64
        n_channels = power.shape[0]
        self._power_in += float(power.sum(dtype=np.float64)) / n_channels
        self._power_out += float((power * gain_sq).sum(dtype=np.float64)) / n_channels
        self._gain_sq += gain_sq.sum(axis=2, dtype=np.float64).mean(axis=0)
        self._n_frames += power.shape[-1]

    def report(self, noise: NoiseProfile) -> DenoiseReport:
        """The report for all frames added so far."""
        noise_in = float(noise.power.sum())
        if noise_in <= 0.0 or self._n_frames == 0:
            return DenoiseReport(noise.window_s, noise.method, None, None, 0.0, hum_hz=noise.hum_hz,
                                 profile_lowered_db=noise.lowered_db)
        n = self._n_frames
        noise_out = float((noise.power * self._gain_sq / n).sum())
        return DenoiseReport(
            noise_window_s=noise.window_s,
            noise_method=noise.method,
            snr_before_db=_snr_db(self._power_in / n, noise_in),
            snr_after_db=_snr_db(self._power_out / n, noise_out),
            noise_removed_db=_db(noise_in) - _db(noise_out),
            hum_hz=noise.hum_hz,
            profile_lowered_db=noise.lowered_db,
        )


class VoiceReportAccumulator:
    """Powers of the input and the output, frame by frame, that give the voice engine's report.

    The noise is taken to be what the ``_QUIET_SHARE`` of the recording's
    100 ms frames that the network turned down most hold, before and after
    (leaving out the first ``_SETTLE_S``, while the network's states settle):
    the frames it judged to be noise.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    n_channels : int
    """

    def __init__(self, sr: float, n_channels: int) -> None:
        self._frame = max(1, round(_VOICE_FRAME_S * sr))
        self._n_channels = n_channels
        self._carry_in = np.zeros(0)
        self._carry_out = np.zeros(0)
        self._power_in: list[np.ndarray] = []
        self._power_out: list[np.ndarray] = []

    def add(self, original: np.ndarray, cleaned: np.ndarray) -> None:
        """Add samples ``(n_channels, m)`` of the input and the output, in step."""
        self._carry_in, done_in = self._frames(self._carry_in, original)
        self._carry_out, done_out = self._frames(self._carry_out, cleaned)
        self._power_in.append(done_in)
        self._power_out.append(done_out)

    def _frames(self, carry: np.ndarray, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        power = np.concatenate([carry, np.square(block, dtype=np.float64).mean(axis=0)])
        n = len(power) // self._frame * self._frame
        return power[n:], power[:n].reshape(-1, self._frame).mean(axis=1)

    def report(self, noise: NoiseProfile) -> DenoiseReport:
        """The report for all samples added so far."""
        power_in = np.concatenate([*self._power_in, [self._carry_in.mean()] if len(self._carry_in) else []])
        power_out = np.concatenate([*self._power_out, [self._carry_out.mean()] if len(self._carry_out) else []])
        total_in, total_out = float(power_in.sum()), float(power_out.sum())
        settle = round(_SETTLE_S / _VOICE_FRAME_S)
        first = settle if len(power_in) >= 2 * settle else 0
        kept = power_out[first:] / np.maximum(power_in[first:], 1e-30)
        share = max(1, int(np.ceil(_QUIET_SHARE * len(kept))))
        quiet = first + np.argsort(kept, kind="stable")[:share] if len(kept) else []
        noise_in, noise_out = float(np.mean(power_in[quiet])) if len(quiet) else 0.0, 0.0
        if len(quiet):
            noise_out = float(np.mean(power_out[quiet]))
        n = max(len(power_in), 1)
        kept_frames = int(np.count_nonzero(kept > 10 ** (NO_VOICE_DB / 10)))
        heard = total_in <= 0.0 or _db(total_out) - _db(total_in) > NO_VOICE_DB
        return DenoiseReport(
            noise_window_s=noise.window_s,
            noise_method=noise.method,
            snr_before_db=_snr_db(total_in / n, noise_in),
            snr_after_db=_snr_db(total_out / n, noise_out),
            noise_removed_db=_db(noise_in) - _db(noise_out) if noise_in > 0 else 0.0,
            hum_hz=noise.hum_hz,
            engine="voice",
            speech_heard=heard or kept_frames * _VOICE_FRAME_S >= _VOICE_KEPT_S,
        )
