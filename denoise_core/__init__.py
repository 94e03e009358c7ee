"""Quiet's denoising engine: spectral gating of background noise in NumPy.

The one-call API is :func:`denoise`. It is built from :func:`analyse` (checks
and STFT), :func:`estimate_noise` (noise profile from a window or found
automatically) and :func:`gate` (OM-LSA gain, smoothing, inverse STFT), which
an interactive caller can run separately.
"""

from .errors import AudioFileError, AudioInputError, DenoiseError, NoiseWindowError, ParameterError
from .noise import NoiseProfile, find_quietest_window
from .params import PARAM_HELP, PARAM_RANGES, DenoiseParams
from .pipeline import Analysis, GateResult, analyse, denoise, estimate_noise, gate
from .report import DenoiseReport
from .transform import StftConfig, default_n_fft

__all__ = [
    "denoise",
    "analyse",
    "estimate_noise",
    "gate",
    "find_quietest_window",
    "Analysis",
    "GateResult",
    "DenoiseReport",
    "DenoiseParams",
    "NoiseProfile",
    "StftConfig",
    "default_n_fft",
    "PARAM_RANGES",
    "PARAM_HELP",
    "DenoiseError",
    "AudioInputError",
    "NoiseWindowError",
    "ParameterError",
    "AudioFileError",
]

__version__ = "0.1.0"
