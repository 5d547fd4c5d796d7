public import Foundation
public import Postgres
import TandemConfig
import TandemCore

/// One row of the activity list: a failed item, a blocker, a background job's note or an information.
public struct ActivityItem: Sendable, Hashable, Codable {
    public var id: Int64
    public var kind: ActivityKind
    public var status: ActivityStatus
    public var code: String?
    public var integration: String?
    public var repository: String?
    /// The side of the integration the artifact is on (`left`/`right`), when known.
    public var side: String?
    public var artifactID: String?
    /// The artifact's pair, when it has one, and the artifact's key and link as the pair records them.
    public var pairID: Int64?
    public var artifactKey: String?
    public var artifactURL: String?
    public var message: String
    public var occurrences: Int
    /// How often an operator retried it.
    public var retries: Int
    public var firstSeenAt: Date
    public var lastSeenAt: Date
    public var resolvedAt: Date?
    /// Who last retried, cleared or ignored it, and when.
    public var actedBy: String?
    public var actedAt: Date?

    public init(
        id: Int64, kind: ActivityKind, status: ActivityStatus, code: String? = nil, integration: String? = nil, repository: String? = nil,
        side: String? = nil, artifactID: String? = nil, pairID: Int64? = nil, artifactKey: String? = nil, artifactURL: String? = nil,
        message: String, occurrences: Int = 1, retries: Int = 0, firstSeenAt: Date, lastSeenAt: Date, resolvedAt: Date? = nil,
        actedBy: String? = nil, actedAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.code = code
        self.integration = integration
        self.repository = repository
        self.side = side
        self.artifactID = artifactID
        self.pairID = pairID
        self.artifactKey = artifactKey
        self.artifactURL = artifactURL
        self.message = message
        self.occurrences = occurrences
        self.retries = retries
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
        self.resolvedAt = resolvedAt
        self.actedBy = actedBy
        self.actedAt = actedAt
    }
}

/// Which activity to list (or to act on): every member narrows; nil members do not.
public struct ActivityFilter: Sendable, Hashable, Codable {
    public var kind: String?
    public var status: String?
    /// An integration's name.
    public var integration: String?
    /// Case-insensitive text found in the message, or equal to the artifact id or the code.
    public var text: String?
    /// Keyset paging: only rows with an id below this (the previous page's `next`).
    public var after: Int64?
    /// Page size, 1...500.
    public var limit: Int

    public init(
        kind: String? = nil, status: String? = nil, integration: String? = nil, text: String? = nil, after: Int64? = nil, limit: Int = 50
    ) {
        self.kind = kind
        self.status = status
        self.integration = integration
        self.text = text
        self.after = after
        self.limit = limit
    }

    /// Throws `AdminError.invalid` naming the member that is not acceptable.
    public func validate() throws {
        if let kind, !ActivityStore.kinds.contains(kind) {
            throw AdminError(.invalid, field: "kind", "'\(kind)' is not an activity kind (kinds: \(ActivityStore.kinds.joined(separator: ", ")))")
        }
        if let status, !ActivityStore.statuses.contains(status) {
            throw AdminError(
                .invalid, field: "status", "'\(status)' is not an activity status (statuses: \(ActivityStore.statuses.joined(separator: ", ")))")
        }
        if let after, after < 1 { throw AdminError(.invalid, field: "after", "must be a positive id") }
        if !(1...500).contains(self.limit) { throw AdminError(.invalid, field: "limit", "must be between 1 and 500") }
        if let text, text.isEmpty || text.unicodeScalars.count > 200 { throw AdminError(.invalid, field: "q", "must be 1 to 200 characters long") }
    }
}

/// A page of activity, newest first; `next` is the `after` of the following page (nil: this is the last).
public struct ActivityPage: Sendable, Hashable, Codable {
    public var items: [ActivityItem]
    public var next: Int64?

    public init(items: [ActivityItem], next: Int64?) {
        self.items = items
        self.next = next
    }
}

