public import Postgres

/// Session advisory locks named by text (the key is `hashtextextended(name, 0)`): held by one connection's session until
/// it unlocks them or ends. A pair's sync, an artifact's create and a process's presence are kept apart with them.
public enum AdvisoryLock {
    /// Takes the lock if nobody holds it; returns whether this session holds it now. Never waits.
    public static func tryLock(_ name: String, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query("SELECT pg_try_advisory_lock(hashtextextended(\(name), 0))")
        return try rows.first?.decode(Bool.self, at: 0) == true
    }

    /// Waits for the lock and takes it (the wait holds a database thread: only for a lock nobody else should hold long).
    public static func lock(_ name: String, on connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_lock(hashtextextended(\(name), 0))")
    }

    /// Releases one hold of the lock by this session.
    public static func unlock(_ name: String, on connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_unlock(hashtextextended(\(name), 0))")
    }

    /// Whether this session holds the lock (a reconnected connection has lost the locks of its earlier session).
    public static func isHeld(_ name: String, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.pid = pg_backend_pid()
                  AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(\(name), 0))
            """)
        return try rows.first?.decode(Bool.self, at: 0) == true
    }
}
