"""Cellular cameras' e-mail: mail-to-alert latency at the poll interval and with IMAP IDLE, and how fast
a backlog drains.

    python bench/mail.py --latency 15 --poll 5 --idle-latency 15 --backlog 500

Prints JSON. A real IMAP server (pymap, in-memory, in its own process) holds the mailbox and the Bot API
emulator runs in its own process too (bench/e2e.py), so neither's work counts as the bot's.

- latency: one leopard e-mail at a time, each delivered at a random moment of the poll cycle; the time
  from the APPEND to the alert reaching the group. Expected: uniform over [0, poll) plus the work.
  Polling only (LW_MAIL_IDLE=off).
- idle latency: the same with IMAP IDLE on (pymap offers it) and a poll interval of 10 minutes, so each
  alert is IDLE's doing: the server's push, one poll, the work.
- backlog: N camera e-mails (one photo each, one in ten a leopard) already in the mailbox when the bot
  starts, as after an outage; messages/s from the first message taken to the last one done, against
  the detector alone on the same photos in the same run (before and after, averaged).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from e2e import GROUP, EmulatorProcess, _cpu, detector_only, photos, watch_loop  # noqa: E402
from imapclient import IMAPClient  # noqa: E402

from bot.app import build_application, running  # noqa: E402
from bot.cameras.mail.sample import camera_email, camera_jpeg  # noqa: E402
from bot.cameras.registry import Cameras, parse_rule  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.detection.model import OnnxLeopardDetector  # noqa: E402
from bot.geo.points import Point  # noqa: E402
from bot.places.stations import Stations  # noqa: E402
from handlers.runtime import Runtime  # noqa: E402
from storage.db import Database, iso, utcnow  # noqa: E402

USER, PASSWORD = "cameras@bench.example", "bench-password"
SENDER = "cam17@cameras.example"
STATION = Point(43.21, 51.87)


class ImapProcess:
    """pymap's own command line, on a free loopback port."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        code = "import sys; from pymap.main import main; sys.argv[0] = 'pymap'; main()"
        args = [
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-tls",
            "dict",
            "--demo-user",
            USER,
            "--demo-password",
            PASSWORD,
        ]
        self.proc = subprocess.Popen([sys.executable, "-c", code, *args])
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("pymap did not start")

    def append_all(self, messages: list[bytes]) -> None:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(USER, PASSWORD)
        for raw in messages:
            client.append("INBOX", raw)
        client.logout()

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks
        except OSError:
            return 0.0

    def stop(self) -> float:
        cpu = self.cpu_seconds()
        self.proc.terminate()
        self.proc.wait(10)
        return cpu


def camera_messages(n: int, leopard_every: int | None = None) -> tuple[list[bytes], list[bytes]]:
    """(e-mails, their photos): every photo taken 20 minutes after the last (no bursts: one alert each)."""
    start = datetime(2026, 1, 5, 22, 0)
    base = photos(n) if leopard_every else [photos(1)[0]] * n
    images, mails = [], []
    for i, data in enumerate(base):
        # A new crop each time for the latency run, whose photos are all the same leopard.
        jpeg = camera_jpeg(
            data if leopard_every else _variant(data, i), taken=start + timedelta(minutes=20 * i), gps=STATION
        )
        images.append(jpeg)
        mails.append(camera_email([(f"IMG_{i:04d}.JPG", jpeg)], sender=SENDER))
    return mails, images


def _variant(data: bytes, i: int) -> bytes:
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    image.crop((i % 30, 0, image.width - 30 + i % 30, image.height)).save(out, format="JPEG", quality=90)
    return out.getvalue()


async def setup(
    tmp: Path, info: dict[str, str], imap: ImapProcess, poll: float, threads: int, idle: str = "off"
) -> Settings:
    settings = Settings(
        token=info["token"],
        database=tmp / "b.sqlite3",
        photo_dir=tmp / "p",
        base_url=info["base_url"],
        base_file_url=info["base_file_url"],
        detector_threads=threads,
        mail_host="127.0.0.1",
        mail_port=imap.port,
        mail_tls="none",
        mail_user=USER,
        mail_password=PASSWORD,
        mail_poll_seconds=poll,
        mail_idle=idle,
    )
    async with Database(settings.database) as db:
        await db.execute(
            "INSERT INTO groups (chat_id, title, language, created_at) VALUES (?, 'g', 'en', ?)",
            (GROUP, iso(utcnow())),
        )
        await Stations(db).add("UST-04", STATION, "Spring", "UST")
        await Cameras(db).add("CAM-17", "UST-04", [parse_rule(SENDER)])
    return settings


IDLE_POLL = 600.0  # the interval in the IDLE run: far longer than the run, so it never fires


