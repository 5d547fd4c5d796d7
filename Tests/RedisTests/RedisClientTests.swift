import Foundation
import Logging
import Redis
import Testing

let redisURL = ProcessInfo.processInfo.environment["TANDEM_REDIS_URL"] ?? "redis://127.0.0.1:6390"

func connect(lanes: Int = 2) async throws -> RedisClient {
    try await RedisClient.connect(url: redisURL, lanes: lanes, logger: Logger(label: "test"))
}

@Suite("Redis configuration from a URL")
struct RedisConfigurationTests {
    @Test func parsesPasswordAndDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://:s%40cret@db.example:6391/4")
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6391)
        #expect(configuration.password == "s@cret")
        #expect(configuration.username == nil)
        #expect(configuration.database == 4)
        #expect(!configuration.description.contains("s@cret"))
    }

    @Test func parsesUserAndDefaults() throws {
        let configuration = try RedisConfiguration(url: "redis://alice:pw@localhost")
        #expect(configuration.username == "alice")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
    }

    @Test(arguments: ["http://localhost", "redis://", "redis://localhost/notanumber", "not a url at all"])
    func rejectsBadURLs(_ url: String) {
        #expect(throws: RedisError(.configuration, "")) { try RedisConfiguration(url: url) }
    }
}

@Suite("Redis client against a real server", .serialized)
struct RedisClientTests {
    @Test func everyReplyType() async throws {
        let client = try await connect()
        let key = "test:redis:\(UUID().uuidString)"
        #expect(try await client.send("PING") == .status("PONG"))
        #expect(try await client.send("SET", key, "v") == .status("OK"))
        #expect(try await client.send("GET", key) == .bulk(Array("v".utf8)))
        #expect(try await client.send("GET", key + ":missing") == .null)
        #expect(try await client.send("INCRBY", key + ":n", 41) == .integer(41))
        await #expect(throws: RedisError(.server, "")) { try await client.send("INCR", key) }
        let binary: [UInt8] = [0, 13, 10, 255, 1]
        try await client.send("SET", key + ":bin", binary)
        #expect(try await client.send("GET", key + ":bin") == .bulk(binary))
        try await client.send("RPUSH", key + ":list", "a", "b")
        #expect(try await client.send("LRANGE", key + ":list", 0, -1) == .array([.bulk([97]), .bulk([98])]))
        #expect(try await client.send("LRANGE", key + ":none", 0, -1) == .array([]))
        // Nested arrays, status and error replies inside an array (from Lua).
        let nested = try await client.send(
            "EVAL", "return {1, {2, 'x'}, redis.status_reply('FINE'), redis.error_reply('ERRX nested'), false}", 0)
        #expect(nested == .array([.integer(1), .array([.integer(2), .bulk([120])]), .status("FINE"), .error("ERRX nested"), .null]))
        try await client.send("DEL", key, key + ":n", key + ":bin", key + ":list")
        await client.close()
    }

    @Test func pipelineIsOneRoundTripWithEveryReply() async throws {
        let client = try await connect()
        let key = "test:redis:pipe:\(UUID().uuidString)"
        let replies = try await client.pipeline([
            ["RPUSH", key, "1"], ["RPUSH", key, "2"], ["INCR", key], ["LRANGE", key, 0, -1], ["DEL", key],
        ])
        #expect(replies.count == 5)
        #expect(replies[0] == .integer(1))
        #expect(replies[1] == .integer(2))
        #expect(replies[2].errorMessage?.hasPrefix("WRONGTYPE") == true)
        #expect(replies[3] == .array([.bulk([49]), .bulk([50])]))
        #expect(replies[4] == .integer(1))
        await client.close()
    }

    @Test func scriptsRunByShaAndReloadAfterNoscript() async throws {
        let server = try LocalRedisServer()  // SCRIPT FLUSH must not touch the shared server
        defer { server.stop() }
        let client = try await RedisClient.connect(url: server.url, lanes: 1, logger: Logger(label: "test"))
        let script = RedisScript(name: "echo", source: "return {KEYS[1], ARGV[1], 'v1'}")
        #expect(try await client.eval(script, keys: ["k"], arguments: ["a"]) == .array([.bulk([107]), .bulk([97]), .bulk(Array("v1".utf8))]))
        try await client.send("SCRIPT", "FLUSH")
        #expect(try await client.eval(script, keys: ["k"], arguments: ["b"]).array?[1] == .bulk([98]))
        let failing = RedisScript(name: "boom", source: "return redis.error_reply('boom')")
        await #expect(throws: RedisError(.server, "")) { try await client.eval(failing) }
        await client.close()
    }

