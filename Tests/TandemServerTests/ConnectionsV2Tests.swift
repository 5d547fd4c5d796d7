import Foundation
import Hummingbird
import Postgres
import Redis
import Synchronization
import TandemConfig
import TandemConnectors
import TandemCore
import TandemQueue
import TandemStore
import Testing

@testable import TandemServer

/// The v2 issue-tracker connections of seed 003 (`ConnectionsV2API.swift`).
@Suite("API v2 issue-tracker connections", .serialized, .timeLimit(.minutes(5)))
struct ConnectionsV2Tests {
    static let base = "/api/v2/connections/issue-tracker/"
    static let password = "pa55-WORD-never-shown"
    static let token = "tok-EN-never-shown-42"

    /// A Redmine connection with basic authentication, as a seed 003 tool would create it.
    static func redmine(alias: String = "Redmine Integration", project: Int = 4, frequency: String = "hourly") -> String {
        """
        {"alias": "\(alias)", "connector": 2, "project": \(project), "frequency": "\(frequency)", "debug_mode": false,
         "params": {"issue_tracker_server": "redmine.example.com/tracker", "issue_tracker_method": "https",
                    "issue_tracker_auth_mode": "basic", "issue_tracker_user": "sync", "issue_tracker_pass": "\(Self.password)",
                    "issue_tracker_validate_cert": true, "issue_tracker_project": "sync", "issue_tracker_title_format": "$task_id $title",
                    "sde_min_priority": 7, "markerField": "3"}}
        """
    }

