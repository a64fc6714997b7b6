"""Every registered command and button answers hostile arguments with a reply (its usage, or a refusal),
never "Something went wrong", never "Unknown command", and nothing is logged at ERROR.

The commands and button prefixes are read from the running Application's own handlers (handlers/__init__.py
registers them all), so a command added later is covered without touching this file. Each command is sent,
by an admin (allowed everything) in every chat kind its filters accept, each hostile value alone and
twice, and after each word its usage names, one to three times (the reply to "/cmd ?" is the usage of
most commands: so "/camera remove ²", "/camera assign ³ ³", "/export since 0001-01-01" are all sent).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram import Chat, Message, MessageEntity, Update
from telegram.ext import AIORateLimiter, Application, CallbackQueryHandler, CommandHandler

import bot.app
from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from bot.text import LANGUAGES, t
from emulator import BotApiEmulator, EmulatedUser
from handlers.summaries import parse_export_args
from tests.conftest import ADMIN, GROUP, Team, eventually, leopard_variants, start_team

HUGE = "9" * 30
HOSTILE = [
    "",
    HUGE,
    "9223372036854775808",  # 2**63: one past SQLite's INTEGER
    "0",
    "-1",
    "²",
    "³",
    "٣",  # Arabic-Indic three: isdigit() and int() both accept it
    "１２",  # fullwidth digits
    "0001-01-01",
    "9999-12-31",
    "Asia",
    "../../etc/passwd",
    "nan",
    "1e999",
    "<b>",
    "x" * 5000,
]
# Callback data is at most 64 bytes; a forged one can carry anything within that.
HOSTILE_DATA = [v.encode()[:60].decode(errors="ignore") for v in HOSTILE]
PARALLEL = 6  # private chats (admins) and groups each: one message per chat per wave
WAVE_TIMEOUT = 15.0  # seconds for one wave: a few updates, each answered in milliseconds


@dataclass
class Chats:
    team: Team
    admins: list[EmulatedUser]
    groups: list[dict[str, Any]]
    pushed: int = 0  # updates pushed since the start (the inbox counts the finished ones)
    base: int = 0
    failures: list[str] = field(default_factory=list)

    async def finished(self) -> int:
        return int(await self.team.services.db.scalar("SELECT COUNT(*) FROM inbox WHERE done_at IS NOT NULL"))

    async def settled(self) -> bool:
        """Every update pushed so far is finished (its handlers, their replies and errors, are done)."""
        return await self.finished() >= self.base + self.pushed


@pytest.fixture
async def chats(
    emu: BotApiEmulator, settings: Settings, detector: OnnxLeopardDetector, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Chats]:
    # Telegram's flood limits (20 messages a minute in a group) are not under test here; lifted, so the
    # thousands of replies below take seconds, not hours.
    monkeypatch.setattr(
        bot.app, "AIORateLimiter", lambda **_: AIORateLimiter(overall_max_rate=0, group_max_rate=0)
    )
    langs = itertools.cycle(["en", "ru", "kk"])  # the usage must come in the asker's language
    admin_ids = [ADMIN] + [ADMIN + 100 + i for i in range(PARALLEL - 1)]
    async for team in start_team(emu, settings.with_(admin_ids=frozenset(admin_ids)), detector):
        admins = [team.admin] + [emu.user(i, f"Admin{i}", language_code=next(langs)) for i in admin_ids[1:]]
        groups = [team.group]
        for i in range(1, PARALLEL):
            group = emu.group(GROUP - i, f"Coordinators {i}")
            await team.say(team.admin, f"/register {next(langs)}", group)
            groups.append(group)
        for admin in admins[1:]:
            await team.say(admin, "/start")
        await seed(team)
        crew = Chats(team, admins, groups)
        await settle(crew)
        yield crew


async def seed(team: Team) -> None:
    """Something for every id and code to be looked up against: a station, a camera, an unknown camera
    (the registry compared typed numbers with its rows only when there were rows), two sightings."""
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.say(team.admin, "/camera add CAM-17 UST-04 match=cam17@cameras.example")
    async with team.services.db.transaction() as conn:
        await team.services.cameras.unknown(conn, "stranger@mail.example")
    for i, photo in enumerate(leopard_variants(2)):
        await team.photo(team.ranger, photo, f"43.2{i}, 51.87")


async def settle(crew: Chats) -> None:
    """Wait until every update so far is finished (those of the setup too), and count from there."""
    await eventually(
        lambda: crew.team.services.db.scalar("SELECT COUNT(*) = 0 FROM inbox WHERE done_at IS NULL")
    )
    crew.base = await crew.finished() - crew.pushed


def probe(app: Application, command: str, chat_type: str) -> Update:
    """An update with "/command" in a chat of this type, to ask a handler whether it would take it."""
    chat = Chat(id=1 if chat_type == Chat.PRIVATE else -1, type=chat_type)
    text = f"/{command}"
    entity = MessageEntity(MessageEntity.BOT_COMMAND, 0, len(text))
    msg = Message(1, datetime.now(UTC), chat, text=text, entities=(entity,))
    msg.set_bot(app.bot)
    return Update(1, message=msg)


def registered(app: Application) -> tuple[list[tuple[str, str]], list[str]]:
    """(command, chat type) pairs the handlers accept, and the callback data prefixes they answer."""
    commands: set[tuple[str, str]] = set()
    prefixes: set[str] = set()
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                for command, kind in itertools.product(handler.commands, (Chat.PRIVATE, Chat.SUPERGROUP)):
                    if handler.check_update(probe(app, command, kind)):
                        commands.add((command, kind))
            elif isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern):
                prefixes.add(handler.pattern.pattern.lstrip("^"))
    return sorted(commands), sorted(prefixes)


def verbs(command: str, usage: str) -> list[str]:
    """The words a usage text puts after "/command" ("add", "since", "csv;" ...), to build hostile
    arguments in the places where real ones go."""
    found: list[str] = []
    for line in usage.splitlines():
        for match in re.finditer(rf"/{command}\s+(\S+)", line):
            found += re.split(r"[\[\]|,]", match.group(1))
        if f"/{command}" in line:
            found += [w for group in re.findall(r"\[([^\]]*)\]", line) for w in group.split()]
    return sorted({w for w in found if re.fullmatch(r"[a-z]+;?", w)})


def argument_lines(words: list[str]) -> list[str]:
    lines: list[str] = []
    for value in HOSTILE:
        lines += [value, f"{value} {value}"]
        lines += [f"{w} {value}" for w in words] + [f"{w} {value} {value}" for w in words]
        lines += [f"{w} {value} {value} {value}" for w in words]
    return list(dict.fromkeys(line.strip() for line in lines))


FORBIDDEN = {t(lang, key) for lang in LANGUAGES for key in ("error.internal", "command.unknown")}

Send = tuple[int, str, Callable[[], Awaitable[Any]]]  # chat id, what was sent, the send itself


async def wave(crew: Chats, sends: list[Send], caplog: pytest.LogCaptureFixture) -> dict[int, list[Any]]:
    """Send one update per chat at once, wait until the bot has finished every one of them, and return
    what each chat got. Failures (the generic error, "Unknown command", an ERROR log, a hang) are
    collected in crew.failures rather than raised, so one run shows them all."""
    emu = crew.team.emu
    before = {chat: len(emu.sent(chat)) for chat, _, _ in sends}
    caplog.clear()
    await asyncio.gather(*(send() for _, _, send in sends))
    crew.pushed += len(sends)
    sent = [what[:80] for _, what, _ in sends]
    try:
        await eventually(lambda: crew.settled(), timeout=WAVE_TIMEOUT)
    except AssertionError:
        crew.failures.append(f"not finished within {WAVE_TIMEOUT}s: {sent}")
        crew.base = await crew.finished() - crew.pushed  # carry on with the rest
    if errors := [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]:
        crew.failures.append(f"ERROR logged during {sent}: {errors[:2]}")
    replies: dict[int, list[Any]] = {}
    for chat, what, _ in sends:
        replies[chat] = emu.sent(chat)[before[chat] :]
        texts = [m.get("text") or m.get("caption") or "" for m in replies[chat]]
        if bad := [x for x in texts if x in FORBIDDEN]:
            crew.failures.append(f"{what[:80]!r} in chat {chat} answered {bad[0][:60]!r}")
    return replies


def command_sends(crew: Chats, command: str, kind: str, lines: list[str]) -> list[list[Send]]:
    """The lines for one command, cut into waves of one per chat of that kind."""
    emu = crew.team.emu
    waves: list[list[Send]] = []
    for start in range(0, len(lines), PARALLEL):
        batch: list[Send] = []
        for i, line in enumerate(lines[start : start + PARALLEL]):
            text = f"/{command} {line}".strip()
            if kind == Chat.PRIVATE:
                user, chat, target = crew.admins[i], None, crew.admins[i].id
            else:
                user, chat, target = crew.admins[0], crew.groups[i], crew.groups[i]["id"]
            batch.append((target, text, functools.partial(emu.send_text, user, text, chat)))
        waves.append(batch)
    return waves


async def test_every_command_answers_hostile_arguments(
    chats: Chats, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    crew = chats
    commands, _ = registered(crew.team.app)
    assert {("camera", Chat.PRIVATE), ("export", Chat.SUPERGROUP), ("settings", Chat.SUPERGROUP)} <= set(
        commands
    ), commands  # the walk found the registration
    for command, kind in commands:
        chat = crew.admins[0].id if kind == Chat.PRIVATE else crew.groups[0]["id"]
        replies = (await wave(crew, command_sends(crew, command, kind, ["?"])[0], caplog))[chat]
        if not replies:
            crew.failures.append(f"/{command} ? in a {kind} chat: no reply")
        usage = "\n".join(m.get("text") or m.get("caption") or "" for m in replies)
        for batch in command_sends(crew, command, kind, argument_lines(verbs(command, usage))):
            got = await wave(crew, batch, caplog)
            for target, what, _ in batch:
                if not got[target]:
                    crew.failures.append(f"{what[:80]!r} in a {kind} chat: no reply")
    assert not crew.failures, f"{len(crew.failures)} failure(s):\n" + "\n".join(crew.failures[:300])


async def test_every_button_answers_forged_data(chats: Chats, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    crew, emu = chats, chats.team.emu
    _, prefixes = registered(crew.team.app)
    assert len(prefixes) >= 3, prefixes
    # A message of the bot's in each chat to hang the forged buttons on.
    anchors = [(u, (await crew.team.say(u, "/help"))) for u in crew.admins]
    anchors += [(crew.admins[0], await crew.team.say(crew.admins[0], "/help", g)) for g in crew.groups]
    await settle(crew)
    data = [p + v for p in prefixes for v in HOSTILE_DATA] + [
        f"{p}{v}:{v}"[:64] for p in prefixes for v in HOSTILE_DATA
    ]
    queries: list[tuple[str, str]] = []
    pending = [(user, anchor, d) for d in dict.fromkeys(data) for user, anchor in anchors]
    for start in range(0, len(pending), len(anchors)):
        batch = pending[start : start + len(anchors)]

        async def press(user: EmulatedUser, anchor: dict[str, Any], d: str) -> None:
            query = await emu.press_button(user, anchor, d, check=False)
            queries.append((query["id"], f"{d!r} in chat {anchor['chat']['id']}"))

        sends: list[Send] = [
            (anchor["chat"]["id"], d, functools.partial(press, user, anchor, d)) for user, anchor, d in batch
        ]
        await wave(crew, sends, caplog)
    unanswered = [what for query_id, what in queries if emu.callback_answer(query_id) is None]
    assert not unanswered, f"{len(unanswered)} press(es) never answered, e.g. {unanswered[:20]}"
    assert not crew.failures, f"{len(crew.failures)} failure(s):\n" + "\n".join(crew.failures[:300])


ISSUE_CASES = [
    (Chat.PRIVATE, "en", "/export csv since 0001-01-01", "export.usage"),
    (Chat.PRIVATE, "ru", "/export csv until 9999-12-31", "export.usage"),
    (Chat.SUPERGROUP, "kk", "/export csv since 0001-01-01", "export.usage"),
    (Chat.PRIVATE, "kk", "/camera remove ²", "camera.error.usage"),
    (Chat.PRIVATE, "en", "/camera assign ³ UST-04", "camera.error.usage"),
    (Chat.SUPERGROUP, "ru", "/settings tz Asia", "group.settings_usage"),
    (Chat.SUPERGROUP, "en", "/settings tz ../../etc/passwd", "group.settings_usage"),
    (Chat.PRIVATE, "ru", "/invite ²", "invite.usage"),
    (Chat.SUPERGROUP, "kk", "/areas " + "x" * 5000, "group.areas_usage"),
]


@pytest.mark.parametrize(("kind", "lang", "text", "key"), ISSUE_CASES)
async def test_the_reported_cases_get_their_usage(
    team: Team, kind: str, lang: str, text: str, key: str
) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87")
    await team.say(team.admin, "/camera add CAM-17 UST-04")  # the registry compared numbers with its rows
    chat = team.group if kind == Chat.SUPERGROUP else None
    # The asker's language: the admin's own in private, the group's in a group.
    await team.say(team.admin, f"/settings lang {lang}" if chat else f"/lang {lang}", chat)
    before = len(team.emu.sent(chat["id"] if chat else team.admin.id))
    reply = await team.say(team.admin, text, chat)
    assert reply["text"] == t(lang, key)
    # One answer, not a usage and then "Unknown command" as well: counted once the update is finished.
    await eventually(lambda: team.services.db.scalar("SELECT COUNT(*) = 0 FROM inbox WHERE done_at IS NULL"))
    assert len(team.emu.sent(chat["id"] if chat else team.admin.id)) == before + 1


# The export's arguments, parsed on their own: dates outside 2000-01-01 .. a year ahead are the usage.
NOW = datetime(2025, 6, 15, 12, tzinfo=UTC)
AQTAU = ZoneInfo("Asia/Aqtau")


@pytest.mark.parametrize(
    "args",
    [
        ["since", "0001-01-01"],
        ["until", "9999-12-31"],
        ["csv", "since", "0001-01-01"],
        ["csv", "until", "9999-12-31"],
        ["0001-01-01"],
        ["9999-12-31", "9999-12-31"],
        ["since", "1999-12-31"],  # before the window
        ["until", "2026-06-17"],  # more than a year ahead
        ["since", "２０２４-０１-０１"],
        ["since", "20240101x"],
        ["since"],  # no date after it
        ["since", "2024-01-01", "since", "2024-02-01"],  # given twice
        ["since", "until", "2024-01-01"],
        ["2024-02-01", "2024-01-01"],  # since after until
        ["x" * 5000],
    ],
)
def test_export_arguments_outside_the_window_are_the_usage(args: list[str]) -> None:
    assert parse_export_args(args, AQTAU, NOW) is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ("csv", date(2025, 5, 17), date(2025, 6, 15))),
        (["kml", "since", "2000-01-01"], ("kml", date(2000, 1, 1), date(2025, 6, 15))),
        (["csv;", "2024-01-01", "2024-01-31"], ("csv;", date(2024, 1, 1), date(2024, 1, 31))),
        (["until", "2026-06-15"], ("csv", date(2026, 5, 17), date(2026, 6, 15))),
        (["until", "2000-01-10"], ("csv", date(2000, 1, 1), date(2000, 1, 10))),  # the window's start
    ],
)
def test_export_arguments(args: list[str], expected: tuple[str, date, date]) -> None:
    assert parse_export_args(args, AQTAU, NOW) == expected
