"""Many files (denoise_core.cli.batch and the CLI's --jobs, --recursive, --skip-existing, --dask).

The folder of mixed files is made once per module from the clips in
``tests/data``: mono and stereo, WAV, FLAC and MP3 at 16 and 48 kHz, a few
seconds each, plus one FLAC whose header is intact but whose audio is zeroed
(it fails halfway through decoding). Every way of running the batch must give
the same bytes as cleaning the files one after another in this process.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from cli_runner import PACKAGE_ROOT, run_cli

from denoise_core import DenoiseError
from denoise_core.cli import EXIT_BAD_INPUT, EXIT_INTERRUPTED, main
from denoise_core.cli.batch import _pool_context, denoise_files, plan_jobs

#: name -> (channels, format); the corrupt file is added beside them.
GOOD = {
    "mono48k.flac": (1, "FLAC"),
    "stereo16k.wav": (2, "WAV"),
    "mono48k.mp3": (1, "MP3"),
    "stereo48k.mp3": (2, "MP3"),
}
CORRUPT = "damaged.flac"


def listing(folder: Path) -> dict:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, data_dir) -> Path:
    """A folder of the four good files and the damaged one."""
    folder = tmp_path_factory.mktemp("mixed")
    noisy, sr48 = sf.read(data_dir / "p257_089_noisy.flac", dtype="float32")
    clean, _ = sf.read(data_dir / "p257_089_clean.flac", dtype="float32")
    speech, sr16 = sf.read(data_dir / "speech_16k.wav", dtype="float32")
    hiss = 0.01 * np.random.default_rng(7).standard_normal(speech.shape).astype(np.float32)
    sf.write(folder / "mono48k.flac", noisy, sr48, subtype="PCM_16")
    sf.write(folder / "stereo16k.wav", np.stack([speech + hiss, 0.5 * speech + hiss[::-1]], axis=1), sr16, subtype="PCM_24")
    sf.write(folder / "mono48k.mp3", noisy, sr48)
    n = min(len(noisy), len(clean))
    sf.write(folder / "stereo48k.mp3", np.stack([noisy[:n], clean[:n] + 0.3 * noisy[:n]], axis=1), sr48)
    data = (folder / "mono48k.flac").read_bytes()
    (folder / CORRUPT).write_bytes(data[:8192] + bytes(len(data) - 8192))
    return folder


def inputs_of(folder: Path) -> list:
    return sorted(str(p) for p in folder.iterdir())


@pytest.fixture(scope="module")
def sequential(mixed, tmp_path_factory) -> dict:
    """The outputs of ``--jobs 1`` (the reference every other way must match) and its stdout."""
    out = tmp_path_factory.mktemp("jobs1")
    result = run_cli(*inputs_of(mixed), "-o", out, "--jobs", "1", cwd=mixed)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    return {"files": listing(out), "stdout": result.stdout, "stderr": result.stderr}


def test_jobs_1_cleans_the_good_files_and_reports_the_damaged_one(mixed, sequential):
    assert sorted(str(p) for p in sequential["files"]) == sorted(f"{Path(n).stem}_denoised{Path(n).suffix}" for n in GOOD)
    assert re.search(rf"error: .*{CORRUPT}: {CORRUPT} could not be processed", sequential["stderr"])
    summary = re.search(r"5 files: 4 cleaned, 1 failed, 0 skipped \(output exists\); ([\d.]+) min of audio", sequential["stdout"])
    assert summary, sequential["stdout"]
    expected_min = sum(sf.info(str(mixed / n)).duration for n in GOOD) / 60
    assert float(summary.group(1)) == pytest.approx(expected_min, abs=0.051)
    assert f"failed:\n  {mixed / CORRUPT}: " in sequential["stdout"]


def test_jobs_2_gives_the_same_bytes_as_jobs_1(mixed, sequential, tmp_path):
    result = run_cli(*inputs_of(mixed), "-o", tmp_path, "--jobs", "2", cwd=mixed)
    assert result.returncode == EXIT_BAD_INPUT
    assert listing(tmp_path) == sequential["files"]  # and no temporary file left by the damaged one
    assert result.stderr.count(f"{CORRUPT} could not be processed") == 1
    assert "5 files: 4 cleaned, 1 failed" in result.stdout
    for name, (channels, container) in GOOD.items():
        info = sf.info(str(tmp_path / f"{Path(name).stem}_denoised{Path(name).suffix}"))
        assert (info.channels, info.format) == (channels, container)


def test_the_pool_reports_progress_to_the_end_in_order(mixed, tmp_path):
    pairs = [(mixed / n, tmp_path / n) for n in GOOD]
    calls, finished = [], []
    summary = denoise_files(pairs, n_jobs=2, progress=lambda n_done, fraction: calls.append((n_done, fraction)), on_result=finished.append)
    assert [r.status for r in summary.results] == ["done"] * 4
    assert [r.source for r in summary.results] == [str(s) for s, _ in pairs]  # input order, whatever finished first
    assert sorted(r.source for r in finished) == sorted(str(s) for s, _ in pairs)
    assert calls[-1] == (4, 1.0)
    n_dones, fractions = zip(*calls, strict=False)
    assert list(n_dones) == sorted(n_dones) and list(fractions) == sorted(fractions)  # never backwards
    assert any(0.0 < fraction < 1.0 and fraction * 4 != n_done for n_done, fraction in calls)  # within-file steps


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked only on Linux")
def test_workers_are_forked_with_the_engine_unless_the_caller_runs_threads(mixed, sequential, tmp_path):
    """A worker forked from this process starts with the engine imported; with a thread of the caller
    running, a copy of it could hold a lock for ever, so the pool comes from a fork server instead."""
    script = (
        "import threading; from denoise_core.cli.batch import _pool_context\n"
        "print(_pool_context().get_start_method())\n"
        "release = threading.Event(); threading.Thread(target=release.wait).start()\n"
        "print(_pool_context().get_start_method()); release.set()\n"
    )
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout.splitlines() == ["fork", "forkserver"], result.stderr
    release = threading.Event()
    caller_thread = threading.Thread(target=release.wait)
    caller_thread.start()
    try:
        assert _pool_context().get_start_method() == "forkserver"
        summary = denoise_files([(mixed / n, tmp_path / f"{Path(n).stem}_denoised{Path(n).suffix}") for n in GOOD], n_jobs=2)
    finally:
        release.set()
        caller_thread.join()
    assert [r.status for r in summary.results] == ["done"] * len(GOOD)
    assert listing(tmp_path) == sequential["files"]


def test_output_buffered_before_the_workers_start_is_written_once(mixed, tmp_path):
    """A forked worker holds a copy of the caller's unwritten output; it must not write it again."""
    script = (
        "import sys; from pathlib import Path; from denoise_core.cli.batch import denoise_files\n"
        "print('before the pool')\n"
        f"files = [(p, Path(sys.argv[1]) / p.name) for p in sorted(Path({str(mixed)!r}).glob('*48k.*'))]\n"
        "summary = denoise_files(files, n_jobs=2)\n"
        "print(*(r.status for r in summary.results))\n"
    )
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["before the pool", "done done done"]


