-- Connector-specific repository settings (e.g. Redmine's marker custom field).
ALTER TABLE repositories ADD COLUMN options jsonb NOT NULL DEFAULT '{}';

-- The sync core's view of a pair (per-side synced snapshots, flowed comments and attachments) and its write ledger
-- (what Tandem itself last wrote to each field, for echo suppression), each as one JSON document.
ALTER TABLE artifact_pairs ADD COLUMN core_state jsonb NOT NULL DEFAULT '{}';
ALTER TABLE artifact_pairs ADD COLUMN ledger jsonb NOT NULL DEFAULT '{}';
ALTER TABLE artifact_pairs ADD COLUMN last_job text;
ALTER TABLE artifact_pairs ADD COLUMN last_error text;

-- The last detection that saw an artifact and its last sync outcome, for `tandem trace`.
CREATE TABLE artifact_trace (
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    side            text NOT NULL CHECK (side IN ('left', 'right')),
    artifact_id     text NOT NULL,
    detected_at     timestamptz,
    detected_version text,
    last_sync_at    timestamptz,
    last_outcome    text,
    last_reasons    text,
    last_error      text,
    PRIMARY KEY (integration_id, side, artifact_id)
);
