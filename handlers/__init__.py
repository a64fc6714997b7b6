"""Every Telegram handler and every periodic job, registered in one place: register(app) and
schedule_jobs(app), both called by bot/app.py, which adds nothing of that kind itself."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.people import Role
from handlers import (
    cameras,
    commands,
    deployments,
    escalations,
    field_checks,
    groups,
    individuals,
    locations,
    mailboxes,
    other_messages,
    photos,
    reviews,
    sightings,
    storage_trouble,
    summaries,
    videos,
)
from handlers.common import (
    drain_outbox,
    final,
    on_error,
    purge_inbox,
    registered_group,
    require,
    unknown_command,
)
from handlers.runtime import Runtime

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
NEW = filters.UpdateType.MESSAGE  # edits of old messages must not create new sightings
DONE_GROUP = 1_000  # after every handler group: the update is finished
OUTBOX_INTERVAL = 3.0  # seconds between periodic outbox runs (new alerts also kick it at once)


def register(app: Application) -> None:
    ranger, coordinator = require(Role.RANGER), require(Role.COORDINATOR)
    # Group -1, before everything below: these commands end the update's processing there (final), so
    # they work whatever order the catch-alls (e.g. "unknown command" in private chats) come in.
    app.add_handlers(
        [
            CommandHandler("week", final(summaries.week_command), filters=GROUPS),
            CommandHandler("month", final(summaries.month_command), filters=GROUPS),
            CommandHandler(
                "export", final(registered_group(coordinator(summaries.export_command))), filters=GROUPS
            ),
            CommandHandler("export", final(coordinator(summaries.export_command)), filters=PRIVATE),
        ],
        group=-1,
    )
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
            # A ranger at the camera (issue 26): its deployment opened or closed, a visit recorded.
            CommandHandler("deploy", ranger(deployments.deploy), filters=PRIVATE),
            CommandHandler("retrieve", ranger(deployments.retrieve), filters=PRIVATE),
            # /check is a conversation (buttons, then the set-up photo and pin): before the photo and
            # location handlers below, so that mid-check a photo is the set-up's, never a sighting.
            field_checks.conversation(ranger),
            # individuals.compare reads individuals' codes, then hands over to movement.compare.
            CommandHandler("compare", coordinator(individuals.compare), filters=PRIVATE),
            # Distances locate leopards: coordinators only, in their group too (the answer has its precision).
            CommandHandler("compare", registered_group(coordinator(individuals.compare)), filters=GROUPS),
            # A track is a set of places: coordinators only, at the reader's precision (issue 25).
            CommandHandler("individuals", coordinator(individuals.individuals_command), filters=PRIVATE),
            CommandHandler(
                "individuals", registered_group(coordinator(individuals.individuals_command)), filters=GROUPS
            ),
            CommandHandler("individual", coordinator(individuals.individual_command), filters=PRIVATE),
            CommandHandler(
                "individual", registered_group(coordinator(individuals.individual_command)), filters=GROUPS
            ),
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
            # A member gone from a group, told twice (service message; chat_member where the bot is an
            # admin): either takes the powers granted there, the other finds nothing left to take.
            MessageHandler(GROUPS & filters.StatusUpdate.LEFT_CHAT_MEMBER, groups.on_member_left),
            ChatMemberHandler(groups.on_member_change, ChatMemberHandler.CHAT_MEMBER),
            CallbackQueryHandler(reviews.on_review, pattern=r"^rv:"),
            CallbackQueryHandler(individuals.on_who, pattern=r"^wi:"),
            CallbackQueryHandler(ranger(escalations.on_escalate), pattern=rf"^{escalations.PREFIX}"),
            CallbackQueryHandler(ranger(locations.on_swap_answer), pattern=rf"^{locations.SWAP_PREFIX}"),
            # A check's button after its conversation ended (done, cancelled, timed out, a restart).
            CallbackQueryHandler(field_checks.stale_button, pattern=rf"^{field_checks.PREFIX}"),
            # Before photos: a video file is a document, and Telegram fills `document` for an animation.
            MessageHandler(PRIVATE & NEW & videos.VIDEO_MESSAGES, ranger(videos.on_video)),
            MessageHandler(PRIVATE & NEW & (filters.PHOTO | filters.Document.ALL), ranger(photos.on_photo)),
            MessageHandler(PRIVATE & NEW & (filters.LOCATION | filters.VENUE), ranger(locations.on_location)),
            MessageHandler(
                PRIVATE & filters.UpdateType.EDITED_MESSAGE & filters.LOCATION, locations.on_live_update
            ),
            # Edits: an edited caption may add a place; another photo or clip swapped in is a sighting
            # replacing the old one (issue 22). Videos first, as for new messages: a video file is a document.
            MessageHandler(
                PRIVATE & filters.UpdateType.EDITED_MESSAGE & videos.VIDEO_MESSAGES,
                ranger(videos.on_video_edit),
            ),
            MessageHandler(
                PRIVATE & filters.UpdateType.EDITED_MESSAGE & (filters.PHOTO | filters.Document.ALL),
                ranger(photos.on_caption_edit),
            ),
            MessageHandler(PRIVATE & NEW & filters.COMMAND, unknown_command),
            MessageHandler(PRIVATE & NEW & filters.TEXT, ranger(locations.on_text)),
            # Last: whatever else arrives (voice, sticker, video, contact, dice ...) gets a reply.
            MessageHandler(PRIVATE & NEW & ~filters.StatusUpdate.ALL, ranger(other_messages.on_other)),
        ]
    )
    # Last of all, in a group of its own: the update is finished in the inbox (bot/botapi/inbox.py), unless
    # a handler deferred it (storage was down, an album's receipt is owed), so a restart replays it.
    app.add_handler(TypeHandler(Update, Runtime.of(app).inbox.mark_done), group=DONE_GROUP)
    app.add_error_handler(on_error)


def schedule_jobs(app: Application) -> None:
    """Every periodic job. Jobs first run once the Application has started, after post_init, so the
    services exist by then."""
    jobs = app.job_queue
    assert jobs is not None
    # New alerts and notices kick a delivery at once (handlers/common.py kick_outbox); this run is for
    # retries (flood waits, Telegram unreachable) and whatever a kick missed.
    jobs.run_repeating(drain_outbox, OUTBOX_INTERVAL, first=0.5, name="outbox")
    # Finished updates are kept a week (bot/botapi/inbox.py KEEP_DONE): trimming once a day is plenty.
    jobs.run_repeating(purge_inbox, timedelta(days=1), first=timedelta(hours=1), name="inbox-purge")
    # Photos deferred because the disk or the database failed; the job keeps its own backoff.
    tick = storage_trouble.RETRY_TICK
    jobs.run_repeating(storage_trouble.retry_deferred, tick, first=tick, name="storage-retry")
    # Weekly summaries: the per-group jobs come from the groups table, so a sync job builds them soon
    # after the start and repairs them every few minutes (and sends what is owed: handlers/summaries.py).
    jobs.run_once(summaries.sync_schedules, 0.5, name="summary-sync-start")
    every = summaries.SYNC_INTERVAL
    jobs.run_repeating(summaries.sync_schedules, every, first=every, name="summary-sync")
    # Cellular cameras' mailboxes, if any (bot/cameras/mail/accounts.py): a job each, at its own interval.
    mailboxes.schedule(app)
    # "Who is this?" under confirmed leopard alerts, queued with the confirmation (handlers/individuals.py).
    jobs.run_repeating(individuals.deliver_questions, OUTBOX_INTERVAL, first=1.0, name="who-is-this")
