-- Running as a cluster: the backends alive (each renews its lease), and which backend holds
-- each DMS's gateway socket, so that the survivors of a backend that vanished record its DMSs
-- disconnected exactly once (see live/leases.rs).

CREATE TABLE cluster_backends (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    lease_expires_at TIMESTAMP NOT NULL
);

ALTER TABLE systems ADD COLUMN gateway_backend TEXT;
CREATE INDEX systems_by_gateway_backend ON systems (gateway_backend);
