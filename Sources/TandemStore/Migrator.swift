import Crypto
import Foundation
public import Logging
public import Postgres

/// One versioned SQL migration, `NNNN_name.sql`.
public struct Migration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var sql: String
    public var checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Array(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Applies migrations in version order, each in its own transaction, under a session advisory lock so that several
/// processes starting at once apply each migration exactly once. An applied migration whose file changed is an error:
/// migrations are append-only; change the schema with a new file.
public struct Migrator: Sendable {
    /// The advisory lock key (an arbitrary constant: "tandem" in ASCII).
    static let lockKey: Int64 = 0x74_61_6E_64_65_6D
    public let migrations: [Migration]

    public init(migrations: [Migration]) { self.migrations = migrations.sorted { $0.version < $1.version } }

    /// The migrations shipped with Tandem.
    public static func bundled() throws -> Migrator {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationError(description: "the Migrations resource folder is missing from the build")
        }
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
        var migrations: [Migration] = []
        for file in files {
            let base = file.deletingPathExtension().lastPathComponent
            guard let underscore = base.firstIndex(of: "_"), let version = Int(base[..<underscore]) else {
                throw MigrationError(description: "migration file '\(file.lastPathComponent)' is not named NNNN_name.sql")
            }
            migrations.append(
                Migration(version: version, name: String(base[base.index(after: underscore)...]), sql: try String(contentsOf: file, encoding: .utf8)))
        }
        let versions = migrations.map(\.version)
        if Set(versions).count != versions.count { throw MigrationError(description: "two migration files share a version number") }
        return Migrator(migrations: migrations)
    }

    public var latestVersion: Int { self.migrations.last?.version ?? 0 }

    /// Applies what is pending; returns the versions applied by this call.
    @discardableResult
    public func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))")
            do {
                let applied = try await self.migrateLocked(connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
                return applied
            } catch {
                _ = try? await connection.query("ROLLBACK")
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
                throw error
            }
        }
    }

    private func migrateLocked(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """)
        var done: [Int: String] = [:]
        for row in try await connection.query("SELECT version, checksum FROM schema_migrations") {
            done[try row.decode(Int.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        if let newest = done.keys.max(), newest > self.latestVersion {
            throw MigrationError(
                description: "the database is at schema version \(newest), newer than this Tandem knows (\(self.latestVersion)); upgrade Tandem")
        }
        var applied: [Int] = []
        for migration in self.migrations {
            if let checksum = done[migration.version] {
                if checksum != migration.checksum {
                    throw MigrationError(
                        description: "migration \(migration.version)_\(migration.name) was changed after it was applied; add a new migration instead")
                }
                continue
            }
            logger.info("Applying migration", metadata: ["db.migration": "\(migration.version)_\(migration.name)"])
            try await connection.query("BEGIN")
            try await connection.query(PostgresQuery(migration.sql))
            try await connection.query(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))")
            try await connection.query("COMMIT")
            applied.append(migration.version)
        }
        return applied
    }

    /// The versions applied in the database, and whether all bundled migrations are among them.
    public func status(_ client: PostgresClient) async throws -> (applied: [Int], current: Bool) {
        let exists = try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard let row = exists.first, try row.decode(Bool.self, at: 0) else { return ([], self.migrations.isEmpty) }
        let versions = try await client.query("SELECT version FROM schema_migrations ORDER BY version").map { try $0.decode(Int.self, at: 0) }
        return (versions, Set(self.migrations.map(\.version)).isSubset(of: Set(versions)))
    }
}
