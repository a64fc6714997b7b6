-- Times are ISO-8601 UTC strings ("2026-11-25T11:43:06+00:00"); they sort as text.
CREATE TABLE rangers (
    user_id     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    username    TEXT,
    language    TEXT,
    role        TEXT NOT NULL DEFAULT 'ranger' CHECK (role IN ('ranger', 'coordinator')),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'removed')),
    created_at  TEXT NOT NULL
);

CREATE TABLE areas (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT ''
);

CREATE TABLE groups (
    chat_id         INTEGER PRIMARY KEY,
    title           TEXT NOT NULL DEFAULT '',
    language        TEXT NOT NULL DEFAULT 'ru',
    timezone        TEXT NOT NULL DEFAULT 'Asia/Aqtau',
    trusted         INTEGER NOT NULL DEFAULT 0,
    all_areas       INTEGER NOT NULL DEFAULT 1,
    active          INTEGER NOT NULL DEFAULT 1,
    summary_weekday INTEGER,
    summary_hour    INTEGER,
    created_at      TEXT NOT NULL
);

CREATE TABLE group_areas (
    chat_id INTEGER NOT NULL REFERENCES groups (chat_id) ON DELETE CASCADE,
    area    TEXT NOT NULL REFERENCES areas (code) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, area)
);

CREATE TABLE stations (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    lat         REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    area        TEXT REFERENCES areas (code),
    created_by  INTEGER,
    created_at  TEXT NOT NULL
);

CREATE TABLE photos (
    sha256      TEXT PRIMARY KEY,
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    width       INTEGER,
    height      INTEGER,
    created_at  TEXT NOT NULL
);

CREATE TABLE sightings (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    photo_sha256    TEXT NOT NULL UNIQUE REFERENCES photos (sha256),
    ranger_id       INTEGER,
    chat_id         INTEGER,
    message_id      INTEGER,
    media_group_id  TEXT,
    source          TEXT NOT NULL DEFAULT 'telegram',
    caption         TEXT,
    taken_at        TEXT,
    received_at     TEXT NOT NULL,
    lat             REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
    lon             REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
    location_source TEXT,
    exif_lat        REAL,
    exif_lon        REAL,
    station_code    TEXT REFERENCES stations (code),
    label           TEXT NOT NULL,
    score           REAL NOT NULL,
    is_leopard      INTEGER NOT NULL,
    boxes           TEXT NOT NULL DEFAULT '[]',
    model           TEXT,
    event_id        INTEGER,
    status          TEXT NOT NULL DEFAULT 'unreviewed'
                    CHECK (status IN ('unreviewed', 'confirmed', 'rejected', 'other')),
    reviewed_by     INTEGER,
    reviewed_at     TEXT
);
CREATE INDEX sightings_taken ON sightings (taken_at);
CREATE INDEX sightings_received ON sightings (received_at);
CREATE INDEX sightings_ranger ON sightings (ranger_id, received_at);
CREATE INDEX sightings_leopard ON sightings (is_leopard, status, taken_at);
CREATE INDEX sightings_station ON sightings (station_code, taken_at);
CREATE INDEX sightings_event ON sightings (event_id);

-- Where a ranger said they are, so a photo sent just after a pin finds its place.
CREATE TABLE ranger_locations (
    user_id INTEGER PRIMARY KEY,
    lat     REAL NOT NULL,
    lon     REAL NOT NULL,
    source  TEXT NOT NULL,
    station_code TEXT,
    at      TEXT NOT NULL
);

CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sighting_id INTEGER NOT NULL REFERENCES sightings (id),
    user_id     INTEGER NOT NULL,
    user_name   TEXT NOT NULL DEFAULT '',
    chat_id     INTEGER,
    decision    TEXT NOT NULL CHECK (decision IN ('confirmed', 'rejected', 'other')),
    at          TEXT NOT NULL
);

-- Alerts are written here in the same transaction as their sighting; a sender delivers them.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        INTEGER NOT NULL REFERENCES sightings (id),
    chat_id         INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('alert', 'refresh')),
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    message_id      INTEGER,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE UNIQUE INDEX outbox_one_alert ON outbox (event_id, chat_id) WHERE kind = 'alert';
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- Raw updates, recorded before they are acknowledged to the Bot API (crash safety).
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    payload     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    done_at     TEXT
);
