import Foundation
import HTTPTypes
import Hummingbird
import TandemConfig
import TandemCore
import TandemServer
import TandemStore
import Testing

/// Issue 14 §1: a stored secret is only ever sent to the host it was entered for. Whoever may edit a repository (the
/// `user` role may) cannot point it elsewhere and keep the secret: a change of the URL's origin (scheme, host, port),
/// of the proxy, of the authentication kind or turning certificate checks off drops the stored secrets unless the same
/// request gives them again — in v1, v2, the web UI and `tandem apply` alike. And a connection test answers a
/// classified outcome, never what the remote host said.
@Suite("Stored credentials go only where they were entered", .serialized, .timeLimit(.minutes(3)))
struct CredentialRedirectTests {
    static let secret = "K3Y-only-for-redmine-example-7c1"
    static let repository =
        #"{"name":"tracker","type":"redmine","url":"https://redmine.example.com/redmine","auth":{"kind":"api-key","key":"\#(secret)","header":"X-Redmine-API-Key"}}"#

    /// `node` with its member `key` set to `value` (nil: removed).
    static func with(_ node: JSONNode, _ key: String, _ value: JSONNode?) -> JSONNode {
        var members = node.members ?? []
        members.removeAll { $0.key == key }
        if let value { members.append(.init(key, value)) }
        return .object(members)
    }