async def latency(
    detector: OnnxLeopardDetector, count: int, poll: float, threads: int, idle: bool = False
) -> dict[str, Any]:
    emu, imap = EmulatorProcess(), ImapProcess()
    info = emu.start()
    emu.call("group", GROUP, "Coordinators")
    mails, _ = camera_messages(count)
    waits: list[float] = []
    interval = IDLE_POLL if idle else poll
    with tempfile.TemporaryDirectory() as tmp:
        settings = await setup(Path(tmp), info, imap, interval, threads, "auto" if idle else "off")
        app = build_application(settings, detector)
        async with running(app):
            if idle:
                await _idling(app)
            read, rng = 0, random.Random(7)
            read, _ = await emu.acall("sent_after", 0)
            for raw in mails:
                # Any moment of the poll cycle; with IDLE, a pause so each mail finds the watcher idle.
                await asyncio.sleep(rng.uniform(0.5, 2.0) if idle else rng.uniform(0, poll))
                t0 = time.perf_counter()
                await asyncio.to_thread(imap.append_all, [raw])
                while time.perf_counter() - t0 < min(interval, poll) + 30:
                    read, new = await emu.acall("sent_after", read)
                    if any(chat == GROUP for chat, _ in new):
                        waits.append(time.perf_counter() - t0)
                        break
                    await asyncio.sleep(0.02)
    emu.stop()
    imap.stop()
    return {
        "messages": count,
        "alerts": len(waits),
        "idle": idle,
        "poll_seconds": interval,
        "mail_to_alert_s_min": round(min(waits), 2),
        "mail_to_alert_s_p50": round(statistics.median(waits), 2),
        "mail_to_alert_s_p95": round(sorted(waits)[max(0, round(0.95 * len(waits)) - 1)], 2),
        "mail_to_alert_s_max": round(max(waits), 2),
        "mail_to_alert_s_mean": round(statistics.fmean(waits), 2),
        "expected_mean_s": "the work (IDLE push)" if idle else f"poll/2 = {poll / 2:g} + the work",
    }


async def _idling(app: Any) -> None:
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        watcher = Runtime.of(app).mail_watchers.get("main")
        if watcher is not None and watcher.idling:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the IDLE watcher did not start")


async def backlog(detector: OnnxLeopardDetector, count: int, threads: int) -> dict[str, Any]:
    mails, images = camera_messages(count, leopard_every=10)
    before_rate, _ = detector_only(detector, images)
    emu, imap = EmulatorProcess(), ImapProcess()
    info = emu.start()
    emu.call("group", GROUP, "Coordinators")
    await asyncio.to_thread(imap.append_all, mails)
    imap_cpu0 = imap.cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        settings = await setup(Path(tmp), info, imap, 60.0, threads)
        app = build_application(settings, detector)
        async with Database(settings.database) as watch, running(app):
            stop, worst = asyncio.Event(), [0.0]
            watcher = asyncio.create_task(watch_loop(stop, worst))
            first = end = 0.0
            cpu0 = _cpu()
            deadline = time.perf_counter() + 1800
            while time.perf_counter() < deadline:
                taken = int(await watch.scalar("SELECT COUNT(*) FROM mail_messages"))
                done = int(await watch.scalar("SELECT COUNT(*) FROM mail_messages WHERE status = 'done'"))
                now = time.perf_counter()
                if taken and not first:
                    first = now
                if done >= count:
                    end = now
                    break
                await asyncio.sleep(0.05)
            bot_cpu = _cpu() - cpu0
            stop.set()
            await watcher
            sightings = int(await watch.scalar("SELECT COUNT(*) FROM sightings"))
            alerts = int(await watch.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'alert'"))
    emulator_cpu = emu.stop()
    imap_cpu = imap.stop() - imap_cpu0
    after_rate, _ = detector_only(detector, images)
    detector_rate = (before_rate + after_rate) / 2
    rate = count / (end - first) if end else 0.0
    return {
        "messages": count,
        "sightings": sightings,
        "alerts_queued": alerts,
        "drain_s": round(end - first, 1),
        "drain_messages_per_s": round(rate, 2),
        "detector_only_photos_per_s": round(detector_rate, 2),
        "detector_only_before_after": [round(before_rate, 2), round(after_rate, 2)],
        "ratio": round(rate / detector_rate, 3),
        "bot_cpu_s": round(bot_cpu, 1),
        "imap_server_cpu_s": round(imap_cpu, 1),
        "emulator_cpu_s": round(emulator_cpu, 1),
        "max_event_loop_stall_ms": round(worst[0] * 1000, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=15, help="messages sent one at a time (0: skip)")
    ap.add_argument("--poll", type=float, default=5.0, help="LW_MAIL_POLL_SECONDS for the latency run")
    ap.add_argument("--idle-latency", type=int, default=15, help="messages sent one at a time, IDLE on")
    ap.add_argument("--backlog", type=int, default=500, help="messages waiting at start (0: skip)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="auto", choices=("auto", "int8", "fp32"))
    args = ap.parse_args()
    detector = OnnxLeopardDetector(threads=args.threads, precision=args.precision)
    out: dict[str, Any] = {"detector_precision": detector.precision}
    if args.latency:
        out["latency"] = asyncio.run(latency(detector, args.latency, args.poll, args.threads))
    if args.idle_latency:
        out["idle_latency"] = asyncio.run(latency(detector, args.idle_latency, args.poll, args.threads, True))
    if args.backlog:
        out["backlog"] = asyncio.run(backlog(detector, args.backlog, args.threads))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
