import Foundation
import Logging
import Postgres
import Redis
import Synchronization
import TandemCluster
import TandemConnectors
import TandemCore
import TandemQueue
import TandemStore

/// The end-to-end harness: a throw-away PostgreSQL database, a Redis key prefix of its own, two in-memory
/// repositories (registered under unique names, so each test has its own), and coordinators and workers run as tasks
/// in the test process, each worker its own `QueueConsumer` with its own id and Redis wait client.
final class ClusterHarness: Sendable {
    static let logger = Logger(label: "tandem.e2e", factory: { _ in SwiftLogNoOpLogHandler() })

    let database: TestDatabase
    let redisURL: String
    let prefix: String
    let redis: RedisClient
    let queue: JobQueue
    let runtime: ClusterRuntime
    let leftName: String
    let rightName: String
    let left: InMemoryRepository
    let right: InMemoryRepository
    let integration = "sync"
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])
    private let clients = Mutex<[RedisClient]>([])
    private let exited = Mutex<Set<String>>([])

    static var redisServerURL: String { ProcessInfo.processInfo.environment["TANDEM_REDIS_URL"] ?? "redis://127.0.0.1:6390" }
    static let masterKey: MasterKey = try! MasterKey(bytes: Array(repeating: 7, count: 32))

    private init(
        database: TestDatabase, redisURL: String, prefix: String, redis: RedisClient, queue: JobQueue, runtime: ClusterRuntime,
        leftName: String, rightName: String, left: InMemoryRepository, right: InMemoryRepository
    ) {
        self.database = database
        self.redisURL = redisURL
        self.prefix = prefix
        self.redis = redis
        self.queue = queue
        self.runtime = runtime
        self.leftName = leftName
        self.rightName = rightName
        self.left = left
        self.right = right
    }

    /// Migrates a fresh database, registers two repositories, applies `yaml(leftName, rightName)` and connects Redis.
    /// `rightListsAttachmentSizes: false` makes the right repository list attachments without sizes (as Roundup does);
    /// `keepsTwinLinks` makes both repositories keep the links to twins Tandem writes; `environment` resolves the YAML's `${ENV}` secrets; `poolSize` is the database pool's size, shared by every
    /// coordinator and worker of the harness.
    static func start(
        redisURL: String? = nil, rightListsAttachmentSizes: Bool = true, environment: [String: String] = [:], poolSize: Int = 8,
        rightAcceptedCredentials: Credentials = .none, refreshInterval: Duration = .seconds(1), keepsTwinLinks: Bool = false,
        yaml: (_ left: String, _ right: String) -> String
    ) async throws -> ClusterHarness {
        let database = try await TestDatabase.create(poolSize: poolSize)
        do {
            try await Migrator.bundled().migrate(database.client, logger: Self.logger)
            let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
            let leftName = "memleft\(tag)"
            let rightName = "memright\(tag)"
            let left = InMemoryRepository(projects: ["demo"], keepsTwinLinks: keepsTwinLinks)
            let right = InMemoryRepository(
                projects: ["demo"], acceptedCredentials: rightAcceptedCredentials, listsAttachmentSizes: rightListsAttachmentSizes,
                keepsTwinLinks: keepsTwinLinks)
            InMemoryConnector.repositories.withLock {
                $0[leftName] = left
                $0[rightName] = right
            }
            let store = ConfigStore(client: database.client, box: SecretBox(key: Self.masterKey), logger: Self.logger)
            _ = try await store.apply(yaml: yaml(leftName, rightName), environment: environment)
            let url = redisURL ?? Self.redisServerURL
            let redis = try await RedisClient.connect(url: url, lanes: 2, logger: Self.logger)
            let prefix = "e2e:\(tag):"
            let queue = JobQueue(
                client: redis,
                configuration: .init(
                    prefix: prefix, leaseDuration: .seconds(10), renewInterval: .seconds(2), defaultEventsPerMinute: 0,
                    backoffBase: .milliseconds(100), backoffCap: .seconds(1)))
            let runtime = ClusterRuntime(
                client: database.client, box: SecretBox(key: Self.masterKey), logger: Self.logger, refreshInterval: refreshInterval)
            return ClusterHarness(
                database: database, redisURL: url, prefix: prefix, redis: redis, queue: queue, runtime: runtime, leftName: leftName,
                rightName: rightName, left: left, right: right)
        } catch {
            await database.drop()
            throw error
        }
    }

    /// Stops every task, removes the Redis keys, drops the database.
    func finish() async {
        let all = self.tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return Array(tasks.values)
        }
        for task in all { task.cancel() }
        for task in all { await task.value }
        var cursor = "0"
        repeat {
            guard let reply = try? await self.redis.send("SCAN", cursor, "MATCH", "\(self.prefix)*", "COUNT", 1000),
                let parts = reply.array, parts.count == 2, let next = parts[0].string
            else { break }
            let keys = parts[1].array?.compactMap(\.string) ?? []
            if !keys.isEmpty { _ = try? await self.redis.send(["UNLINK"] + keys) }
            cursor = next
        } while cursor != "0"
        for client in self.clients.withLock({ $0 }) { await client.close() }
        await self.runtime.shutdown()
        await self.redis.close()
        InMemoryConnector.repositories.withLock {
            $0[self.leftName] = nil
            $0[self.rightName] = nil
        }
        await self.database.drop()
    }

    // MARK: Processes

    /// Starts a coordinator task (its own lease holder id); `client` lets a test give it a database connection of its own.
    func startCoordinator(
        id: String, leaseSeconds: Int = 15, client: PostgresClient? = nil, epoch: RedisEpochGuard = RedisEpochGuard()
    ) {
        let runtime =
            client.map { ClusterRuntime(client: $0, box: SecretBox(key: Self.masterKey), logger: Self.logger, refreshInterval: .seconds(1)) }
            ?? self.runtime
        var coordinator = Coordinator(
            runtime: runtime, queue: self.queue, lease: LeaderLease(client: runtime.client, holder: id, ttlSeconds: leaseSeconds),
            logger: Self.logger)
        coordinator.tick = .milliseconds(200)
        coordinator.epoch = epoch
        let service = coordinator
        self.launch(id) { try? await service.run() }
    }

    /// Starts a worker task: a `QueueConsumer` with its own id and wait client, running the sync engine's handlers
    /// (or `handlers`, to intercept some kinds).
    func startWorker(id: String, concurrency: Int = 8, handlers: [JobKind: QueueConsumer.Handler]? = nil) async throws {
        let waiter = try await RedisClient.connect(url: self.redisURL, lanes: 1, logger: Self.logger)
        self.clients.withLock { $0.append(waiter) }
        let engine = SyncEngine(runtime: self.runtime, queue: self.queue, logger: Self.logger)
        let consumer = QueueConsumer(
            queue: self.queue, waitClient: waiter,
            configuration: .init(workerID: id, concurrency: concurrency, idleWait: .milliseconds(200)),
            handlers: handlers ?? engine.handlers, logger: Self.logger)
        self.launch(id) { await consumer.run() }
    }

    var engine: SyncEngine { SyncEngine(runtime: self.runtime, queue: self.queue, logger: Self.logger) }

    private func launch(_ id: String, _ body: @escaping @Sendable () async -> Void) {
        let task = Task {
            await body()
            _ = self.exited.withLock { $0.insert(id) }
        }
        self.tasks.withLock { $0[id] = task }
    }

    /// Cancels a process's task abruptly and waits for it to end.
    func kill(_ id: String) async {
        guard let task = self.tasks.withLock({ $0.removeValue(forKey: id) }) else { return }
        task.cancel()
        await task.value
    }

    /// Processes whose task has returned without being killed.
    var exitedProcesses: Set<String> {
        let running = self.tasks.withLock { Set($0.keys) }
        return self.exited.withLock { $0 }.intersection(running)
    }

    // MARK: Repositories

    func connector(_ side: Side) -> InMemoryConnector { InMemoryConnector(repository: side == .left ? self.left : self.right) }

    @discardableResult
    func create(
        _ side: Side, title: String, status: String = "open", priority: String = "normal", description: String? = nil, comment: String? = nil
    ) async throws -> String {
        var fields: [String: FieldValue] = ["title": .string(title), "status": .select(status), "priority": .select(priority)]
        if let description { fields["description"] = .richText(description, markup: .plain) }
        let connector = self.connector(side)
        let id = try await connector.createArtifact(ArtifactDraft(project: "demo", artifactType: "task", fields: fields)).artifactID
        if let comment { _ = try await connector.addComment(id: id, text: comment) }
        return id
    }

    func update(_ side: Side, _ id: String, _ fields: [String: FieldValue]) async throws {
        _ = try await self.connector(side).updateFields(id: id, fields)
    }

    func artifacts(_ side: Side) async throws -> [String: RepositoryArtifact] {
        let connector = self.connector(side)
        var result: [String: RepositoryArtifact] = [:]
        for id in await (side == .left ? self.left : self.right).ids { result[id] = try await connector.artifact(id: id) }
        return result
    }

    func writes(_ side: Side) async -> Int { await (side == .left ? self.left : self.right).writes }

    struct PairRow: Sendable, Hashable {
        var left: String
        var right: String
        var status: String
    }

    func pairs() async throws -> [PairRow] {
        var result: [PairRow] = []
        for row in try await self.database.client.query("SELECT left_id, right_id, status FROM artifact_pairs ORDER BY id") {
            result.append(
                PairRow(
                    left: try row.decode(String.self, at: 0), right: try row.decode(String.self, at: 1), status: try row.decode(String.self, at: 2)))
        }
        return result
    }

    /// Waits until `condition` holds, checking every 200 ms, for at most `timeout`; returns whether it held.
    func waitUntil(timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        try await Self.waitUntil(timeout: timeout, every: .milliseconds(200), condition)
    }

    /// Waits until `condition` holds, checking every `interval`, for at most `timeout`; returns whether it held.
    static func waitUntil(timeout: Duration, every interval: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: interval)
        }
        return (try? await condition()) == true
    }

    /// The state compared across the two sides.
    struct Report: Sendable, CustomStringConvertible {
        var leftCount = 0
        var rightCount = 0
        var pairCount = 0
        /// Artifacts in no pair or in more than one.
        var unpairedOrDuplicated = 0
        /// Pairs whose twins differ (title, description, status; priority through `priorityMap`; comment texts).
        var differing: [String] = []
        var description: String {
            "left \(self.leftCount), right \(self.rightCount), pairs \(self.pairCount), unpaired/duplicated \(self.unpairedOrDuplicated), "
                + "differing \(self.differing.count) \(self.differing.prefix(3))"
        }
        func converged(expecting count: Int) -> Bool {
            self.leftCount == count && self.rightCount == count && self.pairCount == count && self.unpairedOrDuplicated == 0
                && self.differing.isEmpty
        }
    }

    /// Compares both repositories through the pairs: `priorityMap` maps a left priority to the right one.
    func report(
        priorityMap: [String: String] = ["low": "low", "normal": "normal", "high": "high"], comments: Bool = true
    ) async throws
        -> Report
    {
        let leftItems = try await self.artifacts(.left)
        let rightItems = try await self.artifacts(.right)
        let pairs = try await self.pairs()
        var report = Report(leftCount: leftItems.count, rightCount: rightItems.count, pairCount: pairs.count)
        var leftSeen: [String: Int] = [:]
        var rightSeen: [String: Int] = [:]
        for pair in pairs {
            leftSeen[pair.left, default: 0] += 1
            rightSeen[pair.right, default: 0] += 1
        }
        report.unpairedOrDuplicated =
            leftItems.keys.filter { leftSeen[$0] != 1 }.count + rightItems.keys.filter { rightSeen[$0] != 1 }.count
            + leftSeen.keys.filter { leftItems[$0] == nil }.count + rightSeen.keys.filter { rightItems[$0] == nil }.count
        for pair in pairs {
            guard let l = leftItems[pair.left], let r = rightItems[pair.right] else { continue }
            var same =
                Self.text(l.fields["title"]) == Self.text(r.fields["title"])
                && Self.text(l.fields["description"]) == Self.text(r.fields["description"])
                && l.fields["status"] == r.fields["status"]
                && Self.text(l.fields["priority"]).flatMap { priorityMap[$0] } == Self.text(r.fields["priority"])
            if comments { same = same && l.comments.map(\.text).sorted() == r.comments.map(\.text).sorted() }
            if !same { report.differing.append("\(pair.left)↔\(pair.right)") }
        }
        return report
    }

    static func text(_ value: FieldValue?) -> String? {
        switch value {
        case .string(let s)?, .select(let s)?: s
        case .richText(let s, _)?: s
        default: nil
        }
    }
}

