import Foundation
import Postgres
import TandemStore
import Testing

/// Two repositories, collections and one integration `books` (ids returned), inserted directly.
func operationsFixture(_ db: TestDatabase) async throws -> Int64 {
    try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
    let rows = try await db.client.query(
        """
        WITH r1 AS (INSERT INTO repositories (name, kind, url) VALUES ('redmine', 'redmine', 'http://r') RETURNING id),
             r2 AS (INSERT INTO repositories (name, kind, url) VALUES ('roundup', 'roundup', 'http://u') RETURNING id),
             m AS (INSERT INTO models (name) VALUES ('issue') RETURNING id),
             c1 AS (INSERT INTO collections (name, repository_id, model_id, artifact_type, projects)
                    SELECT 'left', r1.id, m.id, 'bug', '{P}' FROM r1, m RETURNING id),
             c2 AS (INSERT INTO collections (name, repository_id, model_id, artifact_type, projects)
                    SELECT 'right', r2.id, m.id, 'issue', '{Q}' FROM r2, m RETURNING id)
        INSERT INTO integrations (name, left_collection_id, right_collection_id) SELECT 'books', c1.id, c2.id FROM c1, c2 RETURNING id
        """)
    return try rows[0].decode(Int64.self, at: 0)
}

@discardableResult
func insertPair(_ db: TestDatabase, integration: Int64, left: String, right: String, status: String = "ok") async throws -> Int64 {
    try await db.client.query(
        """
        INSERT INTO artifact_pairs (integration_id, left_id, right_id, left_key, right_key, left_url, right_url, left_project, right_project,
            created_from, status)
        VALUES (\(integration), \(left), \(right), \("P-" + left), \("issue" + right), \("http://r/issues/" + left), \("http://u/issue" + right),
            'P', 'Q', 'left', \(status))
        RETURNING id
        """
    )[0].decode(Int64.self, at: 0)
}

@discardableResult
func insertActivity(
    _ db: TestDatabase, kind: String = "error", integration: Int64?, artifact: String?, side: String? = "left", pair: Int64? = nil,
    code: String = "sync-failed", message: String = "boom", status: String = "open"
) async throws -> Int64 {
    try await db.client.query(
        """
        INSERT INTO activity (kind, code, integration_id, artifact_id, side, pair_id, message, status)
        VALUES (\(kind), \(code), \(integration), \(artifact), \(side), \(pair), \(message), \(status)) RETURNING id
        """
    )[0].decode(Int64.self, at: 0)
}

