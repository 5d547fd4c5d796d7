import Foundation
public import Logging
public import Postgres
public import ServiceLifecycle
import Synchronization
import TandemStore

/// This process's presence in PostgreSQL: a session advisory lock on a key of its own, held on a connection of its own
/// while the process runs, and taken again within a second when that connection or the server comes back.
///
/// A create's claim names the key of the process that holds it. A claim whose holder is no longer present — the process
/// was killed: its session, and so the lock, ended with it — can be taken over at once instead of after it goes stale
/// (two minutes, for a holder that may still be waiting for its tracker's answer). Just after the server started, every
/// key is briefly missing: live processes are given `settle` to take theirs again before any claim counts as abandoned.
///
/// A worker also holds a lock on its id (`identity`), taken with `takeIdentity()` before it takes any job: while it is
/// held no other live process runs as that worker, so the jobs still leased under that id in Redis are a killed
/// predecessor's and can be given back at once (`JobQueue.reapOrphans`) instead of when their leases expire.
public final class ClusterPresence: Service, Sendable, CustomStringConvertible {
    public let key: String
    /// The key of the lock on the worker id, if this process runs as a worker.
    public let identity: String?
    public let settle: Duration
    private let client: PostgresClient
    private let logger: Logger
    private let held = Mutex(false)
    private let identityHeld = Mutex(false)

    public var description: String { "ClusterPresence" }

    public init(configuration: PostgresConfiguration, logger: Logger, settle: Duration = .seconds(5), worker: String? = nil) {
        self.key = "tandem-presence:\(UUID().uuidString.lowercased())"
        self.identity = worker.map { "tandem-worker:\($0)" }
        self.settle = settle
        var configuration = configuration
        configuration.maximumConnections = 1
        self.client = PostgresClient(configuration: configuration, logger: logger)
        self.logger = logger
    }

    /// The key to name in a claim, while the lock is held.
    public var current: String? { self.held.withLock { $0 } ? self.key : nil }

    /// Takes the lock on the worker id, trying for up to `patience` (a killed predecessor's session may take a moment
    /// to end). Returns whether it is held: false when another live process runs as the same worker, or without an id.
    public func takeIdentity(patience: Duration = .seconds(3)) async throws -> Bool {
        guard let identity else { return false }
        let deadline = ContinuousClock.now + patience
        while true {
            let taken = try await self.client.withConnection { connection in
                try await Self.hold(identity, on: connection, wait: false)
            }
            self.identityHeld.withLock { $0 = taken }
            if taken || ContinuousClock.now >= deadline { return taken }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    public func run() async throws {
        var warned = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let (key, identity) = (self.key, self.identity)
                // The id's lock is kept (taken again after a restart of the server) only once this process had it.
                let keepIdentity = self.identityHeld.withLock { $0 }
                let clash = try await self.client.withConnection { connection in
                    _ = try await Self.hold(key, on: connection, wait: true)
                    if keepIdentity, let identity { return try await !Self.hold(identity, on: connection, wait: false) }
                    return false
                }
                self.held.withLock { $0 = true }
                if clash && !warned {
                    warned = true
                    self.logger.warning(
                        "Another live process runs as this worker (its id is not unique)", metadata: ["tandem.presence": "\(identity ?? "")"])
                }
            } catch {
                self.held.withLock { $0 = false }
                self.logger.debug("Presence lock not held", metadata: ["tandem.error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
        self.held.withLock { $0 = false }
        await self.client.shutdown()
    }

    /// Makes sure this session holds the advisory lock on `key`: waits for it (a key of this process's own, held by no
    /// one else) or only tries. Returns whether it is held.
    static func hold(_ key: String, on connection: PostgresConnection, wait: Bool) async throws -> Bool {
        if try await AdvisoryLock.isHeld(key, on: connection) { return true }
        if wait {
            try await AdvisoryLock.lock(key, on: connection)
            return true
        }
        return try await AdvisoryLock.tryLock(key, on: connection)
    }
}
