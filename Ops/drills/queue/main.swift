// tandem-queue-drill: the consumer process of the queue's multi-process tests, and the benchmark.
//
//   tandem-queue-drill consume  --url U --prefix P [--concurrency 8] [--batch 100] [--lease-ms 30000]
//                               [--renew-ms 5000] [--work-ms 0] [--record]
//   tandem-queue-drill bench    --url U [--consumers 1] [--jobs 100000] [--repos 10]
//   tandem-queue-drill limiter  --url U [--seconds 180] [--rate 200]
//   tandem-queue-drill soak     --url U [--warm 10000] [--jobs 1000000] [--concurrency 200] [--max-growth-pct 10]
//
// `consume` runs until SIGTERM (a graceful drain) or SIGKILL. With --record it logs, under
// `<prefix>drill:`, each job's admission time per repository, how many times each job ran, and the
// highest concurrency seen per repository and per integration.
//
// `soak` runs one consumer process through `--jobs` no-op jobs (a bounded backlog, so Redis stays small) and reads
// that process's resident memory (VmRSS) once `--warm` jobs are acked and again at the end; it exits 3 when the
// second exceeds the first by more than `--max-growth-pct` percent (Ops/bench/worker-soak.sh).
import Dispatch
import Foundation
import Logging
import Redis
import TandemQueue
import TandemSupport

#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var values: [String: String] = [:]
    var flags: Set<String> = []

    init(_ arguments: ArraySlice<String>) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            guard argument.hasPrefix("--") else { continue }
            let name = String(argument.dropFirst(2))
            if ["record", "phased"].contains(name) {
                self.flags.insert(name)
            } else {
                self.values[name] = iterator.next() ?? ""
            }
        }
    }

    func string(_ name: String, _ fallback: String) -> String { self.values[name] ?? fallback }
    func int(_ name: String, _ fallback: Int) -> Int { self.values[name].flatMap { Int($0) } ?? fallback }
    var url: String {
        self.values["url"] ?? ProcessInfo.processInfo.environment["TANDEM_REDIS_URL"] ?? "redis://127.0.0.1:6390"
    }
}

let drillStart = RedisScript(
    name: "drill-start",
    source: """
        for i = 1, 3, 2 do
          local c = redis.call('INCR', KEYS[i])
          if c > tonumber(redis.call('GET', KEYS[i + 1]) or '0') then redis.call('SET', KEYS[i + 1], c) end
        end
        redis.call('RPUSH', KEYS[5], ARGV[1])
        redis.call('HINCRBY', KEYS[6], ARGV[2], 1)
        return 1
        """)

func makeQueue(_ options: Options, lanes: Int = 2) async throws -> (JobQueue, RedisClient) {
    var logger = Logger(label: "drill")
    logger.logLevel = .info
    let client = try await RedisClient.connect(url: options.url, lanes: lanes, logger: logger)
    let waiter = try await RedisClient.connect(url: options.url, lanes: 1, logger: logger)
    let configuration = JobQueue.Configuration(
        prefix: options.string("prefix", "tandem:"),
        leaseDuration: .milliseconds(options.int("lease-ms", 30_000)),
        renewInterval: .milliseconds(options.int("renew-ms", 5_000)))
    return (JobQueue(client: client, configuration: configuration), waiter)
}

func consume(_ options: Options) async throws {
    let (queue, waiter) = try await makeQueue(options)
    let prefix = queue.configuration.prefix + "drill:"
    let work = options.int("work-ms", 0)
    let record = options.flags.contains("record")
    let handler: QueueConsumer.Handler = { delivery in
        let job = delivery.job
        if record {
            try await queue.client.eval(
                drillStart,
                keys: [
                    "\(prefix)conc:\(job.repository)", "\(prefix)max:\(job.repository)",
                    "\(prefix)iconc:\(job.integration)", "\(prefix)imax:\(job.integration)",
                    "\(prefix)adm:\(job.repository):\(job.priority)", "\(prefix)runs",
                ],
                arguments: [String(format: "%.3f", delivery.admittedAt.timeIntervalSince1970 * 1000), job.id])
        }
        if work > 0 { try await Task.sleep(for: .milliseconds(work)) }
        if record {
            _ = try await queue.client.pipeline([
                ["DECR", "\(prefix)conc:\(job.repository)"], ["DECR", "\(prefix)iconc:\(job.integration)"],
            ])
        }
    }
    var logger = Logger(label: "drill.consumer")
    logger.logLevel = .info
    let consumer = QueueConsumer(
        queue: queue, waitClient: waiter,
        configuration: .init(
            workerID: options.values["worker-id"], concurrency: options.int("concurrency", 8),
            batchSize: options.int("batch", 100), version: "drill"),
        handlers: [.detect: handler, .scan: handler, .sync: handler, .maintenance: handler],
        logger: logger)
    signal(SIGTERM, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGTERM)
    source.setEventHandler { consumer.drain(timeout: .seconds(10)) }
    source.resume()
    print("ready \(consumer.configuration.workerID)")
    fflush(nil)
    await consumer.run()
    print("drained")
}

