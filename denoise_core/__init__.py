"""Quiet's denoising engine in NumPy: two engines on one path.

One path runs every caller: a recording is read block by block, its noise
profile is measured (:func:`noise_profile`, from a window or the quietest
stretch found automatically), and it is cleaned by the engine
:class:`DenoiseParams` names (:func:`denoise_with_profile`), then finished
(rumble filter, loudness, true peak), with bounded memory:

* ``engine="classic"``: spectral gating (OM-LSA gain against the tracked
  noise, inverse STFT), for any sound;
* ``engine="voice"``: DeepFilterNet3 (Schröter et al. 2023) in NumPy, which
  keeps only voices (:func:`voice_take` gives its result at every strength
  from one run of the network).

:func:`denoise` does it all on an array in one call and :func:`denoise_file`
from file to file. :func:`integrated_loudness` measures a recording's
loudness (ITU-R BS.1770) in LUFS.
"""

from .errors import AudioFileError, AudioInputError, DenoiseError, NoiseWindowError, ParameterError
from .files import denoise_file
from .loudness import integrated_loudness
from .noise import NoiseProfile
from .params import DenoiseParams
from .pipeline import VoiceTake, denoise, denoise_with_profile, noise_profile, voice_take
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
    "VoiceTake",
    "denoise",
    "denoise_file",
    "denoise_with_profile",
    "integrated_loudness",
    "noise_profile",
    "voice_take",
]

__version__ = "0.1.0"
