public import Foundation
import HTTP
public import Logging
import Postgres
import TandemConfig
import TandemConnectors
public import TandemCore
public import TandemQueue
public import TandemStore

/// What a detect, scan or sync job carries.
public struct JobPayload: Codable, Sendable, Hashable {
    public var side: Side
    public var artifact: String?
    /// Scan and sync: "Process All Artifacts" — every mapped field is synchronised again where the twin differs.
    public var reprocess: Bool?
    /// Scan: read the side's feed from the beginning ("Initiate Synchronization") instead of re-checking pairs.
    public var fullRead: Bool?
    /// Full read: the projects still to read (nil: all of the collection's), and where the first one resumes.
    public var projects: [String]?
    public var cursor: String?
    /// An operator's retry: the database's time of the action. The job runs with configuration read at or after it.
    public var configuredAsOf: Date?

    public init(
        side: Side, artifact: String? = nil, reprocess: Bool? = nil, fullRead: Bool? = nil, projects: [String]? = nil, cursor: String? = nil,
        configuredAsOf: Date? = nil
    ) {
        self.side = side
        self.artifact = artifact
        self.reprocess = reprocess
        self.fullRead = fullRead
        self.projects = projects
        self.cursor = cursor
        self.configuredAsOf = configuredAsOf
    }
    public var json: String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data("{}".utf8), as: UTF8.self) }
}

/// The job handlers of DESIGN §3: detect reads a change feed and enqueues syncs; scan re-checks every pair; sync
/// reads the source fresh, asks the core for a decision and carries it out under the pair's lock.
public struct SyncEngine: Sendable {
    public let runtime: ClusterRuntime
    public let queue: JobQueue
    public let pairs: PairStore
    public let logger: Logger
    /// Called after each sync with (integration, created, updated, lag seconds since the source changed).
    public var onSynced: (@Sendable (String, Int, Int, Double?) -> Void)?
    /// The trace reason of a sync skipped because an operator ignores the pair's changes.
    public static let ignoredReason = "ignored by operator"
    /// Pages read per detect job before it hands the rest to a follow-up job.
    public var maxPagesPerDetect = 50
    /// How long a repository is paused after its credentials were rejected (lock-out protection, guide L20–31). New
    /// credentials or an operator's Retry on the blocker end the pause at once (`Coordinator.retestRepositories`).
    public var credentialPause: Duration = .seconds(3600)
    /// How often a sync whose target repository is paused looks again (it does not call the paused repository).
    public var pausedTargetRetry: Duration = .seconds(15)
    /// Outages of PostgreSQL or Redis met by this engine's jobs: their retry delays and info lines.
    let infrastructure = InfrastructureWaits()

    public init(runtime: ClusterRuntime, queue: JobQueue, logger: Logger) {
        self.runtime = runtime
        self.queue = queue
        self.pairs = PairStore(client: runtime.client)
        self.logger = logger
    }

    public var handlers: [JobKind: QueueConsumer.Handler] {
        [
            .detect: { try await self.run($0, self.detect) },
            .scan: { try await self.run($0, self.scan) },
            .sync: { try await self.run($0, self.sync) },
        ]
    }

    /// The integration, side and payload of a job, or nil when the integration is gone or stopped (the job is dropped).
    struct Context {
        var snapshot: ClusterRuntime.Snapshot
        var integration: IntegrationConfig
        var integrationID: Int64
        var synchronizer: Synchronizer
        var side: Side
        var payload: JobPayload
    }

    /// Runs a job; a failure of PostgreSQL or Redis (not the tracker's fault) is retried promptly, without counting an
    /// attempt, and said at info level — the job's note in `tandem jobs --state delayed` says what it waits for.
    func run(_ delivery: Delivery, _ body: (Context, Job) async throws -> Void) async throws {
        do {
            try await self.runJob(delivery, body)
        } catch let outcome as JobOutcome {
            throw outcome
        } catch {
            guard let failure = InfrastructureFailure(error) else { throw error }
            let delay = self.infrastructure.retryDelay(after: failure, logger: self.logger)
            throw JobOutcome.retry(after: delay, "waiting for \(failure.service.rawValue): \(failure.detail)")
        }
        self.infrastructure.succeeded(logger: self.logger)
    }

