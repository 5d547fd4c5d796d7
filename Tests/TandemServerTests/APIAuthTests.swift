import Foundation
import Hummingbird
import Postgres
import TandemConfig
import TandemCore
import TandemServer
import Testing

@testable import TandemStore

@Suite("API authentication and authorization", .serialized, .timeLimit(.minutes(5)))
struct APIAuthTests {
    @Test func passwordHashesAreSaltedSlowAndVerifyOnlyTheRightPassword() async throws {
        let hasher = testHasher
        let a = try await hasher.hash("correct horse battery")
        let b = try await hasher.hash("correct horse battery")
        #expect(a != b)  // salted
        #expect(a.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        #expect(!a.contains("correct"))
        #expect(await hasher.verify("correct horse battery", against: a))
        #expect(!(await hasher.verify("correct horse batterY", against: a)))
        #expect(!(await hasher.verify("", against: a)))
        #expect(!(await hasher.verify("correct horse battery", against: "$scrypt$ln=99,r=8,p=1$AAAA$AAAA")))
        #expect(!(await hasher.verify("correct horse battery", against: "plain")))
        // Parameters live in the hash: a stronger hasher still verifies the old hash, and asks for a re-hash.
        let standard = PasswordHasher()
        #expect(await standard.verify("correct horse battery", against: a))
        #expect(standard.needsRehash(a))
        #expect(!hasher.needsRehash(a))
        #expect(PasswordHasher.weakness(of: "short") != nil)
        #expect(PasswordHasher.weakness(of: "aaaaaaaaaa") != nil)
        #expect(PasswordHasher.weakness(of: "a fine passphrase") == nil)
    }

