import ArgumentParser
import Foundation
import HTTP
import Logging
import Postgres
import Redis
import ServiceLifecycle
import TandemCluster
import TandemConfig
import TandemCore
import TandemMetrics
import TandemQueue
import TandemServer
import TandemStore
import TandemSupport
import UnixSignals

/// What the long-running processes share: database, master key, Redis.
struct ClusterOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var key: KeyOptions
    @Option(help: "Redis URL (default: $TANDEM_REDIS_URL or redis://127.0.0.1:6390).") var redisURL: String?
    @Option(help: "Key prefix of the installation in Redis.") var prefix = "tandem:"

    func redisConfiguration() throws -> RedisConfiguration {
        try RedisConfiguration(url: self.redisURL ?? ProcessInfo.processInfo.environment["TANDEM_REDIS_URL"] ?? "redis://127.0.0.1:6390")
    }

    /// Connects everything (migrating the database under its advisory lock), runs `body`, and closes it all.
    /// `worker`: the id of a worker process, whose presence then also holds a lock on that id (ClusterPresence).
    func withCluster(
        _ label: String, worker: String? = nil, _ body: (ClusterRuntime, JobQueue, RedisClient, Logger) async throws -> Void
    ) async throws {
        let logger = Logger(label: label)
        let masterKey = try self.key.resolved()
        let client = PostgresClient(configuration: .init(connectionString: try self.database.resolvedURL(), maximumConnections: 8), logger: logger)
        let redis: RedisClient
        do {
            try await Migrator.bundled().migrate(client, logger: logger)
            redis = try await RedisClient.connect(configuration: try self.redisConfiguration(), lanes: 2, logger: logger)
        } catch {
            await client.shutdown()
            throw error
        }
        // Started by the processes that take create claims (workers): see ClusterPresence.
        let presence = ClusterPresence(configuration: client.configuration, logger: logger, worker: worker)
        let runtime = ClusterRuntime(client: client, box: SecretBox(key: masterKey), logger: logger, presence: presence)
        let queue = JobQueue(client: redis, configuration: .init(prefix: self.prefix))
        do {
            try await body(runtime, queue, redis, logger)
        } catch {
            await self.close(runtime, redis, client)
            throw error
        }
        await self.close(runtime, redis, client)
    }

    func close(_ runtime: ClusterRuntime, _ redis: RedisClient, _ client: PostgresClient) async {
        await runtime.shutdown()
        await redis.close()
        await client.shutdown()
    }
}

func defaultProcessID() -> String {
    "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
}

struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Lead the cluster: schedule change detection and full scans, reap expired leases (standbys wait).")

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "This coordinator's id (default: host-pid).") var id: String?
    @Option(help: "Leader lease in seconds.") var leaseSeconds = 15

    func run() async throws {
        try await clearly {
            try await self.cluster.withCluster("tandem.coordinator") { runtime, queue, _, logger in
                let lease = LeaderLease(client: runtime.client, holder: self.id ?? defaultProcessID(), ttlSeconds: self.leaseSeconds)
                var coordinator = Coordinator(runtime: runtime, queue: queue, lease: lease, logger: logger)
                let notifier = SystemdNotifier()
                // The watchdog is pinged from the scheduling loop itself: a hung loop gets the process restarted.
                coordinator.onTick = { leading in
                    _ = notifier.watchdog()
                    _ = notifier.status(leading ? "leading" : "standby")
                }
                _ = notifier.ready(status: "standby")
                let group = ServiceGroup(
                    configuration: .init(
                        services: [LoggingSettingsWatcher(postgres: runtime.client, logger: logger), coordinator],
                        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
                _ = notifier.stopping()
            }
        }
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run jobs: change detection, full scans and syncs, under each repository's limits.")

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "This worker's id (default: host-pid).") var id: String?
    @Option(help: "Jobs run at once.") var concurrency = 8
    @Option(help: "Seconds to finish jobs in hand on SIGTERM before giving the rest back.") var drainTimeout = 8

    func run() async throws {
        let id = self.id ?? defaultProcessID()
        try await clearly {
            try await self.cluster.withCluster("tandem.worker", worker: id) { runtime, queue, redis, logger in
                try await Self.reapPredecessor(id, runtime: runtime, queue: queue, logger: logger)
                let recorder = MetricsRecorder(redis: redis, prefix: self.cluster.prefix, logger: logger)
                var engine = SyncEngine(runtime: runtime, queue: queue, logger: logger)
                engine.onSynced = { integration, created, updated, lag in
                    recorder.itemsSynced(integration: integration, created: created, updated: updated)
                    if let lag, lag >= 0 { recorder.syncLag(seconds: lag) }
                }
                let handlers = engine.handlers.mapValues { Self.measured($0, recorder) }
                let waiter = try await RedisClient.connect(configuration: try self.cluster.redisConfiguration(), lanes: 1, logger: logger)
                let consumer = QueueConsumer(
                    queue: queue, waitClient: waiter,
                    configuration: .init(workerID: id, concurrency: self.concurrency),
                    handlers: handlers, logger: logger)
                let worker = Worker(consumer: consumer, drainTimeout: .seconds(self.drainTimeout))
                let notifier = SystemdNotifier()
                let housekeeping = WorkerHousekeeping(consumer: consumer, runtime: runtime, recorder: recorder, notifier: notifier)
                _ = notifier.ready()
                // Shutdown runs in reverse order: the worker drains first, then the recorder flushes the last counts.
                // The presence lock comes first, so it is let go last: after the jobs in hand have finished.
                let presence: [ServiceGroupConfiguration.ServiceConfiguration] = runtime.presence.map { [.init(service: $0)] } ?? []
                let group = ServiceGroup(
                    configuration: .init(
                        services: presence + [
                            .init(service: LoggingSettingsWatcher(postgres: runtime.client, logger: logger)), .init(service: recorder),
                            .init(service: housekeeping), .init(service: worker),
                        ],
                        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
                _ = notifier.stopping()
                await waiter.close()
            }
        }
    }

    /// Before the first job: once no other live process runs as worker `id`, the jobs still leased under that id are a
    /// killed predecessor's (a supervisor restarts a worker under the same id): they go back to their queues now rather
    /// than when their leases expire, and free the repository and integration slots they fill.
    static func reapPredecessor(_ id: String, runtime: ClusterRuntime, queue: JobQueue, logger: Logger) async throws {
        guard let presence = runtime.presence else { return }
        guard (try? await presence.takeIdentity()) == true else {
            logger.warning(
                "Another live process may run as this worker (its id is not unique): jobs leased under the id are left to expire",
                metadata: ["tandem.worker.id": "\(id)"])
            return
        }
        do {
            let returned = try await queue.reapOrphans(of: id)
            if returned > 0 {
                logger.notice(
                    "Returned the jobs a previous process of this worker left in hand to their queues",
                    metadata: ["tandem.worker.id": "\(id)", "tandem.jobs": "\(returned)"])
            }
        } catch {
            logger.info("Could not return a previous process's jobs; their leases will expire", metadata: ["tandem.error": "\(error)"])
        }
    }

    /// A handler that records its job's kind, outcome and duration in the cluster-wide metrics.
    static func measured(_ handler: @escaping QueueConsumer.Handler, _ recorder: MetricsRecorder) -> QueueConsumer.Handler {
        { delivery in
            let started = ContinuousClock.now
            let kind = delivery.job.kind.rawValue
            func seconds() -> Double {
                let elapsed = started.duration(to: .now).components
                return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            }
            do {
                try await handler(delivery)
                recorder.jobFinished(kind: kind, outcome: "ok", seconds: seconds())
            } catch let outcome as JobOutcome {
                recorder.jobFinished(kind: kind, outcome: "deferred", seconds: seconds())
                throw outcome
            } catch {
                recorder.jobFinished(kind: kind, outcome: "failed", seconds: seconds())
                throw error
            }
        }
    }
}

/// Every few seconds: the systemd watchdog ping — only while the consumer's dequeue loop is turning (or its jobs are
/// ending), so a hung work loop gets the process restarted — the status line, and the API calls made since the last
/// round, per repository, into the cluster-wide metrics.
struct WorkerHousekeeping: Service, CustomStringConvertible {
    let consumer: QueueConsumer
    let runtime: ClusterRuntime
    let recorder: MetricsRecorder
    let notifier: SystemdNotifier
    var description: String { "WorkerHousekeeping" }

    func run() async throws {
        var reported: [String: Int] = [:]
        let interval = min(self.notifier.watchdogInterval ?? .seconds(5), .seconds(5))
        let stalledAfter = self.notifier.watchdogTimeout ?? .seconds(30)
        var warned = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let since = self.consumer.sinceLastTurn
            if since < stalledAfter {
                _ = self.notifier.watchdog()
                warned = false
            } else if !warned {
                self.runtime.logger.error(
                    "The work loop has not turned for \(since.components.seconds) s; withholding the watchdog ping so the supervisor restarts this worker",
                    metadata: ["tandem.jobs_in_hand": "\(self.consumer.jobsInHand)"])
                warned = true
            }
            _ = self.notifier.status("\(self.consumer.jobsInHand) jobs in hand")
            for (repository, count) in self.runtime.http.apiCalls.snapshot() where count > reported[repository, default: 0] {
                self.recorder.apiCalls(repository: repository, count: count - reported[repository, default: 0])
                reported[repository] = count
            }
            try? await Task.sleep(for: interval)
        }
    }
}

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Explain why an artifact is or is not synced: its pair, last detection, last sync, errors, limiter state.")

    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "The repository's name.") var repository: String
    @Argument(help: "The artifact's id in that repository.") var artifact: String

    func run() async throws {
        try await clearly {
            try await self.cluster.withCluster("tandem.trace") { runtime, queue, _, _ in
                let snapshot = try await runtime.snapshot(force: true)
                let sides: [(IntegrationConfig, Side)] = snapshot.configuration.integrations.flatMap { integration in
                    Side.allCases.compactMap { side in
                        snapshot.collection(of: integration, side)?.repository == self.repository ? (integration, side) : nil
                    }
                }
                if sides.isEmpty { print("repository \(self.repository) is in no integration") }
                for (integration, side) in sides {
                    guard let id = snapshot.integrationIDs[integration.name] else { continue }
                    print("integration \(integration.name) (\(side.rawValue) side), \(integration.running ? "running" : "stopped")")
                    if let reason = snapshot.broken[integration.name] { print("  rules: BROKEN — \(reason)") }
                    let other = side == .left ? "right" : "left"
                    let store = PairQuery(client: runtime.client)
                    if let p = try await store.pair(integrationID: id, side: side, artifact: self.artifact) {
                        print(
                            "  pair #\(p.id): left \(p.left.id) ↔ right \(p.right.id), status \(p.status.rawValue) \(p.statusReason ?? ""), last synced \(p.lastSyncedAt.formatted(.iso8601))"
                        )
                    } else {
                        print("  no pair: no twin in the \(other) repository yet")
                    }
                    if let t = try await store.trace(integrationID: id, side: side, artifact: self.artifact) {
                        print("  last detected: \(t.detectedAt?.formatted(.iso8601) ?? "never") (version \(t.detectedVersion ?? ""))")
                        print("  last sync: \(t.lastSyncAt?.formatted(.iso8601) ?? "never") → \(t.lastOutcome?.rawValue ?? "")")
                        if let reasons = t.lastReasons, !reasons.isEmpty { print("  why: \(reasons)") }
                        if let error = t.lastError, !error.isEmpty { print("  last error: \(error)") }
                    } else {
                        print("  never seen by change detection")
                    }
                    for e in try await store.openProblems(integrationID: id, artifact: self.artifact) {
                        print("  open \(e.kind.rawValue) [\(e.code ?? "")] ×\(e.occurrences): \(e.message)")
                    }
                    for status in try await queue.queues() where status.repository == self.repository {
                        let next = status.nextAdmission.map { "next admission \($0)" } ?? "admitting now"
                        let paused = status.pausedUntil.map { ", paused until \($0)" } ?? ""
                        print(
                            "  queue: \(status.high.pending) high + \(status.low.pending) low pending, \(status.inFlight) in flight, \(status.delayed) delayed (retries), \(status.dead) dead; limiter \(status.eventsPerMinute)/min, \(next)\(paused)"
                        )
                    }
                }
            }
        }
    }
}
