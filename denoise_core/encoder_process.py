"""Encoding a media result in a process of its own, beside the engine.

FFmpeg's AAC encoder costs about half the CPU time of the classic engine
(0.55 s a minute of 44.1 kHz stereo, the engine about 1.1 s; see
``bench/media_speed.py``). Run on the engine's own thread, it lengthens the
engine's slowest thread and competes with the engine's three threads for
the interpreter. :class:`EncoderProcess` hands the blocks to a child Python
(:func:`_main`) that runs
:class:`~denoise_core.media.MediaWriter` there, on another core.

The child is a plain subprocess, not ``multiprocessing``: it never imports
the caller's main script, so a script that calls
:func:`denoise_core.denoise_file` at its top level works too. The blocks
travel as raw float32 through its standard input, a pipe that holds a block
or so: memory stays bounded, and when the child falls behind, the engine
waits for it. The child ignores Ctrl-C; the parent decides: leaving the
``with`` block with an exception closes the pipe without the end mark, and
the child removes its temporary file and ends. The result is the same bytes
as :class:`MediaWriter` writes in the caller's process.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

import numpy as np

from .errors import AudioFileError

__all__ = ["CHILD_MIN_S", "EncoderProcess", "can_start_child"]

#: Recordings shorter than this (seconds) are encoded in the caller's process: starting the child
#: (about 0.5 s of CPU time to import NumPy and PyAV) would cost more than running beside the engine gains.
CHILD_MIN_S = 120.0
#: Seconds the parent waits for the child to end before it stops it.
_WAIT_S = 60.0
#: Each block goes as its length in bytes (8 bytes, little-endian) and its samples; length 0 ends the sound.
_HEADER = struct.Struct("<Q")
#: Where the package lives, so that the child imports the same ``denoise_core`` as the caller.
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])
#: The child's program (``-P``: the working folder is not searched for modules).
_CHILD = "import sys; from denoise_core.encoder_process import _main; sys.exit(_main(sys.argv[1], sys.argv[2], int(sys.argv[3])))"


def can_start_child() -> bool:
    """Whether a child Python can be started from here (``sys.executable`` is known)."""
    return bool(sys.executable) and os.path.exists(sys.executable)


class EncoderProcess:
    """:class:`MediaWriter` to a path, run in a child process; used as a ``with`` block.

    Parameters
    ----------
    target : path
        As for :class:`MediaWriter` (the ending follows what is written).
    source : path
        The input file.
    n_channels : int
        Channels of the blocks written.

    Attributes
    ----------
    path : Path
        Where the result appears when the block ends without an exception.
    note : str
        As :attr:`MediaWriter.note`.

    Raises
    ------
    AudioFileError
        When the child cannot write the result (with the child's message).
    """

    def __init__(self, target: str | os.PathLike, source: str | os.PathLike, n_channels: int) -> None:
        self._n_channels = n_channels
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (the child's stderr while it runs; closed in _stop)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_PACKAGE_PARENT, os.environ.get("PYTHONPATH")])))
        self._child = subprocess.Popen(
            [sys.executable, "-P", "-c", _CHILD, os.fspath(target), os.fspath(source), str(n_channels)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env=env,
        )
        try:
            answer = self._answer()
        except BaseException:
            self._stop()
            self._errors.close()
            raise
        self.path, self.note = Path(answer["path"]), answer["note"]

    def _answer(self) -> dict:
        line = self._child.stdout.readline()
        if not line:
            self._stop()
            self._errors.seek(0)
            last = (self._errors.read().decode(errors="replace").strip().splitlines() or [""])[-1]
            raise AudioFileError(f"The encoder stopped unexpectedly (exit code {self._child.returncode}). {last}".strip())
        answer = json.loads(line)
        if "error" in answer:
            raise AudioFileError(answer["error"])
        return answer

    def write(self, block: np.ndarray) -> None:
        """Send ``block`` ``(m, n_channels)``, float within [-1, 1], to the encoder (waits while it is behind)."""
        data = np.ascontiguousarray(block, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != self._n_channels:
            raise AudioFileError(f"Blocks must have shape (samples, {self._n_channels}), got {data.shape}.")
        if not data.size:
            return
        try:
            self._child.stdin.write(_HEADER.pack(data.nbytes))
            self._child.stdin.write(data)
        except (BrokenPipeError, ValueError):  # the child ended: it says why
            self._answer()
            raise AudioFileError("The encoder stopped before the end of the sound.") from None

    def _stop(self) -> None:
        """Close the pipe (without the end mark, the child abandons the result) and wait for the child."""
        for stream in (self._child.stdin, self._child.stdout):
            with suppress(OSError):
                stream.close()
        try:
            self._child.wait(_WAIT_S)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()

    def __enter__(self) -> EncoderProcess:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._end()
        finally:
            self._stop()
            self._errors.close()

    def _end(self) -> None:
        """The end mark; then the child publishes the result and says so."""
        try:
            self._child.stdin.write(_HEADER.pack(0))
            self._child.stdin.flush()
        except BrokenPipeError:
            self._answer()
            raise AudioFileError("The encoder stopped before the end of the sound.") from None
        self._answer()


def _read_exactly(stream, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError
    return data


def _main(target: str, source: str, n_channels: int) -> int:
    """The child: say where it writes, encode every block from standard input, publish on the end mark."""
    from .media_writer import MediaWriter  # PyAV, in the child only

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    stdin, stdout = sys.stdin.buffer, sys.stdout

    def say(**answer) -> None:
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()

    try:
        with MediaWriter(target, source) as writer:
            say(path=str(writer.path), note=writer.note)
            while True:
                (n_bytes,) = _HEADER.unpack(_read_exactly(stdin, _HEADER.size))
                if not n_bytes:
                    break
                writer.write(np.frombuffer(_read_exactly(stdin, n_bytes), np.float32).reshape(-1, n_channels))
        say(done=True)
    except EOFError:  # the parent stopped: the writer has removed its temporary file
        return 1
    except ValueError as exc:  # DenoiseError and the like: a message in plain words
        say(error=str(exc))
        return 1
    return 0
