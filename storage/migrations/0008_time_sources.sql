-- Where each sighting's time came from (issue: Reconyx cameras keep the shot time only in their maker
-- note, compressed Telegram photos have no EXIF, camera clocks reset after a battery change).
-- time_source: bot.capture_time.TimeSource ('exif_original', 'exif_digitized', 'maker_note',
-- 'video_metadata' are a camera's clock; 'forward_date', 'telegram_receipt', 'import_file_time' are
-- when the photo travelled; 'unknown' for rows recorded before this migration).
-- clock_issue: the camera clock looks wrong (bot.capture_time.ClockIssue); the time is kept as recorded
-- but never used for movement.
ALTER TABLE sightings ADD COLUMN time_source TEXT;
ALTER TABLE sightings ADD COLUMN clock_issue TEXT
    CHECK (clock_issue IS NULL OR clock_issue IN ('reset', 'before_2005', 'future'));

-- Older rows: a time equal to the receipt means no EXIF time was found (an SD-card import stamped its
-- own time). Any other time was EXIF Original, Digitized, the last-edit DateTime or a forward's date,
-- which the old code did not tell apart: 'unknown', used as before.
UPDATE sightings SET time_source = CASE
    WHEN taken_at IS NULL OR taken_at = received_at THEN
        CASE WHEN source = 'import' THEN 'import_file_time' ELSE 'telegram_receipt' END
    ELSE 'unknown'
END;
UPDATE sightings SET taken_at = received_at WHERE taken_at IS NULL;

-- Only the UTC time is stored, so a reset date (local 2000-01-01) shows up as before 2005 here.
UPDATE sightings SET clock_issue = CASE
    WHEN taken_at < '2005' THEN 'before_2005'
    WHEN taken_at > strftime('%Y-%m-%dT%H:%M:%S+00:00', received_at, '+1 day') THEN 'future'
END
WHERE time_source = 'unknown';
