"""Many visitors at once on one server: time to result and to download, cleanings and peak memory.

Run by hand (needs Playwright and Debian's Chromium, like the browser test)::

    python bench/load.py                                  # this checkout: 1, 3, 5 visitors; 2 and 10 minutes
    python bench/load.py --app /tmp/base --label baseline # another checkout of the app, e.g.
                                                          #   git worktree add --detach /tmp/base 75dd943

For each file length and number of visitors a fresh server is started on
127.0.0.1 (``tests/counting_server.py``, so cleanings are counted for any
version of the app) and that many browser contexts upload *different* files
(48 kHz mono 16-bit WAV tiled from ``tests/data``) at the same moment. Once
each page shows its result, each visitor flips the log-frequency switch
(display only) and then downloads the WAV, one visitor after another. A
visitor told that the server is busy tries again once (the same
page, key R) once the others have their results; their time counts from the upload.

Columns: per-visitor seconds from upload to result and from click to the
download being sent; cleanings run (two per visitor are needed: the page's
preview of a stretch, then the whole recording for the download);
visitors told "busy" at first; the server's peak resident memory (VmHWM) and
the budget it is given (``QUIET_MEMORY_MB``; an app without a budget ignores it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))
from visitors import Visitor, chromium, serve, tiled_wav, wait_all  # noqa: E402

NOISY = REPO_ROOT / "tests" / "data" / "p257_089_noisy.flac"


def _times(values) -> str:
    return " ".join("-" if v is None else f"{v:.1f}" for v in values)


def run(app: Path, minutes: float, n: int, budget_mb: float, folder: Path, browser) -> dict:
    files = [tiled_wav(NOISY, minutes * 60, folder / f"take_{minutes:g}min_{i}.wav", variant=i) for i in range(n)]
    with serve(app, folder / f"server_{minutes:g}_{n}.log", env={"QUIET_MEMORY_MB": f"{budget_mb:g}"}) as server:
        people = [Visitor(browser, server.url, timeout_ms=1_800_000) for _ in range(n)]
        try:
            for person, path in zip(people, files, strict=False):
                person.upload(path)
            results = wait_all(people, timeout_s=1800)
            busy = [i for i, person in enumerate(people) if person.problem]
            for i in busy:  # "try again in a minute": the same page runs again (key R), time counted from the upload
                people[i].rerun()
                (results[i],) = wait_all([people[i]], timeout_s=1800)
            for person in people:
                if person.problem is None:
                    person.switch_log_frequency()
            downloads = [person.download(folder)[1] if person.problem is None else None for person in people]
        finally:
            for person in people:
                person.close()
        time.sleep(1.0)
        return {
            "minutes": minutes,
            "visitors": n,
            "result": results,
            "download": downloads,
            "cleanings": server.cleanings(),
            "busy": len(busy),
            "peak": server.peak_mb(),
            "budget": budget_mb,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=REPO_ROOT, help="checkout of the app to serve")
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--visitors", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--minutes", type=float, nargs="+", default=[2.0, 10.0])
    parser.add_argument("--budget-mb", type=float, default=690.0, help="QUIET_MEMORY_MB given to the server")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, chromium() as browser:
        for minutes in args.minutes:
            for n in args.visitors:
                row = run(args.app.resolve(), minutes, n, args.budget_mb, Path(tmp), browser)
                rows.append(row)
                print(f"  done: {minutes:g} min x {n}: {row}", file=sys.stderr, flush=True)
    print(f"\n{args.label} ({args.app}), 48 kHz mono 16-bit WAV, each visitor a different file")
    header = "| minutes | visitors | upload to result, s (each) | download, s (each) | cleanings | busy at first | peak MB | budget MB |"
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))
    for r in rows:
        print(
            f"| {r['minutes']:g} | {r['visitors']} | {_times(r['result'])} | {_times(r['download'])} | "
            f"{r['cleanings']} (of {2 * r['visitors']} needed) | {r['busy']} | {r['peak']:.0f} | {r['budget']:g} |"
        )


if __name__ == "__main__":
    main()
