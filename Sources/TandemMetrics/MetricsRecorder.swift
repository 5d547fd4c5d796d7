public import Logging
public import Redis
public import ServiceLifecycle
import Synchronization

/// Records the cluster's metrics from any process into Redis, where the server reads them for `/metrics`.
///
/// Recording only adds to counters in memory (a lock, no I/O); `flush()` sends everything gathered since the
/// last flush in one round trip (`MULTI`, one `HINCRBY`/`HINCRBYFLOAT` per changed field, `EXEC`). As a
/// `Service`, the recorder flushes every `flushInterval` until graceful shutdown, then once more. A flush that
/// fails keeps its increments for the next one, so a Redis outage delays metrics but does not lose them.
public final class MetricsRecorder: Sendable, Service, CustomStringConvertible {
    public let redis: RedisClient
    public let prefix: String
    public let flushInterval: Duration
    private let logger: Logger
    private let pending = Mutex(Pending())

    /// Increments gathered since the last flush, by Redis hash field.
    struct Pending: Sendable {
        var counters: [String: Int] = [:]
        var histogramCounts: [String: Int] = [:]
        var histogramSums: [String: Double] = [:]

        var isEmpty: Bool { self.counters.isEmpty && self.histogramCounts.isEmpty && self.histogramSums.isEmpty }

        mutating func merge(_ other: Pending) {
            self.counters.merge(other.counters, uniquingKeysWith: +)
            self.histogramCounts.merge(other.histogramCounts, uniquingKeysWith: +)
            self.histogramSums.merge(other.histogramSums, uniquingKeysWith: +)
        }

        mutating func observe(_ series: String, _ value: Double, bounds: [Double]) {
            let value = value.isFinite ? max(0, value) : 0
            let bucket = Histogram.bucket(of: value, bounds: bounds)
            self.histogramCounts[MetricSeries.histogramField(series, String(bucket)), default: 0] += 1
            self.histogramCounts[MetricSeries.histogramField(series, "count"), default: 0] += 1
            self.histogramSums[MetricSeries.histogramField(series, "sum"), default: 0] += value
        }
    }

    /// - Parameters:
    ///   - redis: The installation's Redis.
    ///   - prefix: The installation's key prefix (as the queue's).
    ///   - flushInterval: How often `run()` flushes.
    public init(redis: RedisClient, prefix: String = "tandem:", flushInterval: Duration = .seconds(1), logger: Logger) {
        self.redis = redis
        self.prefix = prefix
        self.flushInterval = flushInterval
        self.logger = logger
    }

    public var description: String { "MetricsRecorder(\(self.prefix))" }

    // MARK: Recording

    /// One job ran: its kind (`detect`, `scan`, `sync`, …), outcome (`ok`, `retry`, `dead`, …) and run time.
    public func jobFinished(kind: String, outcome: String, seconds: Double) {
        self.pending.withLock {
            $0.counters[MetricSeries.field(MetricSeries.jobs, [kind, outcome]), default: 0] += 1
            $0.observe(MetricSeries.field(MetricSeries.jobDuration, [kind]), seconds, bounds: Histogram.jobDurationBounds)
        }
    }

    /// One change was carried across: from when it was seen in one tracker to when it was written in the other.
    public func syncLag(seconds: Double) {
        self.pending.withLock {
            $0.observe(MetricSeries.field(MetricSeries.syncLag, []), seconds, bounds: Histogram.syncLagBounds)
        }
    }

    /// API calls made to a repository.
    public func apiCalls(repository: String, count: Int) {
        guard count != 0 else { return }
        self.pending.withLock { $0.counters[MetricSeries.field(MetricSeries.apiCalls, [repository]), default: 0] += count }
    }

    /// The repository limiter's decisions.
    public func limiter(repository: String, admitted: Int, denied: Int) {
        self.pending.withLock {
            if admitted != 0 { $0.counters[MetricSeries.field(MetricSeries.admissions, [repository]), default: 0] += admitted }
            if denied != 0 { $0.counters[MetricSeries.field(MetricSeries.denials, [repository]), default: 0] += denied }
        }
    }

    /// Artifacts created and updated by an integration.
    public func itemsSynced(integration: String, created: Int, updated: Int) {
        self.pending.withLock {
            if created != 0 { $0.counters[MetricSeries.field(MetricSeries.items, [integration, "created"]), default: 0] += created }
            if updated != 0 { $0.counters[MetricSeries.field(MetricSeries.items, [integration, "updated"]), default: 0] += updated }
        }
    }

    // MARK: Flushing

    /// Sends what was recorded since the last flush in one round trip. On failure the increments are kept for the
    /// next flush, and the error is thrown.
    public func flush() async throws {
        let batch = self.pending.withLock { pending -> Pending in
            let batch = pending
            pending = Pending()
            return batch
        }
        if batch.isEmpty { return }
        let counters = MetricSeries.countersKey(prefix: self.prefix)
        let histograms = MetricSeries.histogramsKey(prefix: self.prefix)
        var commands: [[any RedisArgument]] = [["MULTI"]]
        for (field, delta) in batch.counters { commands.append(["HINCRBY", counters, field, delta]) }
        for (field, delta) in batch.histogramCounts { commands.append(["HINCRBY", histograms, field, delta]) }
        for (field, delta) in batch.histogramSums { commands.append(["HINCRBYFLOAT", histograms, field, delta]) }
        commands.append(["EXEC"])
        do {
            let replies = try await self.redis.pipeline(commands)
            // EXECABORT (or no reply to EXEC): nothing was applied, so the batch is kept for the next flush.
            guard let exec = replies.last?.array else {
                let failure = replies.lazy.compactMap(\.errorMessage).first ?? "no reply to EXEC"
                throw RedisError(.server, "metrics flush: \(failure)")
            }
            // Errors inside EXEC (a key of the wrong type) were applied around: retrying would count the rest twice.
            if let failure = exec.lazy.compactMap(\.errorMessage).first {
                self.logger.debug("Metrics flush partly failed", metadata: ["tandem.error": "\(failure)"])
            }
        } catch {
            self.pending.withLock { $0.merge(batch) }
            throw error
        }
    }

    /// Flushes every `flushInterval` until graceful shutdown, then once more.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.flushInterval) }
            } catch {
                // Woken by shutdown (or cancellation): flush what is left below.
            }
            await self.flushLoggingErrors()
        }
        await self.flushLoggingErrors()
    }

    private func flushLoggingErrors() async {
        do {
            try await self.flush()
        } catch {
            self.logger.debug("Metrics flush failed", metadata: ["tandem.error": "\(error)"])
        }
    }
}
