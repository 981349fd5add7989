-- Remote access: each DMS's host label under the remote-access domain, the single-use
-- tickets the portal hands a browser, and the sessions they become on the DMS's own origin.
-- DMS account links now need the DMS's confirmation (a one-time link code entered on the
-- DMS); links made before are kept and shown as unconfirmed. Backends advertise the address
-- the others forward remote-access requests to.

ALTER TABLE systems ADD COLUMN remote_label TEXT;
CREATE UNIQUE INDEX systems_by_remote_label ON systems (remote_label);

CREATE TABLE remote_tickets (
    ticket_hash TEXT PRIMARY KEY NOT NULL,
    system_id TEXT NOT NULL REFERENCES systems (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

CREATE TABLE remote_sessions (
    session_hash TEXT PRIMARY KEY NOT NULL,
    system_id TEXT NOT NULL REFERENCES systems (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX remote_sessions_by_user ON remote_sessions (user_id);
CREATE INDEX remote_sessions_by_system ON remote_sessions (system_id);

CREATE TABLE dms_link_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    system_id TEXT NOT NULL REFERENCES systems (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

ALTER TABLE dms_account_links ADD COLUMN confirmed_at TIMESTAMP;

ALTER TABLE cluster_backends ADD COLUMN address TEXT NOT NULL DEFAULT '';
