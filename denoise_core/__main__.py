"""Allow ``python -m denoise_core``."""

import sys

from .cli import main

sys.exit(main())
