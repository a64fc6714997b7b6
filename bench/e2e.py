"""End-to-end load benchmark: N rangers send M photos each, concurrently, through the Bot API emulator.

    python bench/e2e.py --rangers 4 --photos 10

The detector is the bot's default (`auto`: INT8 on a CPU with fast INT8, see bot/detection/precision.py);
`--precision fp32` measures the reference model instead.

Prints JSON: end-to-end photos/s (first photo sent -> last alert delivered), detector-only photos/s
on the same images in the same run, their ratio, photo->alert latency p50/p95, the longest stall of
the bot's event loop, and peak RSS of this process. The emulator runs on its own thread and event
loop, so its work (Pillow thumbnails, multipart parsing) does not count as the bot's stall.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing as mp
import re
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application, running  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.detection.model import OnnxLeopardDetector  # noqa: E402
from emulator import BotApiEmulator  # noqa: E402
from storage.db import Database, iso, utcnow  # noqa: E402

GROUP = -100_100
LEOPARD = ROOT / "bot" / "samples" / "leo_005_serengeti_night.jpg"
JACKAL = ROOT / "bot" / "samples" / "neg_060_serengeti_jackal_1.jpg"
LEOPARD_EVERY = 10  # one photo in ten is a leopard: alerts stay under Telegram's 20/min per group


class EmulatorProcess:
    """The emulator in a child process, driven over a pipe: its memory (every stored photo) and its
    CPU work (thumbnails, multipart parsing) do not count as the bot's RSS or event-loop stalls."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_emulator_main, args=(child,), daemon=True)
        self.lock = threading.Lock()

    def start(self) -> dict[str, str]:
        self.proc.start()
        return self.call("info")

    def call(self, op: str, *args: Any) -> Any:
        with self.lock:
            self.conn.send((op, args))
            ok, value = self.conn.recv()
        if not ok:
            raise RuntimeError(value)
        return value

    async def acall(self, op: str, *args: Any) -> Any:
        return await asyncio.to_thread(self.call, op, *args)

    def stop(self) -> float:
        """Stops the child; returns the CPU seconds it used (work a real Telegram does elsewhere)."""
        cpu = float(self.call("stop"))
        self.proc.join(10)
        return cpu


def _emulator_main(conn: Any) -> None:
    async def serve() -> None:
        emu = BotApiEmulator()
        await emu.start()
        users: dict[int, Any] = {}
        loop = asyncio.get_running_loop()
        while True:
            op, args = await loop.run_in_executor(None, conn.recv)
            try:
                if op == "info":
                    value: Any = {
                        "token": emu.token,
                        "base_url": emu.base_url,
                        "base_file_url": emu.base_file_url,
                    }
                elif op == "user":
                    users[args[0]] = emu.user(*args)
                    value = None
                elif op == "group":
                    emu.group(*args)
                    value = None
                elif op == "send_photo":
                    await emu.send_photo(users[args[0]], args[1], args[2])
                    value = None
                elif op == "sent_after":  # one cheap call per poll: only what was sent since `start`
                    (start,) = args
                    world = emu._world
                    records = world.sent_records[start:]
                    value = (
                        start + len(records),
                        [
                            (r.chat_id, m.get("caption") or m.get("text") or "")
                            for r in records
                            for m in (world.messages[(r.chat_id, r.message_id)],)
                        ],
                    )
                elif op == "stop":
                    await emu.stop()
                    conn.send((True, time.process_time()))
                    return
                conn.send((True, value))
            except Exception as exc:  # report to the parent instead of dying silently
                conn.send((False, repr(exc)))

    asyncio.run(serve())


