"""Every Telegram handler, registered in one place."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.people.access import Role
from handlers import (
    cameras,
    commands,
    escalations,
    groups,
    locations,
    movement,
    other_messages,
    photos,
    reviews,
    sightings,
    videos,
)
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
            CommandHandler("camera", cameras.camera, filters=PRIVATE),
            CommandHandler("compare", coordinator(movement.compare), filters=PRIVATE),
            # Distances locate leopards: coordinators only, in their group too (the answer has its precision).
            CommandHandler("compare", registered_group(coordinator(movement.compare)), filters=GROUPS),
            CommandHandler("sighting", coordinator(sightings.sighting_command), filters=PRIVATE),
            CommandHandler("sighting", registered_group(sightings.sighting_command), filters=GROUPS),
            CommandHandler("register", groups.register, filters=GROUPS),
            CommandHandler("trusted", groups.trusted, filters=GROUPS),
            CommandHandler("areas", groups.areas, filters=GROUPS),
            CommandHandler("settings", groups.group_settings, filters=GROUPS),
            CommandHandler("coordinator", groups.make_coordinator, filters=GROUPS),
            CommandHandler("ranger", groups.make_ranger, filters=GROUPS),
            MessageHandler(GROUPS & filters.StatusUpdate.NEW_CHAT_MEMBERS, groups.on_added),
            MessageHandler(filters.StatusUpdate.MIGRATE, groups.on_migrate),
            ChatMemberHandler(groups.on_my_membership, ChatMemberHandler.MY_CHAT_MEMBER),
            CallbackQueryHandler(reviews.on_review, pattern=r"^rv:"),
            CallbackQueryHandler(ranger(escalations.on_escalate), pattern=rf"^{escalations.PREFIX}"),
            CallbackQueryHandler(ranger(locations.on_swap_answer), pattern=rf"^{locations.SWAP_PREFIX}"),
            # Before photos: a video file is a document, and Telegram fills `document` for an animation.
            MessageHandler(PRIVATE & NEW & videos.VIDEO_MESSAGES, ranger(videos.on_video)),
            MessageHandler(PRIVATE & NEW & (filters.PHOTO | filters.Document.ALL), ranger(photos.on_photo)),
            MessageHandler(PRIVATE & NEW & (filters.LOCATION | filters.VENUE), ranger(locations.on_location)),
            MessageHandler(
                PRIVATE & filters.UpdateType.EDITED_MESSAGE & filters.LOCATION, locations.on_live_update
            ),
            MessageHandler(  # an edited caption may add a place; an edit is never a new sighting
                PRIVATE & filters.UpdateType.EDITED_MESSAGE & (filters.PHOTO | filters.Document.ALL),
                ranger(photos.on_caption_edit),
            ),
            MessageHandler(  # a video's caption too (an animation or video file is matched above)
                PRIVATE & filters.UpdateType.EDITED_MESSAGE & videos.VIDEO_MESSAGES,
                ranger(photos.on_caption_edit),
            ),
            MessageHandler(PRIVATE & NEW & filters.COMMAND, unknown_command),
            MessageHandler(PRIVATE & NEW & filters.TEXT, ranger(locations.on_text)),
            # Last: whatever else arrives (voice, sticker, video, contact, dice ...) gets a reply.
            MessageHandler(PRIVATE & NEW & ~filters.StatusUpdate.ALL, ranger(other_messages.on_other)),
        ]
    )
