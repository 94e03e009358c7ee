"""Voice engine streaming: block sizes, rates, channels, memory and the limit (denoise_core.voice).

The signals are the 48 kHz test clip, looped to make a long stereo stream
(the second channel delayed, quieter and with a little noise of its own).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soxr

from denoise_core.errors import AudioInputError, ParameterError
from denoise_core.voice import FRAME_S, PREROLL_S, VoiceStream, apply_atten_lim, atten_lim_factor, enhance
from denoise_core.voice.stream import CHUNK_HOPS, RESAMPLE_BLOCK

SR = 48000
CHUNK = CHUNK_HOPS * 480


def difference_db(y: np.ndarray, reference: np.ndarray) -> float:
    return float(10 * np.log10(np.sum((y - reference) ** 2) / np.sum(reference**2)))


@pytest.fixture(scope="module")
def speech(load_data) -> np.ndarray:
    y, sr = load_data("p257_089_noisy.flac")
    assert sr == SR
    return y


@pytest.fixture(scope="module")
def stereo(speech) -> np.ndarray:
    """21.3 s of 48 kHz stereo."""
    n = 21 * SR + 12345
    left = np.resize(speech, n)
    right = 0.6 * np.roll(left, 1234) + 0.003 * np.random.default_rng(3).standard_normal(n)
    return np.stack([left, right]).astype(np.float32)


def run(y: np.ndarray, sr: float, blocks) -> tuple:
    """Push ``y`` through a stream in blocks cycling through ``blocks`` sizes."""
    stream = VoiceStream(sr, y.shape[0])
    parts, lsnr, start, k = [], [], 0, 0
    while start < y.shape[1]:
        size = blocks[k % len(blocks)]
        parts.append(stream.push(y[:, start : start + size]))
        lsnr.append(stream.take_lsnr_db())
        start, k = start + size, k + 1
    parts.append(stream.finish())
    lsnr.append(stream.take_lsnr_db())
    return np.concatenate(parts, axis=1), np.concatenate(lsnr)


@pytest.fixture(scope="module")
def whole_stereo(stereo):
    return run(stereo, SR, [stereo.shape[1]])


@pytest.mark.parametrize("blocks", [[1, 7919, 2 * CHUNK + 1], [CHUNK - 1, 2, 3]], ids=["1-prime-2chunks+1", "chunk-1-2-3"])
def test_block_sizes_never_change_the_bits(stereo, whole_stereo, blocks):
    out, lsnr = run(stereo, SR, blocks)
    assert np.array_equal(out, whole_stereo[0])
    assert np.array_equal(lsnr, whole_stereo[1])


def test_output_has_the_inputs_length_and_a_frame_of_local_snr_per_10_ms(stereo, whole_stereo):
    out, lsnr = whole_stereo
    assert out.shape == stereo.shape and out.dtype == np.float32
    assert len(lsnr) == int(np.ceil(stereo.shape[1] / SR / FRAME_S))
    assert lsnr.min() >= -15 and lsnr.max() <= 35


@pytest.mark.parametrize("sr", [16000, 44100])
def test_other_rates_give_the_48k_result_resampled_in_time_with_the_input(speech, sr):
    y = soxr.resample(np.resize(speech, 5 * SR + 777), SR, sr).astype(np.float32)
    out, lsnr = run(y[None], sr, [1, 997, 3 * RESAMPLE_BLOCK + 5])
    assert np.array_equal(out, run(y[None], sr, [len(y)])[0])
    assert out.shape == (1, len(y))
    y_48k = soxr.resample(y, sr, SR).astype(np.float32)
    expected = soxr.resample(enhance(y_48k, SR)[0], SR, sr)
    assert np.abs(out[0] - expected[: len(y)]).max() < 1e-6
    assert len(lsnr) == int(np.ceil(len(y_48k) / 480))


def test_stereo_uses_one_mask_for_both_channels(speech):
    y = np.resize(speech, 4 * SR)
    mono = enhance(y, SR)
    twin = enhance(np.stack([y, y]), SR)
    assert np.array_equal(twin[0][0], mono[0]) and np.array_equal(twin[0][1], mono[0])
    assert np.array_equal(twin[1], mono[1])
    scaled = enhance(np.stack([y, 0.5 * y]), SR)[0]
    assert np.abs(scaled[1] - 0.5 * scaled[0]).max() < 1e-6 * np.abs(scaled[0]).max()


def test_swapping_channels_swaps_the_output(stereo):
    y = stereo[:, : 3 * SR]
    assert np.array_equal(enhance(y[::-1], SR)[0], enhance(y, SR)[0][::-1])


def test_memory_stays_bounded_however_long_the_stream(stereo):
    def peak_bytes(seconds: float) -> int:
        stream = VoiceStream(SR, 2)
        block = stereo[:, :SR].copy()
        tracemalloc.start()
        for _ in range(int(seconds)):
            stream.push(block)
            stream.take_lsnr_db()
        stream.finish()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    short, long = peak_bytes(3), peak_bytes(9)
    assert long < short + 1_000_000
    assert long < 40_000_000


def test_a_preroll_warms_a_stretch_up_to_the_whole_runs_output(speech):
    start, stop = 9 * SR, 12 * SR
    y = np.resize(speech, stop)
    whole = enhance(y, SR)[0]
    cold = enhance(y[start:stop], SR)[0]
    pre = int(PREROLL_S * SR)
    warm = enhance(y[start - pre : stop], SR)[0][pre:]
    assert difference_db(warm, whole[start:stop]) < -30
    assert difference_db(cold, whole[start:stop]) > -20


@pytest.mark.parametrize(
    ("limit_db", "share"), [(0.0, 1.0), (0.005, 1.0), (12.0, 10 ** (-12 / 20)), (99.9, 10 ** (-99.9 / 20)), (100.0, 0.0), (150.0, 0.0)]
)
def test_limit_mixes_input_and_unlimited_output(rng, limit_db, share):
    y, y_enh = rng.standard_normal((2, 2, 1000)).astype(np.float32)
    assert atten_lim_factor(limit_db) == pytest.approx(share, rel=1e-6)
    assert np.allclose(apply_atten_lim(y, y_enh, limit_db), share * y + (1 - share) * y_enh, atol=1e-6)


@pytest.mark.parametrize(("limit_db", "match"), [(-1.0, "finite number of dB >= 0"), (float("nan"), "finite"), ("12", "number of dB")])
def test_a_bad_limit_is_refused(limit_db, match):
    with pytest.raises(ParameterError, match=match):
        atten_lim_factor(limit_db)


def test_limit_needs_aligned_signals_of_one_shape():
    with pytest.raises(ParameterError, match="must match"):
        apply_atten_lim(np.zeros(10, np.float32), np.zeros(11, np.float32), 12.0)


@pytest.mark.parametrize(
    ("sr", "n_channels", "match"),
    [(7999, 1, "between 8000 and 192000"), (48000, 0, "from 1 to 64"), (48000, 65, "from 1 to 64"), (48000, 1.5, "whole number")],
)
def test_a_bad_stream_setting_is_refused(sr, n_channels, match):
    with pytest.raises(AudioInputError, match=match):
        VoiceStream(sr, n_channels)


@pytest.mark.parametrize(
    ("block", "match"),
    [(np.zeros(10), r"shape \(2, n\)"), (np.zeros((1, 10)), r"shape \(2, n\)"), (np.full((2, 10), np.nan), "NaN or infinite")],
    ids=["1-d", "one-channel", "nan"],
)
def test_a_bad_block_is_refused(block, match):
    with pytest.raises(AudioInputError, match=match):
        VoiceStream(SR, 2).push(block)


def test_a_finished_stream_takes_no_more():
    stream = VoiceStream(SR, 1)
    stream.finish()
    with pytest.raises(AudioInputError, match="has finished"):
        stream.push(np.zeros((1, 10), np.float32))


def test_an_empty_stream_gives_nothing():
    stream = VoiceStream(22050, 2)
    assert stream.push(np.zeros((2, 0), np.float32)).shape == (2, 0)
    assert stream.finish().shape == (2, 0)
    assert stream.take_lsnr_db().shape == (0,)
