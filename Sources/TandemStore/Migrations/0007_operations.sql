-- Operator actions on activity (issue 7). "Clear Errors and Ignore Changes" holds a pair's new changes until a retry:
-- the sync engine skips a pair whose ignore_changes is set, and an artifact without a pair that is listed in
-- ignored_artifacts (a failed create), with the trace reason "ignored by operator".
ALTER TABLE artifact_pairs ADD COLUMN ignore_changes boolean NOT NULL DEFAULT false;

CREATE TABLE ignored_artifacts (
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    side            text NOT NULL CHECK (side IN ('left', 'right')),
    artifact_id     text NOT NULL,
    ignored_by      text NOT NULL,
    ignored_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, side, artifact_id)
);

-- Which side the failing artifact is on (artifact ids of two repositories may coincide), how often an operator retried
-- it, and who acted last.
ALTER TABLE activity ADD COLUMN side text CHECK (side IN ('left', 'right'));
ALTER TABLE activity ADD COLUMN retries integer NOT NULL DEFAULT 0;
ALTER TABLE activity ADD COLUMN acted_by text;
ALTER TABLE activity ADD COLUMN acted_at timestamptz;
-- The engine resolves an artifact's open and retrying rows after each sync of it.
CREATE INDEX activity_artifact ON activity (integration_id, artifact_id) WHERE status IN ('open', 'retrying');
