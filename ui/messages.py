"""Texts shown to the user, in one place."""

from __future__ import annotations

import re

from .loading import MAX_DURATION_S, MAX_UPLOAD_MB, describe_duration

TAGLINE = "Removes steady background noise (hiss, hum, fans, traffic) from speech recordings."

INTRO = (
    "Upload a recording, record one with your microphone, or press **Try the example**. "
    "Quiet cleans it straight away with settings that suit most speech; then listen, compare and download. "
    f"Files of up to {MAX_UPLOAD_MB} MB and {describe_duration(MAX_DURATION_S)} "
    "(WAV, FLAC, OGG or MP3) are accepted."
)

SNR_HELP = (
    "Estimated ratio of speech to background noise, in decibels. Higher is cleaner; "
    "every 10 dB is ten times less noise power."
)
REMOVED_HELP = "How much quieter the background noise is after cleaning, in decibels."
TIME_HELP = "How long the last cleaning took: learning the noise, removing it, and preparing the players and pictures."
REMOVED_PLAYER_HELP = (
    "What was taken out (original minus cleaned). If you hear words here, the cleaning is too "
    "strong: lower the noise reduction or the threshold."
)
PICTURE_HELP = (
    "Spectrograms show pitch (up) over time (across); brighter is louder. Drag to zoom: both pictures "
    "follow each other. Double-click to zoom out. The dotted box marks the stretch the noise was learnt from."
)
WINDOW_HINT = (
    "Choose a stretch where nobody speaks, inside the recording, or switch on "
    "**Find the noise automatically**."
)
UNEXPECTED = (
    "Something went wrong while cleaning this recording, and it is not your fault. "
    "Please try again, or try another file. (Details are in the server log.)"
)
OUT_OF_MEMORY = (
    "This recording is too large for the memory available here. Please try a shorter piece, "
    "or save it as mono."
)


def escape(text: str) -> str:
    """Escape Markdown so a user's file name is shown as it is."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>|~$])", r"\\\1", str(text))
