public import Foundation
public import Postgres
import TandemConfig
public import TandemCore

/// One side of an artifact pair: the artifact's id, its formatted key (e.g. `PROJ-12`), its link and its project.
public struct PairSide: Sendable, Hashable, Codable {
    public var id: String
    public var key: String?
    public var url: String?
    public var project: String?

    public init(id: String, key: String? = nil, url: String? = nil, project: String? = nil) {
        self.id = id
        self.key = key
        self.url = url
        self.project = project
    }
}

/// An artifact pair as the operator sees it.
public struct PairSummary: Sendable, Hashable, Codable {
    public var id: Int64
    public var integration: String
    public var status: PairStatus
    public var statusReason: String?
    /// `left`, `right` (the side whose artifact was copied) or `matched`.
    public var createdFrom: String
    public var left: PairSide
    public var right: PairSide
    public var createdAt: Date
    public var lastSyncedAt: Date
    /// New changes are ignored until a retry ("Clear Errors and Ignore Changes").
    public var ignoreChanges: Bool
    public var lastError: String?

    public init(
        id: Int64, integration: String, status: PairStatus, statusReason: String? = nil, createdFrom: String, left: PairSide, right: PairSide,
        createdAt: Date, lastSyncedAt: Date, ignoreChanges: Bool = false, lastError: String? = nil
    ) {
        self.id = id
        self.integration = integration
        self.status = status
        self.statusReason = statusReason
        self.createdFrom = createdFrom
        self.left = left
        self.right = right
        self.createdAt = createdAt
        self.lastSyncedAt = lastSyncedAt
        self.ignoreChanges = ignoreChanges
        self.lastError = lastError
    }
}

/// Which pairs to find: every member narrows.
public struct PairFilter: Sendable, Hashable, Codable {
    /// An integration's name.
    public var integration: String?
    /// An artifact id, on either side (exact).
    public var artifact: String?
    /// A formatted key, on either side (exact, case-insensitive).
    public var key: String?
    /// Case-insensitive text in either side's id or key.
    public var text: String?
    /// `ok`, `conflict`, `error` or `twinless`.
    public var status: String?
    /// Keyset paging: only pairs with an id below this (the previous page's `next`).
    public var after: Int64?
    /// Page size, 1...500.
    public var limit: Int

    public init(
        integration: String? = nil, artifact: String? = nil, key: String? = nil, text: String? = nil, status: String? = nil, after: Int64? = nil,
        limit: Int = 50
    ) {
        self.integration = integration
        self.artifact = artifact
        self.key = key
        self.text = text
        self.status = status
        self.after = after
        self.limit = limit
    }

    /// Throws `AdminError.invalid` naming the member that is not acceptable.
    public func validate() throws {
        if let status, !PairQuery.statuses.contains(status) {
            throw AdminError(.invalid, field: "status", "'\(status)' is not a pair status (statuses: \(PairQuery.statuses.joined(separator: ", ")))")
        }
        if let after, after < 1 { throw AdminError(.invalid, field: "after", "must be a positive id") }
        if !(1...500).contains(self.limit) { throw AdminError(.invalid, field: "limit", "must be between 1 and 500") }
        for (name, value) in [("artifact", self.artifact), ("key", self.key), ("q", self.text)] {
            if let value, value.isEmpty || value.unicodeScalars.count > 200 {
                throw AdminError(.invalid, field: name, "must be 1 to 200 characters long")
            }
        }
    }
}

/// A page of pairs, newest first; `next` is the `after` of the following page (nil: this is the last).
public struct PairPage: Sendable, Hashable, Codable {
    public var items: [PairSummary]
    public var next: Int64?

    public init(items: [PairSummary], next: Int64?) {
        self.items = items
        self.next = next
    }
}

/// What the last detection saw of one side's artifact, and how its last sync ended (`tandem trace`).
public struct ArtifactTraceRecord: Sendable, Hashable, Codable {
    public var side: String
    public var artifactID: String
    public var detectedAt: Date?
    public var detectedVersion: String?
    public var lastSyncAt: Date?
    public var lastOutcome: TraceOutcome?
    public var lastReasons: String?
    public var lastError: String?

