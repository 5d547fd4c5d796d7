import Foundation
public import Logging
public import Redis
import Synchronization

/// A worker's consumer: takes admitted jobs in batches, runs their handlers concurrently (up to
/// `concurrency` in hand), acks in batches, renews its leases and heartbeat, reaps expired leases,
/// and drains gracefully. One round trip acks the finished jobs and takes the next batch.
public final class QueueConsumer: Sendable {
    public struct Configuration: Sendable {
        public var workerID: String
        /// Jobs in hand at most.
        public var concurrency: Int
        /// Jobs taken per dequeue at most.
        public var batchSize: Int
        public var version: String
        /// Longest wait for work before asking again.
        public var idleWait: Duration

        public init(
            workerID: String? = nil, concurrency: Int = 10, batchSize: Int = 100, version: String = "dev",
            idleWait: Duration = .seconds(1)
        ) {
            let host = ProcessInfo.processInfo.hostName
            let pid = ProcessInfo.processInfo.processIdentifier
            // The id names leases in Redis as `worker⇥record`: no tabs or line breaks.
            self.workerID = String(
                (workerID ?? "\(host)-\(pid)-\(UInt16.random(in: .min ... .max))").map {
                    $0 == "\t" || $0 == "\n" || $0 == "\r" ? "_" : $0
                })
            self.concurrency = concurrency
            self.batchSize = batchSize
            self.version = version
            self.idleWait = idleWait
        }
    }

    public typealias Handler = @Sendable (Delivery) async throws -> Void

    private struct State {
        var inHand: [String: Delivery] = [:]
        var finished: [Delivery] = []
        var draining = false
        var drainDeadline: ContinuousClock.Instant?
    }

    public let queue: JobQueue
    public let configuration: Configuration
    private let waiter: RedisClient
    private let handlers: [JobKind: Handler]
    private let logger: Logger
    private let state = Mutex(State())
    /// When the dequeue loop last turned or a job last ended: what a liveness watchdog watches.
    private let lastTurn = Mutex(ContinuousClock.now)
    private let startedAt = Date()
    private let capacity = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    private let acks = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    /// - Parameters:
    ///   - waitClient: a client of its own on which the consumer blocks while no work is admissible.
    ///   - handlers: one per job kind; a job of another kind goes to the dead set.
    public init(
        queue: JobQueue, waitClient: RedisClient, configuration: Configuration = Configuration(),
        handlers: [JobKind: Handler], logger: Logger
    ) {
        self.queue = queue
        self.waiter = waitClient
        self.configuration = configuration
        self.handlers = handlers
        var logger = logger
        logger[metadataKey: "tandem.worker.id"] = "\(configuration.workerID)"
        self.logger = logger
    }

    /// Jobs taken and not yet acked or given back.
    public var jobsInHand: Int { self.state.withLock { $0.inHand.count } }

    /// Stops taking jobs; `run` then lets the jobs in hand finish for up to `timeout`, gives back the
    /// rest and returns.
    public func drain(timeout: Duration = .seconds(30)) {
        self.state.withLock {
            $0.draining = true
            $0.drainDeadline = .now + timeout
        }
        self.capacity.continuation.yield()
    }

    /// Runs until `drain` completes or the task is cancelled (cancellation gives back every job in
    /// hand, as a zero-deadline drain does).
    public func run() async {
        await withTaskGroup(of: Void.self) { services in
            services.addTask { await self.heartbeatLoop() }
            services.addTask { await self.ackLoop() }
            // A discarding group: a finished job's task is freed at once (a plain task group keeps every child until
            // `next()` collects it, ~4 KB a job for the process's life). It still waits for its children when the body
            // returns, which is what the drain needs.
            await withDiscardingTaskGroup { work in
                await self.dequeueLoop(&work)
                await self.awaitDrain()
                work.cancelAll()
            }
            await self.settleDrain()
            self.acks.continuation.finish()
            services.cancelAll()
        }
        await self.deregister()
    }

    // MARK: Taking work

