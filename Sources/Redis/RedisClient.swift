import Foundation
public import Logging
import Synchronization
import TandemSupport

#if canImport(Glibc)
import Glibc
#endif

/// An async Redis client over hiredis. Each *lane* is one OS thread (`DedicatedThread`) owning one
/// connection, so blocking C calls never run on Swift's cooperative pool. A call goes to the least
/// busy lane. A lost server is reconnected with exponential backoff (capped at 1 s, for at most
/// `reconnectTimeout`) by the next call; a command cut off mid-way throws `.connectionLost` since it
/// may have run.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let lanes: [Lane]
    private let load: Mutex<[Int]>
    private let scripts = Mutex<[String: String]>([:])  // source → SHA1
    private let logger: Logger

    /// The connection a lane owns; only that lane's thread touches it.
    private final class Lane: @unchecked Sendable {
        let thread: DedicatedThread
        var connection: RedisConnection?
        init(name: String) { self.thread = DedicatedThread(name: name) }
    }

    /// Creates a client without connecting; `connect` does the same and checks the server at once.
    public init(configuration: RedisConfiguration, lanes: Int = 2, logger: Logger) {
        self.configuration = configuration
        self.lanes = (0..<max(lanes, 1)).map { Lane(name: "redis-\($0)") }
        self.load = Mutex(Array(repeating: 0, count: max(lanes, 1)))
        self.logger = logger
    }

    /// Connects every lane now, so a wrong address or password is a clear error at start
    /// (`RedisError` `.connect`, `.authentication` or `.configuration`), never a hang.
    public static func connect(
        configuration: RedisConfiguration, lanes: Int = 2, logger: Logger
    ) async throws -> RedisClient {
        let client = RedisClient(configuration: configuration, lanes: lanes, logger: logger)
        do {
            for index in client.lanes.indices {
                _ = try await client.onLane(index, reconnect: false) { try $0.command(["PING"]) }
            }
        } catch {
            await client.close()
            throw error
        }
        return client
    }

    /// `connect(configuration: RedisConfiguration(url:))`.
    public static func connect(url: String, lanes: Int = 2, logger: Logger) async throws -> RedisClient {
        try await self.connect(configuration: RedisConfiguration(url: url), lanes: lanes, logger: logger)
    }

    /// Stops the lanes' threads and closes their connections.
    public func close() async {
        for lane in self.lanes {
            _ = try? await lane.thread.run { lane.connection = nil }
            await lane.thread.shutdown()
        }
    }

    // MARK: Commands

    /// Runs one command; an error reply throws `RedisError.server`.
    @discardableResult
    public func send(_ arguments: any RedisArgument...) async throws -> RedisValue {
        try await self.send(arguments)
    }

    @discardableResult
    public func send(_ arguments: [any RedisArgument]) async throws -> RedisValue {
        let reply = try await self.withConnection { try $0.command(arguments) }
        if case .error(let message) = reply { throw RedisError(.server, message) }
        return reply
    }

    /// Sends the commands in one round trip and returns every reply (error replies included).
    public func pipeline(_ commands: [[any RedisArgument]]) async throws -> [RedisValue] {
        try await self.withConnection { try $0.pipeline(commands) }
    }

    /// Runs a blocking command (BLPOP, BLMOVE, ...) whose server timeout must be shorter than
    /// `commandTimeout`. Cancelling the task shuts the socket down, which ends the call at once.
    public func sendBlocking(_ arguments: [any RedisArgument]) async throws -> RedisValue {
        let reply = try await self.withConnection(interruptible: true) { try $0.command(arguments) }
        if case .error(let message) = reply { throw RedisError(.server, message) }
        return reply
    }

    /// Runs a Lua script by `EVALSHA`, loading it on first use and again after `NOSCRIPT` (a
    /// restarted or flushed server). An error reply throws `RedisError.server`.
    @discardableResult
    public func eval(
        _ script: RedisScript, keys: [any RedisArgument] = [], arguments: [any RedisArgument] = []
    ) async throws -> RedisValue {
        let known = self.scripts.withLock { $0[script.source] }
        let (reply, sha) = try await self.withConnection { connection -> (RedisValue, String) in
            var sha = known
            if let sha {
                let reply = try connection.command(["EVALSHA", sha, keys.count] + keys + arguments)
                guard reply.errorMessage?.hasPrefix("NOSCRIPT") == true else { return (reply, sha) }
            }
            let loaded = try connection.command(["SCRIPT", "LOAD", script.source])
            guard case .bulk = loaded, let text = loaded.string else {
                return (loaded, "")
            }
            sha = text
            return (try connection.command(["EVALSHA", text, keys.count] + keys + arguments), text)
        }
        if !sha.isEmpty, sha != known { self.scripts.withLock { $0[script.source] = sha } }
        if case .error(let message) = reply { throw RedisError(.server, "\(script.name): \(message)") }
        return reply
    }

    /// Runs `body` with a connection on a lane's thread (reconnecting first if needed).
    public func withConnection<T: Sendable>(
        interruptible: Bool = false, _ body: @escaping @Sendable (RedisConnection) throws -> T
    ) async throws -> T {
        let index = self.load.withLock { load -> Int in
            let index = load.indices.min { load[$0] < load[$1] } ?? 0
            load[index] += 1
            return index
        }
        defer { self.load.withLock { $0[index] -= 1 } }
        var delay = Duration.milliseconds(50)
        let deadline = ContinuousClock.now + self.configuration.reconnectTimeout
        while true {
            do {
                return try await self.onLane(index, reconnect: true, interruptible: interruptible, body)
            } catch let error as RedisError where error.code == .connect && ContinuousClock.now < deadline {
                // Nothing was sent: wait and try again (full jitter, capped at 1 s).
                self.logger.debug("Redis unreachable, retrying", metadata: ["redis.error": "\(error.message)"])
                try await Task.sleep(for: delay * Double.random(in: 0.5...1))
                delay = min(delay * 2, .seconds(1))
            }
        }
    }

    private func onLane<T: Sendable>(
        _ index: Int, reconnect: Bool, interruptible: Bool = false,
        _ body: @escaping @Sendable (RedisConnection) throws -> T
    ) async throws -> T {
        let lane = self.lanes[index]
        let configuration = self.configuration
        let logger = self.logger
        do {
            return try await lane.thread.run {
                if lane.connection.map({ $0.isBroken || $0.isClosedByServer }) ?? true {
                    if lane.connection != nil { logger.debug("Reconnecting to Redis") }
                    lane.connection = nil
                    do {
                        lane.connection = try RedisConnection(configuration: configuration)
                    } catch let error as RedisError where error.code == .connectionLost {
                        throw RedisError(.connect, error.message)  // lost during AUTH/PING: nothing sent
                    }
                }
                guard let connection = lane.connection else { throw RedisError(.connect, "no connection") }
                if interruptible {
                    let fd = connection.fileDescriptor
                    lane.thread.setInterrupt { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
                }
                defer { if interruptible { lane.thread.setInterrupt(nil) } }
                return try body(connection)
            }
        } catch is DedicatedThread.StoppedError {
            throw RedisError(.closed, "the Redis client is closed")
        } catch let error as RedisError where error.code == .connectionLost && Task.isCancelled {
            throw CancellationError()
        }
    }
}

/// A Lua script, run by `RedisClient.eval` through `EVALSHA`.
public struct RedisScript: Sendable {
    public let name: String
    public let source: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}
