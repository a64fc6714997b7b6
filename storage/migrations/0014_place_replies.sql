-- A place sent as a reply names its sighting (issue 22): a reply to the photo finds it by its message
-- (sightings.chat_id, message_id); a reply to the bot's receipt needs the receipt's message, kept here
-- (an album's one receipt names all its sightings). A place given that way may replace a wrong one:
-- each replacement is written to place_changes, who and when, the old place and the new.
CREATE TABLE receipts (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    sighting_id INTEGER NOT NULL REFERENCES sightings (id),
    PRIMARY KEY (chat_id, message_id, sighting_id)
);

CREATE INDEX sightings_message ON sightings (chat_id, message_id);

CREATE TABLE place_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sighting_id INTEGER NOT NULL REFERENCES sightings (id),
    user_id     INTEGER NOT NULL,
    old_lat     REAL,
    old_lon     REAL,
    old_source  TEXT,
    old_station TEXT,
    new_lat     REAL NOT NULL,
    new_lon     REAL NOT NULL,
    new_source  TEXT NOT NULL,
    new_station TEXT,
    at          TEXT NOT NULL
);

CREATE INDEX place_changes_sighting ON place_changes (sighting_id);
