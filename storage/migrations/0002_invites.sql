CREATE TABLE invites (
    code        TEXT PRIMARY KEY,
    role        TEXT NOT NULL DEFAULT 'ranger' CHECK (role IN ('ranger', 'coordinator')),
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER,
    used_at     TEXT
);
