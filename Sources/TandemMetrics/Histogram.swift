/// A histogram with fixed upper bounds: per-bucket counts (not cumulative), their number and their sum.
public struct Histogram: Sendable, Hashable {
    /// Upper bounds of the finite buckets, ascending; the +Inf bucket is implied.
    public var bounds: [Double]
    /// Observations per bucket: `counts[i]` fell in `(bounds[i-1], bounds[i]]`; the last entry is the +Inf bucket.
    public var counts: [Int]
    public var sum: Double
    public var count: Int

    public init(bounds: [Double], counts: [Int]? = nil, sum: Double = 0, count: Int? = nil) {
        self.bounds = bounds
        let counts = counts ?? Array(repeating: 0, count: bounds.count + 1)
        precondition(counts.count == bounds.count + 1, "one count per bound plus +Inf")
        self.counts = counts
        self.sum = sum
        self.count = count ?? counts.reduce(0, +)
    }

    /// Sync lag (change seen in one tracker → written to the other), in seconds.
    public static let syncLagBounds: [Double] = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600]
    /// Job run time, in seconds.
    public static let jobDurationBounds: [Double] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    /// The bucket an observation falls in (`bounds.count` for +Inf): the first bound not below it.
    public static func bucket(of value: Double, bounds: [Double]) -> Int {
        bounds.firstIndex { value <= $0 } ?? bounds.count
    }

    public mutating func observe(_ value: Double) {
        self.counts[Self.bucket(of: value, bounds: self.bounds)] += 1
        self.count += 1
        self.sum += value
    }

    /// Running totals per bucket, as Prometheus's `le` buckets are; the last equals `count` when consistent.
    public var cumulativeCounts: [Int] {
        var total = 0
        return self.counts.map {
            total += $0
            return total
        }
    }
}
