"""Who may do what: admins (from config), coordinators, rangers, and everyone else (outsiders).

Admins are named in LW_ADMIN_IDS and nobody in Telegram can change that. They make and unmake
coordinators; coordinators manage rangers. POWERS is that table (docs/ROLES.md shows it, and a test
checks the two agree): an (actor, action, target) triple not in it is refused. A power over a person
is judged by the role the person holds in the database (a suspended coordinator is still a
coordinator to restore), never by what they can do at the moment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

import aiosqlite

from bot.people.notices import queue_admin_notice
from storage.db import Database, iso, parse_iso, utcnow

INVITE_TTL = timedelta(days=7)


class Role(IntEnum):
    OUTSIDER = 0
    SUSPENDED = 1
    RANGER = 2
    COORDINATOR = 3
    ADMIN = 4


class Action(StrEnum):
    SUSPEND = "suspend"
    REMOVE = "remove"
    RESTORE = "restore"
    INVITE = "invite"  # make a one-time invite link for the target role


class Target(StrEnum):
    RANGER = "ranger"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


_MANAGE = (Action.SUSPEND, Action.REMOVE, Action.RESTORE)

POWERS: frozenset[tuple[Role, Action, Target]] = frozenset(
    {(Role.ADMIN, a, t) for a in _MANAGE for t in (Target.RANGER, Target.COORDINATOR)}
    | {(Role.COORDINATOR, a, Target.RANGER) for a in _MANAGE}
    | {
        (Role.ADMIN, Action.INVITE, Target.RANGER),
        (Role.ADMIN, Action.INVITE, Target.COORDINATOR),
        (Role.COORDINATOR, Action.INVITE, Target.RANGER),
    }
)


def may(actor: Role, action: Action, target: Target) -> bool:
    return (actor, action, target) in POWERS


def invite_needs(role: str) -> Role:
    """The least role that may make (and keep honouring) an invite to `role`."""
    makers = [actor for actor, action, target in POWERS if action is Action.INVITE and target == role]
    if not makers:
        raise ValueError(role)
    return min(makers)


@dataclass(frozen=True)
class Invite:
    code: str
    role: str
    expires_at: datetime


@dataclass(frozen=True)
class StatusChange:
    done: bool
    refused: bool = False  # the actor has no such power over this person (bot/people/powers.py)
    revoked_invites: int = 0  # unused invites the person had made, revoked with their powers


@dataclass(frozen=True)
class Leaving:
    """Someone gone from a group: they left (by_id None) or an admin removed them."""

    user_id: int
    name: str
    chat_id: int
    title: str
    by_id: int | None = None
    by_name: str = ""

    @property
    def how(self) -> str:
        return "left" if self.by_id is None else "kicked"


@dataclass(frozen=True)
class Departure:
    """What a person holds after the powers granted in a group they left were taken."""

    user_id: int
    role: str
    status: str  # 'removed': the group was their only source of a role
    revoked_invites: int

    def notice(self, leaving: Leaving) -> str:
        """The admins' notice (English, as every admin notice)."""
        how = "left" if leaving.by_id is None else f"was removed by {leaving.by_name or leaving.by_id} from"
        now = (
            "They have no role now; /restore gives it back."
            if self.status == "removed"
            else f"They remain a {self.role} (given elsewhere)."
        )
        revoked = self.revoked_invites
        invites = f" {revoked} unused invite(s) they made were revoked." if revoked else ""
        return (
            f"{leaving.name} ({leaving.user_id}) {how} group {leaving.title} ({leaving.chat_id}): the "
            f"coordinator power given in that group is withdrawn. {now}{invites}"
        )


@dataclass(frozen=True)
class Granted:
    role: str  # the role held afterwards: an active coordinator given "ranger" stays a coordinator
    changed: bool  # False: they already held that role, active


