// The whole-pipeline benchmark's driver (Ops/bench/pipeline.sh): load on the repository simulator, twins counted
// and lags read from the simulator's write log. Prints key=value lines; asserts nothing.
//
//   tandem-bench-pipeline throughput --simulator URL [--left left] [--right right] [--count 300] [--timeout 300]
//   tandem-bench-pipeline lag --simulator URL [--rate 50] [--seconds 60] [--items 300] [--timeout 120]
//   tandem-bench-pipeline updates --simulator URL [--count 300] [--pool NAME] [--timeout 300]
//   tandem-bench-pipeline quiesce --simulator URL [--quiet 2] [--timeout 60]
import Foundation
import HTTP
import TandemConnectors
import TandemCore

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct Options {
    var command = ""
    var values: [String: String] = [:]

    init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        guard let command = rest.popFirst() else { throw Failure("usage: tandem-bench-pipeline throughput|lag|quiesce --simulator URL ...") }
        self.command = command
        while let name = rest.popFirst() {
            guard name.hasPrefix("--"), let value = rest.popFirst() else { throw Failure("expected --name value, got \(name)") }
            self.values[String(name.dropFirst(2))] = value
        }
    }

    func string(_ name: String, _ fallback: String? = nil) throws -> String {
        guard let value = self.values[name] ?? fallback else { throw Failure("--\(name) is required") }
        return value
    }

    func number(_ name: String, _ fallback: Double) throws -> Double {
        guard let text = self.values[name] else { return fallback }
        guard let value = Double(text), value >= 0 else { throw Failure("--\(name): not a number: \(text)") }
        return value
    }
}

/// The simulator's operations routes and a connector per repository.
struct Simulator {
    let base: String
    let client: HTTPClient
    let settings = ConnectionSettings(repository: "bench", requestTimeout: .seconds(30))

