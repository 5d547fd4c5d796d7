import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TandemConfig
import TandemCore
import TandemQueue
import TandemStore
import Testing

@testable import TandemServer

/// One answer of the web UI.
struct UIAnswer: Sendable {
    var status: Int
    var headers: HTTPFields
    var text: String
    var location: String? { self.headers[.location] }
    /// The message a redirect leaves for the next page (the `tandem_flash` cookie), decoded.
    var flash: String? {
        guard let cookie = self.headers[.setCookie], cookie.hasPrefix("tandem_flash="),
            let value = cookie.dropFirst("tandem_flash=".count).split(separator: ";").first, value.count > 1
        else { return nil }
        return String(value.dropFirst()).removingPercentEncoding
    }
}

extension APIHarness {
    /// A UI request with an optional session cookie and a form body.
    @discardableResult
    func ui(
        _ method: HTTPRequest.Method, _ uri: String, cookie: String? = nil, flash: String? = nil, form: [(String, String)]? = nil
    ) async throws -> UIAnswer {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = "tandem_session=\(cookie)" + (flash.map { "; tandem_flash=\($0)" } ?? "") }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            body = ByteBuffer(
                string: form.map {
                    "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
                }
                .joined(separator: "&"))
        }
        let response = try await self.client.execute(uri: uri, method: method, headers: headers, body: body)
        return UIAnswer(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
    }

    /// Logs in through the UI's form; returns the session cookie and the CSRF token of its forms.
    func uiLogin(_ username: String, _ password: String) async throws -> (cookie: String, csrf: String) {
        let answer = try await self.ui(.post, "/ui/login", form: [("username", username), ("password", password)])
        guard answer.status == 303, let setCookie = answer.headers[.setCookie],
            let value = setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last
        else { throw TestSetupError(description: "UI login failed: \(answer.status) \(answer.text.prefix(300))") }
        let page = try await self.ui(.get, "/ui", cookie: String(value))
        guard let csrf = Self.csrf(in: page.text) else { throw TestSetupError(description: "no CSRF field on the dashboard") }
        return (String(value), csrf)
    }

    static func csrf(in page: String) -> String? {
        guard let range = page.range(of: "name=\"_csrf\" value=\"") else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    /// A small configuration: two memory repositories, a model, two collections, an integration.
    func seedConfiguration() async throws {
        let config = self.api.config
        for name in ["left-repo", "right-repo"] {
            _ = try await config.put(
                .repositories, name: nil,
                body: .object(["name": .string(name), "type": .string("memory"), "url": .string("http://memory.invalid/\(name)")]), create: true,
                actor: "test")
        }
        _ = try await config.put(
            .models, name: nil,
            body: .object([
                "name": .string("Defect"),
                "fields": .array([
                    .object(["name": .string("title"), "type": .string("string"), "required": .bool(true)]),
                    .object(["name": .string("status"), "type": .string("single-select"), "values": .array([.string("New"), .string("Done")])]),
                    .object(["name": .string("notes"), "type": .string("string")]),
                ]),
            ]), create: true, actor: "test")
        for (name, repository) in [("left-bugs", "left-repo"), ("right-bugs", "right-repo")] {
            _ = try await config.put(
                .collections, name: nil,
                body: .object([
                    "name": .string(name), "repository": .string(repository), "artifactType": .string("bug"), "projects": .array([.string("demo")]),
                    "model": .string("Defect"),
                    "fields": .array([
                        .object(["field": .string("summary"), "modelField": .string("title")]),
                        .object(["field": .string("state"), "modelField": .string("status")]),
                    ]),
                ]), create: true, actor: "test")
        }
    }
}

@Suite("Web UI", .serialized, .timeLimit(.minutes(5)))
struct UITests {
    @Test func notLoggedInRedirectsToTheLoginPageAndAssetsAreCached() async throws {
        try await withAPI { h in
            let root = try await h.ui(.get, "/")
            #expect(root.status == 303 && root.location == "/ui")
            let dashboard = try await h.ui(.get, "/ui/repositories?x=1")
            #expect(dashboard.status == 303)
            #expect(dashboard.location == "/ui/login?next=%2Fui%2Frepositories%3Fx%3D1")
            let login = try await h.ui(.get, "/ui/login")
            #expect(login.status == 200 && login.text.contains("name=\"password\""))
            let css = try await h.ui(.get, "/ui/app.css")
            #expect(css.status == 200 && css.headers[.cacheControl]?.contains("max-age=31536000") == true)
            #expect(css.text.contains("--accent") && !css.text.contains("http"))
            let js = try await h.ui(.get, "/ui/app.js")
            #expect(js.status == 200 && js.headers[.contentType]?.hasPrefix("text/javascript") == true)
            // A wrong password re-renders the form (401) with the name kept; no cookie.
            let wrong = try await h.ui(.post, "/ui/login", form: [("username", "admin"), ("password", "nope")])
            #expect(wrong.status == 401 && wrong.headers[.setCookie] == nil && wrong.text.contains("value=\"admin\""))
            // Logging in follows `next` only to local UI paths.
            let next = try await h.ui(
                .post, "/ui/login", form: [("username", "admin"), ("password", APIHarness.adminPassword), ("next", "https://evil.example/")])
            #expect(next.status == 303 && next.location == "/ui")
        }
    }

    @Test func everyPageRendersForAnAdmin() async throws {
        try await withAPI { h in
            try await h.seedConfiguration()
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            let created = try await h.ui(
                .post, "/ui/integrations/new", cookie: cookie,
                form: [
                    ("_csrf", csrf), ("name", "bugs"), ("left", "left-bugs"), ("right", "right-bugs"), ("creation", "two-way"), ("comments", "both"),
                    ("attachments.direction", "none"), ("conflicts.default", "error"),
                ])
            #expect(created.status == 303 && created.location?.hasPrefix("/ui/integrations/bugs") == true, "\(created.text.prefix(500))")
            for path in [
                "/ui", "/ui/repositories", "/ui/repositories/new", "/ui/repositories/left-repo", "/ui/models", "/ui/models/new", "/ui/models/Defect",
                "/ui/collections", "/ui/collections/new", "/ui/collections/left-bugs", "/ui/integrations", "/ui/integrations/new",
                "/ui/integrations/bugs", "/ui/queues", "/ui/settings", "/ui/activity", "/ui/metrics", "/ui/pairs", "/ui/users", "/ui/audit",
                "/ui/integrations/bugs/json", "/ui/integrations/bugs/history", "/ui/repositories/left-repo/json", "/ui/models/new/json",
            ] {
                let page = try await h.ui(.get, path, cookie: cookie)
                #expect(page.status == 200, "\(path): \(page.status) \(page.text.prefix(400))")
                #expect(page.text.contains("<main>") && page.text.contains("</html>"), "\(path)")
                #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
            }
            // The field-flow table: a row per model field, the unmapped one hidden by default.
            let integration = try await h.ui(.get, "/ui/integrations/bugs", cookie: cookie)
            #expect(integration.text.contains("name=\"flow.title.leftToRight\""))
            #expect(integration.text.contains("<tr class=\"unmapped\">"))
            let missing = try await h.ui(.get, "/ui/repositories/nothing-here", cookie: cookie)
            #expect(missing.status == 404 && missing.text.contains("nothing-here"))
        }
    }

