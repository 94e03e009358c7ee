"""The settings that make a result, defined once: :class:`DenoiseParams`.

The library API, the command line flags (``--reduction-db``) and the app's
widgets all use these names, defaults and ranges, and the app keeps results
under the settings object itself.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import ClassVar

import numpy as np

from .errors import NoiseWindowError, ParameterError
from .filters import HIGHPASS_CUTOFFS_HZ
from .hum import HUM_MODES
from .loudness import CEILING_RANGE_DBTP, TARGET_RANGE_LUFS

__all__ = [
    "DEFAULT_REDUCTION_DB",
    "ENGINES",
    "NOISE_FIELDS",
    "NO_LIMIT_DB",
    "PARAM_CHOICES",
    "PARAM_HELP",
    "PARAM_OPTIONAL",
    "PARAM_RANGES",
    "PRESETS",
    "STFT_FIELDS",
    "DenoiseParams",
    "preset_key",
]

#: The engines: "voice" (DeepFilterNet3) keeps only voices; "classic" is the spectral gate, for any sound.
ENGINES = ("voice", "classic")

#: ``reduction_db`` at which the voice engine has no attenuation limit (the reference runtime's 100 dB).
NO_LIMIT_DB = 100.0

#: ``reduction_db`` when none is given, per engine. Classic: 80 dB in pauses of a second or more from
#: speech (gaps between words go to 40 dB at most; on the tune mixtures deeper gaps cost weak speech
#: sounds, and a deeper long pause raised DNSMOS BAK by 0.09 and cost nothing). Voice: no limit (on
#: the tune mixtures, every lower limit lowered PESQ, DNSMOS OVRL and BAK; 40 dB cost 0.12 BAK and 0.06
#: OVRL; see bench/voice_limits.py).
DEFAULT_REDUCTION_DB = {"classic": 80.0, "voice": NO_LIMIT_DB}

#: Allowed range (inclusive) of each numeric setting, in its own unit.
PARAM_RANGES: dict[str, tuple[float, float]] = {
    "threshold_db": (-10.0, 30.0),
    "reduction_db": (0.0, NO_LIMIT_DB),
    "freq_smooth_hz": (0.0, 4000.0),
    "time_smooth_ms": (0.0, 500.0),
    "loudness_lufs": TARGET_RANGE_LUFS,
    "ceiling_dbtp": CEILING_RANGE_DBTP,
}

#: The STFT settings, in samples (``None``: chosen for the sample rate, see :meth:`StftConfig.for_sr`).
STFT_FIELDS = ("n_fft", "hop_length", "win_length")

#: The settings the noise profile depends on (:meth:`DenoiseParams.noise_settings`).
NOISE_FIELDS = ("noise_window", "hum", *STFT_FIELDS)

#: Settings that may also be ``None``: off (the loudness), found automatically (the noise window)
#: or chosen for the sample rate (the STFT).
PARAM_OPTIONAL = ("loudness_lufs", "noise_window", *STFT_FIELDS)

#: The values allowed for each setting that is a choice.
PARAM_CHOICES: dict[str, tuple] = {
    "engine": ENGINES,
    "channels": ("linked", "independent"),
    "highpass_hz": (0.0, *(float(f) for f in HIGHPASS_CUTOFFS_HZ)),
    "hum": HUM_MODES,
}

#: One-line plain-words description of each setting, for help texts.
PARAM_HELP: dict[str, str] = {
    "engine": "How the noise is told apart: 'voice' (a neural network, DeepFilterNet3) keeps only voices and removes everything else, cafes, streets and other moving noise included; 'classic' (a spectral gate against the noise measured in the recording) keeps any sound, for music, birdsong or anything that is not speech.",
    "noise_window": "Start and end (seconds) of a stretch that holds only noise; none finds the quietest stretch automatically.",
    "hum": "Mains hum: a steady buzz at 50 or 60 Hz and its overtones, found in the noise sample ('auto'), at the base given, or 'off'.",
    "highpass_hz": "Cuts rumble below this frequency (Hz): handling noise, wind, traffic and desk thumps below the voice. 0 is off; 80 suits most voices.",
    "loudness_lufs": "Brings the cleaned recording to this integrated loudness (LUFS, ITU-R BS.1770): -16 for podcasts, -23 for broadcast, -14 for streaming. Off leaves the level as it was.",
    "ceiling_dbtp": "When the loudness is set: the highest true (inter-sample) peak allowed, in dBTP; a look-ahead limiter holds louder peaks down.",
    "channels": "How a stereo or multichannel recording is cleaned: 'linked' applies one gain to all channels so the stereo image does not move; 'independent' cleans each channel on its own.",
    "threshold_db": "How far (dB) a sound must rise above the noise floor to be kept. Higher removes more noise but may thin quiet speech.",
    "reduction_db": "The most the noise is turned down, in dB. 0 leaves the recording as it is; higher is quieter. Voice engine: the network's attenuation limit; 100 (its default) is no limit. Classic engine: reached in pauses of a second or more (in gaps between words at most 40 dB, around words 20 dB below 4 kHz, where the voice covers the rest); 80 by default.",
    "freq_smooth_hz": "How widely (Hz) neighbouring pitches are pooled to tell speech from noise. More removes watery 'musical noise' artefacts; clear tones and voices keep their level.",
    "time_smooth_ms": "Smooths the cleaning over time (milliseconds). More smoothing avoids fluttering but may blur word onsets.",
    "n_fft": "FFT size in samples; none picks 20 to 40 ms frames for the sample rate.",
    "hop_length": "Samples between frames; none is a quarter of win_length (frames overlap by three quarters).",
    "win_length": "Length of the Hann taper in samples; none is n_fft.",
}


@dataclass(frozen=True)
class DenoiseParams:
    """Everything that makes a result: one frozen, hashable settings object.

    Two equal objects give the same result for the same recording, so it is
    also the key under which a result may be kept.

    Parameters
    ----------
    engine : {"voice", "classic"}
        ``"voice"`` (default): DeepFilterNet3 (Schröter et al. 2023) run in
        NumPy, which keeps only voices; the gate's own settings (threshold,
        smoothing, STFT) do not apply to it. ``"classic"``: the spectral
        gate, for any sound.
    noise_window : (float, float) or None
        ``(start_s, end_s)`` in seconds of a stretch that holds only noise;
        ``None`` (default) finds the quietest stretch automatically. Checked
        against the recording (finite, in order, inside it, at least a frame
        long) when the noise is measured, where the message can give the
        valid range.
    hum : {"auto", "50", "60", "off"}
        Mains hum removal: found in the noise window near 50 or 60 Hz
        (default), at the base given, or off.
    threshold_db : float
        Margin in dB above the noise floor that a bin must exceed to count as
        signal (-10 to 30 dB). Higher removes more noise.
    reduction_db : float or None
        Largest attenuation in dB applied to noise (0 to 100 dB); ``None``
        (default) takes the engine's own (:data:`DEFAULT_REDUCTION_DB`: 80 for
        classic, 100 for voice), so the stored value is always a number.
        Classic engine: reached in pauses a second or more from speech; in
        gaps between words the floor is at most 40 dB deep, and around words
        at most 20 dB below 4 kHz, where the voice masks the rest (above, only
        in bands that hold speech); the gain never goes below
        ``-reduction_db``, so speech is never gated to silence. Voice
        engine: the attenuation limit, a mix of the network's output with the
        input (:data:`NO_LIMIT_DB`, 100, is none; 0 passes the input through).
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
    ceiling_dbtp : float
        With ``loudness_lufs``: ceiling in dBTP (-12 to 0, default -1) for the
        4x-oversampled peak, held by a look-ahead limiter.
    n_fft, hop_length, win_length : int or None
        The STFT in samples; ``None`` (default) picks 20 to 40 ms frames with
        75 % overlap for the sample rate (:meth:`StftConfig.for_sr`, which
        checks them against each other).

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

    Raises
    ------
    ParameterError
        On a value of the wrong type or out of range; the message gives the range.
    NoiseWindowError
        On a noise window that is not two numbers.
    """

    RANGES: ClassVar[dict[str, tuple[float, float]]] = PARAM_RANGES
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = PARAM_CHOICES
    HELP: ClassVar[dict[str, str]] = PARAM_HELP
    PRESETS: ClassVar[dict[str, dict[str, object]]]

    engine: str = "voice"
    noise_window: tuple[float, float] | None = None
    hum: str = "auto"
    threshold_db: float = -2.0
    reduction_db: float | None = None
    freq_smooth_hz: float = 0.0
    time_smooth_ms: float = 80.0
    channels: str = "linked"
    highpass_hz: float = 0.0
    loudness_lufs: float | None = None
    ceiling_dbtp: float = -1.0
    n_fft: int | None = None
    hop_length: int | None = None
    win_length: int | None = None

    def __post_init__(self) -> None:
        if self.reduction_db is None and isinstance(self.engine, str) and self.engine in DEFAULT_REDUCTION_DB:
            object.__setattr__(self, "reduction_db", DEFAULT_REDUCTION_DB[self.engine])
        for field in fields(self):
            name, value = field.name, getattr(self, field.name)
            if value is None and name in PARAM_OPTIONAL:
                continue
            if name in PARAM_CHOICES:
                value = _choice(name, value)
            elif name == "noise_window":
                value = _noise_window(value)
            elif name in STFT_FIELDS:
                value = _samples(name, value)
            else:
                value = _in_range(name, value)
            object.__setattr__(self, name, value)

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

    def is_preset(self, name: str) -> bool:
        """Whether these are the settings of preset ``name``, whatever the noise window and the STFT.

        Those two belong to a recording, not to a kind of recording, so no preset sets them.
        """
        preset = DenoiseParams.preset(name)
        return replace(self, noise_window=None, **dict.fromkeys(STFT_FIELDS)) == preset

    def updated(self, **settings) -> DenoiseParams:
        """These settings with some changed (checked as on construction).

        A change of engine takes the new engine's own ``reduction_db`` when the
        old one was at its own default and no other is given.

        Raises
        ------
        ParameterError
            If a name is not a setting (the message lists them), or a value is out of range.
        """
        names = [f.name for f in fields(self)]
        unknown = [name for name in settings if name not in names]
        if unknown:
            raise ParameterError(f"There is no setting {unknown[0]!r}; the settings are {', '.join(names)}.")
        if "reduction_db" not in settings and self.reduction_db == DEFAULT_REDUCTION_DB.get(self.engine):
            settings["reduction_db"] = None  # the old engine's own strength becomes the new one's
        return replace(self, **settings)

    def noise_settings(self) -> dict[str, object]:
        """The settings the noise profile depends on, as keywords of :func:`denoise_core.noise_profile`."""
        return {name: getattr(self, name) for name in NOISE_FIELDS}


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def _in_range(name: str, value) -> float:
    low, high = PARAM_RANGES[name]
    if not _is_number(value):
        raise ParameterError(f"{name} must be a number, got {value!r}.")
    if not np.isfinite(value) or not low <= value <= high:
        raise ParameterError(f"{name} must be between {low:g} and {high:g}, got {value!r}.")
    return float(value)


def _samples(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(f"{name} must be a whole number of samples (or None), got {value!r}.")
    return int(value)


def _noise_window(value) -> tuple[float, float]:
    try:
        start_s, end_s = (float(v) for v in value)
    except (TypeError, ValueError):
        raise NoiseWindowError(
            f"The noise window must be two numbers (start, end) in seconds, got {value!r}."
        ) from None
    return start_s, end_s


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
#: settings each one changes from the defaults, its engine always among them. Defined here, beside the
#: settings, for the API, the CLI (``--preset podcast``) and the app.
PRESETS: dict[str, dict[str, object]] = {
    # Phones pick up handling noise and wind below the voice, and record quietly.
    "Voice memo": {"engine": "voice", "highpass_hz": 100.0, "loudness_lufs": -16.0},
    "Podcast": {"engine": "voice", "highpass_hz": 80.0, "loudness_lufs": -16.0, "ceiling_dbtp": -1.0},
    # A room's reverberation sits near the noise: a limit keeps some of the room, so it sounds natural.
    "Lecture / room": {"engine": "voice", "reduction_db": 24.0, "highpass_hz": 100.0, "loudness_lufs": -16.0},
    # A light touch: on the tune mixtures a 12 dB limit was the one no file lost intelligibility at.
    "Gentle": {"engine": "voice", "reduction_db": 12.0},
    # The spectral gate keeps every sound but the steady noise it measures.
    "Music, birdsong, any sound": {"engine": "classic"},
}
DenoiseParams.PRESETS = PRESETS


def preset_key(label: str) -> str:
    """A preset's label as typed on a command line: ``"Lecture / room"`` -> ``"lecture-room"``."""
    return "-".join("".join(c if c.isalnum() else " " for c in str(label).lower()).split())
