public import Foundation
public import Postgres

/// Created, updated and failed synchronisations.
public struct MetricCounts: Sendable, Hashable, Codable {
    public var created: Int
    public var updated: Int
    public var failed: Int
    /// Conflicts a policy resolved (the same field changed on both sides; the pair's history keeps each).
    public var conflicts: Int

    public init(created: Int = 0, updated: Int = 0, failed: Int = 0, conflicts: Int = 0) {
        self.created = created
        self.updated = updated
        self.failed = failed
        self.conflicts = conflicts
    }
}

/// One day's counts (`day` is `YYYY-MM-DD` in the report's time zone).
public struct DailyMetrics: Sendable, Hashable, Codable {
    public var day: String
    public var created: Int
    public var updated: Int
    public var failed: Int
    public var conflicts: Int

    public init(day: String, created: Int = 0, updated: Int = 0, failed: Int = 0, conflicts: Int = 0) {
        self.day = day
        self.created = created
        self.updated = updated
        self.failed = failed
        self.conflicts = conflicts
    }
}

/// The counts of one hour of one weekday over the period (`weekday` 1 = Monday … 7 = Sunday, `hour` 0…23, in the
/// report's time zone).
public struct WeekdayHourMetrics: Sendable, Hashable, Codable {
    public var weekday: Int
    public var hour: Int
    public var created: Int
    public var updated: Int
    public var failed: Int

    public init(weekday: Int, hour: Int, created: Int = 0, updated: Int = 0, failed: Int = 0) {
        self.weekday = weekday
        self.hour = hour
        self.created = created
        self.updated = updated
        self.failed = failed
    }
}

/// One integration's share of the load: its counts in the period and the previous one, and its artifact pairs now.
public struct IntegrationMetrics: Sendable, Hashable, Codable {
    public var integration: String
    public var left: String
    public var right: String
    public var counts: MetricCounts
    public var previous: MetricCounts
    public var pairs: Int

    public init(integration: String, left: String, right: String, counts: MetricCounts, previous: MetricCounts, pairs: Int) {
        self.integration = integration
        self.left = left
        self.right = right
        self.counts = counts
        self.previous = previous
        self.pairs = pairs
    }
}

/// One repository's share: the synchronisations of the integrations it takes part in (either side), and their pairs
/// (the repository's artifacts kept in sync).
public struct RepositoryMetrics: Sendable, Hashable, Codable {
    public var repository: String
    public var counts: MetricCounts
    public var pairs: Int

    public init(repository: String, counts: MetricCounts, pairs: Int) {
        self.repository = repository
        self.counts = counts
        self.pairs = pairs
    }
}

/// The metrics page: per day for the period and for the previous period of the same length, totals of both, the
/// period's weekday × hour matrix (all 168 cells, Monday 00h first), and the load per integration and per repository
/// (busiest first).
public struct MetricsReport: Sendable, Hashable, Codable {
    public var integration: String?
    /// The time zone whose days and hours the report counts (an IANA name; `UTC` by default).
    public var timeZone: String
    /// First and last day of the period (inclusive, `YYYY-MM-DD`), and of the previous one.
    public var from: String
    public var to: String
    public var previousFrom: String
    public var previousTo: String
    /// One entry per day of each period, oldest first (days without activity count zero).
    public var days: [DailyMetrics]
    public var previousDays: [DailyMetrics]
    public var totals: MetricCounts
    public var previousTotals: MetricCounts
    public var weekdayHour: [WeekdayHourMetrics]
    /// Every integration (the chosen one only, with `integration`) by created + updated in the period, then name.
    public var integrations: [IntegrationMetrics]
    /// The repositories of those integrations, the same way.
    public var repositories: [RepositoryMetrics]

    public init(
        integration: String?, timeZone: String = "UTC", from: String, to: String, previousFrom: String, previousTo: String,
        days: [DailyMetrics], previousDays: [DailyMetrics], totals: MetricCounts, previousTotals: MetricCounts,
        weekdayHour: [WeekdayHourMetrics], integrations: [IntegrationMetrics] = [], repositories: [RepositoryMetrics] = []
    ) {
        self.integration = integration
        self.timeZone = timeZone
        self.from = from
        self.to = to
        self.previousFrom = previousFrom
        self.previousTo = previousTo
        self.days = days
        self.previousDays = previousDays
        self.totals = totals
        self.previousTotals = previousTotals
        self.weekdayHour = weekdayHour
        self.integrations = integrations
        self.repositories = repositories
    }
}

