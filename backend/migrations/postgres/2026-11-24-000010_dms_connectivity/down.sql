DROP TABLE system_state_transitions;
DROP TABLE gateway_refresh_keys;
DROP TABLE connect_codes;
ALTER TABLE systems DROP COLUMN token_generation;
ALTER TABLE systems DROP COLUMN agent_count;
ALTER TABLE systems DROP COLUMN dms_version;
ALTER TABLE systems DROP COLUMN first_connected_at;
ALTER TABLE systems DROP COLUMN state;
