"""Texts shown to the user, in one place."""

from __future__ import annotations

import re

from .limits import MAX_DURATION_S, MAX_UPLOAD_MB
from .loading import ACCEPTED, describe_duration

TAGLINE = "Removes background noise (hiss, hum, fans, traffic, cafes, other voices) from speech recordings."

INTRO = (
    "Upload a recording, record one with your microphone, or press **Try the example**. "
    "Quiet cleans it straight away with settings that suit most speech; then listen, compare and download. "
    f"Files of up to {MAX_UPLOAD_MB} MB and {describe_duration(MAX_DURATION_S)} are accepted: {ACCEPTED}."
)

VERDICT_HELP = (
    "How much quieter the background noise is in the preview, in decibels: 6 dB is about half as loud "
    "to the ear, 20 dB about a quarter, 40 dB almost gone."
)
SNR_HELP = (
    "Estimated ratio of speech to background noise, in decibels, taking the noise sample as the noise "
    "(so it changes when the noise sample changes). Higher is cleaner; every 10 dB is ten times less noise power."
)
SAMPLE_LOWERED = (
    "The noise sample is louder than the background elsewhere in the recording (by up to {db:.0f} dB), "
    "so Quiet used the quieter background. Try another pause, or let Quiet find the noise automatically."
)
TOO_SHORT = (
    "“{name}” is only {seconds:.2f} s long. Quiet needs at least {minimum:.1f} s to tell the noise from "
    "the speech, so it does not clean this one. Please record a little longer."
)
PREPARE_HELP = (
    "The preview cleans only the part you hear. For the download, Quiet cleans the whole recording once "
    "with these settings (a progress bar shows how far it is); then the download buttons appear."
)
REMOVED_PLAYER_HELP = (
    "What was taken out (original minus cleaned). If you hear words here, the cleaning is too "
    "strong: lower the noise reduction or the threshold."
)
PICTURE_HELP = (
    "Top: the waveform, original in grey and cleaned in blue. Below: spectrograms, pitch (up) over time "
    "(across), brighter is louder. **Drag across a pause** to use it as the noise sample (shaded in blue); "
    "use the zoom tool above the chart to zoom, all three rows follow; double-click to zoom out."
)
SETTINGS_WHERE = (
    "Settings for the engine, the noise sample, threshold and finishing are in the sidebar "
    "(» at the top left when it is folded)."
)
#: What each engine is for, in plain words (the engine's choice, the page's help).
ENGINE_LABELS = {
    "voice": "Voice: keeps only voices",
    "classic": "Classic: keeps any sound",
}
ENGINE_HELP = (
    "Voice (a neural network, DeepFilterNet3) keeps voices and removes everything else: cafes, streets, "
    "keyboards, other noise that comes and goes. Classic (a spectral gate) turns down the steady noise it "
    "measures and keeps every other sound: choose it for music, birdsong or anything that is not speech, "
    "or to set the threshold yourself."
)
ENGINE_CREDIT = (
    "The voice engine runs DeepFilterNet3 (Schröter et al., Interspeech 2023; code and weights "
    "MIT or Apache-2.0) in NumPy."
)
GATE_NOT_USED = "The voice engine tells voice from noise itself: the threshold, smoothing and FFT size do not apply."
NO_VOICE_HEARD = (
    "The voice engine heard no voice here and removed nearly everything. If this recording holds music, "
    "birdsong or other sounds you want to keep, use the classic engine."
)
WINDOW_HINT = (
    "Choose a stretch where nobody speaks, inside the recording, or switch on "
    "**Find the noise automatically** in the sidebar."
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
