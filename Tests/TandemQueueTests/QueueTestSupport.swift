import Foundation
import Logging
import Redis
import TandemQueue
import TandemSupport

let redisURL = ProcessInfo.processInfo.environment["TANDEM_REDIS_URL"] ?? "redis://127.0.0.1:6390"

/// Runs `body` with a fresh `TestQueue` and removes its keys afterwards, even when `body` throws.
func withTestQueue(
    url: String = redisURL, lease: Duration = .seconds(30), renew: Duration = .seconds(5),
    _ body: (TestQueue) async throws -> Void
) async throws {
    let queue = try await TestQueue(url: url, lease: lease, renew: renew)
    do {
        try await body(queue)
    } catch {
        await queue.finish()
        throw error
    }
    await queue.finish()
}

/// A queue under a key prefix of its own, removed at the end.
struct TestQueue {
    let queue: JobQueue
    let waiter: RedisClient
    let prefix: String
    var client: RedisClient { self.queue.client }

    init(url: String = redisURL, lease: Duration = .seconds(30), renew: Duration = .seconds(5)) async throws {
        let logger = Logger(label: "test")
        let client = try await RedisClient.connect(url: url, lanes: 2, logger: logger)
        self.waiter = try await RedisClient.connect(url: url, lanes: 1, logger: logger)
        self.prefix = "test:\(UUID().uuidString.prefix(8)):"
        self.queue = JobQueue(
            client: client,
            configuration: .init(
                prefix: self.prefix, leaseDuration: lease, renewInterval: renew, backoffBase: .milliseconds(20),
                backoffCap: .milliseconds(100)))
    }

    func consumer(concurrency: Int = 4, handler: @escaping QueueConsumer.Handler) -> QueueConsumer {
        QueueConsumer(
            queue: self.queue, waitClient: self.waiter, configuration: .init(concurrency: concurrency),
            handlers: [.detect: handler, .scan: handler, .sync: handler, .maintenance: handler],
            logger: Logger(label: "test"))
    }

    /// Removes every key under the prefix and closes the clients.
    func finish() async {
        var cursor = "0"
        repeat {
            guard let reply = try? await self.client.send("SCAN", cursor, "MATCH", "\(self.prefix)*", "COUNT", 1000),
                let parts = reply.array, parts.count == 2, let next = parts[0].string
            else { break }
            let keys = parts[1].array?.compactMap(\.string) ?? []
            if !keys.isEmpty { _ = try? await self.client.send(["UNLINK"] + keys) }
            cursor = next
        } while cursor != "0"
        await self.client.close()
        await self.waiter.close()
    }

    func counter(_ name: String) async throws -> Int { try await self.queue.counters()[name] ?? 0 }

    /// Waits until `condition` holds, checking every 50 ms, for at most `timeout`.
    func waitUntil(
        timeout: Duration, _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    // MARK: Consumer processes (the drill)

    /// The drill executable built next to the test bundle.
    static var drillPath: String { builtExecutable("tandem-queue-drill", overriddenBy: "TANDEM_QUEUE_DRILL") }

    /// Starts consumer processes that record admissions, runs and concurrency under `drill:`.
    func spawnConsumers(
        _ count: Int, url: String = redisURL, concurrency: Int = 8, workMillis: Int = 0, extra: [String] = []
    ) throws -> [ChildProcess] {
        let lease = Int(self.queue.configuration.leaseDuration.components.seconds * 1000)
        let renew = Int(self.queue.configuration.renewInterval.components.seconds * 1000)
        return try (0..<count).map { index in
            try ChildProcess(
                Self.drillPath,
                [
                    "consume", "--url", url, "--prefix", self.prefix, "--concurrency", String(concurrency),
                    "--work-ms", String(workMillis), "--lease-ms", String(lease), "--renew-ms", String(renew),
                    "--worker-id", "drill-\(index)", "--record",
                ] + extra,
                outputPath: NSTemporaryDirectory() + "tandem-queue-drill-\(self.prefix.dropLast()).log")
        }
    }

    func drill(_ suffix: String) -> String { "\(self.prefix)drill:\(suffix)" }

    /// Highest concurrency the handlers saw for a repository or an integration.
    func maxSeen(repository: String) async throws -> Int {
        try await self.client.send("GET", self.drill("max:\(repository)")).int ?? 0
    }

    func maxSeen(integration: String) async throws -> Int {
        try await self.client.send("GET", self.drill("imax:\(integration)")).int ?? 0
    }

    /// Admission times (ms, Redis clock) of one repository's class, sorted.
    func admissions(repository: String, priority: JobPriority) async throws -> [Double] {
        let values = try await self.client.send("LRANGE", self.drill("adm:\(repository):\(priority)"), 0, -1)
        return (values.array ?? []).compactMap(\.double).sorted()
    }

    /// How many times each job ran.
    func runs() async throws -> [String: Int] {
        let values = try await self.client.send("HGETALL", self.drill("runs")).array ?? []
        var runs: [String: Int] = [:]
        for index in stride(from: 0, to: values.count - 1, by: 2) {
            if let id = values[index].string { runs[id] = values[index + 1].int ?? 0 }
        }
        return runs
    }
}

/// The most admissions in any half-open window of `window` ms starting at an admission.
func maxInWindow(_ times: [Double], window: Double) -> Int {
    var best = 0
    var end = 0
    for start in times.indices {
        // 0.05 ms of slack: the limiter's state is stored as a decimal with 0.01 ms precision.
        while end < times.count && times[end] < times[start] + window - 0.05 { end += 1 }
        best = max(best, end - start)
    }
    return best
}

/// Kills consumer processes that are still running (not yet waited for): a test that ends early
/// must not leave them behind.
func stopLeftovers(_ processes: [ChildProcess]) {
    for process in processes where process.isRunning { process.signal(9) }
    for process in processes { _ = process.isRunning }  // reap
}
