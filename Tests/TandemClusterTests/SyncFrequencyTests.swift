import Foundation
import Postgres
import Synchronization
import TandemConfig
import TandemQueue
import TandemStore
import Testing

@testable import TandemCluster

/// A repository's `syncFrequency` (the `frequency` of the v2 connections API) decides the full scans the coordinator
/// schedules for the integration sides that read it, over real PostgreSQL and Redis.
@Suite("Repository sync frequency", .serialized, .timeLimit(.minutes(3)))
struct SyncFrequencyTests {
    @Test func aRepositorysFrequencyDecidesTheCoordinatorsFullScans() async throws {
        // Global full scans off, and no schedule on the integration: only the repositories' frequencies can scan.
        let h = try await ClusterHarness.start { left, right in
            integrationYAML(left: left, right: right, fullScan: "").replacingOccurrences(
                of: "changeDetectionInterval: 1s", with: "changeDetectionInterval: 1s\n  fullScanEnabled: false")
        }
        do {
            let coordinator = Coordinator(
                runtime: h.runtime, queue: h.queue, lease: LeaderLease(client: h.runtime.client, holder: "frequency-test", ttlSeconds: 15),
                logger: ClusterHarness.logger)
            let timetable = Coordinator.Timetable()
            func set(_ repository: String, _ frequency: SyncFrequency?) async throws {
                if let frequency {
                    try await h.database.client.query(
                        "UPDATE repositories SET options = jsonb_build_object('syncFrequency', \(frequency.rawValue)::text) WHERE name = \(repository)"
                    )
                } else {
                    try await h.database.client.query("UPDATE repositories SET options = '{}' WHERE name = \(repository)")
                }
            }
            /// The last scan of each side `ago` seconds back; one scheduling pass; the pending scan jobs per side.
            func pass(left: TimeInterval, right: TimeInterval) async throws -> (left: Int, right: Int) {
                timetable.mark("scan:\(h.integration):left", Date(timeIntervalSinceNow: -left))
                timetable.mark("scan:\(h.integration):right", Date(timeIntervalSinceNow: -right))
                _ = try await h.runtime.snapshot(force: true)
                try await coordinator.schedule(timetable)
                func scans(_ repository: String) async throws -> Int {
                    try await h.queue.jobs(state: .pending, repository: repository).filter { $0.job?.kind == .scan }.count
                }
                return (try await scans(h.leftName), try await scans(h.rightName))
            }
            let day: TimeInterval = 86400
            // No frequency: the global setting (off) applies, however long ago the last scan was.
            var counts = try await pass(left: 40 * day, right: 40 * day)
            #expect(counts == (0, 0))
            // manually never scans; daily waits a day.
            try await set(h.leftName, .manually)
            try await set(h.rightName, .daily)
            counts = try await pass(left: 40 * day, right: 2 * 3600)
            #expect(counts == (0, 0))
            counts = try await pass(left: 40 * day, right: day + 3600)
            #expect(counts == (0, 1))
            // hourly scans after an hour; the right side's scan is still pending (and not doubled).
            try await set(h.leftName, .hourly)
            counts = try await pass(left: 2 * 3600, right: day + 3600)
            #expect(counts == (1, 1))
            // weekly: a scan 2 days ago is recent enough; the timetable keeps it (nothing was scheduled).
            try await set(h.leftName, .weekly)
            let twoDaysAgo = Date(timeIntervalSinceNow: -2 * day)
            timetable.mark("scan:\(h.integration):left", twoDaysAgo)
            _ = try await h.runtime.snapshot(force: true)
            try await coordinator.schedule(timetable)
            #expect(timetable.last.withLock { $0["scan:\(h.integration):left"] } == twoDaysAgo)
            _ = try await pass(left: 8 * day, right: 0)
            #expect(timetable.last.withLock { $0["scan:\(h.integration):left"] }.map { $0.timeIntervalSinceNow > -60 } == true)
            // An integration's own schedule still wins over the repository's frequency.
            try await h.database.client.query(
                """
                INSERT INTO integration_schedules (integration_id, scope, scan_enabled)
                SELECT id, 'left', false FROM integrations WHERE name = \(h.integration)
                """)
            try await set(h.leftName, .hourly)
            timetable.mark("scan:\(h.integration):left", Date(timeIntervalSinceNow: -40 * day))
            _ = try await h.runtime.snapshot(force: true)
            try await coordinator.schedule(timetable)
            #expect(timetable.last.withLock { $0["scan:\(h.integration):left"] }.map { $0.timeIntervalSinceNow < -39 * day } == true)
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }
}
