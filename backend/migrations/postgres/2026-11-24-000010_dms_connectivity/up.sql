-- PostgreSQL twin of the SQLite migration of the same name; keep them in step.
-- How DMSs join and stay connected: connect codes, refresh keys, and the state history.

-- What the state engine must know after a restart; live state itself stays in memory.
ALTER TABLE systems ADD COLUMN state TEXT NOT NULL DEFAULT 'never_connected';
ALTER TABLE systems ADD COLUMN first_connected_at TIMESTAMP;
ALTER TABLE systems ADD COLUMN dms_version TEXT;
ALTER TABLE systems ADD COLUMN agent_count INTEGER;
-- Bumped to revoke every DMS token issued before (new connect code, refresh-key reuse).
ALTER TABLE systems ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;

-- One-time codes a gateway trades for a DMS token; only their SHA-256 is kept.
CREATE TABLE connect_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    system_id TEXT NOT NULL REFERENCES systems (id) ON DELETE CASCADE,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX connect_codes_by_system ON connect_codes (system_id);

-- Single-use keys that renew a DMS token; only their SHA-256 is kept. A used key stays until
-- the family is revoked so that its reuse can be recognised.
CREATE TABLE gateway_refresh_keys (
    key_hash TEXT PRIMARY KEY NOT NULL,
    system_id TEXT NOT NULL REFERENCES systems (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX gateway_refresh_keys_by_system ON gateway_refresh_keys (system_id);

-- Every change of a DMS's connection state, for the history pages. Ids are UUIDv7 (time-ordered),
-- so (at, id) orders transitions even within one clock tick.
CREATE TABLE system_state_transitions (
    id TEXT PRIMARY KEY NOT NULL,
    system_id TEXT NOT NULL REFERENCES systems (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('connected', 'dms_not_responding', 'disconnected', 'unknown', 'never_connected')),
    at TIMESTAMP NOT NULL
);
CREATE INDEX system_state_transitions_by_system ON system_state_transitions (system_id, at);
