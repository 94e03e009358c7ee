"""The wheel and the sdist carry the voice engine's weights and their upstream licences.

Nothing is downloaded when Quiet runs, so an install from either must hold the
converted DeepFilterNet3 weights. Both are built from a copy of the source
tree (the wheel by pip, as ``pip install .`` builds it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("denoise_core/voice/dfn3.npz", "denoise_core/voice/LICENSE-MIT", "denoise_core/voice/LICENSE-APACHE")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """The package's files without the tests, benchmarks and build leftovers."""
    skip = shutil.ignore_patterns(".git", "tests", "bench", "*.egg-info", "__pycache__", "build", "dist", ".venv")
    return shutil.copytree(ROOT, tmp_path_factory.mktemp("quiet") / "src", ignore=skip)


def _build(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_the_wheel_holds_the_weights_and_licences(source, tmp_path):
    _build([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(tmp_path)], source)
    (wheel,) = tmp_path.glob("quiet_denoise-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(SHIPPED) <= names
    assert zipfile.ZipFile(wheel).getinfo(SHIPPED[0]).file_size == (ROOT / SHIPPED[0]).stat().st_size


def test_the_sdist_holds_the_weights_and_licences(source, tmp_path):
    build = f"import setuptools.build_meta as b; b.build_sdist({str(tmp_path)!r})"
    _build([sys.executable, "-c", build], source)
    (sdist,) = tmp_path.glob("quiet[-_]denoise-*.tar.gz")  # the name style depends on the setuptools
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert set(SHIPPED) <= names
