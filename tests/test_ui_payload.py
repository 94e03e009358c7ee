"""What the page sends to the browser for a 30-minute recording (run with -s to see the sizes).

Whatever the length, the page sends an overview strip of the whole recording,
and for one preview stretch (at most :data:`ui.preview.PREVIEW_SAMPLES`) a
detail figure and three players. Measured on 30 minutes of real noisy speech
(the example, tiled).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import plotly.io as pio
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent

from denoise_core import DenoiseParams, noise_profile
from ui.limits import MAX_DURATION_S
from ui.loading import EXAMPLE_PATH
from ui.plots import detail_figure, overview_figure
from ui.pooling import WAVEFORM_COLUMNS, envelope
from ui.preview import PREVIEW_SAMPLES, default_stretch, make_preview, stretch_frames


@pytest.fixture(scope="module")
def thirty_minutes():
    y, sr = sf.read(str(EXAMPLE_PATH), dtype="float32")
    n = int(MAX_DURATION_S * sr)
    return np.tile(y, -(-n // len(y)))[:n], sr


def test_payload_of_a_thirty_minute_file(thirty_minutes):
    y, sr = thirty_minutes
    length = stretch_frames(sr, 1, len(y))
    assert length == PREVIEW_SAMPLES  # 18.8 s of 48 kHz mono
    stretch = default_stretch(y, sr, length)
    noise = noise_profile(y[:length], sr)  # the page measures it on the whole recording; the size is the same
    start = time.perf_counter()
    shown = make_preview(y, noise, DenoiseParams(), stretch)
    preview_s = time.perf_counter() - start
    piece = y[stretch.start : stretch.stop]

    def sent(fig) -> int:  # what st.plotly_chart sends: plotly.io.to_json(figure, validate=False)
        return len(pio.to_json(fig, validate=False))

    overview_bytes = sent(
        overview_figure(envelope(y, sr, WAVEFORM_COLUMNS // 2), len(y) / sr, (stretch.start_s, stretch.stop_s), noise_window_s=(60.0, 60.5))
    )
    detail = {
        log: sent(
            detail_figure(piece, shown.audio, sr, shown.before_picture, shown.after_picture, t0_s=stretch.start_s, log_freq=log)
        )
        for log in (True, False)
    }
    players = [len(shown.before), len(shown.after), len(shown.removed)]
    print(
        f"\n30-minute 48 kHz mono file sends: overview {overview_bytes / 1e3:.0f} kB, detail figure of the "
        f"{length / sr:.0f} s preview {detail[True] / 1e6:.2f} MB (linear axis {detail[False] / 1e6:.2f} MB), "
        f"players {', '.join(f'{b / 1e6:.2f}' for b in players)} MB (FLAC); preview made in {preview_s:.2f} s"
    )
    assert overview_bytes < 150_000
    assert max(detail.values()) < 2_500_000
    assert max(players) < 2 * length + 10_000  # 16-bit at most: never the whole recording