    func runJob(_ delivery: Delivery, _ body: (Context, Job) async throws -> Void) async throws {
        let job = delivery.job
        let payload: JobPayload
        do { payload = try JSONDecoder().decode(JobPayload.self, from: Data(job.payload.utf8)) } catch {
            throw JobOutcome.permanent("malformed \(job.kind) payload: \(error)")
        }
        let snapshot = try await self.runtime.snapshot(asOf: payload.configuredAsOf)
        guard let integration = snapshot.integration(job.integration), integration.running,
            let id = snapshot.integrationIDs[job.integration]
        else { return }  // stopped or removed since it was enqueued
        guard let synchronizer = snapshot.synchronizers[job.integration] else {
            let reason = snapshot.broken[job.integration] ?? "rules unavailable"
            try? await self.pairs.activity(kind: .blocker, code: "invalid-rules", integration: id, artifact: nil, message: reason)
            throw JobOutcome.permanent("integration \(job.integration) cannot run: \(reason)")
        }
        let context = Context(
            snapshot: snapshot, integration: integration, integrationID: id, synchronizer: synchronizer, side: payload.side, payload: payload)
        do {
            try await body(context, job)
        } catch let error as ConnectorError {
            try await self.classify(error, context: context, job: job)
        } catch let error as SyncError {
            try? await self.pairs.activity(
                kind: .error, code: "sync-\(error.code)", integration: id, artifact: payload.artifact, side: payload.side, message: "\(error)")
            throw JobOutcome.permanent("\(error)")
        }
    }

    /// Transient: retry (pausing the repository when it asked); permanent: a failed activity; needs attention
    /// (credentials, permissions, configuration): a blocker, and the repository paused so that retries do not lock
    /// the integration user's account.
    func classify(_ error: ConnectorError, context: Context, job: Job) async throws -> Never {
        let id = context.integrationID
        switch error.kind {
        case .transient:
            if let until = error.pauseUntil {
                throw JobOutcome.pauseRepository(for: .seconds(max(1, until.timeIntervalSinceNow)), error.description)
            }
            throw error
        case .permanent:
            if error.code == .artifactGone { return try await self.gone(context: context, job: job) }
            try? await self.pairs.activity(
                kind: .error, code: error.code.rawValue, integration: id, artifact: context.payload.artifact, side: context.side,
                message: error.description)
            if let artifact = context.payload.artifact {
                try? await self.pairs.traceSynced(
                    integration: id, side: context.side, artifact: artifact, outcome: .failed, reasons: "", error: error.description)
            }
            throw JobOutcome.permanent(error.description)
        case .needsAttention:
            // The repository whose connection failed — a sync's target as well as the job's own — is paused and named.
            let repository = error.repository ?? job.repository
            if await self.runtime.changedSinceSnapshot(repository: repository, since: context.snapshot) {
                // New credentials arrived since this job read the configuration: try them before blaming anyone.
                throw JobOutcome.retry(after: .milliseconds(200), "repository \(repository): its configuration changed; trying again")
            }
            try? await self.pairs.activity(
                kind: .blocker, code: error.code.rawValue, integration: id, artifact: nil, repository: repository,
                message: "repository \(repository): \(error.description)")
            if repository == job.repository { throw JobOutcome.pauseRepository(for: self.credentialPause, error.description) }
            throw JobOutcome.pauseRepository(
                repository, for: self.credentialPause, retry: self.pausedTargetRetry, "repository \(repository): \(error.description)")
        }
    }

    func gone(context: Context, job: Job) async throws -> Never {
        // Tandem does not delete across repositories (guide L7874): a deleted artifact ends its part in the sync.
        if let artifact = context.payload.artifact {
            try? await self.pairs.traceSynced(
                integration: context.integrationID, side: context.side, artifact: artifact, outcome: .gone, reasons: "artifact deleted",
                error: nil)
        }
        throw JobOutcome.permanent("artifact gone")
    }

    func connector(_ context: Context, _ side: Side) throws -> (any Connector, CollectionConfig, RepositoryConfig) {
        guard let collection = context.snapshot.collection(of: context.integration, side),
            let repository = context.snapshot.repository(collection.repository)
        else { throw JobOutcome.permanent("integration \(context.integration.name): collection or repository missing") }
        guard repository.enabled else {
            throw JobOutcome.pauseRepository(for: .seconds(5), "repository \(repository.name) is disconnected")
        }
        return (AttributedConnector(try self.runtime.connector(for: repository), repository: repository.name), collection, repository)
    }

