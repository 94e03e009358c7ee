"""What the page sends to the browser for a 30-minute recording (run with -s to see the sizes).

The spectrogram's size depends only on its shape (uint8 codes), so a zero-copy
stand-in with the real dimensions measures it exactly; the waveform and the
player are measured on 30 minutes of real noisy speech (the example, tiled).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import plotly.io as pio
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent

from spectra import pool_spectrogram

from denoise_core import StftConfig
from ui.loading import EXAMPLE_PATH, MAX_DURATION_S
from ui.media import encode_player
from ui.plots import spectrogram_figure, waveform_figure


@pytest.fixture(scope="module")
def thirty_minutes():
    y, sr = sf.read(str(EXAMPLE_PATH), dtype="float32")
    n = int(MAX_DURATION_S * sr)
    return np.tile(y, -(-n // len(y)))[:n], sr


def test_payload_of_a_thirty_minute_file(thirty_minutes):
    y, sr = thirty_minutes
    config = StftConfig.for_sr(sr)
    spec = np.broadcast_to(np.complex64(0.01), (1, config.n_freqs, config.n_frames(len(y))))
    picture = pool_spectrogram(spec, config)
    # What st.plotly_chart sends: plotly.io.to_json(figure, validate=False).
    spectrogram_bytes = len(pio.to_json(spectrogram_figure(picture, picture, noise_window_s=(60.0, 60.5)), validate=False))
    spectrogram_log_bytes = len(
        pio.to_json(spectrogram_figure(picture, picture, noise_window_s=(60.0, 60.5), log_freq=True), validate=False)
    )
    waveform_bytes = len(pio.to_json(waveform_figure(y, 0.5 * y, sr, noise_window_s=(60.0, 60.5)), validate=False))
    start = time.perf_counter()
    player_bytes = len(encode_player(y, sr))
    encode_s = time.perf_counter() - start
    print(
        f"\n30-minute 48 kHz mono file sends: spectrogram figure {spectrogram_bytes / 1e6:.2f} MB "
        f"(log axis {spectrogram_log_bytes / 1e6:.2f} MB), waveform figure {waveform_bytes / 1e3:.0f} kB, "
        f"each of the 3 players {player_bytes / 1e6:.1f} MB OGG/Vorbis (encoded in {encode_s:.1f} s; "
        f"served with range requests, so the browser fetches it as it plays)"
    )
    assert spectrogram_bytes < 2_500_000
    assert waveform_bytes < 300_000
    assert player_bytes < 40_000_000  # uncompressed 16-bit WAV would be 173 MB
