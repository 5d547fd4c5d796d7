-- Indexes for the operators' searches (issue 7; measured by Ops/bench/api-latency.sh with 100,000 pairs and 20,000
-- activity rows, target p99 <= 50 ms). Pairs are found by an artifact id or key on either side, by text in ids and
-- keys, and by status; activity is listed newest first by status.
CREATE INDEX artifact_pairs_left_id ON artifact_pairs (left_id);
CREATE INDEX artifact_pairs_right_id ON artifact_pairs (right_id);
CREATE INDEX artifact_pairs_left_key ON artifact_pairs (lower(left_key));
CREATE INDEX artifact_pairs_right_key ON artifact_pairs (lower(right_key));
CREATE INDEX artifact_pairs_status ON artifact_pairs (status, id) WHERE status <> 'ok';
CREATE INDEX activity_status ON activity (status, id);

-- Text search (a substring of ids and keys) uses a trigram index when the pg_trgm extension can be had (it ships with
-- PostgreSQL's contrib modules and is trusted: the database's owner may create it); without it, the search still
-- works, scanning the pairs.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): pair text search runs without its index', SQLERRM;
END $$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE $sql$CREATE INDEX artifact_pairs_search ON artifact_pairs USING gin
            ((lower(left_id || ' ' || right_id || ' ' || coalesce(left_key, '') || ' ' || coalesce(right_key, ''))) gin_trgm_ops)$sql$;
    END IF;
END $$;