/// Hourly rollups of synchronisations per integration (`metrics_rollups`): the engine records, the metrics page reads.
public struct MetricsStore: Sendable {
    public static let metrics = ["created", "updated", "failed", "conflicts"]
    /// The longest period one report covers.
    public static let maximumDays = 366

    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Adds to the current hour's counters of an integration, on `connection` (cheap: one upsert; zero counts are skipped).
    /// `at` (tests, imports) files the counts under another hour.
    public static func record(
        integrationID: Int64, created: Int = 0, updated: Int = 0, failed: Int = 0, conflicts: Int = 0, at: Date? = nil,
        on connection: PostgresConnection
    ) async throws {
        guard
            let query = Self.recordQuery(
                integrationID: integrationID, created: created, updated: updated, failed: failed, conflicts: conflicts, at: at)
        else { return }
        try await connection.query(query)
    }

    /// The statement of `record` (nil when every count is zero), for a caller that runs it its own way.
    public static func recordQuery(
        integrationID: Int64, created: Int = 0, updated: Int = 0, failed: Int = 0, conflicts: Int = 0, at: Date? = nil
    ) -> PostgresQuery? {
        let values = [("created", created), ("updated", updated), ("failed", failed), ("conflicts", conflicts)].filter { $0.1 > 0 }
        guard !values.isEmpty else { return nil }
        return
            """
            INSERT INTO metrics_rollups (integration_id, bucket, metric, value)
            SELECT \(integrationID), date_trunc('hour', COALESCE(\(at)::timestamptz, now()), 'UTC'), m, v
            FROM unnest(\(values.map(\.0))::text[], \(values.map { Int64($0.1) })::bigint[]) AS t(m, v)
            ON CONFLICT (integration_id, bucket, metric) DO UPDATE SET value = metrics_rollups.value + EXCLUDED.value
            """
    }

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        return calendar
    }()

    /// `YYYY-MM-DD` (UTC) of a date.
    public static func day(_ date: Date) -> String {
        let c = Self.calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// The start (UTC midnight) of the day `YYYY-MM-DD`; nil when it is not a valid date.
    public static func parseDay(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1970...9999).contains(year)
        else { return nil }
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = Self.calendar.date(from: components), Self.day(date) == text else { return nil }
        return date
    }

    /// Today's date in `timeZone` (UTC when unknown), named as `parseDay` names days.
    public static func today(in timeZone: String, now: Date = Date()) -> Date {
        var local = Calendar(identifier: .gregorian)
        local.timeZone = TimeZone(identifier: timeZone) ?? .gmt
        return Self.calendar.date(from: local.dateComponents([.year, .month, .day], from: now)) ?? now
    }

    /// The time zones a report can count in: the IANA names this system knows (PostgreSQL reads the same tz database).
    public static let timeZones: [String] = (["UTC"] + TimeZone.knownTimeZoneIdentifiers.filter { $0 != "UTC" }.sorted())

    /// The report for the days `from`...`to` (inclusive; each names its `YYYY-MM-DD` as `parseDay` reads it), of one
    /// integration or all, counted in `timeZone`'s days and hours (an IANA name such as `Europe/Berlin`). The rollups are
    /// hourly, so a zone whose offset is not whole hours (Asia/Kolkata) files each hour under the day and hour it starts
    /// in. Throws `AdminError.invalid` for an inverted or too long period or an unknown zone, `.notFound` for an unknown
    /// integration.
    public func report(from: Date, to: Date, integration: String? = nil, timeZone: String = "UTC") async throws -> MetricsReport {
        guard Self.timeZones.contains(timeZone), let zone = TimeZone(identifier: timeZone) else {
            throw AdminError(.invalid, field: "tz", "'\(timeZone.prefix(80))' is not a time zone name (IANA, e.g. Europe/Berlin)")
        }
        var local = Calendar(identifier: .gregorian)
        local.timeZone = zone
        // The days are named by their UTC dates (`parseDay`); the same names, as local days.
        func localDay(_ date: Date) -> Date {
            local.date(from: Self.calendar.dateComponents([.year, .month, .day], from: date)) ?? date
        }
        func name(_ date: Date) -> String {
            let c = local.dateComponents([.year, .month, .day], from: date)
            return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        }
        let start = localDay(from)
        let end = localDay(to)
        guard start <= end else { throw AdminError(.invalid, field: "from", "the period starts after it ends") }
        let dayCount = (local.dateComponents([.day], from: start, to: end).day ?? 0) + 1
        guard dayCount <= Self.maximumDays else {
            throw AdminError(.invalid, field: "to", "the period is \(dayCount) days long; at most \(Self.maximumDays)")
        }
        var integrationID: Int64?
        if let integration {
            guard let row = try await self.client.query("SELECT id FROM integrations WHERE name = \(integration)").first else {
                throw AdminError(.notFound, field: "integration", "no integration named '\(integration)'")
            }
            integrationID = try row.decode(Int64.self, at: 0)
        }
        let previousStart = local.date(byAdding: .day, value: -dayCount, to: start) ?? start
        let endExclusive = local.date(byAdding: .day, value: 1, to: end) ?? end
        let rows = try await self.client.query(
            """
            SELECT to_char(bucket AT TIME ZONE \(timeZone), 'YYYY-MM-DD'), metric, sum(value)::bigint FROM metrics_rollups
            WHERE bucket >= \(previousStart) AND bucket < \(endExclusive)
              AND (\(integrationID)::bigint IS NULL OR integration_id = \(integrationID))
            GROUP BY 1, 2
            """)
        var perDay: [String: MetricCounts] = [:]
        for row in rows {
            let day = try row.decode(String.self, at: 0)
            let value = Int(try row.decode(Int64.self, at: 2))
            switch try row.decode(String.self, at: 1) {
            case "created": perDay[day, default: MetricCounts()].created += value
            case "updated": perDay[day, default: MetricCounts()].updated += value
            case "failed": perDay[day, default: MetricCounts()].failed += value
            case "conflicts": perDay[day, default: MetricCounts()].conflicts += value
            default: break
            }
        }
        func series(from first: Date) -> [DailyMetrics] {
            (0..<dayCount).map { offset in
                let day = name(local.date(byAdding: .day, value: offset, to: first) ?? first)
                let counts = perDay[day] ?? MetricCounts()
                return DailyMetrics(day: day, created: counts.created, updated: counts.updated, failed: counts.failed, conflicts: counts.conflicts)
            }
        }
        func total(_ days: [DailyMetrics]) -> MetricCounts {
            days.reduce(into: MetricCounts()) {
                $0.created += $1.created
                $0.updated += $1.updated
                $0.failed += $1.failed
                $0.conflicts += $1.conflicts
            }
        }
        let days = series(from: start)
        let previousDays = series(from: previousStart)
        let cells = try await self.client.query(
            """
            SELECT extract(isodow FROM bucket AT TIME ZONE \(timeZone))::int, extract(hour FROM bucket AT TIME ZONE \(timeZone))::int, metric,
                sum(value)::bigint
            FROM metrics_rollups
            WHERE bucket >= \(start) AND bucket < \(endExclusive) AND (\(integrationID)::bigint IS NULL OR integration_id = \(integrationID))
            GROUP BY 1, 2, 3
            """)
        var matrix = (1...7).flatMap { weekday in (0..<24).map { WeekdayHourMetrics(weekday: weekday, hour: $0) } }
        for row in cells {
            let weekday = try row.decode(Int.self, at: 0)
            let hour = try row.decode(Int.self, at: 1)
            guard (1...7).contains(weekday), (0..<24).contains(hour) else { continue }
            let index = (weekday - 1) * 24 + hour
            let value = Int(try row.decode(Int64.self, at: 3))
            switch try row.decode(String.self, at: 2) {
            case "created": matrix[index].created += value
            case "updated": matrix[index].updated += value
            case "failed": matrix[index].failed += value
            default: break
            }
        }
        let (integrations, repositories) = try await self.breakdown(
            previousStart: previousStart, start: start, endExclusive: endExclusive, integrationID: integrationID)
        return MetricsReport(
            integration: integration, timeZone: timeZone, from: name(start), to: name(end), previousFrom: name(previousStart),
            previousTo: name(local.date(byAdding: .day, value: -1, to: start) ?? start), days: days, previousDays: previousDays,
            totals: total(days), previousTotals: total(previousDays), weekdayHour: matrix, integrations: integrations,
            repositories: repositories)
    }

    /// The load per integration (both periods, pairs now) and, summed from it, per repository.
    func breakdown(
        previousStart: Date, start: Date, endExclusive: Date, integrationID: Int64?
    ) async throws -> (
        [IntegrationMetrics], [RepositoryMetrics]
    ) {
        let rows = try await self.client.query(
            """
            SELECT i.name, lr.name, rr.name,
                coalesce(sum(m.value) FILTER (WHERE m.bucket >= \(start) AND m.metric = 'created'), 0)::bigint,
                coalesce(sum(m.value) FILTER (WHERE m.bucket >= \(start) AND m.metric = 'updated'), 0)::bigint,
                coalesce(sum(m.value) FILTER (WHERE m.bucket >= \(start) AND m.metric = 'failed'), 0)::bigint,
                coalesce(sum(m.value) FILTER (WHERE m.bucket < \(start) AND m.metric = 'created'), 0)::bigint,
                coalesce(sum(m.value) FILTER (WHERE m.bucket < \(start) AND m.metric = 'updated'), 0)::bigint,
                coalesce(sum(m.value) FILTER (WHERE m.bucket < \(start) AND m.metric = 'failed'), 0)::bigint,
                coalesce(sum(m.value) FILTER (WHERE m.bucket >= \(start) AND m.metric = 'conflicts'), 0)::bigint,
                coalesce(sum(m.value) FILTER (WHERE m.bucket < \(start) AND m.metric = 'conflicts'), 0)::bigint,
                (SELECT count(*) FROM artifact_pairs p WHERE p.integration_id = i.id)
            FROM integrations i
            JOIN collections lc ON lc.id = i.left_collection_id JOIN repositories lr ON lr.id = lc.repository_id
            JOIN collections rc ON rc.id = i.right_collection_id JOIN repositories rr ON rr.id = rc.repository_id
            LEFT JOIN metrics_rollups m ON m.integration_id = i.id AND m.bucket >= \(previousStart) AND m.bucket < \(endExclusive)
            WHERE \(integrationID)::bigint IS NULL OR i.id = \(integrationID)
            GROUP BY i.id, i.name, lr.name, rr.name
            """)
        var integrations: [IntegrationMetrics] = []
        for row in rows {
            func count(_ column: Int) throws -> Int { Int(try row.decode(Int64.self, at: column)) }
            integrations.append(
                IntegrationMetrics(
                    integration: try row.decode(String.self, at: 0), left: try row.decode(String.self, at: 1),
                    right: try row.decode(String.self, at: 2),
                    counts: MetricCounts(created: try count(3), updated: try count(4), failed: try count(5), conflicts: try count(9)),
                    previous: MetricCounts(created: try count(6), updated: try count(7), failed: try count(8), conflicts: try count(10)),
                    pairs: try count(11)))
        }
        func busiest(_ a: MetricCounts, _ an: String, _ b: MetricCounts, _ bn: String) -> Bool {
            let (x, y) = (a.created + a.updated, b.created + b.updated)
            return x != y ? x > y : an < bn
        }
        integrations.sort { busiest($0.counts, $0.integration, $1.counts, $1.integration) }
        var byRepository: [String: RepositoryMetrics] = [:]
        for i in integrations {
            for repository in Set([i.left, i.right]) {
                var r = byRepository[repository] ?? RepositoryMetrics(repository: repository, counts: MetricCounts(), pairs: 0)
                r.counts.created += i.counts.created
                r.counts.updated += i.counts.updated
                r.counts.failed += i.counts.failed
                r.counts.conflicts += i.counts.conflicts
                r.pairs += i.pairs
                byRepository[repository] = r
            }
        }
        let repositories = byRepository.values.sorted { busiest($0.counts, $0.repository, $1.counts, $1.repository) }
        return (integrations, repositories)
    }
}
