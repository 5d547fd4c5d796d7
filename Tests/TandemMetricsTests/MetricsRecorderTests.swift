import Foundation
import Logging
import Redis
import ServiceLifecycle
import TandemMetrics
import Testing

let redisURL = ProcessInfo.processInfo.environment["TANDEM_REDIS_URL"] ?? "redis://127.0.0.1:6390"
let quiet = Logger(label: "tandem.tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// A fresh key prefix per test, its keys deleted afterwards.
func withRedis<T>(_ body: (RedisClient, String) async throws -> T) async throws -> T {
    let client = try await RedisClient.connect(url: redisURL, lanes: 2, logger: quiet)
    let prefix = "tandem-test-\(UUID().uuidString.prefix(8).lowercased()):"
    do {
        let result = try await body(client, prefix)
        try await client.send("DEL", prefix + "metrics:counters", prefix + "metrics:histograms")
        await client.close()
        return result
    } catch {
        _ = try? await client.send("DEL", prefix + "metrics:counters", prefix + "metrics:histograms")
        await client.close()
        throw error
    }
}

@Suite("Metrics recorded into a real Redis", .serialized, .timeLimit(.minutes(1)))
struct MetricsRecorderTests {
    @Test func twoRecordersSumAcrossProcesses() async throws {
        try await withRedis { client, prefix in
            // Two recorders with their own connections, as two worker processes would have.
            let otherClient = try await RedisClient.connect(url: redisURL, lanes: 1, logger: quiet)
            defer { Task { await otherClient.close() } }
            let first = MetricsRecorder(redis: client, prefix: prefix, logger: quiet)
            let second = MetricsRecorder(redis: otherClient, prefix: prefix, logger: quiet)
            for _ in 0..<5 { first.jobFinished(kind: "sync", outcome: "ok", seconds: 0.3) }
            for _ in 0..<3 { second.jobFinished(kind: "sync", outcome: "ok", seconds: 2) }
            second.jobFinished(kind: "detect", outcome: "retry", seconds: 0.02)
            first.apiCalls(repository: "redmine", count: 10)
            second.apiCalls(repository: "redmine", count: 5)
            second.apiCalls(repository: "roundup", count: 1)
            first.limiter(repository: "redmine", admitted: 7, denied: 2)
            second.limiter(repository: "redmine", admitted: 1, denied: 0)
            first.itemsSynced(integration: "bugs", created: 2, updated: 1)
            second.itemsSynced(integration: "bugs", created: 0, updated: 4)
            first.syncLag(seconds: 0.4)
            second.syncLag(seconds: 7)
            second.syncLag(seconds: 900)

            // Nothing reaches Redis before a flush.
            #expect(try await MetricsSnapshot.read(redis: client, prefix: prefix) == MetricsSnapshot())
            try await first.flush()
            try await second.flush()
            try await first.flush()  // an empty flush changes nothing

            let snapshot = try await MetricsSnapshot.read(redis: client, prefix: prefix)
            #expect(snapshot.jobs == ["sync": ["ok": 8], "detect": ["retry": 1]])
            #expect(snapshot.apiCalls == ["redmine": 15, "roundup": 1])
            #expect(snapshot.limiterAdmissions == ["redmine": 8])
            #expect(snapshot.limiterDenials == ["redmine": 2])
            #expect(snapshot.itemsSynced == ["bugs": ["created": 2, "updated": 5]])
            #expect(snapshot.syncLag.count == 3)
            #expect(snapshot.syncLag.cumulativeCounts.first == 1)  // 0.4 ≤ 0.5
            #expect(snapshot.syncLag.counts.last == 1)  // 900 > 600
            #expect(abs(snapshot.syncLag.sum - 907.4) < 1e-9)
            let sync = try #require(snapshot.jobDuration["sync"])
            #expect(sync.count == 8)
            #expect(abs(sync.sum - 7.5) < 1e-9)
            #expect(sync.counts[Histogram.bucket(of: 0.3, bounds: sync.bounds)] == 5)
            #expect(sync.counts[Histogram.bucket(of: 2, bounds: sync.bounds)] == 3)

            let text = snapshot.prometheusText()
            #expect(text.contains(#"tandem_jobs_total{kind="sync",outcome="ok"} 8"#))
            #expect(text.contains(#"tandem_api_calls_total{repository="redmine"} 15"#))
            #expect(text.contains(#"tandem_sync_lag_seconds_count 3"#))
        }
    }

    @Test func aFailedFlushKeepsItsIncrementsForTheNext() async throws {
        let server = try LocalRedisServer()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.reconnectTimeout = .milliseconds(300)
        let client = RedisClient(configuration: configuration, lanes: 1, logger: quiet)
        let recorder = MetricsRecorder(redis: client, prefix: "tandem:", logger: quiet)
        recorder.apiCalls(repository: "redmine", count: 3)
        try await recorder.flush()
        server.stop()
        recorder.apiCalls(repository: "redmine", count: 2)
        recorder.syncLag(seconds: 1)
        await #expect(throws: (any Error).self) { try await recorder.flush() }
        recorder.apiCalls(repository: "redmine", count: 4)
        try server.start()  // no persistence: the server comes back empty
        try await recorder.flush()
        let snapshot = try await MetricsSnapshot.read(redis: client, prefix: "tandem:")
        #expect(snapshot.apiCalls == ["redmine": 6])
        #expect(snapshot.syncLag.count == 1)
        await client.close()
    }

    @Test func serviceFlushesPeriodicallyAndOnGracefulShutdown() async throws {
        try await withRedis { client, prefix in
            let recorder = MetricsRecorder(redis: client, prefix: prefix, flushInterval: .milliseconds(100), logger: quiet)
            let group = ServiceGroup(services: [recorder], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                recorder.jobFinished(kind: "scan", outcome: "ok", seconds: 1)
                // The periodic flush brings it to Redis without an explicit flush.
                var seen = 0
                for _ in 0..<50 where seen == 0 {
                    try await Task.sleep(for: .milliseconds(50))
                    seen = try await MetricsSnapshot.read(redis: client, prefix: prefix).jobs["scan"]?["ok"] ?? 0
                }
                #expect(seen == 1)
                // What is recorded just before shutdown is flushed by the last flush.
                recorder.jobFinished(kind: "scan", outcome: "ok", seconds: 1)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(try await MetricsSnapshot.read(redis: client, prefix: prefix).jobs["scan"]?["ok"] == 2)
        }
    }
}