/// A queue under `prefix` whose repositories r0… and integrations i0… have no rate or concurrency limit.
func unlimitedQueue(_ options: Options, prefix: String, repos: Int) async throws -> JobQueue {
    var options = options
    options.values["prefix"] = prefix
    let (queue, _) = try await makeQueue(options)
    for index in 0..<repos {
        try await queue.setLimits(RepositoryLimits(eventsPerMinute: 0), repository: "r\(index)")
        try await queue.setMaxConcurrency(1_000_000, integration: "i\(index)")
    }
    return queue
}

/// Starts `count` consumer processes of this executable.
func spawnConsumers(_ count: Int, _ arguments: [String]) throws -> [ChildProcess] {
    try (0..<count).map { _ in try ChildProcess(CommandLine.arguments[0], ["consume"] + arguments) }
}

func stop(_ processes: [ChildProcess]) async {
    for process in processes { process.signal(SIGTERM) }
    for process in processes { await process.wait() }
}

func bench(_ options: Options) async throws {
    let consumers = options.int("consumers", 1)
    let total = options.int("jobs", 100_000)
    let repos = options.int("repos", 10)
    let prefix = "bench:\(getpid()):\(consumers):"
    let queue = try await unlimitedQueue(options, prefix: prefix, repos: repos)
    let phased = options.flags.contains("phased")  // enqueue everything first, then consume
    let consumerArguments = ["--url", options.url, "--prefix", prefix, "--concurrency", "2000", "--batch", "500"]
    var processes = phased ? [] : try spawnConsumers(consumers, consumerArguments)
    defer { for process in processes where process.isRunning { process.signal(SIGKILL) } }  // on errors
    if !phased { try await Task.sleep(for: .milliseconds(500)) }
    var start = ContinuousClock.now
    var sent = 0
    // Two batches in flight (the client has two lanes): building one overlaps sending the other.
    try await withThrowingTaskGroup(of: Void.self) { group in
        var inFlight = 0
        while sent < total {
            let range = sent..<min(sent + 1000, total)
            sent = range.upperBound
            if inFlight == 2 {
                try await group.next()
                inFlight -= 1
            }
            group.addTask {
                try await queue.enqueue(
                    range.map { n in
                        Job(id: "b\(n)", kind: .sync, repository: "r\(n % repos)", integration: "i\(n % repos)")
                    })
            }
            inFlight += 1
        }
        try await group.waitForAll()
    }
    let enqueued = ContinuousClock.now - start
    if phased {
        processes = try spawnConsumers(consumers, consumerArguments)
        start = ContinuousClock.now
    }
    while (try await queue.counters()["acked"] ?? 0) < total {
        try await Task.sleep(for: .milliseconds(2))
    }
    let elapsed = ContinuousClock.now - start
    await stop(processes)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(
        String(
            format: "consumers=%d jobs=%d seconds=%.3f jobs_per_s=%.0f (enqueue took %@)", consumers, total, seconds,
            Double(total) / seconds, "\(enqueued)"))
    try await cleanup(queue.client, prefix: prefix)
}

func limiter(_ options: Options) async throws {
    let seconds = options.int("seconds", 180)
    let rate = options.int("rate", 200)
    let prefix = "limiter:\(getpid()):"
    var options = options
    options.values["prefix"] = prefix
    let (queue, _) = try await makeQueue(options)
    try await queue.setLimits(RepositoryLimits(eventsPerMinute: rate), repository: "A")
    let backlog = rate * (seconds / 60 + 2)
    var jobs: [Job] = []
    for n in 0..<backlog {
        jobs.append(Job(kind: .sync, repository: "A", integration: "ia", priority: .low))
        if jobs.count == 1000 || n == backlog - 1 {
            try await queue.enqueue(jobs)
            jobs = []
        }
    }
    let processes = try spawnConsumers(
        2, ["--url", options.url, "--prefix", prefix, "--concurrency", "8", "--record"])
    defer { for process in processes where process.isRunning { process.signal(SIGKILL) } }  // on errors
    try await Task.sleep(for: .seconds(seconds + 2))
    await stop(processes)
    let times = (try await queue.client.send("LRANGE", "\(prefix)drill:adm:A:low", 0, -1).array ?? [])
        .compactMap(\.double).sorted()
    guard let first = times.first else { throw QueueError(.unexpectedReply, "no admissions") }
    let window = Double(seconds) * 1000
    let admitted = times.filter { $0 < first + window }.count
    let limit = Double(rate) * Double(seconds) / 60
    print(
        String(
            format: "limiter: rate=%d/min window=%ds admitted=%d limit=%.0f accuracy=%.1f%% (target 95-100%%)",
            rate, seconds, admitted, limit, Double(admitted) / limit * 100))
    try await cleanup(queue.client, prefix: prefix)
}