@Suite(.serialized) struct OperationsStoreTests {
    @Test func activityListFiltersPagesAndCounts() async throws {
        try await withTestDatabase { db in
            let integration = try await operationsFixture(db)
            let store = ActivityStore(client: db.client)
            for n in 1...7 { try await insertActivity(db, integration: integration, artifact: "\(n)", message: "field summary too long #\(n)") }
            try await insertActivity(
                db, kind: "blocker", integration: integration, artifact: nil, side: nil, code: "credentials", message: "401 Unauthorized")
            try await insertActivity(db, integration: nil, artifact: nil, side: nil, message: "done already", status: "done")

            let first = try await store.list(ActivityFilter(kind: "error", status: "open", limit: 3))
            #expect(first.items.map(\.artifactID) == ["7", "6", "5"])
            #expect(first.items.allSatisfy { $0.integration == "books" && $0.side == "left" })
            // The engine records the integration and side, not the repository: the side's repository is listed.
            #expect(first.items.allSatisfy { $0.repository == "redmine" }, "\(first.items.map(\.repository))")
            let second = try await store.list(ActivityFilter(kind: "error", status: "open", after: first.next, limit: 3))
            #expect(second.items.map(\.artifactID) == ["4", "3", "2"])
            let last = try await store.list(ActivityFilter(kind: "error", status: "open", after: second.next, limit: 3))
            #expect(last.items.map(\.artifactID) == ["1"])
            #expect(last.next == nil)

            #expect(try await store.list(ActivityFilter(text: "UNAUTHORIZED")).items.map(\.kind) == [.blocker])
            #expect(try await store.list(ActivityFilter(text: "UNAUTHORIZED")).items.first?.repository == nil, "no side, no repository")
            #expect(try await store.list(ActivityFilter(text: "#3")).items.map(\.artifactID) == ["3"])
            #expect(try await store.list(ActivityFilter(text: "5")).items.map(\.artifactID) == ["5"])  // exact artifact id
            #expect(try await store.list(ActivityFilter(text: "%")).items.isEmpty)  // wildcards are literal
            #expect(try await store.list(ActivityFilter(integration: "books")).items.count == 8)
            #expect(try await store.list(ActivityFilter(integration: "nope")).items.isEmpty)
            let counts = try await store.counts(ActivityFilter())
            #expect(counts == ["open": 8, "retrying": 0, "cleared": 0, "ignored": 0, "done": 1])

            for (filter, field) in [
                (ActivityFilter(kind: "oops"), "kind"), (ActivityFilter(status: "closed"), "status"), (ActivityFilter(limit: 0), "limit"),
                (ActivityFilter(after: 0), "after"), (ActivityFilter(text: ""), "q"),
            ] {
                do {
                    _ = try await store.list(filter)
                    Issue.record("\(filter) was accepted")
                } catch let error as AdminError {
                    #expect(error.field == field && error.kind == .invalid)
                }
            }
        }
    }

    @Test func retryClearAndIgnore() async throws {
        try await withTestDatabase { db in
            let integration = try await operationsFixture(db)
            let store = ActivityStore(client: db.client)
            let pair = try await insertPair(db, integration: integration, left: "10", right: "20")
            let paired = try await insertActivity(db, integration: integration, artifact: "10", pair: pair)
            // An older row without side or pair: found through the pair holding the artifact.
            let legacy = try await insertActivity(db, integration: integration, artifact: "20", side: nil)
            let unpaired = try await insertActivity(db, integration: integration, artifact: "30", side: "right")
            let blocker = try await insertActivity(db, kind: "blocker", integration: integration, artifact: nil, side: nil)
            let done = try await insertActivity(db, integration: integration, artifact: "40", status: "done")

            let retry = try await store.perform(.retry, ids: [paired, legacy, blocker, done, 999_999], actor: "alice")
            #expect(retry.changed == [paired, legacy, blocker])
            #expect(retry.skipped.map(\.id) == [done, 999_999])
            #expect(retry.retries.count == 3)
            let target = try #require(retry.retries.first { $0.activityID == legacy })
            #expect(target.side == "right" && target.repository == "roundup" && target.artifactID == "20" && target.pairID == pair)
            #expect(retry.retries.first { $0.activityID == paired }?.repository == "redmine")
            #expect(retry.retries.first { $0.activityID == blocker }?.artifactID == nil)
            #expect(try await store.item(id: paired)?.status == .retrying)
            #expect(try await store.item(id: paired)?.retries == 1)
            #expect(try await store.item(id: paired)?.actedBy == "alice")
            #expect(try await store.item(id: blocker)?.status == .done)

            let clear = try await store.perform(.clear, ids: [paired, done], actor: "bob")
            #expect(clear.changed == [paired])
            #expect(try await store.item(id: paired)?.status == .cleared)

            let ignore = try await store.perform(.clearAndIgnore, ids: [legacy, unpaired, blocker], actor: "bob")
            #expect(ignore.changed == [legacy, unpaired])
            #expect(ignore.skipped.map(\.id) == [blocker])
            #expect(try await PairQuery(client: db.client).pair(id: pair)?.ignoreChanges == true)
            let ignored = try await db.client.query("SELECT side, artifact_id FROM ignored_artifacts")
            #expect(try ignored.map { try $0.decode(String.self, at: 1) } == ["30"])

            // A retry stops ignoring.
            _ = try await store.perform(.retry, ids: [legacy, unpaired], actor: "alice")
            #expect(try await PairQuery(client: db.client).pair(id: pair)?.ignoreChanges == false)
            #expect(try await db.client.query("SELECT 1 FROM ignored_artifacts").isEmpty)

            // Everything matching a filter.
            for n in 1...5 { try await insertActivity(db, integration: integration, artifact: "b\(n)", message: "bulk") }
            let bulk = try await store.perform(.clear, matching: ActivityFilter(status: "open", text: "bulk"), actor: "carol")
            #expect(bulk.changed.count == 5)
            #expect(try await store.counts(ActivityFilter(text: "bulk"))["cleared"] == 5)
            let audit = try await AuditLog.list(db.client, AuditLog.Filter(entity: "activity"))
            #expect(audit.first?.actor == "carol" && audit.first?.action == "clear")
        }
    }

