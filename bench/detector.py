"""Detector benchmark: load time, per-image latency, throughput, peak memory; prints JSON.

    .venv/bin/python bench/detector.py                     # ../shared/eval, else bot/samples
    .venv/bin/python bench/detector.py --images DIR --repeat 2 --limit 40

Images: every *.jpg under ../shared/eval (the calibration set: real camera-trap frames from 360x230
up to 20 MP), or bot/samples/*.jpg when that folder is absent. Latency is the full `detect(bytes)`
call the bot makes (decode with JPEG draft scaling, EXIF rotation, multi-window batch, CAM box).

Headline figures ("threads_2") come from one 2-thread session running alone: the bot's setup on
a 2-core machine (one detector, one executor worker). Knobs compared in the same run, same images:
- intra-op threads 2 vs 1, timed image by image in alternating order (so load drift from other jobs
  on a shared machine hits both alike): latency and throughput ratios;
- two concurrent single-thread sessions (what an album burst could use) vs one 2-thread session;
- decode share: `open_image` alone, to see how much of the latency is JPEG decoding.

Peak RSS is resource.getrusage(RUSAGE_SELF).ru_maxrss, a high-water mark for the whole process:
"after_one_session_run" is what the bot needs; later phases hold three sessions and only raise it.
The 1-minute load average before the run is reported: well above 0 means other jobs competed for
the cores (a 2-thread session suffers most), so rerun on a quiet machine. Nothing here asserts a
time: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # allow `python bench/detector.py` without installing
    sys.path.insert(0, str(REPO))

import onnxruntime as ort  # noqa: E402
from PIL import Image  # noqa: E402

from bot.detector import DEFAULT_MODEL, OnnxLeopardDetector  # noqa: E402
from bot.images import open_image  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"
SAMPLES = REPO / "bot" / "samples"
LARGE_PIXELS = 3_000_000


def peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return round(rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024, 1)


def find_images(folder: Path | None) -> tuple[Path, list[Path]]:
    if folder is not None:
        return folder, sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    if EVAL.is_dir():
        found = sorted(EVAL.rglob("*.jpg"))
        if found:
            return EVAL, found
    return SAMPLES, sorted(SAMPLES.glob("*.jpg"))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(ms: list[float], wall_s: float) -> dict[str, float]:
    """Latency figures; throughput = images / wall_s (back-to-back calls: sum of their times)."""
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
        "throughput_img_s": round(len(ms) / wall_s, 2),
    }


def time_sequential(
    detector: OnnxLeopardDetector, blobs: list[bytes], repeat: int
) -> tuple[list[float], float]:
    ms: list[float] = []
    started = time.perf_counter()
    for _ in range(repeat):
        for data in blobs:
            t0 = time.perf_counter()
            detector.detect(data)
            ms.append((time.perf_counter() - t0) * 1000)
    return ms, time.perf_counter() - started


def time_interleaved(
    detectors: list[OnnxLeopardDetector], blobs: list[bytes], repeat: int
) -> list[list[float]]:
    """Per-call latency for each detector, image by image in alternating order.

    Interleaving keeps a slow drift in machine load (other jobs on a shared box) from landing on
    one configuration only, so the ratios stay meaningful even when absolute times wobble.
    """
    ms: list[list[float]] = [[] for _ in detectors]
    k = 0
    for _ in range(repeat):
        for data in blobs:
            order = range(len(detectors)) if k % 2 == 0 else reversed(range(len(detectors)))
            for i in order:
                t0 = time.perf_counter()
                detectors[i].detect(data)
                ms[i].append((time.perf_counter() - t0) * 1000)
            k += 1
    return ms


def time_concurrent(
    detectors: list[OnnxLeopardDetector], blobs: list[bytes], repeat: int
) -> tuple[list[float], float]:
    """Each worker owns one session and takes every len(detectors)-th image."""
    jobs = [d for _ in range(repeat) for d in blobs]

    def work(k: int) -> list[float]:
        out = []
        for data in jobs[k :: len(detectors)]:
            t0 = time.perf_counter()
            detectors[k].detect(data)
            out.append((time.perf_counter() - t0) * 1000)
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(detectors)) as pool:
        parts = list(pool.map(work, range(len(detectors))))
    return [m for part in parts for m in part], time.perf_counter() - started


def load(threads: int) -> tuple[OnnxLeopardDetector, float]:
    t0 = time.perf_counter()
    det = OnnxLeopardDetector(threads=threads)
    return det, (time.perf_counter() - t0) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=Path, default=None, help="folder of JPEGs (default ../shared/eval)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N images (0 = all)")
    ap.add_argument("--repeat", type=int, default=1, help="passes over the images per configuration")
    args = ap.parse_args(argv)

    source, paths = find_images(args.images)
    if args.limit:
        paths = paths[: args.limit]
    if not paths:
        print(f"bench: no images in {source}", file=sys.stderr)
        return 2
    blobs = [p.read_bytes() for p in paths]
    sizes = []
    for data in blobs:  # header only: decoding here would raise the RSS high-water mark
        with Image.open(io.BytesIO(data)) as im:
            sizes.append(im.width * im.height)
    rss_before = peak_rss_mb()

    load_before = os.getloadavg()[0]
    det2, load_ms = load(threads=2)
    rss_loaded = peak_rss_mb()
    t0 = time.perf_counter()
    det2.detect(blobs[0])
    first_ms = (time.perf_counter() - t0) * 1000

    # A: the bot's configuration alone (one 2-thread session): headline latency, throughput, RSS.
    ms2, wall2 = time_sequential(det2, blobs, args.repeat)
    rss_one_session = peak_rss_mb()
    large = [m for m, px in zip(ms2, sizes * args.repeat, strict=True) if px >= LARGE_PIXELS]
    small = [m for m, px in zip(ms2, sizes * args.repeat, strict=True) if px < LARGE_PIXELS]

    # B: threads 2 vs 1, interleaved image by image so that load drift hits both alike.
    det1, load1_ms = load(threads=1)
    det1.detect(blobs[0])
    ms2b, ms1 = time_interleaved([det2, det1], blobs, args.repeat)

    # C: two single-thread sessions working concurrently.
    det1b, _ = load(threads=1)
    det1b.detect(blobs[0])
    msc, wallc = time_concurrent([det1, det1b], blobs, args.repeat)

    decode_ms = []
    for data in blobs:
        t0 = time.perf_counter()
        open_image(data, max_side=1040)  # what detect() does: INPUT_SIZE * 4
        decode_ms.append((time.perf_counter() - t0) * 1000)

    s2, sc = summary(ms2, wall2), summary(msc, wallc)
    s2b, s1 = summary(ms2b, sum(ms2b) / 1000), summary(ms1, sum(ms1) / 1000)
    report = {
        "images": {
            "source": str(source),
            "count": len(blobs),
            "repeat": args.repeat,
            "megapixels_median": round(statistics.median(sizes) / 1e6, 2),
            "megapixels_max": round(max(sizes) / 1e6, 2),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "onnxruntime": ort.__version__,
            "model_mb": round(DEFAULT_MODEL.stat().st_size / 1e6, 1),
            # 1-minute load average just before the run: well above 0 means other jobs competed.
            "loadavg_1min_before": round(load_before, 2),
        },
        "load_ms": round(load_ms, 1),
        "first_call_ms": round(first_ms, 1),
        "threads_2": s2
        | {
            "median_ms_large": round(statistics.median(large), 1) if large else None,
            "median_ms_small": round(statistics.median(small), 1) if small else None,
            "large_means_at_least_mp": LARGE_PIXELS / 1e6,
        },
        "peak_rss_mb": {
            "before_model": rss_before,
            "after_load": rss_loaded,
            "after_one_session_run": rss_one_session,
            "end_of_run": peak_rss_mb(),
        },
        "knobs": {
            "interleaved_threads_2": s2b,
            "interleaved_threads_1": s1 | {"load_ms": round(load1_ms, 1)},
            "two_workers_x_1_thread": sc,
            "median_latency_ratio_1_vs_2_threads": round(s1["median_ms"] / s2b["median_ms"], 2),
            "throughput_ratio_2_vs_1_threads": round(s2b["throughput_img_s"] / s1["throughput_img_s"], 2),
            "throughput_ratio_2_workers_vs_2_threads": round(
                sc["throughput_img_s"] / s2["throughput_img_s"], 2
            ),
            "decode_median_ms": round(statistics.median(decode_ms), 1),
            "decode_p95_ms": round(percentile(decode_ms, 95), 1),
            "decode_max_ms": round(max(decode_ms), 1),
            "decode_share_of_median": round(statistics.median(decode_ms) / s2["median_ms"], 2),
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