def make_tree(root: Path, data_dir: Path) -> None:
    (root / "season1" / "raw").mkdir(parents=True)
    shutil.copyfile(data_dir / "p257_089_noisy.flac", root / "season1" / "raw" / "ep1.flac")
    shutil.copyfile(data_dir / "speech_16k.wav", root / "season1" / "ep2.WAV")
    shutil.copyfile(data_dir / "speech_16k.wav", root / "intro.wav")
    shutil.copyfile(data_dir / "speech_16k.wav", root / ".hidden.wav")
    (root / "notes.txt").write_text("not audio")


def test_recursive_mirrors_a_nested_folder_and_ignores_its_own_output(data_dir, tmp_path, capsys):
    root = tmp_path / "podcast"
    make_tree(root, data_dir)
    out = root / "cleaned"  # inside the walked folder: a second run must not clean the results again
    expected = {Path("intro_denoised.wav"), Path("season1/ep2_denoised.WAV"), Path("season1/raw/ep1_denoised.flac")}
    assert main([str(root), "--recursive", "-o", str(out), "--jobs", "1"]) == 0
    assert set(listing(out)) == expected
    assert "3 files: 3 cleaned, 0 failed" in capsys.readouterr().out
    assert main([str(root), "-r", "-o", str(out), "--jobs", "1", "-q"]) == 0
    assert set(listing(out)) == expected


def test_recursive_results_equal_those_of_single_files(data_dir, tmp_path):
    root = tmp_path / "podcast"
    make_tree(root, data_dir)
    assert main([str(root), "-r", "-o", str(tmp_path / "out"), "--jobs", "1", "-q"]) == 0
    assert main([str(root / "season1" / "raw" / "ep1.flac"), "-o", str(tmp_path / "one.flac"), "-q"]) == 0
    assert (tmp_path / "one.flac").read_bytes() == (tmp_path / "out" / "season1" / "raw" / "ep1_denoised.flac").read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--recursive"], r"--recursive mirrors folders into an output folder: give one with -o OUT"),
        ([], r"podcast is a folder; add --recursive"),
        (["--jobs", "0"], r"--jobs: must be at least 1, got 0"),
        (["-r", "-o", "SELF"], r"podcast is also the output folder"),
    ],
    ids=["recursive-without-output", "folder-without-recursive", "zero-jobs", "output-is-the-walked-folder"],
)
def test_bad_batch_arguments_exit_2_and_write_nothing(data_dir, tmp_path, capsys, args, message):
    root = tmp_path / "podcast"
    make_tree(root, data_dir)
    before = listing(tmp_path)
    try:
        code = main([str(root), *[str(root) if a == "SELF" else a for a in args]])
    except SystemExit as exc:  # argparse's own exit for a malformed flag
        code = exc.code
    assert code == EXIT_BAD_INPUT
    assert re.search(message, capsys.readouterr().err)
    assert listing(tmp_path) == before


