"""`leopard-watch doctor` tells the truth: FAIL for what stops `run`, WARN for what degrades, "All checks
passed" only with neither; it creates nothing; `--json` is one object for monitors; exit 1 on a FAIL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli.doctor import run_checks
from bot.cli.doctor_local import data_directory, photo_store, token
from bot.cli.errors import user
from bot.cli.main import main
from bot.config import Settings
from bot.people import Groups
from emulator import BotApiEmulator
from storage.db import Database

TOKEN = "123456:" + "A1b2_-" * 5 + "xyz12"  # the shape @BotFather issues: id, ':', 35 characters


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("LW_"):
            monkeypatch.delenv(key)


def test_a_fresh_data_directory_is_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for data_dir in (empty, tmp_path / "not-yet"):
        before = tree(tmp_path)
        monkeypatch.setenv("LW_DATA_DIR", str(data_dir))
        assert main(["--env-file", os.devnull, "doctor"]) == 1  # no token, no admins
        assert tree(tmp_path) == before  # no database, no photo folder, no lock file, no temp file
        out = capsys.readouterr().out
        assert "[FAIL] token: LW_TOKEN is not set" in out and "[FAIL] admins: LW_ADMIN_IDS is empty" in out
        assert f"[WARN] database: no database at {data_dir / 'leopard-watch.sqlite3'} yet" in out
        assert "All checks passed" not in out and "2 problem(s) found" in out


def test_the_token_s_shape_is_checked_without_showing_it() -> None:
    official = Settings()
    assert token(official.with_(token=TOKEN)).status == "ok"
    for bad, why in (
        ("123456:" + "A" * 34, "34 characters after the ':'"),
        ("bot123456:" + "A" * 35, "no ':' after the bot's id"),
        (f'"{TOKEN}"', "a space or a quote"),
    ):
        check = token(official.with_(token=bad))
        assert check.status == "fail" and why in check.detail and "copy it again" in check.detail, bad
        assert "A" * 30 not in check.detail  # never the token itself
    # A test server takes what it was given: said, as a warning.
    check = token(official.with_(token="123456:TEST", base_url="http://127.0.0.1:8081/bot"))
    assert check.status == "warn"


def test_folders_this_user_cannot_write_fail_with_the_path_and_the_chown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    shard = data / "photos" / "ab"
    shard.mkdir(parents=True)
    settings = Settings.load(None, {"LW_DATA_DIR": str(data)})
    assert data_directory(settings).status == "ok" and photo_store(settings).status == "ok"
    denied: set[Path] = set()
    real = os.access
    # Tests may run as root, whom no mode stops: the check is made to see what another user would.
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) in denied else real(p, mode))
    denied.add(shard)  # made by an import run as root
    check = photo_store(settings)
    assert check.status == "fail"
    assert check.detail == (
        f"{shard} in the photo store is not writable by user {user()}: run `sudo chown -R {user()} "
        f"{data / 'photos'}`, or run the command as the user who owns it"
    )
    denied.add(data)
    check = data_directory(settings)
    assert (
        check.status == "fail"
        and str(data) in check.detail
        and f"sudo chown -R {user()} {data}" in check.detail
    )
    missing = settings.with_(data_dir=data / "new")  # to be created in a folder it cannot write
    assert f"{data / 'new'} cannot be created: {data} is not writable" in data_directory(missing).detail


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        yield emulator
    assert not emulator.spec_violations, emulator.spec_violations[:10]


def ready(tmp_path: Path, emu: BotApiEmulator) -> Settings:
    return Settings.load(
        None,
        {
            "LW_DATA_DIR": str(tmp_path / "data"),
            "LW_TOKEN": TOKEN,
            "LW_ADMIN_IDS": "900001",
            "LW_BASE_URL": emu.base_url,
            "LW_BASE_FILE_URL": emu.base_file_url,
        },
    )


async def test_all_checks_pass_only_with_no_fail_and_no_warning(tmp_path: Path, emu: BotApiEmulator) -> None:
    settings = ready(tmp_path, emu)
    async with Database(settings.database) as db:
        pass  # a database, but no group yet
    checks = await run_checks(settings)
    assert [c.name for c in checks if c.status != "ok"] == ["database"], [c.line() for c in checks]
    async with Database(settings.database) as db:
        await Groups(db, settings.timezone).register(-100_1, "Coordinators", "en")
    checks = await run_checks(settings)
    assert all(c.status == "ok" for c in checks), [c.line() for c in checks]
    model = next(c for c in checks if c.name == "model")
    assert "loaded" in model.detail and "scored" not in model.detail  # no photo without --full
    assert emu.calls_of("getUpdates") == []  # no poll without --full
    full = {c.name: c for c in await run_checks(settings, full=True)}
    assert "sample leopard scored" in full["model"].detail
    assert "no other process polled the token" in full["bot api"].detail
    assert not settings.database.with_name(settings.database.name + ".lock").exists()


async def test_json_is_one_object_for_monitors(tmp_path: Path, emu: BotApiEmulator) -> None:
    settings = ready(tmp_path, emu)
    async with Database(settings.database) as db:
        await Groups(db, settings.timezone).register(-100_1, "Coordinators", "en")
    env = tmp_path / ".env"
    env.write_text(
        f"LW_DATA_DIR={settings.data_dir}\nLW_TOKEN={TOKEN}\nLW_ADMIN_IDS=900001\n"
        f"LW_BASE_URL={emu.base_url}\nLW_BASE_FILE_URL={emu.base_file_url}\n"
    )

    async def doctor_json(extra: str = "") -> tuple[int, dict]:
        if extra:
            env.write_text(env.read_text() + extra)
        out = tmp_path / "out.json"
        # The command runs its own event loop: in a thread, beside the emulator's.
        code = await asyncio.to_thread(_main_to, out, ["--env-file", str(env), "doctor", "--json"])
        return code, json.loads(out.read_text())

    code, report = await doctor_json()
    assert code == 0 and report["overall"] == "ok"
    assert {c["name"] for c in report["checks"]} >= {"token", "admins", "database", "model", "bot api"}
    assert all(set(c) == {"name", "status", "message"} and c["status"] == "ok" for c in report["checks"])
    async with Database(settings.database) as db:
        await db.execute("UPDATE groups SET active = 0")
    code, report = await doctor_json()
    assert code == 0 and report["overall"] == "warn"  # a WARN alone does not fail
    env.write_text(env.read_text().replace("LW_ADMIN_IDS=900001\n", ""))
    code, report = await doctor_json()
    assert code == 1 and report["overall"] == "fail"
    assert [c["name"] for c in report["checks"] if c["status"] == "fail"] == ["admins"]


def _main_to(out: Path, argv: list[str]) -> int:
    """main(argv) with its standard output written to `out` (capsys is not thread-safe)."""
    with out.open("w") as f, contextlib.redirect_stdout(f):
        return main(argv)