    @Test func pairSearchDetailsAndDelete() async throws {
        try await withTestDatabase { db in
            let integration = try await operationsFixture(db)
            let pairs = PairQuery(client: db.client)
            var ids: [Int64] = []
            for n in 1...12 {
                ids.append(try await insertPair(db, integration: integration, left: "\(n)", right: "\(100 + n)", status: n == 5 ? "error" : "ok"))
            }

            let page = try await pairs.list(PairFilter(limit: 5))
            #expect(page.items.map(\.id) == Array(ids.reversed().prefix(5)))
            let next = try await pairs.list(PairFilter(after: page.next, limit: 5))
            #expect(next.items.map(\.id) == Array(ids.reversed().dropFirst(5).prefix(5)))
            #expect(try await pairs.list(PairFilter(artifact: "103")).items.map(\.left.id) == ["3"])
            #expect(try await pairs.list(PairFilter(key: "p-7")).items.map(\.right.id) == ["107"])
            #expect(Set(try await pairs.list(PairFilter(text: "p-1")).items.map(\.left.id)) == ["1", "10", "11", "12"])
            #expect(try await pairs.list(PairFilter(status: "error")).items.map(\.left.id) == ["5"])
            #expect(try await pairs.list(PairFilter(integration: "other")).items.isEmpty)
            await #expect(throws: AdminError.self) { try await pairs.list(PairFilter(status: "bad")) }

            let target = ids[2]
            try await insertActivity(db, integration: integration, artifact: "3", side: "left", message: "left failed")
            try await insertActivity(db, integration: integration, artifact: "3", side: "right", message: "another artifact 3 on the right")
            try await db.client.query(
                """
                INSERT INTO artifact_trace (integration_id, side, artifact_id, detected_at, detected_version, last_sync_at, last_outcome, last_reasons)
                VALUES (\(integration), 'left', '3', now() - interval '1 minute', 'v2', now(), 'update', 'summary changed')
                """)
            let details = try #require(try await pairs.details(id: target))
            #expect(details.pair.left.url == "http://r/issues/3" && details.pair.right.key == "issue103")
            #expect(details.activity.map(\.message) == ["left failed"])
            #expect(details.traces.count == 1)
            #expect(details.history.count == 3)
            #expect(details.history.first?.source == "trace")
            #expect(try await pairs.details(id: 999_999) == nil)

            let deleted = try await pairs.delete(id: target, actor: "dora")
            #expect(deleted.left.id == "3")
            #expect(try await pairs.pair(id: target) == nil)
            await #expect(throws: AdminError.self) { try await pairs.delete(id: target, actor: "dora") }
            let audit = try await AuditLog.list(db.client, AuditLog.Filter(entity: PairQuery.auditEntity, entityName: String(target)))
            #expect(audit.map(\.action) == ["delete"])
        }
    }

