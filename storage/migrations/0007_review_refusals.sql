-- Who decides on alerts (issue: review buttons accepted anyone in the group).

-- A review button pressed by someone who may not decide (no role, removed, suspended, a ranger):
-- nothing about the sighting changes, but the attempt is kept. A table of its own because
-- reviews.decision's CHECK and meaning ("this is the event's verdict") cannot be altered in SQLite.
-- role is what the bot decided on (bot.access.Role); ranger_role / ranger_status copy the person's
-- rangers row at that moment (NULL: never invited), so "a removed coordinator" is told apart from
-- "a stranger".
CREATE TABLE review_refusals (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    sighting_id   INTEGER NOT NULL REFERENCES sightings (id),
    user_id       INTEGER NOT NULL,
    user_name     TEXT NOT NULL DEFAULT '',
    chat_id       INTEGER,
    decision      TEXT NOT NULL CHECK (decision IN ('confirmed', 'rejected', 'other')),
    role          TEXT NOT NULL CHECK (role IN ('outsider', 'suspended', 'ranger')),
    ranger_role   TEXT,
    ranger_status TEXT,
    at            TEXT NOT NULL
);
CREATE INDEX review_refusals_by_sighting ON review_refusals (sighting_id);

-- Roles given in a group by replying /coordinator or /ranger to a member's message: an invite
-- leaves its row in invites (created_by, used_by); a grant leaves this one.
CREATE TABLE role_grants (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('ranger', 'coordinator')),
    granted_by INTEGER NOT NULL,
    chat_id    INTEGER NOT NULL,
    at         TEXT NOT NULL
);
