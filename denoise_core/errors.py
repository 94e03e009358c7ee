"""Exceptions raised by the engine.

Every error that a caller can cause derives from :class:`DenoiseError`, which
is itself a :class:`ValueError`, so ``except ValueError`` catches them all.
Messages name the offending value and the valid range, in plain words.
"""

__all__ = [
    "AudioFileError",
    "AudioInputError",
    "DenoiseError",
    "NoiseWindowError",
    "ParameterError",
]


class DenoiseError(ValueError):
    """Base class of every error the engine raises on bad input."""


class AudioInputError(DenoiseError):
    """The audio array or its sample rate cannot be processed."""


class NoiseWindowError(DenoiseError):
    """The noise window does not fit the recording."""


class ParameterError(DenoiseError):
    """A tuning parameter (threshold, reduction, smoothing, FFT size) is out of range."""


class AudioFileError(DenoiseError):
    """A file cannot be read or written as audio."""