/// The operator's actions on activity (the guide's "Retry", "Clear Errors", "Clear Errors and Ignore Changes").
public enum ActivityAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Synchronise the item again (status `retrying`, then `done` or `open` by the sync's outcome); stops ignoring it.
    /// A repository's blocker is retried: the pause is lifted and the connection tried again at once; the repository's
    /// next answer resolves it, a new failure opens it again. Other blockers are closed (they come back if their cause
    /// persists).
    case retry
    /// Take it off the error list without synchronising it (status `cleared`); the next change syncs as usual.
    case clear
    /// Clear it and ignore the pair's new changes until it is retried (status `ignored`).
    case clearAndIgnore = "clear-and-ignore"
}

/// What a retry asks the cluster to do: synchronise `artifactID` on `side` again (a sync job on `repository`'s queue), or,
/// for a blocker without an artifact, lift the pause of `repository`.
public struct RetryTarget: Sendable, Hashable, Codable {
    public var activityID: Int64
    public var integration: String
    public var repository: String?
    public var side: String?
    public var artifactID: String?
    public var pairID: Int64?

    public init(activityID: Int64, integration: String, repository: String?, side: String?, artifactID: String?, pairID: Int64?) {
        self.activityID = activityID
        self.integration = integration
        self.repository = repository
        self.side = side
        self.artifactID = artifactID
        self.pairID = pairID
    }
}

/// The outcome of an action on several items: those changed, those left alone and why, and the syncs to queue.
public struct ActivityActionResult: Sendable, Hashable, Codable {
    public struct Skipped: Sendable, Hashable, Codable {
        public var id: Int64
        public var reason: String
        public init(id: Int64, reason: String) {
            self.id = id
            self.reason = reason
        }
    }
    public var action: ActivityAction
    public var changed: [Int64]
    public var skipped: [Skipped]
    /// Retry only: what to queue (the caller queues it; see `OperatorActions` in TandemCluster).
    public var retries: [RetryTarget]

    public init(action: ActivityAction, changed: [Int64] = [], skipped: [Skipped] = [], retries: [RetryTarget] = []) {
        self.action = action
        self.changed = changed
        self.skipped = skipped
        self.retries = retries
    }
}

/// Activity in PostgreSQL: the list with its filters and counts, and the operator's actions on it.
public struct ActivityStore: Sendable {
    public static let kinds = ActivityKind.allCases.map(\.rawValue)
    public static let statuses = ActivityStatus.allCases.map(\.rawValue)
    /// At most this many items are changed by one action on "everything matching a filter".
    public static let maximumBulk = 10_000

    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let columns = """
        a.id, a.kind, a.status, a.code, i.name, COALESCE(r.name, rs.name), a.side, a.artifact_id, p.id,
        CASE WHEN a.side = 'right' THEN p.right_key ELSE p.left_key END,
        CASE WHEN a.side = 'right' THEN p.right_url ELSE p.left_url END,
        a.message, a.occurrences, a.retries, a.first_seen_at, a.last_seen_at, a.resolved_at, a.acted_by, a.acted_at
        """
    static let joins = """
        FROM activity a
        LEFT JOIN integrations i ON i.id = a.integration_id
        LEFT JOIN repositories r ON r.id = a.repository_id
        LEFT JOIN collections cs ON a.repository_id IS NULL AND a.side IS NOT NULL
            AND cs.id = CASE WHEN a.side = 'right' THEN i.right_collection_id ELSE i.left_collection_id END
        LEFT JOIN repositories rs ON rs.id = cs.repository_id
        LEFT JOIN artifact_pairs p ON p.id = a.pair_id
        """

    static func item(_ row: PostgresRow) throws -> ActivityItem {
        ActivityItem(
            id: try row.decode(Int64.self, at: 0), kind: try row.decode(ActivityKind.self, at: 1),
            status: try row.decode(ActivityStatus.self, at: 2), code: try row.decode(String?.self, at: 3),
            integration: try row.decode(String?.self, at: 4),
            repository: try row.decode(String?.self, at: 5), side: try row.decode(String?.self, at: 6),
            artifactID: try row.decode(String?.self, at: 7), pairID: try row.decode(Int64?.self, at: 8),
            artifactKey: try row.decode(String?.self, at: 9), artifactURL: try row.decode(String?.self, at: 10),
            message: try row.decode(String.self, at: 11), occurrences: try row.decode(Int.self, at: 12), retries: try row.decode(Int.self, at: 13),
            firstSeenAt: try row.decode(Date.self, at: 14), lastSeenAt: try row.decode(Date.self, at: 15),
            resolvedAt: try row.decode(Date?.self, at: 16), actedBy: try row.decode(String?.self, at: 17), actedAt: try row.decode(Date?.self, at: 18)
        )
    }

