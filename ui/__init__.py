"""Streamlit front end of Quiet.

The modules are split by what they hold. These draw (import Streamlit's widgets and elements):

* :mod:`ui.page` draws the page's flow: the input, then the results fragment (settings,
  preview, downloads, pictures), or the many-files section; every problem as one message;
* :mod:`ui.sidebar` draws the sidebar's frame: its places, top to bottom (a place for a choice
  of engine, the noise sample, the spectral gate, the finishing, the reset), groups that can be
  greyed with a word of why, and the page's line saying where the settings are;
* :mod:`ui.controls` draws the input picker, the gate's sliders, the FFT size, the noise sample
  and the preview's stretch, and returns plain values;
* :mod:`ui.settings` draws the preset and the finishing, and keeps every setting in the URL;
* :mod:`ui.views` draws the results: summary, verdict, players, downloads and pictures;
* :mod:`ui.batch` draws the many-files section (and cleans the files as a plain function).

These draw nothing (no Streamlit, except where said):

* :mod:`ui.limits` holds the server's memory budget, the limits that follow from it and
  :class:`~ui.limits.InputProblem` (imports nothing of the app);
* :mod:`ui.loading` decodes input and checks it against those limits (pure functions, plus
  :func:`~ui.loading.load_recording`, which keeps a recording per content digest in the budget);
* :mod:`ui.preview` cleans a stretch of the recording at once when a setting changes
  (players and pictures of that stretch);
* :mod:`ui.processing` learns the noise of a recording and cleans it whole for the download,
  block by block, its results kept per visitor in the server's memory budget;
* :mod:`ui.store` counts large objects under one budget and knows whose page shows them,
  :mod:`ui.jobs` runs cleanings side by side in a short and a long lane, and :mod:`ui.budget`
  holds the server's one store and runner (it asks Streamlit only who the visitor is and whether
  their page is still open);
* :mod:`ui.pooling` reduces audio and spectrograms to a bounded size, :mod:`ui.plots` builds
  Plotly figures from them;
* :mod:`ui.media` encodes players and downloads;
* :mod:`ui.messages` holds the texts shown to the user.

Importing them has no side effect beyond defining functions, except :mod:`ui.budget` (and so
:mod:`ui.loading`, which imports it), which creates the store and the runner and starts a thread
that gives back memory of closed sessions.
"""