    @Test func backgroundJobs() async throws {
        try await withTestDatabase { db in
            _ = try await operationsFixture(db)
            let control = IntegrationControl(client: db.client)
            let first = try await control.request(.processAll, integration: "books", actor: "alice")
            let second = try await control.request(.initiateSynchronization, integration: "books", side: "left", projects: ["P"], actor: "bob")
            try await db.client.query("UPDATE integration_requests SET scheduled_at = now() WHERE id = \(first)")
            let jobs = BackgroundJobs(client: db.client)
            #expect(try await jobs.list().items.map(\.id) == [second, first])
            #expect(try await jobs.list(status: "pending").items.map(\.id) == [second])
            #expect(try await jobs.list(status: "scheduled").items.first?.status == "scheduled")
            #expect(try await jobs.job(id: second)?.projects == ["P"])
            #expect(try await jobs.list(limit: 1).next == second)
            #expect(try await jobs.job(id: 12345) == nil)
            await #expect(throws: AdminError.self) { try await jobs.list(status: "running") }
        }
    }

    @Test func metricsPerDayPreviousPeriodAndWeekdayHour() async throws {
        try await withTestDatabase { db in
            let integration = try await operationsFixture(db)
            let metrics = MetricsStore(client: db.client)
            let day = { (text: String, hour: Int) in try #require(MetricsStore.parseDay(text)).addingTimeInterval(Double(hour) * 3600 + 120) }
            try await db.client.withConnection { connection in
                // 2026-11-02 is a Monday.
                try await MetricsStore.record(integrationID: integration, created: 2, updated: 3, at: try day("2026-11-02", 9), on: connection)
                try await MetricsStore.record(integrationID: integration, updated: 1, failed: 1, at: try day("2026-11-02", 9), on: connection)
                try await MetricsStore.record(integrationID: integration, created: 1, at: try day("2026-11-08", 23), on: connection)
                try await MetricsStore.record(integrationID: integration, updated: 7, at: try day("2026-10-30", 0), on: connection)
                try await MetricsStore.record(integrationID: integration, created: 0, on: connection)
            }
            let report = try await metrics.report(from: try day("2026-11-02", 0), to: try day("2026-11-08", 0))
            #expect(report.from == "2026-11-02" && report.to == "2026-11-08")
            #expect(report.previousFrom == "2026-10-26" && report.previousTo == "2026-11-01")
            #expect(report.days.count == 7 && report.previousDays.count == 7)
            #expect(report.days[0] == DailyMetrics(day: "2026-11-02", created: 2, updated: 4, failed: 1))
            #expect(report.totals == MetricCounts(created: 3, updated: 4, failed: 1))
            #expect(report.previousTotals == MetricCounts(updated: 7))
            #expect(report.weekdayHour.count == 168)
            #expect(report.weekdayHour[9] == WeekdayHourMetrics(weekday: 1, hour: 9, created: 2, updated: 4, failed: 1))
            #expect(report.weekdayHour[6 * 24 + 23].created == 1)
            #expect(try await metrics.report(from: try day("2026-11-02", 0), to: try day("2026-11-02", 0), integration: "books").totals.failed == 1)
            await #expect(throws: AdminError.self) { try await metrics.report(from: Date(), to: Date(), integration: "nope") }
            await #expect(throws: AdminError.self) { try await metrics.report(from: try day("2026-11-02", 0), to: try day("2026-11-01", 0)) }
            await #expect(throws: AdminError.self) { try await metrics.report(from: try day("2024-01-01", 0), to: try day("2026-11-01", 0)) }
            #expect(
                MetricsStore.parseDay("2026-02-30") == nil && MetricsStore.parseDay("26-1-1") == nil && MetricsStore.parseDay("2026-02-28") != nil)

            // In Berlin (UTC+1 in November) the Sunday 23h UTC sync is Monday 00h, the next week's first day; the
            // Monday 9h UTC ones are 10h; the previous period starts an hour earlier in UTC.
            let berlin = try await metrics.report(from: try day("2026-11-02", 0), to: try day("2026-11-08", 0), timeZone: "Europe/Berlin")
            #expect(berlin.timeZone == "Europe/Berlin" && berlin.from == "2026-11-02" && berlin.to == "2026-11-08")
            #expect(berlin.totals == MetricCounts(created: 2, updated: 4, failed: 1), "the 23h UTC Sunday sync is Monday 9 November in Berlin")
            #expect(berlin.weekdayHour[10] == WeekdayHourMetrics(weekday: 1, hour: 10, created: 2, updated: 4, failed: 1))
            #expect(berlin.weekdayHour[6 * 24 + 23].created == 0)
            let next = try await metrics.report(from: try day("2026-11-09", 0), to: try day("2026-11-09", 0), timeZone: "Europe/Berlin")
            #expect(next.days == [DailyMetrics(day: "2026-11-09", created: 1)] && next.weekdayHour[0].created == 1)
            // West of UTC: the 0h UTC sync of 30 October is the evening of the 29th in New York.
            let york = try await metrics.report(from: try day("2026-10-29", 0), to: try day("2026-10-30", 0), timeZone: "America/New_York")
            #expect(york.days.map(\.updated) == [7, 0])
            for bad in ["Mars/Olympus", "", "UTC'; DROP TABLE activity; --", "europe/berlin"] {
                do {
                    _ = try await metrics.report(from: Date(), to: Date(), timeZone: bad)
                    Issue.record("time zone '\(bad)' accepted")
                } catch let error as AdminError {
                    #expect(error.field == "tz" && error.kind == .invalid)
                }
            }
            var tokyo = Calendar(identifier: .gregorian)
            tokyo.timeZone = try #require(TimeZone(identifier: "Asia/Tokyo"))
            let late = try #require(MetricsStore.parseDay("2026-11-02")).addingTimeInterval(20 * 3600)  // 05h on the 3rd in Tokyo
            #expect(MetricsStore.day(MetricsStore.today(in: "Asia/Tokyo", now: late)) == "2026-11-03")
            #expect(MetricsStore.day(MetricsStore.today(in: "UTC", now: late)) == "2026-11-02")
            // The load per integration (busiest first) and per repository (both sides of each integration).
            let papers = try await db.client.query(
                """
                INSERT INTO integrations (name, left_collection_id, right_collection_id)
                SELECT 'papers', left_collection_id, right_collection_id FROM integrations WHERE name = 'books' RETURNING id
                """
            ).first!.decode(Int64.self, at: 0)
            try await db.client.withConnection { connection in
                try await MetricsStore.record(integrationID: papers, created: 10, at: try day("2026-11-03", 12), on: connection)
            }
            try await insertPair(db, integration: integration, left: "1", right: "1")
            try await insertPair(db, integration: integration, left: "2", right: "2")
            let load = try await metrics.report(from: try day("2026-11-02", 0), to: try day("2026-11-08", 0))
            #expect(load.integrations.map(\.integration) == ["papers", "books"])
            #expect(load.integrations[0].counts == MetricCounts(created: 10) && load.integrations[0].pairs == 0)
            #expect(load.integrations[1].counts == MetricCounts(created: 3, updated: 4, failed: 1))
            #expect(load.integrations[1].previous == MetricCounts(updated: 7) && load.integrations[1].pairs == 2)
            #expect(load.integrations[1].left == "redmine" && load.integrations[1].right == "roundup")
            #expect(load.repositories.map(\.repository) == ["redmine", "roundup"])
            #expect(load.repositories.allSatisfy { $0.counts == MetricCounts(created: 13, updated: 4, failed: 1) && $0.pairs == 2 })
            let one = try await metrics.report(from: try day("2026-11-02", 0), to: try day("2026-11-08", 0), integration: "books")
            #expect(one.integrations.map(\.integration) == ["books"] && one.repositories.first?.counts.created == 3)
        }
    }
}