    private func dequeueLoop(_ work: inout DiscardingTaskGroup) async {
        var signals = self.capacity.stream.makeAsyncIterator()
        var backoff = Duration.milliseconds(50)
        while !Task.isCancelled {
            self.lastTurn.withLock { $0 = .now }
            let (free, finished, draining) = self.state.withLock { s in
                let free = self.configuration.concurrency - s.inHand.count + s.finished.count
                let finished = s.finished
                s.finished = []
                return (free, finished, s.draining)
            }
            if draining {
                self.putBack(finished)
                return
            }
            if free <= 0 {
                _ = await signals.next()
                continue
            }
            do {
                let result = try await self.queue.dequeue(
                    worker: self.configuration.workerID, max: min(free, self.configuration.batchSize),
                    acking: finished)
                backoff = .milliseconds(50)
                self.state.withLock { s in
                    for delivery in finished { s.inHand[delivery.id] = nil }
                    for delivery in result.deliveries { s.inHand[delivery.id] = delivery }
                }
                for delivery in result.deliveries {
                    work.addTask { await self.process(delivery) }
                }
                if result.deliveries.isEmpty {
                    let wait = min(result.retryAfter ?? self.configuration.idleWait, self.configuration.idleWait)
                    if wait < .milliseconds(500) {
                        try await Task.sleep(for: wait + .milliseconds(1))
                    } else {
                        try await self.queue.waitForWork(on: self.waiter, timeout: wait)
                    }
                }
            } catch is CancellationError {
                self.putBack(finished)
                return
            } catch {
                self.putBack(finished)
                self.logger.debug("Dequeue failed; retrying", metadata: ["tandem.error": "\(error)"])
                try? await Task.sleep(for: backoff * Double.random(in: 0.5...1))
                backoff = min(backoff * 2, .seconds(2))
            }
        }
    }

    private func putBack(_ finished: [Delivery]) {
        if finished.isEmpty { return }
        self.state.withLock { $0.finished.append(contentsOf: finished) }
        self.acks.continuation.yield()
    }

    /// How long since the dequeue loop last turned or a job last ended. The loop turns at least every `idleWait` when
    /// idle and whenever a job ends when full, so a large value means it is stuck (or every job in hand is): a systemd
    /// watchdog ping should be withheld then, so the supervisor restarts the process.
    public var sinceLastTurn: Duration { self.lastTurn.withLock { $0.duration(to: .now) } }

    private func process(_ delivery: Delivery) async {
        defer { self.lastTurn.withLock { $0 = .now } }
        var logger = self.logger
        logger[metadataKey: "tandem.job.id"] = "\(delivery.id)"
        guard let handler = self.handlers[delivery.job.kind] else {
            await self.settle(delivery) {
                try await self.queue.fail(delivery, error: "unknown job kind '\(delivery.job.kind)'", retryable: false)
            }
            return
        }
        do {
            try await handler(delivery)
            self.state.withLock { $0.finished.append(delivery) }
            self.acks.continuation.yield()
        } catch let outcome as JobOutcome {
            await self.settle(delivery) {
                switch outcome.action {
                case .permanent:
                    try await self.queue.fail(delivery, error: outcome.message, retryable: false)
                case .retryAfter(let delay):
                    try await self.queue.reschedule(delivery, after: delay, note: outcome.message)
                case .pauseRepository(let duration):
                    let repository = outcome.repository ?? delivery.job.repository
                    try await self.queue.pause(repository: repository, until: Date().addingTimeInterval(duration.seconds))
                    let again = repository == delivery.job.repository ? duration : (outcome.retry ?? duration)
                    try await self.queue.reschedule(delivery, after: again, note: outcome.message)
                }
            }
        } catch is CancellationError where self.state.withLock({ $0.draining }) {
            // Given back by the drain.
        } catch {
            logger.debug("Job failed", metadata: ["tandem.error": "\(error)"])
            await self.settle(delivery) { try await self.queue.fail(delivery, error: "\(error)") }
        }
    }

