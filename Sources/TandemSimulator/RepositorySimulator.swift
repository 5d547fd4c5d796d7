public import Foundation
public import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle
public import TandemConnectors
import TandemCore
public import UnixSignals

import enum HTTP.FailureKind

/// The repository simulator (`tandem simulate`): any number of named in-memory repositories (`InMemoryRepository`,
/// created on first use) behind an HTTP API that mirrors the `Connector` protocol, so that several processes
/// (workers of one cluster, a test, a benchmark) share them through `RemoteMemoryConnector`. The routes are listed
/// at `SimulatorWire`; besides them, for tests and operations:
///
/// | route | what |
/// |---|---|
/// | `GET /health` | `{"status":"ok"}` |
/// | `GET /stats` | every repository's `Stats` by name |
/// | `GET /repos/<name>/stats` | writes served, API calls served, artifacts per project |
/// | `GET /repos/<name>/log?after=<seq>&limit=` | the write log (`WriteLog`): sub-second wall-clock times, titles |
/// | `POST /repos/<name>/seed` | `{"project","count","titlePrefix"}`: creates artifacts at once (no latency) |
/// | `POST /reset`, `POST /repos/<name>/reset` | forget every repository (or one): counters at zero |
/// | `GET /latency`, `PUT /latency` | `{"milliseconds": n}`: the delay added to every API call |
///
/// Every API call under `/repos/<name>` (not the operations routes) is counted, checked against the accepted
/// credentials, and delayed by the latency (an async sleep: no thread is blocked).
///
/// It also serves Jira sites (`JiraServer`), created on first use with projects DEMO, LEFT and RIGHT: Jira Cloud REST v3
/// under `/jira/<site>/rest/api/3/…` (basic `tandem@example.com` / `jira-token`) and Jira Data Center REST v2 under
/// `/jira-dc/<site>/rest/api/2/…` (`Bearer jira-pat`, or basic `tandem` / `jira-password`), plus DC attachment bytes at
/// `/jira-dc/<site>/secure/attachment/<id>/<filename>`. Every request and answer is validated against the vendor's
/// OpenAPI subset (`Configuration.jiraSpecsDirectory`, see `JiraSpecs.locate`) and the quirks lists beside it. Their
/// operations routes (`<flavour>` is `jira` or `jira-dc`):
///
/// | route | what |
/// |---|---|
/// | `GET /sim/<flavour>/<site>/stats` | calls, writes, request and response validation failures, 429s, issues |
/// | `GET /sim/<flavour>/<site>/log?after=<seq>&limit=` | the write log (`SimulatorWire.WriteLog`) |
/// | `POST /sim/<flavour>/<site>/seed` | `{"project","count","summaryPrefix"}`: issues at once |
/// | `POST /sim/<flavour>/<site>/reset` | forget the site's issues and counters (settings stay) |
/// | `GET`, `PUT /sim/<flavour>/<site>/settings` | `JiraSettings`: time zone, index lag, latency, rate limit, credentials, read-only projects |
/// | `POST /sim/<flavour>/<site>/rate-limit` | `{"count": n}`: the next n API calls answer 429 |
///
/// And GitHubs (`GitHubServer`), created on first use with users `tandem` (the tokens' user, id 1), `octocat`, `mona`
/// and repositories `tandem/demo` (public) and `tandem/private` (private): the REST API (version 2022-11-28) with
/// `/github/<site>` as its root (what `https://api.github.com` is), `Authorization: Bearer ghs-sim-token` (or
/// `token …`; `ghs-noscope-token` does not see private repositories). Every request and answer is validated against
/// GitHub's description (`Configuration.githubSpecsDirectory`, see `GitHubSpecs.locate`) and `github/QUIRKS.md`.
/// Its operations routes:
///
/// | route | what |
/// |---|---|
/// | `GET /sim/github/<site>/stats` | calls, writes, creates, 304s, rate-limited and secondary-limited answers, validation failures, issues |
/// | `GET /sim/github/<site>/log?after=<seq>&limit=` | the write log (`SimulatorWire.WriteLog`) |
/// | `POST /sim/github/<site>/seed` | issues and pull requests with given time stamps (`GitHubServer.Seed`) |
/// | `POST /sim/github/<site>/reset` | forget the site's issues, quotas and counters (settings stay) |
/// | `GET`, `PUT /sim/github/<site>/settings` | `GitHubSettings`: latency, quotas, secondary limits, bare 429s, archived repositories, tokens |
public struct RepositorySimulator: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port (see `run(onListening:)`).
        public var port: Int
        /// Added to every API call.
        public var latency: Duration
        /// The projects of every repository.
        public var projects: [String]
        /// What every repository accepts; `.none` rejects any `Authorization` header.
        public var acceptedCredentials: Credentials
        /// The folder holding `jira-cloud/openapi-subset.json` and `jira-dc/openapi-subset.json` (see `JiraSpecs.locate`);
        /// without it the Jira sites answer 500.
        public var jiraSpecsDirectory: URL?
        /// Every new Jira site's settings (time zone, index lag, rate limit, credentials…).
        public var jira: JiraSettings
        /// The folder holding `github/routes.v2022_11_28.json` and `github/schemas.v2022_11_28.json` (see
        /// `GitHubSpecs.locate`); without it the GitHub sites answer 500.
        public var githubSpecsDirectory: URL?
        /// Every new GitHub site's settings (quotas, secondary limits, tokens…).
        public var github: GitHubSettings

        public init(
            host: String = "127.0.0.1", port: Int = 7070, latency: Duration = .zero, projects: [String] = ["demo", "left", "right"],
            acceptedCredentials: Credentials = .none, jiraSpecsDirectory: URL? = JiraSpecs.locate(), jira: JiraSettings = JiraSettings(),
            githubSpecsDirectory: URL? = GitHubSpecs.locate(), github: GitHubSettings = GitHubSettings()
        ) {
            self.host = host
            self.port = port
            self.latency = latency
            self.projects = projects
            self.acceptedCredentials = acceptedCredentials
            self.jiraSpecsDirectory = jiraSpecsDirectory
            self.jira = jira
            self.githubSpecsDirectory = githubSpecsDirectory
            self.github = github
        }
    }

    public let configuration: Configuration
    let state: SimulatorState
    let jira: JiraServer
    let github: GitHubServer
    let logger: Logger
    /// Largest request body (attachments).
    static let maxBody = 64 << 20

    public init(configuration: Configuration, logger: Logger = Logger(label: "tandem.simulator")) {
        self.configuration = configuration
        self.state = SimulatorState(
            projects: configuration.projects, credentials: configuration.acceptedCredentials, latency: configuration.latency)
        self.jira = JiraServer(specsDirectory: configuration.jiraSpecsDirectory, defaults: configuration.jira)
        self.github = GitHubServer(specsDirectory: configuration.githubSpecsDirectory, defaults: configuration.github)
        self.logger = logger
    }

    /// The Hummingbird application; `onListening` receives the bound port once the server listens.
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let requestedPort = self.configuration.port
        return Application(
            router: self.router(),
            configuration: .init(address: .hostname(self.configuration.host, port: self.configuration.port), serverName: "tandem-simulator"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? requestedPort) },
            logger: self.logger)
    }

    /// Serves until one of `gracefulShutdownSignals` arrives (or the task is cancelled), then drains and returns.
    public func run(
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint], onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [self.application(onListening: onListening)], gracefulShutdownSignals: gracefulShutdownSignals, logger: self.logger))
        try await group.run()
    }

    // MARK: - Routes

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        self.addOperationsRoutes(router)
        self.addReadRoutes(router)
        self.addWriteRoutes(router)
        self.jira.addRoutes(to: router)
        self.github.addRoutes(to: router)
        return router
    }

    private func addOperationsRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/health") { _, _ in Self.json(["status": "ok"]) }
        router.get("/stats") { _, _ in
            var all: [String: SimulatorWire.Stats] = [:]
            for (name, repository) in self.state.all { all[name] = await repository.stats() }
            return Self.json(["repositories": all])
        }
        router.get("/repos/:repo/stats") { _, context in
            Self.json(await self.state.repository(try Self.parameter("repo", context)).stats())
        }
        router.get("/repos/:repo/log") { request, context in
            let repository = self.state.repository(try Self.parameter("repo", context))
            let after = try Self.intQuery(request, "after", default: 0, range: 0...Int.max)
            let limit = try Self.intQuery(request, "limit", default: 10_000, range: 1...100_000)
            return Self.json(SimulatorWire.WriteLog(events: repository.events(after: after, limit: limit)))
        }
        router.post("/repos/:repo/seed") { request, context in
            struct Seed: Decodable {
                var project: String
                var count: Int
                var titlePrefix: String?
            }
            let repository = self.state.repository(try Self.parameter("repo", context))
            return await Self.answer {
                let seed = try await Self.body(Seed.self, request)
                guard (1...100_000).contains(seed.count) else { throw Self.bad("seed count must be 1...100000") }
                var ids: [String] = []
                for n in 0..<seed.count {
                    let title = "\(seed.titlePrefix ?? "seed") \(n)"
                    let result = try await repository.connector.createArtifact(
                        ArtifactDraft(project: seed.project, artifactType: "task", fields: ["title": .string(title)]))
                    repository.logWrite(id: result.artifactID, operation: "create", title: title)
                    ids.append(result.artifactID)
                }
                return SimulatorWire.IDs(ids: ids)
            }
        }
        router.post("/reset") { _, _ in
            self.state.reset()
            self.jira.reset()
            self.github.reset()
            return Self.json(["status": "reset"])
        }
        router.post("/repos/:repo/reset") { _, context in
            self.state.reset(try Self.parameter("repo", context))
            return Self.json(["status": "reset"])
        }
        router.get("/latency") { _, _ in Self.json(["milliseconds": self.state.latencyMillisecondsValue]) }
        router.put("/latency") { request, _ in
            struct Latency: Decodable { var milliseconds: Int }
            return await Self.answer {
                let latency = try await Self.body(Latency.self, request)
                guard (0...600_000).contains(latency.milliseconds) else {
                    throw Self.bad("milliseconds must be 0...600000")
                }
                self.state.setLatency(milliseconds: latency.milliseconds)
                return ["milliseconds": latency.milliseconds]
            }
        }
    }

    private func addReadRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/repos/:repo/time") { request, context in
            await self.api(request, context) { r in SimulatorWire.Time(time: try await r.connector.repositoryTime()) }
        }
        router.get("/repos/:repo/projects") { request, context in
            await self.api(request, context) { r in SimulatorWire.Projects(projects: try await r.connector.projects().map(\.id)) }
        }
        router.get("/repos/:repo/projects/:project/types") { request, context in
            await self.api(request, context) { r in
                SimulatorWire.Types(try await r.connector.artifactTypes(project: try Self.parameter("project", context)))
            }
        }
        router.get("/repos/:repo/projects/:project/fields") { request, context in
            await self.api(request, context) { r in
                let type = request.uri.queryParameters.get("type") ?? "task"
                return SimulatorWire.Fields(try await r.connector.fields(project: try Self.parameter("project", context), artifactType: type))
            }
        }
        router.get("/repos/:repo/projects/:project/feed") { request, context in
            await self.api(request, context) { r in
                let project = try Self.parameter("project", context)
                let offset = try Self.intQuery(request, "offset", default: 0, range: 0...Int.max)
                let limit = try Self.intQuery(request, "limit", default: 50, range: 1...1000)
                var from: Date?
                if let text = request.uri.queryParameters.get("from") {
                    guard let seconds = Double(text), seconds.isFinite else {
                        throw Self.bad("from: not epoch seconds: \(text.prefix(40))")
                    }
                    from = Date(timeIntervalSince1970: seconds)
                }
                let page = await r.repository.feed(project: project, from: from, offset: offset, limit: limit)
                return SimulatorWire.FeedPage(entries: page.entries, isLast: page.isLast, time: await r.repository.clock)
            }
        }
        router.get("/repos/:repo/projects/:project/markers") { request, context in
            await self.api(request, context) { r in
                guard let marker = request.uri.queryParameters.get("marker") else { throw Self.bad("marker: missing") }
                return SimulatorWire.IDs(ids: try await r.connector.findByMarker(project: try Self.parameter("project", context), marker: marker))
            }
        }
        router.get("/repos/:repo/artifacts/:id") { request, context in
            await self.api(request, context) { r in SimulatorWire.Artifact(try await r.connector.artifact(id: try Self.parameter("id", context))) }
        }
        router.get("/repos/:repo/artifacts/:id/attachments/:attachment") { request, context in
            await self.apiRaw(request, context) { r in
                let id = try Self.parameter("id", context)
                let attachment = AttachmentInfo(
                    id: try Self.parameter("attachment", context), filename: "", contentType: nil, size: nil, created: nil, author: nil, url: nil)
                return try await r.connector.attachmentContent(artifactID: id, attachment: attachment)
            }
        }
    }

    private func addWriteRoutes(_ router: Router<BasicRequestContext>) {
        router.post("/repos/:repo/artifacts") { request, context in
            await self.api(request, context, created: true) { r in
                let draft = try await Self.body(SimulatorWire.Draft.self, request).model
                let result = try await r.connector.createArtifact(draft)
                r.logWrite(id: result.artifactID, operation: "create", title: draft.fields["title"].flatMap(Self.text))
                return SimulatorWire.Written(result)
            }
        }
        router.put("/repos/:repo/artifacts/:id/fields") { request, context in
            await self.api(request, context) { r in
                let id = try Self.parameter("id", context)
                let update = try await Self.body(SimulatorWire.FieldsUpdate.self, request)
                return try await self.logged(r, id, "update") { try await r.connector.updateFields(id: id, update.fields) }
            }
        }
        router.post("/repos/:repo/artifacts/:id/comments") { request, context in
            await self.api(request, context) { r in
                let id = try Self.parameter("id", context)
                let comment = try await Self.body(SimulatorWire.CommentText.self, request)
                return try await self.logged(r, id, "comment") { try await r.connector.addComment(id: id, text: comment.text) }
            }
        }
        router.post("/repos/:repo/artifacts/:id/attachments") { request, context in
            await self.api(request, context) { r in
                let id = try Self.parameter("id", context)
                guard let filename = request.uri.queryParameters.get("filename"), !filename.isEmpty else {
                    throw Self.bad("filename: missing")
                }
                let contentType = request.uri.queryParameters.get("contentType") ?? "application/octet-stream"
                var request = request
                let data = Data(try await request.collectBody(upTo: Self.maxBody).readableBytesView)
                return try await self.logged(r, id, "attachment") {
                    try await r.connector.uploadAttachment(id: id, filename: filename, contentType: contentType, data: data)
                }
            }
        }
        router.post("/repos/:repo/artifacts/:id/transition") { request, context in
            await self.api(request, context) { r in
                let id = try Self.parameter("id", context)
                let transition = try await Self.body(SimulatorWire.Transition.self, request)
                return try await self.logged(r, id, "transition") { try await r.connector.applyTransition(id: id, to: transition.status) }
            }
        }
        router.delete("/repos/:repo/artifacts/:id") { request, context in
            await self.apiRaw(request, context) { r in
                let id = try Self.parameter("id", context)
                try await r.connector.deleteArtifact(id: id)
                r.logWrite(id: id, operation: "delete", title: nil)
                return Data()
            }
        }
    }

    /// A write, logged with the artifact's title after it.
    private func logged(
        _ r: SimulatedRepository, _ id: String, _ operation: String, _ write: () async throws -> WriteResult
    ) async throws -> SimulatorWire.Written {
        let result = try await write()
        let title = try? await r.connector.artifact(id: id).fields["title"].flatMap(Self.text)
        r.logWrite(id: id, operation: operation, title: title ?? nil)
        return SimulatorWire.Written(result)
    }

    static func text(_ value: FieldValue) -> String? {
        switch value {
        case .string(let text), .richText(let text, _): text
        default: nil
        }
    }

    // MARK: - One API call

    /// An API call answering its value as JSON (201 when `created`).
    private func api<T: Encodable>(
        _ request: Request, _ context: BasicRequestContext, created: Bool = false, _ body: (SimulatedRepository) async throws -> T
    ) async -> Response {
        await self.call(request, context) { r in Self.json(try await body(r), status: created ? .created : .ok) }
    }

    /// An API call answering bytes (204 when there are none).
    private func apiRaw(
        _ request: Request, _ context: BasicRequestContext, _ body: (SimulatedRepository) async throws -> Data
    ) async -> Response {
        await self.call(request, context) { r in
            let data = try await body(r)
            return Response(
                status: data.isEmpty ? .noContent : .ok, headers: [.contentType: "application/octet-stream"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    /// Counts the call, delays it by the latency, checks the credentials and runs `respond` against the named
    /// repository; a `ConnectorError` answers `ErrorBody` with its status.
    private func call(
        _ request: Request, _ context: BasicRequestContext, _ respond: (SimulatedRepository) async throws -> Response
    ) async -> Response {
        let repository: SimulatedRepository
        do {
            repository = self.state.repository(try Self.parameter("repo", context))
        } catch {
            return Self.error(error)
        }
        repository.countCall()
        let latency = self.state.latency
        if latency > .zero { try? await Task.sleep(for: latency) }
        guard self.authorized(request) else {
            return Self.error(ConnectorError(.credentialsRejected, kind: .needsAttention, message: "memory rejected the credentials", status: 401))
        }
        do {
            return try await respond(repository)
        } catch let error as ConnectorError {
            return Self.error(error)
        } catch {
            return Self.error(Self.bad("\(error)"))
        }
    }

    /// The request carries exactly the accepted credentials (an `Authorization` header only when they use one).
    func authorized(_ request: Request) -> Bool {
        let expected = self.configuration.acceptedCredentials.wireFields
        for (name, value) in expected.headers {
            guard let field = HTTPFields.Element.Name(name), request.headers[field] == value else { return false }
        }
        for (name, value) in expected.query where request.uri.queryParameters.get(name) != value { return false }
        if !expected.headers.contains(where: { $0.name.lowercased() == "authorization" }), request.headers[.authorization] != nil {
            return false
        }
        return true
    }

    // MARK: - Helpers

    /// A request the simulator cannot serve (400).
    static func bad(_ message: String) -> ConnectorError { ConnectorError(.invalidArgument, kind: .permanent, message: message) }

    static func parameter(_ name: String, _ context: BasicRequestContext) throws(ConnectorError) -> String {
        guard let raw = context.parameters.get(name) else { throw Self.bad("\(name): missing") }
        return raw.removingPercentEncoding ?? raw
    }

    static func intQuery(_ request: Request, _ name: String, default value: Int, range: ClosedRange<Int>) throws(ConnectorError) -> Int {
        guard let text = request.uri.queryParameters.get(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw Self.bad("\(name): not a number in \(range.lowerBound)...\(range.upperBound): \(text.prefix(40))")
        }
        return number
    }

    static func body<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: Self.maxBody)
        do {
            return try SimulatorWire.decoder().decode(type, from: Data(buffer.readableBytesView))
        } catch {
            throw Self.bad("request body is not a \(T.self): \(error)")
        }
    }

    /// Runs an operations call, answering its value or its error.
    static func answer(_ body: () async throws -> some Encodable) async -> Response {
        do {
            return Self.json(try await body())
        } catch let error as ConnectorError {
            return Self.error(error)
        } catch {
            return Self.error(Self.bad("\(error)"))
        }
    }

    static func json(_ value: any Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data =
            (try? SimulatorWire.encoder().encode(value)) ?? Data(#"{"error":{"code":"encoding","kind":"permanent","message":"cannot encode"}}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ error: ConnectorError) -> Response {
        Self.json(SimulatorWire.ErrorBody(error), status: HTTPResponse.Status(code: SimulatorWire.ErrorBody.status(of: error)))
    }
}
