import Foundation
import Logging
import Redis
import Synchronization
import TandemQueue
import Testing

@Suite("Job queue against a real Redis", .serialized)
struct JobQueueTests {
    @Test func enqueueDequeueAckAndCoalesce() async throws {
        try await withTestQueue { t in
            let first = Job(kind: .sync, repository: "r", integration: "i", payload: #"{"a":1}"#, uniqueKey: "sync:i:r:A-1")
            let twin = Job(kind: .sync, repository: "r", integration: "i", uniqueKey: "sync:i:r:A-1")
            #expect(try await t.queue.enqueue(first) == .enqueued(id: first.id))
            #expect(try await t.queue.enqueue(twin) == .coalesced(into: first.id))
            let taken = try await t.queue.dequeue(worker: "w", max: 10)
            #expect(taken.deliveries.map(\.job.id) == [first.id])
            #expect(taken.deliveries.first?.job.payload == first.payload)
            #expect(taken.deliveries.first?.job.uniqueKey == first.uniqueKey)
            // Once handed out, the key is free: a new change is a new job.
            #expect(try await t.queue.enqueue(twin) == .enqueued(id: twin.id))
            #expect(try await t.queue.ack(taken.deliveries) == 1)
            #expect(try await t.queue.ack(taken.deliveries) == 0)  // acks are fenced
            #expect(try await t.counter("coalesced") == 1)
            #expect(try await t.counter("acked") == 1)
        }
    }

    @Test func roundRobinOverRepositoriesHighBeforeLow() async throws {
        try await withTestQueue { t in
            var jobs: [Job] = []
            for repository in ["a", "b", "c"] {
                try await t.queue.setLimits(RepositoryLimits(eventsPerMinute: 0), repository: repository)
                for n in 0..<2 {
                    jobs.append(Job(kind: .sync, repository: repository, integration: "i\(repository)", priority: .low, payload: "\(n)"))
                }
                jobs.append(Job(kind: .detect, repository: repository, integration: "i\(repository)", priority: .high))
            }
            try await t.queue.enqueue(jobs)
            let taken = try await t.queue.dequeue(worker: "w", max: 9).deliveries
            #expect(taken.map(\.job.repository) == ["a", "b", "c", "a", "b", "c", "a", "b", "c"])
            #expect(taken.prefix(3).allSatisfy { $0.job.priority == .high })
            #expect(taken.dropFirst(3).allSatisfy { $0.job.priority == .low })
            #expect(taken.filter { $0.job.repository == "a" }.dropFirst().map(\.job.payload) == ["0", "1"])  // FIFO
        }
    }

    @Test func limitsAreAdmissionRulesAndAThrottledRepositoryHoldsNobodyBack() async throws {
        try await withTestQueue { t in
            try await t.queue.setLimits(RepositoryLimits(maxConcurrency: 2), repository: "limited")
            try await t.queue.setMaxConcurrency(3, integration: "shared")
            try await t.queue.setLimits(RepositoryLimits(eventsPerMinute: 60, rateScope: .all), repository: "slow")
            var jobs: [Job] = []
            for _ in 0..<5 {
                jobs.append(Job(kind: .sync, repository: "limited", integration: "own"))
                jobs.append(Job(kind: .sync, repository: "x", integration: "shared"))
                jobs.append(Job(kind: .sync, repository: "y", integration: "shared"))
                jobs.append(Job(kind: .sync, repository: "slow", integration: "s"))
                jobs.append(Job(kind: .sync, repository: "free", integration: "f"))
            }
            try await t.queue.enqueue(jobs)
            let taken = try await t.queue.dequeue(worker: "w", max: 100)
            let counts = Dictionary(grouping: taken.deliveries, by: \.job.repository).mapValues(\.count)
            #expect(counts["limited"] == 2)
            #expect((counts["x"] ?? 0) + (counts["y"] ?? 0) == 3)
            #expect(counts["slow"] == 1)  // 60/min: one now, the next in a second
            #expect(counts["free"] == 5)
            let again = try await t.queue.dequeue(worker: "w", max: 100)
            #expect(again.deliveries.isEmpty)
            #expect(again.retryAfter != nil && again.retryAfter! <= .seconds(1))
            // An ack frees a slot at once.
            let limited = taken.deliveries.filter { $0.job.repository == "limited" }
            let next = try await t.queue.dequeue(worker: "w", max: 100, acking: [limited[0]])
            #expect(next.deliveries.map(\.job.repository) == ["limited"])
        }
    }

    @Test func pauseUntilAndResume() async throws {
        try await withTestQueue { t in
            try await t.queue.enqueue([Job(kind: .sync, repository: "p", integration: "i"), Job(kind: .sync, repository: "q", integration: "i")])
            try await t.queue.pause(repository: "p", until: Date().addingTimeInterval(60))
            try await t.queue.setLimits(RepositoryLimits(maxConcurrency: 5), repository: "p")  // keeps the pause
            #expect(try await t.queue.dequeue(worker: "w", max: 10).deliveries.map(\.job.repository) == ["q"])
            let status = try await t.queue.queues().first { $0.repository == "p" }
            #expect(status?.pausedUntil != nil)
            #expect(status?.high.pending == 1)
            try await t.queue.resume(repository: "p")
            #expect(try await t.queue.dequeue(worker: "w", max: 10).deliveries.map(\.job.repository) == ["p"])
        }
    }

    @Test func delayedJobsArePromotedWhenDue() async throws {
        try await withTestQueue { t in
            try await t.queue.enqueue(Job(kind: .scan, repository: "d", integration: "i"), delay: .milliseconds(300))
            let early = try await t.queue.dequeue(worker: "w", max: 10)
            #expect(early.deliveries.isEmpty)
            #expect(early.retryAfter != nil)
            #expect(try await t.queue.jobs(state: .delayed).count == 1)
            try await Task.sleep(for: .milliseconds(350))
            #expect(try await t.queue.dequeue(worker: "w", max: 10).deliveries.count == 1)
        }
    }

    @Test func failuresRetryWithBackoffThenDie() async throws {
        try await withTestQueue { t in
            try await t.queue.enqueue(Job(kind: .sync, repository: "f", integration: "i", maxAttempts: 3))
            var attempts: [Int] = []
            for _ in 0..<3 {
                var delivery: Delivery?
                _ = try await t.waitUntil(timeout: .seconds(3)) {
                    delivery = try await t.queue.dequeue(worker: "w", max: 1).deliveries.first
                    return delivery != nil
                }
                let taken = try #require(delivery)
                attempts.append(taken.job.attempt)
                _ = try await t.queue.fail(taken, error: "boom \(taken.job.attempt)")
            }
            #expect(attempts == [0, 1, 2])
            let dead = try await t.queue.jobs(state: .dead)
            #expect(dead.count == 1)
            #expect(dead.first?.error == "boom 2")
            #expect(try await t.queue.retryDead() == 1)
            #expect(try await t.queue.dequeue(worker: "w", max: 1).deliveries.first?.job.attempt == 0)
        }
    }

    @Test func fullJitterStaysUnderTheExponentialCeiling() {
        #expect(Backoff.fullJitter(attempt: 3, base: .seconds(1), cap: .seconds(60), random: 1) == .seconds(8))
        #expect(Backoff.fullJitter(attempt: 30, base: .seconds(1), cap: .seconds(60), random: 1) == .seconds(60))
        #expect(Backoff.fullJitter(attempt: 3, base: .seconds(1), cap: .seconds(60), random: 0) == .zero)
        let samples = (0..<200).map { _ in Backoff.fullJitter(attempt: 2, base: .seconds(1), cap: .seconds(60)) }
        #expect(samples.allSatisfy { $0 >= .zero && $0 <= .seconds(4) })
        #expect(Set(samples).count > 100)
    }

    @Test func expiredLeasesAreReapedAndSlotsFreed() async throws {
        // A 10 s lease: the first reap comes well inside it even on a loaded machine (with 300 ms, a busy CI run reaped
        // before that first look and failed).
        try await withTestQueue(lease: .seconds(10)) { t in
            try await t.queue.setLimits(RepositoryLimits(maxConcurrency: 1), repository: "l")
            try await t.queue.enqueue([Job(kind: .sync, repository: "l", integration: "i"), Job(kind: .sync, repository: "l", integration: "i")])
            let held = try await t.queue.dequeue(worker: "dead-worker", max: 10).deliveries
            #expect(held.count == 1)
            #expect(try await t.queue.jobs(state: .inflight).first?.worker == "dead-worker")
            #expect(try await t.queue.reap() == 0)
            try await Task.sleep(for: .milliseconds(10_300))
            #expect(try await t.queue.reap() == 1)
            let again = try await t.queue.dequeue(worker: "w2", max: 10).deliveries
            #expect(again.map(\.id) == held.map(\.id))  // back at the head
            #expect(again.first?.job.attempt == 1)  // an expired lease costs an attempt
            #expect(try await t.queue.ack(held) == 0)  // a late ack from the dead worker is fenced off
            #expect(try await t.queue.fail(held[0], error: "late") == .leaseLost)  // and so is a late failure
            #expect(try await t.queue.extendLeases(held) == [held[0].id])
            #expect(try await t.queue.ack(again) == 1)
            #expect(try await t.counter("rescued") == 1)
        }
    }

    /// A worker restarted under its id (its predecessor was killed) returns the predecessor's jobs at once, as if their
    /// leases had expired, and frees their slots; other workers' leases are left alone.
    @Test func aKilledWorkersLeasesAreReapedAtOnceByItsSuccessor() async throws {
        try await withTestQueue { t in
            try await t.queue.setMaxConcurrency(2, integration: "i")
            try await t.queue.enqueue((0..<3).map { _ in Job(kind: .sync, repository: "r", integration: "i") })
            let dead = try await t.queue.dequeue(worker: "worker-1", max: 1).deliveries
            let alive = try await t.queue.dequeue(worker: "worker-10", max: 1).deliveries
            #expect(dead.count == 1 && alive.count == 1)
            // The integration's two slots are taken: nothing more is admitted until one is freed.
            #expect(try await t.queue.dequeue(worker: "worker-2", max: 1).deliveries.isEmpty)
            #expect(try await t.queue.reapOrphans(of: "worker-1") == 1)
            #expect(try await t.queue.reapOrphans(of: "worker-1") == 0)
            let again = try await t.queue.dequeue(worker: "worker-1", max: 1).deliveries
            #expect(again.map(\.id) == dead.map(\.id))  // back at the head
            #expect(again.first?.job.attempt == 1)  // as an expired lease, it costs an attempt
            #expect(try await t.queue.ack(dead) == 0)  // the dead process's lease is gone
            #expect(try await t.queue.extendLeases(alive).isEmpty)  // worker-10's is untouched
            #expect(try await t.queue.ack(again + alive) == 2)
            #expect(try await t.counter("rescued") == 1)
        }
    }

    @Test func aJobWhoseWorkersKeepDyingEndsInTheDeadSet() async throws {
        try await withTestQueue(lease: .milliseconds(200)) { t in
            try await t.queue.enqueue(Job(kind: .sync, repository: "poison", integration: "i", maxAttempts: 2))
            for _ in 0..<2 {
                #expect(try await t.queue.dequeue(worker: "doomed", max: 1).deliveries.count == 1)
                try await Task.sleep(for: .milliseconds(250))
                #expect(try await t.queue.reap() == 1)
            }
            let dead = try await t.queue.jobs(state: .dead)
            #expect(dead.first?.error == "lease expired: its worker stopped renewing it (attempt 2 of 2)")
            #expect(try await t.queue.jobs(state: .pending).isEmpty)
        }
    }

    /// The liveness a systemd watchdog ping is gated on: an idle loop keeps turning; a consumer whose every slot holds a
    /// job that never ends stops turning.
    @Test func workLoopLivenessStopsWhenEveryJobInHandHangs() async throws {
        try await withTestQueue { t in
            let consumer = QueueConsumer(
                queue: t.queue, waitClient: t.waiter, configuration: .init(concurrency: 1, idleWait: .milliseconds(200)),
                handlers: [.sync: { _ in try await Task.sleep(for: .seconds(3600)) }], logger: Logger(label: "test"))
            let running = Task { await consumer.run() }
            try await Task.sleep(for: .seconds(2))
            #expect(consumer.sinceLastTurn < .seconds(10), "idle: the loop turns every idle wait")
            try await t.queue.enqueue([Job(kind: .sync, repository: "m", integration: "i")])
            #expect(try await t.waitUntil(timeout: .seconds(10)) { consumer.jobsInHand == 1 })
            try await Task.sleep(for: .seconds(3))
            #expect(consumer.sinceLastTurn >= .seconds(2), "stuck: no turn while the only slot hangs")
            running.cancel()
            await running.value
        }
    }

    @Test func malformedPayloadsAndUnknownKindsGoToTheDeadSet() async throws {
        try await withTestQueue { t in
            try await t.queue.enqueue([
                Job(kind: .sync, repository: "m", integration: "i", payload: "{not json"),
                Job(kind: JobKind("teleport"), repository: "m", integration: "i"),
                Job(kind: .sync, repository: "m", integration: "i"),
            ])
            // A record damaged in Redis is buried by the dequeue script itself.
            try await t.client.send("LPUSH", "\(t.prefix)q:m:h", "garbage")
            let done = Mutex(0)
            let consumer = QueueConsumer(
                queue: t.queue, waitClient: t.waiter, configuration: .init(concurrency: 4),
                handlers: [.sync: { _ in done.withLock { $0 += 1 } }], logger: Logger(label: "test"))
            let running = Task { await consumer.run() }
            #expect(try await t.waitUntil(timeout: .seconds(5)) { try await t.counter("acked") == 1 })
            consumer.drain(timeout: .seconds(1))
            await running.value
            let errors = Set(try await t.queue.jobs(state: .dead).compactMap(\.error))
            #expect(errors.count == 3)
            #expect(errors.contains { $0.hasPrefix("malformed payload: not JSON") })
            #expect(errors.contains("unknown job kind 'teleport'"))
            #expect(errors.contains("malformed job record"))
            #expect(done.withLock { $0 } == 1)
            #expect(try await t.queue.deleteDead() == 3)
        }
    }

    @Test func handlerOutcomesRetryLaterOrPauseTheRepository() async throws {
        try await withTestQueue { t in
            try await t.queue.enqueue([
                Job(kind: .sync, repository: "busy", integration: "i"), Job(kind: .sync, repository: "busy", integration: "i"),
            ])
            let calls = Mutex(0)
            let consumer = t.consumer { _ in
                let call = calls.withLock { c -> Int in
                    c += 1
                    return c
                }
                if call == 1 { throw JobOutcome.pauseRepository(for: .milliseconds(400), "429 Too Many Requests") }
            }
            let running = Task { await consumer.run() }
            let started = ContinuousClock.now
            #expect(try await t.waitUntil(timeout: .seconds(5)) { try await t.counter("acked") == 2 })
            #expect(ContinuousClock.now - started >= .milliseconds(350))  // nothing ran while paused
            #expect(try await t.counter("retried") == 0)  // a pause costs no attempt
            consumer.drain()
            await running.value
        }
    }

    @Test func gracefulDrainFinishesInTimeAndGivesBackTheRest() async throws {
        try await withTestQueue { t in
            try await t.queue.setMaxConcurrency(100, integration: "i")
            try await t.queue.enqueue((0..<4).map { Job(kind: .sync, repository: "r", integration: "i", payload: "\($0)") })
            let consumer = t.consumer(concurrency: 4) { delivery in
                try await Task.sleep(for: delivery.job.payload == "0" ? .milliseconds(100) : .seconds(30))
            }
            let running = Task { await consumer.run() }
            #expect(try await t.waitUntil(timeout: .seconds(5)) { consumer.jobsInHand == 4 })
            #expect(try await t.queue.workers().first?.id == consumer.configuration.workerID)
            let drainStart = ContinuousClock.now
            consumer.drain(timeout: .milliseconds(500))
            await running.value
            #expect(ContinuousClock.now - drainStart < .seconds(15))  // the 500 ms drain, not the jobs' 30 s
            #expect(try await t.counter("acked") == 1)
            #expect(try await t.counter("returned") == 3)
            #expect(try await t.queue.jobs(state: .pending).count == 3)
            #expect(try await t.queue.jobs(state: .inflight).isEmpty)
            #expect(try await t.queue.workers().isEmpty)
        }
    }

    @Test func inspectionShowsDepthLatencyLimiterAndOperationsWork() async throws {
        try await withTestQueue { t in
            try await t.queue.setLimits(RepositoryLimits(maxConcurrency: 3, eventsPerMinute: 1), repository: "r")
            try await t.queue.enqueue(
                (0..<5).map { _ in Job(kind: .sync, repository: "r", integration: "i", priority: .low, enqueuedAt: Date().addingTimeInterval(-10)) })
            _ = try await t.queue.dequeue(worker: "w", max: 10)
            let status = try #require(try await t.queue.queues().first { $0.repository == "r" })
            #expect(status.low.pending == 4)
            #expect((status.low.latencySeconds ?? 0) >= 9)
            #expect(status.inFlight == 1)
            #expect(status.slotsUsed == 1)
            #expect(status.slotLimit == 3)
            #expect(status.eventsPerMinute == 1)
            #expect(status.rateScope == .lowPriority)
            #expect(status.nextAdmission != nil)
            let inflight = try await t.queue.jobs(state: .inflight)
            #expect(inflight.first?.worker == "w")
            #expect(inflight.first?.leaseExpiresAt.map { $0 > Date() } == true)
            #expect(try await t.queue.purge(repository: "r") == 4)
            #expect(try await t.queue.jobs(state: .pending).isEmpty)
        }
    }
}