    static func id(_ answer: APIAnswer) throws -> Int { try #require(answer.json["id"]?.intValue, "\(answer.status) \(answer.text)") }

    @Test func createListGetPatchAndDeleteAConnectionAsSeed003Does() async throws {
        try await withAPI { api in
            let created = try await api.call(.post, Self.base, body: Self.redmine())
            #expect(created.status == 201, "\(created.text)")
            let id = try Self.id(created)
            let c = created.json
            #expect(c["alias"]?.stringValue == "Redmine Integration")
            #expect(
                c["system"]
                    == .object(["id": .string("redmine"), "short_name": .string("Redmine"), "name": .string("Redmine")]))
            #expect(c["command"]?.stringValue == "sync_redmine")
            #expect(c["connector"]?.intValue == 2 && c["project"]?.intValue == 4)
            #expect(c["frequency"]?.stringValue == "hourly" && c["debug_mode"] == .bool(false))
            #expect(c["inaccessible"] == .bool(false) && c["in_progress"] == .bool(false))
            let params = try #require(c["params"])
            #expect(params["issue_tracker_server"]?.stringValue == "redmine.example.com/tracker")
            #expect(params["issue_tracker_method"]?.stringValue == "https")
            #expect(params["issue_tracker_auth_mode"]?.stringValue == "basic" && params["issue_tracker_user"]?.stringValue == "sync")
            #expect(params["issue_tracker_pass"] == .object(["set": .bool(true)]))
            #expect(params["issue_tracker_validate_cert"] == .bool(true) && params["issue_tracker_project"]?.stringValue == "sync")
            #expect(params["issue_tracker_title_format"]?.stringValue == "$task_id $title" && params["sde_min_priority"]?.stringValue == "7")
            #expect(params["last_successful_run"] == nil)  // never synchronised yet
            // It is a repository: the v1 API shows it, with the frequency among its options.
            let v1 = try await api.call(.get, "/api/v1/repositories/Redmine%20Integration")
            #expect(v1.status == 200 && v1.json["url"]?.stringValue == "https://redmine.example.com/tracker", "\(v1.text)")
            #expect(v1.json["options"]?["syncFrequency"]?.stringValue == "hourly" && v1.json["options"]?["markerField"]?.stringValue == "3")
            // List, with and without the trailing slash; the project filter.
            for uri in [Self.base, "/api/v2/connections/issue-tracker"] {
                let list = try await api.call(.get, uri)
                #expect(list.status == 200 && list.json["results"]?.arrayValue?.count == 1, "\(uri): \(list.text)")
            }
            #expect(try await api.call(.get, Self.base + "?project=4").json["results"]?.arrayValue?.count == 1)
            #expect(try await api.call(.get, Self.base + "?project=5").json["results"]?.arrayValue?.count == 0)
            let got = try await api.call(.get, Self.base + "\(id)/")
            #expect(got.status == 200 && got.json == c)
            #expect(try await api.call(.get, Self.base + "\(id)").json == c)
            let withJob = try await api.call(.get, Self.base + "\(id)/?include=last_job")
            #expect(withJob.json["last_job"] == .null)
            // Patch: members left out are kept, the stored secret too.
            let patched = try await api.call(
                .patch, Self.base + "\(id)/",
                body:
                    #"{"alias": "Redmine Integration", "frequency": "weekly", "project": 5, "params": {"issue_tracker_project": "other", "sde_min_priority": null}}"#
            )
            #expect(patched.status == 200, "\(patched.text)")
            #expect(patched.json["frequency"]?.stringValue == "weekly" && patched.json["project"]?.intValue == 5)
            #expect(patched.json["params"]?["issue_tracker_project"]?.stringValue == "other")
            #expect(patched.json["params"]?["sde_min_priority"] == nil)
            #expect(patched.json["params"]?["issue_tracker_user"]?.stringValue == "sync")
            let store = api.api.config
            #expect(try await store.loadForRuntime().1["Redmine Integration"]?["auth"] == Self.password)
            // debug_mode is the repository's debug logging: set, shown, kept by a patch without it, cleared.
            let debugOn = try await api.call(.patch, Self.base + "\(id)/", body: #"{"debug_mode": true}"#)
            #expect(debugOn.status == 200 && debugOn.json["debug_mode"] == .bool(true), "\(debugOn.text)")
            #expect(try await store.export().repositories.first { $0.name == "Redmine Integration" }?.debugLogging == true)
            #expect(try await api.call(.get, "/api/v1/repositories/Redmine%20Integration").json["debugLogging"] == .bool(true))
            let kept = try await api.call(.patch, Self.base + "\(id)/", body: #"{"frequency": "weekly"}"#)
            #expect(kept.json["debug_mode"] == .bool(true))
            let debugOff = try await api.call(.patch, Self.base + "\(id)/", body: #"{"debug_mode": false}"#)
            #expect(debugOff.json["debug_mode"] == .bool(false))
            #expect(try await store.export().repositories.first { $0.name == "Redmine Integration" }?.debugLogging == false)
            // A new password replaces the stored one; the server and method can change separately.
            let rekeyed = try await api.call(
                .patch, Self.base + "\(id)/",
                body: #"{"params": {"issue_tracker_pass": "another-secret-1", "issue_tracker_method": "http", "issue_tracker_validate_cert": false}}"#
            )
            #expect(rekeyed.status == 200, "\(rekeyed.text)")
            #expect(rekeyed.json["params"]?["issue_tracker_server"]?.stringValue == "redmine.example.com/tracker")
            #expect(rekeyed.json["params"]?["issue_tracker_method"]?.stringValue == "http")
            #expect(rekeyed.json["params"]?["issue_tracker_validate_cert"] == .bool(false))
            #expect(try await store.loadForRuntime().1["Redmine Integration"]?["auth"] == "another-secret-1")
            // Token authentication instead of basic.
            let token = try await api.call(
                .patch, Self.base + "\(id)/",
                body:
                    #"{"params": {"issue_tracker_auth_mode": "api-key", "issue_tracker_token": "\#(Self.token)", "issue_tracker_api_key_header": "X-Redmine-API-Key"}}"#
            )
            #expect(token.status == 200, "\(token.text)")
            #expect(token.json["params"]?["issue_tracker_token"] == .object(["set": .bool(true)]))
            #expect(token.json["params"]?["issue_tracker_user"] == nil && token.json["params"]?["issue_tracker_pass"] == nil)
            #expect(
                try await store.export().repositories.first?.auth
                    == .apiKey(
                        key: SecretReference(variable: "TANDEM_SECRET_API_REDMINE_INTEGRATION_AUTH"), header: "X-Redmine-API-Key", parameter: nil))
            // Every change is audited like v1's (the patch that changed nothing is not).
            let audit = try await api.call(.get, "/api/v1/audit?entity=repository").json["items"]?.arrayValue ?? []
            #expect(audit.map { $0["action"]?.stringValue } == ["update", "update", "update", "update", "update", "create"])
            #expect(audit.allSatisfy { $0["actor"]?.stringValue == "admin" && $0["name"]?.stringValue == "Redmine Integration" })
            // Delete.
            #expect(try await api.call(.delete, Self.base + "\(id)/").status == 204)
            #expect(try await api.call(.get, Self.base + "\(id)/").status == 404)
            #expect(try await api.call(.delete, Self.base + "\(id)/").status == 404)
            #expect(
                try await api.call(.get, "/api/v1/audit?entity=repository&limit=1").json["items"]?.arrayValue?.first?["action"] == .string("delete"))
        }
    }

    /// Sets up a model, a collection on `repository` and an integration, so that jobs, scans and blockers can refer to it.
    static func useRepository(_ api: APIHarness, _ repository: String) async throws {
        let other = #"{"name":"other","type":"memory","url":"http://memory.invalid/other"}"#
        #expect(try await api.call(.post, "/api/v1/repositories", body: other).status == 201)
        #expect(try await api.call(.post, "/api/v1/models", body: APIResourceTests.model).status == 201)
        #expect(try await api.call(.post, "/api/v1/collections", body: APIResourceTests.collection("left", repository: repository)).status == 201)
        #expect(try await api.call(.post, "/api/v1/collections", body: APIResourceTests.collection("right", repository: "other")).status == 201)
        #expect(try await api.call(.post, "/api/v1/integrations", body: APIResourceTests.integration).status == 201)
    }

    @Test func aNewAliasRenamesTheRepositoryWithItsCollectionsAndSecretsInOneChange() async throws {
        try await withAPI { api in
            let id = try Self.id(try await api.call(.post, Self.base, body: Self.redmine()))
            try await Self.useRepository(api, "Redmine Integration")
            let renamed = try await api.call(
                .patch, Self.base + "\(id)/", body: #"{"alias": "Redmine Renamed", "frequency": "daily", "params": {"issue_tracker_user": "sync2"}}"#)
            #expect(renamed.status == 200, "\(renamed.text)")
            #expect(renamed.json["id"]?.intValue == id && renamed.json["alias"]?.stringValue == "Redmine Renamed")
            #expect(renamed.json["frequency"]?.stringValue == "daily" && renamed.json["params"]?["issue_tracker_user"]?.stringValue == "sync2")
            #expect(renamed.json["params"]?["issue_tracker_pass"] == .object(["set": .bool(true)]))
            // The collection follows; the secret still opens, under the new name.
            #expect(try await api.call(.get, "/api/v1/collections/left").json["repository"]?.stringValue == "Redmine Renamed")
            #expect(try await api.call(.get, "/api/v1/repositories/Redmine%20Integration").status == 404)
            #expect(try await api.api.config.loadForRuntime().1["Redmine Renamed"]?["auth"] == Self.password)
            let audit = try await api.call(.get, "/api/v1/audit?entity=repository&limit=2").json["items"]?.arrayValue ?? []
            #expect(audit.map { $0["action"]?.stringValue } == ["update", "rename"])
            #expect(audit.last?["changes"]?["before"]?["name"]?.stringValue == "Redmine Integration")
            #expect(audit.allSatisfy { $0["name"]?.stringValue == "Redmine Renamed" })
            // A rename alone, and the secret is kept again.
            #expect(try await api.call(.patch, Self.base + "\(id)/", body: #"{"alias": "Redmine Again"}"#).status == 200)
            #expect(try await api.api.config.loadForRuntime().1["Redmine Again"]?["auth"] == Self.password)
        }
    }

    /// `in_progress` also follows the work queue: a queued scan of the repository (not a sync) counts.
    @Test func inProgressFollowsQueuedScans() async throws {
        try await withAPI { api in
            let alias = "queued-\(UUID().uuidString.prefix(8).lowercased())"
            let id = try Self.id(
                try await api.call(
                    .post, Self.base, body: #"{"alias": "\#(alias)", "connector": 7, "params": {"issue_tracker_server": "http://memory.invalid/q"}}"#)
            )
            func inProgress() async throws -> (JSONNode?, JSONNode?) {
                let listed = try await api.call(.get, Self.base).json["results"]?.arrayValue?.first { $0["id"]?.intValue == id }
                return (listed?["in_progress"], try await api.call(.get, Self.base + "\(id)/").json["in_progress"])
            }
            #expect(try await inProgress() == (.bool(false), .bool(false)))
            // The harness's server reads this queue (its own prefix per test).
            let redis = try redisClient()
            let prefix = try #require(api.api.queue?.configuration.prefix)
            let queue = JobQueue(client: redis, configuration: .init(prefix: prefix))
            do {
                _ = try await queue.enqueue(Job(kind: .sync, repository: alias, integration: "x", payload: #"{"side":"left","artifact":"1"}"#))
                #expect(try await inProgress() == (.bool(false), .bool(false)))
                _ = try await queue.enqueue(Job(kind: .scan, repository: alias, integration: "x", priority: .low, payload: #"{"side":"left"}"#))
                #expect(try await inProgress() == (.bool(true), .bool(true)))
                #expect(try await queue.purge(repository: alias) == 2)
                #expect(try await inProgress() == (.bool(false), .bool(false)))
            } catch {
                _ = try? await queue.purge(repository: alias)
                await redis.close()
                throw error
            }
            await redis.close()
        }
    }

    @Test func noAnswerEverCarriesAPasswordOrAToken() async throws {
        let tester: ConnectionTester = { _, _, _ in ConnectionCheck(.unreachable) }
        try await withAPI(tester: tester) { api in
            var answers: [APIAnswer] = []
            answers.append(try await api.call(.post, Self.base, body: Self.redmine()))
            let id = try Self.id(answers[0])
            answers.append(
                try await api.call(
                    .post, Self.base,
                    body:
                        #"{"alias": "tokens", "system": {"id": "roundup"}, "params": {"issue_tracker_server": "https://roundup.example.com/tracker", "issue_tracker_auth_mode": "bearer", "issue_tracker_token": "\#(Self.token)"}}"#
                ))
            #expect(answers[1].status == 201, "\(answers[1].text)")
            try await Self.useRepository(api, "Redmine Integration")
            // A full scan, an operator request, and a blocker: everything the answers can show.
            try await api.postgres.query(
                "INSERT INTO cursors (integration_id, side, cursor, last_scan_at) SELECT id, 'left', '', now() - interval '1 hour' FROM integrations")
            try await api.postgres.query(
                "INSERT INTO integration_requests (integration_id, kind, requested_by) SELECT id, 'process-all', 'admin' FROM integrations")
            try await api.postgres.query(
                """
                INSERT INTO activity (kind, code, integration_id, repository_id, message)
                SELECT 'blocker', 'unauthorized', id, (SELECT id FROM repositories WHERE name = 'Redmine Integration'),
                    'repository Redmine Integration: the credentials were rejected' FROM integrations
                """)
            for uri in [
                Self.base, Self.base + "?include=last_job", Self.base + "\(id)/", Self.base + "\(id)/?include=last_job", Self.base + "?project=4",
            ] {
                answers.append(try await api.call(.get, uri))
            }
            answers.append(try await api.call(.patch, Self.base + "\(id)/", body: #"{"params": {"issue_tracker_pass": "\#(Self.password)"}}"#))
            answers.append(try await api.call(.patch, Self.base + "\(id)/", body: #"{"frequency": "daily"}"#))
            answers.append(
                try await api.call(
                    .post, "/api/v2/connections/test-issue-tracker/",
                    body:
                        #"{"connector": 2, "params": {"issue_tracker_server": "r.example.com", "issue_tracker_user": "u", "issue_tracker_pass": "\#(Self.password)"}}"#
                ))
            // Refusals must not echo secrets either.
            answers.append(
                try await api.call(
                    .post, Self.base,
                    body:
                        #"{"alias": "Redmine Integration", "connector": 2, "params": {"issue_tracker_server": "x.example.com", "issue_tracker_user": "u", "issue_tracker_pass": "\#(Self.password)"}}"#
                ))
            answers.append(try await api.call(.get, "/api/v1/audit"))
            for answer in answers {
                #expect(answer.status < 500)
                #expect(!answer.text.contains(Self.password) && !answer.text.contains(Self.token), "\(answer.text)")
                #expect(!answer.text.contains("TANDEM_SECRET_API_"), "\(answer.text)")
            }
            // And the answers did show what they should.
            let listed = answers[3].json["results"]?.arrayValue?.first { $0["id"]?.intValue == id }
            #expect(listed?["last_job"]?["kind"]?.stringValue == "process-all", "\(answers[3].text)")
            #expect(listed?["last_job"]?["automatic"] == .bool(false) && listed?["last_job"]?["ready"] == .bool(false))
            #expect(listed?["last_job"]?["user"]?.intValue != nil)
            #expect(listed?["in_progress"] == .bool(true) && listed?["inaccessible"] == .bool(true))
            #expect(listed?["params"]?["last_successful_run"]?.stringValue != nil)
            #expect(listed?["params"]?["issue_tracker_project"]?.stringValue == "sync")
            let tokens = answers[3].json["results"]?.arrayValue?.first { $0["alias"]?.stringValue == "tokens" }
            #expect(tokens?["in_progress"] == .bool(false) && tokens?["inaccessible"] == .bool(false) && tokens?["last_job"] == .null)
            #expect(tokens?["params"]?["issue_tracker_token"] == .object(["set": .bool(true)]))
            // The request carried out, then a newer scan: last_job is the automatic full scan.
            try await api.postgres.query("UPDATE integration_requests SET scheduled_at = now(), requested_at = now() - interval '2 hours'")
            let later = try await api.call(.get, Self.base + "\(id)/?include=last_job")
            #expect(later.json["in_progress"] == .bool(false))
            #expect(later.json["last_job"]?["kind"]?.stringValue == "full-scan" && later.json["last_job"]?["automatic"] == .bool(true))
        }
    }

    /// `inaccessible` is the repository's own open blocker (its `repository_id`), whatever the blocker's message says
    /// (issue 13 §5: it was decided by matching "repository <name>:" at the start of any blocker's message).
    @Test func inaccessibleIsTheRepositorysOpenBlockerNotItsMessage() async throws {
        try await withAPI { api in
            let id = try Self.id(try await api.call(.post, Self.base, body: Self.redmine()))
            try await Self.useRepository(api, "Redmine Integration")
            func inaccessible() async throws -> (redmine: JSONNode?, other: JSONNode?) {
                let results = try await api.call(.get, Self.base).json["results"]?.arrayValue ?? []
                return (
                    results.first { $0["id"]?.intValue == id }?["inaccessible"],
                    results.first { $0["alias"]?.stringValue == "other" }?["inaccessible"]
                )
            }
            // The other repository's blocker, worded as if it were Redmine's (the wrong-repository message of issue 13 §2).
            try await api.postgres.query(
                """
                INSERT INTO activity (kind, code, integration_id, repository_id, message)
                SELECT 'blocker', 'credentials-rejected', id, (SELECT id FROM repositories WHERE name = 'other'),
                    'repository Redmine Integration: other rejected the credentials' FROM integrations
                """)
            var now = try await inaccessible()
            #expect(now.redmine == .bool(false) && now.other == .bool(true), "\(now)")
            // Redmine's own blocker, however worded, makes it inaccessible while it is open.
            try await api.postgres.query(
                """
                INSERT INTO activity (kind, code, integration_id, repository_id, message)
                SELECT 'blocker', 'forbidden', id, (SELECT id FROM repositories WHERE name = 'Redmine Integration'), 'no permission'
                FROM integrations
                """)
            now = try await inaccessible()
            #expect(now.redmine == .bool(true), "\(now)")
            try await api.postgres.query("UPDATE activity SET status = 'done'")
            now = try await inaccessible()
            #expect(now.redmine == .bool(false) && now.other == .bool(false), "\(now)")
        }
    }

    @Test func badInputIsRefusedNamingTheFieldAndChangesNothing() async throws {
        try await withAPI { api in
            let created = try await api.call(.post, Self.base, body: Self.redmine())
            let id = try Self.id(created)
            try await Self.useRepository(api, "Redmine Integration")
            let before = try await api.snapshot()
            let server = #""issue_tracker_server": "r.example.com""#
            let cases: [(HTTPRequest.Method, String, String?, Int, String?)] = [
                (.post, Self.base, "{}", 422, "alias"),
                (.post, Self.base, #"{"alias": "x"}"#, 422, "params"),
                (.post, Self.base, #"{"alias": "x", "params": {\#(server)}}"#, 422, "connector"),
                (.post, Self.base, #"{"alias": "x", "connector": 99, "params": {\#(server)}}"#, 422, "connector"),
                (.post, Self.base, #"{"alias": "x", "connector": "2", "params": {\#(server)}}"#, 422, "connector"),
                (.post, Self.base, #"{"alias": "x", "system": {"id": "rally"}, "params": {\#(server)}}"#, 422, "system.id"),
                (.post, Self.base, #"{"alias": "x", "connector": 3, "system": {"id": "redmine"}, "params": {\#(server)}}"#, 422, "system.id"),
                (.post, Self.base, #"{"alias": "x", "connector": 2, "frequency": "yearly", "params": {\#(server)}}"#, 422, "frequency"),
                (.post, Self.base, #"{"alias": "x", "connector": 2, "debug_mode": "yes", "params": {\#(server)}}"#, 422, "debug_mode"),
                (.post, Self.base, #"{"alias": "x", "connector": 2, "project": 0, "params": {\#(server)}}"#, 422, "project"),
                (.post, Self.base, #"{"alias": " ", "connector": 2, "params": {\#(server)}}"#, 422, "alias"),
                (.post, Self.base, #"{"alias": "x", "connector": 2, "params": "r.example.com"}"#, 422, "params"),
                (.post, Self.base, #"{"alias": "x", "connector": 2, "params": {}}"#, 422, "params.issue_tracker_server"),
                (
                    .post, Self.base, #"{"alias": "x", "connector": 2, "params": {"issue_tracker_server": "exa mple"}}"#, 422,
                    "params.issue_tracker_server"
                ),
                (
                    .post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "issue_tracker_method": "ftp"}}"#, 422,
                    "params.issue_tracker_method"
                ),
                (
                    .post, Self.base,
                    #"{"alias": "x", "connector": 2, "params": {"issue_tracker_server": "https://r.example.com", "issue_tracker_method": "http"}}"#,
                    422, "params.issue_tracker_method"
                ),
                (
                    .post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "issue_tracker_auth_mode": "ntlm"}}"#, 422,
                    "params.issue_tracker_auth_mode"
                ),
                (
                    .post, Self.base,
                    #"{"alias": "x", "connector": 2, "params": {\#(server), "issue_tracker_auth_mode": "basic", "issue_tracker_pass": "p"}}"#, 422,
                    "params.issue_tracker_user"
                ),
                (
                    .post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "issue_tracker_user": "u"}}"#, 422,
                    "params.issue_tracker_pass"
                ),
                (
                    .post, Self.base,
                    #"{"alias": "x", "connector": 2, "params": {\#(server), "issue_tracker_user": "u", "issue_tracker_pass": {"set": true}}}"#, 422,
                    "params.issue_tracker_pass"
                ),
                (
                    .post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "issue_tracker_user": "u", "issue_tracker_pass": ""}}"#,
                    422, "params.issue_tracker_pass"
                ),
                (
                    .post, Self.base,
                    #"{"alias": "x", "connector": 2, "params": {\#(server), "issue_tracker_pass": "a", "issue_tracker_token": "b"}}"#, 422,
                    "params.issue_tracker_token"
                ),
                (
                    .post, Self.base,
                    #"{"alias": "x", "connector": 2, "params": {\#(server), "issue_tracker_token": "b", "issue_tracker_auth_mode": "none"}}"#, 422,
                    "params.issue_tracker_token"
                ),
                (.post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "jira_api_token": "abc"}}"#, 422, "params.jira_api_token"),
                (.post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "proxy_password": "abc"}}"#, 422, "params.proxy_password"),
                (.post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "syncFrequency": "daily"}}"#, 422, "params.syncFrequency"),
                (
                    .post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "rally_workspace": ["a"]}}"#, 422,
                    "params.rally_workspace"
                ),
                (.post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "bad key": "a"}}"#, 422, "params.bad key"),
                (
                    .post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "issue_tracker_validate_cert": "yes"}}"#, 422,
                    "params.issue_tracker_validate_cert"
                ),
                (
                    .post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server), "last_successful_run": 5}}"#, 422,
                    "params.last_successful_run"
                ),
                (.post, Self.base, #"{"alias": "x", "connector": 2, "params": {\#(server)}, "in_progress": true}"#, 422, "in_progress"),
                (.post, Self.base, #"{"alias": "Redmine Integration", "connector": 2, "params": {\#(server)}}"#, 409, "alias"),
                (.post, Self.base, "[]", 422, ""),
                (.post, Self.base, "{", 400, ""),
                (.patch, Self.base + "\(id)/", #"{"alias": "other"}"#, 409, "alias"),
                (.patch, Self.base + "\(id)/", #"{"alias": "  "}"#, 422, "alias"),
                // A rename whose other changes are refused renames nothing.
                (
                    .patch, Self.base + "\(id)/", #"{"alias": "Renamed", "params": {"issue_tracker_server": "exa mple"}}"#, 422,
                    "params.issue_tracker_server"
                ),
                (.patch, Self.base + "\(id)/", #"{"frequency": "sometimes"}"#, 422, "frequency"),
                (.patch, Self.base + "\(id)/", #"{"params": {"issue_tracker_auth_mode": "token"}}"#, 422, "params.issue_tracker_token"),
                (
                    .patch, Self.base + "\(id)/",
                    #"{"params": {"issue_tracker_auth_mode": "token", "issue_tracker_token": "t", "issue_tracker_user": "u"}}"#,
                    422, "params.issue_tracker_user"
                ),
                (.patch, Self.base + "abc/", "{}", 422, "connection_id"),
                (.patch, Self.base + "999999/", "{}", 404, nil),
                (.get, Self.base + "0/", nil, 422, "connection_id"),
                (.get, Self.base + "999999/", nil, 404, nil),
                (.get, Self.base + "?project=abc", nil, 422, "project"),
                (.get, Self.base + "?include=jobs", nil, 422, "include"),
                (.delete, Self.base + "\(id)/", nil, 409, nil),  // a collection uses it
                (.delete, Self.base + "-1/", nil, 422, "connection_id"),
                (.post, "/api/v2/connections/test-issue-tracker/", #"{"connector": 2}"#, 422, "params"),
                (.post, "/api/v2/connections/test-issue-tracker/", #"{"params": {\#(server)}}"#, 422, "connector"),
                (.post, "/api/v2/connections/test-issue-tracker/", #"{"connector": 2, "name": 5, "params": {\#(server)}}"#, 422, "name"),
                (
                    .post, "/api/v2/connections/test-issue-tracker/",
                    #"{"connector": 2, "params": {\#(server), "issue_tracker_user": "u", "issue_tracker_pass": {"set": true}}}"#, 422,
                    "params.issue_tracker_pass"
                ),
            ]
            for (method, uri, body, status, field) in cases {
                let answer = try await api.call(method, uri, body: body)
                #expect(answer.status == status, "\(method) \(uri) \(body ?? ""): \(answer.text)")
                if let field { #expect(answer.field == field, "\(method) \(uri) \(body ?? ""): \(answer.text)") }
                #expect(answer.code != nil, "\(answer.text)")
            }
            #expect(try await api.snapshot() == before)
            // Without credentials: 401; the v2 API uses the same authentication as v1.
            #expect(try await api.call(.get, Self.base, as: .none).status == 401)
            #expect(try await api.call(.get, Self.base, as: .token("tdm_nonsense")).status == 401)
            // Seed 003 quotes the token: `Authorization: Token "…"`.
            #expect(try await api.call(.get, Self.base, as: .token("\"\(api.adminToken)\"")).status == 200)
        }
    }

    @Test func testIssueTrackerRunsTheConnectorTestAndStoresNothing() async throws {
        let seen = Mutex<[(RepositoryConfig, [String: String], String?)]>([])
        let tester: ConnectionTester = { repository, secrets, project in
            seen.withLock { $0.append((repository, secrets, project)) }
            if project == "missing" { return ConnectionCheck(.projectNotFound, httpStatus: 404, projectChecked: true) }
            if secrets["auth"] == "wrong" { return ConnectionCheck(.authRejected, httpStatus: 401, projectChecked: project != nil) }
            return ConnectionCheck(.ok, projectChecked: project != nil)
        }
        try await withAPI(tester: tester) { api in
            let before = try await api.snapshot()
            let path = "/api/v2/connections/test-issue-tracker/"
            let good = try await api.call(
                .post, path,
                body:
                    #"{"connector": 2, "alias": "Issue Tracker Test", "project": 2, "system": {"id": "redmine"}, "params": {"issue_tracker_server": "server.example.com", "issue_tracker_auth_mode": "basic", "issue_tracker_user": "username", "issue_tracker_pass": "password", "issue_tracker_project": "sync", "issue_tracker_validate_cert": true}}"#
            )
            #expect(good.status == 200 && good.json["success"] == .bool(true), "\(good.text)")
            let call = try #require(seen.withLock { $0.first })
            #expect(call.0.kind == .redmine && call.0.url == "https://server.example.com" && call.1 == ["auth": "password"] && call.2 == "sync")
            #expect(call.0.auth == .basic(username: "username", password: SecretReference(variable: "TANDEM_SECRET_API_ISSUE_TRACKER_TEST_AUTH")))
            let wrong = try await api.call(
                .post, path,
                body:
                    #"{"connector": 2, "params": {"issue_tracker_server": "s.example.com", "issue_tracker_user": "u", "issue_tracker_pass": "wrong"}}"#
            )
            #expect(wrong.status == 200 && wrong.json["success"] == .bool(false) && wrong.json["authenticated"] == .bool(false))
            #expect(wrong.json["message"]?.stringValue == "the server rejected the credentials (HTTP 401)")
            #expect(wrong.json["outcome"]?.stringValue == "auth-rejected" && wrong.json["httpStatus"]?.intValue == 401)
            let missing = try await api.call(
                .post, path,
                body: #"{"system": {"id": "roundup"}, "params": {"issue_tracker_server": "s.example.com", "issue_tracker_project": "missing"}}"#)
            #expect(missing.json["success"] == .bool(false) && missing.json["projectFound"] == .bool(false) && missing.json["message"] != nil)
            #expect(try await api.snapshot() == before)
        }
    }

    /// The default tester against the real Redmine: good credentials succeed, a wrong key fails.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TANDEM_REDMINE_API_KEY"] != nil, "needs TANDEM_REDMINE_URL and _API_KEY"))
    func testIssueTrackerAgainstTheRealRedmine() async throws {
        let environment = ProcessInfo.processInfo.environment
        let url = try #require(environment["TANDEM_REDMINE_URL"])
        let key = try #require(environment["TANDEM_REDMINE_API_KEY"])
        let project = environment["TANDEM_REDMINE_PROJECT"] ?? "sync"
        try await withAPI { api in
            func test(_ key: String, project: String) async throws -> APIAnswer {
                try await api.call(
                    .post, "/api/v2/connections/test-issue-tracker/",
                    body:
                        #"{"connector": 2, "params": {"issue_tracker_server": "\#(url)", "issue_tracker_auth_mode": "api-key", "issue_tracker_token": "\#(key)", "issue_tracker_api_key_header": "X-Redmine-API-Key", "issue_tracker_project": "\#(project)"}}"#
                )
            }
            let good = try await test(key, project: project)
            #expect(good.status == 200 && good.json["success"] == .bool(true), "\(good.text)")
            let bad = try await test("0000000000000000000000000000000000000000", project: project)
            #expect(bad.status == 200 && bad.json["success"] == .bool(false) && bad.json["message"] != nil, "\(bad.text)")
            #expect(!bad.text.contains("0000000000000000000000000000000000000000") && !good.text.contains(key))
            let noProject = try await test(key, project: "no-such-project-\(UUID().uuidString.prefix(6))")
            #expect(noProject.json["success"] == .bool(false) && noProject.json["projectFound"] == .bool(false), "\(noProject.text)")
        }
    }

    @Test func frequencyDefaultsToManuallyAndRepositoriesWithoutOneShowTheGlobalSetting() async throws {
        try await withAPI { api in
            let created = try await api.call(
                .post, Self.base,
                body: #"{"alias": "plain", "connector": 3, "params": {"issue_tracker_server": "http://roundup.example.com/tracker"}}"#)
            #expect(created.status == 201 && created.json["frequency"]?.stringValue == "manually", "\(created.text)")
            #expect(created.json["params"]?["issue_tracker_auth_mode"]?.stringValue == "none" && created.json["project"] == .null)
            #expect(created.json["params"]?["issue_tracker_method"]?.stringValue == "http")
            // A repository made with v1 has no frequency of its own: the global full-scan setting, rounded up.
            let v1 = #"{"name":"from-v1","type":"memory","url":"http://memory.invalid/x"}"#
            #expect(try await api.call(.post, "/api/v1/repositories", body: v1).status == 201)
            func frequency() async throws -> String? {
                try await api.call(.get, Self.base).json["results"]?.arrayValue?.first { $0["alias"]?.stringValue == "from-v1" }?["frequency"]?
                    .stringValue
            }
            #expect(try await frequency() == "daily")  // the default: every 24 hours
            #expect(try await api.call(.patch, "/api/v1/settings", body: #"{"fullScanInterval": "2h"}"#).status == 200)
            #expect(try await frequency() == "daily")
            #expect(try await api.call(.patch, "/api/v1/settings", body: #"{"fullScanInterval": "1h"}"#).status == 200)
            #expect(try await frequency() == "hourly")
            #expect(try await api.call(.patch, "/api/v1/settings", body: #"{"fullScanEnabled": false}"#).status == 200)
            #expect(try await frequency() == "manually")
            // v1 refuses a frequency that is not one.
            let bad = try await api.call(
                .put, "/api/v1/repositories/from-v1", body: #"{"type":"memory","url":"http://memory.invalid/x","options":{"syncFrequency":"often"}}"#)
            #expect(bad.status == 422 && bad.field == "options.syncFrequency", "\(bad.text)")
        }
    }

    @Test func everyTrackerTypeHasASystemAndAConnector() {
        let connectors = RepositoryKind.allCases.map { TrackerSystem.of($0).connector }
        #expect(Set(connectors).count == RepositoryKind.allCases.count)
        #expect(!connectors.contains(100))
    }
}
