"""Many files: which output each input gets, cleaning them in parallel, and a summary.

:func:`plan_jobs` turns the command line's inputs (files, and with
``recursive=True`` folders, whose structure is mirrored into the output
folder) into :class:`Job` pairs, refusing up front the ones that would
overwrite an input or another result and skipping, if asked, the ones whose
output already exists. Since :func:`denoise_core.files.denoise_file` creates
an output only by an atomic rename of a complete file, an existing output is
a finished one, so a run that was interrupted can be resumed this way.

:func:`denoise_files` cleans the jobs one file per task: in this process
(``n_jobs=1``), in this process and ``n_jobs - 1`` worker processes on this
machine (``n_jobs > 1``: a ``concurrent.futures.ProcessPoolExecutor`` whose workers
are forked from this process with the engine imported, so they start at once), or on a Dask cluster
(``client=``, a ``dask.distributed.Client``; dask is an optional extra,
``pip install "quiet-denoise[dask]"``). Several files side by side each get a
budget of one thread (:mod:`denoise_core.threads`: no helper threads, BLAS on
one thread), so ``N`` workers keep ``N`` cores busy; on Dask a worker plugin
sets that, and glibc's reuse of memory (the nanny's ``MALLOC_TRIM_THRESHOLD_``
otherwise turns every large array into a fresh memory map). Every file streams
through ``denoise_file``, so each worker needs little memory whatever the
length of the recording, and every way gives byte-identical outputs. A file
that fails (unreadable, corrupt, a noise window beyond its end) is reported
in its :class:`FileResult` and does not stop the others.

Example, on a cluster whose workers can reach the paths (a shared file system)::

    from dask.distributed import Client
    from denoise_core.cli.batch import denoise_files

    with Client("tcp://scheduler:8786") as client:
        summary = denoise_files([("in/a.wav", "out/a.wav"), ("in/b.flac", "out/b.flac")], client=client)
    print(summary.text())
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

from .. import audio_io
from ..errors import DenoiseError
from ..files import clean_file
from ..params import DenoiseParams
from ..report import DenoiseReport
from ..threads import one_thread_per_process, single_threaded

__all__ = [
    "BatchSummary",
    "FileResult",
    "Job",
    "Plan",
    "connect",
    "default_n_jobs",
    "denoise_files",
    "output_path",
    "plan_jobs",
]

PathLike = str | os.PathLike
#: ``progress(n_done, fraction)``: files finished so far and the fraction of the whole batch done (0 to 1).
BatchProgress = Callable[[int, float], None]

#: Seconds the local runner waits for a result before it looks at the workers' progress again.
_POLL_S = 0.1
#: Smallest change of a file's fraction done that a worker process reports.
_PROGRESS_STEP = 0.01


class Job(NamedTuple):
    """One file to clean: where it is read from and where its result goes."""

    source: Path
    target: Path


@dataclass(frozen=True)
class FileResult:
    """What happened to one input.

    Attributes
    ----------
    source, target : str
        The input and its output (``target`` is ``""`` when none was planned).
    status : str
        ``"done"``, ``"failed"`` or ``"skipped"`` (the output already existed).
    report : DenoiseReport, optional
        The gate's report, for a file that was cleaned.
    error : str
        Why the file failed, in plain words; ``""`` otherwise.
    audio_s : float
        Length in seconds of the result written (0 unless done).
    note : str
        Why the result is not in the input's format (a media file whose codec
        cannot be written here: "AMR cannot be written here, so the result is
        M4A (AAC)."), ``""`` when it is.
    """

    source: str
    target: str
    status: str
    report: DenoiseReport | None = None
    error: str = ""
    audio_s: float = 0.0
    note: str = ""

    def describe(self) -> str:
        """One line for a person: the noise window and dB removed (and any note), the skip, or ``error: SOURCE: REASON``."""
        if self.status == "failed":
            return f"error: {self.source}: {self.error}"
        if self.status == "skipped":
            return f"{self.source} -> {self.target}: skipped, the output already exists"
        report = self.report
        start, end = report.noise_window_s
        hum = "" if report.hum_hz is None else f", hum at {report.hum_hz:.2f} Hz removed"
        loudness = (
            ""
            if report.loudness_after_lufs is None
            else f", loudness {report.loudness_before_lufs:.1f} -> {report.loudness_after_lufs:.1f} LUFS"
            f" (true peak {report.true_peak_dbtp:.1f} dBTP)"
        )
        note = f"; {self.note}" if self.note else ""
        if report.profile_lowered_db is not None:
            note += (f"; warning: the noise sample is up to {report.profile_lowered_db:.0f} dB louder than the "
                     "background elsewhere in the recording, so the quieter background was used (try another pause)")
        return (
            f"{self.source} -> {self.target}: noise from {start:.2f}-{end:.2f} s ({report.noise_method}), "
            f"{report.noise_removed_db:.1f} dB of noise removed{hum}{loudness}{note}"
        )


@dataclass(frozen=True)
class Plan:
    """Inputs matched to outputs by :func:`plan_jobs`.

    Attributes
    ----------
    jobs : tuple of Job
        Files to clean, in the order given (folders walked in sorted order).
    decided : tuple of FileResult
        Inputs settled without cleaning: refused (``"failed"``) or, with
        ``skip_existing``, ``"skipped"``.
    """

    jobs: tuple[Job, ...]
    decided: tuple[FileResult, ...]


@dataclass(frozen=True)
class BatchSummary:
    """Every file's :class:`FileResult` and the wall time of the run.

    Attributes
    ----------
    results : tuple of FileResult
        In the order of the jobs.
    wall_s : float
        Seconds from the first file started to the last one finished.
    """

    results: tuple[FileResult, ...]
    wall_s: float

    def _with(self, status: str) -> list[FileResult]:
        return [r for r in self.results if r.status == status]

    @property
    def done(self) -> list[FileResult]:
        """The files cleaned."""
        return self._with("done")

    @property
    def failed(self) -> list[FileResult]:
        """The files that failed, each with its reason."""
        return self._with("failed")

    @property
    def skipped(self) -> list[FileResult]:
        """The files skipped because their output already existed."""
        return self._with("skipped")

    @property
    def audio_s(self) -> float:
        """Seconds of audio cleaned, over all files."""
        return sum(r.audio_s for r in self.results)

    def text(self) -> str:
        """The summary for a person: counts, audio time, wall time and speed, then every failure with its reason."""
        speed = f" ({self.audio_s / self.wall_s:.0f}x real time)" if self.wall_s > 0 and self.audio_s > 0 else ""
        counts = f"{len(self.results)} files: {len(self.done)} cleaned, {len(self.failed)} failed, {len(self.skipped)} skipped"
        lines = [f"{counts} (output exists); {self.audio_s / 60:.1f} min of audio in {self.wall_s:.1f} s{speed}"]
        if self.failed:
            lines.append("failed:")
            lines.extend(f"  {r.source}: {r.error}" for r in self.failed)
        return "\n".join(lines)


def denoised_name(source: Path) -> str:
    """``NAME_denoised.EXT`` for ``NAME.EXT``."""
    return f"{source.stem}_denoised{source.suffix}"


def _written_as(source: Path, target: Path) -> Path:
    """``target`` with the ending of what will be written: a media file whose codec FFmpeg here
    cannot write changes its ending (``memo.amr`` gives ``memo_denoised.m4a`` where AMR cannot be
    written); a file that cannot be probed keeps it (cleaning it will say why it fails)."""
    if not audio_io.is_media(source):
        return target
    from ..media import plan_output, probe  # PyAV: loaded only when a media file is planned

    try:
        return target.with_suffix(plan_output(probe(source)).extension)
    except DenoiseError:
        return target


def output_path(source: Path, output: str | None, n_inputs: int) -> Path:
    """Where the cleaned version of ``source`` goes.

    ``output`` is a folder when it exists as one, ends with a path separator,
    or there are several inputs; otherwise it is the output file itself.
    """
    if output is None:
        return source.with_name(denoised_name(source))
    out = Path(output)
    if out.is_dir() or output.endswith(("/", os.sep)) or n_inputs > 1:
        return out / denoised_name(source)
    return out


def _audio_files(folder: Path, exclude: Path | None) -> list[Path]:
    """Audio files under ``folder`` in sorted order, leaving out hidden names and the folder ``exclude``."""
    found = []
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (root_path / d).resolve() != exclude)
        found.extend(
            root_path / name
            for name in sorted(files)
            if not name.startswith(".") and Path(name).suffix.lower() in audio_io.SUPPORTED_EXTENSIONS
        )
    return found


def plan_jobs(
    inputs: Sequence[PathLike],
    output: str | None = None,
    *,
    recursive: bool = False,
    skip_existing: bool = False,
) -> Plan:
    """Match inputs to outputs, as the command line does.

    Parameters
    ----------
    inputs : sequence of str or path
        Audio files and, with ``recursive``, folders.
    output : str, optional
        Output file (one input) or folder, as for :func:`output_path`; with
        ``recursive`` it must be a folder, and each input folder's tree is
        mirrored into it (``IN/a/b.wav`` goes to ``OUT/a/b_denoised.wav``).
    recursive : bool
        Walk folders for the files of :data:`denoise_core.audio_io.SUPPORTED_EXTENSIONS`
        (WAV, FLAC, OGG, Opus, MP3, AIFF, M4A, AAC, CAF, AMR, WMA and videos:
        MP4, MOV, WebM, MKV, 3GP; hidden names and the output folder are left out).
    skip_existing : bool
        Skip an input whose output already exists (a complete result, since
        outputs appear only by an atomic rename).

    Returns
    -------
    Plan

    Raises
    ------
    DenoiseError
        When ``recursive`` is given without an output folder.
    """
    mirror = None
    if recursive:
        if output is None or Path(output).is_file():
            raise DenoiseError("--recursive mirrors folders into an output folder: give one with -o OUT.")
        mirror = Path(output)
    exclude = mirror.resolve() if mirror else None
    sources: list[tuple[Path, Path | None]] = []  # (file, folder of the input it came from)
    decided: list[FileResult] = []
    for name in inputs:
        path = Path(name)
        if not path.is_dir():
            sources.append((path, None))
        elif recursive and path.resolve() == exclude:
            error = f"{path} is also the output folder, where the results would be walked again; give another with -o."
            decided.append(FileResult(str(path), "", "failed", error=error))
        elif recursive:
            sources.extend((found, path) for found in _audio_files(path, exclude))
        else:
            decided.append(FileResult(str(path), "", "failed", error=f"{path} is a folder; add --recursive to clean the audio files in it."))
    inputs_resolved = {source.resolve() for source, _ in sources}
    planned: set[Path] = set()
    jobs: list[Job] = []
    for source, folder in sources:
        if mirror is None:
            target = output_path(source, output, len(sources))
        else:
            below = source.parent.relative_to(folder) if folder is not None else Path()
            target = mirror / below / denoised_name(source)
        target = _written_as(source, target)
        resolved = target.resolve()
        if resolved in inputs_resolved:
            decided.append(FileResult(str(source), str(target), "failed", error=f"{target} is an input file; refusing to overwrite it."))
        elif resolved in planned:
            decided.append(
                FileResult(
                    str(source),
                    str(target),
                    "failed",
                    error=f"{target} was already written for another input of the same name; refusing to overwrite it.",
                )
            )
        elif skip_existing and target.is_file():
            planned.add(resolved)
            decided.append(FileResult(str(source), str(target), "skipped"))
        else:
            planned.add(resolved)
            jobs.append(Job(source, target))
    return Plan(tuple(jobs), tuple(decided))


def _clean_one(source: PathLike, target: PathLike, params: DenoiseParams, progress=None) -> FileResult:
    """Clean one file; an error the user can act on becomes a ``"failed"`` result."""
    try:
        written = clean_file(source, target, params, progress=progress)
    except (DenoiseError, OSError) as exc:
        return FileResult(str(source), str(target), "failed", error=str(exc))
    return FileResult(str(source), str(written.path), "done", written.report, audio_s=written.duration_s,
                      note=written.note)


#: In a local worker process: where progress goes (set by :func:`_init_worker`).
_progress_queue = None
#: In a local worker process: Ctrl-C was pressed (the terminal sends SIGINT to the workers too).
_interrupted = False


def _note_interrupt(signum, frame) -> None:
    global _interrupted
    _interrupted = True


def _init_worker(progress_queue) -> None:
    global _progress_queue
    _progress_queue = progress_queue
    one_thread_per_process()
    # Ctrl-C does not strike anywhere in a worker (a traceback, a half-closed file): the file being
    # cleaned stops at its next block, through the progress call, and its temporary output is removed.
    signal.signal(signal.SIGINT, _note_interrupt)


def _worker_task(index: int, job: Job, params: DenoiseParams) -> FileResult:
    """Run in a worker process: clean one file, sending its progress in steps of 1 %."""
    last = [0.0]

    def report(fraction: float) -> None:
        if _interrupted:
            raise KeyboardInterrupt
        if fraction - last[0] >= _PROGRESS_STEP:
            last[0] = fraction
            _progress_queue.put((index, fraction))

    return _clean_one(job.source, job.target, params, report)


class _Tracker:
    """Files done and each running file's fraction, turned into calls of a :data:`BatchProgress`."""

    def __init__(self, n_files: int, progress: BatchProgress | None) -> None:
        self.fractions = [0.0] * n_files
        self.finished = [False] * n_files
        self.progress = progress

    def update(self, index: int, fraction: float) -> None:
        if not self.finished[index]:
            self.fractions[index] = min(max(fraction, 0.0), 1.0)
            self._report()

    def finish(self, index: int) -> None:
        self.fractions[index], self.finished[index] = 1.0, True
        self._report()

    def _report(self) -> None:
        if self.progress:
            self.progress(sum(self.finished), sum(self.fractions) / len(self.fractions))


