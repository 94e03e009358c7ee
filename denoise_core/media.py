"""Audio and video files through FFmpeg (PyAV): phone memos, audiobooks, videos.

soundfile keeps WAV, FLAC, OGG, MP3 and AIFF; the files named in
:data:`MEDIA_EXTENSIONS` come here. PyAV's wheels bundle FFmpeg, so nothing
is installed beside the Python package.

* :func:`probe` says what a file holds (:class:`MediaInfo`) without decoding
  its sound, and refuses in plain words what cannot be cleaned: no sound,
  DRM, more streams, channels or hours than :class:`MediaLimits` allow.
* :class:`MediaSource` is the file's default audio track as a
  :class:`~denoise_core.source.Source`: float32 blocks, memory bounded
  whatever the length, the length exact where the container states it.
* :class:`MediaWriter` writes the cleaned track in the input's format
  (:func:`plan_output` says which, and why when it differs), copies the
  video and the other tracks packet for packet, and publishes the file
  only when it is complete.

Every error a file can cause is an :class:`~denoise_core.errors.AudioFileError`
(a ``ValueError``).

Examples
--------
>>> source = MediaSource("memo.m4a")                             # doctest: +SKIP
>>> with MediaWriter("memo_clean.m4a", "memo.m4a", info=source.info) as out:  # doctest: +SKIP
...     for block in source.blocks():
...         out.write(source.restore(block))
"""

from .audio_io import MEDIA_EXTENSIONS, VIDEO_EXTENSIONS
from .media_probe import MediaInfo, MediaInput, MediaLimits, probe
from .media_source import MediaSource
from .media_writer import MediaWriter, OutputPlan, plan_output

__all__ = [
    "MEDIA_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "MediaInfo",
    "MediaInput",
    "MediaLimits",
    "MediaSource",
    "MediaWriter",
    "OutputPlan",
    "plan_output",
    "probe",
]
