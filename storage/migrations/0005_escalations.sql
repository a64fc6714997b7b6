-- A ranger's "this is a leopard" on a photo the model passed over: who said so, and when. Such a
-- sighting becomes an event of its own (event_id = id) and is alerted like a detection.
ALTER TABLE sightings ADD COLUMN escalated_by INTEGER;
ALTER TABLE sightings ADD COLUMN escalated_at TEXT;
