-- Sign-in through identity providers (OpenID Connect).

-- An account at a provider linked to a Stratus account: (provider, subject) is the identity.
CREATE TABLE identities (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    UNIQUE (provider_id, subject)
);
CREATE INDEX identities_by_user ON identities (user_id);

-- A sign-in started in one browser: keyed by the SHA-256 of that browser's HttpOnly cookie,
-- deleted when the provider's answer comes back (single use), useless after expires_at.
CREATE TABLE provider_logins (
    cookie_hash TEXT PRIMARY KEY NOT NULL,
    provider_id TEXT NOT NULL,
    state_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- A provider identity whose verified email matches an existing account: linked only once
-- the account's owner, in the same browser (cookie hash), signs in with the password or opens
-- the link mailed to the address (mail token hash): never silently.
CREATE TABLE pending_identity_links (
    cookie_hash TEXT PRIMARY KEY NOT NULL,
    mail_token_hash TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
