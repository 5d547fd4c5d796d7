import Postgres
import TandemStore
import Testing

@Suite struct LeaderLeaseTests {
    @Test func oneLeaderAtATimeAndTokensGoUpOnTakeover() async throws {
        try await withTestDatabase { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            let a = LeaderLease(client: db.client, holder: "a", ttlSeconds: 1)
            let b = LeaderLease(client: db.client, holder: "b", ttlSeconds: 1)
            let first = try await a.acquireOrRenew()
            #expect(first == 1)
            #expect(try await b.acquireOrRenew() == nil, "a standby took a live lease")
            #expect(try await a.acquireOrRenew() == first, "renewal changed the token")
            #expect(try await a.isValid(token: 1))
            // a stops renewing: after expiry b takes over with a higher token, and a's token is no longer valid.
            try await Task.sleep(for: .milliseconds(1200))
            let second = try await b.acquireOrRenew()
            #expect(second == 2)
            #expect(try await a.isValid(token: 1) == false)
            #expect(try await a.acquireOrRenew() == nil)
            #expect(try await b.current()?.holder == "b")
            // Graceful hand-over: b releases, a takes over at once.
            try await b.release()
            #expect(try await a.acquireOrRenew() == 3)
        }
    }

    @Test func concurrentCandidatesElectExactlyOne() async throws {
        try await withTestDatabase(poolSize: 8) { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            let winners = try await withThrowingTaskGroup(of: Int64?.self) { group in
                for index in 0..<8 {
                    group.addTask { try await LeaderLease(client: db.client, holder: "c\(index)", ttlSeconds: 30).acquireOrRenew() }
                }
                return try await group.reduce(into: [Int64]()) { if let token = $1 { $0.append(token) } }
            }
            #expect(winners == [1])
        }
    }
}
