public import Foundation
import Redis

/// Limits of one repository connection (DESIGN §4; guide L4599–4645).
public struct RepositoryLimits: Sendable, Hashable, Codable {
    /// Which jobs the event-rate limit applies to.
    public enum RateScope: String, Sendable, Hashable, Codable, CaseIterable {
        /// Only low-priority (scan-triggered) events: the default.
        case lowPriority = "low"
        case all
    }

    /// Concurrent jobs at most (leased slots that expire with their holder); nil = no limit.
    public var maxConcurrency: Int?
    /// Events per minute (GCRA, no burst); nil = the queue's default (200), 0 = unlimited.
    public var eventsPerMinute: Int?
    public var rateScope: RateScope

    public init(maxConcurrency: Int? = nil, eventsPerMinute: Int? = nil, rateScope: RateScope = .lowPriority) {
        self.maxConcurrency = maxConcurrency
        self.eventsPerMinute = eventsPerMinute
        self.rateScope = rateScope
    }
}

/// A consumer's entry in the worker registry.
public struct WorkerInfo: Sendable, Hashable, Codable {
    public var id: String
    public var host: String
    public var pid: Int
    public var startedAt: Date
    public var version: String
    public var jobsInHand: Int
    public var lastHeartbeat: Date

    public init(
        id: String, host: String, pid: Int, startedAt: Date, version: String, jobsInHand: Int, lastHeartbeat: Date
    ) {
        self.id = id
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.version = version
        self.jobsInHand = jobsInHand
        self.lastHeartbeat = lastHeartbeat
    }
}

extension JobQueue {
    // MARK: Settings

    /// Stores a repository's limits; they apply from the next dequeue on.
    public func setLimits(_ limits: RepositoryLimits, repository: String) async throws {
        _ = try await self.client.pipeline([
            ["DEL", self.key("rcfg:\(repository)")],
            [
                "HSET", self.key("rcfg:\(repository)"), "conc", limits.maxConcurrency ?? 0,
                "rate", limits.eventsPerMinute ?? self.configuration.defaultEventsPerMinute,
                "scope", limits.rateScope.rawValue,
            ],
            ["SADD", self.key("repos"), repository],
        ])
        _ = try await self.run(QueueScripts.pause, [repository, -1])  // re-examine under the new limits
    }

    /// An integration's maximum concurrency (the Settings page; default 10).
    public func setMaxConcurrency(_ max: Int, integration: String) async throws {
        try await self.client.send("HSET", self.key("icfg:\(integration)"), "max", max)
    }

    /// Pauses a repository until `until` (a `Retry-After` or an overload); nil resumes it now.
    public func pause(repository: String, until: Date?) async throws {
        let millis = until.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.up)) } ?? 0
        _ = try await self.run(QueueScripts.pause, [repository, millis])
    }

    public func resume(repository: String) async throws {
        try await self.pause(repository: repository, until: nil)
    }

    /// When a repository's pause ends, or nil when it is not paused.
    public func pausedUntil(repository: String) async throws -> Date? {
        guard let text = try await self.client.send("GET", self.key("pause:\(repository)")).string, let millis = Double(text) else { return nil }
        let until = Date(timeIntervalSince1970: millis / 1000)
        return until > Date() ? until : nil
    }

    // MARK: Dead jobs and queues

    /// Puts dead jobs back in their queues with a fresh attempt count; no ids: all (1000 per call).
    @discardableResult
    public func retryDead(ids: [String] = []) async throws -> Int {
        try await self.run(QueueScripts.dead, ["retry"] + ids).int ?? 0
    }

    /// Deletes dead jobs; no ids: all (1000 per call).
    @discardableResult
    public func deleteDead(ids: [String] = []) async throws -> Int {
        try await self.run(QueueScripts.dead, ["delete"] + ids).int ?? 0
    }

    /// Removes every pending job of a repository's queue (one class, or both).
    @discardableResult
    public func purge(repository: String, priority: JobPriority? = nil) async throws -> Int {
        var total = 0
        for priority in priority.map({ [$0] }) ?? JobPriority.allCases {
            while true {
                let count = try await self.run(QueueScripts.purge, ["q:\(repository):\(priority.code)"]).int ?? 0
                total += count
                if count == 0 { break }
            }
        }
        return total
    }

    // MARK: Worker registry

    /// Publishes a consumer's registry entry; it expires when heartbeats stop.
    public func heartbeat(_ worker: WorkerInfo) async throws {
        let ttl = Int((self.configuration.renewInterval.seconds * 3).rounded(.up)) + 1
        _ = try await self.client.pipeline([
            [
                "HSET", self.key("worker:\(worker.id)"), "host", worker.host, "pid", worker.pid,
                "started", Self.millis(worker.startedAt), "version", worker.version, "inhand", worker.jobsInHand,
                "heartbeat", Self.millis(worker.lastHeartbeat),
            ],
            ["EXPIRE", self.key("worker:\(worker.id)"), ttl],
            ["ZADD", self.key("workers"), Self.millis(worker.lastHeartbeat), worker.id],
        ])
    }

    public func removeWorker(id: String) async throws {
        _ = try await self.client.pipeline([["DEL", self.key("worker:\(id)")], ["ZREM", self.key("workers"), id]])
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(millis: Double) -> Date { Date(timeIntervalSince1970: millis / 1000) }
}
