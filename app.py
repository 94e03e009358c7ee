"""Quiet: clean background noise out of speech recordings, in the browser.

Run with ``streamlit run app.py``. The page is drawn by :func:`ui.page.page`;
the work is done by the small modules of the ``ui`` package and by
``denoise_core``.
"""

from ui.page import page

page()
