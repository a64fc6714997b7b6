"""Detector benchmark: fp32 and INT8 side by side, one and two workers, where the time goes; prints JSON.

    .venv/bin/python bench/detector.py                     # ../shared/eval, else bot/samples
    .venv/bin/python bench/detector.py --images DIR --rounds 2 --big 5

Images: every *.jpg under ../shared/eval (real camera-trap frames from 360x230 up to 20 MP), or
bot/samples when that folder is absent, plus `--big` progressive re-encodings of the largest ones
(reported apart: progressive files must be entropy-decoded in full whatever the scale, so they are
the slow tail). Latency is the full `detect(bytes)` call the bot makes.

Every configuration runs in its own spawned process, so each has its own peak RSS (ru_maxrss, the
process's high-water mark) and nothing one loads inflates another's figure:
- per precision, one worker with 2 intra-op threads (the bot's setup on 2 cores) and two workers with
  1 thread each running at once (`import --workers 2`): median and p95 latency, photos/s, peak RSS;
- the split per photo: time inside session.run ("model") and everything else ("outside": decoding,
  windows, crops, softmax, the box), and decoding alone;
- per precision, seconds per crop at 1, 2, 4 and 8 crops per session.run (RUN_BATCH's evidence).
Configurations run in rounds in alternating order (fp32 first, then INT8 first) so that load drift
from other jobs on a shared machine hits both alike; quote the ratios, which are measured within one
run. The 1-minute load average before and after is reported. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # allow `python bench/detector.py` without installing
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from PIL import Image  # noqa: E402

from bot.detection.model import DEFAULT_MODEL, INT8_MODEL, OnnxLeopardDetector  # noqa: E402
from bot.detection.prep import batch, decode, windows  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"
SAMPLES = REPO / "bot" / "samples"
PRECISIONS = ("fp32", "int8")


def peak_rss_mb() -> float:
    """This process's peak RSS. On Linux VmHWM: ru_maxrss of a spawned child starts at its parent's
    RSS at fork time (exec keeps the high-water mark), which would credit the parent's photos to it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024, 1)  # macOS: bytes


def find_images(folder: Path | None) -> tuple[Path, list[Path]]:
    if folder is not None:
        return folder, sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    if EVAL.is_dir() and (found := sorted(EVAL.rglob("*.jpg"))):
        return EVAL, found
    return SAMPLES, sorted(SAMPLES.glob("*.jpg"))


def progressive_copies(blobs: list[bytes], n: int) -> list[bytes]:
    """The n largest images re-encoded as progressive JPEGs (quality 90)."""
    sized = sorted(blobs, key=lambda d: -_pixels(d))[:n]
    out = []
    for data in sized:
        buf = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").save(buf, "JPEG", quality=90, progressive=True)
        out.append(buf.getvalue())
    return out


