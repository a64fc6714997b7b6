"""Forwarded media: who saw it, and whether it counts as the team's own sighting (issue 22).

A forward's capture time is never when it reached the bot: the origin's date is an upper bound
(bot.media.capture_time, TimeSource.FORWARD_DATE). Its place is never where the forwarder is (their
pin or live location says where the phone is now, not where a photo from a channel was taken); it may
still get a place its caption or a reply names.

Who the observer is:
- forwarded from a registered ranger or coordinator (MessageOriginUser whose id the team knows): that
  ranger is the observer, and the forwarder is kept as "forwarded by";
- forwarded from anywhere else (a channel, a chat, a hidden or unknown user): a *reported* sighting,
  stored and alerted as reported, but kept out of movement lines (bot.alerts.movement, the weekly
  summary's moves) until a coordinator confirms it on its alert.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.intake.types import ForwardOrigin, PhotoIntake
from bot.text import plain
from storage.db import Database, iso

KINDS = ("user", "hidden_user", "chat", "channel")
NAME_LIMIT = 64  # a channel title is at most 128 characters; the alert quotes, it does not reproduce


def origin(kind: str, date: datetime, name: str | None, from_id: int | None) -> ForwardOrigin:
    """A ForwardOrigin from what a message says. A kind this bot does not know (a newer Bot API) is
    kept as a hidden user's: from outside, reported, never taken for a ranger's own photo."""
    cleaned = plain(name, NAME_LIMIT) or None
    if kind not in KINDS:
        return ForwardOrigin("hidden_user", date.astimezone(UTC), cleaned, None)
    return ForwardOrigin(kind, date.astimezone(UTC), cleaned, from_id)


async def registered_observer(db: Database, found: ForwardOrigin) -> int | None:
    """The team member a forward came from: a user origin whose id is an active ranger or coordinator."""
    if found.kind != "user" or found.from_id is None:
        return None
    row = await db.fetchone(
        "SELECT user_id FROM rangers WHERE user_id = ? AND status = 'active' "
        "AND role IN ('ranger', 'coordinator')",
        (found.from_id,),
    )
    return None if row is None else int(row["user_id"])


async def intake_columns(db: Database, intake: PhotoIntake) -> dict[str, object]:
    """The sightings columns issue 22 adds, for one photo or clip: its file's unique id, the one it
    replaces, and a forward's origin with who the observer is. Names are constants, values bound."""
    columns: dict[str, object] = {}
    if intake.file_unique_id:
        columns["file_unique_id"] = intake.file_unique_id
    if intake.replaces_id is not None:
        columns["replaces_id"] = intake.replaces_id
    found = intake.origin
    if found is None:
        return columns
    columns |= {
        "forward_kind": found.kind,
        "forward_name": found.name,
        "forward_from_id": found.from_id,
        "forward_date": iso(found.date),
    }
    observer = await registered_observer(db, found)
    if observer is None:
        columns["reported"] = 1
    elif observer != intake.ranger.user_id:
        columns["ranger_id"] = observer
        columns["forwarded_by"] = intake.ranger.user_id
    return columns
