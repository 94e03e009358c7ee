"""Shared helpers of the benchmark scripts: data folders, audio loading,
resampling, length guards, quality metrics, text tables and the
``--ours-param`` option.

The scripts in ``bench/`` import this module as ``common`` (they are run as
``python bench/<script>.py``, which puts ``bench/`` on ``sys.path``), and take
``denoise_core`` from here: it is imported from this checkout, ahead of any
other installed copy, so the benchmark always measures the engine beside it.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
from pesq import pesq
from pystoi import stoi

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
import denoise_core  # noqa: E402, F401  (needs REPO_ROOT on sys.path; the scripts take it from here)

DEFAULT_DATA = REPO_ROOT.parent / "shared/data/public"
AUDIO_EXTS = (".wav", ".flac")
PESQ_SR = 16000


@dataclass(frozen=True)
class Pair:
    """One noisy recording and its clean reference (``None`` when it has none)."""

    name: str
    noisy: Path
    clean: Path | None


def pairs_dir(folder: str | Path | None) -> Path:
    """Return the folder of pairs: ``folder/pairs`` if it exists, else ``folder``."""
    folder = Path(folder) if folder is not None else DEFAULT_DATA
    return folder / "pairs" if (folder / "pairs").is_dir() else folder


def find_pairs(folder: Path, allow_unreferenced: bool = False) -> list[Pair]:
    """List ``X_noisy.EXT`` files that have an ``X_clean.EXT`` beside them.

    With ``allow_unreferenced``, every other audio file (not ``*_clean``), and
    a ``*_noisy`` file without its clean reference, is listed too, with
    ``clean=None``: a real recording that can only be scored reference-free.
    """
    pairs = []
    for noisy in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_EXTS):
        stem = noisy.name[: -len(noisy.suffix)]
        if stem.endswith("_clean"):
            continue
        if not stem.endswith("_noisy"):
            if allow_unreferenced:
                pairs.append(Pair(stem, noisy, None))
            continue
        name = stem[: -len("_noisy")]
        cleans = [folder / f"{name}_clean{ext}" for ext in AUDIO_EXTS]
        clean = next((c for c in cleans if c.is_file()), None)
        if clean is None and not allow_unreferenced:
            raise FileNotFoundError(f"no clean reference for {noisy}")
        pairs.append(Pair(name, noisy, clean))
    if not pairs:
        raise FileNotFoundError(f"no *_noisy.wav/flac pairs in {folder}")
    return pairs


def load_mono(path: Path) -> tuple[np.ndarray, int]:
    """Read an audio file as float32 mono (channels are averaged)."""
    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return y.mean(axis=1), sr


def resample(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample with soxr (high quality); a no-op when the rates match."""
    if sr_in == sr_out:
        return y
    return librosa.resample(y, orig_sr=sr_in, target_sr=sr_out, res_type="soxr_hq").astype(np.float32)