    func call<T: Decodable>(_ type: T.Type, _ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> T {
        guard let url = URL(string: self.base + path) else { throw Failure("bad simulator URL \(self.base)") }
        var request = HTTPRequest(method, url, body: body.map { Data($0.utf8) })
        if body != nil { request.setHeader("Content-Type", "application/json") }
        let response = try await self.client.send(request, settings: self.settings)
        return try SimulatorWire.decoder().decode(type, from: response.body)
    }

    func stats(_ repository: String) async throws -> SimulatorWire.Stats {
        try await self.call(SimulatorWire.Stats.self, .get, "/repos/\(repository)/stats")
    }

    func count(_ repository: String) async throws -> Int { try await self.stats(repository).artifacts["demo"] ?? 0 }

    func seed(_ repository: String, count: Int, prefix: String) async throws -> [String] {
        try await self.call(
            SimulatorWire.IDs.self, .post, "/repos/\(repository)/seed", body: #"{"project":"demo","count":\#(count),"titlePrefix":"\#(prefix)"}"#
        ).ids
    }

    /// The whole write log of a repository (paged).
    func log(_ repository: String) async throws -> [SimulatorWire.WriteEvent] {
        var events: [SimulatorWire.WriteEvent] = []
        var after = 0
        while true {
            let page = try await self.call(SimulatorWire.WriteLog.self, .get, "/repos/\(repository)/log?after=\(after)&limit=50000").events
            events += page
            guard let last = page.last else { return events }
            after = last.seq
        }
    }

    func connector(_ repository: String) throws -> RemoteMemoryConnector {
        guard let url = URL(string: "\(self.base)/repos/\(repository)") else { throw Failure("bad simulator URL \(self.base)") }
        return RemoteMemoryConnector(.init(repositoryURL: url, settings: self.settings), client: self.client)
    }

    /// Waits until `repository` holds `target` artifacts in project demo; returns the time of each count reached
    /// (polled every 50 ms), for the steady-state rate.
    func waitForCount(_ repository: String, _ target: Int, timeout: Double) async throws -> [(count: Int, at: ContinuousClock.Instant)] {
        try await self.waitFor(repository, "artifacts", target, timeout: timeout) { $0.artifacts["demo"] ?? 0 }
    }

    /// Waits until `metric` of `repository`'s stats reaches `target`, sampling every 50 ms.
    func waitFor(
        _ repository: String, _ what: String, _ target: Int, timeout: Double, _ metric: (SimulatorWire.Stats) -> Int
    ) async throws -> [(count: Int, at: ContinuousClock.Instant)] {
        var samples: [(count: Int, at: ContinuousClock.Instant)] = []
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            let count = metric(try await self.stats(repository))
            samples.append((count, .now))
            if count >= target { return samples }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure("timeout: \(repository) has \(samples.last?.count ?? 0) of \(target) \(what) after \(Int(timeout)) s")
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = max(0, min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[rank]
}

func format(_ value: Double) -> String { String(format: "%.3f", value) }

/// The rates of one run: end-to-end (start → last) and steady (10 % → 90 % of the items, without detection's start-up).
func report(count: Int, before: Int, started: ContinuousClock.Instant, samples: [(count: Int, at: ContinuousClock.Instant)]) {
    let total = seconds(started.duration(to: samples.last?.at ?? .now))
    func reached(_ fraction: Double) -> ContinuousClock.Instant? {
        samples.first { $0.count - before >= Int((Double(count) * fraction).rounded(.up)) }?.at
    }
    var steady = Double(count) / total
    if let low = reached(0.1), let high = reached(0.9), low < high {
        steady = Double(count) * 0.8 / seconds(low.duration(to: high))
    }
    print("items=\(count) total_s=\(format(total)) items_per_s=\(format(Double(count) / total)) steady_items_per_s=\(format(steady))")
}

/// Seeds K items on the left and waits until the right holds K more twins (creates).
func throughput(_ simulator: Simulator, _ options: Options) async throws {
    let left = try options.string("left", "left")
    let right = try options.string("right", "right")
    let count = Int(try options.number("count", 300))
    let timeout = try options.number("timeout", 300)
    let before = try await simulator.count(right)
    let started = ContinuousClock.now
    _ = try await simulator.seed(left, count: count, prefix: "bench-\(UInt64(Date().timeIntervalSince1970 * 1000))")
    report(count: count, before: before, started: started, samples: try await simulator.waitForCount(right, before + count, timeout: timeout))
}

/// Takes K paired items on the left (`--pool NAME`: seeded by an earlier call with the same pool, topped up by seeding
/// and waiting for the twins, untimed); then changes every one's title at once (64 calls in flight) and waits until
/// the right has served K more writes (updates of existing pairs).
func updates(_ simulator: Simulator, _ options: Options) async throws {
    let left = try options.string("left", "left")
    let right = try options.string("right", "right")
    let count = Int(try options.number("count", 300))
    let timeout = try options.number("timeout", 300)
    let run = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
    // The items: those seeded earlier under the pool's name (when given), topped up by seeding.
    let pool = options.values["pool"] ?? "seed-\(run)"
    var ids = try await simulator.log(left).filter { $0.operation == "create" && ($0.title?.hasPrefix(pool + " ") ?? false) }.map(\.id)
    ids = Array(ids.prefix(count))
    if ids.count < count {
        let twins = try await simulator.count(right)
        let missing = count - ids.count
        ids += try await simulator.seed(left, count: missing, prefix: pool)
        _ = try await simulator.waitForCount(right, twins + missing, timeout: timeout)
    }
    try await quiesce(simulator, quiet: 2, timeout: 60, print: false)
    let before = try await simulator.stats(right).writes
    let connector = try simulator.connector(left)
    let started = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for (n, id) in ids.enumerated() {
            if n >= 64 { try await group.next() }
            group.addTask { _ = try await connector.updateFields(id: id, ["title": .string("upd-\(run)-\(n)")]) }
        }
        try await group.waitForAll()
    }
    let samples = try await simulator.waitFor(right, "writes", before + count, timeout: timeout) { $0.writes }
    report(count: count, before: before, started: started, samples: samples)
}

/// Seeds the items and waits for their twins; then updates left titles at a steady rate and, from the write logs,
/// measures change written at the left → twin written at the right with that title.
func lag(_ simulator: Simulator, _ options: Options) async throws {
    let left = try options.string("left", "left")
    let right = try options.string("right", "right")
    let rate = try options.number("rate", 50)
    let duration = try options.number("seconds", 60)
    let items = Int(try options.number("items", 300))
    let timeout = try options.number("timeout", 120)
    guard rate > 0, items > 0 else { throw Failure("--rate and --items must be positive") }
    let run = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
    let before = try await simulator.count(right)
    let ids = try await simulator.seed(left, count: items, prefix: "seed-\(run)")
    _ = try await simulator.waitForCount(right, before + items, timeout: timeout)
    try await Task.sleep(for: .seconds(3))  // let the twins' own feed entries pass

    let connector = try simulator.connector(left)
    let total = Int(rate * duration)
    let interval = Duration.seconds(1 / rate)
    let start = ContinuousClock.now
    var late = 0
    for n in 0..<total {
        let due = start + interval * n
        if due > .now { try await Task.sleep(until: due) } else if ContinuousClock.now - due > .milliseconds(100) { late += 1 }
        _ = try await connector.updateFields(id: ids[n % ids.count], ["title": .string("lag-\(run)-\(n)")])
    }
    let achieved = Double(total) / seconds(start.duration(to: .now))

    // Wait until every title reached the right (or was overtaken by a later one of the same item), or the timeout.
    let prefix = "lag-\(run)-"
    let deadline = ContinuousClock.now + .seconds(timeout)
    var written: [String: Date] = [:]
    var arrived: [String: Date] = [:]
    while true {
        written = [:]
        for event in try await simulator.log(left) where event.operation == "update" {
            if let title = event.title, title.hasPrefix(prefix), written[title] == nil { written[title] = event.time }
        }
        arrived = [:]
        for event in try await simulator.log(right) {
            if let title = event.title, title.hasPrefix(prefix), arrived[title] == nil { arrived[title] = event.time }
        }
        // The last title of each item must arrive; earlier ones may be overtaken.
        let lastTitles = Set((max(0, total - ids.count)..<total).map { "\(prefix)\($0)" })
        if lastTitles.isSubset(of: Set(arrived.keys)) || ContinuousClock.now > deadline { break }
        try await Task.sleep(for: .milliseconds(500))
    }
    let lags = written.compactMap { title, at in arrived[title].map { $0.timeIntervalSince(at) } }.sorted()
    print(
        "changes=\(total) rate_target=\(format(rate)) rate_achieved=\(format(achieved)) late_writes=\(late) matched=\(lags.count) "
            + "unmatched=\(total - lags.count) p50_s=\(format(percentile(lags, 0.5))) p95_s=\(format(percentile(lags, 0.95))) "
            + "p99_s=\(format(percentile(lags, 0.99))) max_s=\(format(lags.last ?? .nan))")
}

/// Waits until no repository of the simulator has served a write for `quiet` seconds.
func quiesce(_ simulator: Simulator, quiet: Double, timeout: Double, print show: Bool = true) async throws {
    let deadline = ContinuousClock.now + .seconds(timeout)
    var last = -1
    var since = ContinuousClock.now
    while ContinuousClock.now < deadline {
        let all = try await simulator.call([String: [String: SimulatorWire.Stats]].self, .get, "/stats")
        let writes = all["repositories", default: [:]].values.reduce(0) { $0 + $1.writes }
        if writes != last {
            last = writes
            since = .now
        } else if since.duration(to: .now) >= .seconds(quiet) {
            if show { print("quiet writes=\(writes)") }
            return
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    if show { print("not-quiet writes=\(last)") }
}

let client = HTTPClient()
do {
    let options = try Options(CommandLine.arguments)
    let simulator = Simulator(base: try options.string("simulator").trimmingCharacters(in: CharacterSet(charactersIn: "/")), client: client)
    switch options.command {
    case "throughput": try await throughput(simulator, options)
    case "lag": try await lag(simulator, options)
    case "updates": try await updates(simulator, options)
    case "quiesce": try await quiesce(simulator, quiet: try options.number("quiet", 2), timeout: try options.number("timeout", 60))
    default: throw Failure("unknown command \(options.command)")
    }
    await client.shutdown()
} catch {
    FileHandle.standardError.write(Data("tandem-bench-pipeline: \(error)\n".utf8))
    await client.shutdown()
    exit(1)
}
