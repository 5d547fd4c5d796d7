import Foundation
import Logging
import Postgres
import Redis
import TandemServer
import TandemStore
import TandemTestSupport

#if canImport(Glibc)
import Glibc
#endif

let quiet = Logger(label: "tandem.tests", factory: { _ in SwiftLogNoOpLogHandler() })
let redisURL = ProcessInfo.processInfo.environment["TANDEM_REDIS_URL"] ?? "redis://127.0.0.1:6390"

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
}

/// A throw-away database on the server named by TANDEM_DATABASE_URL (Ops/services.sh), dropped afterwards.
func withTestDatabase<T>(_ body: (PostgresClient) async throws -> T) async throws -> T {
    try await withTestDatabaseURL { client, _ in try await body(client) }
}

/// `withTestDatabase`, with the database's URL too (for processes started by the test).
func withTestDatabaseURL<T>(_ body: (PostgresClient, String) async throws -> T) async throws -> T {
    guard let serverURL = ProcessInfo.processInfo.environment["TANDEM_DATABASE_URL"], !serverURL.isEmpty,
        let slash = serverURL.lastIndex(of: "/")
    else { throw TestSetupError(description: "TANDEM_DATABASE_URL is not set: run `eval \"$(Ops/services.sh start)\"` first") }
    let name = "tandem_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    let query = serverURL[slash...].firstIndex(of: "?").map { String(serverURL[$0...]) } ?? ""
    let url = String(serverURL[..<slash]) + "/" + name + query
    let admin = PostgresClient(configuration: .init(connectionString: serverURL, maximumConnections: 1), logger: quiet)
    try await admin.query("CREATE DATABASE \(unescaped: name)")
    let client = PostgresClient(configuration: .init(connectionString: url, maximumConnections: 4), logger: quiet)
    func drop() async {
        await client.shutdown()
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
        await admin.shutdown()
    }
    do {
        let result = try await body(client, url)
        await drop()
        return result
    } catch {
        await drop()
        throw error
    }
}

/// A Redis client with short timeouts, as the server configures its own.
func redisClient(url: String = redisURL) throws -> RedisClient {
    var configuration = try RedisConfiguration(url: url)
    configuration.connectTimeout = .milliseconds(500)
    configuration.reconnectTimeout = .milliseconds(500)
    return RedisClient(configuration: configuration, lanes: 1, logger: quiet)
}

/// A port nothing listens on (bound, then released).
func unusedPort() -> Int { LoopbackServer.unusedPort() }

/// A unique key prefix per test; its keys are deleted afterwards.
func withPrefix<T>(_ client: RedisClient, _ body: (String) async throws -> T) async throws -> T {
    let prefix = "tandem-test-\(UUID().uuidString.prefix(8).lowercased()):"
    func clean() async {
        guard let keys = try? await client.send("KEYS", prefix + "*").array?.compactMap(\.string), !keys.isEmpty else { return }
        _ = try? await client.send(["DEL"] + keys)
    }
    do {
        let result = try await body(prefix)
        await clean()
        return result
    } catch {
        await clean()
        throw error
    }
}
