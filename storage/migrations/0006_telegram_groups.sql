-- What real Telegram groups do (issue 11): forum topics, migrations to supergroups, kicked bots,
-- media restrictions, and messages to people that must survive restarts.

-- The forum topic a group was registered in (NULL: General, or not a forum), and why a group stopped
-- receiving (kicked, chat gone); a group is reactivated by /register.
ALTER TABLE groups ADD COLUMN thread_id INTEGER;
ALTER TABLE groups ADD COLUMN inactive_reason TEXT;

-- How an alert went out: as a photo, or as text where the group forbids the bot to send photos
-- (its later edits must then edit text, not a caption).
ALTER TABLE outbox ADD COLUMN format TEXT NOT NULL DEFAULT 'photo' CHECK (format IN ('photo', 'text'));

-- Messages to one person (a ranger's verdict, an admin notice), durable like alerts: queued in the
-- transaction that decided them, delivered by a sender with retries. A notice to an admin who never
-- started the bot stays here, 'failed', for `leopard-watch doctor` to show. dedup_key makes "tell the
-- admins once" a unique index rather than a convention.
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id         INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    text            TEXT NOT NULL,
    dedup_key       TEXT,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE UNIQUE INDEX notices_once ON notices (chat_id, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX notices_due ON notices (status, next_attempt_at);

-- Which parts of a weekly summary (map, text, sheet, csv) reached the group, or were refused for good
-- (e.g. a group that forbids files): a retry resumes from the first part still owed.
CREATE TABLE summary_parts (
    chat_id      INTEGER NOT NULL REFERENCES groups (chat_id) ON DELETE CASCADE,
    period_start TEXT NOT NULL,
    part         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('sent', 'refused')),
    error        TEXT,
    at           TEXT NOT NULL,
    PRIMARY KEY (chat_id, period_start, part)
);

-- An update the Telegram library could not parse: kept (raw) with the error, marked done, skipped.
ALTER TABLE inbox ADD COLUMN error TEXT;
