import Foundation
import Hummingbird
import Logging
import Postgres
import Synchronization
import TandemConfig
import TandemCore
import TandemServer
import TandemStore
import Testing

@Suite("API resources", .serialized, .timeLimit(.minutes(5)))
struct APIResourceTests {
    static let repository =
        #"{"name":"redmine","type":"redmine","url":"https://redmine.example.com","auth":{"kind":"basic","username":"sync","password":"s3cret-VALUE"}}"#
    static let model =
        #"{"name":"bug","fields":[{"name":"title","type":"string","required":true},{"name":"status","type":"single-select","values":["open","closed"]}]}"#
    static func collection(_ name: String, repository: String = "redmine") -> String {
        #"{"name":"\#(name)","repository":"\#(repository)","artifactType":"bug","projects":["1"],"model":"bug","fields":[{"field":"subject","modelField":"title"},{"field":"status_id","modelField":"status","valueMap":[{"repository":["1"],"model":"open"},{"repository":["5"],"model":"closed"}]}]}"#
    }
    static let integration =
        #"{"name":"bugs","left":"left","right":"right","fieldFlows":{"title":{"leftToRight":"update-normally","rightToLeft":"update-normally"}}}"#

    @Test func usersCRUDWithRolesAndTheLastAdminProtected() async throws {
        try await withAPI { api in
            let created = try await api.call(
                .post, "/api/v1/users", body: #"{"username":"fay","password":"fay-password","roles":["user","view-pairs"],"displayName":"Fay"}"#)
            #expect(created.status == 201)
            #expect(created.json["roles"] == .array([.string("user"), .string("view-pairs")]))
            #expect(!created.text.contains("fay-password") && !created.text.contains("scrypt"))
            #expect(try await api.call(.get, "/api/v1/users").json["items"]?.arrayValue?.count == 2)
            #expect(try await api.call(.get, "/api/v1/users/fay").json["displayName"]?.stringValue == "Fay")
            #expect(try await api.call(.get, "/api/v1/users/nobody").status == 404)
            let duplicate = try await api.call(.post, "/api/v1/users", body: #"{"username":"fay","roles":["user"]}"#)
            #expect(duplicate.status == 409 && duplicate.field == "username")
            let patched = try await api.call(
                .patch, "/api/v1/users/fay", body: #"{"roles":["troubleshooting"],"email":"fay@example.com","displayName":null}"#)
            #expect(patched.status == 200 && patched.json["roles"] == .array([.string("troubleshooting")]) && patched.json["displayName"] == nil)
            #expect(try await api.call(.put, "/api/v1/users/fay/password", body: #"{"password":"new-fay-password"}"#).status == 204)
            _ = try await api.login("fay", "new-fay-password")
            // Own password: needs the current one.
            let (session, csrf) = try await api.login("fay", "new-fay-password")
            let wrong = try await api.call(
                .put, "/api/v1/me/password", as: .session(cookie: session, csrf: csrf),
                body: #"{"currentPassword":"nope-nope","newPassword":"other-password"}"#)
            #expect(wrong.status == 422 && wrong.field == "currentPassword")
            #expect(
                try await api.call(
                    .put, "/api/v1/me/password", as: .session(cookie: session, csrf: csrf),
                    body: #"{"currentPassword":"new-fay-password","newPassword":"other-password"}"#
                ).status == 204)
            #expect(try await api.call(.get, "/api/v1/me", as: .session(cookie: session, csrf: nil)).status == 200)  // own session kept
            // Bad inputs, each naming its field; nothing changes.
            let before = try await api.snapshot()
            for (body, field) in [
                (#"{"username":"x y","roles":["user"]}"#, "username"), (#"{"username":"gus","roles":[]}"#, "roles"),
                (#"{"username":"gus","roles":["root"]}"#, "roles[0]"), (#"{"username":"gus","roles":"user"}"#, "roles"),
                (#"{"username":"gus","roles":["user"],"password":"short"}"#, "password"), (#"{"username":5,"roles":["user"]}"#, "username"),
                (#"{"username":"gus","roles":["user"],"admin":true}"#, "admin"), (#"{"roles":["user"]}"#, "username"), (#"[]"#, ""),
            ] {
                let answer = try await api.call(.post, "/api/v1/users", body: body)
                #expect(answer.status == 422, "\(body): \(answer.status) \(answer.text)")
                #expect(answer.field == field, "\(body): \(answer.text)")
            }
            #expect(try await api.call(.patch, "/api/v1/users/fay", body: #"{"disabled":"yes"}"#).field == "disabled")
            // The last admin can be neither demoted, disabled nor deleted.
            #expect(try await api.call(.patch, "/api/v1/users/admin", body: #"{"roles":["user"]}"#).status == 409)
            #expect(try await api.call(.patch, "/api/v1/users/admin", body: #"{"disabled":true}"#).status == 409)
            #expect(try await api.call(.delete, "/api/v1/users/admin").status == 409)
            #expect(try await api.snapshot() == before)
            #expect(try await api.call(.delete, "/api/v1/users/fay").status == 204)
            #expect(try await api.call(.delete, "/api/v1/users/fay").status == 404)
            // Every change is in the audit log, with who and what.
            let audit = try await api.call(.get, "/api/v1/audit?entity=user&name=fay")
            let actions = audit.json["items"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? []
            #expect(actions == ["delete", "set-password", "set-password", "update", "create"])
            #expect(audit.json["items"]?.arrayValue?.first?["actor"]?.stringValue == "admin")
            #expect(!audit.text.contains("password\":\""))
        }
    }

    @Test func configurationEntitiesValidateLikeApplyAndNeverShowSecrets() async throws {
        try await withAPI { api in
            let repo = try await api.call(.post, "/api/v1/repositories", body: Self.repository)
            #expect(repo.status == 201)
            #expect(!repo.text.contains("s3cret-VALUE") && !repo.text.contains("${"))
            #expect(repo.json["auth"]?["password"] == .object(["set": .bool(true)]))
            // Stored encrypted: the plaintext is in no column.
            let raw = try await api.postgres.query("SELECT r::text FROM repositories r").first?.decode(String.self, at: 0) ?? ""
            #expect(!raw.contains("s3cret-VALUE"))
            #expect(try await api.call(.post, "/api/v1/repositories", body: Self.repository).status == 409)
            // Keep the stored secret with {"set": true}; change the URL's path (another host needs the secret again:
            // CredentialRedirectTests).
            let updated = try await api.call(
                .put, "/api/v1/repositories/redmine",
                body:
                    #"{"type":"redmine","url":"https://redmine.example.com/tracker","auth":{"kind":"basic","username":"sync","password":{"set":true}}}"#
            )
            #expect(updated.status == 200 && updated.json["url"]?.stringValue == "https://redmine.example.com/tracker")
            // The audit row says what changed, before and after; the secret appears only as {"set": true}.
            let update = try await api.call(.get, "/api/v1/audit?entity=repository&name=redmine&limit=1")
            let changes = update.json["items"]?.arrayValue?.first?["changes"]
            #expect(changes?["before"]?["url"]?.stringValue == "https://redmine.example.com")
            #expect(changes?["after"]?["url"]?.stringValue == "https://redmine.example.com/tracker")
            #expect(!update.text.contains("s3cret-VALUE"))
            let (_, secrets) = try await api.api.config.loadForRuntime()
            #expect(secrets["redmine"]?["auth"] == "s3cret-VALUE")
            #expect(
                try await api.call(
                    .post, "/api/v1/repositories", body: Self.repository.replacingOccurrences(of: "\"redmine\",\"type", with: "\"other\",\"type")
                ).status == 201)
            #expect(try await api.call(.post, "/api/v1/models", body: Self.model).status == 201)
            #expect(try await api.call(.post, "/api/v1/collections", body: Self.collection("left")).status == 201)
            #expect(try await api.call(.post, "/api/v1/collections", body: Self.collection("right", repository: "other")).status == 201)
            let integration = try await api.call(.post, "/api/v1/integrations", body: Self.integration)
            #expect(integration.status == 201, "\(integration.text)")
            for section in ["repositories", "models", "collections", "integrations"] {
                let list = try await api.call(.get, "/api/v1/\(section)")
                #expect(list.status == 200 && list.json["items"]?.arrayValue?.isEmpty == false)
                #expect(!list.text.contains("s3cret-VALUE"))
            }
            for (section, name) in [("repositories", "redmine"), ("models", "bug"), ("collections", "left"), ("integrations", "bugs")] {
                let one = try await api.call(.get, "/api/v1/\(section)/\(name)")
                #expect(one.status == 200 && one.json["name"]?.stringValue == name, "\(section)/\(name): \(one.text)")
            }
            // Replacing a model (a field added) and a collection (a transition added) answers the stored entity.
            let model = try await api.call(
                .put, "/api/v1/models/bug",
                body:
                    #"{"fields":[{"name":"title","type":"string","required":true},{"name":"status","type":"single-select","values":["open","closed"]},{"name":"notes","type":"string"}]}"#
            )
            #expect(model.status == 200 && model.json["fields"]?.arrayValue?.count == 3, "\(model.text)")
            let collection = try await api.call(
                .put, "/api/v1/collections/left",
                body: Self.collection("left").replacingOccurrences(
                    of: #""model":"bug","#, with: #""model":"bug","statusField":"status_id","transitions":[{"from":"1","to":"5","name":"Close"}],"#))
            #expect(collection.status == 200 && collection.json["transitions"]?.arrayValue?.count == 1, "\(collection.text)")
            // Run and stop, each audited.
            let run = try await api.call(.post, "/api/v1/integrations/bugs/run")
            #expect(run.status == 200 && run.json["running"] == .bool(true))
            let busy = try await api.call(.delete, "/api/v1/integrations/bugs")
            #expect(busy.status == 409 && busy.message.contains("stop it first"))
            // A PUT without `running` keeps the state.
            #expect(try await api.call(.put, "/api/v1/integrations/bugs", body: Self.integration).json["running"] == .bool(true))
            #expect(try await api.call(.post, "/api/v1/integrations/bugs/stop").json["running"] == nil)
            #expect(try await api.call(.post, "/api/v1/integrations/nope/run").status == 404)
            let history = try await api.call(.get, "/api/v1/audit?entity=integration&name=bugs")
            #expect(history.json["items"]?.arrayValue?.compactMap { $0["action"]?.stringValue } == ["stop", "run", "create"])

            // Refusals: each a 4xx naming the field, and nothing stored changes.
            let before = try await api.snapshot()
            let cases: [(String, String, String, Int, String?)] = [
                ("POST", "/api/v1/repositories", #"{"name":"x","type":"redmine","url":5}"#, 422, "url"),
                ("POST", "/api/v1/repositories", #"{"name":"x","type":"redmin","url":"https://x.example"}"#, 422, "type"),
                ("POST", "/api/v1/repositories", #"{"name":"x","type":"redmine","url":"ftp://x"}"#, 422, "url"),
                ("POST", "/api/v1/repositories", #"{"name":"x","type":"redmine","url":"https://x.example","colour":"red"}"#, 422, "colour"),
                (
                    "POST", "/api/v1/repositories",
                    #"{"name":"x","type":"redmine","url":"https://x.example","auth":{"kind":"basic","username":"u","password":{"set":true}}}"#, 422,
                    "auth.password"
                ),
                (
                    "POST", "/api/v1/repositories", #"{"name":"x","type":"redmine","url":"https://x.example","concurrencyLimit":"3"}"#, 422,
                    "concurrencyLimit"
                ),
                ("PUT", "/api/v1/repositories/redmine", #"{"name":"renamed","type":"redmine","url":"https://x.example"}"#, 422, "name"),
                ("PUT", "/api/v1/repositories/missing", #"{"type":"redmine","url":"https://x.example"}"#, 404, nil),
                ("POST", "/api/v1/models", #"{"name":"m2","fields":[{"name":"a","type":"nope"}]}"#, 422, "fields[0].type"),
                ("POST", "/api/v1/models", #"{"name":"m2","fields":[{"name":"a","type":"string","required":"yes"}]}"#, 422, "fields[0].required"),
                ("POST", "/api/v1/collections", Self.collection("c3", repository: "ghost"), 422, "repository"),
                ("POST", "/api/v1/integrations", #"{"name":"i2","left":"left","right":"left"}"#, 422, nil),
                (
                    "POST", "/api/v1/integrations",
                    #"{"name":"i2","left":"left","right":"right","fieldFlows":{"nofield":{"leftToRight":"update-normally"}}}"#, 422, nil
                ),
                // The model's fields are used by collections: removing one would break them → 409 naming what breaks.
                ("PUT", "/api/v1/models/bug", #"{"fields":[{"name":"title","type":"string"}]}"#, 409, nil),
                ("DELETE", "/api/v1/repositories/redmine", "", 409, nil),
                ("DELETE", "/api/v1/models/bug", "", 409, nil),
                ("DELETE", "/api/v1/collections/left", "", 409, nil),
                ("DELETE", "/api/v1/integrations/ghost", "", 404, nil),
                ("POST", "/api/v1/repositories", #"{"name":"x","type":"redmine""#, 400, ""),
                ("POST", "/api/v1/repositories", "", 422, ""),
                ("POST", "/api/v1/repositories", "[1,2]", 422, ""),
                ("POST", "/api/v1/repositories", #"{"name":"x\u0000y","type":"redmine","url":"https://x.example"}"#, 422, nil),
            ]
            for (method, uri, body, status, field) in cases {
                let answer = try await api.call(HTTPRequest.Method(method)!, uri, body: body.isEmpty && method == "DELETE" ? nil : body)
                #expect(answer.status == status, "\(method) \(uri) \(body): \(answer.status) \(answer.text)")
                #expect(answer.code != nil, "\(method) \(uri): \(answer.text)")
                if let field { #expect(answer.field == field, "\(method) \(uri) \(body): \(answer.text)") }
            }
            #expect(try await api.snapshot() == before)
            // Deleting in dependency order works.
            for uri in ["integrations/bugs", "collections/right", "collections/left", "models/bug", "repositories/other"] {
                #expect(try await api.call(.delete, "/api/v1/\(uri)").status == 204, "\(uri)")
            }
            #expect(try await api.call(.get, "/api/v1/integrations/bugs").status == 404)
        }
    }

    /// Each change loads, checks and writes under one advisory lock, so concurrent changes to different entities do not
    /// undo each other (each writes only its own entity).
    @Test func concurrentChangesToDifferentEntitiesAreAllKept() async throws {
        try await withAPI { api in
            for name in ["a", "b", "c", "d"] {
                #expect(
                    try await api.call(.post, "/api/v1/models", body: #"{"name":"\#(name)","fields":[{"name":"f0","type":"string"}]}"#).status == 201)
            }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for name in ["a", "b", "c", "d"] {
                    group.addTask {
                        var last = 0
                        for round in 1...5 {
                            let fields = (0...round).map { #"{"name":"f\#($0)","type":"string"}"# }.joined(separator: ",")
                            last = try await api.call(.put, "/api/v1/models/\(name)", body: #"{"fields":[\#(fields)]}"#).status
                        }
                        return last
                    }
                }
                for try await status in group { #expect(status == 200) }
            }
            for name in ["a", "b", "c", "d"] {
                #expect(try await api.call(.get, "/api/v1/models/\(name)").json["fields"]?.arrayValue?.count == 6, "\(name)")
            }
            let updates = try await api.call(.get, "/api/v1/audit?entity=model&limit=100").json["items"]?.arrayValue?.filter {
                $0["action"]?.stringValue == "update"
            }
            #expect(updates?.count == 20)
        }
    }

    @Test func withoutTheMasterKeyTheConfigurationCanBeReadButNotChanged() async throws {
        try await withAPI(withMasterKey: false) { api in
            let before = try await api.snapshot()
            for (method, uri, body) in [
                (HTTPRequest.Method.post, "/api/v1/models", Self.model), (.post, "/api/v1/repositories", Self.repository),
                (.delete, "/api/v1/models/bug", nil), (.post, "/api/v1/integrations/bugs/run", nil),
                (.patch, "/api/v1/settings", #"{"fullScanEnabled":false,"security":{"maxFailedLogins":9}}"#),
            ] {
                let answer = try await api.call(method, uri, body: body)
                #expect(answer.status == 503 && answer.code == "master_key", "\(method) \(uri): \(answer.text)")
            }
            #expect(try await api.snapshot() == before)
            #expect(try await api.call(.get, "/api/v1/models").status == 200)
            #expect(try await api.call(.get, "/api/v1/settings").status == 200)
            // Users, tokens and the security settings need no key.
            #expect(try await api.call(.patch, "/api/v1/settings", body: #"{"security":{"maxFailedLogins":9}}"#).status == 200)
            #expect(try await api.call(.post, "/api/v1/tokens", body: #"{"name":"x"}"#).status == 201)
        }
    }

    @Test func repositoryConnectionTestRunsTheConnector() async throws {
        try await withAPI { api in
            // The in-memory connector answers without a network.
            #expect(
                try await api.call(.post, "/api/v1/repositories", body: #"{"name":"mem","type":"memory","url":"http://memory.invalid"}"#).status
                    == 201)
            let result = try await api.call(.post, "/api/v1/repositories/mem/test", body: #"{"project":"demo"}"#)
            #expect(result.status == 200 && result.json["reachable"] == .bool(true) && result.json["projectFound"] == .bool(true), "\(result.text)")
            #expect(try await api.call(.post, "/api/v1/repositories/mem/test").status == 200)  // no body: no project
            #expect(try await api.call(.post, "/api/v1/repositories/mem/test", body: #"{"project":1}"#).field == "project")
            #expect(try await api.call(.post, "/api/v1/repositories/nope/test").status == 404)
            // Names with spaces and accents travel percent-encoded in paths.
            #expect(
                try await api.call(.post, "/api/v1/repositories", body: #"{"name":"my repo é","type":"memory","url":"http://memory.invalid"}"#).status
                    == 201)
            #expect(try await api.call(.get, "/api/v1/repositories/my%20repo%20%C3%A9").json["name"]?.stringValue == "my repo é")
            #expect(try await api.call(.post, "/api/v1/repositories/my%20repo%20%C3%A9/test").json["reachable"] == .bool(true))
            // A tool without a connector is refused when configured, naming those that have one.
            let unsupported = try await api.call(
                .post, "/api/v1/repositories", body: #"{"name":"gh","type":"no-such-tool","url":"https://api.example.com"}"#)
            #expect(unsupported.status == 422 && unsupported.field == "type", "\(unsupported.text)")
            #expect(unsupported.text.contains("redmine"), "\(unsupported.text)")
        }
    }

    @Test func processAllAndInitiateSynchronizationAreRecordedForTheCoordinator() async throws {
        struct Call: Sendable, Equatable {
            var kind: String
            var integration: String
            var side: String?
            var projects: [String]
            var actor: String
        }
        let calls = Mutex<[Call]>([])
        let requester: IntegrationRequester = { kind, integration, side, projects, actor in
            guard integration == "bugs" else { throw AdminError(.notFound, field: "integration", "no integration named '\(integration)'") }
            return calls.withLock { calls in
                calls.append(Call(kind: kind, integration: integration, side: side, projects: projects, actor: actor))
                return Int64(calls.count)
            }
        }
        try await withAPI(requester: requester) { api in
            let processAll = try await api.call(.post, "/api/v1/integrations/bugs/process-all")
            #expect(processAll.status == 202 && processAll.json["kind"]?.stringValue == "process-all" && processAll.json["id"]?.intValue == 1)
            let initiate = try await api.call(
                .post, "/api/v1/integrations/bugs/initiate-synchronization", body: #"{"side":"left","projects":["1","2"]}"#)
            #expect(initiate.status == 202 && initiate.json["projects"] == .array([.string("1"), .string("2")]))
            #expect(try await api.call(.post, "/api/v1/integrations/bugs/initiate-synchronization", body: "{}").status == 202)
            #expect(
                calls.withLock { $0 } == [
                    Call(kind: "process-all", integration: "bugs", side: nil, projects: [], actor: "admin"),
                    Call(kind: "initiate-synchronization", integration: "bugs", side: "left", projects: ["1", "2"], actor: "admin"),
                    Call(kind: "initiate-synchronization", integration: "bugs", side: nil, projects: [], actor: "admin"),
                ])
            for (uri, body, field) in [
                ("process-all", #"{"side":"left"}"#, "side"), ("initiate-synchronization", #"{"side":"up"}"#, "side"),
                ("initiate-synchronization", #"{"projects":"1"}"#, "projects"),
                ("initiate-synchronization", #"{"projects":["1",""]}"#, "projects[1]"),
            ] {
                let answer = try await api.call(.post, "/api/v1/integrations/bugs/\(uri)", body: body)
                #expect(answer.status == 422 && answer.field == field, "\(uri) \(body): \(answer.text)")
            }
            #expect(try await api.call(.post, "/api/v1/integrations/ghost/process-all").status == 404)
            #expect(calls.withLock { $0.count } == 3)
            // Troubleshooting users may look but not act.
            let viewer = try await api.token(for: "viewer", roles: [.troubleshooting])
            #expect(try await api.call(.post, "/api/v1/integrations/bugs/process-all", as: .token(viewer)).status == 403)
            // The served document describes them.
            let document = try await api.call(.get, "/api/openapi.json", as: .none).json
            #expect(document["paths"]?["/api/v1/integrations/{name}/process-all"]?["post"] != nil)
        }
    }

    @Test func settingsAndTheTroubleshootingLogLevelThatExpires() async throws {
        try await withAPI { api in
            // A repository with a stored secret: changing settings keeps it.
            #expect(try await api.call(.post, "/api/v1/repositories", body: Self.repository).status == 201)
            let settings = try await api.call(.get, "/api/v1/settings")
            #expect(settings.json["changeDetectionInterval"]?.stringValue == "1m" && settings.json["logging"]?["level"]?.stringValue == "info")
            let patched = try await api.call(
                .patch, "/api/v1/settings",
                body: #"{"changeDetectionInterval":"5m","eventRateLimit":{"eventsPerMinute":100},"security":{"maxFailedLogins":3}}"#)
            #expect(patched.status == 200, "\(patched.text)")
            #expect(patched.json["changeDetectionInterval"]?.stringValue == "5m" && patched.json["security"]?["maxFailedLogins"]?.intValue == 3)
            #expect(try await api.api.config.export().settings.changeDetectionInterval.seconds == 300)  // the same store `tandem apply` uses
            #expect(try await api.api.config.loadForRuntime().1["redmine"]?["auth"] == "s3cret-VALUE")
            let before = try await api.snapshot()
            for (body, field) in [
                (#"{"changeDetectionInterval":"soon"}"#, "changeDetectionInterval"), (#"{"fullScanEnabled":1}"#, "fullScanEnabled"),
                (#"{"maxConcurrencyPerIntegration":0}"#, "maxConcurrencyPerIntegration"),
                (#"{"security":{"lockoutSeconds":1}}"#, "security.lockoutSeconds"),
                (#"{"security":{"lockoutSeconds":600},"fullScanEnabled":"no"}"#, "fullScanEnabled"), (#"{"colour":"red"}"#, "colour"),
            ] {
                let answer = try await api.call(.patch, "/api/v1/settings", body: body)
                #expect(answer.status == 422 && answer.field == field, "\(body): \(answer.text)")
            }
            #expect(try await api.snapshot() == before)
            // Troubleshooting: debug for 30 minutes, then back by itself.
            let logging = try await api.call(.put, "/api/v1/settings/logging", body: #"{"troubleshooting":{"level":"debug","minutes":30}}"#)
            #expect(logging.status == 200 && logging.json["effectiveLevel"]?.stringValue == "debug")
            let until = try #require(logging.json["troubleshooting"]?["until"]?.stringValue.flatMap { try? Date($0, strategy: .iso8601) })
            #expect(until.timeIntervalSinceNow > 25 * 60 && until.timeIntervalSinceNow < 31 * 60)
            var stored = try await LoggingSettings.load(api.postgres)
            #expect(stored.effectiveLevel() == "debug" && stored.effectiveLevel(at: until.addingTimeInterval(1)) == "info")
            for body in [
                #"{"troubleshooting":{"level":"debug","minutes":1441}}"#, #"{"level":"loud"}"#, #"{"troubleshooting":{"level":"info","minutes":5}}"#,
                "{}",
            ] {
                #expect(try await api.call(.put, "/api/v1/settings/logging", body: body).status == 422, "\(body)")
            }
            #expect(try await api.call(.put, "/api/v1/settings/logging", body: #"{"level":"notice","troubleshooting":{"minutes":0}}"#).status == 200)
            stored = try await LoggingSettings.load(api.postgres)
            #expect(stored.effectiveLevel() == "notice" && !stored.isTroubleshooting())
            // A running process follows the setting: the watcher applies it, the log handler obeys it.
            var handler = SettingsLogHandler(base: StreamLogHandler.standardError(label: "test"))
            handler.logLevel = .info
            let watcher = LoggingSettingsWatcher(postgres: api.postgres, logger: quiet)
            #expect(try await api.call(.put, "/api/v1/settings/logging", body: #"{"troubleshooting":{"level":"trace","minutes":5}}"#).status == 200)
            await watcher.refresh()
            #expect(LogLevelOverride.current == .trace && handler.logLevel == .trace)
            try await api.postgres.query(
                "UPDATE settings SET value = jsonb_set(value, '{until}', to_jsonb('2020-01-01T00:00:00Z'::text)) WHERE key = 'logging.troubleshooting'"
            )
            await watcher.refresh()  // expired: back to the normal level (set to notice above)
            #expect(LogLevelOverride.current == .notice && handler.logLevel == .notice)
            LogLevelOverride.current = nil
            #expect(handler.logLevel == .info)
            #expect(try await api.call(.put, "/api/v1/settings/logging", body: #"{"troubleshooting":{"minutes":0}}"#).status == 200)
            let audit = try await api.call(.get, "/api/v1/audit?entity=settings")
            #expect(
                audit.json["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == [
                    "logging", "logging", "logging", "logging", "global", "security",
                ])
        }
    }

    @Test func auditLogPagesAndFilters() async throws {
        try await withAPI { api in
            for index in 0..<7 {
                _ = try await api.call(.post, "/api/v1/tokens", body: #"{"name":"t\#(index)"}"#)
            }
            let first = try await api.call(.get, "/api/v1/audit?entity=api-token&limit=3")
            #expect(first.json["items"]?.arrayValue?.count == 3)
            let next = try #require(first.json["next"]?.intValue)
            let second = try await api.call(.get, "/api/v1/audit?entity=api-token&limit=3&before=\(next)")
            let ids = (first.json["items"]?.arrayValue ?? []) + (second.json["items"]?.arrayValue ?? [])
            #expect(Set(ids.compactMap { $0["id"]?.intValue }).count == 6)
            #expect(try await api.call(.get, "/api/v1/audit?actor=nobody").json["items"]?.arrayValue?.isEmpty == true)
            for query in ["limit=0", "limit=abc", "limit=501", "before=-1"] {
                let answer = try await api.call(.get, "/api/v1/audit?\(query)")
                #expect(answer.status == 422 && answer.field == String(query.prefix { $0 != "=" }), "\(query): \(answer.text)")
            }
        }
    }

    @Test func anAuditedUpdateIsRevertedAndADeletionRestoredThroughTheAPI() async throws {
        try await withAPI { api in
            let model = #"{"name": "Task", "fields": [{"name": "title", "type": "string", "required": true}]}"#
            #expect(try await api.call(.post, "/api/v1/models", body: model).status == 201)
            let changed = #"{"fields": [{"name": "title", "type": "string", "required": true}, {"name": "notes", "type": "string"}]}"#
            #expect(try await api.call(.put, "/api/v1/models/Task", body: changed).status == 200)
            let update = try #require(try await api.call(.get, "/api/v1/audit?entity=model&name=Task&limit=1").json["items"]?.arrayValue?.first)
            let updateID = try #require(update["id"]?.intValue)
            #expect(update["action"]?.stringValue == "update")
            let reverted = try await api.call(.post, "/api/v1/audit/\(updateID)/revert")
            #expect(reverted.status == 200, "\(reverted.text)")
            #expect(reverted.json["entity"]?.stringValue == "model" && reverted.json["name"]?.stringValue == "Task")
            #expect(reverted.json["stored"]?["fields"]?.arrayValue?.count == 1)
            #expect(try await api.call(.get, "/api/v1/models/Task").json["fields"]?.arrayValue?.count == 1)
            let again = try await api.call(.post, "/api/v1/audit/\(updateID)/revert", body: "{}")
            #expect(again.status == 409 && again.text.contains("already has the values"), "\(again.text)")
            // A deletion is restored; a second restore is refused.
            #expect(try await api.call(.delete, "/api/v1/models/Task").status == 204)
            let deletion = try #require(try await api.call(.get, "/api/v1/audit?entity=model&name=Task&limit=1").json["items"]?.arrayValue?.first)
            let deletionID = try #require(deletion["id"]?.intValue)
            let restored = try await api.call(.post, "/api/v1/audit/\(deletionID)/revert")
            #expect(
                restored.status == 200 && restored.json["message"]?.stringValue?.hasPrefix("Restored the model 'Task'") == true, "\(restored.text)")
            #expect(try await api.call(.get, "/api/v1/models/Task").status == 200)
            #expect(try await api.call(.post, "/api/v1/audit/\(deletionID)/revert").status == 409)
            // Not a configuration entity's change; no such entry; a body with members; a read-only role.
            _ = try await api.call(.post, "/api/v1/tokens", body: #"{"name":"t"}"#)
            let token = try #require(try await api.call(.get, "/api/v1/audit?entity=api-token&limit=1").json["items"]?.arrayValue?.first)
            let other = try await api.call(.post, "/api/v1/audit/\(token["id"]?.intValue ?? 0)/revert")
            #expect(other.status == 409 && other.text.contains("only changes of repositories"), "\(other.text)")
            #expect(try await api.call(.post, "/api/v1/audit/999999/revert").status == 404)
            // Earlier values that are no longer valid (a collection since deleted): a conflict with today's configuration.
            try await api.seedConfiguration()
            let config = api.api.config
            var extra = try #require(try await config.get(.collections, name: "right-bugs")).members ?? []
            extra[0] = .init("name", .string("extra-bugs"))
            _ = try await config.put(.collections, name: nil, body: .object(extra), create: true, actor: "test")
            _ = try await config.put(
                .integrations, name: nil, body: .object(["name": .string("x"), "left": .string("left-bugs"), "right": .string("right-bugs")]),
                create: true, actor: "test")
            _ = try await config.put(
                .integrations, name: "x", body: .object(["left": .string("left-bugs"), "right": .string("extra-bugs")]), create: false, actor: "test")
            let moved = try #require(try await AuditLog.list(api.postgres, .init(entity: "integration", entityName: "x", limit: 1)).first)
            #expect(try await api.call(.delete, "/api/v1/collections/right-bugs").status == 204)
            let stale = try await api.call(.post, "/api/v1/audit/\(moved.id)/revert")
            #expect(stale.status == 409 && stale.text.contains("not valid now"), "\(stale.text)")
            #expect(try await config.export().integrations.first { $0.name == "x" }?.right == "extra-bugs")
            let bodied = try await api.call(.post, "/api/v1/audit/\(updateID)/revert", body: #"{"force": true}"#)
            #expect(bodied.status == 422 && bodied.field == "force", "\(bodied.text)")
            let notANumber = try await api.call(.post, "/api/v1/audit/abc/revert")
            #expect((400..<500).contains(notANumber.status), "\(notANumber.text)")
        }
    }

    @Test func malformedOversizeAndMistypedRequestsAre4xxAndChangeNothing() async throws {
        try await withAPI { api in
            let before = try await api.snapshot()
            let big = #"{"name":""# + String(repeating: "a", count: 1 << 20) + #"","roles":["user"]}"#
            let tooLarge = try await api.call(.post, "/api/v1/users", body: big)
            #expect(tooLarge.status == 413 && tooLarge.code == "body_too_large")
            let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
            #expect(try await api.call(.post, "/api/v1/users", body: deep).status == 400)
            let form = try await api.call(.post, "/api/v1/users", body: "username=x", contentType: "application/x-www-form-urlencoded")
            #expect(form.status == 415)
            for body in ["{", "{\"a\":}", "nul", "{\"a\":1}x", "\u{FEFF}{}", "{'a':1}", "{\"a\":01}", "\"\\x\""] {
                let answer = try await api.call(.post, "/api/v1/users", body: body)
                #expect(answer.status == 400 && answer.code == "malformed_json", "\(body): \(answer.text)")
            }
            #expect(try await api.call(.get, "/api/v1/nowhere").status == 404)
            let wrongMethod = try await api.call(.patch, "/api/v1/users")
            #expect(wrongMethod.status == 405 && wrongMethod.headers[.allow] == "GET, POST")
            #expect(try await api.snapshot() == before)
        }
    }
}
