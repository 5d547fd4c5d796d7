public import Foundation
import Redis

/// One repository's queues as the inspector sees them (both priority classes).
public struct RepositoryQueueStatus: Sendable, Hashable, Codable {
    public struct ClassStatus: Sendable, Hashable, Codable {
        public var pending: Int
        /// Age of the oldest pending job (the queue's latency), in seconds.
        public var latencySeconds: Double?
    }

    public var repository: String
    public var high: ClassStatus
    public var low: ClassStatus
    public var inFlight: Int
    public var delayed: Int
    public var dead: Int
    /// Leased concurrency slots in use, and the limit (nil: none).
    public var slotsUsed: Int
    public var slotLimit: Int?
    public var eventsPerMinute: Int
    public var rateScope: RepositoryLimits.RateScope
    /// When the event-rate limiter admits the next event (nil: now).
    public var nextAdmission: Date?
    public var pausedUntil: Date?
}

public enum JobState: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, inflight, delayed, dead
}

/// One job as the inspector sees it.
public struct JobStatus: Sendable, Hashable, Codable {
    public var id: String
    public var state: JobState
    /// Nil when the stored record cannot be read.
    public var job: Job?
    /// In flight: the worker holding it and when its lease ends.
    public var worker: String?
    public var leaseExpiresAt: Date?
    /// Delayed: when it is due. Dead: when it died.
    public var at: Date?
    /// The last error (dead jobs, and retries waiting in the delayed set).
    public var error: String?
}

extension JobQueue {
    /// Counters since the queue was created: enqueued, coalesced, acked, retried, dead, rescued,
    /// returned, purged.
    public func counters() async throws -> [String: Int] {
        let values = try await self.client.send("HGETALL", self.key("stats")).array ?? []
        var counters: [String: Int] = [:]
        for index in stride(from: 0, to: values.count - 1, by: 2) {
            if let name = values[index].string { counters[name] = values[index + 1].int ?? 0 }
        }
        return counters
    }

    /// Per repository: depth and latency per class, in flight, delayed, dead, slots, limiter, pause.
    public func queues() async throws -> [RepositoryQueueStatus] {
        let head = try await self.client.pipeline([["TIME"], ["SMEMBERS", self.key("repos")]])
        let now = Self.serverMillis(head[0])
        let repositories = (head[1].array ?? []).compactMap(\.string).sorted()
        var inFlight: [String: Int] = [:]
        var delayed: [String: Int] = [:]
        var dead: [String: Int] = [:]
        for state in [JobState.inflight, .delayed, .dead] {
            for status in try await self.jobs(state: state, limit: 10_000) {
                guard let repository = status.job?.repository else { continue }
                switch state {
                case .inflight: inFlight[repository, default: 0] += 1
                case .delayed: delayed[repository, default: 0] += 1
                default: dead[repository, default: 0] += 1
                }
            }
        }
        var commands: [[any RedisArgument]] = []
        for repository in repositories {
            commands += [
                ["LLEN", self.key("q:\(repository):h")], ["LLEN", self.key("q:\(repository):l")],
                ["LINDEX", self.key("q:\(repository):h"), -1], ["LINDEX", self.key("q:\(repository):l"), -1],
                ["HMGET", self.key("rcfg:\(repository)"), "conc", "rate", "scope"],
                ["GET", self.key("pause:\(repository)")], ["GET", self.key("gcra:\(repository)")],
                ["ZCOUNT", self.key("rslots:\(repository)"), now, "+inf"],
            ]
        }
        let replies = try await self.client.pipeline(commands)
        func latency(_ reply: RedisValue) -> Double? {
            guard let record = reply.string, let job = try? Job(record: record) else { return nil }
            return max(0, now / 1000 - job.enqueuedAt.timeIntervalSince1970)
        }
        return repositories.enumerated().map { index, repository in
            let r = Array(replies[(index * 8)..<(index * 8 + 8)])
            let config = r[4].array ?? []
            let limit = config.first?.int ?? 0
            let rate = config.count > 1 ? config[1].int : nil
            let pause = r[5].double.flatMap { $0 > now ? Self.date(millis: $0) : nil }
            let tat = r[6].double.flatMap { $0 > now ? Self.date(millis: $0) : nil }
            return RepositoryQueueStatus(
                repository: repository,
                high: .init(pending: r[0].int ?? 0, latencySeconds: latency(r[2])),
                low: .init(pending: r[1].int ?? 0, latencySeconds: latency(r[3])),
                inFlight: inFlight[repository] ?? 0, delayed: delayed[repository] ?? 0, dead: dead[repository] ?? 0,
                slotsUsed: r[7].int ?? 0, slotLimit: limit > 0 ? limit : nil,
                eventsPerMinute: rate ?? self.configuration.defaultEventsPerMinute,
                rateScope: (config.count > 2 ? config[2].string : nil).flatMap(RepositoryLimits.RateScope.init)
                    ?? .lowPriority,
                nextAdmission: tat, pausedUntil: pause)
        }
    }