def photos(n: int) -> list[bytes]:
    leopard, jackal = Image.open(LEOPARD).convert("RGB"), Image.open(JACKAL).convert("RGB")
    out = []
    for i in range(n):
        base = leopard if i % LEOPARD_EVERY == 0 else jackal
        crop = base.crop((i % 40, 0, base.width - 40 + i % 40, base.height)).rotate(0.1 * (i // 40))
        buf = io.BytesIO()
        crop.save(buf, format="JPEG", quality=90)
        out.append(buf.getvalue())
    return out


async def watch_loop(stop: asyncio.Event, worst: list[float]) -> None:
    tick = 0.005
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(tick)
        worst[0] = max(worst[0], time.perf_counter() - t0 - tick)


async def bench(
    rangers: int, per_ranger: int, threads: int, preload: bool, rate: float, precision: str = "auto"
) -> dict[str, Any]:
    images = photos(rangers * per_ranger)
    detector = OnnxLeopardDetector(threads=threads, precision=precision)
    before_rate, detector_cpu = detector_only(detector, images)

    emu = EmulatorProcess()
    info = emu.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            token=info["token"],
            database=Path(tmp) / "b.sqlite3",
            photo_dir=Path(tmp) / "p",
            base_url=info["base_url"],
            base_file_url=info["base_file_url"],
            detector_threads=threads,
        )
        async with Database(settings.database) as db:
            now = iso(utcnow())
            await db.execute(
                "INSERT INTO groups (chat_id, title, language, created_at) VALUES (?, 'g', 'en', ?)",
                (GROUP, now),
            )
            for r in range(rangers):
                await db.execute(
                    "INSERT INTO rangers (user_id, name, created_at) VALUES (?, 'r', ?)", (1000 + r, now)
                )
        for r in range(rangers):
            emu.call("user", 1000 + r, f"Ranger {r}")
        emu.call("group", GROUP, "Coordinators")
        app = build_application(settings, detector)
        sent_at: dict[tuple[int, int], float] = {}

        async def ranger(r: int) -> None:
            if rate:
                await asyncio.sleep(r / rate)  # staggered, not all rangers in the same instant
            for i in range(per_ranger):
                if rate and i:
                    await asyncio.sleep(rangers / rate)  # together the rangers send `rate` photos/s
                # Distinct places ~1 km apart: every leopard is its own event with its own alert.
                caption = f"{43 + r * 0.1:.4f}, {51 + i * 0.01:.4f}"
                sent_at[(r, i)] = time.perf_counter()
                await emu.acall("send_photo", 1000 + r, images[r * per_ranger + i], caption)

        if preload:
            # The photos wait at "Telegram" (the bot was offline, or the rangers had no signal until
            # now): the emulator's own re-encoding work is done before the clock starts.
            await asyncio.gather(*(ranger(r) for r in range(rangers)))
        async with running(app):
            stop, worst = asyncio.Event(), [0.0]
            watcher = asyncio.create_task(watch_loop(stop, worst))
            total = rangers * per_ranger
            leopards = len([i for i in range(total) if i % LEOPARD_EVERY == 0])
            receipts: dict[int, float] = {}
            alert_seen: dict[int, float] = {}

            async def observe() -> None:
                """Note when each receipt and alert appears, while the rangers are still sending."""
                read = 0
                while (
                    len(receipts) < total or len(alert_seen) < leopards
                ) and time.perf_counter() - start < 300:
                    now_t = time.perf_counter()
                    read, new = await emu.acall("sent_after", read)
                    for chat_id, text in new:
                        seen = alert_seen if chat_id == GROUP else receipts
                        if found := re.search(r"#(\d+)", text):
                            seen.setdefault(int(found.group(1)), now_t)
                    await asyncio.sleep(0.02)

            start, cpu_start = time.perf_counter(), _cpu()
            observer = asyncio.create_task(observe())
            if preload:
                sent_at = dict.fromkeys(sent_at, start)
            else:
                # The rangers press "send" together; a real Telegram re-encodes photos on its side,
                # the emulator does it here (in its own process) and competes for the same cores.
                await asyncio.gather(*(ranger(r) for r in range(rangers)))
            injected = time.perf_counter() - start
            await observer
            bot_cpu = _cpu() - cpu_start
            elapsed = max(receipts.values()) - start
            stop.set()
            await watcher
            receipt_lat = await _latencies(settings, sent_at, receipts)
            alert_lat = await _latencies(settings, sent_at, alert_seen)
    emulator_cpu = emu.stop()
    # Detector alone before and after the end-to-end part: a shared 2-core VM drifts over a run.
    after_rate, _ = detector_only(detector, images)
    detector_rate = (before_rate + after_rate) / 2
    e2e_rate = total / elapsed
    return {
        "mode": "preloaded" if preload else (f"paced {rate:g} photos/s" if rate else "live, all at once"),
        "rangers": rangers,
        "photos": total,
        "leopard_alerts": len(alert_seen),
        "detector_threads": threads,
        "precision": detector.precision,
        "e2e_photos_per_s": round(e2e_rate, 2),
        "detector_only_photos_per_s": round(detector_rate, 2),
        "detector_only_before_after": [round(before_rate, 2), round(after_rate, 2)],
        "ratio": round(e2e_rate / detector_rate, 3),
        "inference_ms_mean": round(1000 / detector_rate, 1),
        "receipt_latency_ms_p50": _ms(statistics.median(receipt_lat)),
        "receipt_latency_ms_p95": _ms(statistics.quantiles(receipt_lat, n=20)[-1]),
        "alert_latency_ms_p50": _ms(statistics.median(alert_lat)),
        "alert_latency_ms_p95": _ms(
            max(alert_lat) if len(alert_lat) < 20 else statistics.quantiles(alert_lat, n=20)[-1]
        ),
        "max_event_loop_stall_ms": _ms(worst[0]),
        "emulator_inject_s": round(injected, 2),
        "emulator_cpu_s": round(emulator_cpu, 2),
        "bot_cpu_s": round(bot_cpu, 2),
        "detector_only_cpu_s": round(detector_cpu, 2),
        "elapsed_s": round(elapsed, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "note": "end to end = first photo sent -> last receipt (receipts and alerts observed every 20 ms); "
        "unpaced, latencies include queueing behind all the photos sent at once; the emulator runs in its "
        "own process",
    }


def detector_only(detector: OnnxLeopardDetector, images: list[bytes]) -> tuple[float, float]:
    """Photos/s and CPU seconds of the detector alone, one photo after another."""
    t0, cpu0 = time.perf_counter(), _cpu()
    for data in images:
        detector.detect(data)
    return len(images) / (time.perf_counter() - t0), _cpu() - cpu0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def _latencies(
    settings: Settings, sent_at: dict[tuple[int, int], float], seen: dict[int, float]
) -> list[float]:
    async with Database(settings.database) as db:
        rows = await db.fetchall("SELECT id, ranger_id, caption FROM sightings")
    out = []
    for row in rows:
        r = row["ranger_id"] - 1000
        i = round((float(row["caption"].split(", ")[1]) - 51) / 0.01)
        if row["id"] in seen:
            out.append(seen[row["id"]] - sent_at[(r, i)])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rangers", type=int, default=4)
    ap.add_argument("--photos", type=int, default=10, help="photos per ranger")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--preload", action="store_true", help="queue all photos at the emulator before the bot starts"
    )
    ap.add_argument(
        "--rate", type=float, default=0.0, help="pace the rangers: photos/s in total (0 = all at once)"
    )
    ap.add_argument("--precision", choices=("auto", "int8", "fp32"), default="auto", help="default: auto")
    args = ap.parse_args()
    run = bench(args.rangers, args.photos, args.threads, args.preload, args.rate, args.precision)
    result = asyncio.run(run)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
