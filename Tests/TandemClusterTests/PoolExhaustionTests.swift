import Foundation
import Postgres
import TandemCluster
import TandemConnectors
import TandemCore
import Testing

/// Issue 13 §5: a sync holds a pooled connection (with its pair's session lock) across its tracker calls. Whatever it
/// does after a failure must not need a second connection: with as many failing syncs as the pool has connections,
/// each would wait for another's forever.
@Suite(
    "Database pool under failing creates", .serialized, .timeLimit(.minutes(3)),
    .disabled(if: ProcessInfo.processInfo.environment["TANDEM_E2E"] == "0", "TANDEM_E2E=0"))
struct PoolExhaustionTests {
    @Test("As many failing creates at once as the pool has connections: none waits on another, all are created on retry")
    func failingCreatesAsManyAsConnections() async throws {
        let connections = 4
        let harness = try await ClusterHarness.start(poolSize: connections) { integrationYAML(left: $0, right: $1) }
        // The state is read through a client of its own: the harness's pool is the one that may be exhausted.
        let observer = harness.database.newClient(poolSize: 1)
        do {
            // Every create of the first burst waits until all of them are in flight (each sync then holds one of the
            // pool's connections), then all fail together.
            await harness.right.refuseCreates(connections, together: connections)
            for i in 0..<connections { try await harness.create(.left, title: "burst \(i)") }
            try await harness.startWorker(id: "worker-1", concurrency: connections)
            harness.startCoordinator(id: "coordinator")
            // A bounded wait, not a speed bound: retries come within a second or two; a deadlock never ends.
            let deadline = ContinuousClock.now + .seconds(60)
            var created = 0
            var pairs = 0
            while ContinuousClock.now < deadline {
                created = await harness.right.ids.count
                pairs = (try? await observer.query("SELECT count(*) FROM artifact_pairs").first?.decode(Int.self, at: 0)) ?? pairs
                if created == connections && pairs == connections { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(created == connections && pairs == connections, "twins \(created), pairs \(pairs) of \(connections): the pool deadlocked")
        } catch {
            await observer.shutdown()
            await harness.finish()
            throw error
        }
        await observer.shutdown()
        await harness.finish()
    }
}
