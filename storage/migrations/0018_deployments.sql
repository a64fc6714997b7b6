-- Camera deployments and field checks (issue 26): when each camera was really watching, in Camtrap DP
-- 1.0.2's terms (deploymentStart/End, cameraID, cameraModel, cameraHeight, cameraTilt, baitUse,
-- setupBy, timestampIssues). Written by bot.places (bot/places/deployments.py, checks.py).

-- A camera at a station (or at a point) from its set-up to its retrieval. Times are UTC; *_source says
-- where each came from ('telegram', 'cli', 'card': an SD card's first or last frame), *_estimated that
-- it is a guess (a card's frames, not a ranger at the camera). One camera is never in two overlapping
-- deployments (checked by the code that writes, which can say so in a sentence).
CREATE TABLE deployments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    station_code     TEXT REFERENCES stations (code),
    lat              REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
    lon              REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
    camera           TEXT,                 -- a free camera id or a registered camera's code; NULL unknown
    camera_model     TEXT,
    camera_height    REAL CHECK (camera_height IS NULL OR camera_height >= 0),  -- metres
    camera_tilt      INTEGER CHECK (camera_tilt IS NULL OR camera_tilt BETWEEN -90 AND 90),
    bait             TEXT NOT NULL DEFAULT 'none',
    setup_by         TEXT,
    start_at         TEXT NOT NULL,
    end_at           TEXT,                 -- NULL: still out there
    start_estimated  INTEGER NOT NULL DEFAULT 0 CHECK (start_estimated IN (0, 1)),
    end_estimated    INTEGER NOT NULL DEFAULT 0 CHECK (end_estimated IN (0, 1)),
    start_source     TEXT NOT NULL,
    end_source       TEXT,
    timestamp_issues INTEGER CHECK (timestamp_issues IS NULL OR timestamp_issues IN (0, 1)),
    knocked_down_at  TEXT,
    card_full_at     TEXT,
    comments         TEXT,
    created_by       INTEGER,
    created_at       TEXT NOT NULL,
    CHECK (station_code IS NOT NULL OR (lat IS NOT NULL AND lon IS NOT NULL)),
    CHECK (end_at IS NULL OR end_at >= start_at)
);
CREATE INDEX deployments_station ON deployments (station_code, start_at);
CREATE INDEX deployments_camera ON deployments (camera, start_at);

-- A ranger's visit to a camera (/check). A camera found dead stopped at stopped_at (its deployment's
-- last frame before the visit, stopped_source 'last frame'; NULL when it took none): the time from
-- then to the next check that finds it working is an outage, not effort.
CREATE TABLE field_checks (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id    INTEGER REFERENCES deployments (id),
    station_code     TEXT NOT NULL REFERENCES stations (code),
    at               TEXT NOT NULL,
    by_user          INTEGER,
    battery          INTEGER CHECK (battery IS NULL OR battery BETWEEN 0 AND 100),
    card_swapped     INTEGER CHECK (card_swapped IS NULL OR card_swapped IN (0, 1)),
    working          INTEGER CHECK (working IS NULL OR working IN (0, 1)),
    stopped_at       TEXT,
    stopped_source   TEXT,
    photo_sha256     TEXT,                 -- the set-up photo in the photo store (storage/photos.py)
    lat              REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
    lon              REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
    created_at       TEXT NOT NULL
);
CREATE INDEX field_checks_station ON field_checks (station_code, at);
CREATE INDEX field_checks_deployment ON field_checks (deployment_id, at);

-- Which deployment a card's frames came from (set by the SD-card import, bot.places): two cameras at
-- one station, or one camera moved between stations, are told apart by it. NULL: by station and time.
ALTER TABLE sightings ADD COLUMN deployment_id INTEGER REFERENCES deployments (id);