    public init(
        side: String, artifactID: String, detectedAt: Date? = nil, detectedVersion: String? = nil, lastSyncAt: Date? = nil,
        lastOutcome: TraceOutcome? = nil, lastReasons: String? = nil, lastError: String? = nil
    ) {
        self.side = side
        self.artifactID = artifactID
        self.detectedAt = detectedAt
        self.detectedVersion = detectedVersion
        self.lastSyncAt = lastSyncAt
        self.lastOutcome = lastOutcome
        self.lastReasons = lastReasons
        self.lastError = lastError
    }
}

/// An audit-log row about a pair (deleted, changes ignored).
public struct PairAuditRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var actor: String
    public var action: String
    public var at: Date
    /// The change's summary, as JSON text.
    public var changes: String

    public init(id: Int64, actor: String, action: String, at: Date, changes: String) {
        self.id = id
        self.actor = actor
        self.action = action
        self.at = at
        self.changes = changes
    }
}

/// One event of a pair's history, newest first: a trace (detected, synced), an activity row, an audit row.
public struct PairHistoryEntry: Sendable, Hashable, Codable {
    public var at: Date
    /// `trace`, `activity` or `audit`.
    public var source: String
    /// `left`/`right` for traces and artifact activity.
    public var side: String?
    public var summary: String
    public var actor: String?
    public var activityID: Int64?

    public init(at: Date, source: String, side: String? = nil, summary: String, actor: String? = nil, activityID: Int64? = nil) {
        self.at = at
        self.source = source
        self.side = side
        self.summary = summary
        self.actor = actor
        self.activityID = activityID
    }
}

/// A pair with everything known about it.
public struct PairDetails: Sendable, Hashable, Codable {
    public var pair: PairSummary
    /// The job that last synchronised it, when recorded.
    public var lastJob: String?
    public var activity: [ActivityItem]
    public var traces: [ArtifactTraceRecord]
    public var audit: [PairAuditRecord]
    /// The three merged, newest first.
    public var history: [PairHistoryEntry]

    public init(
        pair: PairSummary, lastJob: String?, activity: [ActivityItem], traces: [ArtifactTraceRecord], audit: [PairAuditRecord],
        history: [PairHistoryEntry]
    ) {
        self.pair = pair
        self.lastJob = lastJob
        self.activity = activity
        self.traces = traces
        self.audit = audit
        self.history = history
    }
}

/// Artifact pairs for operators: search, details with history, and (audited) deletion.
public struct PairQuery: Sendable {
    public static let statuses = PairStatus.allCases.map(\.rawValue)
    /// The audit log's entity name for pairs (`entity_name` is the pair's id).
    public static let auditEntity = "artifact-pair"

    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let columns = """
        p.id, i.name, p.status, p.status_reason, p.created_from, p.left_id, p.left_key, p.left_url, p.left_project,
        p.right_id, p.right_key, p.right_url, p.right_project, p.created_at, p.last_synced_at, p.ignore_changes, p.last_error, p.last_job
        """

    static func summary(_ row: PostgresRow) throws -> PairSummary {
        PairSummary(
            id: try row.decode(Int64.self, at: 0), integration: try row.decode(String.self, at: 1), status: try row.decode(PairStatus.self, at: 2),
            statusReason: try row.decode(String?.self, at: 3), createdFrom: try row.decode(String.self, at: 4),
            left: PairSide(
                id: try row.decode(String.self, at: 5), key: try row.decode(String?.self, at: 6), url: try row.decode(String?.self, at: 7),
                project: try row.decode(String?.self, at: 8)),
            right: PairSide(
                id: try row.decode(String.self, at: 9), key: try row.decode(String?.self, at: 10), url: try row.decode(String?.self, at: 11),
                project: try row.decode(String?.self, at: 12)),
            createdAt: try row.decode(Date.self, at: 13), lastSyncedAt: try row.decode(Date.self, at: 14),
            ignoreChanges: try row.decode(Bool.self, at: 15), lastError: try row.decode(String?.self, at: 16))
    }

    /// The text searched by `PairFilter.text` (an expression index of migration 0008 serves it).
    static let searchText = "lower(p.left_id || ' ' || p.right_id || ' ' || coalesce(p.left_key, '') || ' ' || coalesce(p.right_key, ''))"

