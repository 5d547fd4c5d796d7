import Foundation
import Postgres
import TandemCluster
import TandemConnectors
import TandemCore
import TandemQueue
import TandemStore
import Testing

/// The operator's actions carried out by the engine (issue 7): retry queues a sync whose outcome closes or reopens the item,
/// clear-and-ignore makes the engine skip the artifact (or its pair) until a retry, and every sync lands in the metrics.
@Suite(
    "Operator actions in the cluster", .serialized, .timeLimit(.minutes(3)),
    .disabled(if: ProcessInfo.processInfo.environment["TANDEM_E2E"] == "0", "TANDEM_E2E=0"))
struct ClusterOperationsTests {
    func activity(_ h: ClusterHarness, artifact: String) async throws -> ActivityItem? {
        try await ActivityStore(client: h.database.client).list(ActivityFilter(kind: "error", text: artifact)).items
            .first { $0.artifactID == artifact }
    }

    func lastReasons(_ h: ClusterHarness, artifact: String) async throws -> String? {
        try await h.database.client.query(
            "SELECT last_reasons FROM artifact_trace WHERE side = 'left' AND artifact_id = \(artifact)"
        ).first?.decode(String?.self, at: 0)
    }

    @Test("A failed create: retry fails again, clear-and-ignore skips its changes, a retry after the fix creates the twin")
    func retryIgnoreAndMetrics() async throws {
        let h = try await ClusterHarness.start { integrationYAML(left: $0, right: $1) }
        do {
            let actions = OperatorActions(client: h.database.client, queue: h.queue)
            // A blank title: the right repository refuses the create (a permanent failure).
            let id = try await h.create(.left, title: "draft")
            try await h.update(.left, id, ["title": .string("")])
            h.startCoordinator(id: "coordinator")
            try await h.startWorker(id: "worker-1")
            #expect(try await h.waitUntil(timeout: .seconds(30)) { try await self.activity(h, artifact: id)?.status == .open })
            let failed = try #require(try await self.activity(h, artifact: id))
            #expect(failed.side == "left" && failed.integration == h.integration)

            // Retry while the cause persists: retrying, then open again (the same row).
            let retry = try await actions.perform(.retry, ids: [failed.id], actor: "alice")
            #expect(retry.changed == [failed.id] && retry.retries.first?.repository == h.leftName)
            #expect(try await h.waitUntil(timeout: .seconds(30)) { try await self.activity(h, artifact: id)?.status == .open })
            #expect(try await self.activity(h, artifact: id)?.retries == 1)

            // Clear and ignore: the fix is detected but not synchronised.
            let ignore = try await actions.perform(.clearAndIgnore, ids: [failed.id], actor: "alice")
            #expect(ignore.changed == [failed.id])
            try await h.update(.left, id, ["title": .string("fixed")])
            #expect(
                try await h.waitUntil(timeout: .seconds(30)) { try await self.lastReasons(h, artifact: id) == SyncEngine.ignoredReason })
            try await Task.sleep(for: .seconds(2))
            #expect(try await h.artifacts(.right).isEmpty)
            #expect(try await self.activity(h, artifact: id)?.status == .ignored)

            // Retry: synchronised now, and the item is done.
            _ = try await actions.perform(.retry, ids: [failed.id], actor: "bob")
            #expect(try await h.waitUntil(timeout: .seconds(30)) { try await h.pairs().count == 1 })
            #expect(try await h.waitUntil(timeout: .seconds(10)) { try await self.activity(h, artifact: id)?.status == .done })

            // A pair whose changes are ignored: an update on either side is skipped.
            let pair = try #require(try await h.pairs().first)
            try await h.database.client.query("UPDATE artifact_pairs SET ignore_changes = true")
            try await h.update(.left, id, ["title": .string("changed while ignored")])
            #expect(
                try await h.waitUntil(timeout: .seconds(30)) { try await self.lastReasons(h, artifact: id) == SyncEngine.ignoredReason })
            #expect(ClusterHarness.text(try await h.connector(.right).artifact(id: pair.right).fields["title"]) == "fixed")

