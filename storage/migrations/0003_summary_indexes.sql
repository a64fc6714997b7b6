-- Weekly summaries and exports.
-- Exports name the last reviewer of each event; without this every exported row scans all reviews.
CREATE INDEX IF NOT EXISTS reviews_sighting ON reviews (sighting_id, id);
-- New stations in a period, and silent stations (created before the silence window).
CREATE INDEX IF NOT EXISTS stations_created ON stations (created_at);
