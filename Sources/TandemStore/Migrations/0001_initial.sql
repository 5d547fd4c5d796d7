-- Tandem's data model. Every durable fact lives here; Redis only holds queues, leases and limiter state.
-- Names are the user-facing identity of configuration entities; ids are internal.

-- Global settings: one row per key, JSON values (intervals, concurrency, rate-limit defaults, log level).
CREATE TABLE settings (
    key         text PRIMARY KEY,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Repository connections. Credentials are AES-256-GCM ciphertext under the master key (never plaintext).
CREATE TABLE repositories (
    id                  bigserial PRIMARY KEY,
    name                text NOT NULL UNIQUE,
    kind                text NOT NULL,
    url                 text NOT NULL,
    auth_kind           text NOT NULL DEFAULT 'none',
    -- Non-secret auth settings (username, header, parameter) and the names of the environment references.
    auth_settings       jsonb NOT NULL DEFAULT '{}',
    credentials         bytea,
    enabled             boolean NOT NULL DEFAULT true,
    disabled_until      timestamptz,
    allow_insecure      boolean NOT NULL DEFAULT false,
    proxy_url           text,
    proxy_username      text,
    proxy_credentials   bytea,
    event_rate_limit    integer CHECK (event_rate_limit > 0),
    rate_limit_scope    text CHECK (rate_limit_scope IN ('all', 'low-priority')),
    concurrency_limit   integer CHECK (concurrency_limit > 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE models (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_fields (
    model_id        bigint NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    position        integer NOT NULL,
    name            text NOT NULL,
    field_type      text NOT NULL,
    required        boolean NOT NULL DEFAULT false,
    select_values   text[] NOT NULL DEFAULT '{}',
    allow_unmapped  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (model_id, name),
    UNIQUE (model_id, position)
);

CREATE TABLE collections (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    repository_id   bigint NOT NULL REFERENCES repositories(id) ON DELETE RESTRICT,
    model_id        bigint NOT NULL REFERENCES models(id) ON DELETE RESTRICT,
    artifact_type   text NOT NULL,
    projects        text[] NOT NULL CHECK (cardinality(projects) > 0),
    status_field    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Field mappings: repository field <-> model field, one transform per direction, value maps for selects.
CREATE TABLE collection_field_mappings (
    collection_id       bigint NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    position            integer NOT NULL,
    repository_field    text NOT NULL,
    model_field         text NOT NULL,
    to_model            text NOT NULL DEFAULT 'copy',
    to_repository       text NOT NULL DEFAULT 'copy',
    default_value       text,
    constant_value      text,
    PRIMARY KEY (collection_id, position)
);

CREATE TABLE collection_value_maps (
    collection_id       bigint NOT NULL,
    mapping_position    integer NOT NULL,
    position            integer NOT NULL,
    repository_values   text[] NOT NULL CHECK (cardinality(repository_values) > 0),
    model_value         text NOT NULL,
    PRIMARY KEY (collection_id, mapping_position, position),
    FOREIGN KEY (collection_id, mapping_position)
        REFERENCES collection_field_mappings(collection_id, position) ON DELETE CASCADE
);

CREATE TABLE collection_transitions (
    collection_id   bigint NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    position        integer NOT NULL,
    from_status     text NOT NULL,
    to_status       text NOT NULL,
    name            text NOT NULL,
    PRIMARY KEY (collection_id, position),
    UNIQUE (collection_id, from_status, to_status),
    CHECK (from_status <> to_status)
);

CREATE TABLE integrations (
    id                      bigserial PRIMARY KEY,
    name                    text NOT NULL UNIQUE,
    left_collection_id      bigint NOT NULL REFERENCES collections(id) ON DELETE RESTRICT,
    right_collection_id     bigint NOT NULL REFERENCES collections(id) ON DELETE RESTRICT,
    running                 boolean NOT NULL DEFAULT false,
    creation_flow           text NOT NULL DEFAULT 'two-way',
    filter_scope            text NOT NULL DEFAULT 'creation-and-update',
    comment_flow            text NOT NULL DEFAULT 'both',
    attachment_flow         text NOT NULL DEFAULT 'none',
    attachment_max_bytes    bigint,
    attachment_exclude      text[] NOT NULL DEFAULT '{}',
    conflict_default        text NOT NULL DEFAULT 'error',
    max_concurrency         integer CHECK (max_concurrency > 0),
    -- Bumped by "Process All Artifacts"; workers re-sync pairs last synced under an older generation.
    process_all_generation  bigint NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (left_collection_id <> right_collection_id)
);

CREATE TABLE integration_field_flows (
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    model_field     text NOT NULL,
    left_to_right   text NOT NULL,
    right_to_left   text NOT NULL,
    PRIMARY KEY (integration_id, model_field)
);

-- Ordered conditional field flows: first match wins. Conditions and overrides as JSON documents.
CREATE TABLE integration_conditional_flows (
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    position        integer NOT NULL,
    conditions      jsonb NOT NULL,
    field_flows     jsonb NOT NULL,
    PRIMARY KEY (integration_id, position)
);

CREATE TABLE integration_routes (
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    position        integer NOT NULL,
    from_side       text NOT NULL CHECK (from_side IN ('left', 'right')),
    source_projects text[] NOT NULL,
    target_project  text,
    route_field     text,
    targets         jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (integration_id, position)
);

CREATE TABLE integration_filters (
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    position        integer NOT NULL,
    side            text CHECK (side IN ('left', 'right')),
    model_field     text NOT NULL,
    operator        text NOT NULL,
    filter_values   text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (integration_id, position)
);

CREATE TABLE integration_conflict_policies (
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    model_field     text NOT NULL,
    policy          text NOT NULL CHECK (policy IN ('error', 'left-dominates', 'right-dominates')),
    PRIMARY KEY (integration_id, model_field)
);

-- Schedules: scope 'integration' overrides the global settings, 'left'/'right' override per collection side.
CREATE TABLE integration_schedules (
    integration_id      bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    scope               text NOT NULL CHECK (scope IN ('integration', 'left', 'right')),
    change_interval_s   integer CHECK (change_interval_s > 0),
    change_cron         text,
    scan_interval_s     integer CHECK (scan_interval_s > 0),
    scan_cron           text,
    scan_enabled        boolean,
    PRIMARY KEY (integration_id, scope),
    CHECK (change_interval_s IS NULL OR change_cron IS NULL),
    CHECK (scan_interval_s IS NULL OR scan_cron IS NULL)
);

-- Artifact pairs: the durable link between twins, with the last-synced model values of each side.
CREATE TABLE artifact_pairs (
    id                  bigserial PRIMARY KEY,
    integration_id      bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    left_id             text NOT NULL,
    right_id            text NOT NULL,
    left_key            text,
    right_key           text,
    left_url            text,
    right_url           text,
    left_project        text,
    right_project       text,
    created_from        text NOT NULL CHECK (created_from IN ('left', 'right', 'matched')),
    left_state          jsonb NOT NULL DEFAULT '{}',
    right_state         jsonb NOT NULL DEFAULT '{}',
    left_version        text,
    right_version       text,
    synced_generation   bigint NOT NULL DEFAULT 0,
    status              text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'conflict', 'error', 'twinless')),
    status_reason       text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_synced_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (integration_id, left_id),
    UNIQUE (integration_id, right_id)
);

-- Written before a target artifact is created; resolved into a pair, or after a crash by finding the marker.
CREATE TABLE pending_creates (
    id              bigserial PRIMARY KEY,
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    source_side     text NOT NULL CHECK (source_side IN ('left', 'right')),
    source_id       text NOT NULL,
    marker          text NOT NULL UNIQUE,
    target_project  text,
    attempts        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (integration_id, source_side, source_id)
);

-- Change-detection cursors, per integration side; the format belongs to the connector.
CREATE TABLE cursors (
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    side            text NOT NULL CHECK (side IN ('left', 'right')),
    cursor          text NOT NULL,
    last_detect_at  timestamptz,
    last_scan_at    timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, side)
);

-- The write ledger: what Tandem itself last wrote to each field of each artifact (echo suppression).
CREATE TABLE write_ledger (
    pair_id     bigint NOT NULL REFERENCES artifact_pairs(id) ON DELETE CASCADE,
    side        text NOT NULL CHECK (side IN ('left', 'right')),
    field       text NOT NULL,
    value       jsonb NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pair_id, side, field)
);

-- Comments and attachments that already flowed, so each flows once.
CREATE TABLE synced_items (
    pair_id         bigint NOT NULL REFERENCES artifact_pairs(id) ON DELETE CASCADE,
    item_kind       text NOT NULL CHECK (item_kind IN ('comment', 'attachment')),
    source_side     text NOT NULL CHECK (source_side IN ('left', 'right')),
    source_item_id  text NOT NULL,
    target_item_id  text,
    checksum        text,
    synced_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pair_id, item_kind, source_side, source_item_id)
);

