-- A pending create is claimed by the sync that makes the twin: a second sync of the same source waits while the claim
-- is fresh instead of creating again (advisory locks vanish with a dropped connection; this does not). The created
-- twin's id is recorded before the pair, so a sync of that twin, detected meanwhile, waits too.
ALTER TABLE pending_creates ADD COLUMN claimed_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE pending_creates ADD COLUMN target_id text;
ALTER TABLE pending_creates ADD COLUMN claim text;
CREATE INDEX pending_creates_target ON pending_creates (integration_id, target_id) WHERE target_id IS NOT NULL;
