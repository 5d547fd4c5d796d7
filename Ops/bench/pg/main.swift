// Single-row INSERT throughput through the Postgres client, for Ops/bench/pg.sh (which runs pgbench on the
// same statement beside it).
//
//   tandem-bench-pg --table bench_pg_insert --connections 8 --seconds 5
//
// Reads TANDEM_DATABASE_URL. Prints one line: `inserts_per_second=<n> inserts=<n> seconds=<s>`.
import Foundation
import Logging
import Postgres

struct Options {
    var table = "bench_pg_insert"
    var connections = 1
    var seconds = 5.0
    var warmup = 1.0

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            let value = iterator.next() ?? ""
            switch argument {
            case "--table": self.table = value
            case "--connections": self.connections = Int(value) ?? 1
            case "--seconds": self.seconds = Double(value) ?? 5
            case "--warmup": self.warmup = Double(value) ?? 1
            default:
                FileHandle.standardError.write(Data("unknown option \(argument)\n".utf8))
                exit(2)
            }
        }
    }
}

/// `workers` tasks insert rows back to back for `seconds`; returns how many rows they inserted.
func run(client: PostgresClient, table: String, workers: Int, seconds: Double) async throws -> Int {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    return try await withThrowingTaskGroup(of: Int.self) { group in
        for worker in 0..<workers {
            group.addTask {
                var count = 0
                var k = Int.random(in: 1...1_000_000_000)
                while ContinuousClock.now < deadline {
                    k &+= 7919 &* (worker + 1)
                    try await client.query("INSERT INTO \(unescaped: table) (k, v) VALUES (\(k), \(count))")
                    count += 1
                }
                return count
            }
        }
        var total = 0
        for try await count in group { total += count }
        return total
    }
}

let options = Options(arguments: CommandLine.arguments)
guard let url = ProcessInfo.processInfo.environment["TANDEM_DATABASE_URL"] else {
    FileHandle.standardError.write(Data("TANDEM_DATABASE_URL is not set\n".utf8))
    exit(2)
}
var logger = Logger(label: "tandem.bench.pg")
logger.logLevel = .warning
let client = PostgresClient(
    configuration: PostgresConfiguration(connectionString: url, maximumConnections: options.connections),
    logger: logger)
do {
    // Warm-up: open every connection and prepare the statement (pgbench also leaves connecting out of tps).
    _ = try await run(client: client, table: options.table, workers: options.connections, seconds: options.warmup)
    let start = ContinuousClock.now
    let inserted = try await run(
        client: client, table: options.table, workers: options.connections, seconds: options.seconds)
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(String(format: "inserts_per_second=%.1f inserts=%d seconds=%.3f", Double(inserted) / seconds, inserted, seconds))
    await client.shutdown()
} catch {
    FileHandle.standardError.write(Data("tandem-bench-pg: \(error)\n".utf8))
    await client.shutdown()
    exit(1)
}
