-- Links of an email address to an organization that wait for that address's owner: added by
-- an organization's admins (or, later, platform staff and the legacy import). They become
-- memberships when the address is verified, never before.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Normalized (trimmed, lower-case), like users.email.
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (organization_id, email)
);
CREATE INDEX invitations_by_email ON invitations (email);
