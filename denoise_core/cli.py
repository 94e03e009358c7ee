"""Command line: ``python -m denoise_core INPUT... [-o OUT] [options]``.

Each input is cleaned and written in the same format, sample rate, channel
count and sample encoding, to ``NAME_denoised.EXT`` beside it, into a folder
given with ``-o``, or (for a single input) to the file given with ``-o``.
Inputs are never overwritten, and an output is written to a temporary file
first and moved into place only when complete, so a failure leaves nothing
half-written. Bad input gives a one-line message and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence, TextIO

from . import audio_io
from .errors import DenoiseError
from .params import PARAM_HELP, PARAM_RANGES, DenoiseParams
from .pipeline import analyse, estimate_noise, gate

__all__ = ["main", "build_parser", "output_path"]

#: Exit code for input the tool cannot use.
EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; flags use the same names as :class:`DenoiseParams`."""
    parser = argparse.ArgumentParser(
        prog="python -m denoise_core",
        description="Remove steady background noise from speech recordings (spectral gating).",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files (WAV, FLAC, OGG, MP3, AIFF)")
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (one input only) or folder; default: NAME_denoised.EXT beside each input",
    )
    parser.add_argument(
        "--noise-window",
        nargs=2,
        type=float,
        metavar=("START", "END"),
        help="seconds of the recording that hold only noise; default: the quietest stretch, found automatically",
    )
    defaults = DenoiseParams()
    for name, (low, high) in PARAM_RANGES.items():
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=float,
            default=getattr(defaults, name),
            help=f"{PARAM_HELP[name]} Range {low:g} to {high:g}; default %(default)g.",
        )
    parser.add_argument("--n-fft", type=int, default=None, help="FFT size in samples (default: about 25 ms)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parser


def output_path(source: Path, output: Optional[str], n_inputs: int) -> Path:
    """Where the cleaned version of ``source`` goes.

    ``output`` is a folder when it exists as one, ends with a path separator,
    or there are several inputs; otherwise it is the output file itself.
    """
    default_name = f"{source.stem}_denoised{source.suffix}"
    if output is None:
        return source.with_name(default_name)
    out = Path(output)
    if out.is_dir() or output.endswith(("/", os.sep)) or n_inputs > 1:
        return out / default_name
    return out


def _write_atomically(target: Path, y, sr: int, info: audio_io.AudioFileInfo) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".denoise-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        audio_io.write_audio(tmp, y, sr, info.format, info.subtype)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _clean_file(source: Path, target: Path, args: argparse.Namespace, params: DenoiseParams) -> str:
    y, sr, info = audio_io.read_audio(source)
    analysis = analyse(y, sr, n_fft=args.n_fft)
    noise = estimate_noise(analysis, args.noise_window)
    result = gate(analysis, noise, params)
    _write_atomically(target, result.audio, sr, info)
    start, end = result.report.noise_window_s
    return (
        f"{source} -> {target}: noise from {start:.2f}-{end:.2f} s ({result.report.noise_method}), "
        f"{result.report.noise_removed_db:.1f} dB of noise removed"
    )


def _progress(done: int, total: int, stream: TextIO) -> None:
    width = 30
    filled = width * done // total
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
    stream.write("\n" if done == total else "")
    stream.flush()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line tool; returns the exit code (0 ok, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        params = DenoiseParams(**{name: getattr(args, name) for name in PARAM_RANGES})
    except DenoiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    sources = [Path(p) for p in args.inputs]
    inputs = {s.resolve() for s in sources}
    failures: List[str] = []
    show_bar = not args.quiet and len(sources) > 1
    for i, source in enumerate(sources, start=1):
        target = output_path(source, args.output, len(sources))
        try:
            if target.resolve() in inputs:
                raise DenoiseError(f"{target} is an input file; refusing to overwrite it.")
            message = _clean_file(source, target, args, params)
            if not args.quiet:
                print(message)
        except DenoiseError as exc:
            failures.append(f"error: {source}: {exc}")
            print(failures[-1], file=sys.stderr)
        if show_bar:
            _progress(i, len(sources), sys.stderr)
    return EXIT_BAD_INPUT if failures else 0
