-- Group membership and a muted bot (issue 22, point 8).

-- A coordinator made in a group (role_grants) holds that power only while a member of the group: when
-- they leave it or are removed, the grant is revoked (when, and how: 'left' or 'kicked'), never deleted.
ALTER TABLE role_grants ADD COLUMN revoked_at TEXT;
ALTER TABLE role_grants ADD COLUMN revoked_reason TEXT;

-- The audit of powers lost by leaving a group: the person's rangers row before and after (status
-- 'removed' when the group was their only source of any role), who removed them (NULL: they left),
-- and how many unused invites they had made were revoked with the power.
CREATE TABLE role_losses (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL,
    chat_id         INTEGER NOT NULL,
    how             TEXT NOT NULL CHECK (how IN ('left', 'kicked')),
    by_user         INTEGER,
    role_before     TEXT NOT NULL,
    status_before   TEXT NOT NULL,
    role_after      TEXT NOT NULL,
    status_after    TEXT NOT NULL,
    revoked_invites INTEGER NOT NULL DEFAULT 0,
    at              TEXT NOT NULL
);
CREATE INDEX role_losses_by_user ON role_losses (user_id);

-- Since when the bot may not send messages in a group (restricted by its admins; NULL: it may). The
-- group stays registered and its alerts and summary parts wait, in order, until it may again.
ALTER TABLE groups ADD COLUMN muted_since TEXT;
