DROP TABLE audit_log;
DROP TABLE dms_account_links;
DROP TABLE system_roles;
ALTER TABLE systems DROP COLUMN remote_access_enabled;
ALTER TABLE organizations DROP COLUMN remote_access_enabled;
