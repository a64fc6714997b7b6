"""The emulator's second round of real Telegram behaviours (issue 22), through the real PTB client."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from telegram import Bot
from telegram.error import BadRequest, NetworkError

from emulator import BotApiEmulator


def jpeg(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="JPEG")
    return out.getvalue()


async def test_an_albums_caption_is_on_its_first_item_only(emu: BotApiEmulator) -> None:
    ranger = emu.user(1001, "Asha")
    parts = [("photo", jpeg((200, 0, 0))), ("photo", jpeg((0, 200, 0))), ("photo", jpeg((0, 0, 200)))]
    await emu.send_media_group(ranger, parts, caption="UST-04 spring")
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
        updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates if u.message is not None]
    assert len(messages) == 3
    assert [m.caption for m in messages] == ["UST-04 spring", None, None]
    assert len({m.media_group_id for m in messages}) == 1 and messages[0].media_group_id is not None
    assert len({m.message_id for m in messages}) == 3


async def test_a_location_sent_as_a_reply_carries_the_replied_message(emu: BotApiEmulator) -> None:
    ranger = emu.user(1001, "Asha")
    photo = await emu.send_photo(ranger, jpeg((10, 20, 30)), "trap 4")
    await emu.send_location(ranger, 43.2, 51.8, reply_to_message_id=photo["message_id"])
    await emu.send_venue(ranger, 43.3, 51.9, "Spring", "Ustyurt", reply_to_message_id=photo["message_id"])
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
        updates = await bot.get_updates(timeout=0)
    pin, venue = (u.message for u in updates[1:])
    assert pin is not None and venue is not None
    for reply in (pin, venue):
        assert reply.reply_to_message is not None
        assert reply.reply_to_message.message_id == photo["message_id"]
        assert reply.reply_to_message.caption == "trap 4" and reply.reply_to_message.photo
    assert venue.venue is not None and venue.venue.title == "Spring"


async def test_get_file_is_temporarily_unavailable_then_serves_the_same_file_id(emu: BotApiEmulator) -> None:
    ranger = emu.user(1001, "Asha")
    photo = await emu.send_photo(ranger, jpeg((1, 2, 3)))
    file_id = photo["photo"][-1]["file_id"]
    emu.file_temporarily_unavailable(times=2)
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
        for _ in range(2):
            with pytest.raises(BadRequest, match="temporarily unavailable"):
                await bot.get_file(file_id)
        data = await (await bot.get_file(file_id)).download_as_bytearray()
    assert bytes(data)[:2] == b"\xff\xd8"


async def test_an_upload_over_the_limit_answers_413(emu: BotApiEmulator) -> None:
    ranger = emu.user(1001, "Asha")
    emu.limit_uploads(1000)
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
        await bot.send_document(ranger.id, b"x" * 1000, filename="fits.csv")
        with pytest.raises(NetworkError, match="Request Entity Too Large"):
            await bot.send_document(ranger.id, b"x" * 1001, filename="big.csv")