/// A process's resident set size in KiB (`VmRSS` in /proc/<pid>/status), or nil once it is gone.
func residentKiB(_ pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
    return nil
}

func soak(_ options: Options) async throws {
    let warm = options.int("warm", 10_000)
    let total = max(options.int("jobs", 1_000_000), warm)
    let limit = Double(options.int("max-growth-pct", 10))
    let repos = options.int("repos", 10)
    let window = options.int("backlog", 20_000)
    let prefix = "soak:\(getpid()):"
    let queue = try await unlimitedQueue(options, prefix: prefix, repos: repos)
    let processes = try spawnConsumers(
        1,
        [
            "--url", options.url, "--prefix", prefix, "--concurrency", String(options.int("concurrency", 200)),
            "--batch", String(options.int("batch", 200)),
        ])
    defer { for process in processes where process.isRunning { process.signal(SIGKILL) } }  // on errors
    let pid = processes[0].pid
    let start = ContinuousClock.now
    var sent = 0
    var acked = 0
    var warmKiB: Int?
    var endKiB: Int?
    var samples: [String] = []
    var nextSample = warm
    while endKiB == nil {
        acked = try await queue.counters()["acked"] ?? 0
        if warmKiB == nil && acked >= warm { warmKiB = residentKiB(pid) }
        if acked >= nextSample {
            samples.append("\(acked / 1000)k=\((residentKiB(pid) ?? 0) / 1024)MB")
            nextSample = nextSample < total / 10 ? total / 10 : nextSample + total / 10
        }
        if acked >= total {
            endKiB = residentKiB(pid)
            break
        }
        guard processes[0].isRunning else { throw QueueError(.unexpectedReply, "the consumer process exited") }
        if sent < total && sent - acked < window {
            let range = sent..<min(sent + 1000, total)
            sent = range.upperBound
            try await queue.enqueue(
                range.map { n in Job(id: "s\(n)", kind: .sync, repository: "r\(n % repos)", integration: "i\(n % repos)") })
        } else {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
    let elapsed = ContinuousClock.now - start
    await stop(processes)
    try await cleanup(queue.client, prefix: prefix)
    guard let before = warmKiB, let after = endKiB else { throw QueueError(.unexpectedReply, "could not read the consumer's RSS") }
    let growth = (Double(after) / Double(before) - 1) * 100
    print(
        String(
            format: "soak: rss_after_%d=%.1fMB rss_after_%d=%.1fMB growth=%.1f%% (limit %.0f%%) seconds=%lld samples: %@", warm,
            Double(before) / 1024, total, Double(after) / 1024, growth, limit, elapsed.components.seconds,
            samples.joined(separator: " ")))
    if growth > limit {
        print("FAIL: the consumer's memory grew by more than \(Int(limit)) %")
        exit(3)
    }
}

func cleanup(_ client: RedisClient, prefix: String) async throws {
    var cursor = "0"
    repeat {
        let parts = try await client.send("SCAN", cursor, "MATCH", "\(prefix)*", "COUNT", 1000).array ?? []
        guard parts.count == 2, let next = parts[0].string else { break }
        let keys = (parts[1].array ?? []).compactMap(\.string)
        if !keys.isEmpty { try await client.send(["UNLINK"] + keys) }
        cursor = next
    } while cursor != "0"
}

let arguments = CommandLine.arguments
let options = Options(arguments.dropFirst(2))
do {
    switch arguments.count > 1 ? arguments[1] : "" {
    case "consume": try await consume(options)
    case "bench": try await bench(options)
    case "limiter": try await limiter(options)
    case "soak": try await soak(options)
    default:
        print("usage: tandem-queue-drill consume|bench|limiter|soak [--url redis://...] [options]")
        exit(2)
    }
} catch {
    print("error: \(error)")
    exit(1)
}