    /// Pairs matching `filter`, newest first.
    public func list(_ filter: PairFilter) async throws -> PairPage {
        try filter.validate()
        var q = QueryBuilder("SELECT \(Self.columns) FROM artifact_pairs p JOIN integrations i ON i.id = p.integration_id")
        var clauses: [String] = []
        if let integration = filter.integration { clauses.append("i.name = \(q.bind(integration))") }
        if let artifact = filter.artifact {
            let value = q.bind(artifact)
            clauses.append("(p.left_id = \(value) OR p.right_id = \(value))")
        }
        if let key = filter.key {
            let value = q.bind(key.lowercased())
            clauses.append("(lower(p.left_key) = \(value) OR lower(p.right_key) = \(value))")
        }
        if let text = filter.text { clauses.append("\(Self.searchText) LIKE \(q.bind(ActivityStore.containsPattern(text.lowercased())))") }
        if let status = filter.status { clauses.append("p.status = \(q.bind(status))") }
        if let after = filter.after { clauses.append("p.id < \(q.bind(after))") }
        if !clauses.isEmpty { q.append(" WHERE " + clauses.joined(separator: " AND ")) }
        q.append(" ORDER BY p.id DESC LIMIT \(filter.limit + 1)")
        var items = try await self.client.search(q.query).map(Self.summary)
        var next: Int64?
        if items.count > filter.limit {
            items.removeLast()
            next = items.last?.id
        }
        return PairPage(items: items, next: next)
    }

    /// The pair of `artifact` on `side` of the integration with id `integrationID` (`tandem trace`).
    public func pair(integrationID: Int64, side: Side, artifact: String) async throws -> PairSummary? {
        try await self.client.query(
            """
            SELECT \(unescaped: Self.columns) FROM artifact_pairs p JOIN integrations i ON i.id = p.integration_id
            WHERE p.integration_id = \(integrationID) AND \(unescaped: side == .left ? "p.left_id" : "p.right_id") = \(artifact)
            """
        ).first.map(Self.summary)
    }

    /// What the last detection saw of `artifact` on `side`, and how its last sync ended (`tandem trace`).
    public func trace(integrationID: Int64, side: Side, artifact: String) async throws -> ArtifactTraceRecord? {
        try await self.client.query(
            """
            SELECT \(unescaped: Self.traceColumns) FROM artifact_trace
            WHERE integration_id = \(integrationID) AND side = \(side.rawValue) AND artifact_id = \(artifact)
            """
        ).first.map(Self.trace)
    }

    /// The newest open items of the integration about `artifact`, and its open blockers (`tandem trace`).
    public func openProblems(integrationID: Int64, artifact: String, limit: Int = 5) async throws -> [ActivityItem] {
        try await self.client.query(
            """
            SELECT \(unescaped: ActivityStore.columns) \(unescaped: ActivityStore.joins)
            WHERE a.integration_id = \(integrationID) AND (a.artifact_id = \(artifact) OR a.kind = \(literal: ActivityKind.blocker))
              AND a.status = \(literal: ActivityStatus.open)
            ORDER BY a.last_seen_at DESC LIMIT \(limit)
            """
        ).map(ActivityStore.item)
    }

    static let traceColumns = "side, artifact_id, detected_at, detected_version, last_sync_at, last_outcome, last_reasons, last_error"

    static func trace(_ row: PostgresRow) throws -> ArtifactTraceRecord {
        ArtifactTraceRecord(
            side: try row.decode(String.self, at: 0), artifactID: try row.decode(String.self, at: 1),
            detectedAt: try row.decode(Date?.self, at: 2), detectedVersion: try row.decode(String?.self, at: 3),
            lastSyncAt: try row.decode(Date?.self, at: 4), lastOutcome: try row.decode(TraceOutcome?.self, at: 5),
            lastReasons: try row.decode(String?.self, at: 6), lastError: try row.decode(String?.self, at: 7))
    }

    public func pair(id: Int64) async throws -> PairSummary? {
        try await self.client.query(
            "SELECT \(unescaped: Self.columns) FROM artifact_pairs p JOIN integrations i ON i.id = p.integration_id WHERE p.id = \(id)"
        ).first.map(Self.summary)
    }

