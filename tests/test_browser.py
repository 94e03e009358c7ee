"""The whole app in a real browser: upload, listen, download, record, bad file, drag the noise
sample on the waveform, the sidebar on a desktop and a phone, an MP3 back as MP3, a phone's M4A back
as M4A and an MP4 video back as MP4; plus timings on 1- and 10-minute files.

Starts ``streamlit run app.py`` on a free port and drives Debian's Chromium
with Playwright (never a downloaded browser). Skips when Chromium is missing,
unless ``QUIET_REQUIRE_BROWSER=1`` (set by CI), in which case it fails.
Run with ``-s`` to see the measured timings.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from visitors import serve

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
DATA = Path(__file__).resolve().parent / "data"
NOISY = DATA / "p257_089_noisy.flac"
SPEECH_16K = DATA / "speech_16k.wav"
CHROMIUM = Path("/usr/bin/chromium")
#: Where the browser tests save the screenshots a person looks at (desktop and phone).
SHOTS = Path(os.environ.get("QUIET_SHOTS", "/tmp/quiet-shots"))
REQUIRED = os.environ.get("QUIET_REQUIRE_BROWSER") == "1"

RESULT_TIMEOUT_MS = 180_000


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"QUIET_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def _serve(log_dir: Path, *options: str):
    """The app served on a free loopback port with extra ``options`` (:func:`visitors.serve`); yields (URL, process).

    The pages tested here hold 10-minute stereo files: a host with 2 GB (the budget on the
    smallest instance, which admits 12 minutes of mono, is tested in test_load.py).
    """
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (install Debian's chromium package)")
    budget = {"QUIET_MEMORY_MB": os.environ.get("QUIET_MEMORY_MB", "2048")}
    with serve(ROOT, log_dir / "streamlit.log", env=budget, options=options) as running:
        yield running.url, running.proc


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
    """A fresh session of the app, ready for input (the voice engine, the default)."""
    with _open_page(browser, server) as page:
        yield page


@pytest.fixture
def classic_page(browser, server):
    """A fresh session with the classic engine chosen through the URL: its threshold, smoothing and timings."""
    with _open_page(browser, server + "?engine=classic") as page:
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


#: True once the cleaned player's source differs from ``before`` and the page is idle (script over, nothing stale).
_NEW_RESULT = """(before) => {
    const players = document.querySelectorAll('audio[data-testid="stAudio"]');
    return players.length === 3 && players[1].getAttribute('src') !== before
        && document.querySelectorAll('.heatmaplayer image').length === 2
        && document.querySelectorAll('[data-stale="true"]').length === 0
        && document.querySelectorAll('[data-testid="stStatusWidget"]').length === 0;
}"""


def _download(page, key: str, folder: Path) -> Path:
    with page.expect_download(timeout=RESULT_TIMEOUT_MS) as info:
        # The first visible one: Streamlit also renders a hidden copy of a button that has help text.
        page.locator(f'.st-key-{key} [data-testid="stDownloadButton"] button:visible').first.click()
    download = info.value
    target = folder / download.suggested_filename
    download.save_as(target)
    return target


def _first_download_label(page) -> str:
    """Text of the first (highlighted) download button, without its icon's name."""
    return page.locator('[data-testid="stDownloadButton"] button:visible').first.inner_text().splitlines()[-1]


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_upload_listen_download_record_and_bad_file(page, tmp_path):
    # Upload: the result, its pictures and players appear.
    _upload(page, NOISY)
    _wait_for_result(page, "p257_089_noisy.flac")
    _no_exception(page)
    assert page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').count() == 1  # a short file: no overview strip
    assert page.locator('audio[data-testid="stAudio"]').count() == 3
    screenshot = tmp_path / "quiet_finished_page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"\nscreenshot: {screenshot}")

    # Download: the input's own format first; same rate, channels and length as the input, named after it.
    assert _first_download_label(page).startswith("FLAC 16-bit · ")
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


#: True once the cleaned player's source differs from ``before``: the new result can be heard.
_HEARD = """(before) => {
    const players = document.querySelectorAll('audio[data-testid="stAudio"]');
    return players.length === 3 && players[1].getAttribute('src') !== before;
}"""


