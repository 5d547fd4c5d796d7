public import Postgres

/// Whether the database answers, for health checks.
public enum DatabaseHealth {
    /// Runs the cheapest statement; throws when the database does not answer.
    public static func ping(_ client: PostgresClient) async throws {
        try await client.query("SELECT 1")
    }
}
