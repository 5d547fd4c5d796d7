import CLibPQ
import Foundation
import Logging
import Synchronization
import TandemSupport

/// One notification received by ``PostgresClient/listen(_:)``.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The server process id of the session that sent NOTIFY.
    public var pid: Int32

    public init(channel: String, payload: String, pid: Int32) {
        self.channel = channel
        self.payload = payload
        self.pid = pid
    }
}

/// The notifications of one LISTEN, in arrival order (buffered without bound while not iterated).
/// Dropping the sequence, or cancelling the task that iterates it, ends the LISTEN and closes its connection.
public struct PostgresNotifications: AsyncSequence, Sendable {
    public typealias Element = PostgresNotification
    public typealias Failure = Never

    let stream: AsyncStream<PostgresNotification>

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = PostgresNotification
        public typealias Failure = Never
        var base: AsyncStream<PostgresNotification>.Iterator

        public mutating func next() async -> PostgresNotification? {
            await self.base.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async -> PostgresNotification? {
            await self.base.next(isolation: actor)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.stream.makeAsyncIterator())
    }
}

/// The connection behind one ``PostgresNotifications``: confined to the listener's thread.
final class ListenerConnection: @unchecked Sendable {
    let channel: String
    let settings: ConnectionSettings
    let logger: Logger
    var handle: OpaquePointer?
    private var noticeSink: NoticeSink?

    init(channel: String, settings: ConnectionSettings, logger: Logger) {
        self.channel = channel
        self.settings = settings
        self.logger = logger
    }

    deinit { self.close() }

    func close() {
        if let handle {
            PQfinish(handle)
            self.handle = nil
            self.noticeSink = nil
        }
    }

    /// Connects and issues LISTEN (the channel quoted as an identifier).
    func connectAndListen() throws {
        self.close()
        let connection = try LibPQConnection.connect(settings: self.settings)
        let sink = NoticeSink(logger: self.logger)
        LibPQConnection.installNoticeProcessor(connection, sink: sink)
        guard let quoted = PQescapeIdentifier(connection, self.channel, self.channel.utf8.count) else {
            let message = self.settings.scrub(String(cString: PQerrorMessage(connection)))
            PQfinish(connection)
            throw PostgresError(kind: .encoding, message: "invalid channel name: \(message)")
        }
        let sql = "LISTEN " + String(cString: quoted)
        PQfreemem(quoted)
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            let message = self.settings.scrub(String(cString: PQerrorMessage(connection)))
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            PQfinish(connection)
            throw PostgresError(kind: .server, message: message, sqlState: sqlState, query: sql)
        }
        self.handle = connection
        self.noticeSink = sink
        self.logger.debug("postgres listening", metadata: ["db.backend_pid": "\(PQbackendPID(connection))"])
    }

    /// Polls the socket and the wake-up pipe until `isStopped`, delivering notifications and reconnecting
    /// (with LISTEN again) whenever the connection is lost.
    func loop(
        wakeFD: Int32, isStopped: () -> Bool, deliver: (PostgresNotification) -> Void
    ) {
        var backoffMilliseconds: Int32 = 100
        while !isStopped() {
            guard let handle = self.handle, PQstatus(handle) == CONNECTION_OK else {
                self.close()
                do {
                    try self.connectAndListen()
                    backoffMilliseconds = 100
                    self.logger.info("postgres listener reconnected")
                } catch {
                    self.logger.warning(
                        "postgres listener reconnect failed", metadata: ["error.message": "\(error)"])
                    if Self.waitForWake(wakeFD, timeout: backoffMilliseconds) { return }
                    backoffMilliseconds = min(backoffMilliseconds * 2, 5000)
                }
                continue
            }
            var descriptors = [
                pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, 500)
            if ready < 0 { continue }  // EINTR
            if descriptors[1].revents != 0 { return }
            if descriptors[0].revents == 0 { continue }
            if PQconsumeInput(handle) == 0 {
                self.logger.warning(
                    "postgres listener connection lost",
                    metadata: ["error.message": "\(self.settings.scrub(String(cString: PQerrorMessage(handle))))"])
                self.close()
                continue
            }
            while let notify = PQnotifies(handle) {
                let notification = PostgresNotification(
                    channel: String(cString: notify.pointee.relname),
                    payload: notify.pointee.extra.map { String(cString: $0) } ?? "",
                    pid: notify.pointee.be_pid)
                PQfreemem(notify)
                deliver(notification)
            }
        }
    }

    /// Sleeps up to `timeout` ms; true if the wake-up pipe fired (stop).
    static func waitForWake(_ wakeFD: Int32, timeout: Int32) -> Bool {
        var descriptor = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, timeout) > 0
    }
}

/// Runs one LISTEN on its own thread and connection.
final class PostgresListener: Sendable {
    private struct State {
        var stopped = false
        var loopTask: Task<Void, Never>?
    }

    let thread: DedicatedThread
    let connection: ListenerConnection
    let logger: Logger
    let onStop: @Sendable () -> Void
    private let state = Mutex(State())
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(channel: String, settings: ConnectionSettings, logger: Logger, onStop: @escaping @Sendable () -> Void) {
        self.thread = DedicatedThread(name: "tandem-pg-listen")
        self.connection = ListenerConnection(channel: channel, settings: settings, logger: logger)
        self.logger = logger
        self.onStop = onStop
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { fds = [-1, -1] }
        self.wakeRead = fds[0]
        self.wakeWrite = fds[1]
    }

    deinit {
        if self.wakeRead >= 0 { Foundation.close(self.wakeRead) }
        if self.wakeWrite >= 0 { Foundation.close(self.wakeWrite) }
    }

    var isStopped: Bool { self.state.withLock { $0.stopped } }

    /// Connects and LISTENs, then starts the polling loop; returns once LISTEN is active.
    func start() async throws -> PostgresNotifications {
        let connection = self.connection
        do {
            try await self.thread.run { try connection.connectAndListen() }
        } catch {
            self.stop()
            await self.thread.shutdown()
            self.onStop()
            throw error
        }
        let (stream, continuation) = AsyncStream<PostgresNotification>.makeStream()
        continuation.onTermination = { [weak self] _ in self?.stop() }
        let wakeFD = self.wakeRead
        let thread = self.thread
        let task = Task { [self] in
            _ = try? await thread.run {
                connection.loop(
                    wakeFD: wakeFD, isStopped: { self.isStopped },
                    deliver: { continuation.yield($0) })
                connection.close()
            }
            continuation.finish()
            await thread.shutdown()
            self.onStop()
        }
        let alreadyStopped = self.state.withLock { s -> Bool in
            s.loopTask = task
            return s.stopped
        }
        if alreadyStopped { self.stop() }
        return PostgresNotifications(stream: stream)
    }

    /// Ends the loop (idempotent, returns at once).
    func stop() {
        let first = self.state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        guard first else { return }
        if self.wakeWrite >= 0 {
            var byte: UInt8 = 1
            _ = write(self.wakeWrite, &byte, 1)
        }
        self.logger.debug("postgres listener stopping")
    }

    func waitUntilStopped() async {
        let task = self.state.withLock { $0.loopTask }
        await task?.value
    }
}
