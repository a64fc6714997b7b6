-- What people are told a photo holds (issue 24): bot.detection.types.Kind, stored at intake. The raw
-- model label stays in `label` for those who study the model; nothing people read shows it.
-- 'empty' frames (the animal detector found nothing: wind, sun, grass on an SD card) are kept but never
-- alerted, and stay out of /mine and the summaries' photo counts (bot/intake/kinds.py).
ALTER TABLE sightings ADD COLUMN kind TEXT
    CHECK (kind IS NULL OR kind IN ('leopard', 'snow_leopard', 'animal', 'empty', 'no_leopard'));

-- Older rows were judged by the leopard classifier alone: no animal detector ran, so neither "another
-- animal" nor "no animal found" can honestly be said of them.
UPDATE sightings SET kind = CASE
    WHEN is_leopard = 1 THEN 'leopard'
    WHEN label = 'snow leopard' THEN 'snow_leopard'
    ELSE 'no_leopard'
END;

CREATE INDEX sightings_station_kind ON sightings (station_code, received_at, kind);
