"""Command line: ``python -m denoise_core INPUT... [-o OUT] [options]``.

Each input is cleaned and written in the same format, sample rate, channel
count and sample encoding, to ``NAME_denoised.EXT`` beside it, into a folder
given with ``-o``, or (for a single input) to the file given with ``-o``.
Phone memos and videos (M4A, MP4, MOV, WebM, ...) go through FFmpeg: a
video's picture is copied as it is and its sound re-encoded in its own codec;
where FFmpeg here cannot write that codec (AMR-WB, WMA Pro, ...) the result
takes the nearest format, its ending follows (``memo_denoised.m4a``), and the
file's line says so.
Files are processed block by block (:func:`denoise_core.files.denoise_file`),
so an hour-long recording needs little memory; a progress bar shows on a
terminal. Inputs are never overwritten, and an output is written to a
temporary file first and moved into place only when complete, so a failure
leaves nothing half-written. Bad input gives a one-line message per file and
exit code 2.

Many files (:mod:`denoise_core.cli.batch`): ``--jobs N`` cleans them in N worker
processes (default: one per core) with the same results as ``--jobs 1``,
``--recursive`` walks folders and mirrors them into ``-o OUT``,
``--skip-existing`` resumes an interrupted run, ``--dask ADDRESS`` sends one
task per file to a Dask cluster; a summary ends a run of several files.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import fields
from typing import TextIO

from ..audio_io import SUPPORTED_EXTENSIONS
from ..errors import DenoiseError
from ..params import (
    PARAM_CHOICES,
    PARAM_HELP,
    PARAM_OPTIONAL,
    PARAM_RANGES,
    PRESETS,
    STFT_FIELDS,
    DenoiseParams,
    preset_key,
)
from .batch import (
    BatchSummary,
    FileResult,
    connect,
    default_n_jobs,
    denoise_files,
    output_path,
    plan_jobs,
)

__all__ = ["build_parser", "main", "output_path"]

#: Exit code for input the tool cannot use.
EXIT_BAD_INPUT = 2
#: Exit code after Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; flags use the same names as :class:`DenoiseParams`.

    ``prog`` is the name shown in help and errors (default: the program's own,
    e.g. ``quiet-denoise``).
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Remove steady background noise from speech recordings (spectral gating).",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="audio or video files (" + ", ".join(e[1:].upper() for e in SUPPORTED_EXTENSIONS) + "); "
        "with --recursive, folders",
    )
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
        # The default strength is the engine's own (None here, resolved by DenoiseParams).
        per_engine = name == "reduction_db"
        default = "the engine's" if per_engine else "off" if optional else "%(default)g"
        parser.add_argument(
            *_flags(name),
            dest=name,
            type=float,
            metavar=name.rsplit("_", 1)[1].upper(),
            default=None if per_engine else getattr(defaults, name),
            help=f"{PARAM_HELP[name]} Range {low:g} to {high:g}; default {default}.",
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
    for name in STFT_FIELDS:
        parser.add_argument(*_flags(name), dest=name, type=int, metavar="SAMPLES", default=None, help=PARAM_HELP[name])
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    many = parser.add_argument_group("many files")
    many.add_argument(
        "-j",
        "--jobs",
        type=_positive_int,
        default=default_n_jobs(),
        metavar="N",
        help="files cleaned at once, in worker processes; 1 cleans in this process; ignored with --dask (default: %(default)s, the cores)",
    )
    many.add_argument(
        "-r", "--recursive", action="store_true", help="walk folders given as inputs and mirror their structure into -o OUT"
    )
    many.add_argument(
        "--skip-existing", action="store_true", help="skip inputs whose output already exists (resumes an interrupted run)"
    )
    many.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="send one task per file to the Dask scheduler at ADDRESS (e.g. tcp://10.0.0.5:8786); "
        "its workers must reach the input and output paths",
    )
    return parser


#: Short flags for the settings whose full names are long (both work).
_SHORT_FLAGS = {"highpass_hz": "--highpass", "loudness_lufs": "--loudness", "ceiling_dbtp": "--true-peak"}


def _flags(name: str) -> list[str]:
    """``--reduction-db`` for ``reduction_db``, and its short form if it has one."""
    return [f for f in (_SHORT_FLAGS.get(name), "--" + name.replace("_", "-")) if f]


def _describe(changes) -> str:
    return ", ".join(f"{name} {value:g}" if not isinstance(value, str) else f"{name} {value}" for name, value in changes.items())


def _params(args: argparse.Namespace, argv: Sequence[str] | None, parser: argparse.ArgumentParser) -> DenoiseParams:
    """The settings: the preset's (or the defaults), changed by the flags given."""
    if args.preset is None:
        return DenoiseParams(**{field.name: getattr(args, field.name) for field in fields(DenoiseParams)})
    base = DenoiseParams.preset(args.preset)
    # Parse again with the preset's values as defaults, so only flags given change it.
    parser.set_defaults(**{field.name: getattr(base, field.name) for field in fields(DenoiseParams)})
    again = parser.parse_args(argv)
    return DenoiseParams(**{field.name: getattr(again, field.name) for field in fields(DenoiseParams)})


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class _ProgressBar:
    """A one-line bar on a terminal stream: the fraction of the batch done and the file reached."""

    def __init__(self, n_files: int, stream: TextIO, width: int = 30) -> None:
        self.n_files, self.stream, self.width = n_files, stream, width

    def update(self, n_done: int, fraction: float) -> None:
        filled = int(self.width * fraction)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {100 * fraction:5.1f}%  "
            f"file {min(n_done + 1, self.n_files)}/{self.n_files}"
        )
        self.stream.flush()

    def clear_line(self) -> None:
        self.stream.write("\r\033[K")

    def close(self) -> None:
        self.update(self.n_files, 1.0)
        self.stream.write("\n")
        self.stream.flush()


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the command line tool; returns the exit code (0 ok, 2 bad input or any file failed)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        params = _params(args, argv, parser)
        plan = plan_jobs(args.inputs, args.output, recursive=args.recursive, skip_existing=args.skip_existing)
        client = connect(args.dask) if args.dask and plan.jobs else None
    except DenoiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    bar = None if args.quiet or not sys.stderr.isatty() or not plan.jobs else _ProgressBar(len(plan.jobs), sys.stderr)

    def show(result: FileResult) -> None:
        if bar:
            bar.clear_line()
        if result.status == "failed":
            print(result.describe(), file=sys.stderr, flush=True)
        elif not args.quiet:
            print(result.describe(), flush=True)

    for result in plan.decided:
        show(result)
    try:
        run = denoise_files(
            plan.jobs,
            params,
            n_jobs=args.jobs,
            client=client,
            progress=bar.update if bar else None,
            on_result=show,
        )
    except KeyboardInterrupt:
        if bar:
            bar.clear_line()
        print("interrupted: the outputs written are complete; run again with --skip-existing to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if client is not None:
            client.close()
    if bar:
        bar.close()
    summary = BatchSummary(plan.decided + run.results, run.wall_s)
    if not args.quiet and len(summary.results) > 1:
        print(summary.text(), flush=True)
    return EXIT_BAD_INPUT if summary.failed else 0
