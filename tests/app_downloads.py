"""Players and downloads of an AppTest read back as bytes, shared by the AppTest modules.

Each AppTest run gets a fresh in-memory media store; :func:`keep_media` keeps
hold of them, so a test can fetch a player's bytes from its URL and run a
download button's deferred callable as a click in the browser would.
"""

from __future__ import annotations

import os

import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

__all__ = ["Media", "keep_media"]


class Media:
    """The media stores of every AppTest run, newest last."""

    def __init__(self) -> None:
        self.managers: list = []

    def latest(self) -> MediaFileManager:
        return self.managers[-1]

    def player_bytes(self, at: AppTest, manager: MediaFileManager):
        return [manager._storage.get_file(os.path.basename(a.proto.url)).content for a in at.get("audio")]

    def download(self, at: AppTest, manager: MediaFileManager, key: str):
        """(file name, bytes) of a download button, as a click would give them."""
        (button,) = [b for b in at.get("download_button") if b.proto.id.endswith(key)]
        url = manager.execute_deferred(button.proto.deferred_file_id)
        stored = manager._storage.get_file(os.path.basename(url))
        return stored.filename, stored.content


def keep_media(monkeypatch) -> Media:
    """Make every AppTest run keep its media store in the returned :class:`Media`."""
    media = Media()

    class KeptManager(MediaFileManager):
        def __init__(self, storage) -> None:
            super().__init__(storage)
            media.managers.append(self)

    monkeypatch.setattr(app_test_module, "MediaFileManager", KeptManager)
    return media
