"""The tunable settings of the gate, defined once.

The library API, the command line flags (``--reduction-db``) and the app's
widgets all use these names, defaults and ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Dict, Tuple

import numpy as np

from .errors import ParameterError

__all__ = ["DenoiseParams", "PARAM_RANGES", "PARAM_HELP"]

#: Allowed range (inclusive) of each setting, in its own unit.
PARAM_RANGES: Dict[str, Tuple[float, float]] = {
    "threshold_db": (-10.0, 30.0),
    "reduction_db": (0.0, 60.0),
    "freq_smooth_hz": (0.0, 4000.0),
    "time_smooth_ms": (0.0, 500.0),
}

#: One-line plain-words description of each setting, for help texts.
PARAM_HELP: Dict[str, str] = {
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
    """

    threshold_db: float = -2.0
    reduction_db: float = 40.0
    freq_smooth_hz: float = 0.0
    time_smooth_ms: float = 80.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            low, high = PARAM_RANGES[field.name]
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ParameterError(f"{field.name} must be a number, got {value!r}.")
            if not np.isfinite(value) or not low <= value <= high:
                raise ParameterError(f"{field.name} must be between {low:g} and {high:g}, got {value!r}.")
            object.__setattr__(self, field.name, float(value))
