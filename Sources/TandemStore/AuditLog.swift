public import Foundation
public import Postgres
public import TandemConfig
public import TandemCore

/// One configuration change: who, when, what, and a before/after summary (secrets only ever as `{"set": true}`).
public struct AuditEntry: Sendable, Hashable {
    public var id: Int64
    public var actor: String
    public var action: String
    public var entity: String
    public var entityName: String?
    public var changes: JSONNode
    public var at: Date
}

/// The audit log: every configuration change, from `tandem apply`, the CLI and the API. It is also the configuration
/// history (newest first, filtered by entity).
public enum AuditLog {
    /// Writes one row on `connection` (inside the change's own transaction, so the row exists exactly when the change does).
    public static func record(
        _ connection: PostgresConnection, actor: String, action: String, entity: String, name: String?, changes: JSONNode = .object([])
    ) async throws {
        try await connection.query(
            """
            INSERT INTO audit_log (actor, action, entity, entity_name, changes)
            VALUES (\(actor), \(action), \(entity), \(name), \(PostgresJSON(raw: changes.text)))
            """)
    }

    public struct Filter: Sendable, Hashable {
        public var entity: String?
        public var entityName: String?
        public var actor: String?
        /// Only entries older than this id (the cursor of the next page).
        public var before: Int64?
        public var limit: Int
        public init(entity: String? = nil, entityName: String? = nil, actor: String? = nil, before: Int64? = nil, limit: Int = 50) {
            self.entity = entity
            self.entityName = entityName
            self.actor = actor
            self.before = before
            self.limit = limit
        }
    }

    /// One entry by id, or nil.
    public static func entry(_ client: PostgresClient, id: Int64) async throws -> AuditEntry? {
        try await client.query("SELECT id, actor, action, entity, entity_name, changes::text, at FROM audit_log WHERE id = \(id)").first.map(
            Self.entry)
    }

    static func entry(_ row: PostgresRow) throws -> AuditEntry {
        let text = try row.decode(String.self, at: 5)
        return AuditEntry(
            id: try row.decode(Int64.self, at: 0), actor: try row.decode(String.self, at: 1), action: try row.decode(String.self, at: 2),
            entity: try row.decode(String.self, at: 3), entityName: try row.decode(String?.self, at: 4),
            changes: (try? JSONNode.parse(text)) ?? .object([]), at: try row.decode(Date.self, at: 6))
    }

    /// Entries newest first; `limit` is clamped to 1...500.
    public static func list(_ client: PostgresClient, _ filter: Filter) async throws -> [AuditEntry] {
        let limit = min(max(filter.limit, 1), 500)
        return try await client.query(
            """
            SELECT id, actor, action, entity, entity_name, changes::text, at FROM audit_log
            WHERE (\(filter.entity)::text IS NULL OR entity = \(filter.entity))
              AND (\(filter.entityName)::text IS NULL OR entity_name = \(filter.entityName))
              AND (\(filter.actor)::text IS NULL OR actor = \(filter.actor))
              AND (\(filter.before)::bigint IS NULL OR id < \(filter.before))
            ORDER BY id DESC LIMIT \(limit)
            """
        ).map(Self.entry)
    }
}
