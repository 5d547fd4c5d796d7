public import Foundation
public import Postgres

/// An operator's background job (an `integration_requests` row): "Process All Artifacts" or "Initiate Synchronization".
/// It is `pending` until the leading coordinator has queued its work, then `scheduled`.
public struct BackgroundJob: Sendable, Hashable, Codable {
    public var id: Int64
    public var integration: String
    /// `process-all` or `initiate-synchronization`.
    public var kind: String
    public var side: String?
    public var projects: [String]
    public var requestedBy: String
    public var requestedAt: Date
    public var scheduledAt: Date?
    /// `pending` or `scheduled`.
    public var status: String

    public init(
        id: Int64, integration: String, kind: String, side: String?, projects: [String], requestedBy: String, requestedAt: Date,
        scheduledAt: Date?
    ) {
        self.id = id
        self.integration = integration
        self.kind = kind
        self.side = side
        self.projects = projects
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.scheduledAt = scheduledAt
        self.status = scheduledAt == nil ? "pending" : "scheduled"
    }
}

/// A page of background jobs, newest first; `next` is the `after` of the following page.
public struct BackgroundJobPage: Sendable, Hashable, Codable {
    public var items: [BackgroundJob]
    public var next: Int64?

    public init(items: [BackgroundJob], next: Int64?) {
        self.items = items
        self.next = next
    }
}

/// The operators' background jobs.
public struct BackgroundJobs: Sendable {
    public static let statuses = ["pending", "scheduled"]

    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let columns = """
        SELECT r.id, i.name, r.kind, r.side, r.projects, r.requested_by, r.requested_at, r.scheduled_at
        FROM integration_requests r JOIN integrations i ON i.id = r.integration_id
        """

    static func job(_ row: PostgresRow) throws -> BackgroundJob {
        BackgroundJob(
            id: try row.decode(Int64.self, at: 0), integration: try row.decode(String.self, at: 1), kind: try row.decode(String.self, at: 2),
            side: try row.decode(String?.self, at: 3), projects: try row.decode([String].self, at: 4),
            requestedBy: try row.decode(String.self, at: 5), requestedAt: try row.decode(Date.self, at: 6),
            scheduledAt: try row.decode(Date?.self, at: 7))
    }

    /// Jobs newest first, optionally of one integration and status; `limit` 1...500.
    public func list(integration: String? = nil, status: String? = nil, after: Int64? = nil, limit: Int = 50) async throws -> BackgroundJobPage {
        if let status, !Self.statuses.contains(status) {
            throw AdminError(.invalid, field: "status", "'\(status)' is not a job status (statuses: \(Self.statuses.joined(separator: ", ")))")
        }
        if let after, after < 1 { throw AdminError(.invalid, field: "after", "must be a positive id") }
        guard (1...500).contains(limit) else { throw AdminError(.invalid, field: "limit", "must be between 1 and 500") }
        var q = QueryBuilder(Self.columns)
        var clauses: [String] = []
        if let integration { clauses.append("i.name = \(q.bind(integration))") }
        if status == "pending" { clauses.append("r.scheduled_at IS NULL") }
        if status == "scheduled" { clauses.append("r.scheduled_at IS NOT NULL") }
        if let after { clauses.append("r.id < \(q.bind(after))") }
        if !clauses.isEmpty { q.append(" WHERE " + clauses.joined(separator: " AND ")) }
        q.append(" ORDER BY r.id DESC LIMIT \(limit + 1)")
        var items = try await self.client.search(q.query).map(Self.job)
        var next: Int64?
        if items.count > limit {
            items.removeLast()
            next = items.last?.id
        }
        return BackgroundJobPage(items: items, next: next)
    }

    public func job(id: Int64) async throws -> BackgroundJob? {
        try await self.client.query("\(unescaped: Self.columns) WHERE r.id = \(id)").first.map(Self.job)
    }
}
