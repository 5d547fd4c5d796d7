import ArgumentParser
import Foundation
import Logging
import Postgres
import TandemConfig
import TandemConnectors
import TandemStore

/// Options every database command shares. Environment first, flags override (DESIGN §8).
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "libpq connection string or URI (default: $TANDEM_DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "Log level (default: $LOG_LEVEL or info).")
    var logLevel: String?

    func resolvedURL() throws -> String {
        if let databaseURL, !databaseURL.isEmpty { return databaseURL }
        if let url = ProcessInfo.processInfo.environment["TANDEM_DATABASE_URL"], !url.isEmpty { return url }
        throw ValidationError("no database: set TANDEM_DATABASE_URL or pass --database-url")
    }

    /// A client for the command's lifetime; `body` runs with it and it is shut down afterwards.
    func withClient<T: Sendable>(_ body: (PostgresClient, Logger) async throws -> T) async throws -> T {
        let logger = Logger(label: "tandem")
        let client = PostgresClient(configuration: .init(connectionString: try self.resolvedURL(), maximumConnections: 2), logger: logger)
        do {
            let result = try await body(client, logger)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

struct KeyOptions: ParsableArguments {
    @Option(name: .customLong("master-key-file"), help: "File holding the master key (default: $TANDEM_MASTER_KEY or $TANDEM_MASTER_KEY_FILE).")
    var masterKeyFile: String?

    func resolved() throws -> MasterKey {
        if let masterKeyFile { return try MasterKey.fromFile(masterKeyFile) }
        return try MasterKey.fromEnvironment()
    }
}

/// Errors a user can act on print as one clear line, without a stack of types.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

func clearly<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as ConfigError {
        throw CommandFailure(description: error.description)
    } catch let error as SecretError {
        throw CommandFailure(description: "master key: \(error.description)")
    } catch let error as PostgresError {
        throw CommandFailure(description: "database: \(error.description)")
    } catch let error as MigrationError {
        throw CommandFailure(description: "migrations: \(error.description)")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations (safe to run from several processes at once).")

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Only report which migrations are applied.") var status = false

    func run() async throws {
        try await clearly {
            try await self.database.withClient { client, logger in
                let migrator = try Migrator.bundled()
                if self.status {
                    let (applied, current) = try await migrator.status(client)
                    print(
                        "applied: \(applied.map(String.init).joined(separator: ", ")); latest known: \(migrator.latestVersion); \(current ? "current" : "pending migrations")"
                    )
                    return
                }
                let applied = try await migrator.migrate(client, logger: logger)
                print(
                    applied.isEmpty
                        ? "database is current (version \(migrator.latestVersion))"
                        : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
            }
        }
    }
}

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a configuration file, then store it in one transaction.",
        discussion: """
            Entities are matched by name: new ones are created, changed ones updated. Secrets are written in the file as
            ${ENV_NAME} and read from the environment; a secret whose variable is unset keeps its stored value when its
            reference is unchanged. A file with any problem changes nothing. See docs/configuration.md.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var key: KeyOptions
    @Option(name: [.short, .customLong("file")], help: "The YAML file ('-' for standard input).") var file: String
    @Flag(name: .customLong("dry-run"), help: "Print what would change, change nothing.") var dryRun = false
    @Flag(help: "Delete entities that are not in the file.") var prune = false
    @Option(help: "Who is applying, for the audit log (default: $USER).") var actor: String?

    func run() async throws {
        // The bytes as they are: the parser refuses invalid UTF-8 (naming its line and column) instead of storing
        // replacement characters.
        // At most one byte more than a configuration may have: a larger file is refused without reading it all.
        let handle = self.file == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: self.file)
        guard let handle, let data = try? handle.read(upToCount: YAMLLimits.standard.maximumBytes + 1) ?? Data() else {
            throw CommandFailure(description: "\(self.file.escapedForDisplay()): cannot read the file")
        }
        let bytes = [UInt8](data)
        try await clearly {
            // Validate the file before touching the database, so a bad file fails fast even with no database.
            let (configuration, locations) = try ConfigParser.parseLocated(bytes: bytes, file: self.file)
            let masterKey = try self.key.resolved()
            try await self.database.withClient { client, logger in
                try await Migrator.bundled().migrate(client, logger: logger)
                let store = ConfigStore(client: client, box: SecretBox(key: masterKey), logger: logger)
                let plan = try await store.apply(
                    configuration, file: self.file, locations: locations, environment: ProcessInfo.processInfo.environment,
                    dryRun: self.dryRun, prune: self.prune, actor: self.actor ?? ProcessInfo.processInfo.environment["USER"] ?? "cli")
                print(plan.description)
                if self.dryRun { print("dry run: nothing was changed") }
            }
        }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the whole configuration as YAML, secrets left out (as ${ENV_NAME} references).")

    @OptionGroup var database: DatabaseOptions
    @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.") var output: String?

    func run() async throws {
        try await clearly {
            try await self.database.withClient { client, logger in
                try await Migrator.bundled().migrate(client, logger: logger)
                // Export needs no key: it never decrypts.
                let store = ConfigStore(client: client, box: SecretBox(key: try MasterKey(bytes: Array(repeating: 0, count: 32))), logger: logger)
                let yaml = try await store.exportYAML()
                if let output = self.output {
                    try yaml.write(toFile: output, atomically: true, encoding: .utf8)
                } else {
                    print(yaml, terminator: "")
                }
            }
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage the master key.", subcommands: [Generate.self, Rotate.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a new random master key (base64).")
        func run() async throws { print(MasterKey.generate()) }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every stored secret under a new master key, in one transaction.",
            discussion: "The current key comes from TANDEM_MASTER_KEY / TANDEM_MASTER_KEY_FILE / --master-key-file; the new one from --new-key-file.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var key: KeyOptions
        @Option(name: .customLong("new-key-file"), help: "File holding the new master key.") var newKeyFile: String

        func run() async throws {
            try await clearly {
                let old = try self.key.resolved()
                let new = try MasterKey.fromFile(self.newKeyFile)
                try await self.database.withClient { client, logger in
                    try await Migrator.bundled().migrate(client, logger: logger)
                    let count = try await KeyRotation(client: client, logger: logger).rotate(from: old, to: new)
                    print("re-encrypted \(count) secrets under key \(new.id); use the new key from now on")
                }
            }
        }
    }
}

struct Repositories: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Repository connections.", subcommands: [List.self, RepositoryConnect.self, RepositoryDisconnect.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List repository connections (never their secrets).")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "JSON output.") var json = false

        struct Row: Codable {
            var name: String
            var type: String
            var url: String
            var auth: String
            var enabled: Bool
            var hasCredentials: Bool
            var eventRateLimit: Int?
            var concurrencyLimit: Int?
            var collections: Int
        }

        func run() async throws {
            try await clearly {
                try await self.database.withClient { client, logger in
                    try await Migrator.bundled().migrate(client, logger: logger)
                    let rows = try await RepositoryListing.all(in: client).map { r in
                        Row(
                            name: r.name, type: r.kind.rawValue, url: r.url, auth: r.authKind, enabled: r.enabled, hasCredentials: r.hasCredentials,
                            eventRateLimit: r.eventRateLimit, concurrencyLimit: r.concurrencyLimit, collections: r.collections)
                    }
                    if self.json {
                        try printJSON(rows)
                        return
                    }
                    printTable(
                        ["NAME", "TYPE", "URL", "AUTH", "ENABLED", "RATE/MIN", "CONCURRENCY", "COLLECTIONS"],
                        rows.map {
                            [
                                $0.name, $0.type, $0.url, $0.auth + ($0.hasCredentials ? " (stored)" : ""), $0.enabled ? "yes" : "no",
                                $0.eventRateLimit.map(String.init) ?? "default", $0.concurrencyLimit.map(String.init) ?? "none", "\($0.collections)",
                            ]
                        })
                }
            }
        }
    }
}

/// Prints rows as aligned columns.
/// Prints `value` as indented JSON with sorted keys and ISO 8601 dates (the CLI's `--json`).
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func printTable(_ header: [String], _ rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
    for row in all {
        print(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}
