-- Cellular (4G) trail cameras that e-mail their photos, and the mail they sent (bot/cameras.py, bot/mail/).

-- A registered camera has a code and (usually) a station; a camera nobody registered yet is a row with
-- code NULL, known only by the address it wrote from, until a coordinator assigns it (/camera assign).
CREATE TABLE cameras (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT UNIQUE,
    station_code    TEXT REFERENCES stations (code),
    sender          TEXT,                 -- an unknown camera's From address (lower case)
    from_file       INTEGER NOT NULL DEFAULT 0,  -- defined in LW_CAMERAS_FILE (re-read at start)
    created_by      INTEGER,
    created_at      TEXT NOT NULL,
    last_message_at TEXT,                 -- when its latest e-mail reached the bot
    last_photo_at   TEXT,                 -- capture time of its latest photo
    battery         TEXT,                 -- as the camera last wrote it in a mail body ("80%")
    signal          TEXT,
    -- Where it reported itself away from its station (its own EXIF GPS), so that one move is reported
    -- once rather than with every photo taken at the new spot.
    moved_lat       REAL,
    moved_lon       REAL,
    moved_at        TEXT
);
CREATE UNIQUE INDEX cameras_unknown_sender ON cameras (sender) WHERE code IS NULL;

-- How a message is told to come from a camera: its From address, its name in the subject or body, or
-- a file-name prefix of its photos. A value maps to one camera at most.
CREATE TABLE camera_matches (
    camera_id INTEGER NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('sender', 'name', 'file')),
    value     TEXT NOT NULL,
    PRIMARY KEY (kind, value)
);

-- Every message the bot took from a mailbox, keyed as IMAP identifies it. 'processing' is written
-- before any sighting is made and 'done' after they are committed; only then is the message flagged on
-- the server (flagged_at). A restart replays 'processing' rows; Message-ID catches the same mail under a
-- new UIDVALIDITY or sent twice.
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
    status      TEXT NOT NULL CHECK (status IN ('processing', 'done', 'rejected', 'failed')),
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
CREATE INDEX mail_messages_message_id ON mail_messages (mailbox, message_id);
CREATE INDEX mail_messages_status ON mail_messages (status, flagged_at);

-- The photos (and videos) of each message, by the file's SHA-256, written before each is recorded:
-- own = 1 when no sighting had that file yet, so a replay after a crash knows the sighting it finds is
-- this message's own (and an unknown camera's own photos are found again when it is assigned), not an
-- earlier upload's.
CREATE TABLE mail_photos (
    message_row  INTEGER NOT NULL REFERENCES mail_messages (id),
    sha256       TEXT NOT NULL,
    own          INTEGER NOT NULL,
    sighting_id  INTEGER REFERENCES sightings (id),
    camera_id    INTEGER REFERENCES cameras (id),
    filename     TEXT,
    PRIMARY KEY (message_row, sha256)
);
CREATE INDEX mail_photos_camera ON mail_photos (camera_id);
