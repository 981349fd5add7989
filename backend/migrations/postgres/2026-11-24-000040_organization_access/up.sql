-- Organization settings, DMS-level roles and settings, people's links to their DMS user
-- accounts, and the audit log of who changed what.

-- Remote access can be switched off for a whole organization (forcing it off for every DMS)
-- or for one DMS.
ALTER TABLE organizations
    ADD COLUMN remote_access_enabled INTEGER NOT NULL DEFAULT 1 CHECK (remote_access_enabled IN (0, 1));
ALTER TABLE systems
    ADD COLUMN remote_access_enabled INTEGER NOT NULL DEFAULT 1 CHECK (remote_access_enabled IN (0, 1));

-- A role on one DMS that replaces the person's organization role for that DMS (an Admin of the
-- organization can be a Member of one DMS, a Member an Admin of another). Only for people of
-- the DMS's organization; removed with their membership.
CREATE TABLE system_roles (
    system_id TEXT NOT NULL REFERENCES systems (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (system_id, user_id)
);
CREATE INDEX system_roles_by_user ON system_roles (user_id);

-- A person's user account on a DMS, linked to their Stratus account (one per DMS).
CREATE TABLE dms_account_links (
    system_id TEXT NOT NULL REFERENCES systems (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dms_username TEXT NOT NULL,
    linked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (system_id, user_id)
);

-- Who did what, when. No foreign keys: entries outlive the people, organizations and DMSs
-- they name, so the emails and names are copied in.
CREATE TABLE audit_log (
    -- UUIDv7: ordered by time.
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    actor_email TEXT NOT NULL,
    -- 1 when done through the staff console (or the staff CLI).
    by_staff INTEGER NOT NULL DEFAULT 0 CHECK (by_staff IN (0, 1)),
    organization_id TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_by_organization ON audit_log (organization_id, at);
CREATE INDEX audit_log_by_time ON audit_log (at);
