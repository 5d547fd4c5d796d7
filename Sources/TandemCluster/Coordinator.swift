import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
import TandemConfig
import TandemCore
public import TandemQueue
public import TandemStore

/// The coordinator: leads through a lease in PostgreSQL (standbys wait and take over when it expires), and while
/// leading schedules `detect` and `scan` jobs for each running integration side, applies repository limits to the
/// queue, and reaps expired leases. Scheduling uses the override chain collection side → integration → (full scans:
/// the repository's `syncFrequency`) → global.
public struct Coordinator: Service, CustomStringConvertible {
    public let runtime: ClusterRuntime
    public let queue: JobQueue
    public let lease: LeaderLease
    public let logger: Logger
    public var tick: Duration = .seconds(1)
    /// Called every loop iteration (a systemd watchdog ping from the work loop itself).
    public var onTick: (@Sendable (_ leading: Bool) -> Void)?
    /// Notices Redis losing its data and rewinds the cursors (RedisEpoch.swift).
    public var epoch = RedisEpochGuard()
    /// How long an operator's retry may wait for its sync before the leader queues it again (its job was lost with
    /// Redis's data) or, when its integration is not running, puts the item back in error saying so.
    public var retryPatience: Duration = .seconds(600)
    /// How often the leader looks for such retries.
    public var retrySweepInterval: Duration = .seconds(60)

    public var description: String { "Coordinator(\(self.lease.holder))" }

    public init(runtime: ClusterRuntime, queue: JobQueue, lease: LeaderLease, logger: Logger) {
        self.runtime = runtime
        self.queue = queue
        self.lease = lease
        self.logger = logger
    }

    /// When each integration side last had its jobs scheduled (in this leader's term).
    final class Timetable: Sendable {
        let last = Mutex<[String: Date]>([:])
        func due(_ key: String, schedule: ScheduleConfig, now: Date) -> Bool {
            let previous = self.last.withLock { $0[key] }
            guard let previous else { return true }
            switch schedule {
            case .interval(let d): return now.timeIntervalSince(previous) >= Double(d.seconds)
            case .cron(let text):
                guard let cron = try? CronExpression(text), let next = cron.nextFire(after: previous, in: .current) else { return false }
                return next <= now
            }
        }
        func mark(_ key: String, _ now: Date) { self.last.withLock { $0[key] = now } }
        func reset() { self.last.withLock { $0.removeAll() } }
    }