def _run_local_pool(jobs: Sequence[Job], params: DenoiseParams, n_jobs: int, tracker: _Tracker, finish) -> None:
    """Clean ``jobs`` in ``n_jobs - 1`` worker processes and in this process, each taking the next file when free.

    The workers are started first (see :func:`_pool_context`) and given a file each; this process then
    cleans files too, with a budget of one thread, while a thread feeds the pool.
    """
    lock = threading.Lock()
    waiting = iter(enumerate(jobs))
    stop = threading.Event()
    failures: list[BaseException] = []

    def take() -> tuple[int, Job] | None:
        with lock:
            return None if stop.is_set() else next(waiting, None)

    def update(index: int, fraction: float) -> None:
        with lock:
            tracker.update(index, fraction)

    def done(index: int, result: FileResult) -> None:
        with lock:
            finish(index, result)

    n_workers = n_jobs - 1
    context = _pool_context()
    progress_queue = context.Queue()
    pool = ProcessPoolExecutor(n_workers, mp_context=context, initializer=_init_worker, initargs=(progress_queue,))
    running: dict = {}
    try:
        _give_files(pool, running, take, params, n_workers)  # starts the workers, before any thread of ours
        feeder = threading.Thread(
            target=_feed_pool,
            args=(pool, running, progress_queue, take, params, n_workers, update, done, stop, failures),
            name="quiet-pool",
        )
        feeder.start()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        progress_queue.close()
        raise
    try:
        with single_threaded():
            while (item := take()) is not None:
                index, job = item
                done(index, _clean_one(job.source, job.target, params, partial(update, index)))
        while feeder.is_alive():
            feeder.join(_POLL_S)
    finally:
        stop.set()
        feeder.join()
    if failures:
        raise failures[0]


