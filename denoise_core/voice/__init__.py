"""Quiet's voice engine: DeepFilterNet3 in NumPy, streaming, at any rate.

DeepFilterNet3 (Schröter et al., Interspeech 2023; 2.1 M parameters; code
and weights MIT or Apache-2.0, licences beside ``dfn3.npz``) run as its
reference runtime runs it (``libDF``'s ``tract.rs`` with the C API's
settings), with NumPy only (and soxr for rates other than 48 kHz).

- :func:`enhance` cleans a whole recording; :class:`VoiceStream` cleans a
  stream block by block. Both give the *unlimited* output, aligned with the
  input sample for sample, and the local SNR of each 10 ms frame.
- :func:`apply_atten_lim` makes the output at any attenuation limit from the
  input and the unlimited output, as the reference's limit does.
- A stretch cleaned on its own should start :data:`PREROLL_S` seconds early
  (on the 10 ms grid) so that the network's states are warm.
- Run it with one BLAS thread (see :mod:`denoise_core.voice.stream`).
"""

from .deepfilter import NO_LIMIT_DB, apply_atten_lim, atten_lim_factor
from .stream import FRAME_S, LAG_48K, PREROLL_S, VoiceStream, enhance

__all__ = [
    "FRAME_S",
    "LAG_48K",
    "NO_LIMIT_DB",
    "PREROLL_S",
    "VoiceStream",
    "apply_atten_lim",
    "atten_lim_factor",
    "enhance",
]