def test_skip_existing_does_not_redo_finished_files(mixed, tmp_path, capsys):
    good = [str(mixed / n) for n in GOOD]
    assert main([*good, "-o", str(tmp_path), "--jobs", "1", "-q"]) == 0
    outputs = sorted(tmp_path.iterdir())
    old_ns = 1_000_000_000 * 10**9  # 2001: any rewrite would move it to now
    for path in outputs:
        os.utime(path, ns=(old_ns, old_ns))
    redo = outputs[0]
    kept = listing(tmp_path)
    redo.unlink()  # as if the run had been interrupted before this file
    assert main([*good, "-o", str(tmp_path), "--jobs", "1", "--skip-existing"]) == 0
    out = capsys.readouterr().out
    assert out.count("skipped, the output already exists") == 3
    assert "4 files: 1 cleaned, 0 failed, 3 skipped" in out
    assert [p.stat().st_mtime_ns == old_ns for p in outputs] == [False, True, True, True]
    assert listing(tmp_path) == kept  # the redone file is the same as before
    # Without the flag every file is cleaned again.
    assert main([*good, "-o", str(tmp_path), "--jobs", "1", "-q"]) == 0
    assert not any(p.stat().st_mtime_ns == old_ns for p in outputs)


def test_plan_refuses_an_output_that_is_an_input(mixed, tmp_path):
    other = tmp_path / "mono48k_denoised.flac"  # an input, and mono48k.flac's output beside it
    shutil.copyfile(mixed / "mono48k.flac", tmp_path / "mono48k.flac")
    shutil.copyfile(mixed / "mono48k.flac", other)
    plan = plan_jobs([tmp_path / "mono48k.flac", other])
    assert [job.source.name for job in plan.jobs] == ["mono48k_denoised.flac"]
    assert [(r.status, r.error) for r in plan.decided] == [("failed", f"{other} is an input file; refusing to overwrite it.")]


def test_dask_missing_gives_a_clear_error(monkeypatch, mixed, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    with pytest.raises(DenoiseError, match=r'needs dask\.distributed: pip install "quiet-denoise\[dask\]"'):
        denoise_files([(mixed / "mono48k.flac", tmp_path / "x.flac")], client=object())
    assert not (tmp_path / "x.flac").exists()


def test_a_dask_cluster_gives_the_same_bytes_and_failures(mixed, sequential, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as cluster:
        code = main([*inputs_of(mixed), "-o", str(tmp_path), "--dask", cluster.scheduler_address])
        captured = capsys.readouterr()
        assert code == EXIT_BAD_INPUT
        assert listing(tmp_path) == sequential["files"]
        assert captured.err.count(f"{CORRUPT} could not be processed") == 1
        assert "5 files: 4 cleaned, 1 failed" in captured.out
        # The library call with a Client, the documented way for a program.
        with distributed.Client(cluster) as client:
            summary = denoise_files(
                [(mixed / n, tmp_path / "lib" / n) for n in [*GOOD, CORRUPT]], client=client
            )
    assert [r.status for r in summary.results] == ["done"] * 4 + ["failed"]
    assert {p.name: b for p, b in listing(tmp_path / "lib").items()} == {
        f"{Path(n).stem}{Path(n).suffix}": sequential["files"][Path(f"{Path(n).stem}_denoised{Path(n).suffix}")] for n in GOOD
    }


def test_an_interrupted_run_resumes_with_skip_existing(data_dir, tmp_path):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) mid-batch, then the same command again."""
    y, sr = sf.read(data_dir / "p257_089_noisy.flac", dtype="float32")
    (tmp_path / "in").mkdir()
    for i in range(8):
        sf.write(tmp_path / "in" / f"take{i}.wav", np.tile(y, 4), sr, subtype="PCM_16")  # 12 s each
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "denoise_core", "in", "-r", "-o", "out", "--jobs", "2"]
    child = subprocess.Popen(command, cwd=tmp_path, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any((tmp_path / "out").glob("take*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(child.pid, signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == EXIT_INTERRUPTED, err
    assert "run again with --skip-existing to resume" in err and "Traceback" not in err
    finished = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert 1 <= len(finished) < 8 and all(not name.startswith(".") for name in finished)  # no temporary file left
    resumed = run_cli("in", "-r", "-o", "out", "--jobs", "2", "--skip-existing", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"8 files: {8 - len(finished)} cleaned, 0 failed, {len(finished)} skipped" in resumed.stdout
    assert main([str(tmp_path / "in"), "-r", "-o", str(tmp_path / "ref"), "--jobs", "1", "-q"]) == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == {
        p.name: p.read_bytes() for p in (tmp_path / "ref").iterdir()
    }  # the files finished before the interruption are whole