def _press_reduction(page, timeout_ms: int = RESULT_TIMEOUT_MS, key: str = "ArrowRight") -> tuple[float, float]:
    """Press "Noise reduction" one step with ``key`` (the slider beside the players; "ArrowLeft" from its top).

    Returns the seconds until the cleaned player plays the new result, and until the page is idle
    with its pictures drawn.
    """
    before = _cleaned_src(page)
    slider = page.locator('.st-key-reduction_db input[type="range"]')
    slider.focus()
    start = time.perf_counter()
    slider.press(key)
    page.wait_for_function(_HEARD, arg=before, timeout=timeout_ms)
    heard = time.perf_counter() - start
    page.wait_for_function(_NEW_RESULT, arg=before, timeout=timeout_ms)
    return heard, time.perf_counter() - start


def _stereo_wav(seconds: float, target: Path) -> Path:
    """``seconds`` of 44.1 kHz stereo 16-bit WAV tiled from the noisy test clip."""
    y, sr = sf.read(str(NOISY), dtype="float32")
    y = np.interp(np.arange(int(len(y) * 44_100 / sr)) * sr / 44_100, np.arange(len(y)), y).astype(np.float32)
    stereo = np.stack([y, 0.8 * np.roll(y, 100)], axis=1)
    n = int(seconds * 44_100)
    sf.write(str(target), np.tile(stereo, (-(-n // len(stereo)), 1))[:n], 44_100, subtype="PCM_16")
    return target


def _timings(page, path: Path, presses: int = 3):
    """Upload ``path``; seconds from upload to the first result, and from each press of "Noise reduction" to its preview."""
    start = time.perf_counter()
    _upload(page, path)
    _wait_for_result(page, path.name)
    upload_s = time.perf_counter() - start
    _no_exception(page)
    presses_s = [_press_reduction(page)[1] for _ in range(presses)]
    _no_exception(page)
    return upload_s, presses_s


def test_timings_for_a_one_minute_file(classic_page, tmp_path):
    upload_s, presses_s = _timings(classic_page, _stereo_wav(60.0, tmp_path / "one_minute.wav"))
    print(
        f"\n1-minute 44.1 kHz stereo WAV: upload to first result {upload_s:.2f} s; "
        f"'Noise reduction' to new preview {', '.join(f'{t:.2f}' for t in presses_s)} s"
    )
    assert upload_s < 60
    assert min(presses_s) < 5.0  # measured and printed; the 2 s requirement is checked on the 10-minute file


def test_a_change_is_heard_within_two_seconds_on_a_ten_minute_stereo_file(classic_page, tmp_path):
    page = classic_page
    upload_s, presses_s = _timings(page, _stereo_wav(600.0, tmp_path / "ten_minutes.wav"))
    verdict = page.locator('[data-testid="stAlert"]', has_text="quieter").inner_text()
    print(
        f"\n10-minute 44.1 kHz stereo WAV: upload to first result {upload_s:.2f} s; "
        f"'Noise reduction' to new preview {', '.join(f'{t:.2f}' for t in presses_s)} s ({verdict.strip()})"
    )
    assert "in the preview" in verdict  # a stretch, not the whole recording
    assert page.locator('[data-testid="stButton"] button', has_text="Prepare the download").count() >= 1
    assert upload_s < 120
    # The requirement. The quickest of three: what the page does; the others show what a busy
    # machine (2 cores shared with other jobs) adds.
    assert min(presses_s) < 2.0
    # A drag across 300 to 310 s on the overview strip previews that part (10.2 s stretch, centred).
    before = _cleaned_src(page)
    (x0, y), (x1, _) = _plot_x_to_page(page, 300.0, chart="overview"), _plot_x_to_page(page, 310.0, chart="overview")
    _drag(page, x0, x1, y)
    page.wait_for_function(_NEW_RESULT, arg=before, timeout=RESULT_TIMEOUT_MS)
    verdict = page.locator('[data-testid="stAlert"]', has_text="quieter").inner_text()
    start, stop = (float(v) for v in re.search(r"preview \(([\d.]+) to ([\d.]+) s\)", verdict).groups())
    assert start == pytest.approx(299.9, abs=0.2) and stop == pytest.approx(310.1, abs=0.2)


def test_the_voice_engine_on_the_example_and_a_ten_minute_file(browser, server, tmp_path):
    """The voice engine: a change of strength is heard within a second (one network run serves every
    strength), and the downloads work, on the example and on 10 minutes of stereo."""
    with _open_page(browser, server) as page:
        page.locator(".st-key-example button:visible").first.click()
        _wait_for_result(page, "example_noisy_speech.flac")
        _no_exception(page)
        assert page.locator(".st-key-engine input[type='radio']").first.is_checked()  # the default: "Voice" comes first
        presses_s = [_press_reduction(page, key="ArrowLeft")[0] for _ in range(3)]
        example = _download(page, "download_wav", tmp_path)
        y, sr = sf.read(str(example), dtype="float32")
        assert len(y) > sr and np.abs(y).max() > 0.01
        start = time.perf_counter()
        _upload(page, _stereo_wav(600.0, tmp_path / "ten_minutes.wav"))
        _wait_for_result(page, "ten_minutes.wav")
        upload_s = time.perf_counter() - start
        long_presses_s = [_press_reduction(page, key="ArrowLeft")[0] for _ in range(3)]
        page.locator('[data-testid="stButton"] button:visible', has_text="Prepare the download").first.click()
        whole = _download(page, "download_wav", tmp_path)
        _no_exception(page)
    info = sf.info(str(whole))
    assert (info.frames, info.channels, info.samplerate) == (600 * 44_100, 2, 44_100)
    print(
        f"\nvoice engine: example strength changes {', '.join(f'{t:.2f}' for t in presses_s)} s; 10-minute stereo: "
        f"upload to first result {upload_s:.2f} s, strength changes {', '.join(f'{t:.2f}' for t in long_presses_s)} s"
    )
    # The requirement; the quickest of three is what the page does (the machine is shared).
    assert min(presses_s) < 1.0 and min(long_presses_s) < 1.0


def _plot_x_to_page(page, time_s: float, chart: str = "detail"):
    """Page coordinates of ``time_s`` on a chart's top row (its vertical middle): the detail chart or the overview strip."""
    box = page.evaluate(
        """(detail) => {
            const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g.data.some(t => t.type === 'heatmap') === detail);
            const r = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            return {left: r.left + xa._offset, width: xa._length, range: xa.range,
                    y: r.top + ya._offset + ya._length / 2};
        }""",
        chart == "detail",
    )
    (t0, t1) = box["range"]
    return box["left"] + (time_s - t0) / (t1 - t0) * box["width"], box["y"]


def _drag(page, x0: float, x1: float, y: float) -> None:
    """A mouse drag from ``x0`` to ``x1`` at height ``y`` (page pixels), in small steps as a hand would."""
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(0.5 * (x0 + x1), y, steps=5)
    page.mouse.move(x1, y, steps=5)
    page.mouse.up()


def _sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def _settle(page) -> None:
    """Until the script run is over and nothing on the page is stale."""
    page.wait_for_function(
        """() => document.querySelectorAll('[data-stale="true"]').length === 0
            && document.querySelectorAll('[data-testid="stStatusWidget"]').length === 0"""
    )


def test_on_a_desktop_the_sidebar_holds_the_settings_and_a_drag_on_the_waveform_still_sets_the_noise_sample(classic_page):
    page = classic_page
    _upload(page, NOISY)
    _wait_for_result(page, NOISY.name)
    # 1400 px wide: the sidebar is open and holds the noise sample and the threshold; "Noise reduction" is on the page.
    sidebar = _sidebar(page)
    assert sidebar.get_attribute("data-collapsed") == "false"
    box = sidebar.bounding_box()
    assert box["x"] >= 0 and box["width"] >= 250
    for key in ("noise_auto", "noise_start_s", "noise_end_s", "threshold_db", "freq_smooth_hz", "n_fft", "loudness_lufs"):
        assert sidebar.locator(f".st-key-{key}").is_visible(), key
    assert sidebar.locator(".st-key-reduction_db").count() == 0
    assert page.locator('[data-testid="stMain"] .st-key-reduction_db').is_visible()
    # A drag across 1 to 2 s on the waveform sets the noise sample shown in the sidebar.
    before = _cleaned_src(page)
    (x0, y), (x1, _) = _plot_x_to_page(page, 1.0), _plot_x_to_page(page, 2.0)
    _drag(page, x0, x1, y)
    page.wait_for_function(_NEW_RESULT, arg=before, timeout=RESULT_TIMEOUT_MS)
    _no_exception(page)
    start = float(sidebar.locator('.st-key-noise_start_s input').input_value())
    end = float(sidebar.locator('.st-key-noise_end_s input').input_value())
    assert start == pytest.approx(1.0, abs=0.1) and end == pytest.approx(2.0, abs=0.1)
    assert sidebar.locator('.st-key-noise_auto input[type="checkbox"]').is_checked() is False
    # A slider in the sidebar reruns the results fragment (which draws it): a new preview, no error.
    before = _cleaned_src(page)
    threshold = sidebar.locator('.st-key-threshold_db input[type="range"]')
    threshold.focus()
    threshold.press("ArrowRight")
    page.wait_for_function(_NEW_RESULT, arg=before, timeout=RESULT_TIMEOUT_MS)
    _no_exception(page)
    assert "threshold_db=-1.5" in page.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(700, 5)  # no tooltip over the picture
    page.screenshot(path=str(SHOTS / "desktop-1400.png"))
    print(f"\nscreenshot: {SHOTS / 'desktop-1400.png'}")


def test_on_a_phone_the_sidebar_is_folded_and_the_page_says_where_the_settings_are(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(server)
        page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached")
        page.locator(".st-key-example button:visible").first.click()
        _wait_for_result(page, "example_noisy_speech.flac")
        _no_exception(page)
        # Folded away: off the screen, behind the control at the top left.
        sidebar = _sidebar(page)
        assert sidebar.get_attribute("data-collapsed") == "true"
        box = sidebar.bounding_box()
        assert box is None or box["x"] + box["width"] <= 0
        opener = page.locator('[data-testid="stExpandSidebarButton"]')
        assert opener.is_visible()
        opener_box = opener.bounding_box()
        assert opener_box["x"] < 60 and opener_box["y"] < 60
        # The page says in one line where the settings are, beside the preset and "Noise reduction".
        line = page.get_by_text("are in the sidebar", exact=False)
        assert line.count() == 1
        line.scroll_into_view_if_needed()
        assert "noise sample" in line.inner_text() and "threshold" in line.inner_text()
        assert page.locator('[data-testid="stMain"] .st-key-reduction_db').is_visible()
        assert opener.is_visible()  # still there after scrolling: the header stays at the top
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "phone-390.png"))
        print(f"\nscreenshot: {SHOTS / 'phone-390.png'}")
        # The control opens it, and the settings are there.
        opener.click()
        page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]').dataset.collapsed === 'false'")
        page.wait_for_timeout(500)  # the slide-in animation
        assert sidebar.bounding_box()["x"] >= 0
        assert sidebar.locator(".st-key-threshold_db").is_visible()
        _settle(page)
        _no_exception(page)
    finally:
        context.close()


def test_an_mp3_comes_back_as_an_mp3(page, tmp_path):
    y, sr = sf.read(str(NOISY), dtype="float32")
    mp3 = tmp_path / "interview.mp3"
    sf.write(str(mp3), np.stack([y, y[::-1]], axis=1), sr, format="MP3", subtype="MPEG_LAYER_III")
    _upload(page, mp3)
    _wait_for_result(page, mp3.name)
    _no_exception(page)
    summary = page.locator('[data-testid="stMarkdownContainer"]', has_text="interview.mp3").first.inner_text()
    assert summary.rstrip().endswith("stereo · MP3")  # not "MP3 MP3"
    first = _first_download_label(page)
    assert first.startswith("MP3 · ") and first.endswith("kB")
    saved = _download(page, "download_mp3", tmp_path)
    assert saved.name == "interview_denoised.mp3"
    source, result = sf.info(str(mp3)), sf.info(str(saved))
    assert (result.format, result.samplerate, result.channels) == ("MP3", source.samplerate, source.channels)
    decoded, _ = sf.read(str(saved))
    assert source.frames <= len(decoded) <= source.frames + 2 * 1152  # MP3 pads up to a frame at each end


def _prepare_and_download(page, key: str, folder: Path) -> Path:
    """Press "Prepare the download" where a recording is longer than its preview, then save the download ``key``."""
    prepare = page.locator(".st-key-prepare button:visible")
    if prepare.count():
        prepare.first.click()
    page.locator(f'.st-key-{key} [data-testid="stDownloadButton"] button:visible').first.wait_for(timeout=RESULT_TIMEOUT_MS)
    _settle(page)
    return _download(page, key, folder)


def _speech(seconds: float, sr: int, n_channels: int) -> np.ndarray:
    """``seconds`` of the noisy test clip at ``sr`` (interpolated), ``(n, n_channels)`` float32 (channels shifted)."""
    y, clip_sr = sf.read(str(NOISY), dtype="float32")
    y = np.interp(np.arange(int(len(y) * sr / clip_sr)) * clip_sr / sr, np.arange(len(y)), y).astype(np.float32)
    n = int(seconds * sr)
    y = np.tile(y, -(-n // len(y)))[:n]
    return np.stack([np.roll(y, 100 * c) * (1.0 - 0.2 * c) for c in range(n_channels)], axis=1)


def test_a_one_minute_m4a_comes_back_as_an_m4a(page, tmp_path):
    from media_fixtures import make_audio

    from denoise_core.media import MediaSource

    sound = _speech(60.0, 44_100, 2)
    memo = tmp_path / "voice_memo.m4a"
    memo.write_bytes(make_audio("m4a", "aac", sr=44_100, n_channels=2, n_samples=len(sound), sound=sound))
    _upload(page, memo)
    _wait_for_result(page, memo.name)
    _no_exception(page)
    saved = _prepare_and_download(page, "download_m4a", tmp_path)
    _no_exception(page)
    assert saved.name == "voice_memo_denoised.m4a"
    assert re.match(r"M4A · AAC 1\d\d kb/s · about [\d.]+ MB$", _first_download_label(page))
    given, result = MediaSource(memo), MediaSource(saved)
    assert (result.info.kind, result.info.codec, result.sr, result.n_channels) == ("m4a", "aac", 44_100, 2)
    assert given.n_samples <= result.n_samples <= given.n_samples + 2 * 1024  # AAC pads up to its frames


def test_a_thirty_second_mp4_comes_back_as_an_mp4_with_the_same_picture(page, tmp_path):
    from media_fixtures import make_video, packets

    from denoise_core.media import MediaSource

    video = tmp_path / "talk.mp4"
    sound = _speech(30.0, 48_000, 2)
    video.write_bytes(make_video("mp4", "libx264", "aac", sr=48_000, n_channels=2, seconds=30.0, sound=sound))
    _upload(page, video)
    _wait_for_result(page, video.name)
    _no_exception(page)
    saved = _prepare_and_download(page, "download_mp4", tmp_path)
    assert saved.name == "talk_denoised.mp4"
    assert re.match(r"MP4 video · AAC 1\d\d kb/s · about \d+ kB$", _first_download_label(page))
    assert packets(saved.read_bytes(), "video") == packets(video.read_bytes(), "video")
    wav = _download(page, "download_wav", tmp_path)
    cleaned, sr = sf.read(str(wav), dtype="float32")
    heard = np.concatenate(list(MediaSource(saved).read()))
    assert (sr, heard.shape) == (48_000, cleaned.shape)
    assert np.corrcoef(heard.ravel(), cleaned.ravel())[0, 1] > 0.99
    _no_exception(page)


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
        slider_s = _press_reduction(page, timeout_ms=1_200_000)[1]
        slider_peak = _peak_mb(proc.pid)
        _no_exception(page)
    print(
        f"\n{minutes:g}-minute 48 kHz mono WAV: upload to result {upload_s:.1f} s (peak {upload_peak:.0f} MB), "
        f"slider change to result {slider_s:.1f} s (peak {slider_peak:.0f} MB)"
    )
    assert slider_peak < 2000
