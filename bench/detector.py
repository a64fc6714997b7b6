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
- the split per photo: the animal detector, the classifier on the crops (or windows), everything
  else ("outside": decoding, letterbox, crops, softmax, NMS, the box), and decoding alone;
- today's pipeline (windows only, `animals=False`) per precision, one worker, as the baseline: issue
  24's target is the animal-first pipeline at no more than 1.2x its median under fp32;
- per precision, seconds per crop at 1, 2, 4 and 8 crops per session.run (RUN_BATCH's evidence).
--lever SPEC (repeatable) instead times the speed levers of the animal-first pipeline one at a time, fp32,
one worker: today's windows, the shipped settings and each SPEC (e.g. `size=416`, `crops=2`,
`mirror=0.03` or `mirror=always`, `min_side=32`, `threads=1`; comma-separated to combine), each
with its median, split and ratio to today's windows, in alternating rounds like the full run.
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


def _worker(
    precision: str,
    threads: int,
    blobs: list[bytes],
    barrier: Any,
    out: Any,
    animals: bool,
    options: dict[str, Any],
) -> None:
    """One configuration's process: load, wait for the others, detect every blob, report."""
    t0 = time.perf_counter()
    det = OnnxLeopardDetector(threads=threads, precision=precision, animals=animals, **options)
    load_ms = (time.perf_counter() - t0) * 1000
    rss_loaded = peak_rss_mb()
    det.detect(blobs[0])  # first call allocates the arenas
    barrier.wait()
    rows = []
    started = time.perf_counter()
    for data in blobs:
        d = det.detect(data)
        rows.append(
            (
                d.ms,
                d.extra["model_ms"],
                d.extra["decode_ms"],
                d.extra["animal_ms"],
                d.extra["classifier_ms"],
                d.extra["crops"],
            )
        )
    wall = time.perf_counter() - started
    rss = {"rss_loaded": rss_loaded, "rss_peak": peak_rss_mb()}
    out.put({"rows": rows, "wall_s": wall, "load_ms": load_ms, **rss})


def run_config(
    precision: str,
    workers: int,
    threads: int,
    blobs: list[bytes],
    animals: bool = True,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`workers` processes share the blobs (every workers-th each) and start together."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(precision, threads, blobs[k::workers], barrier, out, animals, options or {}),
        )
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
    det = OnnxLeopardDetector(threads=2, precision=precision, animals=False)
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
        "animal_detector_ms": stats([r[3] for r in rows]),
        "classifier_crops_ms": stats([r[4] for r in rows]),
        "outside_model_ms": stats(outside),
        "decode_ms": stats([r[2] for r in rows]),
        "network_passes_mean": round(statistics.fmean(r[5] for r in rows), 2),
        "photos_per_s": round(statistics.fmean(run["photos_per_s"] for run in runs), 2),
        "load_ms": round(statistics.median(run["load_ms"] for run in runs), 1),
        "rss_after_load_mb": max(run["rss_after_load_mb"] for run in runs),
        "rss_peak_per_worker_mb": max(run["rss_peak_per_worker_mb"] for run in runs),
    }


LEVERS = {"size": "animal_size", "crops": "max_crops", "mirror": "mirror_margin", "min_side": "min_crop_side"}


def parse_lever(spec: str) -> tuple[dict[str, Any], int]:
    """Parse a lever spec such as "size=416,crops=2": (OnnxLeopardDetector keyword arguments, threads)."""
    options: dict[str, Any] = {}
    threads = 2
    for part in filter(None, spec.split(",")):
        name, _, value = part.partition("=")
        if name == "threads":
            threads = int(value)
        elif name == "mirror":
            options["mirror_margin"] = None if value == "always" else float(value)
        elif name in LEVERS:
            options[LEVERS[name]] = int(value)
        else:
            raise SystemExit(f"bench: unknown lever {name!r} (one of {', '.join([*LEVERS, 'threads'])})")
    return options, threads


