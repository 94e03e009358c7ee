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
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

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
    """One noisy recording and its clean reference."""

    name: str
    noisy: Path
    clean: Path


def pairs_dir(folder: Union[str, Path, None]) -> Path:
    """Return the folder of pairs: ``folder/pairs`` if it exists, else ``folder``."""
    folder = Path(folder) if folder is not None else DEFAULT_DATA
    return folder / "pairs" if (folder / "pairs").is_dir() else folder


def find_pairs(folder: Path) -> List[Pair]:
    """List ``X_noisy.EXT`` files that have an ``X_clean.EXT`` beside them."""
    pairs = []
    for noisy in sorted(folder.glob("*_noisy.*")):
        if noisy.suffix.lower() not in AUDIO_EXTS:
            continue
        name = noisy.name[: -len("_noisy" + noisy.suffix)]
        cleans = [folder / f"{name}_clean{ext}" for ext in AUDIO_EXTS]
        clean = next((c for c in cleans if c.is_file()), None)
        if clean is None:
            raise FileNotFoundError(f"no clean reference for {noisy}")
        pairs.append(Pair(name, noisy, clean))
    if not pairs:
        raise FileNotFoundError(f"no *_noisy.wav/flac pairs in {folder}")
    return pairs


def load_mono(path: Path) -> Tuple[np.ndarray, int]:
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


def score(clean: np.ndarray, processed: np.ndarray, sr: int) -> Dict[str, float]:
    """PESQ-WB, STOI and SI-SDR of ``processed`` against ``clean``."""
    processed = fit_length(processed, len(clean))
    return {
        "pesq": pesq_wb(clean, processed, sr),
        "stoi": float(stoi(clean, processed, sr, extended=False)),
        "si_sdr": si_sdr(clean, processed),
    }


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Fixed-width text table: first column left-aligned, the rest right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

    def line(cells):
        first, *rest = [str(c) for c in cells]
        return "  ".join([first.ljust(widths[0])] + [c.rjust(w) for c, w in zip(rest, widths[1:])])

    return "\n".join([line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def _number(text: str) -> Union[int, float]:
    """Parse ``text`` as an int if it looks like one, else as a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def ours_param(item: str) -> Tuple[str, Union[int, float]]:
    """argparse type: turn ``"threshold_db=4"`` into ``("threshold_db", 4)``."""
    key, sep, value = item.partition("=")
    try:
        if not sep or not key.strip():
            raise ValueError
        return key.strip(), _number(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {item!r}") from None


def add_ours_param_option(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--ours-param NAME=NUMBER`` option (read it with ``dict(args.ours_param)``)."""
    parser.add_argument(
        "--ours-param",
        type=ours_param,
        action="append",
        default=[],
        metavar="NAME=NUMBER",
        help="extra keyword argument for denoise_core.denoise on our rows (repeatable), e.g. threshold_db=4",
    )
