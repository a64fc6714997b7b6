"""The emulator answers as Telegram does when groups change under the bot (real PTB client, raw calls)."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator

import pytest
from PIL import Image
from telegram import Bot, ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden

from emulator import BotApiEmulator


def jpeg(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 40)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as client:
        yield client


async def _updates(bot: Bot) -> list[Update]:
    return list(await bot.get_updates(timeout=0))


async def test_migration_service_messages_and_migrate_to_chat_id(bot: Bot, emu: BotApiEmulator) -> None:
    admin = emu.user(1, "Aigerim")
    basic = emu.group(-4_000_001, "Team", supergroup=False)
    new = await emu.migrate_group(basic, admin)
    assert new["type"] == "supergroup" and new["id"] < -(10**12) and new["title"] == "Team"
    updates = await _updates(bot)
    assert [u.message.migrate_to_chat_id for u in updates if u.message] == [new["id"], None]
    assert [u.message.migrate_from_chat_id for u in updates if u.message] == [None, basic["id"]]
    with pytest.raises(ChatMigrated) as err:
        await bot.send_message(basic["id"], "hello")
    assert err.value.new_chat_id == new["id"]
    assert (await bot.send_message(new["id"], "hello")).chat.id == new["id"]


async def test_forum_topics_closed_deleted_and_general(bot: Bot, emu: BotApiEmulator) -> None:
    admin = emu.user(1, "Aigerim")
    forum = emu.group(title="Forum", forum=True)
    topic = await emu.create_topic(forum, "Alerts", admin)
    await emu.send_text(admin, "/register", forum, thread_id=topic)
    updates = await _updates(bot)
    command = updates[-1].message
    assert command is not None and command.is_topic_message and command.message_thread_id == topic
    assert command.chat.is_forum
    sent = await bot.send_message(forum["id"], "in topic", message_thread_id=topic)
    assert sent.message_thread_id == topic and sent.is_topic_message
    emu.close_topic(forum, topic)
    with pytest.raises(BadRequest, match=r"(?i)topic_closed"):
        await bot.send_message(forum["id"], "closed", message_thread_id=topic)
    emu.delete_topic(forum, topic)
    with pytest.raises(BadRequest, match=r"(?i)thread not found"):
        await bot.send_message(forum["id"], "deleted", message_thread_id=topic)
    assert (await bot.send_message(forum["id"], "general")).message_thread_id is None
    emu.close_general(forum)
    with pytest.raises(BadRequest, match=r"(?i)topic_closed"):
        await bot.send_message(forum["id"], "general closed")


async def test_anonymous_admin_kick_and_vanished_chat(bot: Bot, emu: BotApiEmulator) -> None:
    admin = emu.user(1, "Aigerim")
    group = emu.group(title="Team")
    await emu.send_as_anonymous_admin(group, "/trusted on")
    await emu.kick_bot(group, admin)
    updates = await _updates(bot)
    anon = updates[0].message
    assert anon is not None and anon.from_user is not None
    assert anon.from_user.username == "GroupAnonymousBot" and anon.sender_chat is not None
    assert anon.sender_chat.id == group["id"]
    change = updates[1].my_chat_member
    assert isinstance(change, ChatMemberUpdated) and change.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match=r"(?i)kicked"):
        await bot.send_message(group["id"], "still here?")
    other = emu.group(title="Gone")
    emu.delete_chat(other)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(other["id"], "hello")


async def test_restricted_media_and_users_who_never_started(bot: Bot, emu: BotApiEmulator) -> None:
    group = emu.group(title="Strict")
    emu.restrict_bot(group, photos=False, documents=False)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to send photos"):
        await bot.send_photo(group["id"], jpeg())
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to send documents"):
        await bot.send_document(group["id"], b"a,b\n", filename="x.csv")
    assert (await bot.send_message(group["id"], "text is fine")).text == "text is fine"
    shy = emu.user(2, "Dana", started=False)
    with pytest.raises(Forbidden, match=r"(?i)initiate conversation"):
        await bot.send_message(shy.id, "hello")
    await emu.send_text(shy, "/start")  # writing to the bot opens the chat
    assert (await bot.send_message(shy.id, "hello")).chat.id == shy.id


async def test_photo_upload_limits(bot: Bot, emu: BotApiEmulator) -> None:
    chat = emu.user(3, "Serik").id
    with pytest.raises(BadRequest, match=r"(?i)photo_INVALID_DIMENSIONS"):
        await bot.send_photo(chat, jpeg(9000, 1200))  # width + height > 10000
    with pytest.raises(BadRequest, match=r"(?i)photo_INVALID_DIMENSIONS"):
        await bot.send_photo(chat, jpeg(4200, 200))  # ratio > 20
    big = io.BytesIO()
    Image.frombytes("RGB", (2000, 2000), os.urandom(2000 * 2000 * 3)).save(big, format="PNG")
    assert big.tell() > 10 * 1024 * 1024
    with pytest.raises(BadRequest, match=r"(?i)photo_SAVE_FILE_INVALID"):
        await bot.send_photo(chat, big.getvalue())


async def test_expired_callback_query(bot: Bot, emu: BotApiEmulator) -> None:
    user = emu.user(4, "Dana")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    message = await bot.send_message(user.id, "press", reply_markup=markup)
    query = await emu.press_button(user, message.to_dict(), "go")
    emu.expire_callbacks()
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query["id"])
    emu.set_callback_ttl(0.0)
    fresh = await emu.press_button(user, message.to_dict(), "go")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(fresh["id"])


async def test_privacy_mode_bare_commands_after_another_bot(bot: Bot, emu: BotApiEmulator) -> None:
    admin = emu.user(1, "Aigerim")
    group = emu.group(title="Team")
    await emu.send_text(admin, "just chatting", group)  # privacy mode: never delivered
    await emu.send_text(admin, "/week", group)  # delivered: no other bot spoke last
    emu.other_bot_posts(group)
    await emu.send_text(admin, "/week", group)  # now meant for the other bot
    await emu.send_text(admin, "/week@leopard_watch_bot", group)
    texts = [u.message.text for u in await _updates(bot) if u.message]
    assert texts == ["/week", "/week@leopard_watch_bot"]
