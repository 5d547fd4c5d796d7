-- How many times the leader rewound this cursor after Redis lost its data (RedisEpochGuard). A detect job saves the
-- cursor it moved on only while the count is the one it read: a job that read before a rewind cannot save over it.
ALTER TABLE cursors ADD COLUMN rewinds bigint NOT NULL DEFAULT 0;
