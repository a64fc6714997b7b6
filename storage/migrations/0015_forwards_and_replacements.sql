-- Forwarded media and media swapped by an edit (issue 22).
--
-- A forward keeps where it came from (Bot API MessageOrigin): its kind (user, hidden_user, chat, channel),
-- the name or title it showed (free text: only exact readers see it), the origin's id when Telegram gives
-- one, and the origin's date, an upper bound of the capture time. forwarded_by: who forwarded a photo
-- that is attributed to the registered ranger it came from (ranger_id is then that ranger).
-- reported = 1: forwarded from outside (a channel, a chat, a hidden or unknown user); stored and alerted
-- as reported, but out of every movement line until a coordinator confirms it (sightings.status).
ALTER TABLE sightings ADD COLUMN forward_kind TEXT
    CHECK (forward_kind IS NULL OR forward_kind IN ('user', 'hidden_user', 'chat', 'channel'));
ALTER TABLE sightings ADD COLUMN forward_name TEXT;
ALTER TABLE sightings ADD COLUMN forward_from_id INTEGER;
ALTER TABLE sightings ADD COLUMN forward_date TEXT;
ALTER TABLE sightings ADD COLUMN forwarded_by INTEGER;
ALTER TABLE sightings ADD COLUMN reported INTEGER NOT NULL DEFAULT 0 CHECK (reported IN (0, 1));

-- Telegram's file_unique_id of the message's media: an edited_message with another one swapped the file.
ALTER TABLE sightings ADD COLUMN file_unique_id TEXT;
-- A swapped-in photo is a new sighting naming the one it replaced; the old one is kept, marked replaced.
ALTER TABLE sightings ADD COLUMN replaces_id INTEGER REFERENCES sightings (id);
ALTER TABLE sightings ADD COLUMN replaced_by INTEGER REFERENCES sightings (id);
ALTER TABLE sightings ADD COLUMN replaced_at TEXT;

CREATE INDEX sightings_replaces ON sightings (replaces_id) WHERE replaces_id IS NOT NULL;
