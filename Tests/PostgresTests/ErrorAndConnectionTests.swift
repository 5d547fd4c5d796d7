import Foundation
import Postgres
import Testing

/// The parts of `TANDEM_DATABASE_URL` (postgresql://user:password@host:port/db).
private struct URLParts {
    var user: String
    var password: String
    var database: String
    var port: Int

    init() throws {
        let components = try #require(URLComponents(string: TestDatabase.url))
        self.user = try #require(components.user)
        self.password = components.password ?? ""
        self.database = String(components.path.dropFirst())
        self.port = components.port ?? 5432
    }

    /// A conninfo value in single quotes.
    static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

@Suite struct ErrorTests {
    @Test func uniqueViolationCarriesSQLStateAndConstraint() async throws {
        try await TestDatabase.withClient { client in
            try await TestDatabase.withTable(client, "uniq", columns: "k int, email text UNIQUE") { table in
                try await client.query("INSERT INTO \(unescaped: table) VALUES (\(1), \("a@example.com"))")
                let error = await #expect(throws: PostgresError.self) {
                    try await client.query("INSERT INTO \(unescaped: table) VALUES (\(2), \("a@example.com"))")
                }
                #expect(error?.kind == .server)
                #expect(error?.sqlState == PostgresError.uniqueViolation)
                #expect(error?.constraintName == "\(table)_email_key")
                #expect(error?.tableName == table)
                #expect(error?.message.contains("duplicate key value violates unique constraint") == true)
                #expect(error?.detail?.contains("already exists") == true)
                let description = error.map { String(describing: $0) } ?? ""
                #expect(description.contains("23505"))
                #expect(description.contains("duplicate key value"))
                #expect(!description.contains("a@example.com"))  // values (detail) stay out of the description
            }
        }
    }

    @Test func undefinedTableAndSyntaxErrors() async throws {
        try await TestDatabase.withClient { client in
            let missing = await #expect(throws: PostgresError.self) {
                try await client.query("SELECT * FROM no_such_table_here WHERE k = \(1)")
            }
            #expect(missing?.sqlState == "42P01")
            #expect(missing?.message == "relation \"no_such_table_here\" does not exist")
            #expect(missing?.query == "SELECT * FROM no_such_table_here WHERE k = $1")
            #expect(String(describing: missing).contains("42P01"))

            let syntax = await #expect(throws: PostgresError.self) { try await client.query("SELEC 1") }
            #expect(syntax?.sqlState == "42601")
            let division = await #expect(throws: PostgresError.self) {
                try await client.query("SELECT 1 / \(0)")
            }
            #expect(division?.sqlState == "22012")
            let hint = await #expect(throws: PostgresError.self) {
                try await client.query("SELECT lenght(\("x"))")
            }
            #expect(hint?.sqlState == "42883")
            #expect(hint?.hint != nil)
            // The pool keeps working after errors.
            let ok = try await client.query("SELECT 1").decode(Int.self)
            #expect(ok == [1])
        }
    }
}

@Suite struct InjectionTests {
    static let attacks = [
        "'; DROP TABLE victims; --",
        "Robert'); DROP TABLE victims;--",
        "' OR '1'='1",
        "1; DELETE FROM victims",
        "$1",
        "\\'; SELECT pg_sleep(10); --",
        "\"; DROP TABLE victims; --",
        "x' UNION SELECT usename, passwd FROM pg_shadow --",
        "';\n COMMIT; DROP TABLE victims; BEGIN; --",
    ]

    @Test func valuesAreInertAndStoredVerbatim() async throws {
        try await TestDatabase.withClient { client in
            try await TestDatabase.withTable(client, "victims", columns: "id serial, name text, tags text[]") { table in
                for attack in Self.attacks {
                    try await client.query(
                        "INSERT INTO \(unescaped: table) (name, tags) VALUES (\(attack), \([attack, "ok"]))")
                }
                let rows = try await client.query("SELECT name, tags FROM \(unescaped: table) ORDER BY id")
                #expect(try rows.decode(String.self) == Self.attacks)
                #expect(try rows.map { try $0.decode([String].self, at: 1) } == Self.attacks.map { [$0, "ok"] })
                // Each attack as a WHERE value matches exactly its own row and nothing else.
                for attack in Self.attacks {
                    let matched = try await client.query("SELECT count(*) FROM \(unescaped: table) WHERE name = \(attack)")
                    #expect(try matched.decode(Int.self) == [1])
                }
                let always = try await client.query(
                    "SELECT count(*) FROM \(unescaped: table) WHERE name = \("' OR '1'='1") OR false")
                #expect(try always.decode(Int.self) == [1])
                // The table is still there with all its rows.
                #expect(try await client.query("SELECT count(*) FROM \(unescaped: table)").decode(Int.self) == [9])
            }
        }
    }