    @Test func aUserCannotSendAStoredSecretToAnotherHost() async throws {
        let capture = try CaptureServer(status: "401 Unauthorized", body: #"{"errors":["nope"]}"#)
        defer { capture.stop() }
        try await withAPI { api in
            #expect(try await api.call(.post, "/api/v1/repositories", body: Self.repository).status == 201)
            let user = try await api.token(for: "uma", roles: [.user])
            // What a user sees of the repository: the secret as {"set": true}.
            let read = try await api.call(.get, "/api/v1/repositories/tracker", as: .token(user)).json
            let set = JSONNode.object(["set": .bool(true)])
            #expect(read["auth"]?["key"] == set)
            let auth = try #require(read["auth"])
            let before = try await api.snapshot()
            // Written back pointing elsewhere, with the secret kept as {"set": true}: refused, naming the secret.
            let redirects: [(String, JSONNode, String)] = [
                ("another host", Self.with(read, "url", .string(capture.url)), "auth.key"),
                ("http instead of https", Self.with(read, "url", .string("http://redmine.example.com/redmine")), "auth.key"),
                ("another port", Self.with(read, "url", .string("https://redmine.example.com:8443/redmine")), "auth.key"),
                ("a proxy", Self.with(read, "proxy", .object(["url": .string(capture.url)])), "auth.key"),
                (
                    "another authentication kind",
                    Self.with(read, "auth", .object(["kind": .string("bearer"), "token": set])), "auth.token"
                ),
                ("certificate checks off", Self.with(read, "allowInsecure", .bool(true)), "auth.key"),
            ]
            for (what, body, field) in redirects {
                let answer = try await api.call(.put, "/api/v1/repositories/tracker", as: .token(user), body: body.text)
                #expect(answer.status == 422, "\(what): \(answer.status) \(answer.text)")
                #expect(answer.field == field, "\(what): \(answer.text)")
                #expect(answer.message.contains("again"), "\(what): \(answer.text)")
            }
            #expect(try await api.snapshot() == before)
            #expect(try await api.api.config.loadForRuntime().1["tracker"]?["auth"] == Self.secret)
            // The same origin (another path, the host in capitals, the default port written out) keeps the secret.
            for url in ["https://redmine.example.com/other", "https://REDMINE.example.com:443/other"] {
                let answer = try await api.call(
                    .put, "/api/v1/repositories/tracker", as: .token(user), body: Self.with(read, "url", .string(url)).text)
                #expect(answer.status == 200, "\(url): \(answer.text)")
                #expect(try await api.api.config.loadForRuntime().1["tracker"]?["auth"] == Self.secret)
            }
            // Another host with a secret of the request's own: stored, and only that one is ever sent there.
            var own = auth
            own = Self.with(own, "key", .string("users-own-key"))
            let moved = try await api.call(
                .put, "/api/v1/repositories/tracker", as: .token(user),
                body: Self.with(Self.with(read, "url", .string(capture.url)), "auth", own).text)
            #expect(moved.status == 200, "\(moved.text)")
            let tested = try await api.call(.post, "/api/v1/repositories/tracker/test", as: .token(user))
            #expect(tested.status == 200 && tested.json["outcome"]?.stringValue == "auth-rejected", "\(tested.text)")
            #expect(!capture.requests.isEmpty)
            #expect(capture.requests.allSatisfy { !$0.contains(Self.secret) && $0.contains("users-own-key") })
        }
    }

    @Test func aV2PatchToAnotherServerNeedsTheSecretAgain() async throws {
        let capture = try CaptureServer(status: "401 Unauthorized")
        defer { capture.stop() }
        try await withAPI { api in
            let created = try await api.call(
                .post, ConnectionsV2Tests.base,
                body:
                    #"{"alias": "rm", "connector": 2, "params": {"issue_tracker_server": "redmine.example.com", "issue_tracker_auth_mode": "api-key", "issue_tracker_token": "\#(Self.secret)", "issue_tracker_api_key_header": "X-Redmine-API-Key"}}"#
            )
            let id = try ConnectionsV2Tests.id(created)
            let user = try await api.token(for: "uma", roles: [.user])
            let before = try await api.snapshot()
            let item = ConnectionsV2Tests.base + "\(id)/"
            for (what, params) in [
                ("another server", #"{"issue_tracker_server": "127.0.0.1:\#(capture.port)"}"#),
                ("a whole URL", #"{"issue_tracker_server": "\#(capture.url)"}"#),
                ("http instead of https", #"{"issue_tracker_method": "http"}"#),
                ("certificate checks off", #"{"issue_tracker_validate_cert": false}"#),
                ("the secret kept explicitly", #"{"issue_tracker_server": "\#(capture.url)", "issue_tracker_token": {"set": true}}"#),
            ] {
                let answer = try await api.call(.patch, item, as: .token(user), body: #"{"params": \#(params)}"#)
                #expect(answer.status == 422 && answer.field == "params.issue_tracker_token", "\(what): \(answer.status) \(answer.text)")
                #expect(answer.message.contains("again"), "\(what): \(answer.text)")
            }
            #expect(try await api.snapshot() == before)
            #expect(capture.requests.isEmpty)
            // With the request's own secret the server can change.
            let moved = try await api.call(
                .patch, item, as: .token(user), body: #"{"params": {"issue_tracker_server": "\#(capture.url)", "issue_tracker_token": "own"}}"#)
            #expect(moved.status == 200, "\(moved.text)")
            #expect(try await api.api.config.loadForRuntime().1["rm"]?["auth"] == "own")
        }
    }

    @Test func theWebFormSaysTheSecretIsNeededAgainNextToIt() async throws {
        try await withAPI { h in
            #expect(try await h.call(.post, "/api/v1/repositories", body: Self.repository).status == 201)
            _ = try await h.token(for: "uma", roles: [.user])
            let (cookie, csrf) = try await h.uiLogin("uma", "password-of-uma")
            let edit = try await h.ui(.get, "/ui/repositories/tracker", cookie: cookie)
            #expect(edit.text.contains("URL, proxy or authentication kind"), "the hint next to the secret says when it is needed again")
            let before = try await h.snapshot()
            let form: [(String, String)] = [
                ("_csrf", csrf), ("type", "redmine"), ("url", "https://collector.example.net/redmine"), ("auth.kind", "api-key"),
                ("auth.secret", ""), ("auth.header", "X-Redmine-API-Key"), ("enabled", "on"), ("eventRateLimit.scope", "all"),
            ]
            let refused = try await h.ui(.post, "/ui/repositories/tracker", cookie: cookie, form: form)
            #expect(refused.status == 422, "\(refused.text.prefix(300))")
            let start = try #require(refused.text.range(of: "name=\"auth.secret\""))
            let end = try #require(refused.text.range(of: "</label>", range: start.upperBound..<refused.text.endIndex))
            let label = String(refused.text[start.upperBound..<end.lowerBound])
            #expect(label.contains("field-error") && label.contains("again"), "\(label)")
            #expect(try await h.snapshot() == before)
            // Typed again, it is saved.
            var retyped = form
            retyped[4] = ("auth.secret", "a-new-key")
            #expect(try await h.ui(.post, "/ui/repositories/tracker", cookie: cookie, form: retyped).status == 303)
            #expect(try await h.api.config.loadForRuntime().1["tracker"]?["auth"] == "a-new-key")
        }
    }

    /// What the host answered never reaches the caller: not its body, not its headers; the answer is one of a fixed
    /// set of outcomes, with the HTTP status at most.
    @Test(arguments: [
        (
            "403 Forbidden", ["Content-Type: application/json", "X-Internal: HEADER-MARKER-403"], #"{"errors":["BODY-MARKER-403"]}"#,
            "permission-denied"
        ),
        ("401 Unauthorized", ["WWW-Authenticate: Basic realm=\"HEADER-MARKER-401\""], "BODY-MARKER-401", "auth-rejected"),
        ("200 OK", ["Content-Type: text/html", "X-Internal: HEADER-MARKER-200"], "<html><title>BODY-MARKER-200</title></html>", "unexpected-answer"),
        ("404 Not Found", ["Content-Type: application/json", "X-Internal: HEADER-MARKER-404"], #"{"error":"BODY-MARKER-404"}"#, "not-found"),
    ])
    func aConnectionTestAnswersAnOutcomeNotTheHostsWords(_ status: String, _ headers: [String], _ body: String, _ outcome: String) async throws {
        let capture = try CaptureServer(status: status, headers: headers, body: body)
        defer { capture.stop() }
        let code = Int(status.prefix(3))
        try await withAPI { api in
            let repository = Self.repository.replacingOccurrences(of: "https://redmine.example.com/redmine", with: capture.url)
            #expect(try await api.call(.post, "/api/v1/repositories", body: repository).status == 201)
            let v1 = try await api.call(.post, "/api/v1/repositories/tracker/test")
            let v2 = try await api.call(
                .post, "/api/v2/connections/test-issue-tracker/",
                body:
                    #"{"connector": 2, "params": {"issue_tracker_server": "\#(capture.url)", "issue_tracker_auth_mode": "api-key", "issue_tracker_token": "k", "issue_tracker_api_key_header": "X-Redmine-API-Key"}}"#
            )
            let (cookie, csrf) = try await api.uiLogin("admin", APIHarness.adminPassword)
            let ui = try await api.ui(.post, "/ui/repositories/tracker/test", cookie: cookie, form: [("_csrf", csrf)])
            for (name, text) in [("v1", v1.text), ("v2", v2.text), ("ui", ui.flash ?? "")] {
                #expect(!text.contains("MARKER"), "\(name): \(text)")
                #expect(!text.isEmpty, "\(name)")
            }
            #expect(v1.status == 200 && v1.json["outcome"]?.stringValue == outcome, "\(v1.text)")
            // The status when it decided the outcome (a 200 whose content is wrong has none that matters).
            if code != 200 { #expect(v1.json["httpStatus"]?.intValue == code, "\(v1.text)") }
            #expect(v2.status == 200 && v2.json["outcome"]?.stringValue == outcome && v2.json["success"] == .bool(false), "\(v2.text)")
            #expect(ui.flash?.contains(outcome) == true, "\(ui.flash ?? "")")
            #expect(capture.requests.count >= 3)
        }
    }
}
