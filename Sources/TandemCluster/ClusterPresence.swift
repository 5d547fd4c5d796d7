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
public final class ClusterPresence: Service, Sendable, CustomStringConvertible {
    public let key: String
    public let settle: Duration
    private let client: PostgresClient
    private let logger: Logger
    private let held = Mutex(false)

    public var description: String { "ClusterPresence" }

    public init(configuration: PostgresConfiguration, logger: Logger, settle: Duration = .seconds(5)) {
        self.key = "tandem-presence:\(UUID().uuidString.lowercased())"
        self.settle = settle
        var configuration = configuration
        configuration.maximumConnections = 1
        self.client = PostgresClient(configuration: configuration, logger: logger)
        self.logger = logger
    }

    /// The key to name in a claim, while the lock is held.
    public var current: String? { self.held.withLock { $0 } ? self.key : nil }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let key = self.key
                try await self.client.withConnection { connection in
                    if try await !AdvisoryLock.isHeld(key, on: connection) {
                        try await AdvisoryLock.lock(key, on: connection)
                    }
                }
                self.held.withLock { $0 = true }
            } catch {
                self.held.withLock { $0 = false }
                self.logger.debug("Presence lock not held", metadata: ["tandem.error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
        self.held.withLock { $0 = false }
        await self.client.shutdown()
    }
}
