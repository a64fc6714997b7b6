"""Telegram Bot API emulator for tests and scripted demos.

The real python-telegram-bot client talks to it over loopback HTTP:

    async with BotApiEmulator() as emu:
        bot = telegram.Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url)
        ranger = emu.user(1001, "Asha")
        await emu.send_photo(ranger, jpeg_bytes, caption="camera 7")
        ...  # run the bot's Application against the same URLs
        replies = await emu.wait_sent(ranger.id)
"""

from .errors import ApiError
from .server import BotApiEmulator
from .users import EmulatedUser

__all__ = ["ApiError", "BotApiEmulator", "EmulatedUser"]
