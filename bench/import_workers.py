"""SD-card import throughput with 1, 2 and N detector processes on the same folder; prints JSON.

    .venv/bin/python bench/import_workers.py                 # ../shared/eval, else bot/samples
    .venv/bin/python bench/import_workers.py --images DIR --rounds 2

Each configuration imports the whole folder into a fresh database in its own process (so nothing is
skipped as already imported, and each has its own memory figures): the parent's peak RSS (photo
store, SQLite, read-ahead) and the largest worker's (VmHWM, Linux). Configurations:
in-process detection (no --workers; one 2-thread session), then workers x threads-per-worker of
1 x 2, 2 x 1, 2 x 2 (oversubscribed on 2 cores) and N x auto for the N cores available when N > 2.
Rounds alternate the order so that load drift hits every configuration alike: quote the ratios.
No alerts are sent (no token); the time is from the first file to the summary, model loading excluded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # allow `python bench/import_workers.py` without installing
    sys.path.insert(0, str(REPO))

from bot.config import Settings  # noqa: E402
from bot.detection.pool import DetectorPool, available_cores  # noqa: E402
from bot.geo.points import Point  # noqa: E402
from bot.intake.sd_card import import_folder  # noqa: E402
from bot.media.folders import scan  # noqa: E402
from bot.services import Services  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"
SAMPLES = REPO / "bot" / "samples"


async def one(folder: Path, workers: int, threads: int) -> dict[str, Any]:
    """Import `folder` once; workers 0 = in-process detection."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(database=root / "b.sqlite3", photo_dir=root / "p", detector_threads=threads)
        pool = DetectorPool(workers, threads=threads) if workers else None
        if pool:
            pool.warm_up()
        services = await Services.create(settings, pool)
        try:
            await services.stations.add("BENCH-1", Point(43.2, 51.8), "bench", "B")
            found = scan([folder])
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                report = await import_folder(services, folder, "BENCH-1", found=found)
            wall = time.perf_counter() - t0
            workers_rss = [_hwm_mb(pid) for pid in pool.worker_pids()] if pool else []
        finally:
            await services.close()
            if pool:
                pool.close()
    return {
        "workers": workers,
        "threads_per_worker": threads,
        "photos": report.new,
        "seconds": round(wall, 2),
        "photos_per_s": round(report.new / wall, 2),
        "parent_peak_rss_mb": _hwm_mb(os.getpid()),
        "worker_peak_rss_mb": max(workers_rss) if workers_rss else None,
    }


def _hwm_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of a process. Not ru_maxrss: a spawned child's starts at its parent's RSS."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1) if pid == os.getpid() else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=Path, default=None, help="folder to import (default ../shared/eval)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--one", nargs=2, type=int, metavar=("WORKERS", "THREADS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    folder = args.images or (EVAL if EVAL.is_dir() else SAMPLES)
    if args.one:
        print(json.dumps(asyncio.run(one(folder, *args.one))))
        return 0
    cores = available_cores()
    configs = [(0, 2), (1, 2), (2, 1), (2, 2)] + ([(cores, 0)] if cores > 2 else [])
    load_before = os.getloadavg()[0]
    results: dict[tuple[int, int], list[dict[str, Any]]] = {c: [] for c in configs}
    for r in range(args.rounds):
        for workers, threads in configs if r % 2 == 0 else configs[::-1]:
            cmd = [sys.executable, __file__, "--images", str(folder), "--one", str(workers), str(threads)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            results[(workers, threads)].append(json.loads(out.splitlines()[-1]))
    rows = []
    for (workers, _threads), rs in results.items():
        row = rs[0] | {"photos_per_s": round(statistics.fmean(x["photos_per_s"] for x in rs), 2)}
        row["photos_per_s_each_round"] = [x["photos_per_s"] for x in rs]
        row["parent_peak_rss_mb"] = max(x["parent_peak_rss_mb"] for x in rs)
        if workers:
            row["worker_peak_rss_mb"] = max(x["worker_peak_rss_mb"] for x in rs)
        rows.append(row)
    base = rows[0]["photos_per_s"]
    for row in rows:
        row["vs_in_process"] = round(row["photos_per_s"] / base, 2)
    report = {
        "folder": str(folder),
        "cores": cores,
        "loadavg_1min_before": round(load_before, 2),
        "loadavg_1min_after": round(os.getloadavg()[0], 2),
        "configs": rows,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
