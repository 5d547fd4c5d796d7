-- Users, sessions and API tokens for the REST API and the web UI (issue 7).
-- Passwords are scrypt hashes whose parameters live in the hash string; session ids and API tokens are stored only as
-- SHA-256 digests, so a copy of the database lets nobody log in.

ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE users ADD COLUMN password_changed_at timestamptz;
ALTER TABLE users ADD CONSTRAINT users_roles_known
    CHECK (roles <@ ARRAY['admin', 'user', 'troubleshooting', 'view-pairs', 'delete-pairs']::text[]);

-- Cookie sessions of the web UI: the cookie carries a random id; only its SHA-256 is kept. The CSRF token is
-- per session and must come back in the X-CSRF-Token header on unsafe requests.
CREATE TABLE sessions (
    id_hash         bytea PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    user_agent      text
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- API tokens are revoked, not deleted, so the list still shows what existed; the prefix identifies a token in lists.
ALTER TABLE api_tokens ADD COLUMN revoked_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN prefix text NOT NULL DEFAULT '';
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The audit log is read newest first, by entity.
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_name, at DESC);