/// The integration's YAML: two memory repositories, a model, collections with value maps, `running: true`, detection
/// every second, comments both ways. Right-side priorities are mapped inversely (low ↔ High) so that value maps show.
/// `attachments` is the integration's `attachments:` block (none by default).
func integrationYAML(
    left: String, right: String, conflicts: String = "default: left-dominates", fullScan: String = "fullScanEnabled: false",
    attachments: String = "direction: none"
) -> String {
    """
    version: 1
    settings:
      changeDetectionInterval: 1s
    repositories:
      - name: \(left)
        type: memory
        url: http://memory.invalid/\(left)
      - name: \(right)
        type: memory
        url: http://memory.invalid/\(right)
    models:
      - name: Task
        fields:
          - name: title
            type: string
            required: true
          - name: description
            type: rich-text
          - name: status
            type: single-select
            values: [New, In Progress, Done]
          - name: priority
            type: single-select
            values: [Low, Normal, High]
    collections:
    \(collectionYAML("left-tasks", repository: left, priorities: ["low": "Low", "normal": "Normal", "high": "High"]))
    \(collectionYAML("right-tasks", repository: right, priorities: ["low": "High", "normal": "Normal", "high": "Low"]))
    integrations:
      - name: sync
        left: left-tasks
        right: right-tasks
        running: true
        comments: both
        attachments:
          \(attachments)
        routes:
          - from: left
            sourceProjects: [demo]
            targetProject: demo
          - from: right
            sourceProjects: [demo]
            targetProject: demo
        conflicts:
          \(conflicts)
        schedule:
          changeDetection:
            interval: 1s
          \(fullScan)

    """
}

