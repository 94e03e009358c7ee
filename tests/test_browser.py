"""The whole app in a real browser: upload, listen, download, record, bad file; plus timings.

Starts ``streamlit run app.py`` on a free port and drives Debian's Chromium
with Playwright (never a downloaded browser). Skips when Chromium is missing,
unless ``QUIET_REQUIRE_BROWSER=1`` (set by CI), in which case it fails.
Run with ``-s`` to see the measured timings.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
DATA = Path(__file__).resolve().parent / "data"
NOISY = DATA / "p257_089_noisy.flac"
SPEECH_16K = DATA / "speech_16k.wav"
CHROMIUM = Path("/usr/bin/chromium")
REQUIRED = os.environ.get("QUIET_REQUIRE_BROWSER") == "1"

RESULT_TIMEOUT_MS = 180_000


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"QUIET_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


@contextlib.contextmanager
def _serve(log_dir: Path, *options: str):
    """``streamlit run app.py`` on a free port with extra ``options``; yields (URL, process)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (install Debian's chromium package)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = log_dir / "streamlit.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", str(APP),
                "--server.headless", "true",
                "--server.port", str(port),
                "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false",
                *options,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """URL of a headless ``streamlit run app.py``; stopped after the module."""
    with _serve(tmp_path_factory.mktemp("server")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser(server):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={SPEECH_16K}",
            ],
        )
        yield browser
        browser.close()


@contextlib.contextmanager
def _open_page(browser, url: str):
    context = browser.new_context(
        permissions=["microphone"], accept_downloads=True, viewport={"width": 1400, "height": 2300}
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached")
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser, server):
    """A fresh session of the app, ready for input."""
    with _open_page(browser, server) as page:
        yield page


def _upload(page, path: Path) -> None:
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(path))


def _wait_for_result(page, name: str, timeout_ms: int = RESULT_TIMEOUT_MS) -> None:
    """Until the page shows ``name``'s summary, three players and both spectrograms drawn,
    with the script run over (no stale elements left from the previous run)."""
    page.wait_for_function(
        """(name) => {
            const texts = [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')];
            const named = texts.some(e => e.innerText.includes(name));
            const players = document.querySelectorAll('audio[data-testid="stAudio"]').length === 3;
            const pictures = document.querySelectorAll(
                '[data-testid="stPlotlyChart"] .js-plotly-plot .heatmaplayer image').length === 2;
            const settled = document.querySelectorAll('[data-stale="true"]').length === 0
                && document.querySelectorAll('[data-testid="stStatusWidget"]').length === 0;
            return named && players && pictures && settled;
        }""",
        arg=name,
        timeout=timeout_ms,
    )


def _cleaned_src(page) -> str:
    return page.locator('audio[data-testid="stAudio"]').nth(1).get_attribute("src")


def _download(page, key: str, folder: Path) -> Path:
    with page.expect_download(timeout=RESULT_TIMEOUT_MS) as info:
        # The first visible one: Streamlit also renders a hidden copy of a button that has help text.
        page.locator(f'.st-key-{key} [data-testid="stDownloadButton"] button:visible').first.click()
    download = info.value
    target = folder / download.suggested_filename
    download.save_as(target)
    return target


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_upload_listen_download_record_and_bad_file(page, tmp_path):
    # Upload: the result, its pictures and players appear.
    _upload(page, NOISY)
    _wait_for_result(page, "p257_089_noisy.flac")
    _no_exception(page)
    assert page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').count() == 2
    assert page.locator('audio[data-testid="stAudio"]').count() == 3
    screenshot = tmp_path / "quiet_finished_page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"\nscreenshot: {screenshot}")

    # Download: same rate, channels and length as the input, named after it.
    saved = _download(page, "download_wav", tmp_path)
    assert saved.name == "p257_089_noisy_denoised.wav"
    source, result = sf.info(str(NOISY)), sf.info(str(saved))
    assert (result.samplerate, result.channels, result.frames) == (source.samplerate, source.channels, source.frames)
    assert result.subtype == "PCM_16"
    flac = _download(page, "download_flac", tmp_path)
    assert flac.name == "p257_089_noisy_denoised.flac"
    assert sf.info(str(flac)).frames == source.frames

    # Record about 3 s from the (fake) microphone: it is cleaned and can be downloaded.
    recorder = page.locator('[data-testid="stAudioInput"] [data-testid="stAudioInputActionButton"]')
    page.locator('[data-testid="stAudioInput"] button[aria-label="Record"]').click()
    page.wait_for_timeout(3_000)
    page.locator('[data-testid="stAudioInput"] button[aria-label="Stop recording"]').click()
    assert recorder.count() >= 1
    _wait_for_result(page, "recording.wav")
    _no_exception(page)
    recording = _download(page, "download_wav", tmp_path)
    assert recording.name == "recording_denoised.wav"
    info = sf.info(str(recording))
    assert (info.channels, info.subtype) == (1, "PCM_16")
    assert 2.0 < info.duration < 5.0
    cleaned, _ = sf.read(str(recording))
    assert np.abs(cleaned).max() > 0.01  # the speech is there, not gated away

    # A text file renamed .wav: one plain message, no traceback, page still usable.
    notes = tmp_path / "notes.wav"
    notes.write_text("shopping list: eggs, milk, bread\n" * 50)
    _upload(page, notes)
    alert = page.locator('[data-testid="stAlert"]', has_text="could not be opened as audio")
    alert.wait_for(timeout=RESULT_TIMEOUT_MS)
    assert "notes.wav" in alert.inner_text()
    _no_exception(page)
    page.screenshot(path=str(tmp_path / "quiet_bad_file.png"), full_page=True)


