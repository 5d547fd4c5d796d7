import Foundation
import Hummingbird
import Postgres
import TandemConfig
import TandemCore
import TandemQueue
import TandemServer
import TandemStore
import Testing

/// Two repositories, two collections and the integration `books` (its id), written directly.
func operationsFixture(_ postgres: PostgresClient) async throws -> Int64 {
    try await postgres.query(
        """
        WITH r1 AS (INSERT INTO repositories (name, kind, url) VALUES ('redmine', 'redmine', 'http://r') RETURNING id),
             r2 AS (INSERT INTO repositories (name, kind, url) VALUES ('roundup', 'roundup', 'http://u') RETURNING id),
             m AS (INSERT INTO models (name) VALUES ('issue') RETURNING id),
             c1 AS (INSERT INTO collections (name, repository_id, model_id, artifact_type, projects)
                    SELECT 'left', r1.id, m.id, 'bug', '{P}' FROM r1, m RETURNING id),
             c2 AS (INSERT INTO collections (name, repository_id, model_id, artifact_type, projects)
                    SELECT 'right', r2.id, m.id, 'issue', '{Q}' FROM r2, m RETURNING id)
        INSERT INTO integrations (name, left_collection_id, right_collection_id) SELECT 'books', c1.id, c2.id FROM c1, c2 RETURNING id
        """
    )[0].decode(Int64.self, at: 0)
}

@discardableResult
func addPair(_ postgres: PostgresClient, integration: Int64, left: String, right: String) async throws -> Int64 {
    try await postgres.query(
        """
        INSERT INTO artifact_pairs (integration_id, left_id, right_id, left_key, right_key, left_url, right_url, created_from)
        VALUES (\(integration), \(left), \(right), \("P-" + left), \("issue" + right), \("http://r/issues/" + left), \("http://u/issue" + right), 'left')
        RETURNING id
        """
    )[0].decode(Int64.self, at: 0)
}

@discardableResult
func addActivity(
    _ postgres: PostgresClient, kind: String = "error", integration: Int64?, artifact: String?, side: String? = "left", pair: Int64? = nil,
    message: String = "boom", status: String = "open"
) async throws -> Int64 {
    try await postgres.query(
        """
        INSERT INTO activity (kind, code, integration_id, artifact_id, side, pair_id, message, status)
        VALUES (\(kind), 'sync-failed', \(integration), \(artifact), \(side), \(pair), \(message), \(status)) RETURNING id
        """
    )[0].decode(Int64.self, at: 0)
}

@Suite("Operations API", .serialized, .timeLimit(.minutes(3)))
struct APIOperationsTests {
    @Test func activityListFiltersCountsAndErrors() async throws {
        try await withAPI { api in
            let integration = try await operationsFixture(api.postgres)
            for n in 1...4 { try await addActivity(api.postgres, integration: integration, artifact: "\(n)", message: "summary too long \(n)") }
            try await addActivity(api.postgres, kind: "blocker", integration: integration, artifact: nil, side: nil, message: "401 Unauthorized")
            let page = try await api.call(.get, "/api/v1/activity?kind=error&status=open&limit=3")
            #expect(page.status == 200)
            let items = page.json["items"]?.arrayValue ?? []
            #expect(items.compactMap { $0["artifactId"]?.stringValue } == ["4", "3", "2"])
            #expect(items.first?["integration"]?.stringValue == "books" && items.first?["side"]?.stringValue == "left")
            let next = try #require(page.json["next"]?.intValue)
            let rest = try await api.call(.get, "/api/v1/activity?kind=error&status=open&limit=3&after=\(next)")
            #expect(rest.json["items"]?.arrayValue?.compactMap { $0["artifactId"]?.stringValue } == ["1"])
            #expect(rest.json["next"] == nil)
            #expect(try await api.call(.get, "/api/v1/activity?q=unauthorized").json["items"]?.arrayValue?.count == 1)
            #expect(try await api.call(.get, "/api/v1/activity?integration=books").json["items"]?.arrayValue?.count == 5)
            let blockers = try await api.call(.get, "/api/v1/blockers")
            #expect(blockers.json["items"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } == ["blocker"])
            let counts = try await api.call(.get, "/api/v1/activity/counts?integration=books")
            #expect(counts.json["counts"]?["open"]?.intValue == 5 && counts.json["counts"]?["done"]?.intValue == 0)
            let first = try #require(items.first?["id"]?.intValue)
            #expect(try await api.call(.get, "/api/v1/activity/\(first)").json["message"]?.stringValue == "summary too long 4")
            #expect(try await api.call(.get, "/api/v1/activity/999999").status == 404)
            for (query, field) in [
                ("kind=oops", "kind"), ("status=closed", "status"), ("limit=0", "limit"), ("limit=x", "limit"), ("after=0", "after"),
                ("q=", "q"), ("integration=" + String(repeating: "x", count: 201), "integration"),
            ] {
                let answer = try await api.call(.get, "/api/v1/activity?\(query)")
                #expect(answer.status == 422 && answer.field == field, "\(query): \(answer.status) \(answer.text)")
            }
            for path in ["/api/v1/activity/abc", "/api/v1/activity/0", "/api/v1/activity/-3", "/api/v1/activity/99999999999999999999"] {
                let answer = try await api.call(.get, path)
                #expect(answer.status == 422 && answer.field == "id", "\(path): \(answer.status)")
            }
            #expect(try await api.call(.get, "/api/v1/blockers?kind=error").status == 200)  // kind is not a blocker filter: ignored
        }
    }

