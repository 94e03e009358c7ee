"""Command line: ``python -m denoise_core INPUT... [-o OUT] [options]``.

Each input is cleaned and written in the same format, sample rate, channel
count and sample encoding, to ``NAME_denoised.EXT`` beside it, into a folder
given with ``-o``, or (for a single input) to the file given with ``-o``.
Files are processed block by block (:func:`denoise_core.files.denoise_file`),
so an hour-long recording needs little memory; a progress bar shows on a
terminal. Inputs are never overwritten, and an output is written to a
temporary file first and moved into place only when complete, so a failure
leaves nothing half-written. Bad input gives a one-line message per file and
exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields
from pathlib import Path
from typing import List, Optional, Sequence, TextIO

from .errors import DenoiseError
from .files import denoise_file
from .params import PARAM_CHOICES, PARAM_HELP, PARAM_OPTIONAL, PARAM_RANGES, PRESETS, DenoiseParams, preset_key

__all__ = ["main", "build_parser", "output_path"]

#: Exit code for input the tool cannot use.
EXIT_BAD_INPUT = 2


def build_parser(prog: Optional[str] = None) -> argparse.ArgumentParser:
    """The argument parser; flags use the same names as :class:`DenoiseParams`.

    ``prog`` is the name shown in help and errors (default: the program's own,
    e.g. ``quiet-denoise``).
    """
    parser = argparse.ArgumentParser(
        prog=prog,
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
    parser.add_argument(
        "--preset",
        choices=[preset_key(label) for label in PRESETS],
        help="start from a named set of settings (" + "; ".join(
            f"{preset_key(label)}: {_describe(changes)}" for label, changes in PRESETS.items()
        ) + "); the flags below change it further",
    )
    defaults = DenoiseParams()
    for name, (low, high) in PARAM_RANGES.items():
        optional = name in PARAM_OPTIONAL
        parser.add_argument(
            *_flags(name),
            dest=name,
            type=float,
            metavar=name.rsplit("_", 1)[1].upper(),
            default=getattr(defaults, name),
            help=f"{PARAM_HELP[name]} Range {low:g} to {high:g}; default {'off' if optional else '%(default)g'}.",
        )
    for name, choices in PARAM_CHOICES.items():
        numeric = not isinstance(choices[0], str)
        parser.add_argument(
            *_flags(name),
            dest=name,
            type=float if numeric else str,
            choices=choices,
            metavar="{" + ",".join(f"{c:g}" if numeric else c for c in choices) + "}",
            default=getattr(defaults, name),
            help=f"{PARAM_HELP[name]} Default {getattr(defaults, name):{'g' if numeric else 's'}}.",
        )
    parser.add_argument("--n-fft", type=int, default=None, help="FFT size in samples (default: 20 to 40 ms)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parser


#: Short flags for the settings whose full names are long (both work).
_SHORT_FLAGS = {"highpass_hz": "--highpass", "loudness_lufs": "--loudness", "true_peak_dbtp": "--true-peak"}


def _flags(name: str) -> List[str]:
    """``--reduction-db`` for ``reduction_db``, and its short form if it has one."""
    return [f for f in (_SHORT_FLAGS.get(name), "--" + name.replace("_", "-")) if f]


def _describe(changes) -> str:
    return ", ".join(f"{name} {value:g}" if not isinstance(value, str) else f"{name} {value}" for name, value in changes.items())


def _params(args: argparse.Namespace, argv: Optional[Sequence[str]], parser: argparse.ArgumentParser) -> DenoiseParams:
    """The settings: the preset's (or the defaults), changed by the flags given."""
    if args.preset is None:
        return DenoiseParams(**{field.name: getattr(args, field.name) for field in fields(DenoiseParams)})
    base = DenoiseParams.preset(args.preset)
    # Parse again with the preset's values as defaults, so only flags given change it.
    parser.set_defaults(**{field.name: getattr(base, field.name) for field in fields(DenoiseParams)})
    again = parser.parse_args(argv)
    return DenoiseParams(**{field.name: getattr(again, field.name) for field in fields(DenoiseParams)})


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


def _clean_file(source: Path, target: Path, args: argparse.Namespace, params: DenoiseParams, progress) -> str:
    report = denoise_file(
        source, target, noise_window=args.noise_window, params=params, n_fft=args.n_fft, progress=progress
    )
    start, end = report.noise_window_s
    return (
        f"{source} -> {target}: noise from {start:.2f}-{end:.2f} s ({report.noise_method}), "
        f"{report.noise_removed_db:.1f} dB of noise removed"
    )


class _ProgressBar:
    """A one-line bar on a terminal stream: files done plus the current file's fraction."""

    def __init__(self, n_files: int, stream: TextIO, width: int = 30) -> None:
        self.n_files, self.stream, self.width = n_files, stream, width
        self.file_index = 0

    def update(self, fraction: float) -> None:
        done = (self.file_index + min(max(fraction, 0.0), 1.0)) / self.n_files
        filled = int(self.width * done)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {100 * done:5.1f}%  "
            f"file {min(self.file_index + 1, self.n_files)}/{self.n_files}"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def main(argv: Optional[Sequence[str]] = None, prog: Optional[str] = None) -> int:
    """Run the command line tool; returns the exit code (0 ok, 2 bad input)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        params = _params(args, argv, parser)
    except DenoiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    sources = [Path(p) for p in args.inputs]
    inputs = {s.resolve() for s in sources}
    failures: List[str] = []
    written = set()
    bar = None if args.quiet or not sys.stderr.isatty() else _ProgressBar(len(sources), sys.stderr)
    for i, source in enumerate(sources):
        target = output_path(source, args.output, len(sources))
        if bar:
            bar.file_index = i
        try:
            if target.resolve() in inputs:
                raise DenoiseError(f"{target} is an input file; refusing to overwrite it.")
            if target.resolve() in written:
                raise DenoiseError(f"{target} was already written for another input of the same name; refusing to overwrite it.")
            written.add(target.resolve())
            message = _clean_file(source, target, args, params, bar.update if bar else None)
            if not args.quiet:
                if bar:
                    bar.stream.write("\r\033[K")
                print(message, flush=True)
        except (DenoiseError, OSError) as exc:
            failures.append(f"error: {source}: {exc}")
            if bar:
                bar.stream.write("\r\033[K")
            print(failures[-1], file=sys.stderr, flush=True)
    if bar:
        bar.file_index = len(sources)
        bar.update(0.0)
        bar.close()
    return EXIT_BAD_INPUT if failures else 0
