import Foundation
public import Logging
public import Postgres
import Redis
import Synchronization
public import TandemQueue
import TandemStore

/// Detection enqueues syncs in Redis and then moves its cursor on in PostgreSQL, so when Redis loses its data
/// (flushed, restarted without persistence, failed over to an empty replica) the syncs enqueued for changes behind
/// the cursor are gone (DESIGN §6.6: losing Redis must lose nothing durable). The leading coordinator therefore keeps
/// an epoch key in Redis beside the queue: when it finds the key missing, Redis has lost its data (or the
/// installation is new) and it rewinds every cursor to the beginning; detection then re-reads the feeds and enqueues
/// a sync for every artifact, and those already in step decide "nothing" (no write).
///
/// A detect job that was running across the loss read its cursor before the rewind and may have enqueued syncs Redis
/// then lost: it must not save its cursor over the rewind. Each rewind counts in the cursor's row (`rewinds`), and a
/// detect job saves only while the count is the one it read (`PairStore.saveCursors`), so one rewind is enough — no
/// second pass after a guessed delay.
public final class RedisEpochGuard: Sendable {
    /// Rewinds done, for tests and logs.
    public var rewinds: Int { self.count.withLock { $0 } }
    private let count = Mutex(0)
    /// The epoch was found missing and set again, but the rewind has not succeeded yet (PostgreSQL away).
    private let pending = Mutex(false)

    public init() {}

    /// Checks the epoch; rewinds the cursors when it is missing (and, until it succeeds, at every check after a rewind
    /// that failed). Returns whether it rewound.
    @discardableResult
    public func check(queue: JobQueue, client: PostgresClient, logger: Logger) async throws -> Bool {
        let key = queue.configuration.prefix + "epoch"
        if try await queue.client.send("SET", key, "\(Date().timeIntervalSince1970)", "NX") == .status("OK") {
            logger.warning("Redis has no epoch (its data was lost, or the installation is new): rewinding every change-detection cursor")
            self.pending.withLock { $0 = true }
        }
        guard self.pending.withLock({ $0 }) else { return false }
        try await Self.rewind(client)
        self.pending.withLock { $0 = false }
        self.count.withLock { $0 += 1 }
        return true
    }

    static func rewind(_ client: PostgresClient) async throws {
        try await PairStore(client: client).rewindAllCursors()
    }
}