    // MARK: - Detect

    func detect(_ context: Context, _ job: Job) async throws {
        let (connector, collection, repository) = try self.connector(context, context.side)
        let read = try await self.pairs.cursors(integration: context.integrationID, side: context.side)
        var cursors = read.positions
        var pages = 0
        var more = false
        for project in collection.projects {
            var cursor = cursors[project].map(FeedCursor.init(rawValue:))
            repeat {
                let page = try await connector.changes(project: project, since: cursor, pageSize: min(100, connector.capabilities.maxPageSize))
                let jobs = page.changes.map { change in
                    Job(
                        kind: .sync, repository: repository.name, integration: context.integration.name, priority: .high,
                        payload: JobPayload(side: context.side, artifact: change.id).json,
                        uniqueKey: Job.syncKey(integration: context.integration.name, repository: repository.name, artifact: change.id))
                }
                if !jobs.isEmpty { _ = try await self.queue.enqueue(jobs) }
                try await self.pairs.traceDetected(
                    integration: context.integrationID, side: context.side, artifacts: page.changes.map { ($0.id, $0.version) })
                cursor = page.cursor
                cursors[project] = page.cursor.rawValue
                // Checkpoint after every page: a crash re-reads at most one page (syncs are idempotent). Not over a
                // rewind made since the cursors were read: Redis lost its data, perhaps with the syncs just enqueued,
                // and detection reads the feed again from the beginning.
                guard
                    try await self.pairs.saveCursors(
                        cursors, integration: context.integrationID, side: context.side, rewinds: read.rewinds)
                else {
                    self.logger.info(
                        "The change-detection cursors were rewound while this detection ran: it stops, and the next one reads from the beginning",
                        metadata: ["tandem.integration": "\(context.integration.name)", "tandem.side": "\(context.side.rawValue)"])
                    return
                }
                pages += 1
                more = page.hasMore
            } while more && pages < self.maxPagesPerDetect
        }
        // The repository answered: its credentials work. Blockers an operator retried (or new credentials put back to
        // retrying) and rejected-credential blockers are resolved.
        try await self.pairs.resolveBlockers(repository: repository.name)
        if more {
            _ = try await self.queue.enqueue(
                Job(
                    kind: .detect, repository: repository.name, integration: context.integration.name,
                    payload: JobPayload(side: context.side).json, uniqueKey: "detect:\(context.integration.name):\(context.side.rawValue):more"))
        }
    }

    // MARK: - Scan

    func scan(_ context: Context, _ job: Job) async throws {
        if context.payload.fullRead == true { return try await self.fullRead(context, job) }
        let reprocess = context.payload.reprocess == true
        let (_, _, repository) = try self.connector(context, context.side)
        var jobs: [Job] = []
        for id in try await self.pairs.pairedArtifacts(integration: context.integrationID, side: context.side) {
            jobs.append(
                Job(
                    kind: .sync, repository: repository.name, integration: context.integration.name, priority: .low,
                    payload: JobPayload(side: context.side, artifact: id, reprocess: reprocess ? true : nil).json,
                    uniqueKey: (reprocess ? "reprocess:" : "")
                        + Job.syncKey(integration: context.integration.name, repository: repository.name, artifact: id)))
            if jobs.count == 500 {
                _ = try await self.queue.enqueue(jobs)
                jobs.removeAll(keepingCapacity: true)
            }
        }
        if !jobs.isEmpty { _ = try await self.queue.enqueue(jobs) }
        try await self.pairs.scanned(integration: context.integrationID, side: context.side)
    }

