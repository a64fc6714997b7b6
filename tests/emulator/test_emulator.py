"""The Bot API emulator, exercised through the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from emulator import ApiError, BotApiEmulator, EmulatedUser


def jpeg(width: int = 640, height: int = 480, color: tuple[int, int, int] = (200, 150, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="JPEG")
    return out.getvalue()


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.title(), callback_data=d) for d in data]])


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as client:
        yield client


@pytest.fixture
def ranger(emu: BotApiEmulator) -> EmulatedUser:
    return emu.user(1001, "Asha", username="asha_ranger")


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "leopard_watch_bot", True)


async def test_wrong_token_is_rejected(emu: BotApiEmulator) -> None:
    async with httpx.AsyncClient() as client:
        reply = await client.post(f"{emu.base_url}999:WRONG/getMe")
    assert reply.status_code == 401
    assert reply.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=emu.base_url):
            pass


async def test_raw_http_encodings_and_unknown_method(emu: BotApiEmulator, ranger: EmulatedUser) -> None:
    url = f"{emu.base_url}{emu.token}"
    async with httpx.AsyncClient() as client:
        as_json = await client.post(f"{url}/sendMessage", json={"chat_id": ranger.id, "text": "json"})
        as_query = await client.get(f"{url}/sendmessage", params={"chat_id": ranger.id, "text": "query"})
        unknown = await client.post(f"{url}/launchRocket")
        missing = await client.post(f"{url}/sendMessage", json={"chat_id": ranger.id})
    assert as_json.json()["result"]["text"] == "json"
    assert as_query.json()["result"]["message_id"] == 2
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert missing.json()["description"] == "Bad Request: message text is empty"
    assert [name for name, _ in emu.calls] == ["sendMessage", "sendMessage", "launchRocket", "sendMessage"]
    # The last two calls break the Bot API on purpose; the conformance check must have noticed.
    assert emu.spec_violations == [
        "launchRocket: not a method of Bot API 10.1",
        "sendMessage: required parameter 'text' missing",
    ]
    emu.spec_violations.clear()


async def test_send_message_formats_and_records(bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser) -> None:
    sent = await bot.send_message(
        ranger.id, "<b>Leopard</b> near camera 7 🐆", parse_mode="HTML", reply_markup=keyboard("confirm")
    )
    assert sent.text == "Leopard near camera 7 🐆"
    assert sent.entities[0].type == "bold" and sent.entities[0].length == 7
    assert sent.reply_markup == keyboard("confirm")
    [record] = emu.sent(ranger.id)
    assert record["method"] == "sendMessage" and record["message_id"] == sent.message_id
    assert record["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "confirm"
    assert emu.calls_of("sendMessage")[0]["parse_mode"] == "HTML"

    reply = await bot.send_message(
        ranger.id, "menu", reply_markup=ReplyKeyboardMarkup([["Report"]]), reply_to_message_id=sent.message_id
    )
    # Telegram echoes only inline keyboards in Message objects; the emulator still records the rest.
    assert reply.reply_markup is None and reply.reply_to_message.message_id == sent.message_id
    assert emu.sent(ranger.id)[1]["reply_markup"] == {"keyboard": [[{"text": "Report"}]]}


async def test_send_message_errors_match_telegram(
    bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(424242, "hello")
    with pytest.raises(BadRequest, match=r"(?i)Unsupported start tag"):
        await bot.send_message(ranger.id, "temperature < 5", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)is reserved and must be escaped"):
        await bot.send_message(ranger.id, "Sighting at 5.3 km", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)Button_data_invalid"):
        await bot.send_message(ranger.id, "x", reply_markup=keyboard("s" * 65))
    with pytest.raises(BadRequest, match=r"(?i)Message to be replied not found"):
        await bot.send_message(ranger.id, "x", reply_to_message_id=999)
    assert emu.sent(ranger.id) == []


async def test_send_photo_upload_then_reuse_file_id(
    bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser
) -> None:
    original = jpeg(800, 600)
    first = await bot.send_photo(ranger.id, original, caption="<i>camera 7</i>", parse_mode="HTML")
    assert [(p.width, p.height) for p in first.photo] == [(90, 68), (320, 240), (800, 600)]
    assert len({p.file_unique_id for p in first.photo}) == 3
    assert first.caption == "camera 7" and first.caption_entities[0].type == "italic"
    assert Image.open(io.BytesIO(emu.file_bytes(first.photo[-1].file_id))).size == (800, 600)

    again = await bot.send_photo(ranger.id, first.photo[-1].file_id)
    assert again.photo[-1].file_unique_id == first.photo[-1].file_unique_id
    assert [m["method"] for m in emu.sent(ranger.id)] == ["sendPhoto", "sendPhoto"]

    with pytest.raises(BadRequest, match=r"(?i)Image_process_failed"):
        await bot.send_photo(ranger.id, b"not an image")
    with pytest.raises(BadRequest, match=r"(?i)Wrong file identifier"):
        await bot.send_photo(ranger.id, "AgACAgIAAxkBAAIunknown")


async def test_download_of_user_photo_is_telegram_compressed(
    bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser
) -> None:
    exif = Image.Exif()
    exif[0x0110] = "TrapCam 9"  # camera model: Telegram drops EXIF from compressed photos
    buf = io.BytesIO()
    Image.new("RGB", (1024, 768), (10, 120, 30)).save(buf, format="JPEG", exif=exif)
    original = buf.getvalue()
    message = await emu.send_photo(ranger, original, caption="trap 3")
    assert [p["width"] for p in message["photo"]] == [90, 320, 1024]
    tg_file = await bot.get_file(message["photo"][-1]["file_id"])
    downloaded = bytes(await tg_file.download_as_bytearray())
    assert tg_file.file_size == len(downloaded)
    full = Image.open(io.BytesIO(downloaded))
    assert full.size == (1024, 768) and not full.getexif()
    assert Image.open(io.BytesIO(original)).getexif()[0x0110] == "TrapCam 9"

    thumb = await bot.get_file(message["photo"][0]["file_id"])
    assert Image.open(io.BytesIO(await thumb.download_as_bytearray())).size == (90, 68)

    async with httpx.AsyncClient() as client:
        missing = await client.get(f"{emu.base_file_url}{emu.token}/photos/nope.jpg")
    assert missing.status_code == 404


async def test_get_file_refuses_files_over_20_mb(bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser) -> None:
    message = await emu.send_document(ranger, b"\0" * (20 * 1024 * 1024 + 1), "raw.mp4", "video/mp4")
    assert message["document"]["file_name"] == "raw.mp4"
    with pytest.raises(BadRequest, match=r"(?i)File is too big"):
        await bot.get_file(message["document"]["file_id"])


async def test_send_document_and_media_group(bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser) -> None:
    doc = await bot.send_document(ranger.id, b"date,species\n", filename="report.csv", caption="weekly")
    assert (doc.document.file_name, doc.document.mime_type) == ("report.csv", "text/csv")

    album = await bot.send_media_group(
        ranger.id, [InputMediaPhoto(jpeg(), caption="first"), InputMediaPhoto(jpeg(300, 200))]
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id is not None
    assert album[0].caption == "first" and album[1].caption is None
    assert album[1].photo[-1].width == 300
    assert [m["method"] for m in emu.sent(ranger.id)] == ["sendDocument", "sendMediaGroup", "sendMediaGroup"]


async def test_edits_update_stored_message(bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser) -> None:
    text = await bot.send_message(ranger.id, "Leopard?", reply_markup=keyboard("yes", "no"))
    edited = await bot.edit_message_text("Leopard confirmed", ranger.id, text.message_id)
    assert edited.text == "Leopard confirmed" and edited.edit_date is not None
    # Like Telegram, editing text without reply_markup removes the inline keyboard.
    assert edited.reply_markup is None and "reply_markup" not in emu.sent(ranger.id)[0]
    with pytest.raises(BadRequest, match=r"(?i)Message is not modified"):
        await bot.edit_message_text("Leopard confirmed", ranger.id, text.message_id)

    photo = await bot.send_photo(ranger.id, jpeg(), caption="old")
    recaptioned = await bot.edit_message_caption(ranger.id, photo.message_id, caption="new")
    assert recaptioned.caption == "new"
    marked = await bot.edit_message_reply_markup(ranger.id, photo.message_id, reply_markup=keyboard("ok"))
    assert marked.reply_markup == keyboard("ok")
    assert emu.sent(ranger.id)[1]["caption"] == "new"
    with pytest.raises(BadRequest, match=r"(?i)There is no text in the message to edit"):
        await bot.edit_message_text("x", ranger.id, photo.message_id)
    with pytest.raises(BadRequest, match=r"(?i)Message to edit not found"):
        await bot.edit_message_text("x", ranger.id, 999)

    assert await bot.delete_message(ranger.id, text.message_id)
    assert [m["message_id"] for m in emu.sent(ranger.id)] == [photo.message_id]
    with pytest.raises(BadRequest, match=r"(?i)Message to delete not found"):
        await bot.delete_message(ranger.id, text.message_id)


async def test_button_press_and_callback_answer(bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser) -> None:
    prompt = await bot.send_message(ranger.id, "Is it a leopard?", reply_markup=keyboard("yes", "no"))
    [record] = emu.sent(ranger.id)
    query = await emu.press_button(ranger, record, "yes")
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query.data == "yes"
    assert update.callback_query.message.message_id == prompt.message_id
    assert update.callback_query.from_user.id == ranger.id

    assert await bot.answer_callback_query(query["id"], text="Thanks!")
    assert emu.callback_answer(query["id"]) == {"text": "Thanks!"}
    with pytest.raises(BadRequest, match=r"(?i)Query is too old"):
        await bot.answer_callback_query(query["id"])
    with pytest.raises(ValueError, match=r"(?i)no button with callback_data 'maybe'"):
        await emu.press_button(ranger, record, "maybe")


async def test_commands_are_stored_per_scope_and_language(bot: Bot, emu: BotApiEmulator) -> None:
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("report", "Report a sighting")], scope=scope, language_code="en")
    assert await bot.get_my_commands(scope=scope, language_code="en") == (
        BotCommand("report", "Report a sighting"),
    )
    assert await bot.get_my_commands() == ()
    assert emu.my_commands({"type": "all_private_chats"}, "en")[0]["command"] == "report"
    await bot.delete_my_commands(scope=scope, language_code="en")
    assert await bot.get_my_commands(scope=scope, language_code="en") == ()
    with pytest.raises(BadRequest, match=r"(?i)Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Report!", "bad")])


async def test_blocked_and_kicked_chats_are_forbidden(
    bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser
) -> None:
    group = emu.group(title="North patrol")
    emu.block_chat(ranger.id)
    emu.block_chat(group["id"])
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(ranger.id, "hello")
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the supergroup chat"):
        await bot.send_photo(group["id"], jpeg())
    emu.unblock_chat(ranger.id)
    assert (await bot.send_message(ranger.id, "back")).text == "back"


async def test_chat_queries_membership_and_actions(
    bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser
) -> None:
    group = emu.group(-1001234567890, "North patrol", username="north_patrol")
    private = await bot.get_chat(ranger.id)
    assert (private.type, private.first_name, private.username) == ("private", "Asha", "asha_ranger")
    assert (await bot.get_chat("@north_patrol")).title == "North patrol"

    assert (await bot.get_chat_member(group["id"], ranger.id)).status == "member"
    emu.set_chat_member(group["id"], ranger.id, "administrator", can_delete_messages=True)
    admin = await bot.get_chat_member(group["id"], ranger.id)
    assert admin.status == "administrator" and admin.can_delete_messages is True
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(group["id"], 555)

    assert await bot.send_chat_action(ranger.id, "upload_photo")
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(ranger.id, "dancing")

    reply = await emu.send_text(ranger, "hi bot", chat=group)
    answer = await bot.send_message(group["id"], "hello rangers", reply_to_message_id=reply["message_id"])
    assert answer.reply_to_message.from_user.id == ranger.id and answer.message_id == reply["message_id"] + 1
    assert await bot.leave_chat(group["id"])
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member of the supergroup chat"):
        await bot.send_message(group["id"], "still here?")


# PTB 22 warns that RetryAfter.retry_after will become a timedelta; the test accepts both forms.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_injects_flood_wait_and_server_errors(
    bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser
) -> None:
    other = emu.user(2002, "Coordinator")
    emu.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(ranger.id, "alert")
    retry_after = flood.value.retry_after
    seconds = retry_after.total_seconds() if isinstance(retry_after, dtm.timedelta) else retry_after
    assert seconds == 7
    assert (await bot.send_message(ranger.id, "alert")).text == "alert"

    emu.fail_next("sendMessage", 502, chat_id=other.id, times=2)
    assert await bot.send_message(ranger.id, "unaffected")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(other.id, "alert")
    assert await bot.send_message(other.id, "alert")

    emu.fail_next("getFile", 400, description="Bad Request: wrong file_id")
    with pytest.raises(BadRequest, match=r"(?i)Wrong file_id"):
        await bot.get_file("whatever")
    assert ApiError(429, retry_after=3).payload() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }


async def test_long_poll_returns_injected_update_and_offset_confirms(
    bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    await emu.send_text(ranger, "/report@leopard_watch_bot big cat")
    [update] = await asyncio.wait_for(poll, 2)
    assert update.message.text == "/report@leopard_watch_bot big cat"
    assert update.message.entities[0].type == "bot_command" and update.message.entities[0].length == 25
    assert emu.updates_pending() == 1 and emu.acknowledged_update_id == 0

    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert emu.updates_pending() == 0 and emu.acknowledged_update_id == update.update_id


async def test_unconfirmed_updates_are_redelivered_and_rival_polls_conflict(
    bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser
) -> None:
    await emu.send_text(ranger, "first")
    # Without an offset nothing is confirmed: a restarted bot sees the same update again.
    first = await bot.get_updates(timeout=0)
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in first] == [u.update_id for u in again]
    assert emu.acknowledged_update_id == 0

    older = asyncio.create_task(bot.get_updates(offset=first[-1].update_id + 1, timeout=5))
    await asyncio.sleep(0.05)
    # A second Bot stands for a second process: PTB serialises one client's getUpdates calls itself.
    async with Bot(emu.token, base_url=emu.base_url) as rival:
        newer = asyncio.create_task(rival.get_updates(timeout=5))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
            await asyncio.wait_for(older, 2)
        await emu.stop()  # also ends the pending long poll promptly instead of after its timeout
        assert await asyncio.wait_for(newer, 2) == ()


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_updates_parse_in_ptb(bot: Bot, emu: BotApiEmulator, ranger: EmulatedUser) -> None:
    forwarded = await emu.send_photo(ranger, jpeg(), caption="old trap photo", forward_date=1_700_000_000)
    live = await emu.send_location(ranger, -1.28, 36.82, live_period=900, horizontal_accuracy=15)
    await emu.edit_live_location(ranger, live, -1.29, 36.83)
    await emu.send_venue(ranger, -1.3, 36.8, "Ranger post", "Gate 2")
    text = await emu.send_text(ranger, "leopard", date=1_700_000_500)
    await emu.edit_text(ranger, text, "leopard, two cubs")
    await emu.send_document(ranger, jpeg(), "IMG_1.jpg", "image/jpeg", caption="original")
    group = emu.group(title="Rangers", bot_member=False)
    await emu.add_bot_to_group(ranger, group)
    await emu.channel_post(emu.channel(title="Patrol log"), "patrol started")

    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 10
    first = updates[0].message
    assert first.forward_origin.type == "user" and first.forward_origin.date.timestamp() == 1_700_000_000
    assert first.photo[-1].file_id == forwarded["photo"][-1]["file_id"]
    assert updates[2].edited_message.message_id == live["message_id"]
    assert updates[2].edited_message.location.latitude == -1.29
    assert updates[3].message.venue.title == "Ranger post" and updates[3].message.location is not None
    assert updates[4].message.date.timestamp() == 1_700_000_500
    assert updates[5].edited_message.text == "leopard, two cubs"
    assert updates[6].message.document.thumbnail is not None
    assert updates[7].my_chat_member.new_chat_member.status == "member"
    assert updates[8].message.new_chat_members[0].username == "leopard_watch_bot"
    assert updates[9].channel_post.text == "patrol started"
    assert updates[1].message.location.live_period == 900
    assert [u.message.message_id for u in updates if u.message and u.message.chat.id == ranger.id] == [
        1,
        2,
        3,
        4,
        5,
    ]


async def test_group_privacy_mode_filters_group_chatter(emu: BotApiEmulator) -> None:
    async with BotApiEmulator(group_privacy=True) as private_emu:
        ranger = private_emu.user(7, "Juma")
        group = private_emu.group(title="Rangers")
        await private_emu.send_text(ranger, "just chatting", chat=group)
        await private_emu.send_text(ranger, "/report", chat=group)
        await private_emu.send_photo(ranger, jpeg(), chat=group)
        assert private_emu.updates_pending() == 1


async def test_application_polling_echo(emu: BotApiEmulator, ranger: EmulatedUser) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}", do_quote=True)

    app = (
        Application.builder().token(emu.token).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        sent = await emu.send_text(ranger, "leopard at the river")
        [reply] = await emu.wait_sent(ranger.id, timeout=5)
        assert reply["text"] == "echo: leopard at the river"
        assert reply["reply_to_message"]["message_id"] == sent["message_id"]
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert emu.acknowledged_update_id >= 1 and emu.updates_pending() == 0


async def test_wait_for_timeout_explains_what_happened(emu: BotApiEmulator, ranger: EmulatedUser) -> None:
    with pytest.raises(TimeoutError, match=r"(?i)1 message\(s\) sent to chat 1001"):
        await emu.wait_sent(ranger.id, timeout=0.05)
