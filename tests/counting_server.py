"""``streamlit run`` with every cleaning counted: the load test's and the load bench's server.

Run as ``python tests/counting_server.py APP.py [streamlit options]`` with the
app's folder on ``PYTHONPATH``. Before Streamlit starts it wraps
``denoise_core.denoise_with_profile`` (the one call that cleans a recording,
in the app of any version since the engine's public API) so that each call
prints ``QUIET_CLEANING <samples>`` to stderr; the app imports the wrapped
function. Nothing else changes.
"""

import sys

import denoise_core

MARK = "QUIET_CLEANING"


def _counted(real):
    def denoise_with_profile(y, *args, **kwargs):
        # One write for the whole line: print() writes the newline apart, and two cleanings
        # starting at once then shared a line ("QUIET_CLEANING 900000QUIET_CLEANING 900000").
        sys.stderr.write(f"{MARK} {len(y)}\n")
        sys.stderr.flush()
        return real(y, *args, **kwargs)

    return denoise_with_profile


if __name__ == "__main__":
    denoise_core.denoise_with_profile = _counted(denoise_core.denoise_with_profile)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    sys.exit(cli.main())