def fit_length(y: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad ``y`` to exactly ``n`` samples."""
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (both made zero-mean)."""
    ref = reference.astype(np.float64) - reference.mean()
    est = estimate.astype(np.float64) - estimate.mean()
    eps = np.finfo(np.float64).eps
    target = (np.dot(est, ref) / (np.dot(ref, ref) + eps)) * ref
    residual = est - target
    return float(10 * np.log10((np.dot(target, target) + eps) / (np.dot(residual, residual) + eps)))


def pesq_wb(clean: np.ndarray, processed: np.ndarray, sr: int) -> float:
    """Wide-band PESQ at 16 kHz; NaN when PESQ finds no utterance."""
    ref = resample(clean, sr, PESQ_SR)
    deg = resample(processed, sr, PESQ_SR)
    try:
        return float(pesq(PESQ_SR, ref, deg, "wb"))
    except Exception:  # pesq raises its own error types for silent or odd input
        return float("nan")


def score(clean: np.ndarray, processed: np.ndarray, sr: int) -> dict[str, float]:
    """PESQ-WB, STOI and SI-SDR of ``processed`` against ``clean``."""
    processed = fit_length(processed, len(clean))
    return {
        "pesq": pesq_wb(clean, processed, sr),
        "stoi": float(stoi(clean, processed, sr, extended=False)),
        "si_sdr": si_sdr(clean, processed),
    }


DNSMOS_SR = 16000
_DNSMOS_INPUT_S = 9.01


@functools.cache
def _dnsmos_session():
    """The DNSMOS P.835 ONNX model shipped inside ``speechmos``, on one thread."""
    import onnxruntime
    import speechmos

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    model = Path(speechmos.__file__).parent / "dnsmos_models/sig_bak_ovr.onnx"
    return onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def dnsmos(y: np.ndarray, sr: int) -> dict[str, float]:
    """Reference-free DNSMOS P.835 scores (1-5) of ``y``: ``sig``, ``bak``, ``ovrl``.

    The computation of ``speechmos.dnsmos`` (9.01 s segments 1 s apart at
    16 kHz, short clips looped to 9.01 s, the P.835 polynomial mapping), with
    only the P.835 model run (not the P.808 one, which the report omits).
    """
    from speechmos.dnsmos import DNSMOS

    audio = np.clip(resample(np.asarray(y, dtype=np.float32), sr, DNSMOS_SR), -1.0, 1.0)
    length = int(_DNSMOS_INPUT_S * DNSMOS_SR)
    if not np.any(audio):
        audio = np.zeros(length, np.float32)
    while len(audio) < length:
        audio = np.concatenate([audio, audio])
    n_hops = int(np.floor(len(audio) / DNSMOS_SR) - _DNSMOS_INPUT_S) + 1
    session = _dnsmos_session()
    scores = []
    for k in range(n_hops):
        segment = audio[k * DNSMOS_SR : k * DNSMOS_SR + length][None, :].astype(np.float32)
        raw = session.run(None, {"input_1": segment})[0][0]
        scores.append(DNSMOS.get_polyfit_val(None, *raw, False))
    sig, bak, ovrl = np.mean(np.asarray(scores, dtype=float), axis=0)
    return {"sig": float(sig), "bak": float(bak), "ovrl": float(ovrl)}


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Fixed-width text table: first column left-aligned, the rest right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]

    def line(cells):
        first, *rest = [str(c) for c in cells]
        return "  ".join([first.ljust(widths[0])] + [c.rjust(w) for c, w in zip(rest, widths[1:], strict=False)])

    return "\n".join([line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def _value(text: str) -> int | float | str:
    """Parse ``text`` as an int if it looks like one, else as a float, else keep it as text (e.g. ``off``)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def ours_param(item: str) -> tuple[str, int | float | str]:
    """argparse type: turn ``"threshold_db=4"`` into ``("threshold_db", 4)``, ``"voice.hum=off"`` into ``("voice.hum", "off")``."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {item!r}")
    return key.strip(), _value(value.strip())


def add_ours_param_option(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--ours-param NAME=VALUE`` option (read it with ``dict(args.ours_param)``)."""
    parser.add_argument(
        "--ours-param",
        type=ours_param,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra keyword argument for denoise_core.denoise on our rows (repeatable): a number, or text "
             "such as off; e.g. threshold_db=4, voice.reduction_db=40, voice.hum=off",
    )


def split_params(items) -> tuple[dict[str, float], dict[str, float]]:
    """``--ours-param`` items as (classic keywords, voice keywords): ``voice.NAME`` goes to the voice
    engine, ``classic.NAME`` and a bare ``NAME`` to the classic gate."""
    classic, voice = {}, {}
    for name, value in items:
        engine, dot, rest = name.partition(".")
        if dot and engine == "voice":
            voice[rest] = value
        elif dot and engine == "classic":
            classic[rest] = value
        else:
            classic[name] = value
    return classic, voice