    @Test func formsChangeTheConfigurationAndRefusalsNameTheFieldAndKeepTheInput() async throws {
        try await withAPI { h in
            try await h.seedConfiguration()
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            // A bad number: 422, the field named, the input kept, nothing stored.
            let bad = try await h.ui(
                .post, "/ui/repositories/new", cookie: cookie,
                form: [
                    ("_csrf", csrf), ("name", "tracker"), ("type", "redmine"), ("url", "http://127.0.0.1:9/x"), ("auth.kind", "api-key"),
                    ("auth.secret", "k"), ("concurrencyLimit", "many"), ("enabled", "on"),
                ])
            #expect(bad.status == 422)
            #expect(
                bad.text.contains("concurrencyLimit") && bad.text.contains("value=\"many\"") && bad.text.contains("value=\"http://127.0.0.1:9/x\""))
            #expect(bad.text.contains("field-error"))
            #expect(try await h.api.config.get(.repositories, name: "tracker") == nil)
            // A value the validator refuses (no URL): the parser's field.
            let noURL = try await h.ui(
                .post, "/ui/repositories/new", cookie: cookie,
                form: [("_csrf", csrf), ("name", "tracker"), ("type", "redmine"), ("url", ""), ("auth.kind", "none")])
            #expect(noURL.status == 422 && noURL.text.contains("url"), "\(noURL.text.prefix(300))")
            // A good one is stored, and the secret is never shown back.
            let good = try await h.ui(
                .post, "/ui/repositories/new", cookie: cookie,
                form: [
                    ("_csrf", csrf), ("name", "tracker"), ("type", "redmine"), ("url", "http://127.0.0.1:9/x"), ("auth.kind", "api-key"),
                    ("auth.secret", "very-secret-key"), ("auth.header", "X-Key"), ("concurrencyLimit", "3"), ("enabled", "on"),
                    ("debugLogging", "on"), ("options", "markerField = 1"),
                ])
            #expect(good.status == 303 && good.location?.hasPrefix("/ui/repositories/tracker") == true, "\(good.text.prefix(400))")
            let stored = try #require(try await h.api.config.get(.repositories, name: "tracker"))
            #expect(stored["concurrencyLimit"] == .int(3) && stored["options"]?["markerField"] == .string("1"))
            #expect(stored["debugLogging"] == .bool(true))
            let edit = try await h.ui(.get, "/ui/repositories/tracker", cookie: cookie)
            #expect(!edit.text.contains("very-secret-key") && edit.text.contains("value=\"X-Key\""))
            // Editing without retyping the secret keeps it; the URL changes.
            let saved = try await h.ui(
                .post, "/ui/repositories/tracker", cookie: cookie,
                form: [
                    ("_csrf", csrf), ("type", "redmine"), ("url", "http://127.0.0.1:9/y"), ("auth.kind", "api-key"), ("auth.secret", ""),
                    ("auth.header", "X-Key"), ("enabled", "on"),
                ])
            #expect(saved.status == 303, "\(saved.text.prefix(400))")
            let (runtime, secrets) = try await h.api.config.loadForRuntime()
            #expect(runtime.repositories.first { $0.name == "tracker" }?.url == "http://127.0.0.1:9/y")
            #expect(runtime.repositories.first { $0.name == "tracker" }?.debugLogging == false)  // the box was left unticked
            #expect(secrets["tracker"]?.values.contains("very-secret-key") == true)
            // The field-flow table is saved: non-default flows only.
            _ = try await h.ui(
                .post, "/ui/integrations/new", cookie: cookie,
                form: [("_csrf", csrf), ("name", "bugs"), ("left", "left-bugs"), ("right", "right-bugs"), ("creation", "two-way")])
            let flows = try await h.ui(
                .post, "/ui/integrations/bugs", cookie: cookie,
                form: [
                    ("_csrf", csrf), ("left", "left-bugs"), ("right", "right-bugs"), ("creation", "left-to-right"), ("comments", "both"),
                    ("attachments.direction", "none"), ("conflicts.default", "error"), ("flow.title.leftToRight", "upon-creation"),
                    ("flow.title.rightToLeft", "no-update"), ("flow.status.leftToRight", "update-normally"),
                    ("flow.status.rightToLeft", "update-normally"),
                ])
            #expect(flows.status == 303, "\(flows.text.prefix(600))")
            let integration = try #require(try await h.api.config.get(.integrations, name: "bugs"))
            #expect(integration["creation"] == .string("left-to-right"))
            #expect(integration["fieldFlows"]?["title"]?["leftToRight"] == .string("upon-creation"))
            #expect(integration["fieldFlows"]?["title"]?["rightToLeft"] == .string("no-update"))
            #expect(integration["fieldFlows"]?["status"] == nil)
            // A model row without a type's values is refused with its row named.
            let model = try await h.ui(
                .post, "/ui/models/new", cookie: cookie,
                form: [("_csrf", csrf), ("name", "Task"), ("fields.0.name", "title"), ("fields.0.type", "no-such-type")])
            #expect(model.status == 422 && model.text.contains("fields[0]"), "\(model.text.prefix(400))")
            #expect(model.text.contains("value=\"title\""))
            // Run and stop.
            let run = try await h.ui(.post, "/ui/integrations/bugs/run", cookie: cookie, form: [("_csrf", csrf)])
            #expect(run.status == 303)
            #expect(try await h.api.config.export().integrations.first { $0.name == "bugs" }?.running == true)
            let delete = try await h.ui(.post, "/ui/integrations/bugs/delete", cookie: cookie, form: [("_csrf", csrf)])
            #expect(delete.status == 409 && delete.text.contains("running"))
        }
    }

    @Test func everyValueIsEscaped() async throws {
        try await withAPI { h in
            _ = try await h.api.config.put(
                .repositories, name: nil,
                body: .object([
                    "name": .string("<script>alert(1)</script>"), "type": .string("memory"), "url": .string("http://memory.invalid/x"),
                    "options": .object(["param.note": .string("\"><img src=x>")]),
                ]), create: true, actor: "test")
            let (cookie, _) = try await h.uiLogin("admin", APIHarness.adminPassword)
            let list = try await h.ui(.get, "/ui/repositories", cookie: cookie)
            #expect(list.status == 200)
            #expect(!list.text.contains("<script>alert"))
            #expect(!list.text.contains("<img src=x>"))
            #expect(list.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            let edit = try await h.ui(.get, "/ui/repositories/%3Cscript%3Ealert(1)%3C%2Fscript%3E", cookie: cookie)
            #expect(edit.status == 200 && !edit.text.contains("<script>alert") && edit.text.contains("&lt;script&gt;"))
            #expect(!edit.text.contains("<img src=x>") && edit.text.contains("param.note = &quot;&gt;&lt;img src=x&gt;"))
            // The dashboard's audit trail shows the name escaped too.
            let dashboard = try await h.ui(.get, "/ui", cookie: cookie)
            #expect(!dashboard.text.contains("<script>alert"))
        }
    }

    @Test func formsWithoutTheSessionsCSRFTokenChangeNothing() async throws {
        try await withAPI { h in
            try await h.seedConfiguration()
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            let before = try await h.snapshot()
            let form: [(String, String)] = [("name", "x"), ("type", "memory"), ("url", "http://memory.invalid/x"), ("auth.kind", "none")]
            for token in [nil, "", "forged", String(csrf.dropLast()) + (csrf.hasSuffix("a") ? "b" : "a")] {
                let answer = try await h.ui(.post, "/ui/repositories/new", cookie: cookie, form: (token.map { [("_csrf", $0)] } ?? []) + form)
                #expect(answer.status == 403 && answer.text.contains("nothing was changed"))
            }
            for path in ["/ui/repositories/left-repo/delete", "/ui/settings", "/ui/logout", "/ui/activity/action"] {
                let answer = try await h.ui(.post, path, cookie: cookie, form: [("_csrf", "forged")])
                #expect(answer.status == 403, "\(path)")
            }
            // Another session's token is not this session's.
            let other = try await h.uiLogin("admin", APIHarness.adminPassword)
            let crossed = try await h.ui(.post, "/ui/repositories/left-repo/delete", cookie: cookie, form: [("_csrf", other.csrf)])
            #expect(crossed.status == 403)
            #expect(try await h.snapshot() == before)
            // No session at all: to the login page, nothing changed.
            let anonymous = try await h.ui(.post, "/ui/repositories/left-repo/delete", form: [("_csrf", csrf)])
            #expect(anonymous.status == 303 && anonymous.location?.hasPrefix("/ui/login") == true)
            #expect(try await h.snapshot() == before)
        }
    }

    @Test func rolesSeeOnlyWhatTheyMayAndForcedPostsAreRefused() async throws {
        try await withAPI { h in
            try await h.seedConfiguration()
            let store = AuthStore(client: h.postgres, hasher: testHasher, logger: quiet)
            _ = try await store.createUser(username: "trouble", password: "password-of-trouble", roles: [.troubleshooting], actor: "test")
            _ = try await store.createUser(username: "viewer", password: "password-of-viewer", roles: [.viewPairs], actor: "test")
            let (cookie, csrf) = try await h.uiLogin("trouble", "password-of-trouble")
            let list = try await h.ui(.get, "/ui/repositories", cookie: cookie)
            #expect(list.status == 200 && list.text.contains("left-repo"))
            #expect(!list.text.contains("New repository"))
            let edit = try await h.ui(.get, "/ui/repositories/left-repo", cookie: cookie)
            #expect(edit.status == 200 && !edit.text.contains("id=\"save\"") && !edit.text.contains("/delete"))
            let newForm = try await h.ui(.get, "/ui/repositories/new", cookie: cookie)
            #expect(newForm.status == 403)
            let settings = try await h.ui(.get, "/ui/settings", cookie: cookie)
            #expect(settings.status == 200 && !settings.text.contains("save-settings"))
            let before = try await h.snapshot()
            for path in ["/ui/repositories/left-repo/delete", "/ui/settings", "/ui/settings/logging", "/ui/queues/left-repo/pause"] {
                let answer = try await h.ui(.post, path, cookie: cookie, form: [("_csrf", csrf), ("level", "debug")])
                #expect(answer.status == 403, "\(path): \(answer.status)")
            }
            #expect(try await h.snapshot() == before)
            // A pairs viewer sees no configuration at all.
            let viewer = try await h.uiLogin("viewer", "password-of-viewer")
            let dashboard = try await h.ui(.get, "/ui", cookie: viewer.cookie)
            #expect(
                dashboard.status == 200 && !dashboard.text.contains("href=\"/ui/repositories\"") && !dashboard.text.contains("href=\"/ui/activity\""))
            #expect(try await h.ui(.get, "/ui/repositories", cookie: viewer.cookie).status == 403)
            #expect(try await h.ui(.get, "/ui/activity", cookie: viewer.cookie).status == 403)
        }
    }

    @Test func activityBulkActionsPairsAndTheMetricsChart() async throws {
        try await withAPI { h in
            try await h.seedConfiguration()
            _ = try await h.api.config.put(
                .integrations, name: nil,
                body: .object(["name": .string("bugs"), "left": .string("left-bugs"), "right": .string("right-bugs")]), create: true, actor: "test")
            func insert(_ kind: String, _ status: String, _ message: String, artifact: String?) async throws -> Int64 {
                try await h.postgres.query(
                    """
                    INSERT INTO activity (kind, status, integration_id, repository_id, artifact_id, side, message)
                    VALUES (\(kind), \(status), (SELECT id FROM integrations WHERE name = 'bugs'), (SELECT id FROM repositories WHERE name = 'left-repo'),
                            \(artifact), 'left', \(message)) RETURNING id
                    """
                ).first?.decode(Int64.self, at: 0) ?? 0
            }
            let failed = try await insert("error", "open", "status value 'Bogus' <b>rejected</b>", artifact: "42")
            let info = try await insert("info", "done", "full scan finished", artifact: nil)
            func status(_ id: Int64) async throws -> String {
                try await h.postgres.query("SELECT status FROM activity WHERE id = \(id)").first?.decode(String.self, at: 0) ?? ""
            }
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            let list = try await h.ui(.get, "/ui/activity?status=open", cookie: cookie)
            #expect(list.status == 200)
            #expect(list.text.contains("value=\"\(failed)\" form=\"bulk\" data-error=\"1\""))
            #expect(!list.text.contains("value=\"\(info)\" form=\"bulk\""))
            #expect(list.text.contains("&lt;b&gt;rejected&lt;/b&gt;") && !list.text.contains("<b>rejected"))
            #expect(list.text.contains("id=\"action-retry\"") && list.text.contains("Clear Errors and Ignore Changes"))
            let text = try await h.ui(.get, "/ui/activity?q=Bogus", cookie: cookie)
            #expect(text.text.contains("data-id=\"\(failed)\"") && !text.text.contains("data-id=\"\(info)\""))
            let byIntegration = try await h.ui(.get, "/ui/activity?integration=nope", cookie: cookie)
            #expect(byIntegration.status == 200 && !byIntegration.text.contains("data-id="))
            let badStatus = try await h.ui(.get, "/ui/activity?status=bogus", cookie: cookie)
            #expect(badStatus.status == 200 && badStatus.text.contains("status:"))
            // Forged: nothing changes.
            let forged = try await h.ui(
                .post, "/ui/activity/action", cookie: cookie, form: [("_csrf", "x"), ("action", "clear"), ("id", String(failed))])
            #expect(forged.status == 403)
            #expect(try await status(failed) == "open")
            // Clearing an item not in error is skipped, with the reason.
            let skipped = try await h.ui(
                .post, "/ui/activity/action", cookie: cookie,
                form: [("_csrf", csrf), ("action", "clear"), ("id", String(info)), ("back", "/ui/activity")])
            #expect(skipped.status == 303 && skipped.flash?.contains("Skipped 1: #\(info): it is done, not in error") == true)
            #expect(try await status(info) == "done")
            // Retry: the row is retrying (its sync queued).
            let retried = try await h.ui(
                .post, "/ui/activity/action", cookie: cookie,
                form: [("_csrf", csrf), ("action", "retry"), ("id", String(failed)), ("back", "/ui/activity?status=open")])
            #expect(retried.status == 303 && retried.location == "/ui/activity?status=open" && retried.flash == "Queued a retry of 1 item.")
            #expect(try await status(failed) == "retrying")
            let item = try await h.ui(.get, "/ui/activity/\(failed)", cookie: cookie)
            #expect(item.status == 200 && item.text.contains("Retrying") && item.text.contains("admin"))
            #expect(try await h.ui(.get, "/ui/activity/999999", cookie: cookie).status == 404)
            // A troubleshooter sees the list but no checkboxes or menu, and cannot act.
            let store = AuthStore(client: h.postgres, hasher: testHasher, logger: quiet)
            _ = try await store.createUser(username: "trouble", password: "password-of-trouble", roles: [.troubleshooting], actor: "test")
            let trouble = try await h.uiLogin("trouble", "password-of-trouble")
            let readOnly = try await h.ui(.get, "/ui/activity", cookie: trouble.cookie)
            #expect(readOnly.status == 200 && readOnly.text.contains("data-id=\"\(failed)\"") && !readOnly.text.contains("action-retry"))
            let refused = try await h.ui(
                .post, "/ui/activity/action", cookie: trouble.cookie, form: [("_csrf", trouble.csrf), ("action", "clear"), ("id", String(failed))])
            #expect(refused.status == 403)
            #expect(try await status(failed) == "retrying")
            // Pairs: search page, unknown pair.
            #expect(try await h.ui(.get, "/ui/pairs", cookie: cookie).status == 200)
            #expect(try await h.ui(.get, "/ui/pairs/424242", cookie: cookie).status == 404)
            // Metrics: today's counts are bars of the chart; yesterday-a-week-ago's are the previous period's.
            try await h.postgres.withConnection { connection in
                let id = try await h.postgres.query("SELECT id FROM integrations WHERE name = 'bugs'").first?.decode(Int64.self, at: 0) ?? 0
                try await MetricsStore.record(integrationID: id, created: 3, updated: 4, on: connection)
                try await MetricsStore.record(integrationID: id, created: 2, at: Date().addingTimeInterval(-8 * 86400), on: connection)
            }
            let metrics = try await h.ui(.get, "/ui/metrics?days=7", cookie: cookie)
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("<svg class=\"chart\" id=\"daily-chart\""))
            #expect(metrics.text.contains("data-value=\"7\""))
            #expect(metrics.text.contains("<svg class=\"chart\" id=\"weekday-chart\"") && metrics.text.contains("<circle class=\"bubble\""))
            // The load tables: the integration with its repositories, its counts, the change against the previous period.
            let loadTable = try #require(Self.between(metrics.text, "<table id=\"load-integrations\">", "</table>"))
            #expect(loadTable.contains("<strong>bugs</strong>") && loadTable.contains("left-repo ⇄ right-repo"), "\(loadTable)")
            #expect(loadTable.contains("<td class=\"num\">3</td><td class=\"num\">4</td>") && loadTable.contains("▲ 250%"), "\(loadTable)")
            #expect(metrics.text.contains("<table id=\"load-repositories\">") && metrics.text.contains("<strong>left-repo</strong>"))
            let created = try await h.ui(.get, "/ui/metrics?days=7&metric=created", cookie: cookie)
            #expect(created.text.contains("data-value=\"3\"") && created.text.contains("previous period 2"))
            let badDate = try await h.ui(.get, "/ui/metrics?from=2026-13-45", cookie: cookie)
            #expect(badDate.status == 200 && badDate.text.contains("is not a date"))
            // A chosen time zone: selected in the form and named on the charts; an unknown one is said and UTC shown.
            let zoned = try await h.ui(.get, "/ui/metrics?days=7&tz=Asia/Tokyo", cookie: cookie)
            #expect(zoned.text.contains("<option value=\"Asia/Tokyo\" selected>") && zoned.text.contains("by weekday and hour (Asia/Tokyo)"))
            let badZone = try await h.ui(.get, "/ui/metrics?tz=Mars%2FOlympus", cookie: cookie)
            #expect(badZone.status == 200 && badZone.text.contains("is not a time zone name") && badZone.text.contains("(UTC)"))
        }
    }

    @Test func pairDetailsAndDeletionFollowThePairRoles() async throws {
        try await withAPI { h in
            try await h.seedConfiguration()
            _ = try await h.api.config.put(
                .integrations, name: nil,
                body: .object(["name": .string("bugs"), "left": .string("left-bugs"), "right": .string("right-bugs")]), create: true, actor: "test")
            let pair =
                try await h.postgres.query(
                    """
                    INSERT INTO artifact_pairs (integration_id, left_id, right_id, left_key, right_key, left_url, right_url, created_from)
                    VALUES ((SELECT id FROM integrations WHERE name = 'bugs'), '7', '9', 'L-7', 'R-9', 'javascript:alert(1)', 'http://r/9', 'left')
                    RETURNING id
                    """
                ).first?.decode(Int64.self, at: 0) ?? 0
            let store = AuthStore(client: h.postgres, hasher: testHasher, logger: quiet)
            _ = try await store.createUser(username: "viewer", password: "password-of-viewer", roles: [.viewPairs], actor: "test")
            _ = try await store.createUser(username: "deleter", password: "password-of-deleter", roles: [.deletePairs], actor: "test")
            let viewer = try await h.uiLogin("viewer", "password-of-viewer")
            let list = try await h.ui(.get, "/ui/pairs?q=L-7", cookie: viewer.cookie)
            #expect(list.status == 200 && list.text.contains("/ui/pairs/\(pair)"))
            let page = try await h.ui(.get, "/ui/pairs/\(pair)", cookie: viewer.cookie)
            #expect(page.status == 200 && page.text.contains("L-7") && page.text.contains("href=\"http://r/9\""))
            // Only http(s) links become links.
            #expect(!page.text.contains("href=\"javascript:"))
            #expect(!page.text.contains("/delete"))
            let refused = try await h.ui(.post, "/ui/pairs/\(pair)/delete", cookie: viewer.cookie, form: [("_csrf", viewer.csrf)])
            #expect(refused.status == 403)
            let deleter = try await h.uiLogin("deleter", "password-of-deleter")
            let detail = try await h.ui(.get, "/ui/pairs/\(pair)", cookie: deleter.cookie)
            #expect(detail.text.contains("/ui/pairs/\(pair)/delete"))
            let deleted = try await h.ui(.post, "/ui/pairs/\(pair)/delete", cookie: deleter.cookie, form: [("_csrf", deleter.csrf)])
            #expect(deleted.status == 303 && deleted.location == "/ui/pairs" && deleted.flash?.hasPrefix("Deleted artifact pair") == true)
            #expect(try await h.postgres.query("SELECT count(*) FROM artifact_pairs").first?.decode(Int.self, at: 0) == 0)
            #expect(try await h.ui(.get, "/ui/pairs/\(pair)", cookie: deleter.cookie).status == 404)
        }
    }

    @Test func settingsAndLoggingFormsValidateAndSave() async throws {
        try await withAPI { h in
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            let good: [(String, String)] = [
                ("_csrf", csrf), ("changeDetectionInterval", "45s"), ("fullScanInterval", "12h"), ("fullScanEnabled", "on"),
                ("maxConcurrencyPerIntegration", "6"), ("eventRateLimit.eventsPerMinute", "300"), ("eventRateLimit.scope", "all"),
                ("security.maxFailedLogins", "7"), ("security.lockoutSeconds", "600"), ("security.sessionSeconds", "3600"),
            ]
            let bad = try await h.ui(
                .post, "/ui/settings", cookie: cookie, form: good.map { $0.0 == "security.lockoutSeconds" ? ($0.0, "5") : $0 })
            #expect(bad.status == 422 && bad.text.contains("security.lockoutSeconds") && bad.text.contains("value=\"45s\""))
            let badDuration = try await h.ui(
                .post, "/ui/settings", cookie: cookie, form: good.map { $0.0 == "changeDetectionInterval" ? ($0.0, "soon") : $0 })
            #expect(badDuration.status == 422 && badDuration.text.contains("changeDetectionInterval"), "\(badDuration.text.prefix(300))")
            #expect(try await h.api.config.settings().maxConcurrencyPerIntegration != 6)
            let saved = try await h.ui(.post, "/ui/settings", cookie: cookie, form: good)
            #expect(saved.status == 303, "\(saved.text.prefix(400))")
            let settings = try await h.api.config.settings()
            #expect(settings.maxConcurrencyPerIntegration == 6 && settings.changeDetectionInterval.seconds == 45)
            #expect(try await h.api.auth.policy().maxFailedLogins == 7)
            // Logging: a level, then troubleshooting for a while, then its end.
            #expect(try await h.ui(.post, "/ui/settings/logging", cookie: cookie, form: [("_csrf", csrf), ("level", "warning")]).status == 303)
            #expect(try await LoggingSettings.load(h.postgres).level == "warning")
            let tooLong = try await h.ui(
                .post, "/ui/settings/logging", cookie: cookie,
                form: [("_csrf", csrf), ("troubleshooting", "start"), ("troubleshootingLevel", "trace"), ("minutes", "5000")])
            #expect(tooLong.status == 422 && tooLong.text.contains("minutes"))
            let start = try await h.ui(
                .post, "/ui/settings/logging", cookie: cookie,
                form: [("_csrf", csrf), ("troubleshooting", "start"), ("troubleshootingLevel", "trace"), ("minutes", "30")])
            #expect(start.status == 303)
            #expect(try await LoggingSettings.load(h.postgres).effectiveLevel() == "trace")
            let page = try await h.ui(.get, "/ui/settings", cookie: cookie)
            #expect(page.text.contains("Troubleshooting: logging at") && page.text.contains("End troubleshooting now"))
            _ = try await h.ui(.post, "/ui/settings/logging", cookie: cookie, form: [("_csrf", csrf), ("troubleshooting", "end")])
            #expect(try await LoggingSettings.load(h.postgres).effectiveLevel() == "warning")
            // Log out ends the session.
            let out = try await h.ui(.post, "/ui/logout", cookie: cookie, form: [("_csrf", csrf)])
            #expect(out.status == 303 && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await h.ui(.get, "/ui", cookie: cookie).status == 303)
        }
    }

    @Test func collectionValueMapsAndTheRepositoryConnectionTest() async throws {
        let tester: ConnectionTester = { repository, _, _ in
            repository.name == "left-repo" ? ConnectionCheck(.ok) : ConnectionCheck(.unreachable)
        }
        try await withAPI(tester: tester) { h in
            try await h.seedConfiguration()
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            var form: [(String, String)] = [
                ("_csrf", csrf), ("repository", "left-repo"), ("artifactType", "bug"), ("projects", "demo"), ("model", "Defect"),
                ("fields.0.field", "summary"), ("fields.0.modelField", "title"), ("fields.0.valueMap", ""),
                ("fields.1.field", "state"), ("fields.1.modelField", "status"), ("fields.1.valueMap", "new, fresh = New; closed done"),
            ]
            let bad = try await h.ui(.post, "/ui/collections/left-bugs", cookie: cookie, form: form)
            #expect(bad.status == 422 && bad.text.contains("fields[1].valueMap") && bad.text.contains("value=\"new, fresh = New; closed done\""))
            form[form.count - 1] = ("fields.1.valueMap", "new, fresh = New; closed = Done")
            let saved = try await h.ui(.post, "/ui/collections/left-bugs", cookie: cookie, form: form)
            #expect(saved.status == 303, "\(saved.text.prefix(400))")
            let collection = try #require(try await h.api.config.export().collections.first { $0.name == "left-bugs" })
            let state = try #require(collection.fields.first { $0.field == "state" })
            #expect(state.valueMap.map(\.repository) == [["new", "fresh"], ["closed"]] && state.valueMap.map(\.model) == ["New", "Done"])
            let edit = try await h.ui(.get, "/ui/collections/left-bugs", cookie: cookie)
            #expect(edit.text.contains("value=\"new, fresh = New; closed = Done\""))
            // Test connection: success and failure, both shown on the repository's page.
            let ok = try await h.ui(.post, "/ui/repositories/left-repo/test", cookie: cookie, form: [("_csrf", csrf)])
            #expect(ok.status == 303 && ok.flash?.hasPrefix("Connection works") == true)
            let failed = try await h.ui(.post, "/ui/repositories/right-repo/test", cookie: cookie, form: [("_csrf", csrf)])
            let location = try #require(failed.location)
            let raw = try #require(failed.headers[.setCookie]?.split(separator: ";").first?.dropFirst("tandem_flash=".count))
            let page = try await h.ui(.get, location, cookie: cookie, flash: String(raw))
            #expect(
                page.text.contains(
                    "<div class=\"notice err\" role=\"alert\">&#39;right-repo&#39; failed the connection test (unreachable): the server could not be reached"
                ))
            // Shown once: the page forgets it.
            #expect(page.headers[.setCookie]?.hasPrefix("tandem_flash=; Path=/ui; Max-Age=0") == true)
            // A message in the address is not shown.
            let spoofed = try await h.ui(.get, "/ui/repositories?notice=Call%20555&problem=Call%20555", cookie: cookie)
            #expect(!spoofed.text.contains("Call 555"))
        }
    }

    @Test func queuesPauseAndResumeARepository() async throws {
        try await withAPI { h in
            try await h.seedConfiguration()
            let queue = try #require(h.api.queue)
            try await queue.setLimits(RepositoryLimits(maxConcurrency: 3, eventsPerMinute: 120), repository: "left-repo")
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            let page = try await h.ui(.get, "/ui/queues", cookie: cookie)
            #expect(page.status == 200 && page.text.contains("left-repo") && page.text.contains("0 / 3") && page.text.contains("120/min"))
            let paused = try await h.ui(.post, "/ui/queues/left-repo/pause", cookie: cookie, form: [("_csrf", csrf), ("minutes", "60")])
            #expect(paused.status == 303)
            let until = try await queue.queues().first { $0.repository == "left-repo" }?.pausedUntil
            #expect(until.map { $0 > Date().addingTimeInterval(50 * 60) } == true)
            #expect(try await h.ui(.get, "/ui/queues", cookie: cookie).text.contains("Resume"))
            let bad = try await h.ui(.post, "/ui/queues/left-repo/pause", cookie: cookie, form: [("_csrf", csrf), ("minutes", "0")])
            #expect(bad.status == 422)
            let unknown = try await h.ui(.post, "/ui/queues/made-up/pause", cookie: cookie, form: [("_csrf", csrf), ("minutes", "60")])
            #expect(unknown.status == 404)
            let resumed = try await h.ui(.post, "/ui/queues/left-repo/resume", cookie: cookie, form: [("_csrf", csrf)])
            #expect(resumed.status == 303)
            let after = try await queue.queues().first { $0.repository == "left-repo" }?.pausedUntil
            #expect(after.map { $0 <= Date() } ?? true)
            // Process All Artifacts from the integration's page becomes a background job on the queues page.
            _ = try await h.api.config.put(
                .integrations, name: nil,
                body: .object(["name": .string("bugs"), "left": .string("left-bugs"), "right": .string("right-bugs")]), create: true, actor: "test")
            #expect(try await h.ui(.get, "/ui/queues", cookie: cookie).text.contains("No background jobs"))
            let requested = try await h.ui(.post, "/ui/integrations/bugs/process-all", cookie: cookie, form: [("_csrf", csrf)])
            #expect(requested.status == 303 && requested.flash?.hasPrefix("Process All Artifacts requested") == true, "\(requested.text.prefix(300))")
            let jobs = try await h.ui(.get, "/ui/queues", cookie: cookie)
            #expect(jobs.text.contains("<td>process-all</td><td>bugs</td>"))
        }
    }

    @Test func withoutTheMasterKeyTheConfigurationIsReadOnly() async throws {
        try await withAPI(withMasterKey: false) { h in
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            let list = try await h.ui(.get, "/ui/repositories", cookie: cookie)
            #expect(list.status == 200 && list.text.contains("no master key") && !list.text.contains("id=\"new-repository\""))
            let before = try await h.snapshot()
            let refused = try await h.ui(
                .post, "/ui/repositories/new", cookie: cookie,
                form: [("_csrf", csrf), ("name", "x"), ("type", "memory"), ("url", "http://memory.invalid/x"), ("auth.kind", "none")])
            #expect(refused.status == 503 && refused.text.contains("master key"))
            #expect(try await h.snapshot() == before)
        }
    }

    @Test func adminsManageUsersAndOthersCannot() async throws {
        try await withAPI { h in
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            let weak = try await h.ui(
                .post, "/ui/users", cookie: cookie, form: [("_csrf", csrf), ("username", "carol"), ("password", "short"), ("role", "user")])
            #expect(weak.status == 422 && weak.text.contains("password:") && weak.text.contains("value=\"carol\""))
            let noRole = try await h.ui(
                .post, "/ui/users", cookie: cookie, form: [("_csrf", csrf), ("username", "carol"), ("password", "a fine passphrase")])
            #expect(noRole.status == 422 && noRole.text.contains("roles:"))
            let added = try await h.ui(
                .post, "/ui/users", cookie: cookie,
                form: [("_csrf", csrf), ("username", "carol"), ("displayName", "Carol <C>"), ("password", "a fine passphrase"), ("role", "user")])
            #expect(added.status == 303)
            let list = try await h.ui(.get, "/ui/users", cookie: cookie)
            #expect(list.text.contains("Carol &lt;C&gt;") && list.text.contains("/ui/users/carol"))
            let roles = try await h.ui(
                .post, "/ui/users/carol", cookie: cookie,
                form: [("_csrf", csrf), ("change", "roles"), ("role", "troubleshooting"), ("role", "view-pairs")])
            #expect(roles.status == 303)
            #expect(try await h.api.auth.user(named: "carol")?.roles == [.troubleshooting, .viewPairs])
            let carol = try await h.uiLogin("carol", "a fine passphrase")
            #expect(try await h.ui(.get, "/ui/users", cookie: carol.cookie).status == 403)
            #expect(!(try await h.ui(.get, "/ui", cookie: carol.cookie).text.contains("href=\"/ui/users\"")))
            let forced = try await h.ui(
                .post, "/ui/users/admin", cookie: carol.cookie, form: [("_csrf", carol.csrf), ("change", "roles"), ("role", "user")])
            #expect(forced.status == 403)
            let disabled = try await h.ui(.post, "/ui/users/carol", cookie: cookie, form: [("_csrf", csrf), ("change", "disable")])
            #expect(disabled.status == 303)
            #expect(try await h.api.auth.user(named: "carol")?.disabled == true)
            let yourself = try await h.ui(.post, "/ui/users/admin", cookie: cookie, form: [("_csrf", csrf), ("change", "disable")])
            #expect(yourself.status == 409)
        }
    }

    @Test func theJSONTabEditsWhatTheFormCannotAndRefusalsKeepTheText() async throws {
        try await withAPI { h in
            try await h.seedConfiguration()
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            // Created from JSON: a conditional route, a filter and a schedule, none of which the form edits.
            let created = """
                {"name": "routed", "left": "left-bugs", "right": "right-bugs", "creation": "left-to-right",
                 "routes": [{"from": "left", "sourceProjects": ["demo"], "field": "status", "targets": {"demo": ["New", "Done"]}}],
                 "filters": {"scope": "creation-only", "conditions": [{"field": "status", "operator": "equals", "value": "New"}]},
                 "schedule": {"changeDetection": {"interval": "5m"}}}
                """
            let create = try await h.ui(.post, "/ui/integrations/new/json", cookie: cookie, form: [("_csrf", csrf), ("json", created)])
            #expect(create.status == 303 && create.location == "/ui/integrations/routed/json", "\(create.status) \(create.text.prefix(500))")
            #expect(create.flash == "Created integration 'routed'.")
            let stored = try #require(try await h.api.config.get(.integrations, name: "routed"))
            #expect(EntityJSON.first(stored["routes"])?["field"] == .string("status") && stored["filters"]?["scope"] == .string("creation-only"))
            let configured = try #require(try await h.api.config.export().integrations.first { $0.name == "routed" })
            #expect(configured.schedule.changeDetection == .interval(ConfigDuration(seconds: 300)))
            // Shown indented, without `running`, beside the members the API documents; the form links to it.
            let page = try await h.ui(.get, "/ui/integrations/routed/json", cookie: cookie)
            #expect(page.status == 200 && page.text.contains("&quot;field&quot;: &quot;status&quot;") && page.text.contains("id=\"save-json\""))
            #expect(!page.text.contains("&quot;running&quot;") && page.text.contains("<code>conditionalFieldFlows</code>"))
            let form = try await h.ui(.get, "/ui/integrations/routed", cookie: cookie)
            #expect(form.text.contains("href=\"/ui/integrations/routed/json\"") && form.text.contains("routes (conditional or several) are kept"))
            // Refusals: 422, the reason with its line or member, the typed text shown again, nothing stored changes.
            let before = try await h.snapshot()
            let broken = "{\n  \"name\": \"routed\",\n  \"left\": <left>\n}"
            let syntax = try await h.ui(.post, "/ui/integrations/routed/json", cookie: cookie, form: [("_csrf", csrf), ("json", broken)])
            #expect(syntax.status == 422 && syntax.text.contains("line 3, column 11"), "\(syntax.text.prefix(2000))")
            #expect(syntax.text.contains("&quot;left&quot;: &lt;left&gt;"))
            let badSide = created.replacingOccurrences(of: "\"from\": \"left\"", with: "\"from\": \"up\"")
            let member = try await h.ui(.post, "/ui/integrations/routed/json", cookie: cookie, form: [("_csrf", csrf), ("json", badSide)])
            #expect(member.status == 422 && member.text.contains("routes[0].from"), "\(member.text.prefix(2000))")
            let renamed = created.replacingOccurrences(of: "\"routed\"", with: "\"other\"")
            let rename = try await h.ui(.post, "/ui/integrations/routed/json", cookie: cookie, form: [("_csrf", csrf), ("json", renamed)])
            #expect(rename.status == 422 && rename.text.contains("renaming is not supported"))
            let notObject = try await h.ui(.post, "/ui/models/Defect/json", cookie: cookie, form: [("_csrf", csrf), ("json", "[1, 2]")])
            #expect(notObject.status == 422 && notObject.text.contains("expected a JSON object"))
            let forged = try await h.ui(.post, "/ui/integrations/routed/json", cookie: cookie, form: [("_csrf", "forged"), ("json", "{}")])
            #expect(forged.status == 403)
            #expect(try await h.ui(.get, "/ui/integrations/nothing/json", cookie: cookie).status == 404)
            #expect(try await h.snapshot() == before)
            // A collection mapping's transform and a value map's default, from the page's own text: a transform the field's
            // type cannot take is refused with the rule's code; the default is saved.
            let collection = try await h.ui(.get, "/ui/collections/left-bugs/json", cookie: cookie)
            let text = try #require(Self.textarea(in: collection.text))
            func mapping(_ modelField: String, _ extra: String) -> String {
                text.replacingOccurrences(of: "\"modelField\": \"\(modelField)\"", with: "\"modelField\": \"\(modelField)\",\n      \(extra)")
            }
            #expect(mapping("title", "") != text && mapping("status", "") != text, "\(text)")
            let wrongTransform = try await h.ui(
                .post, "/ui/collections/left-bugs/json", cookie: cookie,
                form: [("_csrf", csrf), ("json", mapping("title", "\"toRepository\": \"rich-text-to-plain\""))])
            #expect(wrongTransform.status == 422 && Self.alert(in: wrongTransform.text).contains("17002E"), "\(Self.alert(in: wrongTransform.text))")
            let saved = try await h.ui(
                .post, "/ui/collections/left-bugs/json", cookie: cookie, form: [("_csrf", csrf), ("json", mapping("status", "\"default\": \"New\""))])
            #expect(saved.status == 303, "\(Self.alert(in: saved.text))")
            #expect(try await h.api.config.export().collections.first { $0.name == "left-bugs" }?.fields.last?.defaultValue == "New")
            // A repository's secret shows as {"set": true}; saving the text back keeps it.
            _ = try await h.api.config.put(
                .repositories, name: nil,
                body: .object([
                    "name": .string("keyed"), "type": .string("redmine"), "url": .string("http://127.0.0.1:9/r"),
                    "auth": .object(["kind": .string("api-key"), "key": .string("the-secret-key")]),
                ]), create: true, actor: "test")
            let repository = try await h.ui(.get, "/ui/repositories/keyed/json", cookie: cookie)
            let repositoryText = try #require(Self.textarea(in: repository.text))
            #expect(repositoryText.contains("\"key\": {\"set\": true}") && !repository.text.contains("the-secret-key"), "\(repositoryText)")
            let resaved = try await h.ui(
                .post, "/ui/repositories/keyed/json", cookie: cookie,
                form: [("_csrf", csrf), ("json", repositoryText.replacingOccurrences(of: "127.0.0.1:9/r", with: "127.0.0.1:9/s"))])
            #expect(resaved.status == 303, "\(Self.alert(in: resaved.text))")
            let (runtime, secrets) = try await h.api.config.loadForRuntime()
            #expect(runtime.repositories.first { $0.name == "keyed" }?.url == "http://127.0.0.1:9/s")
            #expect(secrets["keyed"]?.values.contains("the-secret-key") == true)
            // Read-only roles see the text, cannot save it.
            let store = AuthStore(client: h.postgres, hasher: testHasher, logger: quiet)
            _ = try await store.createUser(username: "trouble", password: "password-of-trouble", roles: [.troubleshooting], actor: "test")
            let trouble = try await h.uiLogin("trouble", "password-of-trouble")
            let readOnly = try await h.ui(.get, "/ui/integrations/routed/json", cookie: trouble.cookie)
            #expect(readOnly.status == 200 && readOnly.text.contains(" disabled>") && !readOnly.text.contains("save-json"))
            #expect(try await h.ui(.get, "/ui/integrations/new/json", cookie: trouble.cookie).status == 403)
            let refused = try await h.ui(
                .post, "/ui/integrations/routed/json", cookie: trouble.cookie, form: [("_csrf", trouble.csrf), ("json", created)])
            #expect(refused.status == 403)
        }
    }

    @Test func theAuditLogIsTheConfigurationHistoryWithRevertAndRestore() async throws {
        try await withAPI { h in
            try await h.seedConfiguration()
            let (cookie, csrf) = try await h.uiLogin("admin", APIHarness.adminPassword)
            let config = h.api.config
            _ = try await config.put(
                .integrations, name: nil,
                body: .object(["name": .string("bugs"), "left": .string("left-bugs"), "right": .string("right-bugs"), "creation": .string("two-way")]
                ),
                create: true, actor: "alice")
            _ = try await config.put(
                .integrations, name: "bugs",
                body: .object([
                    "left": .string("left-bugs"), "right": .string("right-bugs"), "creation": .string("left-to-right"), "comments": .string("none"),
                ]), create: false, actor: "bob")
            // The entity's History tab: who, when, the members before and after, a Revert button.
            let history = try await h.ui(.get, "/ui/integrations/bugs/history", cookie: cookie)
            #expect(history.status == 200 && history.text.contains("id=\"tab-history\" class=\"active\""), "\(history.status)")
            #expect(history.text.contains("<strong>bob</strong>") && history.text.contains("<strong>alice</strong>"))
            #expect(history.text.contains("<code>&quot;none&quot;</code>") && history.text.contains("<code>&quot;left-to-right&quot;</code>"))
            #expect(history.text.contains("<span class=\"muted\">default</span>"))  // two-way, the default, is not stored
            #expect(history.text.contains(">Revert</button>"))
            #expect(try await h.ui(.get, "/ui/integrations/bugs", cookie: cookie).text.contains("href=\"/ui/integrations/bugs/history\""))
            // Revert bob's change: both members go back, as a new audited update by the admin.
            let entries = try await AuditLog.list(h.postgres, .init(entity: "integration", entityName: "bugs"))
            let bobs = try #require(entries.first { $0.actor == "bob" })
            let reverted = try await h.ui(
                .post, "/ui/audit/\(bobs.id)/revert", cookie: cookie, form: [("_csrf", csrf), ("back", "/ui/integrations/bugs/history")])
            #expect(reverted.status == 303 && reverted.location == "/ui/integrations/bugs/history", "\(reverted.status) \(reverted.text.prefix(300))")
            #expect(reverted.flash?.hasPrefix("Reverted comments, creation of the integration 'bugs'") == true, "\(reverted.flash ?? "")")
            let restoredIntegration = try #require(try await config.export().integrations.first { $0.name == "bugs" })
            #expect(restoredIntegration.creation == .twoWay && restoredIntegration.comments == .both)
            #expect(try await AuditLog.list(h.postgres, .init(entity: "integration", entityName: "bugs", limit: 1)).first?.actor == "admin")
            let again = try await h.ui(.post, "/ui/audit/\(bobs.id)/revert", cookie: cookie, form: [("_csrf", csrf)])
            #expect(again.status == 303 && again.location == "/ui/audit" && again.flash?.contains("already has the values") == true)
            // A run is not undone here; a change that recorded only a secret has nothing to go back to.
            try await config.setRunning("bugs", running: true, actor: "admin")
            let run = try #require(try await AuditLog.list(h.postgres, .init(entity: "integration", entityName: "bugs", limit: 1)).first)
            #expect(run.action == "run")
            let notRun = try await h.ui(.post, "/ui/audit/\(run.id)/revert", cookie: cookie, form: [("_csrf", csrf)])
            #expect(notRun.flash?.contains("only updates and deletions") == true, "\(notRun.flash ?? "")")
            try await config.setRunning("bugs", running: false, actor: "admin")
            _ = try await config.put(
                .repositories, name: nil,
                body: .object([
                    "name": .string("keyed"), "type": .string("redmine"), "url": .string("http://127.0.0.1:9/r"),
                    "auth": .object(["kind": .string("api-key"), "key": .string("first-key")]),
                ]), create: true, actor: "admin")
            _ = try await config.put(
                .repositories, name: "keyed",
                body: .object([
                    "type": .string("redmine"), "url": .string("http://127.0.0.1:9/r"),
                    "auth": .object(["kind": .string("api-key"), "key": .string("second-key")]),
                ]), create: false, actor: "admin")
            let rekey = try #require(try await AuditLog.list(h.postgres, .init(entity: "repository", entityName: "keyed", limit: 1)).first)
            let noValues = try await h.ui(.post, "/ui/audit/\(rekey.id)/revert", cookie: cookie, form: [("_csrf", csrf)])
            #expect(noValues.flash?.contains("recorded no values") == true, "\(noValues.flash ?? "")")
            #expect(try await h.ui(.get, "/ui/repositories/keyed/history", cookie: cookie).text.contains("credentials"))
            // A deleted integration: its history stays, and Restore creates it again (stopped).
            let deleted = try await h.ui(.post, "/ui/integrations/bugs/delete", cookie: cookie, form: [("_csrf", csrf)])
            #expect(deleted.status == 303)
            let log = try await h.ui(.get, "/ui/audit?entity=integration", cookie: cookie)
            #expect(log.status == 200 && log.text.contains(">Restore</button>") && !log.text.contains("<td>repository"), "\(log.status)")
            let gone = try await h.ui(.get, "/ui/integrations/bugs/history", cookie: cookie)
            #expect(gone.status == 200 && gone.text.contains("its history is kept"))
            let deletion = try #require(try await AuditLog.list(h.postgres, .init(entity: "integration", entityName: "bugs", limit: 1)).first)
            #expect(deletion.action == "delete")
            let restore = try await h.ui(.post, "/ui/audit/\(deletion.id)/revert", cookie: cookie, form: [("_csrf", csrf)])
            #expect(restore.status == 303 && restore.flash?.hasPrefix("Restored the integration 'bugs'") == true, "\(restore.flash ?? "")")
            let back = try #require(try await config.export().integrations.first { $0.name == "bugs" })
            #expect(back.creation == .twoWay && back.running == false)
            let twice = try await h.ui(.post, "/ui/audit/\(deletion.id)/revert", cookie: cookie, form: [("_csrf", csrf)])
            #expect(twice.flash?.contains("exists again") == true)
            // Filters: by actor.
            let bobsOnly = try await h.ui(.get, "/ui/audit?actor=bob", cookie: cookie)
            #expect(bobsOnly.text.contains("<strong>bob</strong>") && !bobsOnly.text.contains("<strong>alice</strong>"))
            #expect(try await h.ui(.post, "/ui/audit/999999/revert", cookie: cookie, form: [("_csrf", csrf)]).status == 404)
            // Read-only roles read the history, cannot revert; a forged token changes nothing.
            let store = AuthStore(client: h.postgres, hasher: testHasher, logger: quiet)
            _ = try await store.createUser(username: "trouble", password: "password-of-trouble", roles: [.troubleshooting], actor: "test")
            let trouble = try await h.uiLogin("trouble", "password-of-trouble")
            let readOnly = try await h.ui(.get, "/ui/audit", cookie: trouble.cookie)
            #expect(readOnly.status == 200 && readOnly.text.contains("<strong>bob</strong>") && !readOnly.text.contains(">Revert</button>"))
            #expect(readOnly.text.contains("href=\"/ui/audit\""))
            let before = try await h.snapshot()
            #expect(try await h.ui(.post, "/ui/audit/\(bobs.id)/revert", cookie: trouble.cookie, form: [("_csrf", trouble.csrf)]).status == 403)
            #expect(try await h.ui(.post, "/ui/audit/\(bobs.id)/revert", cookie: cookie, form: [("_csrf", "forged")]).status == 403)
            #expect(try await h.snapshot() == before)
            let viewer = try await store.createUser(username: "viewer", password: "password-of-viewer", roles: [.viewPairs], actor: "test")
            #expect(viewer.username == "viewer")
            let pairsOnly = try await h.uiLogin("viewer", "password-of-viewer")
            #expect(try await h.ui(.get, "/ui/audit", cookie: pairsOnly.cookie).status == 403)
        }
    }

    @Test func everyUserManagesTheirPasswordAndTokensAndAdminsSetPasswords() async throws {
        try await withAPI { h in
            let store = AuthStore(client: h.postgres, hasher: testHasher, logger: quiet)
            _ = try await store.createUser(username: "dana", password: "password-of-dana", roles: [.troubleshooting], actor: "test")
            let dana = try await h.uiLogin("dana", "password-of-dana")
            let page = try await h.ui(.get, "/ui/account", cookie: dana.cookie)
            #expect(page.status == 200 && page.text.contains("No API tokens") && page.text.contains("read-configuration"))
            #expect(page.text.contains("href=\"/ui/account\" id=\"account\""))
            // A token: shown once on the answer page, never in a cookie; it works on the API; listed with its prefix; revoked.
            let created = try await h.ui(
                .post, "/ui/account/tokens", cookie: dana.cookie, form: [("_csrf", dana.csrf), ("name", "nightly export"), ("expiresInDays", "30")])
            #expect(created.status == 201 && created.headers[.setCookie] == nil, "\(created.status)")
            let token = try #require(Self.between(created.text, "<pre class=\"token\">", "</pre>"))
            #expect(token.count >= 30)
            let me = try await h.call(.get, "/api/v1/me", as: .token(token))
            #expect(me.status == 200 && me.json["user"]?["username"]?.stringValue == "dana")
            let listed = try await h.ui(.get, "/ui/account", cookie: dana.cookie)
            #expect(listed.text.contains("nightly export") && !listed.text.contains(token) && listed.text.contains(String(token.prefix(6))))
            let record = try #require(try await store.tokens(of: "dana").first)
            #expect(record.expiresAt != nil)
            let revoked = try await h.ui(.post, "/ui/account/tokens/\(record.id)/revoke", cookie: dana.cookie, form: [("_csrf", dana.csrf)])
            #expect(revoked.status == 303 && revoked.flash?.contains("nightly export") == true)
            #expect(try await h.call(.get, "/api/v1/me", as: .token(token)).status == 401)
            // Bad input: a blank name, a non-number expiry; someone else's token is not found.
            let blank = try await h.ui(
                .post, "/ui/account/tokens", cookie: dana.cookie, form: [("_csrf", dana.csrf), ("name", " "), ("expiresInDays", "")])
            #expect(blank.status == 422 && blank.text.contains("name: must not be empty"))
            let days = try await h.ui(
                .post, "/ui/account/tokens", cookie: dana.cookie, form: [("_csrf", dana.csrf), ("name", "x"), ("expiresInDays", "soon")])
            #expect(days.status == 422 && days.text.contains("expiresInDays") && days.text.contains("value=\"x\""))
            let (_, adminRecord) = try await store.createToken(for: "admin", name: "admins", expiresInDays: nil, actor: "admin")
            let foreign = try await h.ui(.post, "/ui/account/tokens/\(adminRecord.id)/revoke", cookie: dana.cookie, form: [("_csrf", dana.csrf)])
            #expect(foreign.status == 404)
            #expect(try await store.tokens(of: "admin").first { $0.id == adminRecord.id }?.revokedAt == nil)
            // The password: the current one is checked, the two new ones must match, weak ones are refused; then it works.
            let wrong = try await h.ui(
                .post, "/ui/account/password", cookie: dana.cookie,
                form: [
                    ("_csrf", dana.csrf), ("currentPassword", "nope-nope-nope"), ("newPassword", "a new passphrase"),
                    ("confirmPassword", "a new passphrase"),
                ])
            #expect(wrong.status == 422 && wrong.text.contains("currentPassword: is not your current password"))
            let differ = try await h.ui(
                .post, "/ui/account/password", cookie: dana.cookie,
                form: [
                    ("_csrf", dana.csrf), ("currentPassword", "password-of-dana"), ("newPassword", "a new passphrase"),
                    ("confirmPassword", "another"),
                ])
            #expect(differ.status == 422 && differ.text.contains("confirmPassword"))
            let weak = try await h.ui(
                .post, "/ui/account/password", cookie: dana.cookie,
                form: [("_csrf", dana.csrf), ("currentPassword", "password-of-dana"), ("newPassword", "short"), ("confirmPassword", "short")])
            #expect(weak.status == 422 && weak.text.contains("newPassword"))
            let changed = try await h.ui(
                .post, "/ui/account/password", cookie: dana.cookie,
                form: [
                    ("_csrf", dana.csrf), ("currentPassword", "password-of-dana"), ("newPassword", "a new passphrase"),
                    ("confirmPassword", "a new passphrase"),
                ])
            #expect(changed.status == 303 && changed.flash?.hasPrefix("Password changed") == true, "\(changed.status) \(changed.text.prefix(300))")
            #expect(try await h.ui(.get, "/ui/account", cookie: dana.cookie).status == 200)  // this session is kept
            _ = try await h.uiLogin("dana", "a new passphrase")
            // An admin sets another user's password; a user cannot.
            let (adminCookie, adminCSRF) = try await h.uiLogin("admin", APIHarness.adminPassword)
            let set = try await h.ui(
                .post, "/ui/users/dana", cookie: adminCookie, form: [("_csrf", adminCSRF), ("change", "password"), ("password", "set by the admin")])
            #expect(set.status == 303 && set.flash?.contains("their sessions have ended") == true)
            #expect(try await h.ui(.get, "/ui/account", cookie: dana.cookie).status == 303)  // dana's session ended
            _ = try await h.uiLogin("dana", "set by the admin")
            let weakSet = try await h.ui(
                .post, "/ui/users/dana", cookie: adminCookie, form: [("_csrf", adminCSRF), ("change", "password"), ("password", "x")])
            #expect(weakSet.status == 422 && weakSet.text.contains("dana: password"))
            let forged = try await h.ui(.post, "/ui/account/tokens", cookie: adminCookie, form: [("_csrf", "forged"), ("name", "t")])
            #expect(forged.status == 403)
        }
    }

    static func between(_ text: String, _ start: String, _ end: String) -> String? {
        guard let a = text.range(of: start), let b = text.range(of: end, range: a.upperBound..<text.endIndex) else { return nil }
        return String(text[a.upperBound..<b.lowerBound])
    }

    @Test func yourSessionsAreListedAndTheOthersCanBeSignedOut() async throws {
        try await withAPI { h in
            let first = try await h.uiLogin("admin", APIHarness.adminPassword)
            let second = try await h.uiLogin("admin", APIHarness.adminPassword)
            let page = try await h.ui(.get, "/ui/account", cookie: first.cookie)
            let table = try #require(Self.between(page.text, "<table id=\"sessions\">", "</table>"))
            #expect(table.components(separatedBy: "<tr>").count - 1 == 3, "\(table)")  // the head and two sessions
            #expect(table.components(separatedBy: "this one").count - 1 == 1 && page.text.contains("Sign out 1 other session"))
            #expect(!page.text.contains(first.cookie) && !page.text.contains(second.cookie))
            let ended = try await h.ui(.post, "/ui/account/sessions/end-others", cookie: first.cookie, form: [("_csrf", first.csrf)])
            #expect(ended.status == 303 && ended.flash == "Signed out 1 other session; this one stays.", "\(ended.flash ?? "")")
            #expect(try await h.ui(.get, "/ui/account", cookie: second.cookie).status == 303)  // sent to the login page
            let after = try await h.ui(.get, "/ui/account", cookie: first.cookie)
            #expect(after.status == 200 && after.text.contains("No other sessions."))
            let audit = try await AuditLog.list(h.postgres, .init(entity: "user", entityName: "admin", limit: 1))
            #expect(audit.first?.action == "end-sessions" && audit.first?.changes["sessions"] == .int(1))
            #expect(try await h.ui(.post, "/ui/account/sessions/end-others", cookie: first.cookie, form: [("_csrf", "forged")]).status == 403)
        }
        #expect(
            WebUI.browserName("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36")
                == "Chrome (headless) on Linux")
        #expect(WebUI.browserName("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0") == "Firefox on Windows")
        #expect(WebUI.browserName(nil) == "Unknown browser" && WebUI.browserName("curl/8.5.0") == "curl")
    }

    enum EntityJSON {
        static func first(_ node: JSONNode?) -> JSONNode? {
            if case .array(let items)? = node { return items.first }
            return nil
        }
    }

    /// A page's error notice.
    static func alert(in page: String) -> String {
        guard let start = page.range(of: "role=\"alert\">") else { return "(no alert)" }
        return String(page[start.upperBound...].prefix { $0 != "<" })
    }

    /// The text of a page's textarea, unescaped.
    static func textarea(in page: String) -> String? {
        guard let open = page.range(of: "<textarea"), let start = page[open.upperBound...].firstIndex(of: ">"),
            let close = page.range(of: "</textarea>", range: start..<page.endIndex)
        else { return nil }
        return String(page[page.index(after: start)..<close.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
