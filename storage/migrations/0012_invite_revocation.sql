-- An invite dies with its maker's powers: suspending or removing a person revokes the invites they
-- made and nobody used yet (who and when kept, for the audit).
ALTER TABLE invites ADD COLUMN revoked_at TEXT;
ALTER TABLE invites ADD COLUMN revoked_by INTEGER;
