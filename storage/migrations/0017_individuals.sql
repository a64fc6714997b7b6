-- Individual leopards (issue 25): the catalogue, its reference crops with their coat features, the
-- coordinators' identifications of confirmed events, and the audit of every change.

-- One known animal. First and last seen are not stored: they are derived from its identified sightings
-- and reference crops (bot/individuals/catalogue.py), so they can never disagree with them.
CREATE TABLE individuals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT,
    sex         TEXT NOT NULL DEFAULT 'unknown' CHECK (sex IN ('male', 'female', 'unknown')),
    life_stage  TEXT CHECK (life_stage IS NULL OR life_stage IN ('adult', 'subadult', 'juvenile')),
    notes       TEXT,
    created_by  INTEGER,
    created_at  TEXT NOT NULL
);

-- A crop the matcher compares against: a stored photo, the animal's box in it (JSON [x0, y0, x1, y1],
-- original pixels; NULL: the whole photo), the flank it shows, and its features (bot.individuals.features
-- .to_bytes), computed once. sighting_id: the confirmed event it came from (NULL: imported from a folder).
CREATE TABLE individual_references (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    individual_id INTEGER NOT NULL REFERENCES individuals (id),
    photo_sha256  TEXT NOT NULL REFERENCES photos (sha256),
    box           TEXT,
    flank         TEXT NOT NULL DEFAULT 'unknown'
                  CHECK (flank IN ('left', 'right', 'front', 'rear', 'unknown')),
    sighting_id   INTEGER REFERENCES sightings (id),
    station_code  TEXT,
    source        TEXT NOT NULL,
    features      BLOB NOT NULL,
    added_by      INTEGER,
    added_at      TEXT NOT NULL
);
CREATE INDEX individual_references_of ON individual_references (individual_id);
CREATE UNIQUE INDEX individual_references_once ON individual_references (individual_id, photo_sha256, flank);

-- A coordinator's answer to "Who is this?" for one leopard event. Never updated: a changed answer is a
-- new row, so the rows of an event are its history and the newest is its identity (current_identities).
CREATE TABLE identifications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id      INTEGER NOT NULL REFERENCES sightings (id),
    decision      TEXT NOT NULL CHECK (decision IN ('same', 'new', 'cant_tell')),
    individual_id INTEGER REFERENCES individuals (id),
    flank         TEXT CHECK (flank IS NULL OR flank IN ('left', 'right', 'front', 'rear', 'unknown')),
    score         REAL,
    decided_by    INTEGER NOT NULL,
    decided_name  TEXT NOT NULL DEFAULT '',
    chat_id       INTEGER,
    at            TEXT NOT NULL,
    CHECK ((decision = 'cant_tell') = (individual_id IS NULL))
);
CREATE INDEX identifications_event ON identifications (event_id, id);
CREATE INDEX identifications_individual ON identifications (individual_id);

CREATE VIEW current_identities AS
    SELECT i.event_id, i.decision, i.individual_id, i.flank, i.decided_by, i.at
    FROM identifications i
    WHERE i.id = (SELECT MAX(j.id) FROM identifications j WHERE j.event_id = i.event_id);

-- Every change to the catalogue: who, when, what it was before (JSON of the fields changed; NULL: created).
CREATE TABLE individual_changes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    individual_id INTEGER NOT NULL REFERENCES individuals (id),
    what          TEXT NOT NULL,
    before        TEXT,
    after         TEXT,
    by_user       INTEGER,
    by_name       TEXT NOT NULL DEFAULT '',
    at            TEXT NOT NULL
);
CREATE INDEX individual_changes_of ON individual_changes (individual_id, id);

-- The flank coordinators marked on an event's photo, and its features, computed once (NULL box: the
-- whole photo). Kept apart from references: an event is ranked before anyone says who it is.
CREATE TABLE event_features (
    event_id     INTEGER PRIMARY KEY REFERENCES sightings (id),
    photo_sha256 TEXT NOT NULL,
    box          TEXT,
    flank        TEXT NOT NULL DEFAULT 'unknown'
                 CHECK (flank IN ('left', 'right', 'front', 'rear', 'unknown')),
    features     BLOB NOT NULL,
    at           TEXT NOT NULL
);

-- "Who is this?" owed to a coordinator group, queued with the confirmation (bot/alerts/reviews.py) in
-- its transaction, like alerts; delivered and retried by handlers/individuals.py. A flank button puts
-- the row back to pending, and the question is asked again with that flank.
CREATE TABLE who_is_this (
    event_id        INTEGER NOT NULL REFERENCES sightings (id),
    chat_id         INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    message_id      INTEGER,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    PRIMARY KEY (event_id, chat_id)
);
CREATE INDEX who_is_this_due ON who_is_this (status, next_attempt_at);
