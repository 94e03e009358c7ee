"""Many visitors on one real server: shared by the load test (``test_load.py``) and ``bench/load.py``.

:func:`serve` starts ``tests/counting_server.py`` (``streamlit run`` with each
cleaning counted) on 127.0.0.1 for any checkout of the app; :func:`chromium`
starts Debian's Chromium through Playwright (never a downloaded browser); a
:class:`Visitor` is one browser context (its own session) driven from the
caller's thread. Several visitors act at once because each action only starts
something in its page; :func:`wait_all` then watches every page together and
notes when each one shows its result, so the times are each visitor's own.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
COUNTING_SERVER = HERE / "counting_server.py"
MARK = "QUIET_CLEANING"

# A page shows a finished result: the file's name, three players, both spectrograms drawn,
# and the script run over (no stale elements from the previous run, no running indicator).
_RESULT_SHOWN = """(name) => {
    const texts = [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')];
    return texts.some(e => e.innerText.includes(name))
        && document.querySelectorAll('audio[data-testid="stAudio"]').length === 3
        && document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot .heatmaplayer image').length === 2
        && document.querySelectorAll('[data-stale="true"]').length === 0
        && document.querySelectorAll('[data-testid="stStatusWidget"]').length === 0;
}"""
_SETTLED = """() => document.querySelectorAll('[data-stale="true"]').length === 0
    && document.querySelectorAll('[data-testid="stStatusWidget"]').length === 0"""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    """Whether the app at ``url`` answers its health check with ``ok`` (other paths answer 200 too)."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


class Server:
    """A running app: its URL, process and log (which counts the cleanings)."""

    def __init__(self, url: str, proc: subprocess.Popen, log_path: Path) -> None:
        self.url, self.proc, self.log_path = url, proc, log_path

    def cleanings(self) -> int:
        """How many cleanings the server has run so far."""
        return self.log_path.read_text(errors="replace").count(MARK)

    def _status_mb(self, field: str) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def peak_mb(self) -> float:
        """Peak resident memory of the server so far (VmHWM), in MB."""
        return self._status_mb("VmHWM")

    def rss_mb(self) -> float:
        """Resident memory of the server now (VmRSS), in MB."""
        return self._status_mb("VmRSS")


@contextlib.contextmanager
def serve(app_root: Path, log_path: Path, env: dict[str, str] | None = None, options: Sequence[str] = ()) -> Iterator[Server]:
    """``app_root/app.py`` served on a free loopback port with its cleanings counted; stopped afterwards.

    ``env`` adds to the environment (e.g. ``{"QUIET_MEMORY_MB": "690"}``).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, **(env or {}), "PYTHONPATH": str(app_root)}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable, str(COUNTING_SERVER), str(app_root / "app.py"),
                "--server.headless", "true",
                "--server.port", str(port),
                "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false",
                *options,
            ],
            cwd=app_root,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
        yield Server(url, proc, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def chromium():
    """Debian's Chromium through Playwright, headless."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


def tiled_wav(source: Path, seconds: float, target: Path, variant: int = 0, every: int = 1) -> Path:
    """A 16-bit WAV of ``seconds`` made from ``source``; each ``variant`` is different audio.

    Variant 0 is the clip repeated, 1 the clip reversed in time, 2 the clip
    shifted by a third, and so on (odd variants reversed, later ones shifted),
    so visitors' files hold different sounds of the same length. ``every > 1``
    keeps the mean of every ``every`` samples (48 kHz becomes 16 kHz with 3).
    """
    y, sr = sf.read(str(source), dtype="float32")
    y = y[: len(y) // every * every].reshape(-1, every).mean(axis=1)
    sr //= every
    if variant % 2:
        y = y[::-1]
    y = np.roll(y, (variant // 2) * len(y) // 3)
    reps = int(np.ceil(seconds * sr / len(y)))
    sf.write(str(target), np.tile(y, reps)[: int(seconds * sr)], sr, subtype="PCM_16")
    return target


class Visitor:
    """One visitor: a browser context of its own (so a session of its own) on the app."""

    def __init__(self, browser, url: str, timeout_ms: int = 300_000) -> None:
        self.context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 2300})
        self.page = self.context.new_page()
        self.page.set_default_timeout(timeout_ms)
        self.page.goto(url)
        self.page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached")
        self.name = ""
        self.started = 0.0
        self.shown_at: float | None = None
        self.problem: str | None = None

    def upload(self, path: Path) -> None:
        """Start uploading ``path`` (returns at once; see :func:`wait_all`)."""
        self.name, self.shown_at = path.name, None
        self.started = time.perf_counter()
        self.page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(path))

    def example(self) -> None:
        """Press *Try the example* (returns at once)."""
        self.name, self.shown_at = "example_noisy_speech", None
        self.started = time.perf_counter()
        # The first visible one: Streamlit also renders a hidden copy of a button that has help text.
        self.page.locator(".st-key-example button:visible").first.click()

    def rerun(self) -> None:
        """Run the page again as it is (Streamlit's R key), e.g. after "try again in a minute"."""
        self.shown_at, self.problem = None, None
        self.page.locator("body").press("r")
        self.page.wait_for_timeout(1_500)  # until the old message is stale

    def cleaned_src(self) -> str | None:
        """Media URL of the cleaned player (it changes with the result)."""
        players = self.page.locator('audio[data-testid="stAudio"]')
        return players.nth(1).get_attribute("src") if players.count() == 3 else None

    def move_strength(self) -> None:
        """Press the strength ("Noise reduction", beside the players) one step (returns at once; see :func:`wait_all`)."""
        self._before = self.cleaned_src()
        slider = self.page.locator('.st-key-reduction_db input[type="range"]')
        slider.focus()
        self.shown_at = None
        self.started = time.perf_counter()
        slider.press("ArrowRight")

    def switch_log_frequency(self) -> None:
        """Flip the log-frequency switch (display only) and wait until the page has redrawn."""
        self.page.locator('.st-key-log_freq label:visible').first.click()
        self.page.wait_for_timeout(1_000)
        self.page.wait_for_function(_SETTLED)

    def shows_result(self) -> bool:
        """Whether the page shows the finished result of the last action."""
        if not self.page.evaluate(_RESULT_SHOWN, self.name):
            return False
        before = getattr(self, "_before", None)
        return before is None or self.cleaned_src() != before

    def download(self, folder: Path, key: str = "download_wav", timeout_s: float = 600.0) -> tuple:
        """Click a download button; returns (saved file, seconds from click to the file being sent).

        Returns ``(None, None)``, with the page's or the button's message in ``problem``, if the
        whole recording cannot be cleaned for it (e.g. the server is busy) or the file is refused.
        """
        prepare = self.page.locator('.st-key-prepare button:visible')
        if prepare.count():  # a recording longer than the preview is cleaned whole when asked
            prepare.first.click()
        button = self.page.locator(f'.st-key-{key} [data-testid="stDownloadButton"] button:visible').first
        start = time.perf_counter()
        while not button.is_visible():
            if self.page.evaluate(_SETTLED) and self.problems():
                self.problem = " | ".join(self.problems())
                return None, None
            if time.perf_counter() - start > timeout_s:
                raise TimeoutError(f"{self.name}: no download button within {timeout_s:.0f} s")
            self.page.wait_for_timeout(100)
        got = []
        self.page.once("download", lambda download: got.append(download))
        start = time.perf_counter()
        button.click()
        error = self.page.locator(f'.st-key-{key} [data-testid="stDownloadButtonError"]')
        while not got:
            if error.count():
                self.problem = error.first.inner_text()
                return None, None
            if time.perf_counter() - start > timeout_s:
                raise TimeoutError(f"{self.name}: no download within {timeout_s:.0f} s")
            self.page.wait_for_timeout(50)
        sent = time.perf_counter() - start
        target = folder / f"{id(self)}_{got[0].suggested_filename}"
        got[0].save_as(target)
        return target, sent

    def problems(self) -> list[str]:
        """Texts of exceptions and error or warning messages on the page (not notes)."""
        boxes = self.page.locator('[data-testid="stException"], [data-testid="stAlertContainer"][role="alert"]')
        return [boxes.nth(i).inner_text() for i in range(boxes.count())]

    def close(self) -> None:
        self.context.close()


def wait_all(visitors: Sequence[Visitor], timeout_s: float = 300.0, on_tick=None) -> list[float | None]:
    """Watch every visitor's page until each shows its result or a message instead.

    Returns each visitor's seconds from its action to its result, ``None`` for
    a visitor whose page shows a message instead (kept in ``visitor.problem``).
    ``on_tick()`` is called on every round (e.g. to sample the server's memory).

    Raises
    ------
    TimeoutError
        If some page shows neither within ``timeout_s``.
    """
    deadline = time.perf_counter() + timeout_s
    for v in visitors:
        v.problem = None
    while True:
        pending = [v for v in visitors if v.shown_at is None and v.problem is None]
        if not pending:
            break
        for v in pending:
            if v.shows_result():
                v.shown_at = time.perf_counter()
            elif v.page.evaluate(_SETTLED) and v.problems():
                v.problem = " | ".join(v.problems())
        if on_tick is not None:
            on_tick()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no result within {timeout_s:.0f} s for {[v.name for v in pending]}")
        time.sleep(0.1)
    return [None if v.shown_at is None else v.shown_at - v.started for v in visitors]
