"""The tunable settings of the gate, defined once.

The library API, the command line flags (``--reduction-db``) and the app's
widgets all use these names, defaults and ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Dict, Tuple

import numpy as np

from .errors import ParameterError

__all__ = ["DenoiseParams", "PARAM_RANGES", "PARAM_CHOICES", "PARAM_HELP"]

#: Allowed range (inclusive) of each setting, in its own unit.
PARAM_RANGES: Dict[str, Tuple[float, float]] = {
    "threshold_db": (-10.0, 30.0),
    "reduction_db": (0.0, 60.0),
    "freq_smooth_hz": (0.0, 4000.0),
    "time_smooth_ms": (0.0, 500.0),
}

#: The values allowed for each setting that is a choice.
PARAM_CHOICES: Dict[str, Tuple[str, ...]] = {
    "channels": ("linked", "independent"),
}

#: One-line plain-words description of each setting, for help texts.
PARAM_HELP: Dict[str, str] = {
    "channels": "How a stereo or multichannel recording is cleaned: 'linked' applies one gain to all channels so the stereo image does not move; 'independent' cleans each channel on its own.",
    "threshold_db": "How far (dB) a sound must rise above the noise floor to be kept. Higher removes more noise but may thin quiet speech.",
    "reduction_db": "The most the noise is turned down, in dB. 0 leaves the recording as it is; higher is quieter noise but can sound hollow.",
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
        Largest attenuation in dB applied to noise (0 to 60 dB). The gain never
        goes below ``-reduction_db``, so speech is never gated to silence.
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

    Attributes
    ----------
    RANGES : dict
        ``name -> (low, high)``: the allowed range of each numeric setting (:data:`PARAM_RANGES`).
    CHOICES : dict
        ``name -> values``: the allowed values of each setting that is a choice (:data:`PARAM_CHOICES`).
    HELP : dict
        ``name -> text``: a plain-words description of each setting (:data:`PARAM_HELP`).
    """

    RANGES: ClassVar[Dict[str, Tuple[float, float]]] = PARAM_RANGES
    CHOICES: ClassVar[Dict[str, Tuple[str, ...]]] = PARAM_CHOICES
    HELP: ClassVar[Dict[str, str]] = PARAM_HELP

    threshold_db: float = 0.0
    reduction_db: float = 15.0
    freq_smooth_hz: float = 1000.0
    time_smooth_ms: float = 100.0
    channels: str = "linked"

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in PARAM_CHOICES:
                allowed = PARAM_CHOICES[field.name]
                if not (isinstance(value, str) and value in allowed):
                    raise ParameterError(f"{field.name} must be one of {', '.join(map(repr, allowed))}, got {value!r}.")
                continue
            low, high = PARAM_RANGES[field.name]
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ParameterError(f"{field.name} must be a number, got {value!r}.")
            if not np.isfinite(value) or not low <= value <= high:
                raise ParameterError(f"{field.name} must be between {low:g} and {high:g}, got {value!r}.")
            object.__setattr__(self, field.name, float(value))
