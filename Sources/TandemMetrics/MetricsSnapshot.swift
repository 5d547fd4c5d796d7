public import Redis

/// The cluster's metrics at one moment: the counters and histograms every process recorded into Redis
/// (`MetricsRecorder`), and optionally the queue's gauges computed at scrape time.
public struct MetricsSnapshot: Sendable, Hashable {
    /// Jobs finished, by kind then outcome.
    public var jobs: [String: [String: Int]]
    /// API calls, by repository.
    public var apiCalls: [String: Int]
    /// Limiter admissions and denials, by repository.
    public var limiterAdmissions: [String: Int]
    public var limiterDenials: [String: Int]
    /// Artifacts written, by integration then action (`created`, `updated`).
    public var itemsSynced: [String: [String: Int]]
    public var syncLag: Histogram
    /// Job run time, by kind.
    public var jobDuration: [String: Histogram]
    /// The queue's state; nil leaves its gauges out.
    public var queue: QueueGauges?

    public init(
        jobs: [String: [String: Int]] = [:], apiCalls: [String: Int] = [:], limiterAdmissions: [String: Int] = [:],
        limiterDenials: [String: Int] = [:], itemsSynced: [String: [String: Int]] = [:],
        syncLag: Histogram = Histogram(bounds: Histogram.syncLagBounds), jobDuration: [String: Histogram] = [:],
        queue: QueueGauges? = nil
    ) {
        self.jobs = jobs
        self.apiCalls = apiCalls
        self.limiterAdmissions = limiterAdmissions
        self.limiterDenials = limiterDenials
        self.itemsSynced = itemsSynced
        self.syncLag = syncLag
        self.jobDuration = jobDuration
        self.queue = queue
    }

    /// Reads the recorded counters and histograms (two `HGETALL`s in one round trip); `queue` stays nil.
    public static func read(redis: RedisClient, prefix: String = "tandem:") async throws -> MetricsSnapshot {
        let replies = try await redis.pipeline([
            ["HGETALL", MetricSeries.countersKey(prefix: prefix)], ["HGETALL", MetricSeries.histogramsKey(prefix: prefix)],
        ])
        for reply in replies { if let message = reply.errorMessage { throw RedisError(.server, message) } }
        return Self(counters: Self.pairs(replies[0]), histograms: Self.pairs(replies[1]))
    }

    /// Builds a snapshot from the stored hash fields (see `MetricSeries`); unknown fields are ignored.
    init(counters: [(String, RedisValue)], histograms: [(String, RedisValue)]) {
        self.init()
        for (field, value) in counters {
            let count = value.int ?? 0
            let (name, labels) = MetricSeries.split(field)
            switch (name, labels.count) {
            case (MetricSeries.jobs, 2): self.jobs[labels[0], default: [:]][labels[1], default: 0] += count
            case (MetricSeries.apiCalls, 1): self.apiCalls[labels[0], default: 0] += count
            case (MetricSeries.admissions, 1): self.limiterAdmissions[labels[0], default: 0] += count
            case (MetricSeries.denials, 1): self.limiterDenials[labels[0], default: 0] += count
            case (MetricSeries.items, 2): self.itemsSynced[labels[0], default: [:]][labels[1], default: 0] += count
            default: continue
            }
        }
        for (field, value) in histograms {
            guard let separator = field.lastIndex(of: MetricSeries.recordSeparator) else { continue }
            let part = field[field.index(after: separator)...]
            let (name, labels) = MetricSeries.split(String(field[..<separator]))
            switch (name, labels.count) {
            case (MetricSeries.syncLag, 0): Self.apply(part, value, to: &self.syncLag)
            case (MetricSeries.jobDuration, 1):
                Self.apply(part, value, to: &self.jobDuration[labels[0], default: Histogram(bounds: Histogram.jobDurationBounds)])
            default: continue
            }
        }
    }

    private static func apply(_ part: Substring, _ value: RedisValue, to histogram: inout Histogram) {
        switch part {
        case "sum": histogram.sum += value.double ?? 0
        case "count": histogram.count += value.int ?? 0
        default:
            if let index = Int(part), histogram.counts.indices.contains(index) { histogram.counts[index] += value.int ?? 0 }
        }
    }

    private static func pairs(_ reply: RedisValue) -> [(String, RedisValue)] {
        let values = reply.array ?? []
        return stride(from: 0, to: values.count - 1, by: 2).compactMap { index in
            values[index].string.map { ($0, values[index + 1]) }
        }
    }
}
