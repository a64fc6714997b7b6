"""Every Telegram handler, registered in one place."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Role
from handlers import commands, escalations, groups, locations, movement, photos, reviews, sightings
from handlers.common import registered_group, require, unknown_command

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
NEW = filters.UpdateType.MESSAGE  # edits of old messages must not create new sightings


def register(app: Application) -> None:
    ranger, coordinator = require(Role.RANGER), require(Role.COORDINATOR)
    app.add_handlers(
        [
            CommandHandler("start", commands.start, filters=PRIVATE),
            CommandHandler("help", commands.help_command),
            CommandHandler("lang", commands.lang_command, filters=PRIVATE),
            CommandHandler("invite", commands.invite, filters=PRIVATE),
            CommandHandler("rangers", commands.rangers, filters=PRIVATE),
            CommandHandler("suspend", commands.suspend, filters=PRIVATE),
            CommandHandler("remove", commands.remove, filters=PRIVATE),
            CommandHandler("restore", commands.restore, filters=PRIVATE),
            CommandHandler("mine", commands.mine, filters=PRIVATE),
            CommandHandler("station", commands.station, filters=PRIVATE),
            CommandHandler("compare", coordinator(movement.compare), filters=PRIVATE),
            CommandHandler("compare", registered_group(movement.compare), filters=GROUPS),
            CommandHandler("sighting", coordinator(sightings.sighting_command), filters=PRIVATE),
            CommandHandler("sighting", registered_group(sightings.sighting_command), filters=GROUPS),
            CommandHandler("register", groups.register, filters=GROUPS),
            CommandHandler("trusted", groups.trusted, filters=GROUPS),
            CommandHandler("areas", groups.areas, filters=GROUPS),
            CommandHandler("settings", groups.group_settings, filters=GROUPS),
            MessageHandler(GROUPS & filters.StatusUpdate.NEW_CHAT_MEMBERS, groups.on_added),
            CallbackQueryHandler(reviews.on_review, pattern=r"^rv:"),
            CallbackQueryHandler(ranger(escalations.on_escalate), pattern=rf"^{escalations.PREFIX}"),
            MessageHandler(PRIVATE & NEW & (filters.PHOTO | filters.Document.ALL), ranger(photos.on_photo)),
            MessageHandler(PRIVATE & NEW & (filters.LOCATION | filters.VENUE), ranger(locations.on_location)),
            MessageHandler(
                PRIVATE & filters.UpdateType.EDITED_MESSAGE & filters.LOCATION, locations.on_live_update
            ),
            MessageHandler(PRIVATE & NEW & filters.COMMAND, unknown_command),
            MessageHandler(PRIVATE & NEW & filters.TEXT, ranger(locations.on_text)),
        ]
    )
