"""Quiet's denoising engine: spectral gating of background noise in NumPy.

The one-call API is :func:`denoise`, which runs block by block with bounded
memory: :func:`noise_profile` (from a window, or the quietest stretch found
automatically), then :func:`denoise_with_profile` (OM-LSA gain, smoothing,
inverse STFT). :func:`analyse`, :func:`estimate_noise` and :func:`gate` do the
same on a whole spectrogram held in memory, for callers that want to look at
it (the gain of every bin, for a picture).
"""

from .errors import AudioFileError, AudioInputError, DenoiseError, NoiseWindowError, ParameterError
from .noise import NoiseProfile, find_quietest_window
from .params import PARAM_HELP, PARAM_RANGES, DenoiseParams
from .pipeline import Analysis, GateResult, analyse, denoise, denoise_with_profile, estimate_noise, gate, noise_profile
from .report import DenoiseReport
from .transform import StftConfig, default_n_fft

__all__ = [
    "denoise",
    "noise_profile",
    "denoise_with_profile",
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