def _tiled_wav(source: Path, seconds: float, target: Path) -> Path:
    y, sr = sf.read(str(source), dtype="float32")
    reps = int(np.ceil(seconds * sr / len(y)))
    sf.write(str(target), np.tile(y, reps)[: int(seconds * sr)], sr, subtype="PCM_16")
    return target


def _move_threshold_and_wait(page, timeout_ms: int = RESULT_TIMEOUT_MS) -> float:
    """Press the threshold slider one step; seconds until the new result is drawn."""
    before = _cleaned_src(page)
    slider = page.locator('.st-key-threshold_db input[type="range"]')
    slider.focus()
    start = time.perf_counter()
    slider.press("ArrowRight")
    page.wait_for_function(
        """(before) => {
            const players = document.querySelectorAll('audio[data-testid="stAudio"]');
            return players.length === 3 && players[1].getAttribute('src') !== before
                && document.querySelectorAll('.heatmaplayer image').length === 2
                && document.querySelectorAll('[data-stale="true"]').length === 0
                && document.querySelectorAll('[data-testid="stStatusWidget"]').length === 0;
        }""",
        arg=before,
        timeout=timeout_ms,
    )
    return time.perf_counter() - start


def test_timings_for_a_sixty_second_file(page, tmp_path):
    sixty = _tiled_wav(NOISY, 60.0, tmp_path / "sixty_seconds.wav")
    start = time.perf_counter()
    _upload(page, sixty)
    _wait_for_result(page, "sixty_seconds.wav")
    upload_to_result = time.perf_counter() - start
    _no_exception(page)

    slider_to_result = _move_threshold_and_wait(page)
    _no_exception(page)
    processing = page.locator('[data-testid="stMetric"]', has_text="Processing time").inner_text()
    print(
        f"\n60-second file: upload to finished result {upload_to_result:.2f} s; "
        f"slider change to updated result {slider_to_result:.2f} s "
        f"(cleaning on the server: {processing.splitlines()[-1]}; the rest is sending and redrawing the page)"
    )
    assert upload_to_result < 120
    assert slider_to_result < 60


def _peak_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def test_the_server_refuses_files_above_its_upload_limit_and_says_the_limit(browser, tmp_path):
    """``server.maxUploadSize`` (here 1 MB) is enforced before the app sees the file, with the limit named."""
    big = _tiled_wav(NOISY, 15.0, tmp_path / "too_big.wav")  # 1.4 MB
    with _serve(tmp_path, "--server.maxUploadSize", "1") as (url, _), _open_page(browser, url) as page:
        _upload(page, big)
        message = page.get_by_text("or smaller")
        message.wait_for(timeout=30_000)
        assert "1.0MB" in message.inner_text().replace(" ", "")
        assert page.locator('audio[data-testid="stAudio"]').count() == 0
        _no_exception(page)


@pytest.mark.skipif(
    not os.environ.get("QUIET_MEASURE_MINUTES"), reason="set QUIET_MEASURE_MINUTES=30 to measure a long file (minutes)"
)
def test_memory_and_timings_for_a_long_file(browser, tmp_path):
    """Peak memory of the server (VmHWM) and times for upload -> result -> one slider move (run with -s)."""
    minutes = float(os.environ["QUIET_MEASURE_MINUTES"])
    long_file = _tiled_wav(NOISY, minutes * 60, tmp_path / "long_take.wav")
    with _serve(tmp_path) as (url, proc), _open_page(browser, url) as page:
        page.set_default_timeout(1_200_000)
        start = time.perf_counter()
        _upload(page, long_file)
        _wait_for_result(page, "long_take.wav", timeout_ms=1_200_000)
        upload_s, upload_peak = time.perf_counter() - start, _peak_mb(proc.pid)
        _no_exception(page)
        slider_s = _move_threshold_and_wait(page, timeout_ms=1_200_000)
        slider_peak = _peak_mb(proc.pid)
        _no_exception(page)
    print(
        f"\n{minutes:g}-minute 48 kHz mono WAV: upload to result {upload_s:.1f} s (peak {upload_peak:.0f} MB), "
        f"slider change to result {slider_s:.1f} s (peak {slider_peak:.0f} MB)"
    )
    assert slider_peak < 2000