def _pixels(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as im:  # header only
        return im.width * im.height


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def stats(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "p95": round(percentile(values, 95), 1),
        "max": round(max(values), 1),
    }


def _worker(precision: str, threads: int, blobs: list[bytes], barrier: Any, out: Any) -> None:
    """One configuration's process: load, wait for the others, detect every blob, report."""
    t0 = time.perf_counter()
    det = OnnxLeopardDetector(threads=threads, precision=precision)
    load_ms = (time.perf_counter() - t0) * 1000
    rss_loaded = peak_rss_mb()
    det.detect(blobs[0])  # first call allocates the arenas
    barrier.wait()
    rows = []
    started = time.perf_counter()
    for data in blobs:
        d = det.detect(data)
        rows.append((d.ms, d.extra["model_ms"], d.extra["decode_ms"]))
    wall = time.perf_counter() - started
    rss = {"rss_loaded": rss_loaded, "rss_peak": peak_rss_mb()}
    out.put({"rows": rows, "wall_s": wall, "load_ms": load_ms, **rss})


def run_config(precision: str, workers: int, threads: int, blobs: list[bytes]) -> dict[str, Any]:
    """`workers` processes share the blobs (every workers-th each) and start together."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(precision, threads, blobs[k::workers], barrier, out))
        for k in range(workers)
    ]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    rows = [r for res in results for r in res["rows"]]
    return {
        "rows": rows,
        "photos_per_s": len(rows) / max(res["wall_s"] for res in results),
        "load_ms": statistics.median(res["load_ms"] for res in results),
        "rss_after_load_mb": max(res["rss_loaded"] for res in results),
        "rss_peak_per_worker_mb": max(res["rss_peak"] for res in results),
    }


def _batch_worker(precision: str, blobs: list[bytes], out: Any) -> None:
    det = OnnxLeopardDetector(threads=2, precision=precision)
    crops = []
    for data in blobs:
        image, _ = decode(data)
        crops.append(batch(image, windows(*image.size)))
    x = np.concatenate(crops)[:64]
    sizes = (1, 2, 4, 8)
    times: dict[int, list[float]] = {size: [] for size in sizes}
    for size in sizes:
        det.session.run(None, {"image": x[:size]})  # the arena grows to each size once, untimed
    for rep in range(6):  # alternating order: drift from other jobs hits every size alike
        for size in sizes if rep % 2 == 0 else sizes[::-1]:
            t0 = time.perf_counter()
            for i in range(0, len(x) - size + 1, size):
                det.session.run(None, {"image": x[i : i + size]})
            times[size].append((time.perf_counter() - t0) * 1000 / (len(x) // size * size))
    out.put({str(size): round(statistics.median(ts), 2) for size, ts in times.items()})


def batch_sizes(precision: str, blobs: list[bytes]) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    p = ctx.Process(target=_batch_worker, args=(precision, blobs, out))
    p.start()
    result: dict[str, float] = out.get()
    p.join()
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for run in runs for r in run["rows"]]
    total = [r[0] for r in rows]
    model = [r[1] for r in rows]
    outside = [r[0] - r[1] for r in rows]
    return {
        "photos": len(rows),
        "latency_ms": stats(total),
        "model_ms": stats(model),
        "outside_model_ms": stats(outside),
        "decode_ms": stats([r[2] for r in rows]),
        "photos_per_s": round(statistics.fmean(run["photos_per_s"] for run in runs), 2),
        "load_ms": round(statistics.median(run["load_ms"] for run in runs), 1),
        "rss_after_load_mb": max(run["rss_after_load_mb"] for run in runs),
        "rss_peak_per_worker_mb": max(run["rss_peak_per_worker_mb"] for run in runs),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=Path, default=None, help="folder of JPEGs (default ../shared/eval)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N images (0 = all)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds over all configurations (order alternates)")
    ap.add_argument("--big", type=int, default=5, help="progressive re-encodings of the N largest images")
    args = ap.parse_args(argv)

    source, paths = find_images(args.images)
    paths = paths[: args.limit] if args.limit else paths
    if not paths:
        print(f"bench: no images in {source}", file=sys.stderr)
        return 2
    blobs = [p.read_bytes() for p in paths]
    big = progressive_copies(blobs, args.big)
    sizes = [_pixels(d) for d in blobs]
    load_before = os.getloadavg()[0]

    configs = [(prec, workers, 2 // workers) for prec in PRECISIONS for workers in (1, 2)]
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {(p, w): [] for p, w, _ in configs}
    big_runs: dict[str, list[dict[str, Any]]] = {p: [] for p in PRECISIONS}
    for r in range(args.rounds):
        for prec, workers, threads in configs if r % 2 == 0 else configs[::-1]:
            runs[(prec, workers)].append(run_config(prec, workers, threads, blobs))
        for prec in PRECISIONS if r % 2 == 0 else PRECISIONS[::-1]:
            if big:
                big_runs[prec].append(run_config(prec, 1, 2, big))
    batches = {prec: batch_sizes(prec, blobs[:20]) for prec in PRECISIONS}

    result: dict[str, Any] = {p: {} for p in PRECISIONS}
    for (prec, workers), rs in runs.items():
        key = "one_worker_2_threads" if workers == 1 else "two_workers_1_thread_each"
        result[prec][key] = summarise(rs)
    for prec, rs in big_runs.items():
        if rs:
            result[prec]["big_progressive_one_worker"] = summarise(rs)
    f1, i1 = result["fp32"]["one_worker_2_threads"], result["int8"]["one_worker_2_threads"]
    f2, i2 = result["fp32"]["two_workers_1_thread_each"], result["int8"]["two_workers_1_thread_each"]
    report = {
        "images": {
            "source": str(source),
            "count": len(blobs),
            "megapixels_median": round(statistics.median(sizes) / 1e6, 2),
            "megapixels_max": round(max(sizes) / 1e6, 2),
            "big_progressive": len(big),
            "rounds": args.rounds,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "onnxruntime": ort.__version__,
            "model_mb": {"fp32": _mb(DEFAULT_MODEL), "int8": _mb(INT8_MODEL)},
            "loadavg_1min_before": round(load_before, 2),
            "loadavg_1min_after": round(os.getloadavg()[0], 2),
        },
        **result,
        "seconds_per_crop_ms_by_batch": batches,
        "ratios": {
            "int8_vs_fp32_median_latency": round(i1["latency_ms"]["median"] / f1["latency_ms"]["median"], 2),
            "int8_vs_fp32_p95_latency": round(i1["latency_ms"]["p95"] / f1["latency_ms"]["p95"], 2),
            "int8_vs_fp32_model_median": round(i1["model_ms"]["median"] / f1["model_ms"]["median"], 2),
            "int8_vs_fp32_photos_per_s_one_worker": round(i1["photos_per_s"] / f1["photos_per_s"], 2),
            "int8_vs_fp32_photos_per_s_two_workers": round(i2["photos_per_s"] / f2["photos_per_s"], 2),
            "two_workers_vs_one_photos_per_s_fp32": round(f2["photos_per_s"] / f1["photos_per_s"], 2),
            "two_workers_vs_one_photos_per_s_int8": round(i2["photos_per_s"] / i1["photos_per_s"], 2),
            "outside_share_of_median_int8": round(
                i1["outside_model_ms"]["median"] / i1["latency_ms"]["median"], 2
            ),
        },
    }
    print(json.dumps(report, indent=2))
    return 0


def _mb(path: Path) -> float:
    return round(path.stat().st_size / 1e6, 1)


if __name__ == "__main__":
    sys.exit(main())
