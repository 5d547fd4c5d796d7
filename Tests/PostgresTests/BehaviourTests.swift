import Foundation
import Logging
import Postgres
import Synchronization
import Testing

/// Keeps every log record (message and metadata as text) for inspection.
final class LogRecords: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { self.lines.withLock { $0 } }
    func append(_ line: String) { self.lines.withLock { $0.append(line) } }

    func logger() -> Logger {
        var logger = Logger(label: "tandem.postgres.capture") { _ in CollectingHandler(records: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CollectingHandler: LogHandler {
    let records: LogRecords
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        self.records.append("\(event.level) \(event.message) \(rendered)")
    }
}

@Suite struct BehaviourTests {
    @Test func noticesGoToTheDebugLogNotStderrAndBindValuesAreNeverLogged() async throws {
        let records = LogRecords()
        let client = PostgresClient(
            configuration: .init(connectionString: TestDatabase.url, maximumConnections: 1), logger: records.logger())
        try await client.query("DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$")
        let secret = "s3cret-\(UUID().uuidString)"
        _ = try? await client.query("SELECT * FROM missing_table_for_log_test WHERE token = \(secret)")
        _ = try? await client.query("SELECT \(secret)::int")
        await client.shutdown()
        let lines = records.all
        #expect(lines.contains { $0.hasPrefix("debug postgres notice") && $0.contains("hello from the server") })
        #expect(lines.contains { $0.contains("db.statement=SELECT * FROM missing_table_for_log_test WHERE token = $1") })
        #expect(lines.contains { $0.contains("db.sqlstate=42P01") })
        #expect(!lines.contains { $0.contains(secret) })
        // The connection string's password never reaches the log either.
        if let password = URLComponents(string: TestDatabase.url)?.password, !password.isEmpty {
            #expect(!lines.contains { $0.contains(password) })
        }
    }

    /// Blocking libpq calls run on the pool's own threads: while 4 connections sit in 20-second statements, a ticker
    /// on Swift's cooperative pool (2 threads here) keeps ticking. Were the calls on the pool, the ticker would stall
    /// for at least 20 s; the bound (10 s) tells the two apart even while the tests beside this one load the machine.
    @Test func blockingCallsStayOffTheCooperativePool() async throws {
        try await TestDatabase.withClient(maximumConnections: 4) { client in
            _ = try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await client.query("SELECT 1") } }  // connect first
                try await group.waitForAll()
            }
            let clock = ContinuousClock()
            let start = clock.now
            let worstDelay = try await withThrowingTaskGroup(of: Duration.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await client.query("SELECT pg_sleep(20)")
                        return .zero
                    }
                }
                group.addTask {
                    var worst = Duration.zero
                    while clock.now - start < .seconds(18) {
                        let before = clock.now
                        try await Task.sleep(for: .milliseconds(10))
                        worst = max(worst, clock.now - before - .milliseconds(10))
                    }
                    return worst
                }
                var worst = Duration.zero
                for try await delay in group { worst = max(worst, delay) }
                return worst
            }
            #expect(clock.now - start < .seconds(60))  // the 4 sleeps ran in parallel (one after another: 80 s)
            #expect(worstDelay < .seconds(10), "ticker delayed by \(worstDelay)")  // on the pool: >= 20 s
        }
    }
}