    @Test func wrongAddressIsAClearErrorAtStart() async throws {
        let start = ContinuousClock.now
        do {
            _ = try await RedisClient.connect(url: "redis://127.0.0.1:1", logger: Logger(label: "test"))
            Issue.record("connected to port 1")
        } catch let error as RedisError {
            #expect(error.code == .connect)
            #expect(error.message.contains("127.0.0.1:1"))
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        // A black-holed address times out within the connect timeout instead of hanging.
        var configuration = try RedisConfiguration(url: "redis://10.255.255.1:6379")
        configuration.connectTimeout = .milliseconds(300)
        let blackHole = ContinuousClock.now
        await #expect(throws: RedisError(.connect, "")) {
            _ = try await RedisClient.connect(configuration: configuration, logger: Logger(label: "test"))
        }
        #expect(ContinuousClock.now - blackHole < .seconds(20))  // the 300 ms connect timeout, not the kernel's ~2 min
    }

    @Test func wrongPasswordIsAClearErrorAtStart() async throws {
        let server = try LocalRedisServer(arguments: ["--requirepass", "right"])
        defer { server.stop() }
        do {
            _ = try await RedisClient.connect(
                url: "redis://:wrong@127.0.0.1:\(server.port)", logger: Logger(label: "test"))
            Issue.record("connected with a wrong password")
        } catch let error as RedisError {
            #expect(error.code == .authentication)
            #expect(error.message.contains("WRONGPASS"))
            #expect(!error.description.contains("wrong"))
        }
        await #expect(throws: RedisError(.authentication, "")) {
            _ = try await RedisClient.connect(url: "redis://127.0.0.1:\(server.port)", logger: Logger(label: "test"))
        }
        let client = try await RedisClient.connect(
            url: "redis://:right@127.0.0.1:\(server.port)/3", logger: Logger(label: "test"))
        try await client.send("SET", "k", "in db 3")
        #expect(try await client.send("CLIENT", "INFO").string?.contains("db=3") == true)
        await client.close()
    }

    @Test func reconnectsAfterTheConnectionIsKilled() async throws {
        let client = try await connect(lanes: 1)
        let id = try await client.send("CLIENT", "ID").int ?? 0
        let other = try await connect(lanes: 1)
        try await other.send("CLIENT", "KILL", "ID", id)
        // The closed socket is noticed before the next command is sent: it reconnects first.
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await client.send("PING") == .status("PONG"))
        #expect(try await client.send("CLIENT", "ID").int != id)
        await client.close()
        await other.close()
    }

    @Test func reconnectsWithBackoffWhenTheServerComesBack() async throws {
        let server = try LocalRedisServer()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.reconnectTimeout = .seconds(10)
        let client = try await RedisClient.connect(configuration: configuration, lanes: 1, logger: Logger(label: "test"))
        server.stop()
        let pending = Task { try await client.send("PING") }
        try await Task.sleep(for: .milliseconds(700))
        try server.start()
        // The failed connect attempts were retried until the server was back.
        let reply = try? await pending.value
        if reply == nil {  // the call that saw the reset may fail; the next one must not
            #expect(try await client.send("PING") == .status("PONG"))
        } else {
            #expect(reply == .status("PONG"))
        }
        await client.close()
        server.stop()
    }

    @Test func blockingCallsStayOffTheCooperativePoolAndCancel() async throws {
        let client = try await connect(lanes: 3)
        let key = "test:redis:block:\(UUID().uuidString)"
        // Three blocked BLPOPs (more than the pool's threads) while a timer keeps ticking.
        // Blocked for up to 60 s each: the bounds below tell "off the pool, cancellable" from "on the pool" or "waits
        // out its timeout" even on a machine loaded by the tests running beside this one.
        let blocked = (0..<3).map { _ in Task { try await client.sendBlocking(["BLPOP", key, "60"]) } }
        var worst = Duration.zero
        for _ in 0..<200 {
            let before = ContinuousClock.now
            try await Task.sleep(for: .milliseconds(10))
            worst = max(worst, ContinuousClock.now - before - .milliseconds(10))
        }
        #expect(worst < .seconds(20), "timer delayed by \(worst)")  // blocked, it would be 60 s
        let cancelled = ContinuousClock.now
        for task in blocked { task.cancel() }
        for task in blocked {
            await #expect(throws: CancellationError.self) { try await task.value }
        }
        #expect(ContinuousClock.now - cancelled < .seconds(30))  // not cancelled: 60 s
        #expect(try await client.send("PING") == .status("PONG"))
        await client.close()
    }
}