    /// Jobs in one state, oldest first (pending: per repository, head first).
    public func jobs(state: JobState, repository: String? = nil, limit: Int = 100) async throws -> [JobStatus] {
        // (id, record, score, worker) in order.
        var entries: [(id: String, record: String?, score: Double?, worker: String?)] = []
        switch state {
        case .pending:
            let repositories: [String]
            if let repository {
                repositories = [repository]
            } else {
                repositories = (try await self.client.send("SMEMBERS", self.key("repos")).array ?? [])
                    .compactMap(\.string).sorted()
            }
            for repository in repositories where entries.count < limit {
                for priority in JobPriority.allCases where entries.count < limit {
                    let queue = self.key("q:\(repository):\(priority.code)")
                    let slice = try await self.client.send("LRANGE", queue, -(limit - entries.count), -1).array ?? []
                    for record in slice.compactMap(\.string).reversed() {
                        entries.append((Self.id(ofRecord: record), record, nil, nil))
                    }
                }
            }
        case .inflight, .delayed, .dead:
            let key = self.key(state == .inflight ? "inflight" : state.rawValue)
            let reply = try await self.client.send("ZRANGE", key, 0, repository == nil ? limit - 1 : -1, "WITHSCORES")
            let values = reply.array ?? []
            for index in stride(from: 0, to: values.count - 1, by: 2) {
                guard let member = values[index].string else { continue }
                let score = values[index + 1].double
                switch state {
                case .inflight:
                    let parts = member.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
                    let record = parts.count == 2 ? String(parts[1]) : member
                    entries.append((Self.id(ofRecord: record), record, score, String(parts[0])))
                case .delayed:
                    entries.append((Self.id(ofRecord: member), member, score, nil))
                default:
                    entries.append((member, nil, score, nil))
                }
            }
        }
        var errors: [String: String] = [:]
        var deadRecords: [String: String] = [:]
        let ids = entries.map(\.id)
        if !ids.isEmpty && state != .pending {
            var commands: [[any RedisArgument]] = [["HMGET", self.key("err")] + ids]
            if state == .dead { commands.append(["HMGET", self.key("deadrec")] + ids) }
            let replies = try await self.client.pipeline(commands)
            for (index, id) in ids.enumerated() {
                errors[id] = replies[0].array?[index].string
                if state == .dead { deadRecords[id] = replies[1].array?[index].string }
            }
        }
        var statuses: [JobStatus] = []
        for entry in entries {
            let job = (entry.record ?? deadRecords[entry.id]).flatMap { try? Job(record: $0) }
            if let repository, job?.repository != repository { continue }
            let at = entry.score.map { Self.date(millis: $0) }
            statuses.append(
                JobStatus(
                    id: entry.id, state: state, job: job, worker: entry.worker,
                    leaseExpiresAt: state == .inflight ? at : nil, at: state == .inflight ? nil : at,
                    error: errors[entry.id]))
            if statuses.count == limit { break }
        }
        return statuses
    }

    static func id(ofRecord record: String) -> String {
        String(record.prefix { $0 != "\t" })
    }

    /// The registered consumers, newest heartbeat first; entries whose heartbeat expired are pruned.
    public func workers() async throws -> [WorkerInfo] {
        let ids = (try await self.client.send("ZRANGE", self.key("workers"), 0, -1).array ?? []).compactMap(\.string)
        if ids.isEmpty { return [] }
        let replies = try await self.client.pipeline(ids.map { ["HGETALL", self.key("worker:\($0)")] })
        var workers: [WorkerInfo] = []
        var expired: [String] = []
        for (id, reply) in zip(ids, replies) {
            let values = reply.array ?? []
            var fields: [String: String] = [:]
            for index in stride(from: 0, to: values.count - 1, by: 2) {
                if let name = values[index].string { fields[name] = values[index + 1].string }
            }
            guard let heartbeat = fields["heartbeat"].flatMap(Double.init) else {
                expired.append(id)
                continue
            }
            workers.append(
                WorkerInfo(
                    id: id, host: fields["host"] ?? "", pid: fields["pid"].flatMap { Int($0) } ?? 0,
                    startedAt: Self.date(millis: fields["started"].flatMap(Double.init) ?? 0),
                    version: fields["version"] ?? "", jobsInHand: fields["inhand"].flatMap { Int($0) } ?? 0,
                    lastHeartbeat: Self.date(millis: heartbeat)))
        }
        if !expired.isEmpty { try await self.client.send(["ZREM", self.key("workers")] + expired) }
        return workers.sorted { $0.lastHeartbeat > $1.lastHeartbeat }
    }

    static func serverMillis(_ time: RedisValue) -> Double {
        let parts = time.array ?? []
        guard parts.count == 2, let seconds = parts[0].double, let micros = parts[1].double else {
            return Date().timeIntervalSince1970 * 1000
        }
        return seconds * 1000 + micros / 1000
    }
}