def levers(specs: list[str], blobs: list[bytes], rounds: int) -> dict[str, Any]:
    """fp32, one worker: today's windows, the shipped pipeline and each lever, alternating rounds."""
    configs: list[tuple[str, bool, dict[str, Any], int]] = [
        ("windows (today)", False, {}, 2),
        ("shipped", True, {}, 2),
    ]
    for spec in specs:
        options, threads = parse_lever(spec)
        configs.append((spec, True, options, threads))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in configs}
    for r in range(rounds):
        for name, animals, options, threads in configs if r % 2 == 0 else configs[::-1]:
            runs[name].append(run_config("fp32", 1, threads, blobs, animals, options))
    base = summarise(runs["windows (today)"])
    out: dict[str, Any] = {}
    for name, rs in runs.items():
        summary = summarise(rs)
        crops = [r[5] for run in rs for r in run["rows"]]
        out[name] = {
            "median_ms": summary["latency_ms"]["median"],
            "p95_ms": summary["latency_ms"]["p95"],
            "vs_windows_median": round(summary["latency_ms"]["median"] / base["latency_ms"]["median"], 2),
            "photos_per_s": summary["photos_per_s"],
            "animal_detector_median_ms": summary["animal_detector_ms"]["median"],
            "classifier_median_ms": summary["classifier_crops_ms"]["median"],
            "outside_median_ms": summary["outside_model_ms"]["median"],
            "network_passes_mean": round(statistics.fmean(crops), 2),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=Path, default=None, help="folder of JPEGs (default ../shared/eval)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N images (0 = all)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds over all configurations (order alternates)")
    ap.add_argument("--big", type=int, default=5, help="progressive re-encodings of the N largest images")
    ap.add_argument(
        "--lever",
        action="append",
        default=[],
        metavar="SPEC",
        help="time this lever setting against today's windows and the shipped one (fp32); repeatable",
    )
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
    if args.lever:
        lever_report = {
            "images": {"source": str(source), "count": len(blobs), "rounds": args.rounds},
            "loadavg_1min_before": round(load_before, 2),
            "levers_fp32_one_worker": levers(args.lever, blobs, args.rounds),
            "loadavg_1min_after": round(os.getloadavg()[0], 2),
        }
        print(json.dumps(lever_report, indent=2))
        return 0

    # workers 0: today's pipeline (windows only, no animal detector), one worker: the baseline of issue 24.
    configs = [(prec, workers, max(1, 2 // max(1, workers))) for prec in PRECISIONS for workers in (0, 1, 2)]
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {(p, w): [] for p, w, _ in configs}
    big_runs: dict[str, list[dict[str, Any]]] = {p: [] for p in PRECISIONS}
    for r in range(args.rounds):
        for prec, workers, threads in configs if r % 2 == 0 else configs[::-1]:
            runs[(prec, workers)].append(run_config(prec, max(1, workers), threads, blobs, workers > 0))
        for prec in PRECISIONS if r % 2 == 0 else PRECISIONS[::-1]:
            if big:
                big_runs[prec].append(run_config(prec, 1, 2, big))
    batches = {prec: batch_sizes(prec, blobs[:20]) for prec in PRECISIONS}

    result: dict[str, Any] = {p: {} for p in PRECISIONS}
    for (prec, workers), rs in runs.items():
        key = {0: "windows_only_one_worker", 1: "one_worker_2_threads", 2: "two_workers_1_thread_each"}[
            workers
        ]
        result[prec][key] = summarise(rs)
    for prec, rs in big_runs.items():
        if rs:
            result[prec]["big_progressive_one_worker"] = summarise(rs)
    f1, i1 = result["fp32"]["one_worker_2_threads"], result["int8"]["one_worker_2_threads"]
    f2, i2 = result["fp32"]["two_workers_1_thread_each"], result["int8"]["two_workers_1_thread_each"]
    f0, i0 = result["fp32"]["windows_only_one_worker"], result["int8"]["windows_only_one_worker"]
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
            # Issue 24's target: the animal-first pipeline at no more than 1.2x today's median under fp32.
            "animals_vs_windows_median_latency_fp32": round(
                f1["latency_ms"]["median"] / f0["latency_ms"]["median"], 2
            ),
            "animals_vs_windows_photos_per_s_fp32": round(f1["photos_per_s"] / f0["photos_per_s"], 2),
            "animals_vs_windows_median_latency_int8": round(
                i1["latency_ms"]["median"] / i0["latency_ms"]["median"], 2
            ),
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
