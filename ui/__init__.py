"""Streamlit front end of Quiet.

The modules are split by what they hold, and only :mod:`ui.controls` and
:mod:`ui.views` draw anything:

* :mod:`ui.loading` decodes input and checks it against the app's limits
  (pure functions, plus ``st.cache_resource`` wrappers keyed by a content digest);
* :mod:`ui.preview` cleans a stretch of the recording at once when a setting changes
  (players and pictures of that stretch; no Streamlit);
* :mod:`ui.processing` learns the noise of a recording and cleans it whole for the
  download, block by block, keeping the latest result;
* :mod:`ui.plots` builds Plotly figures of bounded size (no Streamlit);
* :mod:`ui.media` encodes players and downloads (no Streamlit);
* :mod:`ui.controls` draws the input picker and the sidebar and returns plain values;
* :mod:`ui.views` draws the results;
* :mod:`ui.messages` holds the texts shown to the user.

Importing any of them has no side effect beyond defining cached functions.
"""
