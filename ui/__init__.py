"""Streamlit front end of Quiet.

The modules are split by what they hold, and only :mod:`ui.controls` and
:mod:`ui.views` draw anything:

* :mod:`ui.loading` decodes input and checks it against the app's limits
  (pure functions, plus :func:`~ui.loading.load_recording`, which keeps a recording per
  content digest in the memory budget, and derives the limits from that budget);
* :mod:`ui.preview` cleans a stretch of the recording at once when a setting changes
  (players and pictures of that stretch; no Streamlit);
* :mod:`ui.processing` learns the noise of a recording and cleans it whole for the
  download, block by block, its results kept per visitor in the server's memory budget;
* :mod:`ui.store` counts large objects under one budget and knows whose page shows them,
  :mod:`ui.jobs` runs cleanings side by side in a short and a long lane (neither imports
  Streamlit), and :mod:`ui.budget` holds the server's one store and runner;
* :mod:`ui.plots` builds Plotly figures of bounded size (no Streamlit);
* :mod:`ui.media` encodes players and downloads (no Streamlit);
* :mod:`ui.controls` draws the input picker and the sidebar and returns plain values;
* :mod:`ui.views` draws the results;
* :mod:`ui.messages` holds the texts shown to the user.

Importing them has no side effect beyond defining functions, except :mod:`ui.budget`, which
creates the store and the runner and starts a thread that gives back memory of closed sessions.
"""
