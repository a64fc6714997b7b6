-- A camera e-mail over one of the intake's safety caps (bot/cameras/mail/limits.py: MIME depth, parts,
-- header and line sizes, the parse's time budget) is 'quarantined': written down with the cap it broke,
-- left unread in the mailbox for a person to look at, the admins told once, and never fetched again.
--
-- SQLite cannot change a CHECK constraint in place, so mail_messages is rebuilt. mail_photos refers to
-- it: the rows go through a copy and back under the same ids, with the foreign keys checked at COMMIT
-- (when every mail_photos row has its message again); a rename would leave mail_photos pointing at the
-- old name. The AUTOINCREMENT counter is carried over, so no id is ever handed out twice.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE mail_messages_copy AS SELECT * FROM mail_messages;
CREATE TEMP TABLE mail_messages_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'mail_messages';
DROP TABLE mail_messages;

CREATE TABLE mail_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox     TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    message_id  TEXT,
    sender      TEXT,
    subject     TEXT,
    camera_id   INTEGER REFERENCES cameras (id),
    trusted     INTEGER NOT NULL DEFAULT 0,  -- may alert: a registered camera's sender or LW_MAIL_ALLOW
    status      TEXT NOT NULL
                CHECK (status IN ('processing', 'done', 'rejected', 'failed', 'quarantined')),
    reason      TEXT,
    photos      INTEGER NOT NULL DEFAULT 0,  -- new sightings made from it
    skipped     INTEGER NOT NULL DEFAULT 0,  -- attachments that became no sighting
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    received_at TEXT NOT NULL,
    done_at     TEXT,
    flagged_at  TEXT,
    UNIQUE (mailbox, uidvalidity, uid)
);
INSERT INTO mail_messages SELECT * FROM mail_messages_copy;
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM mail_messages_seq), 0))
    WHERE name = 'mail_messages';
DROP TABLE mail_messages_copy;
DROP TABLE mail_messages_seq;

CREATE INDEX mail_messages_message_id ON mail_messages (mailbox, message_id);
CREATE INDEX mail_messages_status ON mail_messages (status, flagged_at);