    /// `value` as a LIKE pattern that matches it literally anywhere.
    static func containsPattern(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%\(escaped)%"
    }

    /// Appends the WHERE clause of a filter (without paging); `status` is left out for the counts.
    static func condition(_ filter: ActivityFilter, status: Bool = true, to q: inout QueryBuilder) {
        var clauses: [String] = []
        if let kind = filter.kind { clauses.append("a.kind = \(q.bind(kind))") }
        if status, let value = filter.status { clauses.append("a.status = \(q.bind(value))") }
        if let integration = filter.integration {
            clauses.append("a.integration_id = (SELECT id FROM integrations WHERE name = \(q.bind(integration)))")
        }
        if let text = filter.text {
            let pattern = q.bind(Self.containsPattern(text))
            let exact = q.bind(text)
            clauses.append("(a.message ILIKE \(pattern) OR a.artifact_id = \(exact) OR a.code = \(exact))")
        }
        q.append(clauses.isEmpty ? " WHERE true" : " WHERE " + clauses.joined(separator: " AND "))
    }

    /// Activity matching `filter`, newest first.
    public func list(_ filter: ActivityFilter) async throws -> ActivityPage {
        try filter.validate()
        var q = QueryBuilder("SELECT \(Self.columns) \(Self.joins)")
        Self.condition(filter, to: &q)
        if let after = filter.after { q.append(" AND a.id < \(q.bind(after))") }
        q.append(" ORDER BY a.id DESC LIMIT \(filter.limit + 1)")
        var items = try await self.client.search(q.query).map(Self.item)
        var next: Int64?
        if items.count > filter.limit {
            items.removeLast()
            next = items.last?.id
        }
        return ActivityPage(items: items, next: next)
    }

    public func item(id: Int64) async throws -> ActivityItem? {
        try await self.client.query("SELECT \(unescaped: Self.columns) \(unescaped: Self.joins) WHERE a.id = \(id)").first.map(Self.item)
    }

    /// How many items match `filter` in each status (its `status`, `after` and `limit` are not used); every status is listed.
    public func counts(_ filter: ActivityFilter) async throws -> [String: Int] {
        var check = filter
        check.status = nil
        check.after = nil
        check.limit = 50
        try check.validate()
        var q = QueryBuilder("SELECT a.status, count(*) FROM activity a")
        Self.condition(filter, status: false, to: &q)
        q.append(" GROUP BY a.status")
        var counts = Dictionary(uniqueKeysWithValues: Self.statuses.map { ($0, 0) })
        for row in try await self.client.search(q.query) { counts[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1) }
        return counts
    }

    // MARK: Actions

    /// Carries `action` out on the items `ids` (unknown ids are skipped, with the reason).
    public func perform(_ action: ActivityAction, ids: [Int64], actor: String) async throws -> ActivityActionResult {
        guard ids.count <= Self.maximumBulk else {
            throw AdminError(.invalid, field: "ids", "at most \(Self.maximumBulk) ids per request")
        }
        let unique = Array(Set(ids)).sorted()
        var q = QueryBuilder(Self.actionColumns)
        q.append(" WHERE a.id = ANY(\(q.bind(unique))) ORDER BY a.id FOR UPDATE OF a")
        let query = q.query
        return try await self.client.withTransaction { connection in
            try await self.perform(action, query, known: unique, actor: actor, on: connection)
        }
    }

