-- /camera remove (bot/cameras.py Cameras.remove): a camera taken out of service, or registered by
-- mistake, is marked, never deleted. Its sightings (source 'camera:CODE'), mail ledger rows and photos
-- (mail_messages.camera_id, mail_photos.camera_id) point at it; deleting the row would orphan them and
-- lose who registered it and when. A removed camera matches no mail and is listed nowhere.
ALTER TABLE cameras ADD COLUMN removed_at TEXT;     -- out of service since; NULL: in service
ALTER TABLE cameras ADD COLUMN removed_by INTEGER;  -- the coordinator's Telegram user id

-- Every removal, kept when the camera is added again (which clears cameras.removed_at): what it was
-- then, with the match rules it gave up (freed for other cameras, so no longer in camera_matches).
CREATE TABLE camera_removals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id    INTEGER NOT NULL REFERENCES cameras (id),
    code         TEXT,                 -- NULL: an unknown camera dismissed from /camera list
    station_code TEXT,
    rules        TEXT NOT NULL,        -- as /camera list showed them: "cam17@mail.kz, file:ust04_"
    removed_by   INTEGER,
    removed_at   TEXT NOT NULL,
    readded_by   INTEGER,
    readded_at   TEXT                  -- back in service (/camera add with the same code)
);
CREATE INDEX camera_removals_camera ON camera_removals (camera_id, readded_at);

-- A dismissed unknown camera that writes again is a new unknown camera (and coordinators are asked
-- about it again), so only unknown cameras in service hold their address.
DROP INDEX cameras_unknown_sender;
CREATE UNIQUE INDEX cameras_unknown_sender ON cameras (sender) WHERE code IS NULL AND removed_at IS NULL;
