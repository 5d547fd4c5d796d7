-- A blocker whose repository is to be resumed and its connection tried again now: set by an operator's Retry and by new
-- credentials (or any change) of the repository; the coordinator resumes the repository, queues its change detection
-- and clears it. The next answer of the repository resolves the blocker; a new rejection opens it again.
ALTER TABLE activity ADD COLUMN retest_at timestamptz;
CREATE INDEX activity_retest ON activity (retest_at) WHERE retest_at IS NOT NULL;
