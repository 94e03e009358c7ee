"""Quiet's denoising engine: spectral gating of background noise in NumPy.

One path runs every caller: a recording is read block by block, its noise
profile is measured (:func:`noise_profile`, from a window or the quietest
stretch found automatically) and the recording is gated against it
(:func:`denoise_with_profile`: OM-LSA gain, smoothing, inverse STFT), with
bounded memory. :func:`denoise` does both on an array in one call and
:func:`denoise_file` does both from file to file. :func:`integrated_loudness`
measures a recording's loudness (ITU-R BS.1770) in LUFS.
"""

from .errors import AudioFileError, AudioInputError, DenoiseError, NoiseWindowError, ParameterError
from .files import denoise_file
from .loudness import integrated_loudness
from .noise import NoiseProfile
from .params import DenoiseParams
from .pipeline import denoise, denoise_with_profile, noise_profile
from .report import DenoiseReport
from .transform import StftConfig

__all__ = [
    "AudioFileError",
    "AudioInputError",
    "DenoiseError",
    "DenoiseParams",
    "DenoiseReport",
    "NoiseProfile",
    "NoiseWindowError",
    "ParameterError",
    "StftConfig",
    "denoise",
    "denoise_file",
    "denoise_with_profile",
    "integrated_loudness",
    "noise_profile",
]

__version__ = "0.1.0"
