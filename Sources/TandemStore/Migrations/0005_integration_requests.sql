-- Operator requests the leading coordinator carries out at its next tick: "Process All Artifacts" (guide L7196–7205:
-- every pair re-synchronises all mapped fields) and "Initiate Synchronization" (L7418–7429: a full read of the
-- chosen side's projects, so newly eligible artifacts synchronise now). A request is done once its jobs are queued.
CREATE TABLE integration_requests (
    id              bigserial PRIMARY KEY,
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('process-all', 'initiate-synchronization')),
    side            text CHECK (side IN ('left', 'right')),
    projects        text[] NOT NULL DEFAULT '{}',
    requested_by    text NOT NULL,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    scheduled_at    timestamptz
);
CREATE INDEX integration_requests_pending ON integration_requests (requested_at) WHERE scheduled_at IS NULL;
