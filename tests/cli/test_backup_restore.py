"""Backup and restore as docs/DEPLOY.md tells it: sightings and their photos made through the real bot,
`leopard-watch backup`, the photos and `.env` copied away, the data directory wiped, restored with the
guide's steps, and the bot started on it again (doctor first)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import sys
from pathlib import Path

from bot.app import build_application, running
from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from emulator import BotApiEmulator
from storage.photos import PhotoStore
from tests.conftest import ADMIN, GROUP, RANGER, Team, eventually, leopard_variants

PHOTOS = 3


async def cli(env_file: Path, *args: str) -> tuple[int, str, str]:
    """`leopard-watch --env-file FILE ARGS`, as the guide types it; the emulator keeps answering meanwhile."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--env-file", str(env_file), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("LW_")},
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def sh(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(*argv)
    assert await proc.wait() == 0, argv


def write_env(path: Path, emu: BotApiEmulator, data_dir: Path) -> None:
    path.write_text(
        f"LW_TOKEN={emu.token}\nLW_ADMIN_IDS={ADMIN}\nLW_DATA_DIR={data_dir}\n"
        f"LW_BASE_URL={emu.base_url}\nLW_BASE_FILE_URL={emu.base_file_url}\n"
    )
    path.chmod(0o600)


def sightings(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        return sorted(r[0] for r in conn.execute("SELECT photo_sha256 FROM sightings"))


async def test_backup_wipe_restore_brings_back_the_data_and_the_photos_and_the_bot_starts(
    tmp_path: Path, emu: BotApiEmulator, detector: OnnxLeopardDetector
) -> None:
    app_dir, data, safe = tmp_path / "opt", tmp_path / "var-lib", tmp_path / "elsewhere"
    for folder in (app_dir, safe):
        folder.mkdir()
    env = app_dir / ".env"
    write_env(env, emu, data)
    settings = Settings.load(env, environ={})
    assert settings.database == data / "leopard-watch.sqlite3" and settings.photo_dir == data / "photos"

    # Data: a ranger's photos through the running bot (sightings, photos on disk, alerts).
    app = build_application(settings, detector)
    async with running(app):
        team = Team(emu, app.bot_data["services"], emu.user(ADMIN, "Aigerim"), emu.user(RANGER, "Serik"),
                    emu.group(GROUP, "Coordinators"), app)  # fmt: skip
        await team.say(team.admin, "/register en", team.group)
        await team.say(team.admin, "/station add UST-04 43.2100 51.8700 Kaskyrbulak area=UST")
        await team.invite(team.ranger)
        for photo in leopard_variants(PHOTOS):
            await emu.send_photo(team.ranger, photo, caption="UST-04")

        async def recorded() -> bool:
            return int(await team.services.db.scalar("SELECT COUNT(*) FROM sightings")) == PHOTOS

        await eventually(recorded, 60)
    before = sightings(settings.database)
    store = PhotoStore(settings.photo_dir)
    assert len(before) == PHOTOS and all(store.path_for(sha).is_file() for sha in before)

    # The guide's backup: `leopard-watch backup`, then the database copy, the photos and .env elsewhere.
    code, out, err = await cli(env, "backup")
    assert code == 0, err
    assert f"backed up {PHOTOS} sightings" in out
    [copy] = list((data / "backups").glob("leopard-watch-*.sqlite3"))
    await sh("cp", "-a", str(copy), str(data / "photos"), str(safe))
    await sh("cp", "-a", str(env), str(safe / "leopard-watch.env"))

    # The disk is lost: the data directory and the settings are gone.
    await sh("rm", "-rf", str(data), str(env))
    code, _, err = await cli(env, "doctor")
    assert code != 0  # no settings: nothing pretends to work

    # The guide's restore: .env back (mode 600), the folder, the newest database copy under the
    # database's name, the photos beside it; then doctor, then start.
    await sh("install", "-m", "600", str(safe / "leopard-watch.env"), str(env))
    await sh("install", "-d", "-m", "750", str(data))
    await sh("rm", "-f", str(data / "leopard-watch.sqlite3-wal"), str(data / "leopard-watch.sqlite3-shm"))
    await sh("install", "-m", "600", str(safe / copy.name), str(data / "leopard-watch.sqlite3"))
    await sh("cp", "-a", str(safe / "photos"), str(data))
    assert stat.S_IMODE(env.stat().st_mode) == 0o600

    code, out, err = await cli(env, "doctor", "--json")
    assert code == 0, out + err
    report = json.loads(out)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert failed == [], failed
    assert sightings(settings.database) == before
    assert all(PhotoStore(settings.photo_dir).path_for(sha).read_bytes() for sha in before)

    # The bot starts on the restored data: it knows the ranger and the station, and shows the photos.
    app = build_application(Settings.load(env, environ={}), detector)
    async with running(app):
        services = app.bot_data["services"]
        assert await services.db.scalar("SELECT COUNT(*) FROM sightings") == PHOTOS
        ranger = emu.user(RANGER, "Serik")
        sent = len(emu.sent(RANGER))
        await emu.send_text(ranger, "/mine")
        [reply] = (await emu.wait_sent(RANGER, sent + 1, timeout=20))[sent:]
        assert "UST-04" in (reply.get("text") or reply.get("caption") or ""), reply
