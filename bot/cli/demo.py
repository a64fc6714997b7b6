"""`leopard-watch demo`: the whole product on this machine, no token, no network.

Starts the Bot API emulator, the real bot against it, and a scripted admin and ranger who send the
sample camera-trap photos shipped in bot/samples; prints what each chat received.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app import build_application, running
from bot.cameras.mail import MailOutcome, MessageRef
from bot.cameras.mail.sample import camera_email, camera_jpeg
from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from bot.geo import Point
from bot.services import services
from emulator import BotApiEmulator

SAMPLES = Path(__file__).parent.parent / "samples"
ADMIN_ID, RANGER_ID, GROUP_ID = 900_001, 700_001, -100_555_0001


async def run_demo(out: Callable[[str], None] = print, workdir: Path | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="leopard-watch-demo-") as tmp:
        root = workdir or Path(tmp)
        async with BotApiEmulator() as emu:
            settings = Settings(
                token=emu.token,
                database=root / "demo.sqlite3",
                photo_dir=root / "photos",
                admin_ids=frozenset({ADMIN_ID}),
                base_url=emu.base_url,
                base_file_url=emu.base_file_url,
                pairing_minutes=10,
            )
            out("Loading the detector model…")
            app = build_application(settings, OnnxLeopardDetector(threshold=settings.threshold))
            async with running(app):
                await _script(emu, out, app)
    return 0


async def _say(
    emu: BotApiEmulator, who: Any, text: str, chat: dict[str, Any] | None = None
) -> dict[str, Any]:
    target = chat["id"] if chat else who.id
    before = len(emu.sent(target))
    await emu.send_text(who, text, chat)
    sent = await emu.wait_sent(target, before + 1, timeout=30)
    return sent[-1]


async def _script(emu: BotApiEmulator, out: Callable[[str], None], app: Application) -> None:
    admin = emu.user(ADMIN_ID, "Aigerim", language_code="en")
    group = emu.group(GROUP_ID, "Ustyurt leopard coordinators")
    await emu.add_bot_to_group(admin, group)
    await _say(emu, admin, "/register en", group)
    await _say(emu, admin, "/trusted on", group)
    await _say(emu, admin, "/station add UST-04 43.2100 51.8700 Kaskyrbulak spring area=UST")
    invite = await _say(emu, admin, "/invite")
    code = re.search(r"start=([\w-]+)", invite["text"])
    assert code, invite["text"]
    ranger = emu.user(RANGER_ID, "Serik", language_code="en")
    await _say(emu, ranger, f"/start {code.group(1)}")

    photos = {p.name: p.read_bytes() for p in sorted(SAMPLES.glob("*.jpg"))}
    # 1. A leopard from camera station UST-04, station code in the caption.
    # It was taken 12 days ago: the ranger only now reached the trap (Telegram dates the message).
    twelve_days_ago = int(time.time()) - 12 * 86400
    await emu.send_photo(
        ranger, photos["leo_005_serengeti_night.jpg"], caption="UST-04 card check", date=twelve_days_ago
    )
    await emu.wait_sent(ranger.id, 2, timeout=60)
    await emu.wait_sent(GROUP_ID, 4, timeout=60)
    # 2. A jackal, then the ranger's location pin.
    await emu.send_photo(ranger, photos["neg_060_serengeti_jackal_1.jpg"])
    await emu.wait_sent(ranger.id, 3, timeout=60)
    await emu.send_location(ranger, 43.305, 52.112)
    await emu.wait_sent(ranger.id, 4, timeout=60)
    # 3. A coordinator confirms the first alert from the group.
    first_alert = next(m for m in emu.sent(GROUP_ID) if m["method"] == "sendPhoto")
    await emu.press_button(
        admin, first_alert, first_alert["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    )
    await emu.wait_for(lambda: "Confirmed" in (emu.sent(GROUP_ID)[3].get("caption") or ""), timeout=30)
    await emu.wait_sent(ranger.id, 5, timeout=60)
    # 4. A pin first, then another leopard photo 40 km away: the alert weighs the move.
    await emu.send_location(ranger, 43.52, 52.30)
    await emu.wait_sent(ranger.id, 6, timeout=60)
    await emu.send_photo(ranger, photos["leo_009_chimpsee_ir_forest.jpg"])
    await emu.wait_sent(ranger.id, 7, timeout=60)
    await emu.wait_sent(GROUP_ID, 6, timeout=60)  # with "Who is this?" under the confirmed alert (issue 25)
    # 5. A coordinator asks for the week's summary in the group: map, text, contact sheet, CSV.
    await emu.send_text(admin, "/week", group)
    await emu.wait_sent(GROUP_ID, 10, timeout=60)  # 6 so far, then the map, the text, the contact sheet, CSV
    # 6. The question this project exists for: one leopard, or two?
    await _say(emu, admin, "/compare 1 3", group)
    # 7. A cellular camera at UST-04 e-mails a photo: the message is built in memory and goes through
    # the intake the IMAP poller uses (bot/cameras/mail/), so the demo needs no mail server.
    await _say(emu, admin, "/camera add CAM-17 UST-04 match=cam17@cameras.example")
    before = len(emu.sent(GROUP_ID))
    outcome = await camera_mail_demo(app, photos["leo_005_serengeti_night.jpg"])
    await emu.wait_sent(GROUP_ID, before + 1, timeout=60)
    out(f"\n=== A cellular camera's e-mail ===\n- CAM-17 -> sighting #{outcome.sightings[0]}, alert queued")

    out("\n=== What the ranger (Serik) received ===")
    for m in emu.sent(ranger.id):
        out(f"- {m.get('text') or m.get('caption')}{_buttons(m)}")
    out("\n=== What the coordinator group received ===")
    for m in emu.sent(GROUP_ID):
        kind = "PHOTO + caption" if m["method"] == "sendPhoto" else "message"
        if m["method"] == "sendDocument":
            kind = f"FILE {m['document']['file_name']}"
        out(f"- [{kind}] {_plain(m.get('caption') or m.get('text') or '')}{_buttons(m)}")
    out("\nDemo finished: photos in, sightings stored, alerts out — all through the real bot client.")


async def camera_mail_demo(app: Application, jpeg: bytes) -> MailOutcome:
    """One camera e-mail, made in memory, through MailIntake.handle (what the poller calls after fetching
    a message), then the outbox is run at once."""
    svc = services(app)
    shot = datetime.now(svc.settings.zone).replace(tzinfo=None, microsecond=0) - timedelta(minutes=1)
    photo = camera_jpeg(jpeg, taken=shot, gps=Point(43.2112, 51.8712))
    outcome = await svc.mail.handle(camera_email([("IMG_0042.JPG", photo)]), MessageRef("demo", 1, 1))
    await svc.outbox.drain(app.bot)
    return outcome


def _buttons(message: dict[str, Any]) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    labels = [f"[{b['text']}]" for row in rows for b in row]
    return f"\n    buttons: {' '.join(labels)}" if labels else ""


def _plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text).replace("\n", "\n    ")
