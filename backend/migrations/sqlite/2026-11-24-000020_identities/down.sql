DROP TABLE pending_identity_links;
DROP TABLE provider_logins;
DROP TABLE identities;
