public import Postgres
public import TandemConfig

/// A configured repository as `tandem repositories list` shows it.
public struct RepositoryListing: Sendable, Hashable {
    public var name: String
    public var kind: RepositoryKind
    public var url: String
    /// How it authenticates (`none`, `basic`, `api-key`, `token`, `bearer`).
    public var authKind: String
    public var enabled: Bool
    /// Credentials are stored (encrypted).
    public var hasCredentials: Bool
    public var eventRateLimit: Int?
    public var concurrencyLimit: Int?
    /// Collections that read it.
    public var collections: Int
}

/// An integration as `tandem integrations list` shows it.
public struct IntegrationListing: Sendable, Hashable {
    public var name: String
    public var running: Bool
    /// The left and right collections' names.
    public var left: String
    public var right: String
    public var pairs: Int
    /// Its activity items in status `open`.
    public var openItems: Int
    /// Operator requests the coordinator has not carried out yet.
    public var pendingRequests: Int
}

extension RepositoryKind: TextColumnValue {}

extension RepositoryListing {
    /// Every repository, by name (no secret is read: no master key is needed).
    public static func all(in client: PostgresClient) async throws -> [RepositoryListing] {
        try await client.query(
            """
            SELECT r.name, r.kind, r.url, r.auth_kind, r.enabled, r.credentials IS NOT NULL, r.event_rate_limit,
                   r.concurrency_limit, (SELECT count(*) FROM collections c WHERE c.repository_id = r.id)
            FROM repositories r ORDER BY r.name
            """
        ).map { row in
            RepositoryListing(
                name: try row.decode(String.self, at: 0), kind: try row.decode(RepositoryKind.self, at: 1), url: try row.decode(String.self, at: 2),
                authKind: try row.decode(String.self, at: 3), enabled: try row.decode(Bool.self, at: 4),
                hasCredentials: try row.decode(Bool.self, at: 5), eventRateLimit: try row.decode(Int?.self, at: 6),
                concurrencyLimit: try row.decode(Int?.self, at: 7), collections: try row.decode(Int.self, at: 8))
        }
    }
}

extension IntegrationListing {
    /// Every integration, by name.
    public static func all(in client: PostgresClient) async throws -> [IntegrationListing] {
        try await client.query(
            """
            SELECT i.name, i.running, l.name, r.name,
                   (SELECT count(*) FROM artifact_pairs p WHERE p.integration_id = i.id),
                   (SELECT count(*) FROM activity a WHERE a.integration_id = i.id AND a.status = \(literal: ActivityStatus.open)),
                   (SELECT count(*) FROM integration_requests q WHERE q.integration_id = i.id AND q.scheduled_at IS NULL)
            FROM integrations i JOIN collections l ON l.id = i.left_collection_id
            JOIN collections r ON r.id = i.right_collection_id ORDER BY i.name
            """
        ).map { row in
            IntegrationListing(
                name: try row.decode(String.self, at: 0), running: try row.decode(Bool.self, at: 1), left: try row.decode(String.self, at: 2),
                right: try row.decode(String.self, at: 3), pairs: try row.decode(Int.self, at: 4), openItems: try row.decode(Int.self, at: 5),
                pendingRequests: try row.decode(Int.self, at: 6))
        }
    }
}
