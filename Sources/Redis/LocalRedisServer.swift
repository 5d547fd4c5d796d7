import Foundation
import TandemSupport

#if canImport(Glibc)
import Glibc
#endif

/// A private `redis-server` child process on a loopback port with its data under /tmp: for tests
/// that must stop and restart a server, and for drills. `redis-server` must be on PATH.
public final class LocalRedisServer: @unchecked Sendable {  // mutable state only touched by its owner
    public let port: Int
    public let directory: String
    private let arguments: [String]
    private var process: ChildProcess?

    /// Starts a server on a free port (or `port`) with extra `redis-server` arguments
    /// (e.g. `["--appendonly", "yes"]`), and waits until it answers.
    public init(port: Int? = nil, arguments: [String] = []) throws {
        self.port = port ?? Int.random(in: 20_000..<40_000)
        self.directory = NSTemporaryDirectory() + "tandem-redis-\(self.port)-\(getpid())"
        self.arguments = arguments
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        try self.start()
    }

    deinit {
        self.stop()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    public var url: String { "redis://127.0.0.1:\(self.port)" }

    /// Starts the server again (after `stop`), on the same port and data directory.
    public func start() throws {
        let process = try ChildProcess(
            "redis-server",
            [
                "--port", String(self.port), "--bind", "127.0.0.1", "--dir", self.directory, "--save", "",
                "--logfile", "redis.log",
            ] + self.arguments)
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if process.isRunning,
                let connection = try? RedisConnection(configuration: self.configuration),
                (try? connection.command(["PING"])) == .status("PONG")
            {
                return
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        throw RedisError(.connect, "redis-server on port \(self.port) did not start (see \(self.directory)/redis.log)")
    }

    private var configuration: RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: self.port)
        if let index = self.arguments.firstIndex(of: "--requirepass"), index + 1 < self.arguments.count {
            configuration.password = self.arguments[index + 1]
        }
        return configuration
    }

    /// Stops the server (SIGTERM: a clean shutdown that writes its append-only file) and waits.
    public func stop() {
        guard let process = self.process else { return }
        process.signal(SIGTERM)
        process.waitBlocking()
        self.process = nil
    }
}
