import Foundation
import Logging
import Postgres
import Testing

/// The server under test: `TANDEM_DATABASE_URL` (see `Ops/services.sh env`).
enum TestDatabase {
    static var url: String {
        guard let url = ProcessInfo.processInfo.environment["TANDEM_DATABASE_URL"], !url.isEmpty else {
            fatalError("TANDEM_DATABASE_URL is not set: run eval \"$(Ops/services.sh start)\" first")
        }
        return url
    }

    static var adminURL: String? { ProcessInfo.processInfo.environment["TANDEM_PG_ADMIN_URL"] }

    static var logger: Logger {
        var logger = Logger(label: "tandem.postgres.tests")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        return logger
    }

    /// A unique table name for one test.
    static func table(_ prefix: String) -> String {
        "t_\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `body` with a fresh client and shuts it down afterwards.
    static func withClient<T: Sendable>(
        maximumConnections: Int = 4,
        applicationName: String = "tandem-tests",
        _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        var configuration = PostgresConfiguration(connectionString: url, maximumConnections: maximumConnections)
        configuration.applicationName = applicationName
        let client = PostgresClient(configuration: configuration, logger: logger)
        do {
            let value = try await body(client)
            await client.shutdown()
            return value
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Creates a table named after `prefix` with `columns`, runs `body`, and drops the table whatever happens.
    static func withTable<T: Sendable>(
        _ client: PostgresClient, _ prefix: String, columns: String, _ body: (String) async throws -> T
    ) async throws -> T {
        let table = self.table(prefix)
        try await client.query("CREATE TABLE \(unescaped: table) (\(unescaped: columns))")
        return try await self.cleanup(client, "DROP TABLE IF EXISTS \(unescaped: table)") { try await body(table) }
    }

    /// Runs `body`, then `sql` (a DROP) whatever happens.
    static func cleanup<T: Sendable>(
        _ client: PostgresClient, _ sql: PostgresQuery, _ body: () async throws -> T
    ) async throws -> T {
        do {
            let value = try await body()
            try await client.query(sql)
            return value
        } catch {
            _ = try? await client.query(sql)
            throw error
        }
    }
}
