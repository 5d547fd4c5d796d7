extension MetricsSnapshot {
    /// The content type of `prometheusText()`.
    public static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The snapshot in the Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE` per family,
    /// series sorted by label values, label values escaped.
    public func prometheusText() -> String {
        var text = PrometheusText()

        text.family("tandem_jobs_total", "counter", "Jobs finished, by kind and outcome.")
        for (kind, outcomes) in self.jobs.sorted(by: { $0.key < $1.key }) {
            for (outcome, count) in outcomes.sorted(by: { $0.key < $1.key }) {
                text.sample("tandem_jobs_total", [("kind", kind), ("outcome", outcome)], count)
            }
        }
        text.family("tandem_job_duration_seconds", "histogram", "Job run time, by kind.")
        for (kind, histogram) in self.jobDuration.sorted(by: { $0.key < $1.key }) {
            text.histogram("tandem_job_duration_seconds", [("kind", kind)], histogram)
        }
        text.counter("tandem_api_calls_total", "API calls made to each repository.", by: "repository", self.apiCalls)
        text.counter(
            "tandem_limiter_admissions_total", "Events the repository's limiter admitted.", by: "repository", self.limiterAdmissions)
        text.counter(
            "tandem_limiter_denials_total", "Events the repository's limiter denied (held back).", by: "repository", self.limiterDenials)
        text.family("tandem_items_synced_total", "counter", "Artifacts written, by integration and action.")
        for (integration, actions) in self.itemsSynced.sorted(by: { $0.key < $1.key }) {
            for (action, count) in actions.sorted(by: { $0.key < $1.key }) {
                text.sample("tandem_items_synced_total", [("integration", integration), ("action", action)], count)
            }
        }
        text.family("tandem_sync_lag_seconds", "histogram", "From a change seen in one tracker to its write in the other.")
        text.histogram("tandem_sync_lag_seconds", [], self.syncLag)

        if let queue = self.queue {
            let repositories = queue.repositories.sorted { $0.name < $1.name }
            text.family("tandem_queue_depth", "gauge", "Pending jobs, by repository and priority class.")
            for repository in repositories {
                text.sample("tandem_queue_depth", [("repository", repository.name), ("priority", "high")], repository.highDepth)
                text.sample("tandem_queue_depth", [("repository", repository.name), ("priority", "low")], repository.lowDepth)
            }
            text.family("tandem_queue_oldest_job_age_seconds", "gauge", "Age of the oldest pending job, by repository.")
            for repository in repositories {
                text.sample("tandem_queue_oldest_job_age_seconds", [("repository", repository.name)], repository.oldestJobAgeSeconds)
            }
            text.family("tandem_jobs_in_flight", "gauge", "Jobs leased to workers, by repository.")
            for repository in repositories {
                text.sample("tandem_jobs_in_flight", [("repository", repository.name)], repository.inFlight)
            }
            text.family("tandem_jobs_dead", "gauge", "Jobs in the dead set, by repository.")
            for repository in repositories {
                text.sample("tandem_jobs_dead", [("repository", repository.name)], repository.dead)
            }
            text.family("tandem_workers", "gauge", "Workers with a live heartbeat.")
            text.sample("tandem_workers", [], queue.workers)
        }
        return text.output
    }
}

/// Writes the text exposition format.
struct PrometheusText {
    var output = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        self.output += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }

    /// A counter family with one label, its series sorted by label value.
    mutating func counter(_ name: String, _ help: String, by label: String, _ values: [String: Int]) {
        self.family(name, "counter", help)
        for (value, count) in values.sorted(by: { $0.key < $1.key }) { self.sample(name, [(label, value)], count) }
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int) {
        self.output += "\(name)\(Self.labels(labels)) \(value)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        self.output += "\(name)\(Self.labels(labels)) \(Self.format(value))\n"
    }

    mutating func histogram(_ name: String, _ labels: [(String, String)], _ histogram: Histogram) {
        let cumulative = histogram.cumulativeCounts
        for (index, bound) in histogram.bounds.enumerated() {
            self.sample(name + "_bucket", labels + [("le", Self.format(bound))], cumulative[index])
        }
        // +Inf must equal _count; take the larger, in case a scrape fell between two processes' transactions.
        let count = max(histogram.count, cumulative.last ?? 0)
        self.sample(name + "_bucket", labels + [("le", "+Inf")], count)
        self.sample(name + "_sum", labels, histogram.sum)
        self.sample(name + "_count", labels, count)
    }

    static func labels(_ labels: [(String, String)]) -> String {
        if labels.isEmpty { return "" }
        return "{" + labels.map { "\($0.0)=\"\(Self.escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n", "\r\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// HELP text escapes backslash and line feed.
    static func escapeHelp(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n", "\r\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Go-style float text: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