    @Test func singleAndBulkActions() async throws {
        try await withAPI { api in
            let integration = try await operationsFixture(api.postgres)
            let pair = try await addPair(api.postgres, integration: integration, left: "10", right: "20")
            let paired = try await addActivity(api.postgres, integration: integration, artifact: "10", pair: pair)
            let other = try await addActivity(api.postgres, integration: integration, artifact: "11")
            let info = try await addActivity(api.postgres, kind: "info", integration: integration, artifact: "12")

            // Retry queues a sync of the artifact on its repository's queue.
            let retried = try await api.call(.post, "/api/v1/activity/\(paired)/retry")
            #expect(retried.status == 200 && retried.json["status"]?.stringValue == "retrying" && retried.json["retries"]?.intValue == 1)
            let queue = try #require(api.api.queue)
            let pending = try await queue.jobs(state: .pending, repository: "redmine")
            #expect(pending.count == 1 && pending.first?.job?.kind == .sync && pending.first?.job?.payload.contains("\"10\"") == true)
            // Clear, then clear-and-ignore (the pair's changes are ignored), then retry again (no longer ignored).
            #expect(try await api.call(.post, "/api/v1/activity/\(paired)/clear").json["status"]?.stringValue == "cleared")
            let ignored = try await api.call(.post, "/api/v1/activity/\(paired)/clear-and-ignore", body: "{}")
            #expect(ignored.status == 200 && ignored.json["status"]?.stringValue == "ignored")
            #expect(try await PairQuery(client: api.postgres).pair(id: pair)?.ignoreChanges == true)
            #expect(try await api.call(.post, "/api/v1/activity/\(paired)/retry").status == 200)
            #expect(try await PairQuery(client: api.postgres).pair(id: pair)?.ignoreChanges == false)
            // Not applicable, unknown, malformed.
            let clearInfo = try await api.call(.post, "/api/v1/activity/\(info)/retry")
            #expect(clearInfo.status == 409 && clearInfo.message.contains("only errors and blockers"))
            #expect(try await api.call(.post, "/api/v1/activity/999999/clear").status == 404)
            #expect(try await api.call(.post, "/api/v1/activity/x/clear").field == "id")
            #expect(try await api.call(.post, "/api/v1/activity/\(other)/clear", body: #"{"force":true}"#).field == "force")
            #expect(try await api.call(.post, "/api/v1/activity/\(other)/clear", body: "[").status == 400)

            // Bulk: ids, a filter, and the refusals.
            let bulk = try await api.call(.post, "/api/v1/activity/actions", body: #"{"action":"clear","ids":[\#(other),\#(info),999999]}"#)
            #expect(bulk.status == 200)
            #expect(bulk.json["changed"]?.arrayValue?.compactMap(\.intValue) == [other, info].map(Int.init))
            #expect(bulk.json["skipped"]?.arrayValue?.compactMap { $0["id"]?.intValue } == [999999])
            for n in 1...3 { try await addActivity(api.postgres, integration: integration, artifact: "b\(n)", message: "bulk failure") }
            let byFilter = try await api.call(
                .post, "/api/v1/activity/actions", body: #"{"action":"clear-and-ignore","filter":{"status":"open","q":"bulk failure"}}"#)
            #expect(byFilter.json["changed"]?.arrayValue?.count == 3)
            #expect(try await api.postgres.query("SELECT count(*) FROM ignored_artifacts")[0].decode(Int.self, at: 0) == 3)
            let retryAll = try await api.call(.post, "/api/v1/activity/actions", body: #"{"action":"retry","filter":{"status":"ignored"}}"#)
            #expect(retryAll.json["retries"]?.arrayValue?.count == 3)
            #expect(try await api.postgres.query("SELECT count(*) FROM ignored_artifacts")[0].decode(Int.self, at: 0) == 0)
            for (body, field) in [
                (#"{"ids":[1]}"#, "action"), (#"{"action":"delete","ids":[1]}"#, "action"), (#"{"action":"clear"}"#, "ids"),
                (#"{"action":"clear","ids":[]}"#, "ids"), (#"{"action":"clear","ids":[1,"2"]}"#, "ids[1]"),
                (#"{"action":"clear","ids":[0]}"#, "ids[0]"),
                (#"{"action":"clear","ids":[1],"filter":{}}"#, "filter"), (#"{"action":"clear","filter":{"status":"gone"}}"#, "filter.status"),
                (#"{"action":"clear","filter":{"colour":"red"}}"#, "filter.colour"), (#"{"action":"clear","filter":[]}"#, "filter"),
                (#"{"action":"clear","ids":7}"#, "ids"),
            ] {
                let answer = try await api.call(.post, "/api/v1/activity/actions", body: body)
                #expect(answer.status == 422 && answer.field == field, "\(body): \(answer.status) \(answer.text)")
            }
            let audit = try await api.call(.get, "/api/v1/audit?entity=activity")
            #expect(audit.json["items"]?.arrayValue?.first?["action"]?.stringValue == "retry")
        }
    }

    @Test func pairsSearchDetailsAndDelete() async throws {
        try await withAPI { api in
            let integration = try await operationsFixture(api.postgres)
            var ids: [Int64] = []
            for n in 1...5 { ids.append(try await addPair(api.postgres, integration: integration, left: "\(n)", right: "\(100 + n)")) }
            let page = try await api.call(.get, "/api/v1/pairs?limit=2")
            #expect(page.json["items"]?.arrayValue?.compactMap { $0["id"]?.intValue } == [ids[4], ids[3]].map(Int.init))
            let next = try #require(page.json["next"]?.intValue)
            #expect(try await api.call(.get, "/api/v1/pairs?limit=2&after=\(next)").json["items"]?.arrayValue?.count == 2)
            let found = try await api.call(.get, "/api/v1/pairs?artifact=103")
            #expect(found.json["items"]?.arrayValue?.first?["left"]?["url"]?.stringValue == "http://r/issues/3")
            #expect(try await api.call(.get, "/api/v1/pairs?key=P-2").json["items"]?.arrayValue?.count == 1)
            #expect(try await api.call(.get, "/api/v1/pairs?q=issue10&integration=books").json["items"]?.arrayValue?.count == 5)
            #expect(try await api.call(.get, "/api/v1/pairs?status=twinless").json["items"]?.arrayValue?.isEmpty == true)
            for (query, field) in [("status=broken", "status"), ("limit=501", "limit"), ("after=-1", "after"), ("artifact=", "artifact")] {
                let answer = try await api.call(.get, "/api/v1/pairs?\(query)")
                #expect(answer.status == 422 && answer.field == field, "\(query): \(answer.text)")
            }
            try await addActivity(api.postgres, integration: integration, artifact: "3", pair: ids[2], message: "pair 3 failed")
            let details = try await api.call(.get, "/api/v1/pairs/\(ids[2])")
            #expect(details.status == 200)
            #expect(details.json["pair"]?["right"]?["key"]?.stringValue == "issue103")
            #expect(details.json["activity"]?.arrayValue?.first?["message"]?.stringValue == "pair 3 failed")
            #expect(details.json["history"]?.arrayValue?.count == 1)
            #expect(try await api.call(.get, "/api/v1/pairs/\(ids[2])?historyLimit=0").field == "historyLimit")
            #expect(try await api.call(.get, "/api/v1/pairs/424242").status == 404)
            #expect(try await api.call(.get, "/api/v1/pairs/abc").field == "id")
            // Delete: view-pairs may not, delete-pairs may; audited.
            let viewer = try await api.token(for: "viewer", roles: [.viewPairs])
            #expect(try await api.call(.get, "/api/v1/pairs/\(ids[2])", as: .token(viewer)).status == 200)
            #expect(try await api.call(.delete, "/api/v1/pairs/\(ids[2])", as: .token(viewer)).status == 403)
            let deleter = try await api.token(for: "deleter", roles: [.deletePairs])
            let deleted = try await api.call(.delete, "/api/v1/pairs/\(ids[2])", as: .token(deleter))
            #expect(deleted.status == 200 && deleted.json["left"]?["id"]?.stringValue == "3")
            #expect(try await api.call(.delete, "/api/v1/pairs/\(ids[2])", as: .token(deleter)).status == 404)
            let audit = try await api.call(.get, "/api/v1/audit?entity=artifact-pair")
            #expect(audit.json["items"]?.arrayValue?.first?["actor"]?.stringValue == "deleter")
        }
    }

    @Test func backgroundJobsAndMetrics() async throws {
        try await withAPI { api in
            let integration = try await operationsFixture(api.postgres)
            let control = IntegrationControl(client: api.postgres)
            let first = try await control.request(.processAll, integration: "books", actor: "admin")
            let second = try await control.request(.initiateSynchronization, integration: "books", side: "right", actor: "admin")
            let list = try await api.call(.get, "/api/v1/jobs")
            #expect(list.json["items"]?.arrayValue?.compactMap { $0["id"]?.intValue } == [second, first].map(Int.init))
            #expect(list.json["items"]?.arrayValue?.first?["status"]?.stringValue == "pending")
            #expect(try await api.call(.get, "/api/v1/jobs?status=scheduled").json["items"]?.arrayValue?.isEmpty == true)
            #expect(try await api.call(.get, "/api/v1/jobs/\(second)").json["side"]?.stringValue == "right")
            #expect(try await api.call(.get, "/api/v1/jobs/999999").status == 404)
            #expect(try await api.call(.get, "/api/v1/jobs?status=running").field == "status")

            let day = try #require(MetricsStore.parseDay("2026-11-02"))  // a Monday
            try await api.postgres.withConnection { connection in
                try await MetricsStore.record(
                    integrationID: integration, created: 4, updated: 2, failed: 1, at: day.addingTimeInterval(14 * 3600), on: connection)
                try await MetricsStore.record(integrationID: integration, updated: 9, at: day.addingTimeInterval(-86400), on: connection)
            }
            let metrics = try await api.call(.get, "/api/v1/metrics?from=2026-11-02&to=2026-11-03&integration=books")
            #expect(metrics.status == 200)
            #expect(metrics.json["totals"]?["created"]?.intValue == 4 && metrics.json["previousTotals"]?["updated"]?.intValue == 9)
            #expect(metrics.json["previousFrom"]?.stringValue == "2026-10-31")
            #expect(metrics.json["days"]?.arrayValue?.count == 2)
            #expect(metrics.json["weekdayHour"]?.arrayValue?[14]["failed"]?.intValue == 1)
            let load = try #require(metrics.json["integrations"]?.arrayValue?.first)
            #expect(load["integration"]?.stringValue == "books" && load["counts"]?["created"]?.intValue == 4)
            #expect(load["previous"]?["updated"]?.intValue == 9 && load["pairs"]?.intValue != nil)
            #expect(metrics.json["repositories"]?.arrayValue?.count == 2)
            #expect(try await api.call(.get, "/api/v1/metrics").json["days"]?.arrayValue?.count == 30)
            #expect(metrics.json["timeZone"]?.stringValue == "UTC")
            // 14h UTC is 23h in Tokyo (Monday).
            let tokyo = try await api.call(.get, "/api/v1/metrics?from=2026-11-02&to=2026-11-03&integration=books&tz=Asia/Tokyo")
            #expect(tokyo.status == 200 && tokyo.json["timeZone"]?.stringValue == "Asia/Tokyo")
            #expect(tokyo.json["weekdayHour"]?.arrayValue?[23]["failed"]?.intValue == 1)
            #expect(tokyo.json["days"]?.arrayValue?[0]["created"]?.intValue == 4)
            for (query, field, status) in [
                ("from=2026-13-01", "from", 422), ("from=yesterday", "from", 422), ("to=2026-02-30", "to", 422),
                ("from=2026-11-03&to=2026-11-02", "from", 422), ("from=2020-01-01&to=2026-11-02", "to", 422),
                ("integration=nope", "integration", 404), ("tz=Mars/Olympus", "tz", 422), ("tz=", "tz", 422),
            ] {
                let answer = try await api.call(.get, "/api/v1/metrics?\(query)")
                #expect(answer.status == status && answer.field == field, "\(query): \(answer.text)")
            }
        }
    }

    @Test func queuesWorkersPauseAndDeadJobs() async throws {
        try await withAPI { api in
            _ = try await operationsFixture(api.postgres)
            let queue = try #require(api.api.queue)
            _ = try await queue.enqueue(Job(kind: .sync, repository: "redmine", integration: "books", payload: #"{"side":"left","artifact":"1"}"#))
            _ = try await queue.enqueue(Job(kind: JobKind("unknown"), repository: "redmine", integration: "books"))
            let overview = try await api.call(.get, "/api/v1/queues")
            #expect(overview.status == 200)
            let redmine = overview.json["repositories"]?.arrayValue?.first { $0["repository"]?.stringValue == "redmine" }
            #expect(redmine?["high"]?["pending"]?.intValue == 2)
            let jobs = try await api.call(.get, "/api/v1/queues/redmine/jobs?state=pending")
            #expect(jobs.json["items"]?.arrayValue?.count == 2)
            #expect(try await api.call(.get, "/api/v1/queues/redmine/jobs?state=gone").field == "state")
            #expect(try await api.call(.get, "/api/v1/queues/redmine/jobs?limit=0").field == "limit")
            let long = String(repeating: "r", count: 201)
            #expect(try await api.call(.get, "/api/v1/queues/\(long)/jobs").field == "repository")

            // Pause and resume, audited.
            let paused = try await api.call(.post, "/api/v1/queues/redmine/pause", body: #"{"minutes":5}"#)
            #expect(paused.status == 200 && paused.json["pausedUntil"] != nil)
            let afterPause = try await api.call(.get, "/api/v1/queues")
            #expect(afterPause.json["repositories"]?.arrayValue?.first { $0["repository"]?.stringValue == "redmine" }?["pausedUntil"] != nil)
            #expect(try await api.call(.post, "/api/v1/queues/redmine/pause", body: #"{"minutes":0}"#).field == "minutes")
            #expect(try await api.call(.post, "/api/v1/queues/redmine/resume").json["pausedUntil"] == nil)
            #expect(try await api.call(.post, "/api/v1/queues/nowhere/pause").status == 404)
            // OPTIONS and other methods: 405 naming only the methods of the most specific template.
            let options = try await api.call(.options, "/api/v1/activity/actions")
            #expect(options.status == 405 && options.headers[.allow] == "POST")
            #expect(try await api.call(.get, "/api/v1/audit?entity=queue").json["items"]?.arrayValue?.count == 2)

            // A job that fails for good is dead; retry puts it back, delete removes it; other repositories' are untouched.
            let delivered = try await queue.dequeue(worker: "w1", max: 10)
            #expect(delivered.deliveries.count == 2)
            for delivery in delivered.deliveries { _ = try await queue.fail(delivery, error: "no handler", retryable: false) }
            #expect(try await api.call(.get, "/api/v1/queues/redmine/jobs?state=dead").json["items"]?.arrayValue?.count == 2)
            #expect(try await api.call(.post, "/api/v1/queues/roundup/dead/retry").json["count"]?.intValue == 0)
            let deadID = try #require(delivered.deliveries.first?.id)
            let retried = try await api.call(.post, "/api/v1/queues/redmine/dead/retry", body: #"{"ids":["\#(deadID)","nope"]}"#)
            #expect(retried.status == 200 && retried.json["count"]?.intValue == 1)
            #expect(try await api.call(.post, "/api/v1/queues/redmine/dead/delete").json["count"]?.intValue == 1)
            #expect(try await api.call(.get, "/api/v1/queues/redmine/jobs?state=dead").json["items"]?.arrayValue?.isEmpty == true)
            #expect(try await api.call(.post, "/api/v1/queues/redmine/dead/retry", body: #"{"ids":[""]}"#).field == "ids[0]")
            #expect(try await api.call(.post, "/api/v1/queues/redmine/dead/retry", body: #"{"ids":"all"}"#).field == "ids")

            try await queue.heartbeat(
                WorkerInfo(id: "worker-a", host: "h", pid: 42, startedAt: Date(), version: "test", jobsInHand: 1, lastHeartbeat: Date()))
            let workers = try await api.call(.get, "/api/v1/workers")
            #expect(workers.json["items"]?.arrayValue?.first?["pid"]?.intValue == 42)
            // Read-only roles read queues, but may not act on them.
            let reader = try await api.token(for: "reader", roles: [.troubleshooting])
            #expect(try await api.call(.get, "/api/v1/queues", as: .token(reader)).status == 200)
            #expect(try await api.call(.post, "/api/v1/queues/redmine/pause", as: .token(reader), body: "{}").status == 403)
        }
    }
}

/// What the REST API fuzzing (Ops/api-fuzz.sh) found once it reached the API's core: inputs the OpenAPI document
/// accepts that the server refused, and the reverse.
@Suite("Fuzzing findings", .serialized, .timeLimit(.minutes(3)))
struct APIFuzzFindingsTests {
    /// JSON Schema counts 5.0 as an integer; so does the server, everywhere the document says `integer`.
    @Test func integralNumbersAreIntegers() async throws {
        try await withAPI { api in
            _ = try await operationsFixture(api.postgres)
            let paused = try await api.call(.post, "/api/v1/queues/redmine/pause", body: #"{"minutes": 5.0}"#)
            #expect(paused.status == 200, "\(paused.json)")
            #expect(try await api.call(.post, "/api/v1/queues/redmine/pause", body: #"{"minutes": 5.5}"#).field == "minutes")
            #expect(try await api.call(.post, "/api/v1/queues/redmine/pause", body: #"{"minutes": 1e300}"#).field == "minutes")
            // Configuration entities (read through the YAML reader) …
            let repository = try await api.call(
                .post, "/api/v1/repositories", body: #"{"name": "mem", "type": "memory", "url": "http://memory.invalid", "concurrencyLimit": 4.0}"#)
            #expect(repository.status == 201, "\(repository.json)")
            #expect(repository.json["concurrencyLimit"]?.intValue == 4)
            let fraction = try await api.call(
                .post, "/api/v1/repositories", body: #"{"name": "mem2", "type": "memory", "url": "http://memory.invalid", "concurrencyLimit": 4.5}"#)
            #expect(fraction.status == 422 && fraction.field == "concurrencyLimit")
            // … and the v2 connections.
            let connection = try await api.call(
                .post, "/api/v2/connections/issue-tracker/",
                body: #"{"alias": "mem3", "connector": 7.0, "project": 3.0, "params": {"issue_tracker_server": "memory.invalid"}}"#)
            #expect(connection.status == 201, "\(connection.json)")
            #expect(connection.json["project"]?.intValue == 3 && connection.json["connector"]?.intValue == 7)
        }
    }

    /// The document's `\S` patterns: text of nothing but white space (form feed, U+001C, U+FEFF …) is refused.
    @Test func blankTextIsRefused() async throws {
        try await withAPI { api in
            _ = try await operationsFixture(api.postgres)
            for blank in [#"\f"#, #"\u001c"#, #"\ufeff \u2003"#] {
                let request = try await api.call(
                    .post, "/api/v1/integrations/books/initiate-synchronization", body: #"{"projects": ["\#(blank)"]}"#)
                #expect(request.status == 422 && request.field == "projects[0]", "\(blank): \(request.json)")
                #expect(try await api.call(.post, "/api/v1/tokens", body: #"{"name": "\#(blank)"}"#).field == "name", "\(blank)")
            }
        }
    }

    /// "\r\n" is a single Character in Swift: the queue paths' check for line breaks looks at scalars.
    @Test func aLineBreakInAQueuePathIsRefused() async throws {
        try await withAPI { api in
            _ = try await operationsFixture(api.postgres)
            for name in ["red%0D%0Amine", "red%0Amine", "red%09mine"] {
                #expect(try await api.call(.post, "/api/v1/queues/\(name)/pause", body: "{}").field == "repository", "\(name)")
            }
        }
    }
}
