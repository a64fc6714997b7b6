-- Videos as sightings (bot/video_intake.py): the clip is kept by SHA-256 like a photo (storage.photos
-- VideoStore); the sighting's photo is the clip's best frame, so alerts, exports and /sighting work
-- unchanged, and these columns say which clip and which second it came from.
CREATE TABLE videos (
    sha256      TEXT PRIMARY KEY,
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    container   TEXT NOT NULL,  -- FFmpeg demuxer: 'mov' (MP4, MOV), 'avi', 'matroska', ...
    codec       TEXT NOT NULL,  -- 'h264', 'mjpeg', 'mpeg4', ...
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    duration    REAL NOT NULL,  -- seconds; 0 when the container does not say
    frames      INTEGER NOT NULL,  -- frames the detector looked at
    created_at  TEXT NOT NULL
);

ALTER TABLE sightings ADD COLUMN video_sha256 TEXT REFERENCES videos (sha256);
ALTER TABLE sightings ADD COLUMN frame_seconds REAL;  -- where in the clip the best frame is
-- How it reached us: 'photo', or Telegram's 'video', 'video_note', 'animation', or 'video_file' (a video
-- sent as a file or imported from a card).
ALTER TABLE sightings ADD COLUMN media TEXT NOT NULL DEFAULT 'photo';
CREATE UNIQUE INDEX sightings_video ON sightings (video_sha256) WHERE video_sha256 IS NOT NULL;
