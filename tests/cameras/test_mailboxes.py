"""More than one camera mailbox: LW_MAIL_* and the [[mailbox]] tables of LW_MAILBOXES_FILE, each polled
on its own against a real IMAP server (pymap), sharing cameras, dedup and alerts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cameras.mail.accounts import MAIN, accounts
from bot.cameras.mail.sample import camera_email, camera_jpeg
from bot.cli.doctor import _camera_mail
from bot.cli.main import load_settings
from bot.config import ConfigError, Settings
from tests.conftest import ADMIN, Team, eventually, leopard_variants, start_team
from tests.support.mailboxes import mailboxes_file
from tests.support.mailserver import ImapServer, imap_fixture, imap_server  # noqa: F401 - the fixture

SECOND_USER, SECOND_PASSWORD = "park-cameras@mail.example", "Kyzyl$ai-2"


def second_box(server: ImapServer, name: str = "park", password: str | None = None) -> str:
    return (
        f'[[mailbox]]\nname = "{name}"\nhost = "{server.host}"\nport = {server.port}\ntls = "none"\n'
        f'user = "{server.user}"\npassword = "{password or server.password}"\npoll_seconds = 0.5\n'
    )


@pytest.fixture
async def second() -> AsyncIterator[ImapServer]:
    async with imap_server(SECOND_USER, SECOND_PASSWORD) as server:
        yield server


def load(env: dict[str, str]) -> Settings:
    return load_settings(env_file=None, environ=env)


def test_mailboxes_file_is_read_and_checked(tmp_path: Path) -> None:
    main = {"LW_MAIL_HOST": "imap.mail.example", "LW_MAIL_USER": "a@mail.example", "LW_MAIL_PASSWORD": "p"}
    secret = tmp_path / "yandex.secret"
    secret.write_text("app-pass\n")
    secret.chmod(0o600)
    path = mailboxes_file(
        tmp_path,
        '[[mailbox]]\nname = "yandex"\nhost = "imap.yandex.kz"\nuser = "c@yandex.kz"\n'
        'password_file = "yandex.secret"\nfolder = "Cameras"\npoll_seconds = 30\n'
        '[[mailbox]]\nname = "gmail"\nhost = "imap.gmail.com"\nuser = "c@gmail.com"\n'
        'password = "g-pass"\ntls = "starttls"\n',
    )
    env = {**main, "LW_MAILBOXES_FILE": str(path)}
    found = accounts(load(env))
    assert [a.name for a in found] == [MAIN, "yandex", "gmail"]
    assert [a.password for a in found] == ["p", "app-pass", "g-pass"]  # relative password_file: beside it
    assert found[1].folder == "Cameras" and found[1].poll_seconds == 30 and found[1].port_or_default == 993
    assert found[2].port_or_default == 143
    assert "app-pass" not in repr(found) and "g-pass" not in repr(found)
    # The LW_MAIL_* mailbox keeps the key its ledger rows were written under before there were several.
    assert found[0].key == "a@mail.example@imap.mail.example:993/inbox"
    # Without LW_MAIL_HOST the file alone is enough.
    assert [a.name for a in accounts(load({"LW_MAILBOXES_FILE": str(path)}))] == ["yandex", "gmail"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\n', "exactly one of password"),
        ('[[mailbox]]\nname = "x"\nhost = "h.example"\npassword = "p"\n', "user is missing"),
        ('[[mailbox]]\nhost = "h.example"\nuser = "u"\npassword = "p"\n', "needs a name"),
        ('[[mailbox]]\nname = "main"\nhost = "h.example"\nuser = "u"\npassword = "p"\n', "needs a name"),
        (
            '[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword = "p"\npasword = "q"\n',
            "unknown key",
        ),
        (
            '[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword = "p"\ntls = "none"\n',
            "localhost",
        ),
        ('[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword = "p"\ntls = "tls"\n', "tls of"),
        (
            '[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword_file = "nothing"\n',
            "cannot read",
        ),
        ('[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword = ""\n', "non-empty"),
        (
            '[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword = "p"\npoll_seconds = 0\n',
            ">= 0.5",
        ),
        (
            '[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword = "p"\n'
            '[[mailbox]]\nname = "x"\nhost = "g.example"\nuser = "u"\npassword = "p"\n',
            "two mailboxes are called x",
        ),
        (
            '[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword = "p"\n'
            '[[mailbox]]\nname = "y"\nhost = "H.example"\nuser = "U"\npassword = "p"\nport = 993\n',
            "configured twice",
        ),
        ("[mailbox]\nname = 1\n", "only [[mailbox]] tables"),
        ("title = 'cameras'\n", "only [[mailbox]] tables"),
        ("", "no [[mailbox]]"),
        ("[[mailbox]\n", "cannot read"),
    ],
)
def test_a_wrong_mailbox_stops_the_start_with_words_that_name_it(
    tmp_path: Path, body: str, error: str
) -> None:
    path = mailboxes_file(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load({"LW_MAILBOXES_FILE": str(path)})
    assert error in str(caught.value)
    assert "password = " not in str(caught.value)


def test_a_password_others_can_read_is_refused(tmp_path: Path) -> None:
    body = '[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword = "Secret-1"\n'
    path = mailboxes_file(tmp_path, body, mode=0o644)
    with pytest.raises(ConfigError, match="chmod 600") as caught:
        load({"LW_MAILBOXES_FILE": str(path)})
    assert "Secret-1" not in str(caught.value)
    secret = tmp_path / "secret"
    secret.write_text("Secret-2")
    secret.chmod(0o640)
    path = mailboxes_file(
        tmp_path, '[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword_file = "secret"\n', 0o644
    )
    with pytest.raises(ConfigError, match="chmod 600"):
        load({"LW_MAILBOXES_FILE": str(path)})
    path.chmod(0o600)
    secret.chmod(0o400)
    assert accounts(load({"LW_MAILBOXES_FILE": str(path)}))[0].password == "Secret-2"
    with pytest.raises(ConfigError, match="does not exist"):
        load({"LW_MAILBOXES_FILE": str(tmp_path / "nowhere.toml")})


async def _done(team: Team, n: int) -> bool:
    return int(await team.services.db.scalar("SELECT COUNT(*) FROM mail_messages WHERE status = 'done'")) >= n


async def test_two_mailboxes_both_become_alerts_and_one_photo_sent_to_both_is_one_sighting(
    emu: Any,
    settings: Settings,
    detector: Any,
    imap: ImapServer,
    second: ImapServer,
    tmp_path: Path,
) -> None:
    path = mailboxes_file(tmp_path, second_box(second))
    configured = imap.settings(settings, mail_poll_seconds=0.5, mailboxes_file=path)
    async for team in start_team(emu, configured, detector):
        await team.say(team.admin, "/station add UST-04 43.2100 51.8700 Kaskyrbulak area=UST")
        await team.say(team.admin, "/station add KZS-02 43.5000 52.2000 Kyzylsai area=KZS")
        await team.say(team.admin, "/camera add CAM-17 UST-04 match=cam17@cameras.example")
        await team.say(team.admin, "/camera add CAM-30 KZS-02 match=cam30@park.example")
        # A day apart: three events, three alerts (no burst joins them).
        one, two, both = (
            camera_jpeg(data, taken=datetime(2026, 3, 10 + i, 5, 30))
            for i, data in enumerate(leopard_variants(3))
        )
        before = len(team.alerts())
        # Each server numbers its messages from 1: the UIDs are the same, the mailboxes are not.
        uid_a = await imap.append(camera_email([("IMG_0001.JPG", one)]))
        uid_b = await second.append(
            camera_email([("IMG_0001.JPG", two)], camera="CAM-30", sender="cam30@park.example")
        )
        assert uid_a == uid_b
        await team.emu.wait_for(lambda: len(team.alerts()) == before + 2, timeout=30)  # noqa: B023
        db = team.services.db
        rows = await db.fetchall("SELECT source, station_code FROM sightings ORDER BY station_code")
        assert [(r["source"], r["station_code"]) for r in rows] == [
            ("camera:CAM-30", "KZS-02"),
            ("camera:CAM-17", "UST-04"),
        ]
        boxes = {r["mailbox"] for r in await db.fetchall("SELECT mailbox FROM mail_messages")}
        assert boxes == {
            f"{imap.user}@127.0.0.1:{imap.port}/inbox",
            f"{SECOND_USER}@127.0.0.1:{second.port}/inbox",
        }
        assert await eventually(lambda: imap.seen(uid_a)) and await eventually(lambda: second.seen(uid_b))  # noqa: B023
        # A camera set to write to both addresses: the same photo twice, one sighting, both read.
        await imap.append(camera_email([("IMG_0002.JPG", both)]))
        uid = await second.append(camera_email([("IMG_0002.JPG", both)]))
        assert await eventually(lambda: _done(team, 4), 30)  # noqa: B023
        assert await db.scalar("SELECT COUNT(*) FROM sightings") == 3
        assert await eventually(lambda: second.seen(uid))  # noqa: B023
        await team.emu.wait_for(lambda: len(team.alerts()) >= before + 3, timeout=30)  # noqa: B023
        assert len(team.alerts()) == before + 3


async def test_a_broken_mailbox_holds_up_no_other_and_is_named(
    emu: Any,
    settings: Settings,
    detector: Any,
    imap: ImapServer,
    second: ImapServer,
    tmp_path: Path,
) -> None:
    path = mailboxes_file(tmp_path, second_box(second, password="wrong-" + SECOND_PASSWORD))
    configured = imap.settings(settings, mail_poll_seconds=0.5, mailboxes_file=path)
    checks = await _camera_mail(configured)
    assert [(c.name, c.ok) for c in checks] == [("camera mail main", True), ("camera mail park", False)]
    assert f"password of [[mailbox]] 'park' in {path}" in checks[1].detail
    assert SECOND_PASSWORD not in checks[1].detail
    async for team in start_team(emu, configured, detector):
        await team.say(team.admin, "/station add UST-04 43.2100 51.8700 Kaskyrbulak area=UST")
        await team.say(team.admin, "/camera add CAM-17 UST-04 match=cam17@cameras.example")
        waiting = await second.append(
            camera_email([("IMG_1.JPG", leopard_variants(2)[1])], sender="cam17@cameras.example")
        )
        before = len(team.alerts())
        await imap.append(camera_email([("IMG_1.JPG", leopard_variants(1)[0])]))
        await team.emu.wait_for(lambda: len(team.alerts()) == before + 1, timeout=30)  # noqa: B023
        db = team.services.db

        async def told() -> Any:
            return await db.scalar("SELECT text FROM notices WHERE dedup_key LIKE 'mail-login:park:%'")  # noqa: B023

        text = await eventually(told, 30)
        assert isinstance(text, str) and "mailbox park" in text and SECOND_USER in text
        assert "password of [[mailbox]] 'park'" in text and SECOND_PASSWORD not in text
        assert await db.scalar("SELECT COUNT(*) FROM notices WHERE dedup_key LIKE 'mail-login:main:%'") == 0
        assert (
            await db.scalar(
                "SELECT COUNT(*) FROM notices WHERE chat_id = ? AND dedup_key LIKE 'mail-login:%'", (ADMIN,)
            )
            == 1
        )
        # Its mail waits on the server, unread, until the password is fixed.
        assert await second.flags() == {waiting: set()}


def test_a_file_others_can_change_is_refused(tmp_path: Path) -> None:
    """Whoever can edit the file can point `host` at their own server and collect the password."""
    secret = tmp_path / "secret"
    secret.write_text("Secret-3")
    secret.chmod(0o600)
    body = '[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword_file = "secret"\n'
    path = mailboxes_file(tmp_path, body, mode=0o664)
    with pytest.raises(ConfigError, match="chmod go-w"):
        load({"LW_MAILBOXES_FILE": str(path)})
    path.chmod(0o644)  # readable is fine: the password is in the secret file
    assert accounts(load({"LW_MAILBOXES_FILE": str(path)}))[0].password == "Secret-3"
