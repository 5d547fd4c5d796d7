import Foundation
import HTTP
import Postgres
import Redis
import TandemCluster
import TandemConnectors
import TandemCore
import TandemQueue
import TandemStore
import Testing

/// Rejected credentials through the engine (issue 13): only the repository that rejected them pauses, the blocker names
/// it; an operator's Retry tries the connection again at once (and the blocker stays open while the credentials are
/// still wrong); new credentials resume the repository at once and the waiting changes flow.
@Suite(
    "Rejected credentials and recovery", .serialized, .timeLimit(.minutes(3)),
    .disabled(if: ProcessInfo.processInfo.environment["TANDEM_E2E"] == "0", "TANDEM_E2E=0"))
struct CredentialRecoveryTests {
    static func yaml(_ left: String, _ right: String) -> String {
        integrationYAML(left: left, right: right).replacingOccurrences(
            of: "url: http://memory.invalid/\(right)\n",
            with: "url: http://memory.invalid/\(right)\n    auth:\n      kind: bearer\n      token: ${TANDEM_SECRET_RIGHT_TOKEN}\n")
    }

    struct Blocker: Equatable {
        var status: String
        var repository: String?
        var message: String
    }

    static func blockers(_ h: ClusterHarness) async throws -> [Blocker] {
        try await h.database.client.query(
            """
            SELECT a.status, r.name, a.message FROM activity a LEFT JOIN repositories r ON r.id = a.repository_id
            WHERE a.kind = 'blocker' ORDER BY a.id
            """
        ).map {
            Blocker(
                status: try $0.decode(String.self, at: 0), repository: try $0.decode(String?.self, at: 1), message: try $0.decode(String.self, at: 2))
        }
    }

    /// A CI run once saw the repository paused for the hour right after new credentials were applied: a job that had
    /// read the old configuration failed with the old credentials after another job had already rebuilt the connector
    /// with the new ones, so "has the configuration changed since the connector was built?" said no, and the job opened
    /// a blocker. The question is now asked against the configuration the failed job ran with.
    @Test("a job that failed with the old credentials tries again even when the connector was already rebuilt with new ones")
    func aJobThatRanWithOldCredentialsSeesTheChange() async throws {
        let h = try await ClusterHarness.start(
            environment: ["TANDEM_SECRET_RIGHT_TOKEN": "wrong-token"], rightAcceptedCredentials: .bearer("right-token")
        ) { Self.yaml($0, $1) }
        do {
            let used = try await h.runtime.snapshot(force: true)
            _ = try h.runtime.connector(for: try #require(used.repository(h.rightName)))
            let store = ConfigStore(client: h.database.client, box: SecretBox(key: ClusterHarness.masterKey), logger: ClusterHarness.logger)
            _ = try await store.apply(yaml: Self.yaml(h.leftName, h.rightName), environment: ["TANDEM_SECRET_RIGHT_TOKEN": "right-token"])
            // Another job reads the new configuration and rebuilds the connector before the first one's failure is handled.
            let fresh = try await h.runtime.snapshot(force: true)
            _ = try h.runtime.connector(for: try #require(fresh.repository(h.rightName)))
            #expect(await h.runtime.changedSinceSnapshot(repository: h.rightName) == false, "the connector alone no longer shows it")
            #expect(await h.runtime.changedSinceSnapshot(repository: h.rightName, since: used), "the failed job's configuration does")
            #expect(await h.runtime.changedSinceSnapshot(repository: h.rightName, since: fresh) == false)
            #expect(await h.runtime.changedSinceSnapshot(repository: h.leftName, since: used) == false, "the other repository is unchanged")
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }

    @Test("the rejecting repository alone pauses and is named; Retry re-tests; new credentials resume it at once")
    func rejectedCredentialsPauseOnlyTheirRepositoryAndRecover() async throws {
        let good: Credentials = .bearer("right-token")
        let h = try await ClusterHarness.start(environment: ["TANDEM_SECRET_RIGHT_TOKEN": "wrong-token"], rightAcceptedCredentials: good) {
            Self.yaml($0, $1)
        }
        do {
            h.startCoordinator(id: "coordinator")
            try await h.startWorker(id: "worker-1")
            let first = try await h.create(.left, title: "made while the right side rejects us")

            // The right side rejects the credentials: it alone is paused, and the blocker names it.
            let blocked = try await h.waitUntil(timeout: .seconds(30)) {
                try await Self.blockers(h).contains { $0.status == "open" && $0.repository == h.rightName }
            }
            let blockers = try await Self.blockers(h)
            #expect(blocked, "\(blockers)")
            #expect(blockers.allSatisfy { $0.repository == h.rightName && $0.message.hasPrefix("repository \(h.rightName): ") }, "\(blockers)")
            #expect(try await h.queue.pausedUntil(repository: h.rightName) != nil, "the right repository is paused")
            #expect(try await h.queue.pausedUntil(repository: h.leftName) == nil, "the left repository, whose credentials work, is not")
            let nothing = try await InMemoryConnector(repository: h.right, credentials: good).changes(project: "demo", since: nil, pageSize: 50)
            #expect(nothing.changes.isEmpty)

            // Retry while the credentials are still wrong: the connection is tried again at once, and the blocker opens again.
            let actions = OperatorActions(client: h.database.client, queue: h.queue)
            let ids = try await h.database.client.query("SELECT id FROM activity WHERE kind = 'blocker'").map { try $0.decode(Int64.self, at: 0) }
            let occurrences = { () async throws -> Int in
                try await h.database.client.query("SELECT coalesce(sum(occurrences), 0)::bigint FROM activity WHERE kind = 'blocker'")
                    .first?.decode(Int.self, at: 0) ?? 0
            }
            let before = try await occurrences()
            let retried = try await actions.perform(.retry, ids: ids, actor: "test")
            #expect(retried.changed == ids)
            // The pause is lifted and the connection tried again at once (the re-test may pause it again before this
            // line runs, so the proof is the rejection counted anew, well within the hour's pause).
            let reopened = try await h.waitUntil(timeout: .seconds(30)) {
                let now = try await Self.blockers(h)
                let paused = try await h.queue.pausedUntil(repository: h.rightName)
                return try await occurrences() > before && now.allSatisfy { $0.status == "open" } && paused != nil
            }
            let afterRetry = try await Self.blockers(h)
            #expect(reopened, "still wrong: the blocker is open again and the repository paused: \(afterRetry)")

            // New credentials: the repository resumes at once, the waiting create flows, the blocker is done.
            let store = ConfigStore(client: h.database.client, box: SecretBox(key: ClusterHarness.masterKey), logger: ClusterHarness.logger)
            _ = try await store.apply(yaml: Self.yaml(h.leftName, h.rightName), environment: ["TANDEM_SECRET_RIGHT_TOKEN": "right-token"])
            let start = ContinuousClock.now
            let recovered = try await h.waitUntil(timeout: .seconds(60)) {
                let right = try await InMemoryConnector(repository: h.right, credentials: good).changes(project: "demo", since: nil, pageSize: 50)
                let pairs = try await h.pairs()
                return right.changes.count == 1 && pairs.contains { $0.left == first }
            }
            #expect(recovered, "the create flows once the credentials are fixed")
            print("credential recovery: synced \(start.duration(to: .now)) after the new credentials were applied")
            let done = try await h.waitUntil(timeout: .seconds(30)) { try await Self.blockers(h).allSatisfy { $0.status == "done" } }
            let final = try await Self.blockers(h)
            #expect(done, "the blocker is resolved by the repository's answer: \(final)")
            #expect(try await h.queue.pausedUntil(repository: h.rightName) == nil)
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }
}