    /// Carries `action` out on every item matching `filter` (at most `maximumBulk`, oldest first; `after` and `limit`
    /// are not used).
    public func perform(_ action: ActivityAction, matching filter: ActivityFilter, actor: String) async throws -> ActivityActionResult {
        var check = filter
        check.after = nil
        check.limit = 50
        try check.validate()
        var q = QueryBuilder(Self.actionColumns)
        Self.condition(filter, to: &q)
        q.append(" ORDER BY a.id LIMIT \(Self.maximumBulk) FOR UPDATE OF a")
        let query = q.query
        return try await self.client.withTransaction { connection in
            try await self.perform(action, query, known: nil, actor: actor, on: connection)
        }
    }

    static let actionColumns = """
        SELECT a.id, a.kind, a.status, a.integration_id, i.name, r.name, a.side, a.artifact_id, a.pair_id
        FROM activity a LEFT JOIN integrations i ON i.id = a.integration_id LEFT JOIN repositories r ON r.id = a.repository_id
        """

    struct Row {
        var id: Int64
        var kind: ActivityKind
        var status: ActivityStatus
        var integrationID: Int64?
        var integration: String?
        var repository: String?
        var side: String?
        var artifact: String?
        var pairID: Int64?
    }

    func perform(
        _ action: ActivityAction, _ query: PostgresQuery, known: [Int64]?, actor: String, on connection: PostgresConnection
    ) async throws -> ActivityActionResult {
        try await connection.query("SET LOCAL plan_cache_mode = force_custom_plan")
        var rows: [Row] = try await connection.query(query).map { row in
            Row(
                id: try row.decode(Int64.self, at: 0), kind: try row.decode(ActivityKind.self, at: 1),
                status: try row.decode(ActivityStatus.self, at: 2),
                integrationID: try row.decode(Int64?.self, at: 3), integration: try row.decode(String?.self, at: 4),
                repository: try row.decode(String?.self, at: 5), side: try row.decode(String?.self, at: 6),
                artifact: try row.decode(String?.self, at: 7), pairID: try row.decode(Int64?.self, at: 8))
        }
        var result = ActivityActionResult(action: action)
        if let known {
            let found = Set(rows.map(\.id))
            result.skipped += known.filter { !found.contains($0) }.map { .init(id: $0, reason: "no such activity") }
        }
        // Older rows (before the engine recorded the side) are matched to their pair by artifact id.
        for index in rows.indices where rows[index].artifact != nil && (rows[index].side == nil || rows[index].pairID == nil) {
            try await Self.locate(&rows[index], on: connection)
        }
        let repositories = try await Self.repositories(of: Set(rows.compactMap(\.integrationID)), on: connection)
        for row in rows {
            switch action {
            case .retry:
                guard row.status != .done else {
                    result.skipped.append(.init(id: row.id, reason: "it is done"))
                    continue
                }
                guard row.kind == .error || row.kind == .blocker else {
                    result.skipped.append(.init(id: row.id, reason: "only errors and blockers can be retried"))
                    continue
                }
                if let artifact = row.artifact, let integration = row.integration, let integrationID = row.integrationID {
                    guard let side = row.side else {
                        result.skipped.append(.init(id: row.id, reason: "cannot tell which side artifact \(artifact) is on"))
                        continue
                    }
                    try await Self.stopIgnoring(integrationID: integrationID, side: side, artifact: artifact, pairID: row.pairID, on: connection)
                    try await connection.query(
                        """
                        UPDATE activity SET status = 'retrying', retries = retries + 1, resolved_at = NULL, acted_by = \(actor), acted_at = now(),
                            side = \(side), pair_id = COALESCE(pair_id, \(row.pairID))
                        WHERE id = \(row.id)
                        """)
                    result.retries.append(
                        RetryTarget(
                            activityID: row.id, integration: integration, repository: repositories[integrationID]?[side], side: side,
                            artifactID: artifact, pairID: row.pairID))
                } else {
                    // A repository's blocker: its pause ends and its connection is tried again now (the coordinator
                    // queues its change detection); the repository's next answer resolves it, a new failure reopens it.
                    // Another blocker (or an error without an artifact) is closed; reported again if its cause persists.
                    let retest = row.kind == .blocker && row.repository != nil
                    try await connection.query(
                        """
                        UPDATE activity SET status = CASE WHEN \(retest) THEN 'retrying' ELSE 'done' END, retries = retries + 1,
                            resolved_at = CASE WHEN \(retest) THEN NULL ELSE now() END, retest_at = CASE WHEN \(retest) THEN now() END,
                            acted_by = \(actor), acted_at = now()
                        WHERE id = \(row.id)
                        """)
                    if let integration = row.integration {
                        result.retries.append(
                            RetryTarget(
                                activityID: row.id, integration: integration, repository: row.repository, side: nil, artifactID: nil, pairID: nil))
                    }
                }
                result.changed.append(row.id)
            case .clear:
                guard row.status == .open || row.status == .retrying else {
                    result.skipped.append(.init(id: row.id, reason: "it is \(row.status.rawValue), not in error"))
                    continue
                }
                try await connection.query(
                    "UPDATE activity SET status = 'cleared', resolved_at = now(), acted_by = \(actor), acted_at = now() WHERE id = \(row.id)")
                result.changed.append(row.id)
            case .clearAndIgnore:
                guard row.status == .open || row.status == .retrying || row.status == .cleared else {
                    result.skipped.append(.init(id: row.id, reason: "it is \(row.status.rawValue), not in error"))
                    continue
                }
                guard row.kind == .error, let artifact = row.artifact, let integrationID = row.integrationID else {
                    result.skipped.append(.init(id: row.id, reason: "only an artifact's error can be ignored"))
                    continue
                }
                if let pairID = row.pairID {
                    try await connection.query("UPDATE artifact_pairs SET ignore_changes = true WHERE id = \(pairID)")
                    try await AuditLog.record(connection, actor: actor, action: "ignore-changes", entity: "artifact-pair", name: String(pairID))
                } else if let side = row.side {
                    try await connection.query(
                        """
                        INSERT INTO ignored_artifacts (integration_id, side, artifact_id, ignored_by) VALUES (\(integrationID), \(side), \(artifact), \(actor))
                        ON CONFLICT DO NOTHING
                        """)
                } else {
                    result.skipped.append(.init(id: row.id, reason: "cannot tell which side artifact \(artifact) is on"))
                    continue
                }
                try await connection.query(
                    """
                    UPDATE activity SET status = 'ignored', resolved_at = now(), acted_by = \(actor), acted_at = now(),
                        side = COALESCE(side, \(row.side)), pair_id = COALESCE(pair_id, \(row.pairID))
                    WHERE id = \(row.id)
                    """)
                result.changed.append(row.id)
            }
        }
        if !result.changed.isEmpty {
            let shown = result.changed.prefix(100).map { String($0) }.joined(separator: ",")
            try await AuditLog.record(
                connection, actor: actor, action: action.rawValue, entity: "activity",
                name: result.changed.count == 1 ? String(result.changed[0]) : "\(result.changed.count) items",
                changes: .object(["ids": .string(shown + (result.changed.count > 100 ? ",…" : ""))]))
        }
        result.skipped.sort { $0.id < $1.id }
        return result
    }

