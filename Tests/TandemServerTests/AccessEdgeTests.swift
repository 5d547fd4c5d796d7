import Foundation
import HTTPTypes
import TandemConfig
import TandemCore
import TandemQueue
import TandemServer
import TandemStore
import Testing

/// Issue 14 §8: a locked account's tokens, the queue's dead-job actions on unknown repositories, and operator requests
/// for projects outside the integration's collections.
@Suite("Access edges", .serialized, .timeLimit(.minutes(3)))
struct AccessEdgeTests {
    @Test func aLockedOrDisabledAccountsTokensAndSessionsStopUntilItIsUnlocked() async throws {
        try await withAPI { api in
            let token = try await api.token(for: "lee", roles: [.user])
            let (session, _) = try await api.login("lee", "password-of-lee")
            #expect(try await api.call(.get, "/api/v1/me", as: .token(token)).status == 200)
            // Wrong passwords until the lock-out (default: 5 in a row).
            for _ in 0..<5 {
                let wrong = try await api.call(.post, "/api/v1/session", as: .none, body: #"{"username":"lee","password":"not-it-at-all"}"#)
                #expect(wrong.status == 401)
            }
            #expect(try await api.call(.get, "/api/v1/users/lee").json["locked"] == .bool(true))
            let refused = try await api.call(.get, "/api/v1/me", as: .token(token))
            #expect(refused.status == 401 && refused.code == "account_locked", "\(refused.text)")
            #expect(try await api.call(.get, "/api/v1/repositories", as: .token(token)).status == 401)
            #expect(try await api.call(.get, "/api/v1/me", as: .session(cookie: session, csrf: nil)).status == 401)
            // Unlocked by an admin: the same token and session work again.
            #expect(try await api.call(.patch, "/api/v1/users/lee", body: #"{"unlock": true}"#).status == 200)
            #expect(try await api.call(.get, "/api/v1/me", as: .token(token)).status == 200)
            #expect(try await api.call(.get, "/api/v1/me", as: .session(cookie: session, csrf: nil)).status == 200)
            // Disabled: the token stops; enabled again, it works again.
            #expect(try await api.call(.patch, "/api/v1/users/lee", body: #"{"disabled": true}"#).status == 200)
            #expect(try await api.call(.get, "/api/v1/me", as: .token(token)).status == 401)
            #expect(try await api.call(.patch, "/api/v1/users/lee", body: #"{"disabled": false}"#).status == 200)
            #expect(try await api.call(.get, "/api/v1/me", as: .token(token)).status == 200)
        }
    }

    @Test func deadJobActionsOnAnUnknownRepositoryAre404LikePauseAndResume() async throws {
        try await withAPI { api in
            _ = try await operationsFixture(api.postgres)
            for action in ["pause", "resume", "dead/retry", "dead/delete"] {
                let answer = try await api.call(.post, "/api/v1/queues/nowhere/\(action)")
                #expect(answer.status == 404 && answer.code == "not_found", "\(action): \(answer.status) \(answer.text)")
                #expect(try await api.call(.post, "/api/v1/queues/roundup/\(action)").status == 200, "\(action)")
            }
            // A repository deleted while jobs of its were dead: those can still be retried or deleted, until none is left.
            let queue = try #require(api.api.queue)
            _ = try await queue.enqueue(Job(kind: .sync, repository: "deleted-repo", integration: "x", payload: #"{"side":"left","artifact":"1"}"#))
            for delivery in try await queue.dequeue(worker: "w1", max: 10).deliveries {
                _ = try await queue.fail(delivery, error: "gone", retryable: false)
            }
            let leftover = try await api.call(.post, "/api/v1/queues/deleted-repo/dead/delete")
            #expect(leftover.status == 200 && leftover.json["count"]?.intValue == 1, "\(leftover.text)")
            #expect(try await api.call(.post, "/api/v1/queues/deleted-repo/dead/delete").status == 404)
        }
    }

    @Test func initiateSynchronizationRefusesProjectsOutsideTheCollections() async throws {
        try await withAPI { api in
            _ = try await operationsFixture(api.postgres)  // left reads project P, right project Q
            let path = "/api/v1/integrations/books/initiate-synchronization"
            #expect(try await api.call(.post, path, body: #"{"side": "left", "projects": ["P"]}"#).status == 202)
            #expect(try await api.call(.post, path, body: #"{"projects": ["P", "Q"]}"#).status == 202)
            let before = try await api.snapshot()
            for (body, named) in [
                (#"{"side": "left", "projects": ["Q"]}"#, ["Q"]),
                (#"{"side": "right", "projects": ["Q", "P", "elsewhere"]}"#, ["P", "elsewhere"]),
                (#"{"projects": ["P", "X-1", "Y-2"]}"#, ["X-1", "Y-2"]),
            ] {
                let answer = try await api.call(.post, path, body: body)
                #expect(answer.status == 422 && answer.field == "projects", "\(body): \(answer.status) \(answer.text)")
                for project in named { #expect(answer.message.contains("'\(project)'"), "\(body): \(answer.text)") }
            }
            #expect(try await api.snapshot() == before)
            let requests = try await IntegrationControl(client: api.postgres).requests()
            #expect(requests.count == 2)
        }
    }
}
