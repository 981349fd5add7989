-- Accounts: sessions with single-use refresh tokens, mailed one-time links, throttling.
-- Every secret is stored as its SHA-256 hash only.

-- A session is one sign-in (one browser); its refresh tokens form one family.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    -- Absolute end: refreshing does not extend it.
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    user_agent TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    -- Set when exchanged; presenting it again revokes the whole session (reuse detection).
    used_at TIMESTAMP
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX email_tokens_by_user ON email_tokens (user_id, purpose);

-- Attempts counted for rate limits, in the database so every backend sees the same counts.
-- The subject (an email or a client address) is stored hashed.
CREATE TABLE throttle_events (
    id TEXT PRIMARY KEY NOT NULL,
    bucket TEXT NOT NULL,
    subject_hash TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX throttle_events_lookup ON throttle_events (bucket, subject_hash, occurred_at);