-- Activity: failed items (retry / clear / clear-and-ignore), blockers, background jobs.
CREATE TABLE activity (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('error', 'blocker', 'job', 'info')),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'retrying', 'cleared', 'ignored', 'done')),
    code            text,
    integration_id  bigint REFERENCES integrations(id) ON DELETE CASCADE,
    repository_id   bigint REFERENCES repositories(id) ON DELETE CASCADE,
    pair_id         bigint REFERENCES artifact_pairs(id) ON DELETE SET NULL,
    artifact_id     text,
    message         text NOT NULL,
    details         jsonb NOT NULL DEFAULT '{}',
    occurrences     integer NOT NULL DEFAULT 1,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz
);
CREATE INDEX activity_open ON activity (kind, status, last_seen_at DESC);
CREATE INDEX activity_integration ON activity (integration_id, last_seen_at DESC);

-- Users, roles and API tokens (token hashes only).
CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    username            text NOT NULL UNIQUE,
    display_name        text,
    email               text,
    password_hash       text,
    roles               text[] NOT NULL DEFAULT '{user}',
    failed_logins       integer NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id              bigserial PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            text NOT NULL,
    token_hash      bytea NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    expires_at      timestamptz
);

-- Every configuration change: who, when, what. Also the configuration history.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    actor       text NOT NULL,
    action      text NOT NULL,
    entity      text NOT NULL,
    entity_name text,
    changes     jsonb NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT now()
);

-- Metrics rollups: per integration, hour and outcome.
CREATE TABLE metrics_rollups (
    integration_id  bigint NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    bucket          timestamptz NOT NULL,
    metric          text NOT NULL,
    value           bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (integration_id, bucket, metric)
);

-- Coordinator leadership: one row, with a fencing token bumped on every takeover.
CREATE TABLE leader_lease (
    name            text PRIMARY KEY,
    holder          text NOT NULL,
    fencing_token   bigint NOT NULL,
    expires_at      timestamptz NOT NULL
);

-- The master key's fingerprint, so a wrong key is detected before anything is decrypted.
CREATE TABLE key_fingerprint (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    key_id          text NOT NULL,
    rotated_at      timestamptz NOT NULL DEFAULT now()
);