    /// The pair with its activity (its own and its artifacts'), traces and audit rows; nil when there is no such pair.
    public func details(id: Int64, historyLimit: Int = 200) async throws -> PairDetails? {
        let rows = try await self.client.query(
            """
            SELECT \(unescaped: Self.columns), p.integration_id FROM artifact_pairs p JOIN integrations i ON i.id = p.integration_id
            WHERE p.id = \(id)
            """)
        guard let row = rows.first else { return nil }
        let pair = try Self.summary(row)
        let lastJob = try row.decode(String?.self, at: 17)
        let integrationID = try row.decode(Int64.self, at: 18)
        let limit = min(max(historyLimit, 1), 1000)
        let activity = try await self.client.query(
            """
            SELECT \(unescaped: ActivityStore.columns) \(unescaped: ActivityStore.joins)
            WHERE a.pair_id = \(id)
               OR (a.integration_id = \(integrationID) AND a.pair_id IS NULL
                   AND ((a.artifact_id = \(pair.left.id) AND a.side IS DISTINCT FROM 'right')
                     OR (a.artifact_id = \(pair.right.id) AND a.side IS DISTINCT FROM 'left')))
            ORDER BY a.id DESC LIMIT \(limit)
            """
        ).map(ActivityStore.item)
        let traces = try await self.client.query(
            """
            SELECT \(unescaped: Self.traceColumns) FROM artifact_trace
            WHERE integration_id = \(integrationID)
              AND ((side = 'left' AND artifact_id = \(pair.left.id)) OR (side = 'right' AND artifact_id = \(pair.right.id)))
            ORDER BY side
            """
        ).map(Self.trace)
        let audit = try await self.client.query(
            """
            SELECT id, actor, action, at, changes::text FROM audit_log
            WHERE entity = \(Self.auditEntity) AND entity_name = \(String(id)) ORDER BY at DESC, id DESC LIMIT \(limit)
            """
        ).map { row in
            PairAuditRecord(
                id: try row.decode(Int64.self, at: 0), actor: try row.decode(String.self, at: 1), action: try row.decode(String.self, at: 2),
                at: try row.decode(Date.self, at: 3), changes: try row.decode(String.self, at: 4))
        }
        var history: [PairHistoryEntry] = []
        for trace in traces {
            if let at = trace.detectedAt {
                history.append(
                    PairHistoryEntry(
                        at: at, source: "trace", side: trace.side,
                        summary: "change detected on \(trace.side) \(trace.artifactID)\(trace.detectedVersion.map { " (version \($0))" } ?? "")"))
            }
            if let at = trace.lastSyncAt {
                var summary = "synchronised from \(trace.side) \(trace.artifactID): \(trace.lastOutcome?.rawValue ?? "unknown")"
                if let reasons = trace.lastReasons, !reasons.isEmpty { summary += " (\(reasons))" }
                if let error = trace.lastError { summary += "; error: \(error)" }
                history.append(PairHistoryEntry(at: at, source: "trace", side: trace.side, summary: summary))
            }
        }
        for item in activity {
            history.append(
                PairHistoryEntry(
                    at: item.lastSeenAt, source: "activity", side: item.side,
                    summary: "\(item.kind.rawValue) \(item.code ?? "")".trimmingCharacters(in: .whitespaces)
                        + " (\(item.status.rawValue)): \(item.message)",
                    actor: item.actedBy, activityID: item.id))
        }
        for entry in audit {
            history.append(PairHistoryEntry(at: entry.at, source: "audit", summary: entry.action, actor: entry.actor))
        }
        history.sort { $0.at > $1.at }
        return PairDetails(pair: pair, lastJob: lastJob, activity: activity, traces: traces, audit: audit, history: history)
    }

    /// Deletes a pair (its ledger and synced items go with it) and records who did it. The artifacts stay; a later change of
    /// either may create a new twin. Throws `AdminError.notFound` when there is no such pair.
    @discardableResult
    public func delete(id: Int64, actor: String) async throws -> PairSummary {
        try await self.client.withTransaction { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM artifact_pairs p JOIN integrations i ON i.id = p.integration_id WHERE p.id = \(id) FOR UPDATE OF p"
            )
            guard let row = rows.first else { throw AdminError(.notFound, "no artifact pair with id \(id)") }
            let pair = try Self.summary(row)
            try await connection.query("DELETE FROM artifact_pairs WHERE id = \(id)")
            try await AuditLog.record(
                connection, actor: actor, action: "delete", entity: Self.auditEntity, name: String(id),
                changes: .object([
                    "integration": .string(pair.integration), "left": .string(pair.left.key ?? pair.left.id),
                    "right": .string(pair.right.key ?? pair.right.id),
                ]))
            return pair
        }
    }
}
