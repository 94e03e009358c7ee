"""The sidebar: every setting beyond the preset and "Noise reduction", in groups that can say they do not apply.

Top to bottom (:func:`frame` creates the places in this order, so they can be
filled in any order, e.g. the noise sample once the recording is analysed):

* ``engine``: empty for now; the place for a choice of cleaning engine;
* ``noise``: the noise sample (automatic, or start and end; a drag on the waveform sets them too);
* ``gate``: the spectral gate's threshold, smoothing and FFT size;
* ``finishing``: loudness, rumble filter, hum and stereo;
* ``reset``: "Recommended settings".

Streamlit shows the sidebar open on a wide screen and folds it away on a
phone (``initial_sidebar_state="auto"``), so the page also says in one line
where the settings are (:func:`where_line`).

**Who draws it.** On the page of one recording the sidebar is drawn by the
results fragment (:func:`ui.page.results`), :func:`frame` first: a widget the
fragment draws in the sidebar then reruns only the fragment, as the settings
in the page always did. Streamlit 1.67 lets a fragment write into the sidebar
on a rerun of its own only where it wrote there during the last full run (it
reserves the fragment's place then), so the fragment draws the frame before
anything that could fail or return early; a ``parallel=True`` fragment may
never write there. The page of many files is not a fragment and draws it
directly.

**Settings that do not apply.** :func:`group` draws a group's title and, when
given ``why_not``, a caption saying why its settings do nothing now; its
:attr:`Group.disabled` greys every widget in it. A choice of engine goes in
``engine`` and decides each group's ``why_not`` before the groups are drawn::

    side = frame()
    engine = engine_control(side.engine)  # e.g. "gate" or "voice"
    gate = group(side.gate, "Spectral gate", why_not=None if engine == "gate" else "The voice engine sets these itself.")
    controls.gate_controls(main_box, gate)  # drawn disabled under the caption

A group is greyed rather than hidden on purpose: Streamlit forgets the value
of a widget it does not draw in a run, so a hidden setting would come back at
its default when the group applies again, and a greyed one says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from . import messages

__all__ = ["Group", "Sidebar", "frame", "group", "where_line"]


@dataclass(frozen=True)
class Group:
    """A titled group of settings in the sidebar.

    Attributes
    ----------
    box : container
        Where the group's widgets go.
    why_not : str or None
        Why the group's settings do nothing now (e.g. with the chosen engine),
        in plain words; ``None`` when they apply.
    """

    box: object
    why_not: str | None = None

    @property
    def disabled(self) -> bool:
        """Whether the group's widgets are drawn greyed (its settings do not apply)."""
        return self.why_not is not None


@dataclass(frozen=True)
class Sidebar:
    """The sidebar's places, in display order (see the module's description).

    Attributes
    ----------
    engine, noise, gate, finishing, reset : containers
    """

    engine: object
    noise: object
    gate: object
    finishing: object
    reset: object


def frame() -> Sidebar:
    """Title the sidebar and create its places, top to bottom; returns them to be filled."""
    with st.sidebar:
        st.header("Settings", anchor=False)
        return Sidebar(
            engine=st.container(),
            noise=st.container(),
            gate=st.container(),
            finishing=st.container(),
            reset=st.container(),
        )


def group(box, title: str, *, why_not: str | None = None) -> Group:
    """Draw a group's title in ``box`` and, if its settings do not apply, a caption saying why.

    Parameters
    ----------
    box : container
        One of the :class:`Sidebar`'s places.
    title : str
        The group's name, e.g. ``"Noise sample"``.
    why_not : str, optional
        Why the group's settings do nothing now, e.g. ``"Not used by the voice
        engine: it finds the noise itself."``; its widgets are then drawn greyed.

    Returns
    -------
    Group
        Pass it to the control functions (:func:`ui.controls.gate_controls`, ...), which draw in
        :attr:`Group.box` with ``disabled=`` :attr:`Group.disabled`.
    """
    with box:
        st.markdown(f"**{title}**")
        if why_not is not None:
            st.caption(f":material/block: {why_not}")
    return Group(box=box, why_not=why_not)


def where_line(box) -> None:
    """One line in the page saying where the other settings are (on a phone the sidebar is folded away)."""
    box.caption(messages.SETTINGS_WHERE)
