"""The tunable settings of the engine, defined once.

The library API, the command line flags (``--reduction-db``) and the app's
widgets all use these names, defaults and ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from .errors import ParameterError
from .filters import HIGHPASS_CUTOFFS_HZ
from .loudness import CEILING_RANGE_DBTP, TARGET_RANGE_LUFS

__all__ = ["PARAM_CHOICES", "PARAM_HELP", "PARAM_OPTIONAL", "PARAM_RANGES", "PRESETS", "DenoiseParams", "preset_key"]

#: Allowed range (inclusive) of each setting, in its own unit.
PARAM_RANGES: dict[str, tuple[float, float]] = {
    "threshold_db": (-10.0, 30.0),
    "reduction_db": (0.0, 60.0),
    "freq_smooth_hz": (0.0, 4000.0),
    "time_smooth_ms": (0.0, 500.0),
    "loudness_lufs": TARGET_RANGE_LUFS,
    "true_peak_dbtp": CEILING_RANGE_DBTP,
}

#: Settings that may also be ``None``: off.
PARAM_OPTIONAL = ("loudness_lufs",)

#: The values allowed for each setting that is a choice.
PARAM_CHOICES: dict[str, tuple] = {
    "channels": ("linked", "independent"),
    "highpass_hz": (0.0, *tuple(float(f) for f in HIGHPASS_CUTOFFS_HZ)),
}

#: One-line plain-words description of each setting, for help texts.
PARAM_HELP: dict[str, str] = {
    "highpass_hz": "Cuts rumble below this frequency (Hz): handling noise, wind, traffic and desk thumps below the voice. 0 is off; 80 suits most voices.",
    "loudness_lufs": "Brings the cleaned recording to this integrated loudness (LUFS, ITU-R BS.1770): -16 for podcasts, -23 for broadcast, -14 for streaming. Off leaves the level as it was.",
    "true_peak_dbtp": "When the loudness is set: the highest true (inter-sample) peak allowed, in dBTP; a look-ahead limiter holds louder peaks down.",
    "channels": "How a stereo or multichannel recording is cleaned: 'linked' applies one gain to all channels so the stereo image does not move; 'independent' cleans each channel on its own.",
    "threshold_db": "How far (dB) a sound must rise above the noise floor to be kept. Higher removes more noise but may thin quiet speech.",
    "reduction_db": "The most the noise is turned down, in dB, reached in pauses (around words it is at most 20 dB, where the voice covers the rest). 0 leaves the recording as it is; higher is quieter pauses.",
    "freq_smooth_hz": "How widely (Hz) neighbouring pitches are pooled to tell speech from noise. More removes watery 'musical noise' artefacts; clear tones and voices keep their level.",
    "time_smooth_ms": "Smooths the cleaning over time (milliseconds). More smoothing avoids fluttering but may blur word onsets.",
}


@dataclass(frozen=True)
class DenoiseParams:
    """Settings of the spectral gate.

    Parameters
    ----------
    threshold_db : float
        Margin in dB above the noise floor that a bin must exceed to count as
        signal (-10 to 30 dB). Higher removes more noise.
    reduction_db : float
        Largest attenuation in dB applied to noise (0 to 60 dB), reached in
        pauses half a second or more from speech; around words the floor is at
        most 20 dB deep. The gain never goes below ``-reduction_db``, so speech
        is never gated to silence.
    freq_smooth_hz : float
        Width in Hz of the smoothing over frequency of the a priori SNR that
        the gain is computed from (0 to 4000 Hz).
    time_smooth_ms : float
        Width in milliseconds of the smoothing of the gain over time
        (0 to 500 ms).
    channels : {"linked", "independent"}
        ``"linked"`` (default) computes one gain from the channels' mean
        power and applies it to every channel, so the balance between them
        does not move; ``"independent"`` gates each channel on its own
        (against the same noise profile).
    highpass_hz : {0, 60, 80, 100, 120}
        Corner in Hz of the rumble filter applied after the gate (a
        linear-phase high-pass, 24 dB per octave); 0 (default) is off.
    loudness_lufs : float or None
        Integrated loudness in LUFS (-40 to -5) the result is brought to;
        ``None`` (default) leaves the level alone.
    true_peak_dbtp : float
        With ``loudness_lufs``: ceiling in dBTP (-12 to 0, default -1) for the
        4x-oversampled peak, held by a look-ahead limiter.

    Attributes
    ----------
    RANGES : dict
        ``name -> (low, high)``: the allowed range of each numeric setting (:data:`PARAM_RANGES`).
    CHOICES : dict
        ``name -> values``: the allowed values of each setting that is a choice (:data:`PARAM_CHOICES`).
    HELP : dict
        ``name -> text``: a plain-words description of each setting (:data:`PARAM_HELP`).
    PRESETS : dict
        ``label -> changes``: named starting points (:data:`PRESETS`); see :meth:`preset`.
    """

    RANGES: ClassVar[dict[str, tuple[float, float]]] = PARAM_RANGES
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = PARAM_CHOICES
    HELP: ClassVar[dict[str, str]] = PARAM_HELP
    PRESETS: ClassVar[dict[str, dict[str, object]]]

    threshold_db: float = -2.0
    reduction_db: float = 40.0
    freq_smooth_hz: float = 0.0
    time_smooth_ms: float = 80.0
    channels: str = "linked"
    highpass_hz: float = 0.0
    loudness_lufs: float | None = None
    true_peak_dbtp: float = -1.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None and field.name in PARAM_OPTIONAL:
                continue
            if field.name in PARAM_CHOICES:
                object.__setattr__(self, field.name, _choice(field.name, value))
                continue
            low, high = PARAM_RANGES[field.name]
            if not _is_number(value):
                raise ParameterError(f"{field.name} must be a number, got {value!r}.")
            if not np.isfinite(value) or not low <= value <= high:
                raise ParameterError(f"{field.name} must be between {low:g} and {high:g}, got {value!r}.")
            object.__setattr__(self, field.name, float(value))

    @classmethod
    def preset(cls, name: str) -> DenoiseParams:
        """The settings of a named preset (``"Podcast"``, or its key ``"podcast"``).

        Raises
        ------
        ParameterError
            If there is no such preset; the message lists them.
        """
        for label, changes in PRESETS.items():
            if preset_key(name) == preset_key(label):
                return cls(**changes)
        raise ParameterError(f"There is no preset {name!r}; choose one of {', '.join(map(preset_key, PRESETS))}.")

    def preset_name(self) -> str | None:
        """The label of the preset these settings are, or ``None`` (modified, or none)."""
        return next((label for label in PRESETS if DenoiseParams.preset(label) == self), None)


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def _choice(name: str, value):
    """``value`` if it is one of the choices of setting ``name`` (numbers as float)."""
    allowed = PARAM_CHOICES[name]
    if isinstance(allowed[0], str):
        if isinstance(value, str) and value in allowed:
            return value
    elif _is_number(value) and value in allowed:
        return float(value)
    shown = ", ".join(repr(a) if isinstance(a, str) else f"{a:g}" for a in allowed)
    raise ParameterError(f"{name} must be one of {shown}, got {value!r}.")


#: Named starting points for people who do not know what a threshold is: the
#: settings each one changes from the defaults. Defined here, beside the
#: settings, for the API, the CLI (``--preset podcast``) and the app.
PRESETS: dict[str, dict[str, object]] = {
    # Phones pick up handling noise and wind below the voice, and record quietly.
    "Voice memo": {"reduction_db": 45.0, "highpass_hz": 100.0, "loudness_lufs": -16.0},
    "Podcast": {"highpass_hz": 80.0, "loudness_lufs": -16.0, "true_peak_dbtp": -1.0},
    # A room's reverberation tails sit near the noise: a gentler, slower gate keeps them natural.
    "Lecture / room": {"reduction_db": 20.0, "time_smooth_ms": 120.0, "highpass_hz": 100.0, "loudness_lufs": -16.0},
    "Gentle": {"reduction_db": 15.0, "time_smooth_ms": 120.0},
}
DenoiseParams.PRESETS = PRESETS


def preset_key(label: str) -> str:
    """A preset's label as typed on a command line: ``"Lecture / room"`` -> ``"lecture-room"``."""
    return "-".join("".join(c if c.isalnum() else " " for c in str(label).lower()).split())
