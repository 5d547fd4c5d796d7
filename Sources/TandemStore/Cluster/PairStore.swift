public import Foundation
public import Postgres
public import TandemCore

/// A stored artifact pair: the durable link between twins and the core's view of it.
public struct StoredPair: Sendable {
    public var id: Int64
    public var pair: ArtifactPair
    public var ledger: WriteLedger
    public var status: PairStatus
    /// An operator chose "Clear Errors and Ignore Changes": syncs of this pair are skipped until a retry.
    public var ignoreChanges: Bool = false
}

/// The sync engine's SQL: pairs, pending creates, cursors, activity and traces.
public struct PairStore: Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    static func column(_ side: Side) -> String { side == .left ? "left_id" : "right_id" }

    /// Runs `query` on `connection` when given (a caller holding a pair lock must not wait for a second pooled
    /// connection: every other one may be waiting for its lock), else on any pooled connection.
    @discardableResult
    func run(_ query: PostgresQuery, on connection: PostgresConnection?) async throws -> PostgresRows {
        if let connection { return try await connection.query(query) }
        return try await self.client.query(query)
    }

    public func pair(integration: Int64, side: Side, artifact: String, on connection: PostgresConnection? = nil) async throws -> StoredPair? {
        let query: PostgresQuery = """
            SELECT id, core_state::text, ledger::text, status, ignore_changes FROM artifact_pairs
            WHERE integration_id = \(integration) AND \(unescaped: Self.column(side)) = \(artifact)
            """
        let rows = try await self.run(query, on: connection)
        guard let row = rows.first else { return nil }
        let decoder = JSONDecoder()
        let state = try row.decode(String.self, at: 1)
        let ledger = try row.decode(String.self, at: 2)
        return StoredPair(
            id: try row.decode(Int64.self, at: 0),
            pair: try decoder.decode(ArtifactPair.self, from: Data(state.utf8)),
            ledger: ledger == "{}" ? WriteLedger() : try decoder.decode(WriteLedger.self, from: Data(ledger.utf8)),
            status: try row.decode(PairStatus.self, at: 3), ignoreChanges: try row.decode(Bool.self, at: 4))
    }

    /// Whether an operator ignores the changes of `artifact`, which has no pair yet (its create failed and was ignored).
    public func isIgnored(integration: Int64, side: Side, artifact: String, on connection: PostgresConnection? = nil) async throws -> Bool {
        let rows = try await self.run(
            """
            SELECT 1 FROM ignored_artifacts WHERE integration_id = \(integration) AND side = \(side.rawValue) AND artifact_id = \(artifact)
            """, on: connection)
        return !rows.isEmpty
    }

    /// Inserts a new pair (after a create), returning its id.
    public func insert(
        integration: Int64, pair: ArtifactPair, ledger: WriteLedger, createdFrom: Side, keys: (left: String?, right: String?),
        urls: (left: String?, right: String?), projects: (left: String?, right: String?), on connection: PostgresConnection
    ) async throws -> Int64 {
        let rows = try await connection.query(
            """
            INSERT INTO artifact_pairs (integration_id, left_id, right_id, left_key, right_key, left_url, right_url, left_project,
                right_project, created_from, core_state, ledger)
            VALUES (\(integration), \(pair.leftID), \(pair.rightID), \(keys.left), \(keys.right), \(urls.left), \(urls.right),
                \(projects.left), \(projects.right), \(createdFrom.rawValue), \(try PostgresJSON(pair, encoder: Self.encoder)),
                \(try PostgresJSON(ledger, encoder: Self.encoder)))
            RETURNING id
            """)
        return try rows[0].decode(Int64.self, at: 0)
    }

    public func update(
        id: Int64, pair: ArtifactPair, ledger: WriteLedger, status: PairStatus, reason: String?, on connection: PostgresConnection
    )
        async throws
    {
        try await connection.query(
            """
            UPDATE artifact_pairs SET core_state = \(try PostgresJSON(pair, encoder: Self.encoder)),
                ledger = \(try PostgresJSON(ledger, encoder: Self.encoder)), status = \(status), status_reason = \(reason),
                last_synced_at = now()
            WHERE id = \(id)
            """)
    }

    /// Stores only the write ledger (the pair's state is unchanged): see the write-ahead in `SyncEngine`.
    public func saveLedger(id: Int64, ledger: WriteLedger, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE artifact_pairs SET ledger = \(try PostgresJSON(ledger, encoder: Self.encoder)) WHERE id = \(id)")
    }

    // MARK: Pending creates

    /// The start of every marker this integration gives the twins it creates.
    public static func markerPrefix(integration: Int64) -> String { "tandem-\(integration)-" }

    /// Records the intent to create a twin of `source` before creating it; returns the marker, whether an earlier
    /// attempt had already recorded it (then the twin may exist: look for the marker before creating again), and when
    /// the first attempt began (the twin, if any, is younger).
    ///
    /// The claim is ours when the row is new, when the previous claim went stale (`claimSeconds`: its holder may have
    /// waited that long for its tracker), or when its holder is gone: `holder` names this process's presence lock
    /// (`ClusterPresence`), and a claim whose holder's lock nobody holds — its process was killed — is abandoned, once the
    /// server has run `presenceSettle` (after a restart, live processes take their locks again first).
    public func beginCreate(
        integration: Int64, side: Side, source: String, project: String, claimSeconds: Int = 120, holder: String? = nil,
        presenceSettle: Duration = .seconds(5), on connection: PostgresConnection
    )
        async throws -> (marker: String, earlierAttempt: Bool, claimed: Bool, claim: String, firstAttempt: Date)
    {
        let marker = "\(Self.markerPrefix(integration: integration))\(side.rawValue)-\(source)"
        let claim = UUID().uuidString
        // Integers only (no binds): the condition appears three times.
        let abandoned = """
            (pending_creates.claimed_at < clock_timestamp() - make_interval(secs => \(claimSeconds))
             OR (pending_creates.holder IS NOT NULL
                 AND pg_postmaster_start_time() < clock_timestamp() - make_interval(secs => \(presenceSettle.components.seconds))
                 AND NOT EXISTS (
                     SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
                       AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(pending_creates.holder, 0))))
            """
        let rows = try await connection.query(
            """
            INSERT INTO pending_creates (integration_id, source_side, source_id, marker, target_project, claimed_at, claim, holder)
            VALUES (\(integration), \(side.rawValue), \(source), \(marker), \(project), clock_timestamp(), \(claim), \(holder))
            ON CONFLICT (integration_id, source_side, source_id) DO UPDATE SET
                attempts = pending_creates.attempts + 1,
                claim = CASE WHEN \(unescaped: abandoned) THEN EXCLUDED.claim ELSE pending_creates.claim END,
                holder = CASE WHEN \(unescaped: abandoned) THEN EXCLUDED.holder ELSE pending_creates.holder END,
                claimed_at = CASE WHEN \(unescaped: abandoned) THEN clock_timestamp() ELSE pending_creates.claimed_at END
            RETURNING attempts, claim, created_at
            """)
        let attempts = try rows[0].decode(Int.self, at: 0)
        let holderClaim = try rows[0].decode(String?.self, at: 1)
        return (marker, attempts > 0, holderClaim == claim, claim, try rows[0].decode(Date.self, at: 2))
    }

    /// Gives up a claim after a failed attempt, so the next attempt need not wait for it to go stale. Safe: that attempt
    /// sees an earlier one and looks for the twin by its marker before creating.
    ///
    /// Runs on `connection`, the one the failed sync holds (with its lock): asking the pool for a second connection
    /// while holding one is how syncs as many as the pool's connections wait on each other forever. It runs in a task of
    /// its own (it must happen even when the job was cancelled) and tries for a few seconds while PostgreSQL is
    /// unreachable (`isUnavailable` says which errors mean that; the connection reconnects), so that a restart does not
    /// leave the claim to go stale.
    public func releaseClaim(
        integration: Int64, side: Side, source: String, claim: String, on connection: PostgresConnection, patience: Duration = .seconds(10),
        retryingWhile isUnavailable: @escaping @Sendable (any Error) -> Bool
    ) async {
        let query: PostgresQuery = """
            UPDATE pending_creates SET claimed_at = 'epoch'
            WHERE integration_id = \(integration) AND source_side = \(side.rawValue) AND source_id = \(source) AND claim = \(claim)
            """
        await Task {
            let deadline = ContinuousClock.now + patience
            var pause = Duration.milliseconds(100)
            while true {
                do {
                    try await connection.query(query)
                    return
                } catch {
                    guard isUnavailable(error), ContinuousClock.now + pause < deadline else { return }
                    try? await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(2))
                }
            }
        }.value
    }

    /// Records the twin's id as soon as it exists, before the pair.
    public func createdTwin(integration: Int64, side: Side, source: String, target: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE pending_creates SET target_id = \(target)
            WHERE integration_id = \(integration) AND source_side = \(side.rawValue) AND source_id = \(source)
            """)
    }

    /// Whether `artifact` on `side` is a twin being created right now (its pair is not recorded yet).
    public func isTwinBeingCreated(integration: Int64, side: Side, artifact: String, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            SELECT 1 FROM pending_creates
            WHERE integration_id = \(integration) AND source_side = \(side.opposite.rawValue) AND target_id = \(artifact)
            """)
        return !rows.isEmpty
    }

    public func endCreate(integration: Int64, side: Side, source: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            "DELETE FROM pending_creates WHERE integration_id = \(integration) AND source_side = \(side.rawValue) AND source_id = \(source)")
    }

    // MARK: Cursors

    /// A side's change-detection cursors (by project) and how many times they were rewound (`rewinds`, the fence of
    /// `saveCursors`).
    public struct Cursors: Sendable {
        public var positions: [String: String]
        public var rewinds: Int64
    }

    /// The side's cursors. A side without a row gets an empty one first, so that a rewind from now on counts on it.
    public func cursors(integration: Int64, side: Side) async throws -> Cursors {
        func select() async throws -> PostgresRows {
            try await self.client.query("SELECT cursor, rewinds FROM cursors WHERE integration_id = \(integration) AND side = \(side.rawValue)")
        }
        var rows = try await select()
        if rows.isEmpty {
            try await self.client.query(
                "INSERT INTO cursors (integration_id, side, cursor) VALUES (\(integration), \(side.rawValue), '{}') ON CONFLICT DO NOTHING")
            rows = try await select()
        }
        guard let row = rows.first else { return Cursors(positions: [:], rewinds: 0) }
        let (text, rewinds) = try row.decode((String, Int64).self)
        return Cursors(positions: (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:], rewinds: rewinds)
    }

    /// Saves the side's cursors. With `rewinds` (what `cursors` read), only while the cursors have not been rewound
    /// since: returns false, saving nothing, when they were (the rewind stands).
    @discardableResult
    public func saveCursors(_ cursors: [String: String], integration: Int64, side: Side, rewinds: Int64? = nil) async throws -> Bool {
        let text = String(decoding: try Self.encoder.encode(cursors), as: UTF8.self)
        let rows = try await self.client.query(
            """
            INSERT INTO cursors (integration_id, side, cursor, last_detect_at) VALUES (\(integration), \(side.rawValue), \(text), now())
            ON CONFLICT (integration_id, side) DO UPDATE SET cursor = EXCLUDED.cursor, last_detect_at = now(), updated_at = now()
            WHERE \(rewinds)::bigint IS NULL OR cursors.rewinds = \(rewinds)
            RETURNING 1
            """)
        return !rows.isEmpty
    }

    /// A scan of `side` finished: when is shown as the side's last full scan.
    public func scanned(integration: Int64, side: Side) async throws {
        try await self.client.query("UPDATE cursors SET last_scan_at = now() WHERE integration_id = \(integration) AND side = \(side.rawValue)")
    }

    /// Rewinds every change-detection cursor of every integration to the beginning (Redis lost the syncs enqueued for
    /// changes behind them: `RedisEpochGuard`).
    public func rewindAllCursors() async throws {
        try await self.client.query("UPDATE cursors SET cursor = '{}', rewinds = rewinds + 1, updated_at = now()")
    }

    // MARK: Scans

    /// The ids on `side` of every pair of the integration, oldest pair first.
    public func pairedArtifacts(integration: Int64, side: Side) async throws -> [String] {
        try await self.client.query(
            "SELECT \(unescaped: Self.column(side)) FROM artifact_pairs WHERE integration_id = \(integration) ORDER BY id"
        ).decode(String.self)
    }

    // MARK: Activity and traces

    /// Records a failure or blocker; the same open problem for the same artifact is counted, not repeated. A failure of an
    /// item an operator is retrying reopens it. Each error also counts as a failed sync in the metrics rollups.
    public func activity(
        kind: ActivityKind, code: String, integration: Int64?, artifact: String?, side: Side? = nil, pairID: Int64? = nil,
        repository: String? = nil, message: String, on connection: PostgresConnection? = nil
    ) async throws {
        let sideName = artifact == nil ? nil : side?.rawValue
        let updated = try await self.run(
            """
            UPDATE activity SET occurrences = occurrences + 1, last_seen_at = now(), message = \(message), status = \(literal: ActivityStatus.open),
                pair_id = COALESCE(\(pairID), pair_id), side = COALESCE(\(sideName), side), retest_at = NULL
            WHERE kind = \(kind) AND status IN (\(literals: [ActivityStatus.open, .retrying])) AND code = \(code) AND integration_id IS NOT DISTINCT FROM \(integration)
              AND artifact_id IS NOT DISTINCT FROM \(artifact) AND (side IS NULL OR \(sideName)::text IS NULL OR side = \(sideName))
              AND repository_id IS NOT DISTINCT FROM (SELECT id FROM repositories WHERE name = \(repository))
            """, on: connection)
        if updated.affectedRows == 0 {
            try await self.run(
                """
                INSERT INTO activity (kind, code, integration_id, artifact_id, side, pair_id, repository_id, message)
                VALUES (\(kind), \(code), \(integration), \(artifact), \(sideName), \(pairID),
                        (SELECT id FROM repositories WHERE name = \(repository)), \(message))
                """, on: connection)
        }
        if kind == .error, let integration, let query = MetricsStore.recordQuery(integrationID: integration, failed: 1) {
            try await self.run(query, on: connection)
        }
    }

    /// Closes an artifact's items that an operator is retrying once it synced, and (`open`: when it changed something)
    /// its open failures too.
    public func resolveActivity(
        integration: Int64, artifact: String, side: Side? = nil, open: Bool = true, on connection: PostgresConnection? = nil
    ) async throws {
        try await self.run(
            """
            UPDATE activity SET status = \(literal: ActivityStatus.done), resolved_at = now()
            WHERE integration_id = \(integration) AND artifact_id = \(artifact) AND kind = \(literal: ActivityKind.error)
              AND (status = \(literal: ActivityStatus.retrying) OR (\(open) AND status = \(literal: ActivityStatus.open)))
              AND (side IS NULL OR \(side?.rawValue)::text IS NULL OR side = \(side?.rawValue))
            """, on: connection)
    }

    public func traceDetected(integration: Int64, side: Side, artifacts: [(id: String, version: String)]) async throws {
        guard !artifacts.isEmpty else { return }
        try await self.client.query(
            """
            INSERT INTO artifact_trace (integration_id, side, artifact_id, detected_at, detected_version)
            SELECT \(integration), \(side.rawValue), id, now(), version FROM unnest(\(artifacts.map(\.id))::text[], \(artifacts.map(\.version))::text[]) AS t(id, version)
            ON CONFLICT (integration_id, side, artifact_id) DO UPDATE SET detected_at = now(), detected_version = EXCLUDED.detected_version
            """)
    }

    public func traceSynced(
        integration: Int64, side: Side, artifact: String, outcome: TraceOutcome, reasons: String, error: String?,
        on connection: PostgresConnection? = nil
    ) async throws {
        try await self.run(
            """
            INSERT INTO artifact_trace (integration_id, side, artifact_id, last_sync_at, last_outcome, last_reasons, last_error)
            VALUES (\(integration), \(side.rawValue), \(artifact), now(), \(outcome), \(reasons), \(error))
            ON CONFLICT (integration_id, side, artifact_id) DO UPDATE SET last_sync_at = now(), last_outcome = EXCLUDED.last_outcome,
                last_reasons = EXCLUDED.last_reasons, last_error = EXCLUDED.last_error
            """, on: connection)
    }

    /// After a repository answered: its blockers that are being retried, and those for rejected credentials, are done.
    public func resolveBlockers(repository: String) async throws {
        try await self.run(
            """
            UPDATE activity SET status = \(literal: ActivityStatus.done), resolved_at = now(), retest_at = NULL
            WHERE kind = \(literal: ActivityKind.blocker) AND artifact_id IS NULL
              AND repository_id = (SELECT id FROM repositories WHERE name = \(repository))
              AND (status = \(literal: ActivityStatus.retrying)
                   OR (status = \(literal: ActivityStatus.open) AND code IN ('credentials-rejected', 'proxy-credentials-rejected')))
            """, on: nil)
    }

    /// Records a conflict the policy resolved (kind `info`, code `conflict-resolved`, done): it stays in the pair's
    /// history and is counted in the integration's conflicts.
    public func conflictResolved(
        integration: Int64, artifact: String, side: Side, pairID: Int64?, message: String, on connection: PostgresConnection?
    ) async throws {
        try await self.run(
            """
            INSERT INTO activity (kind, status, code, integration_id, artifact_id, side, pair_id, message, resolved_at)
            VALUES (\(literal: ActivityKind.info), \(literal: ActivityStatus.done), 'conflict-resolved', \(integration), \(artifact), \(side.rawValue), \(pairID), \(message), now())
            """, on: connection)
    }
}