class Access:
    def __init__(self, db: Database, admin_ids: frozenset[int]) -> None:
        self.db = db
        self.admin_ids = admin_ids

    async def role(self, user_id: int) -> Role:
        if user_id in self.admin_ids:
            return Role.ADMIN
        row = await self.db.fetchone("SELECT role, status FROM rangers WHERE user_id = ?", (user_id,))
        if row is None or row["status"] == "removed":
            return Role.OUTSIDER
        if row["status"] == "suspended":
            return Role.SUSPENDED
        return Role.COORDINATOR if row["role"] == "coordinator" else Role.RANGER

    async def create_invite(self, by: int, role: str = "ranger", ttl: timedelta = INVITE_TTL) -> Invite:
        code = secrets.token_urlsafe(12)  # deep-link payloads allow A-Z a-z 0-9 _ - up to 64 chars
        now = utcnow()
        await self.db.execute(
            "INSERT INTO invites (code, role, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (code, role, by, iso(now), iso(now + ttl)),
        )
        return Invite(code, role, now + ttl)

    async def redeem(
        self, code: str, user_id: int, name: str, username: str | None, language: str | None
    ) -> str | None:
        """Use a one-time invite; returns the granted role, or None when invalid, used or expired."""
        now = utcnow()
        async with self.db.transaction() as conn:
            cur = await conn.execute("SELECT * FROM invites WHERE code = ?", (code,))
            row = await cur.fetchone()
            expires = parse_iso(row["expires_at"]) if row else None
            if row is None or row["used_by"] is not None or expires is None or expires < now:
                return None
            # Honoured only while its maker still holds the power to make it: revocation at /suspend
            # and /remove covers the usual case, this covers every other way of losing the role.
            if row["revoked_at"] is not None or await self._role(conn, row["created_by"]) < invite_needs(
                row["role"]
            ):
                return None
            await conn.execute(
                "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ?", (user_id, iso(now), code)
            )
            await conn.execute(
                """INSERT INTO rangers (user_id, name, username, language, role, status, created_at)
                   VALUES (?, ?, ?, ?, ?, 'active', ?)
                   ON CONFLICT (user_id) DO UPDATE SET status = 'active',
                       name = excluded.name, username = excluded.username,
                       -- an invite raises a role, never lowers it: an active coordinator who
                       -- opens a ranger's link stays a coordinator (someone suspended or removed
                       -- comes back with the role the new invite gives)
                       role = CASE WHEN rangers.role = 'coordinator' AND rangers.status = 'active'
                                   THEN 'coordinator' ELSE excluded.role END""",
                (user_id, name, username, language, row["role"], iso(now)),
            )
            cur = await conn.execute("SELECT role FROM rangers WHERE user_id = ?", (user_id,))
            kept = await cur.fetchone()
            return str(kept["role"]) if kept else str(row["role"])

    async def grant(
        self,
        user_id: int,
        name: str,
        username: str | None,
        language: str | None,
        role: str,
        *,
        by: int,
        chat_id: int,
    ) -> Granted:
        """Make someone an active ranger or coordinator without an invite link (an admin's reply in
        a group); like redeem(), it never lowers an active coordinator's role."""
        if role not in ("ranger", "coordinator"):
            raise ValueError(role)
        now = iso(utcnow())
        async with self.db.transaction() as conn:
            cur = await conn.execute("SELECT role, status FROM rangers WHERE user_id = ?", (user_id,))
            before = await cur.fetchone()
            held = before["role"] if before is not None and before["status"] == "active" else None
            if held in (role, "coordinator"):
                if held == role == "coordinator":
                    # Already a coordinator (an invite, another group): this group's grant is one more
                    # source of the power, which leaving another group must not take away (left_group).
                    await self._record_grant(conn, user_id, role, by, chat_id, now, once=True)
                return Granted(str(held), False)
            await conn.execute(
                """INSERT INTO rangers (user_id, name, username, language, role, status, created_at)
                   VALUES (?, ?, ?, ?, ?, 'active', ?)
                   ON CONFLICT (user_id) DO UPDATE SET status = 'active', role = excluded.role,
                       name = excluded.name, username = excluded.username,
                       -- a language chosen with /lang outlives Telegram's guess
                       language = COALESCE(rangers.language, excluded.language)""",
                (user_id, name, username, language, role, now),
            )
            await self._record_grant(conn, user_id, role, by, chat_id, now, once=False)
        return Granted(role, True)

    @staticmethod
    async def _record_grant(
        conn: aiosqlite.Connection,
        user_id: int,
        role: str,
        by: int,
        chat_id: int,
        now: str | None,
        *,
        once: bool,
    ) -> None:
        """once: only if no standing grant of that role in that chat exists (a repeated reply adds none)."""
        if once:
            cur = await conn.execute(
                "SELECT 1 FROM role_grants "
                "WHERE user_id = ? AND role = ? AND chat_id = ? AND revoked_at IS NULL",
                (user_id, role, chat_id),
            )
            if await cur.fetchone() is not None:
                return
        await conn.execute(
            "INSERT INTO role_grants (user_id, role, granted_by, chat_id, at) VALUES (?, ?, ?, ?, ?)",
            (user_id, role, by, chat_id, now),
        )

    async def left_group(self, leaving: Leaving) -> Departure | None:
        """A member left a group or was removed from it: the coordinator power granted there goes, with an
        audit row (role_losses) and a notice to the admins, in one transaction. Powers that came from
        elsewhere stay: LW_ADMIN_IDS, a coordinator invite, a grant in a group they are still in; without
        one they fall back to ranger if they were made one (an invite, a /ranger reply), else they are
        removed. A ranger's power (handing in photos in private) never came from the group's trust, so a
        /ranger grant stays. None when there was nothing to take: the service message and the
        chat_member update of one departure both arrive, and only the first changes anything."""
        if leaving.user_id in self.admin_ids:
            return None
        uid, now = leaving.user_id, iso(utcnow())
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE role_grants SET revoked_at = ?, revoked_reason = ? "
                "WHERE user_id = ? AND chat_id = ? AND role = 'coordinator' AND revoked_at IS NULL",
                (now, leaving.how, uid, leaving.chat_id),
            )
            if cur.rowcount == 0:
                return None
            cur = await conn.execute("SELECT role, status FROM rangers WHERE user_id = ?", (uid,))
            row = await cur.fetchone()
            if row is None:
                return None
            role, status = str(row["role"]), str(row["status"])
            new_role, new_status = role, status
            coordinator_now = role == "coordinator" and status != "removed"
            if coordinator_now and not await self._source(conn, uid, "coordinator"):
                if await self._source(conn, uid, "ranger"):
                    new_role = "ranger"
                else:
                    new_status = "removed"
                await conn.execute(
                    "UPDATE rangers SET role = ?, status = ? WHERE user_id = ?", (new_role, new_status, uid)
                )
            revoked = 0
            if (new_role, new_status) != (role, status):
                # Below coordinator nobody may invite: the links they made and nobody used die too.
                cur = await conn.execute(
                    "UPDATE invites SET revoked_at = ?, revoked_by = ? "
                    "WHERE created_by = ? AND used_by IS NULL AND revoked_at IS NULL",
                    (now, leaving.by_id, uid),
                )
                revoked = cur.rowcount
            before, after = (role, status), (new_role, new_status)
            await conn.execute(
                """INSERT INTO role_losses (user_id, chat_id, how, by_user, role_before, status_before,
                       role_after, status_after, revoked_invites, at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (uid, leaving.chat_id, leaving.how, leaving.by_id, *before, *after, revoked, now),
            )
            departure = Departure(uid, new_role, new_status, revoked)
            await queue_admin_notice(conn, self.admin_ids, departure.notice(leaving))
        return departure

    @staticmethod
    async def _source(conn: aiosqlite.Connection, user_id: int, role: str) -> bool:
        """Whether `role` was given to the person by an invite or by a grant still standing."""
        cur = await conn.execute(
            "SELECT 1 FROM invites WHERE used_by = ? AND role = ? "
            "UNION ALL SELECT 1 FROM role_grants WHERE user_id = ? AND role = ? AND revoked_at IS NULL",
            (user_id, role, user_id, role),
        )
        return await cur.fetchone() is not None

    async def _role(self, conn: aiosqlite.Connection, user_id: int) -> Role:
        if user_id in self.admin_ids:
            return Role.ADMIN
        cur = await conn.execute("SELECT role, status FROM rangers WHERE user_id = ?", (user_id,))
        row = await cur.fetchone()
        if row is None or row["status"] != "active":
            return Role.OUTSIDER if row is None or row["status"] == "removed" else Role.SUSPENDED
        return Role.COORDINATOR if row["role"] == "coordinator" else Role.RANGER

    async def set_status(
        self, actor_id: int, user_id: int, status: str, *, only_from: str | None = None
    ) -> StatusChange:
        """Suspend, remove or restore a person, if the actor has that power over them
        (bot/people/powers.py); with only_from, only when they currently have that status. Suspending
        or removing revokes the invites they made that nobody has used, in the same transaction."""
        action = {"suspended": Action.SUSPEND, "removed": Action.REMOVE, "active": Action.RESTORE}[status]
        now = iso(utcnow())
        async with self.db.transaction() as conn:
            actor = await self._role(conn, actor_id)
            if user_id in self.admin_ids:
                return StatusChange(False, refused=not may(actor, action, Target.ADMIN))
            cur = await conn.execute("SELECT role FROM rangers WHERE user_id = ?", (user_id,))
            row = await cur.fetchone()
            if row is None:
                return StatusChange(False)
            if not may(actor, action, Target(row["role"])):
                return StatusChange(False, refused=True)
            cur = await conn.execute(
                "UPDATE rangers SET status = ? WHERE user_id = ? AND (? IS NULL OR status = ?)",
                (status, user_id, only_from, only_from),
            )
            if cur.rowcount == 0:
                return StatusChange(False)
            revoked = 0
            if status != "active":
                cur = await conn.execute(
                    "UPDATE invites SET revoked_at = ?, revoked_by = ? "
                    "WHERE created_by = ? AND used_by IS NULL AND revoked_at IS NULL",
                    (now, actor_id, user_id),
                )
                revoked = cur.rowcount
            return StatusChange(True, revoked_invites=revoked)

    async def set_language(self, user_id: int, language: str) -> None:
        await self.db.execute("UPDATE rangers SET language = ? WHERE user_id = ?", (language, user_id))

    async def list_people(self) -> list[dict[str, object]]:
        # user_id <= 0: the SD-card import's and camera e-mail's pseudo-rangers (bot/intake/sd_card.py,
        # bot/cameras/mail/intake.py) own sightings but are nobody to suspend or make coordinator.
        rows = await self.db.fetchall(
            "SELECT user_id, name, username, role, status FROM rangers WHERE status != 'removed' "
            "AND user_id > 0 ORDER BY role, name"
        )
        return [dict(r) for r in rows]
