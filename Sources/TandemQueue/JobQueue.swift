public import Foundation
public import Redis

/// The Redis job queue shared by the coordinator, the workers and the inspector (DESIGN §4).
/// Admission (concurrency slots, integration maximum, GCRA event rate, pause) happens atomically in
/// the dequeue script; delivery is at-least-once under leases.
public final class JobQueue: Sendable {
    public struct Configuration: Sendable {
        /// Prefix of every key, so several installations can share one Redis.
        public var prefix: String
        /// How long a dequeued job stays leased without renewal (default 30 s).
        public var leaseDuration: Duration
        /// How often a consumer renews its leases and heartbeat (default 5 s).
        public var renewInterval: Duration
        /// Events per minute per repository when not configured (default 200; 0 = unlimited).
        public var defaultEventsPerMinute: Int
        /// Concurrent jobs per integration when not configured (default 10).
        public var defaultIntegrationMaxConcurrency: Int
        /// Retry backoff: full jitter over `min(backoffCap, backoffBase × 2^attempt)`.
        public var backoffBase: Duration
        public var backoffCap: Duration
        /// The dead set keeps at most this many jobs (the oldest go first).
        public var deadLimit: Int

        public init(
            prefix: String = "tandem:",
            leaseDuration: Duration = .seconds(30),
            renewInterval: Duration = .seconds(5),
            defaultEventsPerMinute: Int = 200,
            defaultIntegrationMaxConcurrency: Int = 10,
            backoffBase: Duration = .seconds(1),
            backoffCap: Duration = .seconds(3600),
            deadLimit: Int = 100_000
        ) {
            self.prefix = prefix
            self.leaseDuration = leaseDuration
            self.renewInterval = renewInterval
            self.defaultEventsPerMinute = defaultEventsPerMinute
            self.defaultIntegrationMaxConcurrency = defaultIntegrationMaxConcurrency
            self.backoffBase = backoffBase
            self.backoffCap = backoffCap
            self.deadLimit = deadLimit
        }
    }

    public let client: RedisClient
    public let configuration: Configuration

    public init(client: RedisClient, configuration: Configuration = Configuration()) {
        self.client = client
        self.configuration = configuration
    }

    var prefix: String { self.configuration.prefix }

    func key(_ suffix: String) -> String { self.configuration.prefix + suffix }

    func run(_ script: RedisScript, _ arguments: [any RedisArgument]) async throws -> RedisValue {
        try await self.client.eval(script, arguments: [self.prefix, self.configuration.deadLimit] + arguments)
    }

    // MARK: Producing

    public enum EnqueueOutcome: Sendable, Hashable {
        case enqueued(id: String)
        /// An identical pending job (same unique key) was already there.
        case coalesced(into: String)
    }

    /// Adds jobs in one round trip; with `delay`, they become due later (the delayed set).
    @discardableResult
    public func enqueue(_ jobs: [Job], delay: Duration = .zero) async throws -> [EnqueueOutcome] {
        if jobs.isEmpty { return [] }
        var arguments: [any RedisArgument] = []
        arguments.reserveCapacity(jobs.count * 6)
        let delayMillis = max(0, Int(delay.milliseconds))
        for job in jobs {
            arguments += [
                job.id, job.repository, job.priority.code, try job.record(), job.uniqueKey ?? "", delayMillis,
            ]
        }
        guard let ids = try await self.run(QueueScripts.enqueue, arguments).array, ids.count == jobs.count else {
            throw QueueError(.unexpectedReply, "enqueue")
        }
        return zip(jobs, ids).map { job, id in
            let held = id.string ?? job.id
            return held == job.id ? .enqueued(id: held) : .coalesced(into: held)
        }
    }

    @discardableResult
    public func enqueue(_ job: Job, delay: Duration = .zero) async throws -> EnqueueOutcome {
        try await self.enqueue([job], delay: delay)[0]
    }

    // MARK: Consuming

    public struct DequeueResult: Sendable {
        public var deliveries: [Delivery]
        /// Acks that took effect (others had lost their lease).
        public var acked: Int
        /// Records that could not be read and went to the dead set.
        public var buried: Int
        /// When nothing was admissible: how long until a blocked repository or a delayed job is due
        /// (nil: nothing is waiting on time).
        public var retryAfter: Duration?
        public var serverTime: Date
    }

    /// Acks `acking` (leases `worker` holds), then hands out up to `max` admissible jobs under a
    /// lease held by `worker`: one round trip.
    public func dequeue(worker: String, max: Int, acking: [Delivery] = []) async throws -> DequeueResult {
        precondition(acking.allSatisfy { $0.worker == worker }, "acks of another worker's leases")
        let arguments: [any RedisArgument] =
            [
                worker, max, Int(self.configuration.leaseDuration.milliseconds),
                self.configuration.defaultEventsPerMinute, self.configuration.defaultIntegrationMaxConcurrency,
            ] + Self.leaseArguments(acking)
        guard let reply = try await self.run(QueueScripts.dequeue, arguments).array, reply.count >= 3,
            let now = reply[0].double, let acked = reply[1].int, let hint = reply[2].int
        else { throw QueueError(.unexpectedReply, "dequeue") }
        let serverTime = Date(timeIntervalSince1970: now / 1000)
        let leaseEnd = serverTime.addingTimeInterval(self.configuration.leaseDuration.seconds)
        var result = DequeueResult(
            deliveries: [], acked: acked, buried: 0, retryAfter: hint >= 0 ? .milliseconds(hint) : nil,
            serverTime: serverTime)
        result.deliveries.reserveCapacity(reply.count - 3)
        for value in reply.dropFirst(3) {
            guard let record = value.string else { continue }
            do {
                let job = try Job(record: record)
                try job.checkPayload()
                result.deliveries.append(
                    Delivery(
                        job: job, admittedAt: serverTime, leaseExpiresAt: leaseEnd, worker: worker, record: record))
            } catch {
                result.buried += 1
                try await self.bury(record: record, error: error.message, worker: worker)
            }
        }
        return result
    }

