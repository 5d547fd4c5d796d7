-- The process that holds a create's claim, by its presence key (a session advisory lock that process holds while it
-- runs: ClusterPresence). A claim whose holder is gone (killed) is taken over at once instead of after it goes stale.
ALTER TABLE pending_creates ADD COLUMN holder text;
