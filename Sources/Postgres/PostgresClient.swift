public import Logging
import Synchronization
import TandemSupport

/// One pooled connection: a dedicated OS thread and the libpq connection only that thread touches.
final class PoolSlot: Sendable {
    let thread: DedicatedThread
    let connection: LibPQConnection

    init(index: Int, settings: ConnectionSettings, logger: Logger) {
        self.thread = DedicatedThread(name: "tandem-pg-\(index)")
        var logger = logger
        logger[metadataKey: "db.connection"] = "\(index)"
        self.connection = LibPQConnection(settings: settings, logger: logger)
    }

    /// Runs `body` on the slot's thread with an open connection; task cancellation sends `PQcancel`.
    func run<T: Sendable>(_ body: @escaping @Sendable (LibPQConnection) throws -> T) async throws -> T {
        let connection = self.connection
        let thread = self.thread
        do {
            return try await thread.run {
                try connection.ensureOpen()
                // Cancelled while connecting (before the interrupt was set): do not start the statement.
                if thread.isCancelled { throw CancellationError() }
                if let cancel = connection.cancelHandle { thread.setInterrupt { cancel.fire() } }
                if thread.isCancelled { throw CancellationError() }
                return try body(connection)
            }
        } catch is DedicatedThread.StoppedError {
            throw PostgresError.poolClosedError
        } catch let error as PostgresError where error.sqlState == "57014" && Task.isCancelled {
            throw CancellationError()
        }
    }

    /// Rolls back an open transaction without reconnecting and without regard to task cancellation.
    func rollback() async {
        let connection = self.connection
        let thread = self.thread
        await Task { _ = try? await thread.run { connection.rollbackIfInTransaction() } }.value
    }

    func close() async {
        let connection = self.connection
        _ = try? await self.thread.run { connection.close() }
        await self.thread.shutdown()
    }
}

/// A pooled connection lent to a ``PostgresClient/withConnection(isolation:_:)`` or
/// ``PostgresClient/withTransaction(isolation:_:)`` body. Do not keep it after the body returns.
public final class PostgresConnection: Sendable {
    let slot: PoolSlot
    let lease: UInt64

    init(slot: PoolSlot, lease: UInt64) {
        self.slot = slot
        self.lease = lease
    }

    /// Runs one query on this connection: with binds, as a prepared statement (prepared once per connection
    /// and cached by SQL text); without binds, through the simple protocol, which allows several
    /// `;`-separated statements (the last one's rows are returned).
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        let lease = self.lease
        return try await self.slot.run { connection in try connection.execute(query, lease: lease) }
    }

    /// The server process id of this connection (`pg_backend_pid()`), 0 if it is not connected.
    public var backendPID: Int32 {
        get async throws {
            try await self.slot.run { connection in connection.backendPID }
        }
    }

    /// ROLLBACK, even from a cancelled task; errors are ignored (a broken connection is replaced anyway).
    func rollbackIgnoringErrors() async {
        await self.slot.rollback()
    }
}