/// One collection of `integrationYAML`: statuses open/in-progress/done ↔ New/In Progress/Done, priorities by `priorities`.
func collectionYAML(_ name: String, repository: String, priorities: [String: String]) -> String {
    let priorityMap = priorities.sorted { $0.key < $1.key }.map { "          - repository: \($0.key)\n            model: \($0.value)" }
    return """
          - name: \(name)
            repository: \(repository)
            artifactType: task
            projects: [demo]
            model: Task
            fields:
              - field: title
                modelField: title
              - field: description
                modelField: description
              - field: status
                modelField: status
                valueMap:
                  - repository: open
                    model: New
                  - repository: in-progress
                    model: In Progress
                  - repository: done
                    model: Done
              - field: priority
                modelField: priority
                valueMap:
        \(priorityMap.joined(separator: "\n"))
        """
}

/// Left priority → right priority under `integrationYAML`'s value maps.
let invertedPriorities = ["low": "high", "normal": "normal", "high": "low"]

/// A value behind a lock that escaping closures and tasks can share.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { self.mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { self.mutex.withLock { body(&$0) } }
    var value: Value { self.mutex.withLock { $0 } }
}

/// One real-tracker scenario at a time in this process (issue 13 §6). Redmine answers on one Puma thread, so a
/// scenario's waits would otherwise depend on how busy another keeps it: an attachment test timed out while the
/// 200-issue test was creating its issues. Each scenario also works in a Redmine project of its own and takes only its
/// own Roundup issues (by a tag), so what one writes never enters another's checks.
actor RealTrackerLock {
    static let shared = RealTrackerLock()
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard self.held else {
            self.held = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    func release() {
        if self.waiters.isEmpty { self.held = false } else { self.waiters.removeFirst().resume() }
    }

    /// Runs `body` holding the lock.
    static func exclusive<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await Self.shared.acquire()
        do {
            let result = try await body()
            await Self.shared.release()
            return result
        } catch {
            await Self.shared.release()
            throw error
        }
    }
}