    /// Acknowledges finished jobs: their records go away. Returns how many were still held.
    @discardableResult
    public func ack(_ deliveries: [Delivery]) async throws -> Int {
        var acked = 0
        for (worker, held) in Dictionary(grouping: deliveries, by: \.worker) {
            acked += try await self.dequeue(worker: worker, max: 0, acking: held).acked
        }
        return acked
    }

    public enum FailOutcome: Sendable, Hashable {
        case retrying(after: Duration)
        case dead
        /// The lease had already been lost (reaped): nothing was changed.
        case leaseLost
    }

    /// Records a failure: a retry after exponential backoff with full jitter while attempts remain,
    /// else the dead set with `error`. `retryable: false` buries at once.
    @discardableResult
    public func fail(_ delivery: Delivery, error: String, retryable: Bool = true) async throws -> FailOutcome {
        var job = delivery.job
        job.attempt += 1
        if retryable && job.attempt < job.maxAttempts {
            let delay = Backoff.fullJitter(
                attempt: job.attempt, base: self.configuration.backoffBase, cap: self.configuration.backoffCap)
            let held = try await self.endLease(delivery, record: job.record(), error: error, delay: delay, failure: true)
            return held ? .retrying(after: delay) : .leaseLost
        }
        let held = try await self.endLease(delivery, record: job.record(), error: error, delay: nil, failure: true)
        return held ? .dead : .leaseLost
    }

    /// Runs the job again after `delay` without counting an attempt (e.g. a `Retry-After`).
    @discardableResult
    public func reschedule(_ delivery: Delivery, after delay: Duration, note: String = "") async throws -> Bool {
        try await self.endLease(delivery, record: delivery.job.record(), error: note, delay: delay, failure: false)
    }

    private func endLease(
        _ delivery: Delivery, record: String, error: String, delay: Duration?, failure: Bool
    ) async throws -> Bool {
        let delayMillis = delay.map { max(0, Int($0.milliseconds)) } ?? -1
        let reply = try await self.run(
            QueueScripts.fail,
            [
                delivery.worker, delivery.record, delivery.job.repository, delivery.job.integration, record, error,
                delayMillis, failure ? 1 : 0,
            ])
        return reply.int == 1
    }

    func bury(record: String, error: String, worker: String) async throws {
        _ = try await self.run(QueueScripts.bury, [worker, record, error])
    }

    /// Renews the leases (and slots) of jobs in hand; returns the ids whose lease was lost.
    public func extendLeases(_ deliveries: [Delivery]) async throws -> Set<String> {
        var lost: Set<String> = []
        for (worker, held) in Dictionary(grouping: deliveries, by: \.worker) {
            let reply = try await self.run(
                QueueScripts.extend,
                [Int(self.configuration.leaseDuration.milliseconds), worker] + Self.leaseArguments(held))
            lost.formUnion((reply.array ?? []).compactMap(\.string))
        }
        return lost
    }

    /// Gives jobs back to the head of their queues without counting an attempt (a drain).
    @discardableResult
    public func release(_ deliveries: [Delivery]) async throws -> Int {
        var returned = 0
        for (worker, held) in Dictionary(grouping: deliveries, by: \.worker) {
            let reply = try await self.run(QueueScripts.requeue, ["given", worker] + Self.leaseArguments(held))
            returned += reply.int ?? 0
        }
        return returned
    }

    /// record, repository, integration of each delivery.
    static func leaseArguments(_ deliveries: [Delivery]) -> [any RedisArgument] {
        deliveries.flatMap { [$0.record, $0.job.repository, $0.job.integration] as [any RedisArgument] }
    }

    /// Returns jobs whose lease expired (their worker died) to the head of their queues and frees
    /// their slots; counts them as rescued. Returns how many.
    @discardableResult
    public func reap() async throws -> Int {
        var total = 0
        while true {
            let count = try await self.run(QueueScripts.requeue, ["expired"]).int ?? 0
            total += count
            if count < 500 { return total }
        }
    }

    /// Returns every job `worker` holds to the head of its queue at once, as if its lease had expired (an attempt is
    /// counted): for a worker known to be dead — a new process that took over its id. Returns how many.
    ///
    /// A worker killed with SIGKILL cannot give its jobs back, and their leases (with the repository and integration
    /// slots they fill) would otherwise stay taken until they expire, which slows the whole integration meanwhile.
    @discardableResult
    public func reapOrphans(of worker: String) async throws -> Int {
        try await self.run(QueueScripts.requeue, ["orphaned", worker]).int ?? 0
    }

    /// Waits until a producer or an ack may have made work admissible, or `timeout` passes.
    /// `client` must be one the caller may block (its own lane).
    func waitForWork(on client: RedisClient, timeout: Duration) async throws {
        let seconds = String(format: "%.3f", max(timeout.seconds, 0.01))
        _ = try await client.sendBlocking(["BLPOP", self.key("wake"), seconds])
    }
}

/// Retry delays: exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff
/// and Jitter"): uniform over [0, min(cap, base × 2^attempt)].
public enum Backoff {
    public static func fullJitter(
        attempt: Int, base: Duration, cap: Duration, random: Double = Double.random(in: 0...1)
    ) -> Duration {
        let ceiling = min(cap.seconds, base.seconds * pow(2, Double(min(attempt, 62))))
        return .milliseconds(Int64(ceiling * random * 1000))
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
