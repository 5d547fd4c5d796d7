import Foundation
import InMemoryLogging
import Logging
import Postgres
import ServiceLifecycle
import TandemServer
import TandemStore
import TandemTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1, for requests no HTTP client would send. Its waits run off the cooperative
/// pool; one test uses it at a time (hence `@unchecked Sendable`: the descriptor is only read).
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        self.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(self.fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(self.fd) }

    /// Sends `text`; false once the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBufferPointer { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// No more bytes from us; the server can still answer.
    func finishSending() { shutdown(self.fd, Int32(SHUT_WR)) }

    /// Everything the server sends until it closes the connection or `timeout` passes.
    func readAll(timeout: Double = 5) async throws -> String {
        try await offThePool {
            var received: [UInt8] = []
            _ = self.receive(for: timeout) { received += $0 }
            return String(decoding: received, as: UTF8.self)
        }
    }

    /// Whether the server closes the connection within `timeout` seconds (reading and discarding what it sends).
    func closedByServer(within timeout: Double) async throws -> Bool { try await self.closing(within: timeout).closed }

    /// Whether the server closes the connection within `timeout` seconds, after how long, and what it sent before.
    func closing(within timeout: Double) async throws -> (closed: Bool, seconds: Double, received: String) {
        try await offThePool {
            let started = Date()
            var received: [UInt8] = []
            let closed = self.receive(for: timeout) { received += $0 }
            return (closed, Date().timeIntervalSince(started), String(decoding: received.prefix(300), as: UTF8.self))
        }
    }

    /// Reads for at most `timeout` seconds, handing each piece to `body`; true when the server closed the connection.
    private func receive(for timeout: Double, _ body: (ArraySlice<UInt8>) -> Void) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { continue }
            let n = recv(self.fd, &buffer, buffer.count, 0)
            if n <= 0 { return true }
            body(buffer[..<n])
        }
        return false
    }
}

/// Runs `tandem server` (`ServerProcess`, migrations included) on a free port over a fresh database, with every log
/// record kept; `body` gets the port, the records and the database.
func withLiveServer(
    _ configure: (inout ServerProcess.Configuration) -> Void = { _ in },
    _ body: @escaping @Sendable (_ port: Int, _ logs: InMemoryLogHandler, _ postgres: PostgresClient) async throws -> Void
) async throws {
    try await withTestDatabase { postgres in
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "tandem.tests.recorded") { _ in logs }
        logger.logLevel = .trace
        var configuration = ServerProcess.Configuration(host: "127.0.0.1", port: unusedPort())
        configure(&configuration)
        let port = configuration.port
        let process = ServerProcess(configuration: configuration, postgres: postgres, redis: try redisClient(), logger: logger)
        let group = process.serviceGroup(gracefulShutdownSignals: [])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                var ready = false
                for _ in 0..<200 where !ready {
                    ready = (try? await httpGet(port: port, path: "/health/live"))?.status == "HTTP/1.1 200 OK"
                    if ready { ready = try await Migrator.bundled().status(postgres).current }
                    if !ready { try await Task.sleep(for: .milliseconds(100)) }
                }
                guard ready else { throw TestSetupError(description: "the server did not start on port \(port)") }
                try await body(port, logs, postgres)
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