    /// Finds the side and pair of an activity row written before the engine recorded them: the pair holding the artifact
    /// on exactly one side, else the side where the artifact was last traced.
    static func locate(_ row: inout Row, on connection: PostgresConnection) async throws {
        guard let integration = row.integrationID, let artifact = row.artifact else { return }
        let pairs = try await connection.query(
            """
            SELECT id, left_id = \(artifact), right_id = \(artifact) FROM artifact_pairs
            WHERE integration_id = \(integration) AND (left_id = \(artifact) OR right_id = \(artifact))
            """)
        var candidates: [(id: Int64, side: String)] = []
        for pair in pairs {
            if try pair.decode(Bool.self, at: 1) { candidates.append((try pair.decode(Int64.self, at: 0), "left")) }
            if try pair.decode(Bool.self, at: 2) { candidates.append((try pair.decode(Int64.self, at: 0), "right")) }
        }
        if let side = row.side { candidates = candidates.filter { $0.side == side } }
        if candidates.count == 1 {
            row.side = candidates[0].side
            row.pairID = candidates[0].id
            return
        }
        guard row.side == nil else { return }
        let traced = try await connection.query(
            """
            SELECT side FROM artifact_trace WHERE integration_id = \(integration) AND artifact_id = \(artifact)
            ORDER BY last_sync_at DESC NULLS LAST
            """)
        if traced.count == 1 { row.side = try traced[0].decode(String.self, at: 0) }
    }