    @Test func stringWithNULIsRejectedNotTruncated() async throws {
        try await TestDatabase.withClient { client in
            let error = await #expect(throws: PostgresError.self) {
                try await client.query("SELECT \("admin\u{0}' OR 1=1")")
            }
            #expect(error?.kind == .encoding)
        }
    }
}

@Suite struct ConnectionStringTests {
    @Test func multiHostConnectsToTheLiveReadWriteServer() async throws {
        let parts = try URLParts()
        let conninfo = """
            host=127.0.0.1,127.0.0.1 port=1,\(parts.port) user=\(URLParts.quote(parts.user)) \
            password=\(URLParts.quote(parts.password)) dbname=\(URLParts.quote(parts.database)) \
            target_session_attrs=read-write connect_timeout=5
            """
        let client = PostgresClient(
            configuration: .init(connectionString: conninfo, maximumConnections: 2), logger: TestDatabase.logger)
        let rows = try await client.query(
            "SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby, current_setting('application_name') AS app")
        await client.shutdown()
        #expect(try rows[0].decode(Int.self, column: "port") == parts.port)
        #expect(try rows[0].decode(Bool.self, column: "standby") == false)
        #expect(try rows[0].decode(String.self, column: "app") == "tandem")
    }

    @Test func uriFormAndMultiHostURI() async throws {
        let parts = try URLParts()
        let password = parts.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let uri =
            "postgresql://\(parts.user):\(password)@127.0.0.1:1,127.0.0.1:\(parts.port)/\(parts.database)"
            + "?target_session_attrs=read-write&application_name=uri-test"
        let client = PostgresClient(configuration: .init(connectionString: uri), logger: TestDatabase.logger)
        let rows = try await client.query("SELECT current_setting('application_name')")
        await client.shutdown()
        #expect(try rows.decode(String.self) == ["uri-test"])  // the connection string wins over the default
    }

    @Test func wrongPasswordIsAClearErrorWithoutThePassword() async throws {
        let parts = try URLParts()
        let wrong = "Wr0ng-S3cret-\(UUID().uuidString.prefix(6))"
        for connectionString in [
            "postgresql://\(parts.user):\(wrong)@127.0.0.1:\(parts.port)/\(parts.database)",
            "host=127.0.0.1 port=\(parts.port) user=\(parts.user) password=\(wrong) dbname=\(parts.database)",
        ] {
            let client = PostgresClient(
                configuration: .init(connectionString: connectionString, maximumConnections: 1),
                logger: TestDatabase.logger)
            let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
            await client.shutdown()
            #expect(error?.kind == .connection)
            let text = String(describing: error) + (error.map { String(reflecting: $0) } ?? "")
            #expect(text.contains("password authentication failed"))
            #expect(!text.contains(wrong))
            #expect(!text.contains(parts.password))
        }
    }

    @Test func malformedConnectionStringNeverEchoesThePassword() async throws {
        let secret = "Sup3rS3cret\(UUID().uuidString.prefix(6))"
        for connectionString in [
            "host=127.0.0.1 password=\(secret) bogus_option=1",
            "postgresql://u:\(secret)@127.0.0.1:notaport/db",
            "host=127.0.0.1 password='\(secret)",
        ] {
            let client = PostgresClient(
                configuration: .init(connectionString: connectionString, maximumConnections: 1),
                logger: TestDatabase.logger)
            let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
            await client.shutdown()
            #expect(error?.kind == .connection)
            #expect(!String(reflecting: error).contains(secret), "\(String(reflecting: error))")
        }
    }

    @Test func unreachableServerFailsWithinTheConnectTimeout() async throws {
        var configuration = PostgresConfiguration(connectionString: "host=127.0.0.1 port=1 user=x dbname=x")
        configuration.connectTimeout = .seconds(2)
        let client = PostgresClient(configuration: configuration, logger: TestDatabase.logger)
        let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
        await client.shutdown()
        #expect(error?.kind == .connection)
        #expect(error?.message.contains("127.0.0.1") == true)
    }
}