    /// Ends a lease other than by ack, retrying while Redis is away; if it stays away the lease
    /// simply expires and the job runs again (at-least-once).
    private func settle(_ delivery: Delivery, _ body: @Sendable () async throws -> some Sendable) async {
        for attempt in 0..<5 {
            do {
                _ = try await body()
                break
            } catch {
                self.logger.debug("Settling a job failed", metadata: ["tandem.error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(100 << attempt))
            }
        }
        self.state.withLock { $0.inHand[delivery.id] = nil }
        self.capacity.continuation.yield()
    }

    private func ackLoop() async {
        var backoff = Duration.milliseconds(50)
        for await _ in self.acks.stream {
            // Let completions gather for a moment: one ack call per batch, not per job (the
            // dequeue loop also carries acks when it asks for more work).
            try? await Task.sleep(for: .milliseconds(2))
            while true {
                let batch = self.state.withLock { s -> [Delivery] in
                    defer { s.finished = [] }
                    return s.finished
                }
                if batch.isEmpty { break }
                do {
                    try await self.queue.ack(batch)
                    backoff = .milliseconds(50)
                    self.state.withLock { s in for delivery in batch { s.inHand[delivery.id] = nil } }
                    self.capacity.continuation.yield()
                } catch {
                    self.state.withLock { $0.finished.append(contentsOf: batch) }
                    if Task.isCancelled { return }
                    self.logger.debug("Ack failed; retrying", metadata: ["tandem.error": "\(error)"])
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(2))
                }
            }
        }
    }

    // MARK: Draining

    /// Lets handlers finish and their acks land, until the drain's deadline; the caller then cancels the rest and
    /// waits for them.
    private func awaitDrain() async {
        let deadline = self.state.withLock { $0.drainDeadline } ?? .now
        var signals = self.capacity.stream.makeAsyncIterator()
        let timer = Task {
            try? await Task.sleep(until: deadline)
            self.capacity.continuation.yield()
        }
        while ContinuousClock.now < deadline && self.jobsInHand > 0 {
            self.acks.continuation.yield()
            _ = await signals.next()
        }
        timer.cancel()
    }

    /// After every handler has returned: gives back what is left (unfinished) and acks what finished.
    private func settleDrain() async {
        // Give back what is left (unfinished), ack what finished.
        let (unfinished, finished) = self.state.withLock { s -> ([Delivery], [Delivery]) in
            let done = Set(s.finished.map(\.id))
            return (s.inHand.values.filter { !done.contains($0.id) }, s.finished)
        }
        do {
            if !finished.isEmpty { try await self.queue.ack(finished) }
            let returned = try await self.queue.release(unfinished)
            self.logger.debug("Drained", metadata: ["tandem.queue.returned": "\(returned)"])
        } catch {
            self.logger.info("Could not give jobs back; their leases will expire", metadata: ["tandem.error": "\(error)"])
        }
        self.state.withLock {
            $0.inHand = [:]
            $0.finished = []
        }
    }

    // MARK: Leases, heartbeat, reaper

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            let inHand = self.state.withLock { Array($0.inHand.values) }
            do {
                let lost = try await self.queue.extendLeases(inHand)
                if !lost.isEmpty {
                    self.logger.debug("Leases lost", metadata: ["tandem.queue.lost": "\(lost.count)"])
                }
                try await self.queue.heartbeat(
                    WorkerInfo(
                        id: self.configuration.workerID, host: ProcessInfo.processInfo.hostName,
                        pid: Int(ProcessInfo.processInfo.processIdentifier), startedAt: self.startedAt,
                        version: self.configuration.version, jobsInHand: inHand.count, lastHeartbeat: Date()))
                try await self.queue.reap()
            } catch {
                self.logger.debug("Heartbeat failed", metadata: ["tandem.error": "\(error)"])
            }
            try? await Task.sleep(for: self.queue.configuration.renewInterval)
        }
    }

    private func deregister() async {
        try? await self.queue.removeWorker(id: self.configuration.workerID)
    }
}