    /// The repository of each side of each integration.
    static func repositories(of integrations: Set<Int64>, on connection: PostgresConnection) async throws -> [Int64: [String: String]] {
        guard !integrations.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT i.id, rl.name, rr.name FROM integrations i
            JOIN collections cl ON cl.id = i.left_collection_id JOIN repositories rl ON rl.id = cl.repository_id
            JOIN collections cr ON cr.id = i.right_collection_id JOIN repositories rr ON rr.id = cr.repository_id
            WHERE i.id = ANY(\(Array(integrations)))
            """)
        var result: [Int64: [String: String]] = [:]
        for row in rows {
            result[try row.decode(Int64.self, at: 0)] = ["left": try row.decode(String.self, at: 1), "right": try row.decode(String.self, at: 2)]
        }
        return result
    }

    static func stopIgnoring(integrationID: Int64, side: String, artifact: String, pairID: Int64?, on connection: PostgresConnection) async throws {
        if let pairID {
            try await connection.query("UPDATE artifact_pairs SET ignore_changes = false WHERE id = \(pairID) AND ignore_changes")
        }
        try await connection.query(
            "DELETE FROM ignored_artifacts WHERE integration_id = \(integrationID) AND side = \(side) AND artifact_id = \(artifact)")
    }

    /// The repositories whose blockers ask for their connection to be tried again now (an operator's Retry, new
    /// credentials), taken: each is returned once.
    public func takeRetests() async throws -> [String] {
        let rows = try await self.client.query(
            """
            UPDATE activity a SET retest_at = NULL FROM repositories r
            WHERE a.retest_at IS NOT NULL AND r.id = a.repository_id
            RETURNING r.name
            """)
        return Array(Set(try rows.map { try $0.decode(String.self, at: 0) })).sorted()
    }

    /// Items that have been `retrying` for longer than `age` — their sync job was lost (Redis lost its data) or
    /// never ran (the integration was stopped) — with what it takes to queue them again. Each is re-stamped
    /// (`acted_at`), so a sweep sees it again only after another `age`; concurrent sweepers skip each other's rows.
    public func staleRetries(olderThan age: Duration, limit: Int = 500) async throws -> [RetryTarget] {
        let seconds = Double(age.components.seconds)
        return try await self.client.withTransaction { connection in
            let rows = try await connection.query(
                """
                UPDATE activity a SET acted_at = now()
                FROM integrations i
                WHERE a.id IN (
                    SELECT id FROM activity WHERE status = 'retrying' AND acted_at < now() - make_interval(secs => \(seconds))
                    ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                  AND i.id = a.integration_id
                RETURNING a.id, i.id, i.name, a.side, a.artifact_id, a.pair_id
                """)
            var found: [(Int64, Int64, String, String?, String?, Int64?)] = []
            for row in rows {
                found.append(
                    (
                        try row.decode(Int64.self, at: 0), try row.decode(Int64.self, at: 1), try row.decode(String.self, at: 2),
                        try row.decode(String?.self, at: 3), try row.decode(String?.self, at: 4), try row.decode(Int64?.self, at: 5)
                    ))
            }
            let repositories = try await Self.repositories(of: Set(found.map(\.1)), on: connection)
            return found.sorted { $0.0 < $1.0 }.map { id, integrationID, integration, side, artifact, pairID in
                RetryTarget(
                    activityID: id, integration: integration, repository: side.flatMap { repositories[integrationID]?[$0] }, side: side,
                    artifactID: artifact, pairID: pairID)
            }
        }
    }

    /// Puts `retrying` items back to `open` with `reason` when their sync could not be queued (so they are not left
    /// waiting for a job that does not exist).
    public func requeueFailed(_ ids: [Int64], reason: String) async throws {
        guard !ids.isEmpty else { return }
        try await self.client.query(
            "UPDATE activity SET status = 'open', message = message || ' (retry not queued: ' || \(reason) || ')' WHERE id = ANY(\(ids)) AND status = 'retrying'"
        )
    }
}
