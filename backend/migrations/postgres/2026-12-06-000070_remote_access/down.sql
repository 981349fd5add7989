ALTER TABLE cluster_backends DROP COLUMN address;
ALTER TABLE dms_account_links DROP COLUMN confirmed_at;
DROP TABLE dms_link_codes;
DROP TABLE remote_sessions;
DROP TABLE remote_tickets;
DROP INDEX systems_by_remote_label;
ALTER TABLE systems DROP COLUMN remote_label;
