-- The core of the product: people, organizations, who belongs where, and DMSs.
-- Ids are UUID text and flags are integers so the same diesel queries run on SQLite and
-- PostgreSQL (diesel's MultiConnection knows no Bool or Uuid).

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    -- Trimmed and lower-cased at the edge, so uniqueness is case-insensitive.
    email TEXT NOT NULL UNIQUE,
    -- argon2id PHC string; NULL for accounts that only sign in through a provider.
    password_hash TEXT,
    email_verified_at TIMESTAMP,
    is_staff INTEGER NOT NULL DEFAULT 0 CHECK (is_staff IN (0, 1)),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE systems (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- The last time the DMS was seen connected; kept so a restart does not lose it.
    last_online_at TIMESTAMP,
    UNIQUE (organization_id, name)
);
