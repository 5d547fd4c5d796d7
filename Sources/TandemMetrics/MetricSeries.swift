/// How the recorded series are laid out in Redis (all under the installation's key prefix):
///
/// - `<prefix>metrics:counters` (hash): one field per counter series, `name␟label1␟label2…`, incremented with
///   `HINCRBY`.
/// - `<prefix>metrics:histograms` (hash): per histogram series `name␟labels…␞i` holds the count of observations
///   that fell in bucket `i` (not cumulative; `i == bounds.count` is +Inf), `…␞count` their number and
///   `…␞sum` (`HINCRBYFLOAT`) their sum.
///
/// Fields are only ever incremented, so any number of processes add to them without coordination, and a
/// scrape reads the cluster-wide totals with two `HGETALL`s.
enum MetricSeries {
    static let unitSeparator: Character = "\u{1F}"
    static let recordSeparator: Character = "\u{1E}"

    static func countersKey(prefix: String) -> String { prefix + "metrics:counters" }
    static func histogramsKey(prefix: String) -> String { prefix + "metrics:histograms" }

    // Counter names as stored.
    static let jobs = "jobs"
    static let apiCalls = "api_calls"
    static let admissions = "limiter_admissions"
    static let denials = "limiter_denials"
    static let items = "items_synced"
    // Histogram names as stored.
    static let syncLag = "sync_lag"
    static let jobDuration = "job_duration"

    static func field(_ name: String, _ labels: [String]) -> String {
        ([name] + labels.map(Self.clean)).joined(separator: String(Self.unitSeparator))
    }

    static func histogramField(_ series: String, _ part: String) -> String {
        series + String(Self.recordSeparator) + part
    }

    /// Splits a stored field into its name and label values.
    static func split(_ field: String) -> (name: String, labels: [String]) {
        let parts = field.split(separator: Self.unitSeparator, omittingEmptySubsequences: false).map(String.init)
        return (parts[0], Array(parts.dropFirst()))
    }

    /// The separators cannot occur inside a label value.
    private static func clean(_ value: String) -> String {
        guard value.contains(where: { $0 == Self.unitSeparator || $0 == Self.recordSeparator }) else { return value }
        return String(value.map { $0 == Self.unitSeparator || $0 == Self.recordSeparator ? " " : $0 })
    }
}
