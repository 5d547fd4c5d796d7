import Foundation
import Postgres
import Testing

@Suite struct PoolTests {
    @Test func killedServerConnectionIsReplaced() async throws {
        try await TestDatabase.withClient(maximumConnections: 1) { client in
            let before = try await client.query("SELECT pg_backend_pid()").decode(Int32.self)[0]
            // Terminate that backend from another connection, and wait until it is gone.
            let killer = PostgresClient(
                configuration: .init(connectionString: TestDatabase.adminURL ?? TestDatabase.url, maximumConnections: 1),
                logger: TestDatabase.logger)
            let killed = try await killer.query("SELECT pg_terminate_backend(\(before), 5000)").decode(Bool.self)
            await killer.shutdown()
            #expect(killed == [true])
            // The pool notices the dead connection and opens a new one; queries keep working.
            for _ in 0..<3 {
                let after = try await client.query("SELECT pg_backend_pid()").decode(Int32.self)[0]
                #expect(after != before)
            }
        }
    }

    @Test func connectionKilledMidTransactionFailsThatCallOnlyThenRecovers() async throws {
        try await TestDatabase.withClient(maximumConnections: 1) { client in
            let error = await #expect(throws: PostgresError.self) {
                try await client.withTransaction { connection in
                    try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())")
                }
            }
            #expect(error?.kind == .connection)
            let after = try await client.query("SELECT 1").decode(Int.self)
            #expect(after == [1])
        }
    }

    @Test func hundredConcurrentQueriesOnAPoolOfEight() async throws {
        try await TestDatabase.withClient(maximumConnections: 8) { client in
            let results = try await withThrowingTaskGroup(of: (Int, Int32).self) { group in
                for i in 0..<100 {
                    group.addTask {
                        let rows = try await client.query("SELECT \(i) AS i, pg_backend_pid() AS pid, pg_sleep(0.01)")
                        return (try rows[0].decode(Int.self, at: 0), try rows[0].decode(Int32.self, at: 1))
                    }
                }
                var all: [(Int, Int32)] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(results.count == 100)
            #expect(Set(results.map(\.0)) == Set(0..<100))
            let backends = Set(results.map(\.1))
            #expect(backends.count <= 8)
            #expect(backends.count > 1)
        }
    }

    @Test func cancellingATaskCancelsItsRunningStatement() async throws {
        try await TestDatabase.withClient(maximumConnections: 1) { client in
            // A 300 s statement: cancelled, it ends within a minute even on a machine loaded by the tests beside it;
            // not cancelled, it would run its full 300 s. (The bound tells the two apart; it does not time anything.)
            let started = ContinuousClock.now
            let task = Task { try await client.query("SELECT pg_sleep(300)") }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(ContinuousClock.now - started < .seconds(60))
            #expect(try await client.query("SELECT 2").decode(Int.self) == [2])  // the connection is fine
        }
    }

    @Test func cancellingATaskThatWaitsForAConnectionLeavesThePoolIntact() async throws {
        try await TestDatabase.withClient(maximumConnections: 1) { client in
            try await client.withConnection { connection in
                let waiting = Task { try await client.query("SELECT 1") }
                try await Task.sleep(for: .milliseconds(100))
                waiting.cancel()
                await #expect(throws: CancellationError.self) { try await waiting.value }
                try await connection.query("SELECT 2")  // still ours
            }
            let rows = try await client.query("SELECT 3").decode(Int.self)
            #expect(rows == [3])
        }
    }

    @Test func statementCacheSurvivesSchemaChangesAndManyStatements() async throws {
        var configuration = PostgresConfiguration(connectionString: TestDatabase.url, maximumConnections: 1)
        configuration.statementCacheCapacity = 4
        let client = PostgresClient(configuration: configuration, logger: TestDatabase.logger)
        defer { Task { await client.shutdown() } }
        try await TestDatabase.withTable(client, "cache", columns: "k int") { table in
            try await client.query("INSERT INTO \(unescaped: table) VALUES (\(1))")
            #expect(try await client.query("SELECT * FROM \(unescaped: table) WHERE k = \(1)").columns == ["k"])
            try await client.query("ALTER TABLE \(unescaped: table) ADD COLUMN v text DEFAULT 'x'")
            // The cached plan's result type changed: re-prepared transparently.
            #expect(try await client.query("SELECT * FROM \(unescaped: table) WHERE k = \(1)").columns == ["k", "v"])
            for i in 0..<20 {  // more distinct statements than the cache holds
                let rows = try await client.query("SELECT \(i) + \(unescaped: String(i)) AS n")
                #expect(try rows.decode(Int.self) == [2 * i])
            }
        }
        await client.shutdown()
    }

    @Test func bindlessQueriesMayHoldSeveralStatements() async throws {
        try await TestDatabase.withClient { client in
            let table = TestDatabase.table("multi")
            let rows = try await client.query(
                """
                CREATE TABLE \(unescaped: table) (k int);
                INSERT INTO \(unescaped: table) VALUES (1), (2), (3);
                SELECT sum(k) FROM \(unescaped: table);
                DROP TABLE \(unescaped: table);
                """)
            #expect(rows.commandTag == "DROP TABLE")
            let inserted = try await client.query("SELECT 1 UNION ALL SELECT 2")
            #expect(inserted.count == 2)
            #expect(inserted.affectedRows == 2)
        }
    }

    @Test func shutdownLetsRunningQueriesFinish() async throws {
        let client = PostgresClient(
            configuration: .init(connectionString: TestDatabase.url, maximumConnections: 2), logger: TestDatabase.logger)
        let running = Task {
            try await client.query("SELECT pg_sleep(0.3), 7 AS n").map { try $0.decode(Int.self, column: "n") }
        }
        try await Task.sleep(for: .milliseconds(100))
        await client.shutdown()
        #expect(try await running.value == [7])
    }

    @Test func shutdownFailsLaterCallsWithPoolClosed() async throws {
        let client = PostgresClient(
            configuration: .init(connectionString: TestDatabase.url, maximumConnections: 2), logger: TestDatabase.logger)
        try await client.query("SELECT 1")
        await client.shutdown()
        let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
        #expect(error?.kind == .poolClosed)
        await client.shutdown()  // idempotent
    }
}
