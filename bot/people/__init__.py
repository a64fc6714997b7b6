"""Everyone the bot knows: roles and invites, coordinator groups, who may see what (the audience gate),
notices to a person."""

from bot.people.access import Access, Leaving, Role, invite_needs
from bot.people.audience import Audience, Reader, audience_for, cli_audience, group_audience
from bot.people.groups import Group, Groups
from bot.people.notices import (
    queue_admin_notice,
    queue_notice,
    reopen_refused_notices,
    undelivered_admin_notices,
)

__all__ = [
    "Access",
    "Audience",
    "Group",
    "Groups",
    "Leaving",
    "Reader",
    "Role",
    "audience_for",
    "cli_audience",
    "group_audience",
    "invite_needs",
    "queue_admin_notice",
    "queue_notice",
    "reopen_refused_notices",
    "undelivered_admin_notices",
]
