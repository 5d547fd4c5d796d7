-- A repository's debug logging (seed 003's `debug_mode`): its API calls are logged at notice level.
ALTER TABLE repositories ADD COLUMN debug_logging boolean NOT NULL DEFAULT false;
