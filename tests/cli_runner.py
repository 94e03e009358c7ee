"""Running ``python -m denoise_core`` as a subprocess, shared by the CLI test modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import denoise_core

#: The subprocess must import the same engine as the test process.
PACKAGE_ROOT = str(Path(denoise_core.__file__).resolve().parents[1])


def run_cli(*args, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the command line tool in ``cwd`` with ``args``; capture its output as text."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")])))
    return subprocess.run(
        [sys.executable, "-m", "denoise_core", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
