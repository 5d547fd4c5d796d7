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
/// A detect job that was running across the loss may save its cursor over the rewind, so the rewind is repeated once
/// after `settle` (longer than a detect job lasts; the job's lease is gone with the data anyway).
public final class RedisEpochGuard: Sendable {
    public let settle: Duration
    private let secondRewind = Mutex<ContinuousClock.Instant?>(nil)
    /// Rewinds done (both passes), for tests and logs.
    public var rewinds: Int { self.count.withLock { $0 } }
    private let count = Mutex(0)

    public init(settle: Duration = .seconds(30)) { self.settle = settle }

    /// Checks the epoch; rewinds the cursors when it is missing (and once more `settle` later). Returns whether it
    /// rewound.
    @discardableResult
    public func check(queue: JobQueue, client: PostgresClient, logger: Logger) async throws -> Bool {
        let key = queue.configuration.prefix + "epoch"
        let reply = try await queue.client.send("SET", key, "\(Date().timeIntervalSince1970)", "NX")
        if reply == .status("OK") {
            logger.warning("Redis has no epoch (its data was lost, or the installation is new): rewinding every change-detection cursor")
            try await Self.rewind(client)
            self.secondRewind.withLock { $0 = .now + self.settle }
            self.count.withLock { $0 += 1 }
            return true
        }
        let due = self.secondRewind.withLock { due -> Bool in
            guard let at = due, at <= .now else { return false }
            due = nil
            return true
        }
        if due {
            try await Self.rewind(client)
            self.count.withLock { $0 += 1 }
            return true
        }
        return false
    }

    static func rewind(_ client: PostgresClient) async throws {
        try await PairStore(client: client).rewindAllCursors()
    }
}
