import TandemMetrics
import TandemQueue
import Testing

@Suite("Prometheus text rendering")
struct PrometheusTextTests {
    @Test func countersAreRenderedSortedWithHelpAndType() {
        let snapshot = MetricsSnapshot(
            jobs: ["sync": ["ok": 3, "dead": 1], "detect": ["ok": 7]],
            apiCalls: ["redmine": 12],
            limiterAdmissions: ["redmine": 9],
            limiterDenials: ["redmine": 2],
            itemsSynced: ["bugs": ["created": 4, "updated": 5]])
        let text = snapshot.prometheusText()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("# HELP tandem_jobs_total Jobs finished, by kind and outcome."))
        #expect(lines.contains("# TYPE tandem_jobs_total counter"))
        let jobs = lines.filter { $0.hasPrefix("tandem_jobs_total{") }
        #expect(
            jobs == [
                #"tandem_jobs_total{kind="detect",outcome="ok"} 7"#,
                #"tandem_jobs_total{kind="sync",outcome="dead"} 1"#,
                #"tandem_jobs_total{kind="sync",outcome="ok"} 3"#,
            ])
        #expect(lines.contains(#"tandem_api_calls_total{repository="redmine"} 12"#))
        #expect(lines.contains(#"tandem_limiter_admissions_total{repository="redmine"} 9"#))
        #expect(lines.contains(#"tandem_limiter_denials_total{repository="redmine"} 2"#))
        #expect(lines.contains(#"tandem_items_synced_total{integration="bugs",action="created"} 4"#))
        #expect(lines.contains(#"tandem_items_synced_total{integration="bugs",action="updated"} 5"#))
        #expect(text.hasSuffix("\n"))
        // No queue gauges unless the snapshot has the queue's state.
        #expect(!text.contains("tandem_queue_depth"))
        // Every sample line belongs to a family declared before it.
        var declared: Set<String> = []
        for line in lines {
            if line.hasPrefix("# TYPE ") { declared.insert(String(line.split(separator: " ")[2])) }
            if line.hasPrefix("#") { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let family = ["_bucket", "_sum", "_count"].reduce(name) { name, suffix in
                declared.contains(name) || !name.hasSuffix(suffix) ? name : String(name.dropLast(suffix.count))
            }
            #expect(declared.contains(family), "\(line)")
        }
    }

    @Test func labelValuesAreEscaped() {
        let snapshot = MetricsSnapshot(apiCalls: ["a\"quoted\" back\\slash\nnew line": 1])
        let text = snapshot.prometheusText()
        #expect(text.contains(#"tandem_api_calls_total{repository="a\"quoted\" back\\slash\nnew line"} 1"#))
        // The raw line feed never reaches the output inside a sample line.
        #expect(!text.contains("back\\slash\nnew"))
    }

    @Test func histogramBucketsAreCumulativeWithInfSumAndCount() {
        var lag = Histogram(bounds: Histogram.syncLagBounds)
        for value in [0.25, 0.5, 0.75, 3, 45, 1000] { lag.observe(value) }
        var duration = Histogram(bounds: Histogram.jobDurationBounds)
        duration.observe(0.3)
        let text = MetricsSnapshot(syncLag: lag, jobDuration: ["sync": duration]).prometheusText()
        let lines = text.split(separator: "\n").map(String.init)
        let buckets = lines.filter { $0.hasPrefix("tandem_sync_lag_seconds_bucket") }
        #expect(
            buckets == [
                #"tandem_sync_lag_seconds_bucket{le="0.5"} 2"#,
                #"tandem_sync_lag_seconds_bucket{le="1"} 3"#,
                #"tandem_sync_lag_seconds_bucket{le="2"} 3"#,
                #"tandem_sync_lag_seconds_bucket{le="5"} 4"#,
                #"tandem_sync_lag_seconds_bucket{le="10"} 4"#,
                #"tandem_sync_lag_seconds_bucket{le="30"} 4"#,
                #"tandem_sync_lag_seconds_bucket{le="60"} 5"#,
                #"tandem_sync_lag_seconds_bucket{le="120"} 5"#,
                #"tandem_sync_lag_seconds_bucket{le="300"} 5"#,
                #"tandem_sync_lag_seconds_bucket{le="600"} 5"#,
                #"tandem_sync_lag_seconds_bucket{le="+Inf"} 6"#,
            ])
        #expect(lines.contains("tandem_sync_lag_seconds_sum 1049.5"))
        #expect(lines.contains("tandem_sync_lag_seconds_count 6"))
        #expect(lines.contains("# TYPE tandem_sync_lag_seconds histogram"))
        #expect(lines.contains(#"tandem_job_duration_seconds_bucket{kind="sync",le="0.25"} 0"#))
        #expect(lines.contains(#"tandem_job_duration_seconds_bucket{kind="sync",le="0.5"} 1"#))
        #expect(lines.contains(#"tandem_job_duration_seconds_bucket{kind="sync",le="+Inf"} 1"#))
        #expect(lines.contains(#"tandem_job_duration_seconds_count{kind="sync"} 1"#))
    }

    @Test func emptySyncLagHistogramStillRenders() {
        let lines = MetricsSnapshot().prometheusText().split(separator: "\n").map(String.init)
        #expect(lines.contains(#"tandem_sync_lag_seconds_bucket{le="+Inf"} 0"#))
        #expect(lines.contains("tandem_sync_lag_seconds_sum 0"))
        #expect(lines.contains("tandem_sync_lag_seconds_count 0"))
    }

    @Test func queueGaugesFromInspection() {
        let queue = QueueGauges(
            repositories: [
                .init(name: "roundup", highDepth: 0, lowDepth: 4, oldestJobAgeSeconds: 2.5, inFlight: 1, dead: 0),
                .init(name: "redmine", highDepth: 3, lowDepth: 0, oldestJobAgeSeconds: 12, inFlight: 2, dead: 1),
            ],
            workers: 2)
        let lines = MetricsSnapshot(queue: queue).prometheusText().split(separator: "\n").map(String.init)
        #expect(
            lines.filter { $0.hasPrefix("tandem_queue_depth{") } == [
                #"tandem_queue_depth{repository="redmine",priority="high"} 3"#,
                #"tandem_queue_depth{repository="redmine",priority="low"} 0"#,
                #"tandem_queue_depth{repository="roundup",priority="high"} 0"#,
                #"tandem_queue_depth{repository="roundup",priority="low"} 4"#,
            ])
        #expect(lines.contains(#"tandem_queue_oldest_job_age_seconds{repository="roundup"} 2.5"#))
        #expect(lines.contains(#"tandem_queue_oldest_job_age_seconds{repository="redmine"} 12"#))
        #expect(lines.contains(#"tandem_jobs_in_flight{repository="redmine"} 2"#))
        #expect(lines.contains(#"tandem_jobs_dead{repository="redmine"} 1"#))
        #expect(lines.contains("# TYPE tandem_workers gauge"))
        #expect(lines.contains("tandem_workers 2"))
    }

    @Test(arguments: [(0.5, 0), (0.50001, 1), (0, 0), (600, 9), (601, 10)])
    func bucketBoundsAreInclusive(value: Double, bucket: Int) {
        #expect(Histogram.bucket(of: value, bounds: Histogram.syncLagBounds) == bucket)
    }
}
