import Postgres
import Testing

private struct Abort: Error {}

@Suite struct TransactionTests {
    @Test func committedTransactionKeepsItsRows() async throws {
        try await TestDatabase.withClient { client in
            try await TestDatabase.withTable(client, "tx_commit", columns: "k int PRIMARY KEY, v text") { table in
                let result = try await client.withTransaction { connection in
                    try await connection.query("INSERT INTO \(unescaped: table) VALUES (\(1), \("a"))")
                    try await connection.query("INSERT INTO \(unescaped: table) VALUES (\(2), \("b"))")
                    return try await connection.query("SELECT count(*) FROM \(unescaped: table)").decode(Int.self)
                }
                #expect(result == [2])
                #expect(try await client.query("SELECT count(*) FROM \(unescaped: table)").decode(Int.self) == [2])
            }
        }
    }

    @Test func failedStatementRollsTheTransactionBack() async throws {
        try await TestDatabase.withClient { client in
            try await TestDatabase.withTable(client, "tx_fail", columns: "k int PRIMARY KEY, v text") { table in
                try await client.query("INSERT INTO \(unescaped: table) VALUES (\(1), \("before"))")
                let error = await #expect(throws: PostgresError.self) {
                    try await client.withTransaction { connection in
                        try await connection.query("INSERT INTO \(unescaped: table) VALUES (\(2), \("inside"))")
                        try await connection.query("UPDATE \(unescaped: table) SET v = \("changed") WHERE k = \(1)")
                        try await connection.query("INSERT INTO \(unescaped: table) VALUES (\(1), \("duplicate"))")
                    }
                }
                #expect(error?.sqlState == "23505")
                let rows = try await client.query("SELECT k, v FROM \(unescaped: table) ORDER BY k")
                #expect(rows.count == 1)
                #expect(try rows[0].decode((Int, String).self) == (1, "before"))
            }
        }
    }

    @Test func swiftErrorRollsBackAndIsRethrown() async throws {
        try await TestDatabase.withClient(maximumConnections: 1) { client in
            try await TestDatabase.withTable(client, "tx_swift", columns: "k int") { table in
                await #expect(throws: Abort.self) {
                    try await client.withTransaction { connection in
                        try await connection.query("INSERT INTO \(unescaped: table) VALUES (\(1))")
                        throw Abort()
                    }
                }
                #expect(try await client.query("SELECT count(*) FROM \(unescaped: table)").decode(Int.self) == [0])
                // The (only) connection is back outside any transaction.
                let status = try await client.query("SELECT now() = statement_timestamp() AS autocommit")
                #expect(try status[0].decode(Bool.self, at: 0))
            }
        }
    }

    @Test func swallowedFailureMakesCommitThrow() async throws {
        try await TestDatabase.withClient { client in
            try await TestDatabase.withTable(client, "tx_swallow", columns: "k int PRIMARY KEY") { table in
                let error = await #expect(throws: PostgresError.self) {
                    try await client.withTransaction { connection in
                        try await connection.query("INSERT INTO \(unescaped: table) VALUES (\(1))")
                        _ = try? await connection.query("INSERT INTO \(unescaped: table) VALUES (\(1))")
                        return 0
                    }
                }
                #expect(error?.sqlState == "25P02")
                let count = try await client.query("SELECT count(*) FROM \(unescaped: table)").decode(Int.self)
                #expect(count == [0])
            }
        }
    }

    @Test func connectionLeftInsideATransactionIsRolledBackBeforeReuse() async throws {
        try await TestDatabase.withClient(maximumConnections: 1) { client in
            try await TestDatabase.withTable(client, "tx_leak", columns: "k int") { table in
                try await client.withConnection { connection in
                    try await connection.query("BEGIN")
                    try await connection.query("INSERT INTO \(unescaped: table) VALUES (\(1))")
                }  // returned to the pool mid-transaction
                #expect(try await client.query("SELECT count(*) FROM \(unescaped: table)").decode(Int.self) == [0])
            }
        }
    }
}
