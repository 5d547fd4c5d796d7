import Foundation
import Logging
import Postgres
import Redis
import ServiceLifecycle
import TandemServer
import TandemStore
import TandemSupport
import TandemTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 GET over a plain socket; returns the status line and body.
/// One GET on a connection of its own; the socket waits run off the cooperative pool.
func httpGet(port: Int, path: String) async throws -> (status: String, body: String) {
    try await offThePool { try blockingGet(port: port, path: path) }
}

private func blockingGet(port: Int, path: String) throws -> (status: String, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { break }
        response += buffer[..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    let status = text.components(separatedBy: "\r\n").first ?? ""
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}

@Suite("The server process", .serialized, .timeLimit(.minutes(2)))
struct ServerProcessTests {
    @Test func migratesListensSaysReadyAndStopsGracefully() async throws {
        try await withTestDatabase { postgres in
            let socket = try NotifySocket(abstract: true)
            let port = unusedPort()
            let process = ServerProcess(
                configuration: .init(host: "127.0.0.1", port: port),
                postgres: postgres, redis: try redisClient(),
                notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address]), logger: quiet)
            let group = process.serviceGroup(gracefulShutdownSignals: [])
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let ready = try await socket.receive(timeout: .seconds(20))
                #expect(ready == "READY=1\nSTATUS=listening on 127.0.0.1:\(port)")
                let live = try await httpGet(port: port, path: "/health/live")
                #expect(live.status == "HTTP/1.1 200 OK")
                #expect(live.body == #"{"status":"ok"}"#)
                #expect(try await httpGet(port: port, path: "/nowhere").status == "HTTP/1.1 404 Not Found")
                // Start-up applies the migrations (in the background, retried while the database is away).
                var current = false
                for _ in 0..<100 where !current {
                    current = try await Migrator.bundled().status(postgres).current
                    if !current { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(current)
                // No coordinator leads in this database: not ready for traffic.
                let health = try await httpGet(port: port, path: "/health")
                #expect(health.status == "HTTP/1.1 503 Service Unavailable")
                #expect(health.body.contains(#""failing":["leader"]"#))

                await group.triggerGracefulShutdown()
                #expect(try await socket.receive() == "STOPPING=1\nSTATUS=draining")
                try await tasks.waitForAll()
            }
            // The listener is gone: nothing answers our liveness route on that port any more (another test's
            // process may have taken the freed port meanwhile, so a refused connection is not required).
            #expect((try? await httpGet(port: port, path: "/health/live"))?.status != "HTTP/1.1 200 OK")
        }
    }

    @Test func pingsTheWatchdogWhenSystemdAsks() async throws {
        try await withTestDatabase { postgres in
            let socket = try NotifySocket(abstract: true)
            let port = unusedPort()
            let redis = try redisClient()
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "200000"])
            #expect(notifier.watchdogInterval == .milliseconds(100))
            let process = ServerProcess(
                configuration: .init(host: "127.0.0.1", port: port, migrate: false), postgres: postgres, redis: redis,
                notifier: notifier, logger: quiet)
            let group = process.serviceGroup(gracefulShutdownSignals: [])
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var messages: [String] = []
                while messages.filter({ $0 == "WATCHDOG=1" }).count < 3 || !messages.contains(where: { $0.hasPrefix("READY=1") }) {
                    guard let message = try await socket.receive(timeout: .seconds(10)) else { break }
                    messages.append(message)
                }
                #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 3)
                #expect(messages.contains { $0.hasPrefix("READY=1") })
                await group.triggerGracefulShutdown()
                var last: String?
                while let message = try await socket.receive(timeout: .seconds(2)) { last = message }
                #expect(last == "STOPPING=1\nSTATUS=draining")
                try await tasks.waitForAll()
            }
            await redis.close()
        }
    }
}
