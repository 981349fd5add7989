-- Where a pending link came from: an organization's invitation (mailed), platform staff in the
-- staff console (mailed), or the legacy import (not mailed: those people knew the old portal).
ALTER TABLE invitations
    ADD COLUMN source TEXT NOT NULL DEFAULT 'invitation'
    CHECK (source IN ('invitation', 'staff', 'legacy'));
