"""Command line: ``python -m denoise_core INPUT... [-o OUT] [options]`` (denoise_core.cli).

Most tests run the real command in a subprocess on copies in ``tmp_path``;
a few call :func:`denoise_core.cli.main` in-process so coverage sees it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from cli_runner import run_cli

import denoise_core
from denoise_core.cli import EXIT_BAD_INPUT, main, output_path
from denoise_core.params import PARAM_RANGES

REAL = "p257_089_noisy.flac"


def listing(folder: Path) -> dict:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def real_copy(tmp_path, data_dir) -> Path:
    """A writable copy of the real noisy recording (48 kHz mono 16-bit FLAC)."""
    target = tmp_path / "noisy.flac"
    shutil.copyfile(data_dir / REAL, target)
    return target


@pytest.fixture
def stereo_wav(tmp_path, speech_bursts, make_noise) -> Path:
    """A 24-bit stereo WAV at 22.05 kHz: bursts with a noise-only first 0.5 s, right channel quieter."""
    sr = 22050
    bursts = speech_bursts(sr, 2.0, (0.0, 0.5))
    y = np.stack([bursts, 0.5 * bursts], axis=1) + make_noise(len(bursts), -40.0, 2)
    path = tmp_path / "stereo.wav"
    sf.write(path, y, sr, subtype="PCM_24")
    return path


def assert_same_encoding(output: Path, source: Path) -> None:
    got, want = sf.info(str(output)), sf.info(str(source))
    assert (got.format, got.subtype, got.samplerate, got.channels, got.frames) == (
        want.format,
        want.subtype,
        want.samplerate,
        want.channels,
        want.frames,
    )


# ---------------------------------------------------------------- it works


def test_output_goes_beside_the_input_in_the_same_encoding(real_copy):
    original = real_copy.read_bytes()
    result = run_cli(real_copy.name, "--noise-window", "0", "0.15", "--engine", "classic", cwd=real_copy.parent)
    assert result.returncode == 0, result.stderr
    output = real_copy.with_name("noisy_denoised.flac")
    assert output.is_file()
    assert_same_encoding(output, real_copy)
    assert sf.info(str(output)).subtype == "PCM_16" and sf.info(str(output)).channels == 1
    assert real_copy.read_bytes() == original
    assert "0.00-0.15 s (window)" in result.stdout
    # The noise-only lead-in really got quieter.
    before, sr = sf.read(real_copy)
    after, _ = sf.read(output)
    lead = slice(0, int(0.15 * sr))
    assert 10 * np.log10(np.mean(before[lead] ** 2) / np.mean(after[lead] ** 2)) > 3.0


@pytest.mark.parametrize("window", [("0", "0.15"), None], ids=["window", "auto"])
def test_file_result_equals_the_in_memory_result(real_copy, tmp_path, window):
    target = tmp_path / "out.flac"
    result = run_cli(real_copy.name, "-o", target.name, *(["--noise-window", *window] if window else []), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    y, sr = sf.read(real_copy, dtype="float32")
    expected = denoise_core.denoise(y, sr, noise_window=(0.0, 0.15) if window else None)
    got, _ = sf.read(target, dtype="float32")
    assert float(np.max(np.abs(got - expected))) <= 1.0 / 2**15  # one 16-bit step


def test_several_inputs_go_into_the_output_folder(real_copy, stereo_wav, tmp_path):
    out_dir = tmp_path / "cleaned"
    result = run_cli(real_copy.name, stereo_wav.name, "-o", out_dir, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["noisy_denoised.flac", "stereo_denoised.wav"]
    assert_same_encoding(out_dir / "noisy_denoised.flac", real_copy)
    assert_same_encoding(out_dir / "stereo_denoised.wav", stereo_wav)
    info = sf.info(str(out_dir / "stereo_denoised.wav"))
    assert (info.subtype, info.channels) == ("PCM_24", 2)
    assert "quietest stretch" in result.stdout
    assert not real_copy.with_name("noisy_denoised.flac").exists()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("case", "match"),
    [
        pytest.param("text-as-wav", r"notes\.wav could not be read as audio", id="text-file-named-wav"),
        pytest.param("window-beyond-end", r"ends at 10\.000 s, after the end of the recording \(valid range: 0 to 3\.120 s\)", id="window-beyond-end"),
        pytest.param("negative-reduction", r"reduction_db must be between 0 and 100, got -5\.0", id="negative-reduction"),
        pytest.param("missing", r"missing\.flac does not exist", id="missing-file"),
        pytest.param("output-is-input", r"is an input file; refusing to overwrite it", id="output-is-the-input"),
        pytest.param("nan-sample", r"nan\.wav: The audio holds invalid samples \(NaN or infinite values\)", id="float-wav-with-nan"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_leaves_nothing(real_copy, tmp_path, case, match):
    (tmp_path / "notes.wav").write_text("these are my notes, not a recording\n")
    with_nan = np.full((8000, 2), 0.1, np.float32)
    with_nan[100, 1] = np.nan  # one bad sample in one channel of a float WAV
    sf.write(tmp_path / "nan.wav", with_nan, 16000, subtype="FLOAT")
    args = {
        "text-as-wav": ["notes.wav"],
        "window-beyond-end": [real_copy.name, "--noise-window", "0", "10"],
        "negative-reduction": [real_copy.name, "--reduction-db", "-5"],
        "missing": ["missing.flac"],
        "output-is-input": [real_copy.name, "-o", real_copy.name],
        "nan-sample": ["nan.wav"],
    }[case]
    before = listing(tmp_path)
    result = run_cli(*args, "-q", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1
    assert re.search(match, result.stderr)
    assert result.stdout == ""
    assert listing(tmp_path) == before  # nothing written, nothing overwritten, no temporary files


def test_default_output_that_is_another_input_is_not_overwritten(real_copy, tmp_path):
    other = tmp_path / "noisy_denoised.flac"  # also an input, and noisy.flac's default output
    shutil.copyfile(real_copy, other)
    original = other.read_bytes()
    result = run_cli(real_copy.name, other.name, "-q", cwd=tmp_path)
    assert result.returncode == 2
    assert "noisy_denoised.flac is an input file; refusing to overwrite it" in result.stderr
    assert other.read_bytes() == original
    assert (tmp_path / "noisy_denoised_denoised.flac").is_file()  # the other input is still cleaned


@pytest.mark.parametrize(
    "args",
    [["--noise-window", "0"], ["--noise-window", "a", "b"], ["--reduction-db", "loud"], []],
    ids=["window-one-number", "window-words", "reduction-word", "no-input"],
)
def test_malformed_command_line_exits_2(real_copy, args):
    result = run_cli(*([real_copy.name] if args else []), *args, cwd=real_copy.parent)
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert list(real_copy.parent.iterdir()) == [real_copy]


# ---------------------------------------------------------------- in-process


def test_main_cleans_quietly_in_process(real_copy, capsys):
    target = real_copy.with_name("out.flac")
    code = main([str(real_copy), "-o", str(target), "--noise-window", "0", "0.15", "--reduction-db", "15", "-q"])
    assert code == 0
    assert capsys.readouterr().out == ""
    assert_same_encoding(target, real_copy)


def test_main_shows_a_progress_bar_on_a_terminal(real_copy, stereo_wav, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code = main([str(real_copy), str(stereo_wav), "-o", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.count(" -> ") == 2
    assert "file 1/2" in captured.err
    assert "100.0%  file 2/2" in captured.err


def test_main_draws_no_bar_when_stderr_is_not_a_terminal(real_copy, tmp_path, capsys):
    assert main([str(real_copy), "-o", str(tmp_path / "out")]) == 0
    assert "%" not in capsys.readouterr().err


def test_main_keeps_going_after_a_bad_file(real_copy, tmp_path, capsys):
    (tmp_path / "broken.flac").write_bytes(b"not flac")
    code = main([str(tmp_path / "broken.flac"), str(real_copy), "-o", str(tmp_path / "out"), "-q"])
    assert code == EXIT_BAD_INPUT
    assert "broken.flac could not be read as audio" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["noisy_denoised.flac"]


def test_main_refuses_out_of_range_setting(real_copy, capsys):
    code = main([str(real_copy), "--threshold-db", "99"])
    assert code == EXIT_BAD_INPUT
    assert "threshold_db must be between" in capsys.readouterr().err
    assert list(real_copy.parent.iterdir()) == [real_copy]


def test_help_names_every_setting_like_the_api(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for name in PARAM_RANGES:
        assert "--" + name.replace("_", "-") in text


@pytest.mark.parametrize(
    ("output", "n_inputs", "existing_dir", "expected"),
    [
        (None, 1, False, "rec/take1_denoised.flac"),
        ("out.flac", 1, False, "out.flac"),
        ("cleaned/", 1, False, "cleaned/take1_denoised.flac"),
        ("cleaned", 1, True, "cleaned/take1_denoised.flac"),
        ("cleaned", 3, False, "cleaned/take1_denoised.flac"),
    ],
    ids=["beside", "file", "trailing-slash", "existing-folder", "several-inputs"],
)
def test_output_path(tmp_path, monkeypatch, output, n_inputs, existing_dir, expected):
    monkeypatch.chdir(tmp_path)
    if existing_dir:
        (tmp_path / output).mkdir()
    assert output_path(Path("rec/take1.flac"), output, n_inputs) == Path(expected)


@pytest.mark.parametrize(
    "case",
    ["output-is-an-input-several-inputs", "output-folder-under-a-file"],
)
def test_bad_input_never_ends_in_a_traceback(real_copy, stereo_wav, tmp_path, case):
    args = {
        "output-is-an-input-several-inputs": [real_copy.name, stereo_wav.name, "-o", real_copy.name],
        "output-folder-under-a-file": [real_copy.name, "-o", "noisy.flac/out.flac"],
    }[case]
    before = listing(tmp_path)
    result = run_cli(*args, "-q", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")
    assert listing(tmp_path) == before


def test_same_named_inputs_do_not_overwrite_each_other(data_dir, tmp_path):
    for folder, name in (("a", "p257_089_noisy.flac"), ("b", "p257_089_clean.flac")):
        (tmp_path / folder).mkdir()
        shutil.copyfile(data_dir / name, tmp_path / folder / "take.flac")
    result = run_cli("a/take.flac", "b/take.flac", "-o", "out", "-q", cwd=tmp_path)
    outputs = sorted((tmp_path / "out").iterdir())
    # Either both results are kept under distinct names, or the clash is refused up front.
    assert (result.returncode == 0 and len(outputs) == 2) or (result.returncode == 2 and len(outputs) <= 1)


def test_cleaning_wav_files_never_loads_ffmpeg(tmp_path):
    # PyAV loads FFmpeg's libraries (0.2 s): the command line, and each worker of --jobs, pays that
    # only for a phone memo or a video, not to clean WAV files.
    sr = 16000
    for name in ("a.wav", "b.wav"):
        sf.write(tmp_path / name, np.random.default_rng(0).standard_normal(sr).astype(np.float32) * 0.1, sr)
    code = (
        "import sys\n"
        "from denoise_core.cli import main\n"
        f"main([{str(tmp_path)!r}, '-r', '-o', {str(tmp_path / 'out')!r}, '-q', '--engine', 'classic'])\n"
        "print(sorted(m for m in sys.modules if m == 'av' or m.startswith('av.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(denoise_core.__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_denoised.wav", "b_denoised.wav"]
