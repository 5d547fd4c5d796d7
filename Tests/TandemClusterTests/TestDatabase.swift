import Foundation
import Logging
import Postgres

/// A throw-away database on the real server named by TANDEM_DATABASE_URL (started by Ops/services.sh).
struct TestDatabase {
    let name: String
    let url: String
    let client: PostgresClient

    static var serverURL: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["TANDEM_DATABASE_URL"], !url.isEmpty else {
                throw TestSetupError(message: "TANDEM_DATABASE_URL is not set: run `eval \"$(Ops/services.sh start)\"` first")
            }
            return url
        }
    }

    static func url(forDatabase name: String) throws -> String {
        let base = try Self.serverURL
        guard let slash = base.lastIndex(of: "/") else { throw TestSetupError(message: "TANDEM_DATABASE_URL has no database name") }
        let query = base[slash...].firstIndex(of: "?").map { String(base[$0...]) } ?? ""
        return String(base[..<slash]) + "/" + name + query
    }

    static func create(poolSize: Int = 4) async throws -> TestDatabase {
        let name = "tandem_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let admin = PostgresClient(configuration: .init(connectionString: try Self.serverURL, maximumConnections: 1), logger: Self.logger)
        try await admin.query("CREATE DATABASE \(unescaped: name)")
        await admin.shutdown()
        let url = try Self.url(forDatabase: name)
        return TestDatabase(
            name: name, url: url,
            client: PostgresClient(configuration: .init(connectionString: url, maximumConnections: poolSize), logger: Self.logger))
    }

    func newClient(poolSize: Int = 2) -> PostgresClient {
        PostgresClient(configuration: .init(connectionString: self.url, maximumConnections: poolSize), logger: Self.logger)
    }

    func drop() async {
        await self.client.shutdown()
        guard let serverURL = try? Self.serverURL else { return }
        let admin = PostgresClient(configuration: .init(connectionString: serverURL, maximumConnections: 1), logger: Self.logger)
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(unescaped: self.name) WITH (FORCE)")
        await admin.shutdown()
    }

    static let logger = Logger(label: "tandem.tests", factory: { _ in SwiftLogNoOpLogHandler() })
}

struct TestSetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

/// Runs `body` with a fresh database, dropped afterwards whatever happens.
func withTestDatabase<T>(poolSize: Int = 4, _ body: (TestDatabase) async throws -> T) async throws -> T {
    let db = try await TestDatabase.create(poolSize: poolSize)
    do {
        let result = try await body(db)
        await db.drop()
        return result
    } catch {
        await db.drop()
        throw error
    }
}