/// A pool of PostgreSQL connections over libpq, each owned by its own OS thread (blocking libpq calls never
/// run on Swift's cooperative pool). Connections open lazily, up to `maximumConnections`; one that breaks
/// (server restart, `pg_terminate_backend`) is closed and replaced on its next use.
///
/// ```swift
/// let client = PostgresClient(configuration: .init(connectionString: url), logger: logger)
/// let rows = try await client.query("SELECT id, name FROM users WHERE email = \(email)")
/// for row in rows { let (id, name) = try row.decode((UUID, String).self) }
/// try await client.withTransaction { connection in
///     try await connection.query("UPDATE accounts SET balance = balance - \(amount) WHERE id = \(from)")
///     try await connection.query("UPDATE accounts SET balance = balance + \(amount) WHERE id = \(to)")
/// }
/// for await notification in try await client.listen("jobs") { print(notification.payload) }
/// await client.shutdown()
/// ```
///
/// Queries with binds are prepared once per connection (cached by SQL text and parameter types) and run
/// with `PQexecPrepared`; bind-less queries use the simple protocol. Results are fully materialized.
/// Logging: debug for connections, failures (`db.statement`, `db.sqlstate`) and server notices
/// (`db.notice`), trace for every statement; bind values are never logged.
public final class PostgresClient: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<PoolSlot, any Error>
    }

    private struct State {
        var slots: [PoolSlot] = []
        var idle: [PoolSlot] = []
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
        var closed = false
        var listeners: [UInt64: PostgresListener] = [:]
    }

    public let configuration: PostgresConfiguration
    let settings: ConnectionSettings
    let logger: Logger
    private let state = Mutex(State())

    public init(configuration: PostgresConfiguration, logger: Logger) {
        precondition(configuration.maximumConnections > 0, "maximumConnections must be positive")
        self.configuration = configuration
        self.settings = ConnectionSettings(configuration)
        self.logger = logger
    }

    deinit {
        // Threads of a client that was never shut down: let them end once their queues drain.
        let slots = self.state.withLock { $0.slots }
        for slot in slots {
            let thread = slot.thread
            Task { await thread.shutdown() }
        }
    }

    // MARK: Queries

    /// Runs one query on a pooled connection.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        let (slot, lease) = try await self.acquire()
        defer { self.release(slot) }
        return try await PostgresConnection(slot: slot, lease: lease).query(query)
    }

    /// Lends a pooled connection to `body` and takes it back when `body` returns or throws.
    public func withConnection<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let (slot, lease) = try await self.acquire()
        defer { self.release(slot) }
        return try await body(PostgresConnection(slot: slot, lease: lease))
    }

    /// Runs `body` between BEGIN and COMMIT on one pooled connection. Any error thrown by `body` rolls the
    /// transaction back and is rethrown. If a statement failed inside `body` but `body` swallowed the error,
    /// COMMIT turns into ROLLBACK on the server, and this throws (SQLSTATE 25P02) instead of returning.
    public func withTransaction<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let (slot, lease) = try await self.acquire()
        defer { self.release(slot) }
        let connection = PostgresConnection(slot: slot, lease: lease)
        try await connection.query("BEGIN")
        let value: T
        do {
            value = try await body(connection)
        } catch {
            await connection.rollbackIgnoringErrors()
            throw error
        }
        let commit = try await connection.query("COMMIT")
        if commit.commandTag == "ROLLBACK" {
            throw PostgresError(
                kind: .server,
                message: "the transaction was rolled back at COMMIT because a statement in it had failed",
                sqlState: "25P02", query: "COMMIT")
        }
        return value
    }

    // MARK: LISTEN / NOTIFY

    /// Opens a dedicated connection (with its own thread) that LISTENs on `channel`; LISTEN is active when
    /// this returns. The sequence ends, and the connection closes, when it is dropped, when the iterating
    /// task is cancelled, or at ``shutdown()``. A lost connection is re-opened and LISTEN re-issued
    /// (notifications sent while it was down are lost).
    public func listen(_ channel: String) async throws -> PostgresNotifications {
        let id = try self.state.withLock { s -> UInt64 in
            if s.closed { throw PostgresError.poolClosedError }
            s.nextID += 1
            return s.nextID
        }
        var logger = self.logger
        logger[metadataKey: "db.channel"] = "\(channel)"
        let listener = PostgresListener(
            channel: channel, settings: ConnectionSettings(self.configuration, applicationSuffix: "-listener"),
            logger: logger,
            onStop: { [weak self] in _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) } })
        let registered = self.state.withLock { s -> Bool in
            if s.closed { return false }
            s.listeners[id] = listener
            return true
        }
        guard registered else { throw PostgresError.poolClosedError }
        return try await listener.start()
    }

    // MARK: Lifecycle

    /// Closes every connection and listener; later calls fail with kind `.poolClosed`. Work already queued
    /// on a connection finishes first.
    public func shutdown() async {
        let (slots, waiters, listeners) = self.state.withLock { s in
            if s.closed { return ([PoolSlot](), [Waiter](), [PostgresListener]()) }
            s.closed = true
            defer {
                s.waiters.removeAll()
                s.idle.removeAll()
                s.listeners.removeAll()
            }
            return (s.slots, s.waiters, Array(s.listeners.values))
        }
        for waiter in waiters { waiter.continuation.resume(throwing: PostgresError.poolClosedError) }
        for listener in listeners { listener.stop() }
        for slot in slots { await slot.close() }
        for listener in listeners { await listener.waitUntilStopped() }
        self.logger.debug("postgres client shut down")
    }

    // MARK: Pool

    private func acquire() async throws -> (PoolSlot, UInt64) {
        enum Decision {
            case ready(PoolSlot, UInt64)
            case wait(UInt64)
        }
        let maximum = self.configuration.maximumConnections
        let decision = try self.state.withLock { s -> Decision in
            if s.closed { throw PostgresError.poolClosedError }
            s.nextID += 1
            if let slot = s.idle.popLast() { return .ready(slot, s.nextID) }
            if s.slots.count < maximum {
                let slot = PoolSlot(index: s.slots.count, settings: self.settings, logger: self.logger)
                s.slots.append(slot)
                return .ready(slot, s.nextID)
            }
            return .wait(s.nextID)
        }
        switch decision {
        case .ready(let slot, let lease):
            return (slot, lease)
        case .wait(let id):
            let slot = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PoolSlot, any Error>) in
                    let immediate = self.state.withLock { s -> Result<PoolSlot, any Error>? in
                        if s.closed { return .failure(PostgresError.poolClosedError) }
                        // Checked under the lock: a cancellation after this finds the waiter in the list.
                        if Task.isCancelled { return .failure(CancellationError()) }
                        if let slot = s.idle.popLast() { return .success(slot) }
                        s.waiters.append(Waiter(id: id, continuation: continuation))
                        return nil
                    }
                    if let immediate { continuation.resume(with: immediate) }
                }
            } onCancel: {
                let waiter = self.state.withLock { s -> Waiter? in
                    guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return s.waiters.remove(at: index)
                }
                waiter?.continuation.resume(throwing: CancellationError())
            }
            return (slot, id)
        }
    }

    private func release(_ slot: PoolSlot) {
        let waiter = self.state.withLock { s -> Waiter? in
            if !s.waiters.isEmpty { return s.waiters.removeFirst() }
            if !s.closed { s.idle.append(slot) }
            return nil
        }
        waiter?.continuation.resume(returning: slot)
    }
}
