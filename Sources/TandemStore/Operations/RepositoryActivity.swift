public import Foundation
public import Postgres

/// What a repository's integrations are doing, for the v2 connections API.
public struct RepositoryActivity: Sendable, Hashable {
    public var id: Int64
    public var name: String
    /// The last full scan of an integration side that reads this repository.
    public var lastScan: Date?
    /// An operator request on one of its integrations waits for the coordinator.
    public var pendingRequest: Bool
    /// An open blocker belongs to this repository (its credentials, permissions or configuration stop it).
    public var blocked: Bool
}

/// The last operator request on one of a repository's integrations.
public struct RepositoryRequest: Sendable, Hashable {
    public var id: Int64
    public var kind: IntegrationRequest.Kind
    public var requestedAt: Date
    /// When the coordinator queued its jobs (nil: not yet).
    public var scheduledAt: Date?
    /// The requesting user's id, when the requester is a user.
    public var userID: Int64?
}

extension IntegrationRequest.Kind: TextColumnValue {}

/// Queries about repositories' integrations: scans, requests and blockers.
public struct RepositoryActivityStore: Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Every repository (or only the one with id `only`), by id.
    public func list(only: Int64? = nil) async throws -> [RepositoryActivity] {
        try await self.client.query(
            """
            SELECT r.id, r.name,
                (SELECT max(cu.last_scan_at) FROM cursors cu JOIN integrations i ON i.id = cu.integration_id
                    JOIN collections c ON c.id = CASE cu.side WHEN 'left' THEN i.left_collection_id ELSE i.right_collection_id END
                    WHERE c.repository_id = r.id),
                EXISTS (SELECT 1 FROM integration_requests q JOIN integrations i ON i.id = q.integration_id
                    JOIN collections c ON c.id IN (i.left_collection_id, i.right_collection_id)
                    WHERE c.repository_id = r.id AND q.scheduled_at IS NULL),
                EXISTS (SELECT 1 FROM activity a
                    WHERE a.repository_id = r.id AND a.kind = \(literal: ActivityKind.blocker) AND a.status = \(literal: ActivityStatus.open))
            FROM repositories r WHERE (\(only)::bigint IS NULL OR r.id = \(only)) ORDER BY r.id
            """
        ).map { row in
            RepositoryActivity(
                id: try row.decode(Int64.self, at: 0), name: try row.decode(String.self, at: 1), lastScan: try row.decode(Date?.self, at: 2),
                pendingRequest: try row.decode(Bool.self, at: 3), blocked: try row.decode(Bool.self, at: 4))
        }
    }

    /// The last operator request of each repository (or only of the one with id `only`), by repository id.
    public func lastRequests(only: Int64? = nil) async throws -> [Int64: RepositoryRequest] {
        var requests: [Int64: RepositoryRequest] = [:]
        for row in try await self.client.query(
            """
            SELECT DISTINCT ON (c.repository_id) c.repository_id, q.id, q.kind, q.requested_at, q.scheduled_at, u.id
            FROM integration_requests q JOIN integrations i ON i.id = q.integration_id
                JOIN collections c ON c.id IN (i.left_collection_id, i.right_collection_id)
                LEFT JOIN users u ON u.username = q.requested_by
            WHERE (\(only)::bigint IS NULL OR c.repository_id = \(only))
            ORDER BY c.repository_id, q.requested_at DESC, q.id DESC
            """)
        {
            requests[try row.decode(Int64.self, at: 0)] = RepositoryRequest(
                id: try row.decode(Int64.self, at: 1), kind: try row.decode(IntegrationRequest.Kind.self, at: 2),
                requestedAt: try row.decode(Date.self, at: 3), scheduledAt: try row.decode(Date?.self, at: 4),
                userID: try row.decode(Int64?.self, at: 5))
        }
        return requests
    }
}