    @Test func burstsOfLoginsHashAtMostTwoPasswordsAtOnce() async throws {
        actor Occupancy {
            var now = 0
            var most = 0
            func enter() {
                self.now += 1
                self.most = max(self.most, self.now)
            }
            func leave() { self.now -= 1 }
        }
        let gate = HashGate(limit: 2)
        let occupancy = Occupancy()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    await gate.acquire()
                    await occupancy.enter()
                    try? await Task.sleep(for: .milliseconds(5))
                    await occupancy.leave()
                    await gate.release()
                }
            }
        }
        #expect(await occupancy.most == 2)
        #expect(await occupancy.now == 0)
        // And hashing still works through it, many at once.
        let hashes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<6 {
                group.addTask { await testHasher.verify("password \(index)", against: try await testHasher.hash("password \(index)")) }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(hashes == 6)
    }

    @Test func apiTokensAreShownOnceStoredAsSHA256AndCanBeRevoked() async throws {
        try await withAPI { api in
            let created = try await api.call(.post, "/api/v1/tokens", body: #"{"name":"ci"}"#)
            #expect(created.status == 201)
            let token = try #require(created.json["token"]?.stringValue)
            let id = try #require(created.json["id"]?.intValue)
            #expect(token.hasPrefix("tdm_") && token.count > 40)
            // At rest: only the digest and a short prefix; the token's text is nowhere in the row.
            let row = try #require(try await api.postgres.query("SELECT token_hash, t::text FROM api_tokens t WHERE id = \(id)").first)
            #expect(try row.decode(Data.self, at: 0) == AuthStore.digest(token))
            #expect(!(try row.decode(String.self, at: 1)).contains(String(token.dropFirst(10))))
            // Listing never shows it again.
            let list = try await api.call(.get, "/api/v1/tokens")
            #expect(list.status == 200 && !list.text.contains(token) && list.text.contains("\"ci\""))
            // It works, and its use is recorded; quoted as in seed 003 too.
            #expect(try await api.call(.get, "/api/v1/me", as: .token(token)).json["tokenId"]?.intValue == id)
            #expect(try await api.call(.get, "/api/v1/me", as: .none, headers: [.authorization: "Token \"\(token)\""]).status == 200)
            let used = try await api.postgres.query("SELECT last_used_at IS NOT NULL FROM api_tokens WHERE id = \(id)").first?.decode(
                Bool.self, at: 0)
            #expect(used == true)
            // Revoked: refused.
            #expect(try await api.call(.delete, "/api/v1/tokens/\(id)").status == 200)
            let refused = try await api.call(.get, "/api/v1/me", as: .token(token))
            #expect(refused.status == 401 && refused.code == "invalid_token")
            #expect(try await api.call(.get, "/api/v1/me", as: .token("tdm_made-up")).status == 401)
            #expect(try await api.call(.get, "/api/v1/me", as: .none, headers: [.authorization: "Basic YWRtaW46eA=="]).status == 401)
            // Bad and unknown ids.
            let bad = try await api.call(.delete, "/api/v1/tokens/abc")
            #expect(bad.status == 422 && bad.field == "id")
            #expect(try await api.call(.delete, "/api/v1/tokens/999999").status == 404)
            // Tokens may expire by themselves.
            let shortLived = try await api.call(.post, "/api/v1/tokens", body: #"{"name":"short","expiresInDays":1}"#)
            let shortToken = try #require(shortLived.json["token"]?.stringValue)
            let expiresAt = try #require(shortLived.json["expiresAt"]?.stringValue.flatMap { try? Date($0, strategy: .iso8601) })
            #expect(expiresAt.timeIntervalSinceNow > 23 * 3600 && expiresAt.timeIntervalSinceNow < 25 * 3600)
            #expect(try await api.call(.get, "/api/v1/me", as: .token(shortToken)).status == 200)
            try await api.postgres.query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'short'")
            #expect(try await api.call(.get, "/api/v1/me", as: .token(shortToken)).status == 401)
            #expect(try await api.call(.post, "/api/v1/tokens", body: #"{"name":"x","expiresInDays":0}"#).field == "expiresInDays")
            // Admins manage other users' tokens (a service user without a password, say).
            #expect(try await api.call(.post, "/api/v1/users", body: #"{"username":"robot","roles":["user"]}"#).status == 201)
            let robotToken = try await api.call(.post, "/api/v1/users/robot/tokens", body: #"{"name":"ci"}"#)
            let robotSecret = try #require(robotToken.json["token"]?.stringValue)
            let robotID = try #require(robotToken.json["id"]?.intValue)
            #expect(try await api.call(.get, "/api/v1/me", as: .token(robotSecret)).json["user"]?["username"]?.stringValue == "robot")
            #expect(try await api.call(.get, "/api/v1/users/robot/tokens").json["items"]?.arrayValue?.count == 1)
            #expect(try await api.call(.get, "/api/v1/users/nobody/tokens").status == 404)
            #expect(try await api.call(.post, "/api/v1/users/nobody/tokens", body: #"{"name":"x"}"#).status == 404)
            #expect(try await api.call(.post, "/api/v1/users/robot/tokens", body: #"{"name":"  "}"#).field == "name")
            #expect(try await api.call(.delete, "/api/v1/users/admin/tokens/\(robotID)").status == 404)  // not admin's token
            #expect(try await api.call(.delete, "/api/v1/users/robot/tokens/x").field == "id")
            #expect(try await api.call(.delete, "/api/v1/users/robot/tokens/\(robotID)").json["active"] == .bool(false))
            #expect(try await api.call(.get, "/api/v1/me", as: .token(robotSecret)).status == 401)
            // Another user's token cannot be revoked through one's own list.
            let other = try await api.token(for: "olga", roles: [.user])
            let olgaTokens = try await api.call(.get, "/api/v1/tokens", as: .token(other))
            let olgaID = try #require(olgaTokens.json["items"]?.arrayValue?.first?["id"]?.intValue)
            #expect(try await api.call(.delete, "/api/v1/tokens/\(olgaID)").status == 404)
        }
    }

    @Test func sessionsUseHttpOnlyStrictCookiesAndRequireTheCSRFTokenOnUnsafeMethods() async throws {
        try await withAPI { api in
            let login = try await api.call(.post, "/api/v1/session", as: .none, body: #"{"username":"admin","password":"admin-password-1"}"#)
            #expect(login.status == 200)
            let cookie = try #require(login.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
            let (session, csrf) = try await api.login("admin", APIHarness.adminPassword)
            // Only the digest of the session id is stored.
            let stored = try await api.postgres.query("SELECT count(*) FROM sessions WHERE id_hash = \(AuthStore.digest(session))").first?.decode(
                Int.self, at: 0)
            #expect(stored == 1)
            let me = try await api.call(.get, "/api/v1/me", as: .session(cookie: session, csrf: nil))
            #expect(me.status == 200 && me.json["authentication"]?.stringValue == "session" && me.json["csrfToken"]?.stringValue == csrf)
            let before = try await api.snapshot()
            let body = #"{"username":"carol","roles":["user"],"password":"carol-password"}"#
            let missing = try await api.call(.post, "/api/v1/users", as: .session(cookie: session, csrf: nil), body: body)
            #expect(missing.status == 403 && missing.code == "csrf_failed" && missing.field == "X-CSRF-Token")
            let forged = try await api.call(.post, "/api/v1/users", as: .session(cookie: session, csrf: "forged-" + csrf), body: body)
            #expect(forged.status == 403 && forged.code == "csrf_failed")
            // Another session's token does not fit this one.
            let (_, otherCSRF) = try await api.login("admin", APIHarness.adminPassword)
            #expect(try await api.call(.post, "/api/v1/users", as: .session(cookie: session, csrf: otherCSRF), body: body).status == 403)
            #expect(try await api.snapshot() == before)
            let created = try await api.call(.post, "/api/v1/users", as: .session(cookie: session, csrf: csrf), body: body)
            #expect(created.status == 201)
            // Logout ends the session.
            #expect(try await api.call(.delete, "/api/v1/session", as: .session(cookie: session, csrf: nil)).status == 403)
            let logout = try await api.call(.delete, "/api/v1/session", as: .session(cookie: session, csrf: csrf))
            #expect(logout.status == 204 && logout.headers[.setCookie]?.contains("Max-Age=0") == true)
            let after = try await api.call(.get, "/api/v1/me", as: .session(cookie: session, csrf: nil))
            #expect(after.status == 401 && after.code == "session_expired")
        }
    }

    @Test func sessionsExpire() async throws {
        try await withAPI { api in
            let (session, _) = try await api.login("admin", APIHarness.adminPassword)
            #expect(try await api.call(.get, "/api/v1/me", as: .session(cookie: session, csrf: nil)).status == 200)
            try await api.postgres.query("UPDATE sessions SET expires_at = now() - interval '1 second'")
            let expired = try await api.call(.get, "/api/v1/me", as: .session(cookie: session, csrf: nil))
            #expect(expired.status == 401 && expired.code == "session_expired")
            // The lifetime is a setting.
            #expect(try await api.call(.patch, "/api/v1/settings", body: #"{"security":{"sessionSeconds":600}}"#).status == 200)
            let (fresh, _) = try await api.login("admin", APIHarness.adminPassword)
            let seconds = try await api.postgres.query(
                "SELECT extract(epoch FROM expires_at - created_at)::int FROM sessions WHERE id_hash = \(AuthStore.digest(fresh))"
            ).first?.decode(Int.self, at: 0)
            #expect(seconds == 600)
            // A disabled user's sessions end.
            _ = try await api.token(for: "dave", roles: [.user])
            let (daveSession, _) = try await api.login("dave", "password-of-dave")
            #expect(try await api.call(.patch, "/api/v1/users/dave", body: #"{"disabled":true}"#).status == 200)
            #expect(try await api.call(.get, "/api/v1/me", as: .session(cookie: daveSession, csrf: nil)).status == 401)
        }
    }

    @Test func repeatedFailedLoginsLockTheAccountWithoutRevealingWhetherTheUserExists() async throws {
        try await withAPI { api in
            _ = try await api.token(for: "erin", roles: [.user])
            func attempt(_ user: String, _ password: String) async throws -> APIAnswer {
                try await api.call(
                    .post, "/api/v1/session", as: .none, body: JSONNode.object(["username": .string(user), "password": .string(password)]).text)
            }
            let unknown = try await attempt("nobody", "whatever-1")
            for _ in 0..<4 {
                let wrong = try await attempt("erin", "wrong-password")
                #expect(wrong.status == 401)
                #expect(wrong.text == unknown.text)  // the same answer as for a user that does not exist
            }
            // The fifth failure locks; then even the right password is refused, with the same answer.
            #expect(try await attempt("erin", "wrong-password").text == unknown.text)
            let locked = try await attempt("erin", "password-of-erin")
            #expect(locked.status == 401 && locked.text == unknown.text)
            #expect(try await api.call(.get, "/api/v1/users/erin").json["locked"] == .bool(true))
            // Once the lock expires, the right password works and resets the count.
            try await api.postgres.query("UPDATE users SET locked_until = now() - interval '1 second' WHERE username = 'erin'")
            #expect(try await attempt("erin", "password-of-erin").status == 200)
            let state = try await api.postgres.query("SELECT failed_logins, locked_until IS NULL FROM users WHERE username = 'erin'").first
            #expect(try state?.decode(Int.self, at: 0) == 0 && state?.decode(Bool.self, at: 1) == true)
            // An admin can unlock.
            for _ in 0..<5 { _ = try await attempt("erin", "wrong-password") }
            #expect(try await attempt("erin", "password-of-erin").status == 401)
            #expect(try await api.call(.patch, "/api/v1/users/erin", body: #"{"unlock":true}"#).json["locked"] == .bool(false))
            #expect(try await attempt("erin", "password-of-erin").status == 200)
            // Bad bodies are 4xx naming the field.
            let bad = try await api.call(.post, "/api/v1/session", as: .none, body: #"{"username":"erin","password":5}"#)
            #expect(bad.status == 422 && bad.field == "password")
        }
    }

    /// Each role × each endpoint: allowed (anything but 401/403) or 403; no credentials: 401. Every endpoint of the API
    /// is in the table, because the table is the API's own list.
    @Test func authorizationMatrix() async throws {
        // With the operator requests served too (a requester that knows no integration).
        let requester: IntegrationRequester = { _, name, _, _, _ in throw AdminError(.notFound, "no integration named '\(name)'") }
        try await withAPI(requester: requester) { api in
            var tokens: [Role: String] = [:]
            for role in Role.allCases { tokens[role] = try await api.token(for: "matrix-\(role.rawValue)", roles: [role]) }
            var checked = 0
            for endpoint in api.api.endpoints {
                let uri = endpoint.path.replacingOccurrences(of: "{id}", with: "999999").replacingOccurrences(of: "{connection_id}", with: "999999")
                    .replacingOccurrences(
                        of: "{name}", with: "no-such-entity"
                    ).replacingOccurrences(of: "{username}", with: "no-such-user")
                    .replacingOccurrences(of: "{repository}", with: "no-such-repository")
                let body: String? = [.get, .delete].contains(endpoint.method) ? nil : "{}"
                let anonymous = try await api.call(endpoint.method, uri, as: .none, body: body)
                guard let capability = endpoint.capability else {
                    #expect(anonymous.status == 422, "\(endpoint.method) \(endpoint.path) without credentials: \(anonymous.status)")
                    continue
                }
                #expect(anonymous.status == 401, "\(endpoint.method) \(endpoint.path) without credentials: \(anonymous.status)")
                #expect(anonymous.code == "unauthenticated")
                for role in Role.allCases {
                    let answer = try await api.call(endpoint.method, uri, as: .token(tokens[role]!), body: body)
                    if capability.allowed.contains(role) {
                        #expect(
                            ![401, 403].contains(answer.status), "\(role) → \(endpoint.method) \(endpoint.path): \(answer.status) \(answer.text)")
                        #expect(answer.status < 500, "\(role) → \(endpoint.method) \(endpoint.path): \(answer.status) \(answer.text)")
                    } else {
                        #expect(answer.status == 403, "\(role) → \(endpoint.method) \(endpoint.path): \(answer.status) \(answer.text)")
                        #expect(answer.code == "forbidden")
                    }
                    checked += 1
                }
            }
            #expect(checked == Role.allCases.count * api.api.endpoints.filter { $0.capability != nil }.count)
            // The matrix is published for the UI.
            let published = try await api.call(.get, "/api/v1/roles", as: .token(tokens[.viewPairs]!))
            let deletePairs = published.json["capabilities"]?.arrayValue?.first { $0["name"]?.stringValue == "delete-pairs" }
            #expect(deletePairs?["roles"] == .array([.string("admin"), .string("delete-pairs")]))
            // A user holding two roles has both roles' capabilities.
            let both = try await api.token(for: "matrix-both", roles: [.troubleshooting, .deletePairs])
            let caps = try await api.call(.get, "/api/v1/me", as: .token(both)).json["capabilities"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(caps.contains("read-configuration") && caps.contains("delete-pairs") && !caps.contains("write-configuration"))
        }
    }
}
