public import Foundation
public import Postgres

/// Created, updated and failed synchronisations.
public struct MetricCounts: Sendable, Hashable, Codable {
    public var created: Int
    public var updated: Int
    public var failed: Int

    public init(created: Int = 0, updated: Int = 0, failed: Int = 0) {
        self.created = created
        self.updated = updated
        self.failed = failed
    }
}

/// One day's counts (`day` is `YYYY-MM-DD`, UTC).
public struct DailyMetrics: Sendable, Hashable, Codable {
    public var day: String
    public var created: Int
    public var updated: Int
    public var failed: Int

    public init(day: String, created: Int = 0, updated: Int = 0, failed: Int = 0) {
        self.day = day
        self.created = created
        self.updated = updated
        self.failed = failed
    }
}

/// The counts of one hour of one weekday over the period (`weekday` 1 = Monday … 7 = Sunday, `hour` 0…23, UTC).
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

/// The metrics page: per day for the period and for the previous period of the same length, totals of both, and the
/// period's weekday × hour matrix (all 168 cells, Monday 00h first).
public struct MetricsReport: Sendable, Hashable, Codable {
    public var integration: String?
    /// First and last day of the period (inclusive, `YYYY-MM-DD`, UTC), and of the previous one.
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

    public init(
        integration: String?, from: String, to: String, previousFrom: String, previousTo: String, days: [DailyMetrics],
        previousDays: [DailyMetrics], totals: MetricCounts, previousTotals: MetricCounts, weekdayHour: [WeekdayHourMetrics]
    ) {
        self.integration = integration
        self.from = from
        self.to = to
        self.previousFrom = previousFrom
        self.previousTo = previousTo
        self.days = days
        self.previousDays = previousDays
        self.totals = totals
        self.previousTotals = previousTotals
        self.weekdayHour = weekdayHour
    }
}

/// Hourly rollups of synchronisations per integration (`metrics_rollups`): the engine records, the metrics page reads.
public struct MetricsStore: Sendable {
    public static let metrics = ["created", "updated", "failed"]
    /// The longest period one report covers.
    public static let maximumDays = 366

    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Adds to the current hour's counters of an integration, on `connection` (cheap: one upsert; zero counts are skipped).
    /// `at` (tests, imports) files the counts under another hour.
    public static func record(
        integrationID: Int64, created: Int = 0, updated: Int = 0, failed: Int = 0, at: Date? = nil, on connection: PostgresConnection
    ) async throws {
        guard let query = Self.recordQuery(integrationID: integrationID, created: created, updated: updated, failed: failed, at: at) else { return }
        try await connection.query(query)
    }

    /// The statement of `record` (nil when every count is zero), for a caller that runs it its own way.
    public static func recordQuery(integrationID: Int64, created: Int = 0, updated: Int = 0, failed: Int = 0, at: Date? = nil) -> PostgresQuery? {
        let values = [("created", created), ("updated", updated), ("failed", failed)].filter { $0.1 > 0 }
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

    /// The report for the days `from`...`to` (UTC days, inclusive; any time within a day names that day), of one
    /// integration or all. Throws `AdminError.invalid` for an inverted or too long period, `.notFound` for an unknown
    /// integration.
    public func report(from: Date, to: Date, integration: String? = nil) async throws -> MetricsReport {
        let start = Self.calendar.startOfDay(for: from)
        let end = Self.calendar.startOfDay(for: to)
        guard start <= end else { throw AdminError(.invalid, field: "from", "the period starts after it ends") }
        let dayCount = (Self.calendar.dateComponents([.day], from: start, to: end).day ?? 0) + 1
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
        let previousStart = Self.calendar.date(byAdding: .day, value: -dayCount, to: start) ?? start
        let endExclusive = Self.calendar.date(byAdding: .day, value: 1, to: end) ?? end
        let rows = try await self.client.query(
            """
            SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD'), metric, sum(value)::bigint FROM metrics_rollups
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
            default: break
            }
        }
        func series(from first: Date) -> [DailyMetrics] {
            (0..<dayCount).map { offset in
                let day = Self.day(Self.calendar.date(byAdding: .day, value: offset, to: first) ?? first)
                let counts = perDay[day] ?? MetricCounts()
                return DailyMetrics(day: day, created: counts.created, updated: counts.updated, failed: counts.failed)
            }
        }
        func total(_ days: [DailyMetrics]) -> MetricCounts {
            days.reduce(into: MetricCounts()) {
                $0.created += $1.created
                $0.updated += $1.updated
                $0.failed += $1.failed
            }
        }
        let days = series(from: start)
        let previousDays = series(from: previousStart)
        let cells = try await self.client.query(
            """
            SELECT extract(isodow FROM bucket AT TIME ZONE 'UTC')::int, extract(hour FROM bucket AT TIME ZONE 'UTC')::int, metric,
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
        return MetricsReport(
            integration: integration, from: Self.day(start), to: Self.day(end), previousFrom: Self.day(previousStart),
            previousTo: Self.day(Self.calendar.date(byAdding: .day, value: -1, to: start) ?? start), days: days, previousDays: previousDays,
            totals: total(days), previousTotals: total(previousDays), weekdayHour: matrix)
    }
}
