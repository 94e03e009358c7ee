"""The engine's public surface: small, and the only door the app and the CLI use."""

from __future__ import annotations

import ast
import dataclasses
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import denoise_core
from denoise_core.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent


def test_public_names_are_few_and_all_importable():
    assert len(denoise_core.__all__) <= 16  # the two engines, the noise, the files, the errors and the settings
    for name in denoise_core.__all__:
        assert getattr(denoise_core, name) is not None


def _engine_imports(path: Path):
    """Every ``denoise_core...`` module a Python file imports."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("denoise_core"):
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("denoise_core"))


@pytest.mark.parametrize("path", [ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py"))], ids=lambda p: p.name)
def test_the_app_uses_only_the_public_api_and_the_io_modules(path):
    assert set(_engine_imports(path)) <= {"denoise_core", "denoise_core.audio_io", "denoise_core.media"}


def test_cli_output_has_the_mode_of_a_normally_created_file(tmp_path, load_data):
    y, sr = load_data("p257_089_noisy.flac")
    source = tmp_path / "take.wav"
    sf.write(source, y[: sr // 2], sr)
    old = os.umask(0o022)
    try:
        assert main([str(source), "-q"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "take_denoised.wav").stat().st_mode) == 0o644


@pytest.mark.parametrize(("prog", "shown"), [(None, "quiet-denoise"), ("python -m denoise_core", "python -m denoise_core")])
def test_help_names_the_program_it_was_started_as(monkeypatch, prog, shown):
    monkeypatch.setattr("sys.argv", ["/usr/local/bin/quiet-denoise"])
    assert build_parser(prog).format_usage().startswith(f"usage: {shown} ")


def test_params_carry_their_ranges_and_help():
    params = denoise_core.DenoiseParams
    assert set(params.RANGES) | set(params.CHOICES) <= set(params.HELP)
    assert set(params.HELP) == {f.name for f in dataclasses.fields(params)}
    assert {"threshold_db", "reduction_db", "freq_smooth_hz", "time_smooth_ms"} <= set(params.RANGES)
    defaults = params()
    for name, (low, high) in params.RANGES.items():
        assert getattr(defaults, name) is None or low <= getattr(defaults, name) <= high
    assert np.isfinite(list(np.ravel(list(params.RANGES.values())))).all()
