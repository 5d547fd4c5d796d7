public import Foundation
public import Postgres

/// An operator's request that the leading coordinator carries out at its next tick.
public struct IntegrationRequest: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Re-synchronise every mapped field of every pair (guide L7196–7205).
        case processAll = "process-all"
        /// Read the chosen side's projects in full now, so newly eligible artifacts synchronise (guide L7418–7429).
        case initiateSynchronization = "initiate-synchronization"
    }
    public var id: Int64
    public var integration: String
    public var kind: Kind
    /// For initiate-synchronization: the side whose projects are read (nil: both).
    public var side: String?
    /// For initiate-synchronization: the projects to read (empty: all of the collection's).
    public var projects: [String]
    public var requestedBy: String
    public var requestedAt: Date
    public var scheduledAt: Date?
}

/// A control action named something that does not exist, or was malformed.
public struct ControlError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable { case notFound = "not-found", invalid }
    public var code: Code
    /// The argument at fault ("integration", "side", "projects", "repository").
    public var field: String
    public var message: String
    public var description: String { "\(self.field): \(self.message)" }
}

/// Run and stop of integrations, the repository connection toggle, and the operator requests above. Every change is
/// written to the audit log with its actor, in the same transaction.
public struct IntegrationControl: Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Starts or stops an integration (the `running` flag of its configuration). Returns whether it changed.
    @discardableResult
    public func setRunning(_ integration: String, _ running: Bool, actor: String) async throws -> Bool {
        try await self.toggle(table: "integrations", column: "running", entity: "integration", name: integration, value: running, actor: actor)
    }

    /// Connects or disconnects a repository (guide L4583–4659): a disconnected repository is neither read nor written.
    @discardableResult
    public func setRepositoryEnabled(_ repository: String, _ enabled: Bool, actor: String) async throws -> Bool {
        try await self.toggle(table: "repositories", column: "enabled", entity: "repository", name: repository, value: enabled, actor: actor)
    }

    private func toggle(table: String, column: String, entity: String, name: String, value: Bool, actor: String) async throws -> Bool {
        try await self.client.withTransaction { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: column) FROM \(unescaped: table) WHERE name = \(name) FOR UPDATE")
            guard let row = try rows.singleRow() else {
                throw ControlError(code: .notFound, field: entity, message: "no \(entity) named '\(name)'")
            }
            let current = try row.decode(Bool.self, at: 0)
            guard current != value else { return false }
            try await connection.query(
                "UPDATE \(unescaped: table) SET \(unescaped: column) = \(value), updated_at = now() WHERE name = \(name)")
            let action = entity == "integration" ? (value ? "run" : "stop") : (value ? "connect" : "disconnect")
            let changes = try PostgresJSON(["properties": [column], "from": [String(current)], "to": [String(value)]])
            try await connection.query(
                """
                INSERT INTO audit_log (actor, action, entity, entity_name, changes)
                VALUES (\(actor), \(action), \(entity), \(name), \(changes))
                """)
            return true
        }
    }

    /// Records a request; the leading coordinator queues its jobs at its next tick. Returns the request's id.
    @discardableResult
    public func request(
        _ kind: IntegrationRequest.Kind, integration: String, side: String? = nil, projects: [String] = [], actor: String
    ) async throws -> Int64 {
        if let side, side != "left", side != "right" {
            throw ControlError(code: .invalid, field: "side", message: "must be 'left' or 'right', not '\(side)'")
        }
        if kind == .processAll, side != nil || !projects.isEmpty {
            throw ControlError(code: .invalid, field: side != nil ? "side" : "projects", message: "process-all covers the whole integration")
        }
        if let empty = projects.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ControlError(code: .invalid, field: "projects[\(empty)]", message: "a project name cannot be empty")
        }
        return try await self.client.withTransaction { connection in
            guard
                let row = try await connection.query(
                    """
                    SELECT i.id, lc.name, coalesce(lc.projects, '{}'), rc.name, coalesce(rc.projects, '{}')
                    FROM integrations i LEFT JOIN collections lc ON lc.id = i.left_collection_id
                        LEFT JOIN collections rc ON rc.id = i.right_collection_id
                    WHERE i.name = \(integration)
                    """
                ).singleRow()
            else {
                throw ControlError(code: .notFound, field: "integration", message: "no integration named '\(integration)'")
            }
            let integrationID = try row.decode(Int64.self, at: 0)
            if kind == .initiateSynchronization, !projects.isEmpty {
                let sides = [
                    ("left", try row.decode(String?.self, at: 1), try row.decode([String].self, at: 2)),
                    ("right", try row.decode(String?.self, at: 3), try row.decode([String].self, at: 4)),
                ].filter { side == nil || $0.0 == side }
                try Self.checkProjects(projects, of: sides)
            }
            let inserted = try await connection.query(
                """
                INSERT INTO integration_requests (integration_id, kind, side, projects, requested_by)
                VALUES (\(integrationID), \(kind.rawValue), \(side), \(projects), \(actor)) RETURNING id
                """)
            if kind == .processAll {
                try await connection.query(
                    "UPDATE integrations SET process_all_generation = process_all_generation + 1 WHERE id = \(integrationID)")
            }
            var details: [String: [String]] = [:]
            if let side { details["side"] = [side] }
            if !projects.isEmpty { details["projects"] = projects }
            try await connection.query(
                """
                INSERT INTO audit_log (actor, action, entity, entity_name, changes)
                VALUES (\(actor), \(kind.rawValue), 'integration', \(integration), \(try PostgresJSON(details)))
                """)
            guard let id = try inserted.singleRow() else { throw ControlError(code: .invalid, field: "integration", message: "not recorded") }
            return try id.decode(Int64.self, at: 0)
        }
    }

    /// An Initiate Synchronization reads only projects of the side's collection (of either collection without a side):
    /// any other is refused, all of them named, with the projects there are.
    static func checkProjects(_ projects: [String], of sides: [(side: String, collection: String?, projects: [String])]) throws {
        let known = Set(sides.flatMap(\.projects))
        var unknown: [String] = []
        for project in projects where !known.contains(project) && !unknown.contains(project) { unknown.append(project) }
        guard !unknown.isEmpty else { return }
        let collections = sides.map {
            "the \($0.side) collection '\($0.collection ?? "?")' reads \($0.projects.map { "'\($0)'" }.joined(separator: ", "))"
        }
        throw ControlError(
            code: .invalid, field: "projects",
            message:
                "\(unknown.map { "'\($0)'" }.joined(separator: ", ")) \(unknown.count == 1 ? "is not a project" : "are not projects") of \(sides.count == 1 ? "the side's collection" : "either collection") (\(collections.joined(separator: "; ")))"
        )
    }

    /// Requests not yet scheduled, oldest first (`pending: false`: the most recent of all, newest first).
    public func requests(pending: Bool = true, limit: Int = 100) async throws -> [IntegrationRequest] {
        let rows = try await self.client.query(
            """
            SELECT r.id, i.name, r.kind, r.side, r.projects, r.requested_by, r.requested_at, r.scheduled_at
            FROM integration_requests r JOIN integrations i ON i.id = r.integration_id
            WHERE \(unescaped: pending ? "r.scheduled_at IS NULL" : "true")
            ORDER BY r.requested_at \(unescaped: pending ? "ASC" : "DESC"), r.id LIMIT \(limit)
            """)
        return try rows.map { row in
            IntegrationRequest(
                id: try row.decode(Int64.self, at: 0), integration: try row.decode(String.self, at: 1),
                kind: IntegrationRequest.Kind(rawValue: try row.decode(String.self, at: 2)) ?? .processAll,
                side: try row.decode(String?.self, at: 3), projects: try row.decode([String].self, at: 4),
                requestedBy: try row.decode(String.self, at: 5), requestedAt: try row.decode(Date.self, at: 6),
                scheduledAt: try row.decode(Date?.self, at: 7))
        }
    }

    /// Marks a request done (its jobs are queued).
    public func markScheduled(_ id: Int64) async throws {
        try await self.client.query("UPDATE integration_requests SET scheduled_at = now() WHERE id = \(id)")
    }
}
