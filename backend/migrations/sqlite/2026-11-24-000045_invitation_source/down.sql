ALTER TABLE invitations DROP COLUMN source;