    /// "Initiate Synchronization" (guide L7418–7429): reads the side's feed of the chosen projects from the beginning and
    /// queues a sync of every artifact in it, so artifacts that became eligible synchronise now. The cursors of change
    /// detection are left alone; a long read continues in a follow-up job from where this one stopped.
    func fullRead(_ context: Context, _ job: Job) async throws {
        let (connector, collection, repository) = try self.connector(context, context.side)
        var projects = (context.payload.projects ?? collection.projects).filter { collection.projects.contains($0) }
        var cursor = context.payload.cursor.map(FeedCursor.init(rawValue:))
        var pages = 0
        while let project = projects.first, pages < self.maxPagesPerDetect {
            let page = try await connector.changes(project: project, since: cursor, pageSize: min(100, connector.capabilities.maxPageSize))
            let jobs = page.changes.map { change in
                Job(
                    kind: .sync, repository: repository.name, integration: context.integration.name, priority: .high,
                    payload: JobPayload(side: context.side, artifact: change.id).json,
                    uniqueKey: Job.syncKey(integration: context.integration.name, repository: repository.name, artifact: change.id))
            }
            if !jobs.isEmpty { _ = try await self.queue.enqueue(jobs) }
            pages += 1
            if page.hasMore {
                cursor = page.cursor
            } else {
                projects.removeFirst()
                cursor = nil
            }
        }
        guard !projects.isEmpty else { return }
        _ = try await self.queue.enqueue(
            Job(
                kind: .scan, repository: repository.name, integration: context.integration.name, priority: .high,
                payload: JobPayload(side: context.side, fullRead: true, projects: projects, cursor: cursor?.rawValue).json))
    }

    // MARK: - Sync

    static func core(_ a: RepositoryArtifact) -> Artifact {
        Artifact(
            id: a.id, project: a.project, fields: a.fields,
            comments: a.comments.map { Comment(id: $0.id, author: $0.author, body: $0.text, markup: $0.markup) },
            attachments: a.attachments.map {
                Attachment(id: $0.id, fileName: $0.filename, size: Int64($0.size ?? 0), checksum: "\($0.filename):\($0.size ?? 0)")
            },
            summary: a.formattedID)
    }

    func sync(_ context: Context, _ job: Job) async throws {
        guard let artifactID = context.payload.artifact else { throw JobOutcome.permanent("sync job without an artifact") }
        let s = context.side
        let t = s.opposite
        let (source, configuredSource, _) = try self.connector(context, s)
        let (target, configuredTarget, targetRepository) = try self.connector(context, t)
        if targetRepository.name != job.repository, let until = try await self.queue.pausedUntil(repository: targetRepository.name) {
            // The target is paused (its credentials were rejected, or it asked for a pause): wait, without calling it.
            let wait = min(self.pausedTargetRetry, .seconds(max(1, until.timeIntervalSinceNow)))
            throw JobOutcome.retry(after: wait, "waiting for repository \(targetRepository.name), paused until \(until.ISO8601Format())")
        }
        var sourceCollection = configuredSource
        var targetCollection = configuredTarget
        // A collection may name its artifact type (a Redmine tracker by name): compared and written as the tool's id.
        sourceCollection.artifactType = try await source.artifactTypeID(sourceCollection.artifactType)
        targetCollection.artifactType = try await target.artifactTypeID(targetCollection.artifactType)
        let id = context.integrationID
        try await self.runtime.client.withConnection { connection in
            // Updates lock their pair; a job that finds no pair locks its source artifact and looks again (a pair
            // recorded meanwhile is then visible). Creates of different artifacts run in parallel: a twin whose pair
            // is not recorded yet is recognised by its recorded id (pending_creates) or by the marker it carries, and
            // two syncs of one source are kept apart by the pending create's claim.
            var stored = try await self.pairs.pair(integration: id, side: s, artifact: artifactID, on: connection)
            var lock = stored.map { "pair:\(id):\($0.pair.leftID)" } ?? "create:\(id):\(s.rawValue):\(artifactID)"
            try await Self.lock(lock, on: connection)
            do {
                stored = try await self.pairs.pair(integration: id, side: s, artifact: artifactID, on: connection)
                if let found = stored, lock.hasPrefix("create:") {
                    try await AdvisoryLock.unlock(lock, on: connection)
                    lock = "pair:\(id):\(found.pair.leftID)"
                    try await Self.lock(lock, on: connection)
                    stored = try await self.pairs.pair(integration: id, side: s, artifact: artifactID, on: connection)
                }
                // "Clear Errors and Ignore Changes": the pair (or the unpaired artifact) waits for an operator's retry.
                let ignored: Bool
                if let found = stored {
                    ignored = found.ignoreChanges
                } else {
                    ignored = try await self.pairs.isIgnored(integration: id, side: s, artifact: artifactID, on: connection)
                }
                if ignored {
                    try await self.pairs.traceSynced(
                        integration: id, side: s, artifact: artifactID, outcome: .ignored, reasons: Self.ignoredReason, error: nil,
                        on: connection)
                    try await AdvisoryLock.unlock(lock, on: connection)
                    return
                }
                // The source is read under the lock: a version read before it could be older than what another sync
                // just wrote there, and would look like a user's edit to carry back over newer changes.
                let sourceArtifact = try await source.artifact(id: artifactID)
                guard sourceArtifact.artifactType == sourceCollection.artifactType else {
                    // Another type in the same project (a Redmine feature, say): not this collection's business.
                    try await self.pairs.traceSynced(
                        integration: id, side: s, artifact: artifactID, outcome: .nothing,
                        reasons: "artifact type \(sourceArtifact.artifactType) is not the collection's (\(sourceCollection.artifactType))",
                        error: nil, on: connection)
                    try await AdvisoryLock.unlock(lock, on: connection)
                    return
                }
                try await self.decideAndWrite(
                    context, sourceArtifact: sourceArtifact, stored: stored, source: source, target: target,
                    targetCollection: targetCollection, connection: connection)
                if context.payload.reprocess == true, let paired = stored {
                    // Process All runs from the left and then, under the same lock, back from the right: fields flowing
                    // both ways take the left value (deterministic), fields flowing only right → left flow too.
                    var back = context
                    back.side = t
                    let after = try await self.pairs.pair(integration: id, side: s, artifact: artifactID, on: connection) ?? paired
                    let twin = try await target.artifact(id: after.pair.id(on: t))
                    try await self.decideAndWrite(
                        back, sourceArtifact: twin, stored: after, source: target, target: source, targetCollection: sourceCollection,
                        connection: connection)
                }
                try await AdvisoryLock.unlock(lock, on: connection)
            } catch {
                // A session lock outlives the job on the pooled connection: release it even when the job was cancelled
                // (a cancelled task's queries throw at once), in a task of its own.
                let held = lock
                await Task { try? await AdvisoryLock.unlock(held, on: connection) }.value
                throw error
            }
        }
    }

