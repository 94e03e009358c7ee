"""Allow ``python -m denoise_core``."""

import sys

from .cli import main

sys.exit(main(prog="python -m denoise_core"))
