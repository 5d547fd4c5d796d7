import Foundation
import Logging
import Postgres
import TandemCore
import TandemQueue
import TandemStore
import Testing

@testable import TandemCluster

/// The pieces that let the cluster recover promptly from infrastructure faults (issue 13 §5), over real PostgreSQL and
/// Redis: one rewind of the cursors after Redis lost its data is enough, and a worker restarted under its id knows that
/// the jobs leased under that id are its killed predecessor's.
@Suite("Recovery from infrastructure faults", .serialized, .timeLimit(.minutes(2)))
struct FaultRecoveryTests {
    @Test("A detection that read its cursors before Redis lost its data cannot save them over the rewind")
    func aRewindIsNotSavedOver() async throws {
        let h = try await ClusterHarness.start { integrationYAML(left: $0, right: $1) }
        do {
            let integration = try await h.database.client.query("SELECT id FROM integrations").first!.decode(Int64.self, at: 0)
            let pairs = PairStore(client: h.database.client)
            // A side never detected has a row once read, so that a rewind counts on it.
            let first = try await pairs.cursors(integration: integration, side: .left)
            #expect(first.positions.isEmpty)
            #expect(try await pairs.saveCursors(["demo": "page 3"], integration: integration, side: .left, rewinds: first.rewinds))

            // A detection reads its cursors; Redis loses its data (the epoch key is gone) and the leader rewinds.
            let running = try await pairs.cursors(integration: integration, side: .left)
            #expect(running.positions == ["demo": "page 3"])
            let epoch = RedisEpochGuard()
            #expect(try await epoch.check(queue: h.queue, client: h.database.client, logger: ClusterHarness.logger))
            #expect(try await !epoch.check(queue: h.queue, client: h.database.client, logger: ClusterHarness.logger))

            // The detection's next checkpoint would skip the changes whose syncs were lost: it is refused.
            #expect(try await !pairs.saveCursors(["demo": "page 4"], integration: integration, side: .left, rewinds: running.rewinds))
            let after = try await pairs.cursors(integration: integration, side: .left)
            #expect(after.positions.isEmpty)
            #expect(after.rewinds == running.rewinds + 1)
            // The next detection reads from the beginning and moves on normally.
            #expect(try await pairs.saveCursors(["demo": "page 1"], integration: integration, side: .left, rewinds: after.rewinds))
            #expect(try await pairs.cursors(integration: integration, side: .left).positions == ["demo": "page 1"])
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }

    @Test("A worker's id is held by one live process at a time; a killed holder's id is free at once")
    func aWorkerIdHasOneLiveHolder() async throws {
        try await withTestDatabase { database in
            let configuration = database.client.configuration
            let first = ClusterPresence(configuration: configuration, logger: ClusterHarness.logger, worker: "worker-7")
            let firstRuns = Task { try await first.run() }
            #expect(try await first.takeIdentity())
            // A second process under the same id (a misconfiguration) does not get it: it must not reap the first's jobs.
            let second = ClusterPresence(configuration: configuration, logger: ClusterHarness.logger, worker: "worker-7")
            #expect(try await !second.takeIdentity(patience: .milliseconds(500)))
            // Another id is free.
            let other = ClusterPresence(configuration: configuration, logger: ClusterHarness.logger, worker: "worker-8")
            #expect(try await other.takeIdentity())
            // The first process goes away (its session ends, as when it is killed): the id is free for its successor.
            firstRuns.cancel()
            try await firstRuns.value
            #expect(try await second.takeIdentity())
            // A process without a worker id holds none.
            let anonymous = ClusterPresence(configuration: configuration, logger: ClusterHarness.logger)
            #expect(try await !anonymous.takeIdentity())
            // (Running and stopping them closes their connections.)
            for presence in [second, other, anonymous] {
                let task = Task { try await presence.run() }
                task.cancel()
                try await task.value
            }
        }
    }
}