    /// Writes a link to a twin where the tool keeps such links (`Connector.linkTwin`). A link that fails does not undo
    /// the create: it is an activity error naming both artifacts.
    private func linkTwin(
        on connector: any Connector, id artifact: String, to twin: TwinLink, context: Context, source: RepositoryArtifact,
        connection: PostgresConnection
    ) async {
        do {
            try await connector.linkTwin(id: artifact, twin: twin)
        } catch {
            try? await self.pairs.activity(
                kind: .error, code: "twin-link-failed", integration: context.integrationID, artifact: source.id,
                message: "\(source.formattedID): no link from \(artifact) to its twin \(twin.key): \(error)", on: connection)
        }
    }

    /// Takes a session advisory lock by polling `pg_try_advisory_lock`, so the wait is cancellable (a blocked
    /// `pg_advisory_lock` holds a database thread that no task cancellation reaches) and bounded: after `patience` the
    /// job is retried later instead of waiting on, e.g., a lock whose holder is stuck.
    static func lock(_ key: String, on connection: PostgresConnection, patience: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + patience
        var pause = Duration.milliseconds(5)
        while true {
            if try await AdvisoryLock.tryLock(key, on: connection) { return }
            guard ContinuousClock.now < deadline else { throw JobOutcome.retry(after: .seconds(1), "lock \(key) still held by another sync") }
            try await Task.sleep(for: pause * Double.random(in: 0.5...1))
            pause = min(pause * 2, .milliseconds(250))
        }
    }

