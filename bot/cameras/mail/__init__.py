"""Cellular trail cameras that e-mail their photos: which mailboxes (`accounts`), the IMAP client (`client`),
the caps on a message before it is parsed (`limits`), MIME parsing (`parse`), who sent it (`sender`),
which camera that is (`match`), turning a message into sightings (`intake`) and the notices about it
(`asking`), polling a mailbox (`poller`, one per mailbox; the jobs that run them are handlers/mailboxes.py),
and camera-like messages for the demo, tests and bench (`sample`). Mail is a new trust boundary: anyone who
learns the mailbox address can write to it, and a From header is trivially forged. So nothing in a message
is trusted beyond "these bytes may be a photo": messages are capped before parsing and parsed under a
budget (a message over either is quarantined, never lost), no archive is opened, identity is From's
address and never its display name, and only mail from a registered camera's address or an allow-listed
one (vouched for by the provider's Authentication-Results where LW_MAIL_AUTH_SERVER is set) may alert
(docs/THREAT_MODEL.md)."""

from bot.cameras.mail.accounts import MailAccount, MailboxesError, accounts
from bot.cameras.mail.client import MailError, check_login
from bot.cameras.mail.idle import IdleWatcher
from bot.cameras.mail.intake import MailIntake, MailOutcome
from bot.cameras.mail.ledger import MessageRef
from bot.cameras.mail.poller import MailPoller, advice

__all__ = [
    "IdleWatcher",
    "MailAccount",
    "MailError",
    "MailIntake",
    "MailOutcome",
    "MailPoller",
    "MailboxesError",
    "MessageRef",
    "accounts",
    "advice",
    "check_login",
]