def _pool_context():
    """Where the workers come from: forked from this process when that is safe, else from a fork server.

    A fork of this process has the engine imported and starts on its file at once. Forking is safe on
    Linux while this process runs one thread (the caller's threads and locks would otherwise be copied
    in mid-use), so a caller with threads of its own, and other systems, get a fork server that imports
    the engine first: a few tenths of a second, in which this process is already cleaning its first
    file, but which on eight one-minute files was the whole gap between ``--jobs 2`` and a perfect split.
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["denoise_core", "denoise_core.cli.batch"])
    return context


def _give_files(pool: ProcessPoolExecutor, running: dict, take, params: DenoiseParams, n_workers: int) -> None:
    """Submit to ``pool`` the next files ``take()`` gives until ``n_workers`` are running (future to index in ``running``)."""
    while len(running) < n_workers and (item := take()) is not None:
        index, job = item
        running[pool.submit(_worker_task, index, job, params)] = index


def _feed_pool(pool: ProcessPoolExecutor, running: dict, progress_queue, take, params: DenoiseParams, n_workers: int,
               update, done, stop: threading.Event, failures: list) -> None:
    """On a thread of :func:`_run_local_pool`: keep the workers of ``pool`` busy with the files ``take()`` gives."""
    try:
        with pool:
            while not stop.is_set():
                _give_files(pool, running, take, params, n_workers)
                if not running:
                    break
                finished, _ = wait(running, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                while True:
                    try:
                        update(*progress_queue.get_nowait())
                    except queue.Empty:
                        break
                for future in finished:
                    done(running.pop(future), future.result())
            pool.shutdown(wait=True, cancel_futures=True)
    except BaseException as exc:  # handed to the main thread, which stops taking files and raises it
        stop.set()
        failures.append(exc)
    finally:
        progress_queue.close()


def _distributed():
    """The ``dask.distributed`` module, or a clear error when dask is not installed."""
    try:
        import distributed
    except ImportError:
        raise DenoiseError(
            'Running on a Dask cluster needs dask.distributed: pip install "quiet-denoise[dask]" '
            '(or pip install "dask[distributed]").'
        ) from None
    return distributed


def connect(address: str):
    """A ``dask.distributed.Client`` connected to the scheduler at ``address`` (e.g. ``tcp://10.0.0.5:8786``).

    Raises
    ------
    DenoiseError
        When dask is not installed or the scheduler cannot be reached.
    """
    distributed = _distributed()
    try:
        return distributed.Client(address, timeout="10s")
    except (OSError, ValueError) as exc:
        raise DenoiseError(f"Could not reach the Dask scheduler at {address}: {exc}") from None


def _worker_setup() -> None:
    """On a Dask worker, once: the engine imported, one thread per cleaning, glibc reusing memory."""
    one_thread_per_process()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


#: glibc's ``mallopt`` options and values, what its own adaptation reaches: large arrays from reused
#: memory up to 32 MiB, not a fresh memory map each (1.6 times the CPU time, measured), and freed memory
#: kept up to 64 MiB, not handed back at 64 KiB as the nanny's ``MALLOC_TRIM_THRESHOLD_`` asks (with the
#: mmap threshold alone, the voice engine still took 1.3 times the CPU time of a local worker, measured).
_M_TRIM_THRESHOLD, _TRIM_THRESHOLD = -1, 64 * 1024 * 1024
_M_MMAP_THRESHOLD, _MMAP_THRESHOLD = -3, 32 * 1024 * 1024


def _worker_plugin_class():
    """The Dask worker plugin that runs :func:`_worker_setup` (a class made once dask is known)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class WorkerSetup(WorkerPlugin):
        def setup(self, worker) -> None:
            _worker_setup()

    return WorkerSetup


def _run_dask(client, jobs: Sequence[Job], params: DenoiseParams, finish) -> None:
    distributed = _distributed()
    client.register_plugin(_worker_plugin_class()(), name="quiet-denoise")
    futures = client.map(
        _clean_one, [str(j.source) for j in jobs], [str(j.target) for j in jobs], params=params, pure=False
    )
    index = {future.key: i for i, future in enumerate(futures)}
    for future in distributed.as_completed(futures):
        finish(index[future.key], future.result())


def default_n_jobs() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def denoise_files(
    pairs: Iterable[tuple[PathLike, PathLike]],
    params: DenoiseParams = DenoiseParams(),
    *,
    n_jobs: int = 1,
    client=None,
    progress: BatchProgress | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> BatchSummary:
    """Clean many files, one task per file, each with :func:`denoise_core.files.denoise_file`.

    Parameters
    ----------
    pairs : iterable of (source, target)
        Input and output paths (e.g. :attr:`Plan.jobs`). With ``client``,
        the workers open them, so they must be paths the workers can reach.
    params : DenoiseParams
        The settings, the same for every file (a noise window then holds only
        noise in each file; ``None`` finds the quietest stretch of each).
    n_jobs : int
        Files cleaned side by side on this machine: this process and
        ``n_jobs - 1`` worker processes; 1 cleans in this process alone.
        Ignored when ``client`` is given.
    client : dask.distributed.Client, optional
        Run one task per file on this Dask cluster instead.
    progress : callable, optional
        ``progress(n_done, fraction)``, called in this process as the work
        advances (per file fraction on this machine, per file on a cluster).
    on_result : callable, optional
        Called in this process with each :class:`FileResult` as its file finishes.

    Returns
    -------
    BatchSummary
        The results in the order of ``pairs``; outputs are byte-identical
        whichever way the work was run.

    Raises
    ------
    DenoiseError
        When ``client`` is given but dask is not installed. A file that
        cannot be cleaned does not raise: its result is ``"failed"``.
    """
    jobs = [Job(Path(source), Path(target)) for source, target in pairs]
    if n_jobs < 1:
        raise DenoiseError(f"n_jobs must be at least 1, got {n_jobs}.")
    results: list[FileResult | None] = [None] * len(jobs)
    tracker = _Tracker(len(jobs), progress)

    def finish(index: int, result: FileResult) -> None:
        results[index] = result
        tracker.finish(index)
        if on_result:
            on_result(result)

    start = time.perf_counter()
    if client is not None:
        _run_dask(client, jobs, params, finish)
    elif n_jobs > 1 and len(jobs) > 1:
        _run_local_pool(jobs, params, min(n_jobs, len(jobs)), tracker, finish)
    else:
        for i, job in enumerate(jobs):
            finish(i, _clean_one(job.source, job.target, params, partial(tracker.update, i)))
    return BatchSummary(tuple(results), time.perf_counter() - start)