    func decideAndWrite(
        _ context: Context, sourceArtifact: RepositoryArtifact, stored: StoredPair?, source: any Connector, target: any Connector,
        targetCollection: CollectionConfig, connection: PostgresConnection
    ) async throws {
        let s = context.side
        let t = s.opposite
        let id = context.integrationID
        var targetArtifact: RepositoryArtifact?
        if let stored {
            do { targetArtifact = try await target.artifact(id: stored.pair.id(on: t)) } catch let error as ConnectorError
                where error.code == .artifactGone
            {
                try await self.pairs.update(
                    id: stored.id, pair: stored.pair, ledger: stored.ledger, status: .error, reason: "twin \(stored.pair.id(on: t)) was deleted",
                    on: connection)
                throw JobOutcome.permanent("the twin was deleted")
            }
        }
        let input = SyncInput(
            source: s, sourceArtifact: Self.core(sourceArtifact), targetArtifact: targetArtifact.map(Self.core), pair: stored?.pair,
            ledger: stored?.ledger ?? WriteLedger(), reprocess: context.payload.reprocess == true,
            targetMarkups: try await target.textMarkups(projects: targetCollection.projects),
            targetPeople: context.synchronizer.writesPeople(to: t)
                ? try await self.runtime.people.directory(
                    repository: targetCollection.repository, projects: targetCollection.projects, connector: target) : nil)
        let decision = try context.synchronizer.decide(input)
        var reasons = decision.reasons.map(\.description).joined(separator: "; ")
        var created = 0
        var updated = 0
        switch decision.action {
        case .create(let plan):
            if try await self.pairs.isTwinBeingCreated(integration: id, side: s, artifact: sourceArtifact.id, on: connection)
                || sourceArtifact.marker?.hasPrefix(PairStore.markerPrefix(integration: id)) == true
            {
                // (A marker of this integration: a twin Tandem created whose id was not recorded yet — its creator died
                // between the create and the record. The creator's retry finds it by the marker and records the pair.)
                // This artifact is itself a twin whose pair is still being recorded: never create its twin.
                throw JobOutcome.retry(after: .seconds(5), "\(sourceArtifact.formattedID) is a twin being created; waiting for its pair")
            }
            let (marker, earlier, claimed, claim, firstAttempt) = try await self.pairs.beginCreate(
                integration: id, side: s, source: sourceArtifact.id, project: plan.project, holder: self.runtime.presence?.current,
                on: connection)
            guard claimed else {
                // Another sync of this source is creating its twin (or died doing so: its claim goes stale).
                throw JobOutcome.retry(after: .seconds(5), "another sync is creating the twin of \(sourceArtifact.formattedID)")
            }
            do {
                var targetID: String?
                if earlier {
                    targetID = try await target.findByMarker(project: plan.project, marker: marker, createdSince: firstAttempt).first
                }
                var fields: [String: FieldValue] = [:]
                for write in plan.fields { fields[write.repositoryField] = write.value }
                var unrecorded = UnrecordedWrites.none
                var twin: RepositoryArtifact?
                if let found = targetID {
                    // The twin of an earlier attempt that died before recording it: it holds that attempt's values,
                    // so bring it to this decision's (else the pair would claim values the twin lacks, and the twin's
                    // next sync would carry the old ones back over newer changes). Comments it already has are kept.
                    try await self.pairs.createdTwin(integration: id, side: s, source: sourceArtifact.id, target: found, on: connection)
                    if !fields.isEmpty { _ = try await target.updateFields(id: found, fields) }
                    for (_, state) in plan.statuses.sorted(by: { $0.key < $1.key }) { _ = try await target.applyTransition(id: found, to: state) }
                    twin = try await target.artifact(id: found)
                    unrecorded = UnrecordedWrites(twin.map(Self.core), pair: nil, on: t)
                } else {
                    for (field, state) in plan.statuses { fields[field] = .select(state) }
                    let result = try await target.createArtifact(
                        ArtifactDraft(project: plan.project, artifactType: targetCollection.artifactType, fields: fields, marker: marker))
                    targetID = result.artifactID
                }
                guard let targetID else { throw JobOutcome.permanent("create returned no id") }
                try await self.pairs.createdTwin(integration: id, side: s, source: sourceArtifact.id, target: targetID, on: connection)
                var (pair, ledger) = try context.synchronizer.record(decision, for: input, targetID: targetID)
                var commentEffects: [String: FieldValue] = [:]
                let found = try await self.writeComments(
                    plan.comments, target: target, targetID: targetID, on: t, unrecorded: &unrecorded, pair: &pair,
                    changedByRepository: &commentEffects)
                let attachments = await self.copyAttachments(
                    plan.attachments, of: sourceArtifact, context: context, target: target, twin: twin, targetID: targetID,
                    unrecorded: &unrecorded, pair: &pair, connection: connection)
                reasons = Self.joined(reasons, found + attachments.reasons)
                // The twin points back at its source where the tool keeps such links (Jira's remote links); before the
                // read below, so the state recorded includes the link's write. A link that fails does not undo the create.
                await self.linkTwin(
                    on: target, id: targetID, to: TwinLink(key: sourceArtifact.formattedID, url: sourceArtifact.url), context: context,
                    source: sourceArtifact, connection: connection)
                twin = try? await target.artifact(id: targetID)
                if let read = twin {
                    // What the twin no longer holds of what was written (the tracker reacted to the comments): put back.
                    let drifted = fields.filter { read.fields[$0.key] != $0.value }.reduce(into: [String: FieldValue]()) {
                        $0[$1.key] = read.fields[$1.key] ?? .null
                    }
                    let restored = try await self.restore(
                        drifted, intended: fields, collection: targetCollection, target: target, targetID: targetID)
                    if !restored.isEmpty {
                        reasons = Self.joined(reasons, restored)
                        twin = try? await target.artifact(id: targetID)
                    }
                }
                if let twin {
                    // What the twin stores where it differs from what was written is what later detections compare with.
                    let stored = fields.filter { twin.fields[$0.key] != $0.value }.reduce(into: [String: FieldValue]()) {
                        $0[$1.key] = twin.fields[$1.key] ?? .null
                    }
                    context.synchronizer.recordStored(stored, after: Self.core(twin), on: t, pair: &pair, ledger: &ledger)
                }
                let sourceKey: String? = sourceArtifact.formattedID
                let twinKey: String? = twin?.formattedID
                let keys: (left: String?, right: String?) = s == .left ? (sourceKey, twinKey) : (twinKey, sourceKey)
                let urls: (left: String?, right: String?) = s == .left ? (sourceArtifact.url, twin?.url) : (twin?.url, sourceArtifact.url)
                let sourceProject: String? = sourceArtifact.project
                let twinProject: String? = plan.project
                let projects: (left: String?, right: String?) = s == .left ? (sourceProject, twinProject) : (twinProject, sourceProject)
                _ = try await self.pairs.insert(
                    integration: id, pair: pair, ledger: ledger, createdFrom: s, keys: keys, urls: urls, projects: projects, on: connection)
                try await self.pairs.endCreate(integration: id, side: s, source: sourceArtifact.id, on: connection)
                // The source points at its new twin too; after the pair is recorded, so a failure costs only the link.
                if let twin {
                    await self.linkTwin(
                        on: source, id: sourceArtifact.id, to: TwinLink(key: twin.formattedID, url: twin.url), context: context,
                        source: sourceArtifact, connection: connection)
                }
                if let failure = attachments.failure { throw failure }
            } catch {
                await self.pairs.releaseClaim(
                    integration: id, side: s, source: sourceArtifact.id, claim: claim, on: connection,
                    retryingWhile: { InfrastructureFailure($0) != nil })
                throw error
            }
            created = 1
        case .update, .noLongerEligible:
            guard let stored else { return }
            // A pair leaving the integration gets its last change and then the twinless update, in one write.
            var plan = UpdatePlan(fields: [], transitions: [], comments: [], attachments: [], reentered: false)
            var twinless: TwinlessPlan?
            switch decision.action {
            case .update(let update): plan = update
            case .noLongerEligible(let leaving):
                plan = leaving.final ?? plan
                plan.fields += leaving.fields
                twinless = leaving
            default: return
            }
            let targetID = stored.pair.id(on: t)
            var fields: [String: FieldValue] = [:]
            for write in plan.fields { fields[write.repositoryField] = write.value }
            var (pair, ledger) = try context.synchronizer.record(decision, for: input)
            if !fields.isEmpty || !plan.transitions.isEmpty {
                // Write-ahead: the ledger learns the values before the target holds them. A job that dies between the
                // write and the record then leaves values that the next sync from the target recognises as Tandem's
                // own (an echo) rather than as a user's edit that would flow back over newer changes.
                try await self.pairs.saveLedger(id: stored.id, ledger: ledger, on: connection)
            }
            if !fields.isEmpty {
                let result = try await target.updateFields(id: targetID, fields)
                if !result.changedByRepository.isEmpty, var after = input.targetArtifact {
                    // The target stores something other than what was written: later detections compare with that.
                    for (field, value) in fields { after.fields[field] = value }
                    for (field, value) in result.changedByRepository { after.fields[field] = value }
                    context.synchronizer.recordStored(result.changedByRepository, after: after, on: t, pair: &pair, ledger: &ledger)
                    try await self.pairs.saveLedger(id: stored.id, ledger: ledger, on: connection)
                }
            }
            for transition in plan.transitions { _ = try await target.applyTransition(id: targetID, to: transition.to) }
            // Comments and attachments an earlier attempt left on the target without recording them are claimed, not
            // written again (the target as read for this decision, before any write of it).
            var unrecorded = UnrecordedWrites(input.targetArtifact, pair: stored.pair, on: t)
            var commentEffects: [String: FieldValue] = [:]
            let found = try await self.writeComments(
                plan.comments, target: target, targetID: targetID, on: t, unrecorded: &unrecorded, pair: &pair,
                changedByRepository: &commentEffects)
            // A field the tracker changed on its own because of the comments goes back to what it was (or was written).
            var intended = input.targetArtifact?.fields ?? [:]
            for (field, value) in fields { intended[field] = value }
            reasons = Self.joined(
                reasons,
                try await self.restore(commentEffects, intended: intended, collection: targetCollection, target: target, targetID: targetID))
            let attachments = await self.copyAttachments(
                plan.attachments, of: sourceArtifact, context: context, target: target, twin: targetArtifact, targetID: targetID,
                unrecorded: &unrecorded, pair: &pair, connection: connection)
            reasons = Self.joined(reasons, found + attachments.reasons)
            if let comment = twinless?.comment { _ = try await target.addComment(id: targetID, text: comment) }
            try await self.pairs.update(
                id: stored.id, pair: pair, ledger: ledger, status: twinless == nil ? .ok : .twinless, reason: twinless == nil ? nil : reasons,
                on: connection)
            if let failure = attachments.failure { throw failure }
            updated = fields.isEmpty && plan.transitions.isEmpty && plan.comments.isEmpty && attachments.copied == 0 ? 0 : 1
        case .nothing:
            // A pair that left the integration stays twinless; another one's earlier error or conflict is over.
            if let stored, stored.status != (stored.pair.eligible ? PairStatus.ok : .twinless) {
                let status: PairStatus = stored.pair.eligible ? .ok : .twinless
                try await self.pairs.update(id: stored.id, pair: stored.pair, ledger: stored.ledger, status: status, reason: nil, on: connection)
            }
        case .conflict(let conflicts):
            let fields = conflicts.map(\.field).joined(separator: ", ")
            if let stored {
                try await self.pairs.update(
                    id: stored.id, pair: stored.pair, ledger: stored.ledger, status: .conflict, reason: "conflict on \(fields)", on: connection)
            }
            try await self.pairs.activity(
                kind: .error, code: "conflict", integration: id, artifact: sourceArtifact.id, side: s, pairID: stored?.id,
                message: "\(sourceArtifact.formattedID): the same fields changed on both sides (\(fields)); the pair is held until resolved",
                on: connection)
        }
        try await self.pairs.traceSynced(
            integration: id, side: s, artifact: sourceArtifact.id, outcome: decision.action.outcome, reasons: reasons, error: nil,
            on: connection)
        // A conflict the policy resolved stays on record in the pair's history (the trace is replaced by the next sync).
        let resolved = decision.reasons.filter { $0.kind == .conflictWon || $0.kind == .conflictLost }
        for reason in resolved {
            try await self.pairs.conflictResolved(
                integration: id, artifact: sourceArtifact.id, side: s, pairID: stored?.id,
                message: "\(sourceArtifact.formattedID): field '\(reason.subject)' \(reason.detail)", on: connection)
        }
        if !resolved.isEmpty { try? await MetricsStore.record(integrationID: id, conflicts: resolved.count, on: connection) }
        if created + updated > 0 {
            try? await self.pairs.resolveActivity(integration: id, artifact: sourceArtifact.id, side: s, on: connection)
            try? await MetricsStore.record(integrationID: id, created: created, updated: updated, on: connection)
            self.onSynced?(context.integration.name, created, updated, Date().timeIntervalSince(sourceArtifact.updated))
        } else if decision.action.outcome != .conflict {
            // An operator's retry that found nothing to do is done too.
            try? await self.pairs.resolveActivity(integration: id, artifact: sourceArtifact.id, side: s, open: false, on: connection)
        }
    }
}