    public func run() async throws {
        let timetable = Timetable()
        var leading = false
        var lastReap = ContinuousClock.now - .seconds(60)
        var lastSweep = ContinuousClock.now - self.retrySweepInterval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let token = try await self.lease.acquireOrRenew()
                if token != nil, !leading {
                    self.logger.notice("Leading the cluster", metadata: ["tandem.leader.token": "\(token!)"])
                    timetable.reset()
                } else if token == nil, leading {
                    self.logger.warning("Lost leadership")
                }
                leading = token != nil
                if leading {
                    try await self.epoch.check(queue: self.queue, client: self.runtime.client, logger: self.logger)
                    try await self.schedule(timetable)
                    if lastReap.duration(to: .now) >= .seconds(5) {
                        let rescued = try await self.queue.reap()
                        if rescued > 0 { self.logger.info("Returned expired jobs to their queues", metadata: ["tandem.jobs": "\(rescued)"]) }
                        lastReap = .now
                    }
                    if lastSweep.duration(to: .now) >= self.retrySweepInterval {
                        lastSweep = .now
                        _ = try await self.sweepRetries()
                    }
                }
            } catch {
                self.logger.warning("Coordinator iteration failed", metadata: ["tandem.error": "\(error)"])
            }
            self.onTick?(leading)
            try? await Task.sleep(for: self.tick)
        }
        if leading { try? await self.lease.release() }
    }

    /// One scheduling pass: limits, then due detect and scan jobs (a pending identical job is not added twice).
    func schedule(_ timetable: Timetable) async throws {
        let snapshot = try await self.runtime.snapshot()
        let settings = snapshot.configuration.settings
        for repository in snapshot.configuration.repositories {
            let limit = repository.effectiveEventRateLimit(settings)
            try await self.queue.setLimits(
                RepositoryLimits(
                    maxConcurrency: repository.effectiveConcurrencyLimit, eventsPerMinute: limit.eventsPerMinute,
                    rateScope: limit.scope == .all ? .all : .lowPriority),
                repository: repository.name)
        }
        let now = Date()
        var jobs: [Job] = []
        for integration in snapshot.configuration.integrations where integration.running {
            guard snapshot.synchronizers[integration.name] != nil else { continue }
            try await self.queue.setMaxConcurrency(
                integration.maxConcurrency ?? settings.maxConcurrencyPerIntegration, integration: integration.name)
            for side in Side.allCases {
                guard let collection = snapshot.collection(of: integration, side), let repository = snapshot.repository(collection.repository),
                    repository.enabled
                else { continue }
                let sideSchedule = side == .left ? integration.leftSchedule : integration.rightSchedule
                let detect = sideSchedule.changeDetection ?? integration.schedule.changeDetection ?? .interval(settings.changeDetectionInterval)
                // The repository's own frequency (the v2 connections API's) comes between the integration's and the global settings.
                let frequency = repository.syncFrequency
                let scan =
                    sideSchedule.fullScan ?? integration.schedule.fullScan ?? frequency?.interval.map(ScheduleConfig.interval)
                    ?? .interval(settings.fullScanInterval)
                let scanEnabled =
                    sideSchedule.fullScanEnabled ?? integration.schedule.fullScanEnabled ?? frequency.map { $0 != .manually }
                    ?? settings.fullScanEnabled
                let key = "\(integration.name):\(side.rawValue)"
                if timetable.due("detect:" + key, schedule: detect, now: now) {
                    jobs.append(
                        Job(
                            kind: .detect, repository: repository.name, integration: integration.name, payload: JobPayload(side: side).json,
                            uniqueKey: "detect:" + key))
                    timetable.mark("detect:" + key, now)
                }
                if scanEnabled {
                    // The first scan waits a whole interval: detection from the cursor covers start-up.
                    if timetable.last.withLock({ $0["scan:" + key] }) == nil { timetable.mark("scan:" + key, now) }
                    if timetable.due("scan:" + key, schedule: scan, now: now) {
                        jobs.append(
                            Job(
                                kind: .scan, repository: repository.name, integration: integration.name, priority: .low,
                                payload: JobPayload(side: side).json, uniqueKey: "scan:" + key))
                        timetable.mark("scan:" + key, now)
                    }
                }
            }
        }
        if !jobs.isEmpty { _ = try await self.queue.enqueue(jobs) }
        try await self.carryOutRequests(snapshot)
        try await self.retestRepositories(snapshot)
    }

    /// Repositories whose blockers were retried or whose credentials changed: the pause ends now and their change
    /// detection runs at once, which tries the connection again (its answer resolves the blocker, a new rejection
    /// opens it again and pauses the repository anew).
    func retestRepositories(_ snapshot: ClusterRuntime.Snapshot) async throws {
        let repositories = try await ActivityStore(client: self.runtime.client).takeRetests()
        guard !repositories.isEmpty else { return }
        var jobs: [Job] = []
        for name in repositories {
            try await self.queue.resume(repository: name)
            for integration in snapshot.configuration.integrations where integration.running {
                for side in Side.allCases where snapshot.collection(of: integration, side)?.repository == name {
                    let key = "\(integration.name):\(side.rawValue)"
                    jobs.append(
                        Job(
                            kind: .detect, repository: name, integration: integration.name, priority: .high, payload: JobPayload(side: side).json,
                            uniqueKey: "detect:" + key))
                }
            }
        }
        if !jobs.isEmpty { _ = try await self.queue.enqueue(jobs) }
        self.logger.notice("Resumed repositories to try their connections again", metadata: ["tandem.repositories": "\(repositories)"])
    }

    /// What one retry sweep did.
    public struct RetrySweep: Sendable, Equatable {
        /// Items whose sync was queued again.
        public var requeued: [Int64] = []
        /// Items put back in error: their integration is not running, or their sync cannot be queued.
        public var reopened: [Int64] = []

        public init(requeued: [Int64] = [], reopened: [Int64] = []) {
            self.requeued = requeued
            self.reopened = reopened
        }
    }

    /// Finds operators' retries that have waited longer than `retryPatience` and queues their syncs again (a sync
    /// still pending absorbs the copy under the artifact's key), or reopens them when their integration is not running.
    public func sweepRetries() async throws -> RetrySweep {
        let store = ActivityStore(client: self.runtime.client)
        let stale = try await store.staleRetries(olderThan: self.retryPatience)
        guard !stale.isEmpty else { return RetrySweep() }
        let snapshot = try await self.runtime.snapshot()
        var sweep = RetrySweep()
        var jobs: [Job] = []
        var stopped: [Int64] = []
        var unknown: [Int64] = []
        for target in stale {
            guard let integration = snapshot.integration(target.integration), integration.running else {
                stopped.append(target.activityID)
                continue
            }
            guard let job = OperatorActions.syncJob(for: target, asOf: nil) else {
                unknown.append(target.activityID)
                continue
            }
            jobs.append(job)
            sweep.requeued.append(target.activityID)
        }
        if !jobs.isEmpty { _ = try await self.queue.enqueue(jobs) }
        try await store.requeueFailed(stopped, reason: "its integration is not running; retry it once it runs")
        try await store.requeueFailed(unknown, reason: "its repository is unknown")
        sweep.reopened = (stopped + unknown).sorted()
        self.logger.notice(
            "Swept retries that waited too long",
            metadata: ["tandem.requeued": "\(sweep.requeued.count)", "tandem.reopened": "\(sweep.reopened.count)"])
        return sweep
    }

    /// Queues the jobs of operators' requests ("Process All Artifacts", "Initiate Synchronization") for running
    /// integrations; a request on a stopped integration waits until it runs.
    func carryOutRequests(_ snapshot: ClusterRuntime.Snapshot) async throws {
        let control = IntegrationControl(client: self.runtime.client)
        for request in try await control.requests() {
            guard let integration = snapshot.integration(request.integration), integration.running,
                snapshot.synchronizers[integration.name] != nil
            else { continue }
            // Process All runs from the left only: each of its syncs goes left → right and then right → left.
            let sides = request.kind == .processAll ? [.left] : request.side.flatMap(Side.init(rawValue:)).map { [$0] } ?? Side.allCases
            var jobs: [Job] = []
            for side in sides {
                guard let collection = snapshot.collection(of: integration, side), let repository = snapshot.repository(collection.repository)
                else { continue }
                let payload: JobPayload
                switch request.kind {
                case .processAll: payload = JobPayload(side: side, reprocess: true)
                case .initiateSynchronization:
                    payload = JobPayload(side: side, fullRead: true, projects: request.projects.isEmpty ? nil : request.projects)
                }
                jobs.append(
                    Job(
                        kind: .scan, repository: repository.name, integration: integration.name, priority: .high, payload: payload.json,
                        uniqueKey: "request:\(request.id):\(side.rawValue)"))
            }
            if !jobs.isEmpty { _ = try await self.queue.enqueue(jobs) }
            try await control.markScheduled(request.id)
            self.logger.notice(
                "Carried out an operator request",
                metadata: [
                    "tandem.request": "\(request.kind.rawValue)", "tandem.integration": "\(integration.name)",
                    "tandem.requested_by": "\(request.requestedBy)",
                ])
        }
    }
}

/// A worker process's service: consumes jobs with the sync engine's handlers; on graceful shutdown stops taking
/// jobs and finishes those in hand within the drain deadline (shorter than supervisors' default 10 s).
public struct Worker: Service, CustomStringConvertible {
    public let consumer: QueueConsumer
    public var drainTimeout: Duration

    public var description: String { "Worker(\(self.consumer.configuration.workerID))" }

    public init(consumer: QueueConsumer, drainTimeout: Duration = .seconds(8)) {
        self.consumer = consumer
        self.drainTimeout = drainTimeout
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.consumer.run()
        } onGracefulShutdown: {
            self.consumer.drain(timeout: self.drainTimeout)
        }
    }
}
