"""Several visitors at once on one real server (loopback only), under the default memory budget.

With the voice engine (the default), three visitors upload different 2-minute files at once and
each downloads their own cleaned file, within the budget. With the classic engine, three visitors upload different 2-minute (16 kHz) files at the same moment; each gets
their own result and download; a display-only switch cleans nothing again;
a short job (the example, cleaned again after a slider move) started while
another visitor's long file is being cleaned returns within twice its time
alone plus a second; and the server's peak resident memory stays under the
budget. The visitors choose the classic engine in the URL: its strength is a new cleaning, which
the short job needs (the voice engine's strength mixes one network run again; its timings are in
test_browser.py). Skips when Chromium or Playwright is missing, unless
``QUIET_REQUIRE_BROWSER=1``. Run with ``-s`` to see the timings.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import visitors
from visitors import Visitor, chromium, serve, tiled_wav, wait_all

from ui import limits

ROOT = Path(__file__).resolve().parent.parent
NOISY = Path(__file__).resolve().parent / "data" / "p257_089_noisy.flac"


@pytest.fixture(scope="module")
def browser():
    if not visitors.CHROMIUM.exists():
        if os.environ.get("QUIET_REQUIRE_BROWSER") == "1":
            pytest.fail(f"QUIET_REQUIRE_BROWSER=1 but {visitors.CHROMIUM} is missing")
        pytest.skip(f"{visitors.CHROMIUM} is missing (install Debian's chromium package)")
    pytest.importorskip("playwright")
    with chromium() as browser:
        yield browser


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _each_their_own(downloads: list[Path], files: list[Path], own_above: float, others_below: float) -> None:
    """Each download is its visitor's file cleaned: same rate and shape, like it and unlike the others' files."""
    inputs = [sf.read(str(path), dtype="float32")[0] for path in files]
    for i, saved in enumerate(downloads):
        cleaned, sr = sf.read(str(saved), dtype="float32")
        assert (sr, cleaned.shape) == (16_000, inputs[i].shape)
        own = _correlation(cleaned, inputs[i])
        others = [_correlation(cleaned, inputs[j]) for j in range(len(files)) if j != i]
        assert own > own_above and max(others) < others_below, (own, others)


def test_three_visitors_at_once_and_a_short_job_beside_a_long_one(browser, tmp_path):
    # 16 kHz, a third of the work of 48 kHz: the test stays short on a busy machine.
    files = [tiled_wav(NOISY, 120.0, tmp_path / f"visitor_{i}.wav", variant=i, every=3) for i in range(3)]
    long_file = tiled_wav(NOISY, 180.0, tmp_path / "long_take.wav", variant=3)
    budget_mb = limits.MEMORY_BUDGET_MB
    with serve(ROOT, tmp_path / "server.log", env={"QUIET_MEMORY_MB": str(budget_mb)}) as server:
        url = server.url + "/?engine=classic"
        people = [Visitor(browser, url) for _ in range(3)]
        try:
            # Three different 2-minute files at once: each cleaned once, side by side.
            for person, path in zip(people, files, strict=False):
                person.upload(path)
            times = wait_all(people, timeout_s=120)
            assert [p.problem for p in people] == [None] * 3
            assert server.cleanings() == 3

            # A display-only switch cleans nothing again, for any of them.
            for person in people:
                person.switch_log_frequency()
            assert all(p.shows_result() for p in people)
            assert server.cleanings() == 3

            # Each one's download is their own cleaned file: the page previewed a stretch, so the
            # whole recording is cleaned once for it, and a second click cleans nothing again.
            downloads = [person.download(tmp_path)[0] for person in people]
            assert server.cleanings() == 6
            people[0].download(tmp_path)
            assert server.cleanings() == 6
            _each_their_own(downloads, files, own_above=0.9, others_below=0.5)
        finally:
            for person in people:
                person.close()

        # The example, alone: loaded, then cleaned again after a slider move (a short job).
        short = Visitor(browser, url)
        long = Visitor(browser, url)
        try:
            short.example()
            wait_all([short], timeout_s=60)
            short.move_strength()
            (alone,) = wait_all([short], timeout_s=60)
            # The same while another visitor's 3-minute 48 kHz file is being cleaned.
            long.upload(long_file)
            wait_all([long], timeout_s=120)  # its preview
            long.page.locator(".st-key-prepare button:visible").first.click()  # the whole 3 minutes
            long.page.wait_for_selector('[data-testid="stProgress"]', timeout=120_000)
            short.move_strength()
            (beside,) = wait_all([short], timeout_s=60)
            long_still_cleaning = long.page.locator('[data-testid="stProgress"]').count() > 0
            long.page.locator('.st-key-download_wav [data-testid="stDownloadButton"]').first.wait_for(timeout=180_000)
            assert short.problem is None and long.problem is None
        finally:
            short.close()
            long.close()
        peak = server.peak_mb()
        cleanings = server.cleanings()

    print(
        f"\nthree 2-minute files at once: results after {', '.join(f'{t:.1f}' for t in times)} s; "
        f"example after a slider move: {alone:.2f} s alone, {beside:.2f} s beside a 3-minute cleaning; "
        f"{cleanings} cleanings; server peak {peak:.0f} MB of {budget_mb:.0f} MB"
    )
    assert long_still_cleaning  # the short job really ran beside the long one
    assert beside <= 2 * alone + 1.0
    # The three previews and three whole files, the example at first and after two moves, the long file's preview and whole.
    assert cleanings == 3 + 3 + 1 + 2 + 2
    assert peak < budget_mb


def test_three_visitors_at_once_with_the_voice_engine_stay_within_the_budget(browser, tmp_path):
    files = [tiled_wav(NOISY, 120.0, tmp_path / f"voice_{i}.wav", variant=i, every=3) for i in range(3)]
    budget_mb = limits.MEMORY_BUDGET_MB
    with serve(ROOT, tmp_path / "server.log", env={"QUIET_MEMORY_MB": str(budget_mb)}) as server:
        people = [Visitor(browser, server.url) for _ in range(3)]
        try:
            for person, path in zip(people, files, strict=True):
                person.upload(path)
            times = wait_all(people, timeout_s=180)
            assert [p.problem for p in people] == [None] * 3
            downloads = [person.download(tmp_path)[0] for person in people]
            assert [p.problem for p in people] == [None] * 3
        finally:
            for person in people:
                person.close()
        peak = server.peak_mb()
    _each_their_own(downloads, files, own_above=0.5, others_below=0.2)  # the voice engine takes much noise away
    print(
        f"\nvoice engine, three 2-minute files at once: results after {', '.join(f'{t:.1f}' for t in times)} s; "
        f"server peak {peak:.0f} MB of {budget_mb:.0f} MB"
    )
    assert peak < budget_mb
