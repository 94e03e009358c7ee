"""File to file denoising that never holds a whole recording in memory.

:func:`denoise_file` reads the input in blocks through soundfile, gates it with
:mod:`denoise_core.stream` and writes the result block by block to a
temporary file beside the target, which replaces the target only when
complete: a failure leaves no partial output behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator, Optional, Tuple, Union

import numpy as np
import soundfile as sf

from . import audio_io
from .errors import AudioFileError, AudioInputError, DenoiseError
from .params import DenoiseParams
from .report import DenoiseReport
from .stream import GateStream, denoise_blocks, estimate_noise_from_reader, survey
from .transform import StftConfig
from .validation import MAX_CHANNELS, validate_sr

__all__ = ["denoise_file", "BLOCK_SAMPLES"]

#: Samples per channel read at a time.
BLOCK_SAMPLES = 1 << 18

#: Subtypes whose samples are always within full scale; others need a peak pass.
_BOUNDED_SUBTYPES = {"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "ULAW", "ALAW"}

Progress = Callable[[float], None]
PathLike = Union[str, os.PathLike]


def _blocks(f: sf.SoundFile, start: int = 0, stop: Optional[int] = None) -> Iterator[np.ndarray]:
    """Blocks ``(n, n_channels)`` float32 of ``f`` from ``start`` to ``stop``, checked to be finite."""
    f.seek(start)
    remaining = np.inf if stop is None else stop - start
    while remaining > 0:
        block = f.read(int(min(BLOCK_SAMPLES, remaining)), dtype="float32", always_2d=True)
        if block.shape[0] == 0:
            break
        if not np.isfinite(block).all():
            raise AudioInputError("The audio holds invalid samples (NaN or infinite values).")
        remaining -= block.shape[0]
        yield block


def denoise_file(
    source: PathLike,
    target: PathLike,
    *,
    noise_window: Optional[Tuple[float, float]] = None,
    params: DenoiseParams = DenoiseParams(),
    n_fft: Optional[int] = None,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    progress: Optional[Progress] = None,
) -> DenoiseReport:
    """Denoise an audio file into another, in the same format and encoding.

    Parameters
    ----------
    source : str or path
        Input file (WAV, FLAC, OGG, MP3, AIFF).
    target : str or path
        Output file; written in the input's format, subtype (bit depth),
        sample rate and channel count. Must not be the input.
    noise_window : (float, float), optional
        Start and end in seconds of a noise-only stretch; ``None`` finds the
        quietest stretch (one extra pass over the file).
    params : DenoiseParams
        Threshold, reduction and smoothing.
    n_fft, hop_length, win_length : int, optional
        STFT settings in samples (see :meth:`StftConfig.for_sr`).
    progress : callable, optional
        Called with the fraction done (0 to 1) as the work advances.

    Returns
    -------
    DenoiseReport

    Raises
    ------
    DenoiseError
        (a ``ValueError``) when the input cannot be read or processed, the
        window does not fit, or the target is the input. No output file is
        left behind.
    """
    source, target = Path(source), Path(target)
    if target.exists() and target.resolve() == source.resolve():
        raise DenoiseError(f"{target} is the input file; refusing to overwrite it.")
    report_progress = progress or (lambda fraction: None)
    info = audio_io.file_info(source)
    if info.frames <= 0:
        raise AudioFileError(f"{source.name} holds no audio samples.")
    if info.channels > MAX_CHANNELS:
        raise AudioInputError(f"{source.name} has {info.channels} channels; at most {MAX_CHANNELS} are supported.")
    sr = int(validate_sr(info.sr))
    config = StftConfig.for_sr(sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".denoise-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        with sf.SoundFile(source) as f:

            def read(start: int, stop: Optional[int]) -> Iterator[np.ndarray]:
                return _blocks(f, start, stop)

            need_energy = noise_window is None
            need_peak = info.subtype not in _BOUNDED_SUBTYPES
            survey_share = 0.3 if (need_energy or need_peak) else 0.0
            energy, peak, n_samples = None, 0.0, f.frames
            if survey_share:
                energy, peak, n_read = survey(
                    read, f.frames, config, f.channels, need_energy, lambda x: report_progress(survey_share * x)
                )
                if n_read == 0:
                    raise AudioFileError(f"{source.name} holds no audio samples.")
                # A compressed file's header may announce more (or fewer) frames than decode.
                n_samples = n_read
            scale = peak if peak > 1.0 else 1.0
            noise = estimate_noise_from_reader(read, n_samples, config, sr, f.channels, noise_window, scale, energy)
            gate = GateStream(noise, params, config, sr, f.channels)
            with sf.SoundFile(tmp, "w", samplerate=sr, channels=f.channels, format=info.format, subtype=info.subtype) as out:
                written = 0
                for block in denoise_blocks(read(0, None), noise, params, config, sr, f.channels, scale=scale, gate=gate):
                    out.write(block)
                    written += block.shape[0]
                    report_progress(survey_share + (1.0 - survey_share) * min(1.0, written / n_samples))
        os.replace(tmp, target)
    except (sf.LibsndfileError, RuntimeError, EOFError, OSError) as exc:
        raise AudioFileError(f"{source.name} could not be processed: {str(exc).rsplit(': ', 1)[-1].strip()}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    report_progress(1.0)
    return gate.report()
