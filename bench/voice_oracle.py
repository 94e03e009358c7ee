"""Oracle comparisons of the voice engine (DeepFilterNet3 in NumPy) on the public pairs.

For each noisy clip of ``pairs/`` (resampled to 48 kHz with soxr when it is
not at 48 kHz, and fed at 48 kHz to both sides):

- the network against onnxruntime running DeepFilterNet3's own graphs on the
  same features (largest absolute difference of the ERB gains, of the deep
  filter coefficients and of the local SNR in dB; bars 1e-4, 1e-4, 1e-3);
- the whole pipeline against the reference C runtime, lag-aligned, with no
  limit and with a 12 dB limit (energy of the difference relative to the
  runtime's output in dB; bar -40 dB), and the local SNR per frame.

Then the pre-roll table: 3 s stretches of all clips joined, cleaned on their
own after N s of pre-roll (starting on the 10 ms grid), against the same
stretches within the whole run (the figures behind
``denoise_core.voice.PREROLL_S``).

    python bench/voice_oracle.py [DATA]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import soxr
from common import find_pairs, format_table, load_mono, pairs_dir
from dfn_reference import REFERENCE_SR, reference_denoise, reference_process
from voice_onnx import onnx_network

from denoise_core.voice import LAG_48K, apply_atten_lim, enhance
from denoise_core.voice.features import Analysis, FeatureExtractor
from denoise_core.voice.network import Dfn3, NetworkState
from denoise_core.voice.stream import CHUNK_HOPS

NETWORK_BARS = (1e-4, 1e-4, 1e-3)
PIPELINE_BAR_DB = -40.0
PREROLL_S = (0, 1, 2, 3, 5, 8)
STRETCH_S = 3.0
STRETCH_STARTS_S = (9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 27.0)


def difference_db(y: np.ndarray, reference: np.ndarray) -> float:
    """Energy of ``y - reference`` relative to that of ``reference``, in dB."""
    return float(10 * np.log10(np.sum((y - reference) ** 2) / np.sum(reference**2)))


def network_errors(y: np.ndarray):
    """Largest differences (gains, coefficients, local SNR dB) between the NumPy network and onnxruntime."""
    feat_erb, feat_spec = FeatureExtractor()(Analysis(1)(y[None, : len(y) // 480 * 480])[0])
    network, state, parts = Dfn3(), NetworkState(), []
    for start in range(0, len(feat_erb), CHUNK_HOPS):
        parts.append(network(feat_erb[start : start + CHUNK_HOPS], feat_spec[start : start + CHUNK_HOPS], state))
    ours = [np.concatenate(p) for p in zip(*parts, strict=False)]
    return [float(np.abs(a - b).max()) for a, b in zip(ours, onnx_network(feat_erb, feat_spec), strict=False)]


def pipeline_differences(y: np.ndarray):
    """Differences (dB) from the runtime with no limit and at 12 dB, and the local SNR's largest difference."""
    enhanced, lsnr = enhance(y, REFERENCE_SR)
    raw, reference_lsnr = reference_process(np.concatenate([y, np.zeros(LAG_48K, np.float32)]), 100.0)
    unlimited = difference_db(enhanced, raw[LAG_48K : LAG_48K + len(y)])
    limited = difference_db(apply_atten_lim(y, enhanced, 12.0), reference_denoise(y, 12.0))
    return unlimited, limited, float(np.abs(lsnr - reference_lsnr[: len(lsnr)]).max())


def preroll_table(y: np.ndarray):
    """For each pre-roll, the differences (dB) of the stretches from the whole run."""
    whole = enhance(y, REFERENCE_SR)[0]
    length = int(STRETCH_S * REFERENCE_SR)
    table = {}
    for preroll in PREROLL_S:
        diffs = []
        for start_s in STRETCH_STARTS_S:
            start = int(start_s * REFERENCE_SR)
            if start + length > len(y):
                continue
            first = start - int(preroll * REFERENCE_SR)
            stretch = enhance(y[first : start + length], REFERENCE_SR)[0][start - first :]
            diffs.append(difference_db(stretch, whole[start : start + length]))
        table[preroll] = diffs
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?",
                        help="data folder holding pairs/, or a folder of pairs (default: ../shared/data/public)")
    args = parser.parse_args(argv)

    clips = {}
    for pair in find_pairs(pairs_dir(args.data)):
        y, sr = load_mono(pair.noisy)
        clips[f"{pair.name} ({sr // 1000:g} kHz)"] = y if sr == REFERENCE_SR else soxr.resample(y, sr, REFERENCE_SR).astype(np.float32)

    rows, passed = [], True
    for name, y in clips.items():
        gains, coefs, lsnr = network_errors(y)
        unlimited, limited, lsnr_runtime = pipeline_differences(y)
        passed &= all(e < bar for e, bar in zip((gains, coefs, lsnr), NETWORK_BARS, strict=False))
        passed &= unlimited < PIPELINE_BAR_DB and limited < PIPELINE_BAR_DB
        rows.append([name, f"{len(y) / REFERENCE_SR:.1f}", f"{gains:.1e}", f"{coefs:.1e}", f"{lsnr:.1e}",
                     f"{unlimited:.1f}", f"{limited:.1f}", f"{lsnr_runtime:.1e}"])
    print("Network vs onnxruntime (max abs difference) and pipeline vs the reference C runtime (difference in dB)\n")
    print(format_table(["clip", "s", "gains", "DF coefs", "lsnr dB", "runtime, no limit dB", "runtime, 12 dB limit dB",
                        "lsnr vs runtime dB"], rows))
    print(f"\n{'PASS' if passed else 'FAIL'}  network within {NETWORK_BARS[0]:g} (gains, coefficients) and "
          f"{NETWORK_BARS[2]:g} dB (local SNR) of onnxruntime; pipeline at least {-PIPELINE_BAR_DB:g} dB from the runtime")

    joined = np.concatenate(list(clips.values()))
    table = preroll_table(joined)
    print(f"\nPre-roll: {STRETCH_S:g} s stretches of the {len(joined) / REFERENCE_SR:.1f} s of clips joined, cleaned on "
          "their own, against the same stretches within the whole run (difference in dB)\n")
    rows = [[f"{p:g} s", f"{statistics.median(d):.1f}", f"{max(d):.1f}", f"{min(d):.1f}", " ".join(f"{x:.0f}" for x in d)]
            for p, d in table.items()]
    print(format_table(["pre-roll", "median", "worst", "best", "each stretch"], rows))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
