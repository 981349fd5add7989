DROP INDEX systems_by_gateway_backend;
ALTER TABLE systems DROP COLUMN gateway_backend;
DROP TABLE cluster_backends;