            // The metrics saw the failures and the create.
            let report = try await MetricsStore(client: h.database.client).report(from: Date(), to: Date(), integration: h.integration)
            #expect(report.totals.created == 1)
            #expect(report.totals.failed >= 2)
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }

    @Test("A mapping fixed just before a retry applies to it, however recently the worker read the configuration")
    func retryAfterAFixUsesTheFix() async throws {
        // The right collection maps the model's status to `state`, a field the right repository refuses.
        func yaml(_ left: String, _ right: String, fixed: Bool) -> String {
            let good = integrationYAML(left: left, right: right)
            guard !fixed, let split = good.range(of: "- name: right-tasks") else { return good }
            return String(good[..<split.lowerBound])
                + good[split.lowerBound...].replacingOccurrences(of: "- field: status\n", with: "- field: state\n")
        }
        // Workers re-read the configuration only hourly here: before the fix, the retry ran with the mapping it had read.
        let h = try await ClusterHarness.start(refreshInterval: .seconds(3600)) { yaml($0, $1, fixed: false) }
        do {
            let actions = OperatorActions(client: h.database.client, queue: h.queue)
            let id = try await h.create(.left, title: "mapped badly")
            h.startCoordinator(id: "coordinator")
            try await h.startWorker(id: "worker-1")
            #expect(try await h.waitUntil(timeout: .seconds(30)) { try await self.activity(h, artifact: id)?.status == .open })
            let failed = try #require(try await self.activity(h, artifact: id))
            #expect(failed.message.contains("state"))

            let store = ConfigStore(client: h.database.client, box: SecretBox(key: ClusterHarness.masterKey), logger: ClusterHarness.logger)
            _ = try await store.apply(yaml: yaml(h.leftName, h.rightName, fixed: true), environment: [:])
            _ = try await actions.perform(.retry, ids: [failed.id], actor: "alice")
            #expect(try await h.waitUntil(timeout: .seconds(30)) { try await self.activity(h, artifact: id)?.status != .retrying })
            #expect(try await self.activity(h, artifact: id)?.status == .done)
            #expect(try await h.pairs().count == 1)
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }

    @Test("A retry without a queue goes back to open and says why")
    func retryWithoutQueue() async throws {
        let h = try await ClusterHarness.start { integrationYAML(left: $0, right: $1) }
        do {
            let integration = try await h.database.client.query("SELECT id FROM integrations").first?.decode(Int64.self, at: 0)
            let id = try await h.database.client.query(
                """
                INSERT INTO activity (kind, code, integration_id, artifact_id, side, message) VALUES ('error', 'x', \(integration), '5', 'left', 'boom')
                RETURNING id
                """
            )[0].decode(Int64.self, at: 0)
            let result = try await OperatorActions(client: h.database.client, queue: nil).perform(.retry, ids: [id], actor: "alice")
            #expect(result.changed.isEmpty && result.skipped.map(\.id) == [id])
            #expect(try await ActivityStore(client: h.database.client).item(id: id)?.status == .open)
            // With the queue, the sync job is there (coalesced under the artifact's key).
            let queued = try await OperatorActions(client: h.database.client, queue: h.queue).perform(.retry, ids: [id], actor: "alice")
            #expect(queued.changed == [id])
            let pending = try await h.queue.jobs(state: .pending)
            #expect(pending.contains { $0.job?.kind == .sync && $0.job?.payload.contains("\"5\"") == true })
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }

    @Test("A retry whose sync job was lost is queued again by the leader; on a stopped integration it goes back in error")
    func lostRetriesAreSwept() async throws {
        let h = try await ClusterHarness.start { integrationYAML(left: $0, right: $1) }
        do {
            let client = h.database.client
            let integration = try await client.query("SELECT id FROM integrations").first?.decode(Int64.self, at: 0)
            let id = try await client.query(
                """
                INSERT INTO activity (kind, code, integration_id, artifact_id, side, message) VALUES ('error', 'x', \(integration), '7', 'left', 'boom')
                RETURNING id
                """
            )[0].decode(Int64.self, at: 0)
            func pendingSync() async throws -> Bool {
                try await h.queue.jobs(state: .pending).contains { $0.job?.kind == .sync && $0.job?.payload.contains("\"7\"") == true }
            }
            #expect(try await OperatorActions(client: client, queue: h.queue).perform(.retry, ids: [id], actor: "alice").changed == [id])
            #expect(try await pendingSync())
            // Redis loses the job (a flush, a failover without persistence).
            _ = try await h.queue.purge(repository: h.leftName)
            #expect(try await pendingSync() == false)

            var coordinator = Coordinator(
                runtime: h.runtime, queue: h.queue, lease: LeaderLease(client: client, holder: "sweeper", ttlSeconds: 15),
                logger: ClusterHarness.logger)
            coordinator.retryPatience = .seconds(300)
            // Not yet: the retry is younger than the patience.
            #expect(try await coordinator.sweepRetries() == Coordinator.RetrySweep())
            try await client.query("UPDATE activity SET acted_at = now() - interval '6 minutes' WHERE id = \(id)")
            #expect(try await coordinator.sweepRetries() == Coordinator.RetrySweep(requeued: [id]))
            #expect(try await pendingSync(), "queued again")
            #expect(try await ActivityStore(client: client).item(id: id)?.status == .retrying)
            // Re-stamped: the next sweep leaves it alone for another patience.
            #expect(try await coordinator.sweepRetries() == Coordinator.RetrySweep())

            // A stopped integration: the retry cannot run, so the item goes back in error and says why.
            #expect(try await IntegrationControl(client: client).setRunning(h.integration, false, actor: "tester"))
            _ = try await h.runtime.snapshot(force: true)
            try await client.query("UPDATE activity SET acted_at = now() - interval '6 minutes' WHERE id = \(id)")
            #expect(try await coordinator.sweepRetries() == Coordinator.RetrySweep(reopened: [id]))
            let item = try #require(try await ActivityStore(client: client).item(id: id))
            #expect(item.status == .open)
            #expect(item.message.contains("its integration is not running"))
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }
}
