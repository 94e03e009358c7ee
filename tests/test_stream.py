"""The block pipeline's central promise: any block sizes give exactly the whole-file result.

Twenty seconds of 48 kHz stereo speech and noise go through the pipeline in
ragged blocks (1 sample, a prime, more than a decision-directed segment of
256 frames, ...) and in one block, in memory, from a file and through the CLI.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from denoise_core import DenoiseParams, StftConfig, denoise, denoise_file
from denoise_core.cli import main
from denoise_core.finishing import ArraySpool, clean
from denoise_core.noise import measure_noise
from denoise_core.source import ArraySource, Source

SR = 48_000
N = 20 * SR + 1234
#: Block sizes cycled through: one sample, tiny, a prime, more than a DSP segment (256 frames of 512).
RAGGED = (1, 2, 7919, 150_001, 1, 3, 48_000, 131_071)


class _RaggedSource(ArraySource):
    """An array read in blocks of the sizes in :data:`RAGGED`, in turn."""

    def read(self, start=0, stop=None):
        stop = self.n_samples if stop is None else stop
        position, turn = start, 0
        while position < stop:
            size = min(RAGGED[turn % len(RAGGED)], stop - position)
            yield self._columns[position : position + size]
            position, turn = position + size, turn + 1


@pytest.fixture(scope="module")
def recording(load_data):
    speech, sr = load_data("p257_089_noisy.flac")
    assert sr == SR
    rng = np.random.default_rng(3)
    left = np.resize(speech, N)
    right = 0.6 * np.roll(left, 5000) + 0.01 * rng.standard_normal(N)
    return np.stack([left, right], axis=1).astype(np.float32)


def _gate(source, noise, params):
    out = np.zeros((source.n_samples, source.n_channels), np.float32)
    starts = []

    def sink(start, block):
        assert start == (starts[-1][1] if starts else 0)
        starts.append((start, start + block.shape[0]))
        out[start : start + block.shape[0]] = block

    report = clean(source, noise, params, sink, ArraySpool(np.empty_like(out), source.block_samples))
    return out, report, len(starts)


@pytest.mark.parametrize(
    ("engine", "noise_window"),
    [("classic", (0.0, 0.15)), ("classic", None), ("voice", (0.0, 0.15))],
    ids=["classic-window", "classic-auto", "voice"],
)
def test_ragged_blocks_give_the_whole_file_result_exactly(recording, monkeypatch, engine, noise_window):
    params = DenoiseParams(engine=engine, reduction_db=30.0)
    monkeypatch.setattr(Source, "block_samples", N)  # the whole recording in one block
    whole_source = ArraySource(recording, SR)
    noise = measure_noise(whole_source, StftConfig.for_sr(SR), noise_window)
    whole, whole_report, n_whole = _gate(whole_source, noise, params)
    ragged_source = _RaggedSource(recording, SR)
    ragged_noise = measure_noise(ragged_source, noise.config, noise_window)
    np.testing.assert_array_equal(ragged_noise.power, noise.power)
    ragged, ragged_report, n_ragged = _gate(ragged_source, ragged_noise, params)
    assert len(list(ragged_source.read())) > 20 and len(list(whole_source.read())) == 1
    assert n_whole <= 2 < n_ragged
    np.testing.assert_array_equal(ragged, whole)
    # The report's sums are added up in other groups of frames: equal to float rounding.
    for name in ("snr_before_db", "snr_after_db", "noise_removed_db"):
        assert getattr(ragged_report, name) == pytest.approx(getattr(whole_report, name), rel=1e-9)
    assert ragged_report.noise_window_s == whole_report.noise_window_s
    # And it is what the public API gives.
    np.testing.assert_array_equal(
        whole, denoise(recording, SR, engine=engine, noise_window=noise_window, reduction_db=30.0)
    )


@pytest.mark.parametrize("engine", ["classic", "voice"])
def test_file_path_and_cli_give_the_same_bytes_for_any_block_size(recording, tmp_path, monkeypatch, engine):
    source = tmp_path / "take.wav"
    sf.write(source, recording, SR, subtype="PCM_24")  # no PEAK chunk with a time stamp: comparable bytes
    expected = denoise(sf.read(source, dtype="float32")[0], SR, engine=engine, noise_window=(0.0, 0.15))
    outputs = {}
    for block in (7919, 1 << 18, N):
        monkeypatch.setattr(Source, "block_samples", block)
        target = tmp_path / f"file_{block}.wav"
        denoise_file(source, target, engine=engine, noise_window=(0.0, 0.15))
        cli_target = tmp_path / f"cli_{block}.wav"
        flags = ["--noise-window", "0", "0.15", "--engine", engine, "-q"]
        assert main([str(source), "-o", str(cli_target), *flags]) == 0
        outputs[block] = target.read_bytes()
        assert cli_target.read_bytes() == outputs[block]
        written = sf.read(target, dtype="float32")[0]
        assert np.max(np.abs(written - expected)) <= 2.0**-23  # one 24-bit step
    assert len(set(outputs.values())) == 1


def _engine_threads():
    import threading

    return [t for t in threading.enumerate() if t.name.startswith(("quiet-read", "quiet-write"))]


class _FailingSource(ArraySource):
    """An array whose reading fails after its third block once ``failing`` is set, like a file on a
    network drive that goes away (set after construction, which checks the samples)."""

    block_samples = 4096
    failing = False

    def read(self, start=0, stop=None):
        for i, block in enumerate(super().read(start, stop)):
            if self.failing and i == 3:
                raise OSError("the drive went away")
            yield block


def test_a_failing_sink_stops_the_gate_with_its_error_and_leaves_no_thread(recording):
    # The sink runs on the engine's writing thread: its error must come out where the cleaning was called.
    source = ArraySource(recording[: 4 * SR], SR)
    noise = measure_noise(source, StftConfig.for_sr(SR), (0.0, 0.15))
    calls = []

    def sink(start, block):
        calls.append(start)
        if len(calls) == 2:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        clean(source, noise, DenoiseParams(), sink, ArraySpool(np.empty((source.n_samples, 2), np.float32), 4096))
    assert len(calls) == 2
    assert _engine_threads() == []


def test_a_failing_source_stops_the_gate_with_its_error_and_leaves_no_thread(recording):
    # The source is read on the engine's reading thread.
    source = _FailingSource(recording[: 4 * SR], SR)
    noise = measure_noise(source, StftConfig.for_sr(SR), (0.0, 0.15))
    source.failing = True
    with pytest.raises(OSError, match="the drive went away"):
        clean(source, noise, DenoiseParams(), lambda start, block: None, ArraySpool(np.empty((1, 2), np.float32), 1))
    assert _engine_threads() == []


def test_a_cleaning_with_a_budget_of_one_thread_starts_none_and_gives_the_same_bits(recording, monkeypatch):
    import threading

    from denoise_core.threads import single_threaded

    started = []
    real_start = threading.Thread.start

    def counted(thread):
        started.append(thread.name)
        real_start(thread)

    expected = denoise(recording[: 4 * SR], SR, noise_window=(0.0, 0.15))
    monkeypatch.setattr(threading.Thread, "start", counted)
    with single_threaded():
        alone = denoise(recording[: 4 * SR], SR, noise_window=(0.0, 0.15))
    assert not [name for name in started if name.startswith(("quiet-read", "quiet-write"))]
    np.testing.assert_array_equal(alone, expected)
