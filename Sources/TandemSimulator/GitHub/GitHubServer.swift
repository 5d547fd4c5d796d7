import Crypto
import Foundation
import Hummingbird
import NIOCore
import Synchronization

import enum HTTP.JSONValue

/// One API call to a simulated GitHub, parsed and admitted.
struct GitHubCall {
    var render: GitHubRender
    var path: [String: String]
    /// The path the operation matched (`/repositories/<id>/…` already read as `/repos/<owner>/<repo>/…`).
    var route: String
    var query: [(name: String, value: String)]
    var body: JSONValue?
    var token: String
    var now: Date

    func query(_ name: String) -> String? { self.query.last { $0.name == name }?.value }
    func int(_ name: String, _ fallback: Int) -> Int { self.query(name).flatMap { Int($0) } ?? fallback }
    func parameter(_ name: String) -> String { self.path[name] ?? "" }
}

/// What a handler answers.
struct GitHubReply {
    var status: Int
    var json: JSONValue?
    var headers: [(String, String)] = []

    static func ok(_ json: JSONValue, status: Int = 200) -> GitHubReply { GitHubReply(status: status, json: json) }
    /// 201 with the new resource's API URL in `Location`.
    static func created(_ json: JSONValue, location: String) -> GitHubReply {
        GitHubReply(status: 201, json: json, headers: [("Location", location)])
    }
    static let noContent = GitHubReply(status: 204)
}

/// An error answer in GitHub's shape: `{"message", "documentation_url", "status"}`, plus `errors` for a 422.
struct GitHubFailure: Error {
    var status: Int
    var message: String
    var documentation: String
    var errors: [JSONValue]?
    var headers: [(String, String)] = []

    init(_ status: Int, _ message: String, documentation: String = "https://docs.github.com/rest", errors: [JSONValue]? = nil) {
        self.status = status
        self.message = message
        self.documentation = documentation
        self.errors = errors
    }

    static func notFound(_ documentation: String = "https://docs.github.com/rest") -> GitHubFailure {
        GitHubFailure(404, "Not Found", documentation: documentation)
    }

    /// 422 `Validation Failed` naming what was wrong (`{"resource","field","code","value"}`).
    static func invalid(
        _ resource: String, _ field: String, value: JSONValue? = nil, code: String = "invalid", documentation: String
    )
        -> GitHubFailure
    {
        var error: [String: JSONValue] = ["resource": .string(resource), "field": .string(field), "code": .string(code)]
        if let value { error["value"] = value }
        return GitHubFailure(422, "Validation Failed", documentation: documentation, errors: [.object(error)])
    }

    var reply: GitHubReply {
        var body: [String: JSONValue] = [
            "message": .string(self.message), "documentation_url": .string(self.documentation), "status": .string(String(self.status)),
        ]
        if let errors { body["errors"] = .array(errors) }
        return GitHubReply(status: self.status, json: .object(body), headers: self.headers)
    }
}

/// The simulated GitHubs and their HTTP edge: for every call under `/github/<site>/…`, latency, a bare 429 when the
/// settings ask, the token (401), the primary quota and the secondary limit, the API version header, the operation
/// matched in GitHub's description, the request validated against it (400 for the query, 422 for the body), the
/// repository's visibility (404) and archival (403 on writes), the handler, the answer validated against the
/// description (a failure is a simulator bug: 500, counted), then `ETag`, `If-None-Match` (304, outside the quota)
/// and the rate-limit headers.
final class GitHubServer: Sendable {
    let specs: Result<GitHubSpecs, OpenAPIError>
    let defaults: GitHubSettings
    private let sites = Mutex<[String: GitHubSite]>([:])
    private let requestIDs = Atomic<Int>(0)

    init(specsDirectory: URL?, defaults: GitHubSettings) {
        self.defaults = defaults
        if let specsDirectory {
            do {
                self.specs = .success(try GitHubSpecs(directory: specsDirectory))
            } catch {
                self.specs = .failure(OpenAPIError("cannot load the GitHub description from \(specsDirectory.path): \(error)"))
            }
        } else {
            self.specs = .failure(OpenAPIError("GitHub's description was not found: pass --github-specs DIR or set TANDEM_GITHUB_SPECS"))
        }
    }

    func site(_ name: String) -> GitHubSite {
        self.sites.withLock { sites in
            if let site = sites[name] { return site }
            let site = GitHubSite(name: name, settings: self.defaults)
            sites[name] = site
            return site
        }
    }

    func reset() { self.sites.withLock { $0.removeAll() } }

    // MARK: - Routes

    func addRoutes(to router: Router<BasicRequestContext>) {
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] {
            router.on(RouterPath("/github/**"), method: method) { request, context in await self.respond(request, context) }
        }
        self.addOperationsRoutes(to: router)
    }

    static let contentCreating: Set<String> = ["POST", "PATCH", "PUT", "DELETE"]
    /// A client pins the API version with it; any other version than the description's is refused.
    static let apiVersionHeader = HTTPFields.Element.Name("X-GitHub-Api-Version")!

    func respond(_ request: Request, _ context: BasicRequestContext) async -> Response {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard segments.count >= 2, segments.first == "github", !segments[segments.startIndex + 1].isEmpty else {
            return self.response(GitHubFailure.notFound().reply, limit: nil)
        }
        let site = self.site(String(segments[segments.startIndex + 1]))
        let rest = "/" + segments.dropFirst(2).joined(separator: "/")
        site.counters.countCall()
        let settings = site.settings
        if settings.latencyMilliseconds > 0 { try? await Task.sleep(for: .milliseconds(settings.latencyMilliseconds)) }
        let now = Date()
        let method = request.method.rawValue
        let token = Self.token(request.headers[.authorization]).flatMap { [settings.token, settings.noScopeToken].contains($0) ? $0 : nil }
        var limit: GitHubSite.Limit
        // `GET /rate_limit` does not count against the quota.
        let free = method == "GET" && rest == "/rate_limit" && token != nil
        switch site.admit(token: token, contentCreating: Self.contentCreating.contains(method), free: free, now: now) {
        case .bare429:
            return Response(status: .tooManyRequests, headers: [:], body: .init(byteBuffer: ByteBuffer()))
        case .primary(let exhausted):
            let failure = GitHubFailure(
                settings.primaryLimitStatus == 429 ? 429 : 403,
                "API rate limit exceeded for user ID \(GitHubSite.apiUserID). If you reach out to GitHub Support for help, please include the request ID \(self.requestID()) and timestamp \(GitHubRender.supportTime(now)).",
                documentation: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api")
            return self.response(self.checked(failure.reply, site: site), limit: exhausted)
        case .secondary(let admitted):
            var failure = GitHubFailure(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID \(self.requestID()).",
                documentation: "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
            failure.headers = [("retry-after", "60")]
            return self.response(self.checked(failure.reply, site: site), limit: admitted)
        case .admitted(let admitted):
            limit = admitted
        }
        guard let token else {
            let failure = GitHubFailure(401, "Bad credentials")
            return self.response(self.checked(failure.reply, site: site), limit: limit)
        }
        if let version = request.headers[Self.apiVersionHeader], version != GitHubSpecs.apiVersion {
            let failure = GitHubFailure(
                400, "API version \(version) is not supported.", documentation: "https://docs.github.com/rest/overview/api-versions")
            return self.response(self.checked(failure.reply, site: site), limit: limit)
        }
        let host = request.head.authority ?? "127.0.0.1"
        let render = GitHubRender(api: "http://\(host)/github/\(site.name)")
        var reply: GitHubReply
        do {
            reply = try await self.dispatch(request, site: site, render: render, rest: rest, token: token, now: now)
        } catch {
            reply = error.reply
        }
        reply = self.checked(reply, site: site)
        if method == "GET", reply.status == 200, let json = reply.json {
            let tag = Self.etag(json, headers: reply.headers)
            reply.headers.append(("ETag", tag))
            reply.headers.append(("Cache-Control", "private, max-age=60, s-maxage=60"))
            if Self.matches(request.headers[.ifNoneMatch], tag) {
                limit = site.notModified(token: token, limit)
                return self.response(GitHubReply(status: 304, headers: reply.headers.filter { $0.0 != "Link" }), limit: limit)
            }
        }
        return self.response(reply, limit: limit)
    }

    private func dispatch(
        _ request: Request, site: GitHubSite, render: GitHubRender, rest: String, token: String, now: Date
    ) async throws(GitHubFailure) -> GitHubReply {
        let specs: GitHubSpecs
        switch self.specs {
        case .success(let loaded): specs = loaded
        case .failure(let error): throw GitHubFailure(500, error.message)
        }
        var request = request
        let raw: Data
        do {
            raw = Data(try await request.collectBody(upTo: 25 << 20).readableBytesView)
        } catch {
            throw GitHubFailure(413, "Payload too large")
        }
        let query = JiraServer.parseQuery(request.uri.query)
        let method = request.method.rawValue
        let seesPrivate = token == site.settings.token
        let path = try site.canonicalPath(rest, seesPrivate: seesPrivate)
        let document = specs.document
        guard case .operation(let operation, let pathParameters) = document.match(method: method, path: path) else {
            throw GitHubFailure.notFound()
        }
        if let owner = pathParameters["owner"], let name = pathParameters["repo"] {
            try site.visibleRepository(owner, name, seesPrivate: seesPrivate)
        }
        // GitHub reads the body as JSON whatever its Content-Type says.
        let violations = document.validateRequest(operation, pathParameters: pathParameters, query: query, contentType: nil, body: raw)
        if !violations.isEmpty {
            site.counters.countRequestFailure()
            throw Self.refusal(violations, operation: operation, documentation: GitHubRender.documentation(operation.id))
        }
        let body = raw.isEmpty ? nil : try? JSONDecoder().decode(JSONValue.self, from: raw)
        if Self.contentCreating.contains(method), let owner = pathParameters["owner"], let name = pathParameters["repo"],
            site.isArchived(owner, name)
        {
            throw GitHubFailure(403, "Repository was archived so is read-only.", documentation: GitHubRender.documentation(operation.id))
        }
        let call = GitHubCall(render: render, path: pathParameters, route: path, query: query, body: body, token: token, now: now)
        var reply = try site.handle(operation.id, call)
        if (200..<300).contains(reply.status) {
            let responseViolations = document.validateResponse(operation, status: reply.status, body: reply.json)
            if let first = responseViolations.first {
                let message =
                    "simulator bug: the answer to \(operation.id) fails GitHub's description at \(first.instancePath.isEmpty ? "(root)" : first.instancePath): \(first.reason) (schema \(first.schemaLocation))"
                site.counters.countResponseFailure(message)
                reply = GitHubFailure(500, message).reply
            }
        }
        return reply
    }

    /// A request off the description, refused as GitHub refuses it: a path parameter of the wrong type → 404, a query
    /// parameter → 400 (QUIRK GH-6: GitHub ignores unknown ones), a body that is not JSON → 400 `Problems parsing
    /// JSON`, a body off its schema → 422 `Invalid request.` naming the property (`For 'properties/labels', …` or
    /// `"title" wasn't supplied.`).
    static func refusal(_ violations: [SchemaViolation], operation: OpenAPIDocument.Operation, documentation: String) -> GitHubFailure {
        let inPath = Set(operation.parameters.filter { $0.location == "path" }.map(\.name))
        if violations.contains(where: { inPath.contains($0.instancePath) && $0.schemaLocation.contains("/parameters/") }) {
            return GitHubFailure.notFound(documentation)
        }
        let isParameter = { (violation: SchemaViolation) in
            (violation.schemaLocation == operation.id && !violation.instancePath.isEmpty) || violation.schemaLocation.contains("/parameters/")
        }
        if let parameter = violations.first(where: isParameter) {
            return GitHubFailure(400, "Invalid query parameter '\(parameter.instancePath)': \(parameter.reason).", documentation: documentation)
        }
        if violations.contains(where: { $0.reason == "the body is not valid JSON" }) {
            return GitHubFailure(400, "Problems parsing JSON", documentation: documentation)
        }
        let lines = violations.map { violation -> String in
            let names = violation.instancePath.split(separator: ".")
            if violation.reason == "required" { return "\"\(names.last ?? "")\" wasn't supplied." }
            if violation.reason == "a request body is required" { return "The request body is empty." }
            let pointer = names.map { "properties/\($0)" }.joined(separator: "/")
            return pointer.isEmpty ? "\(violation.reason)." : "For '\(pointer)', \(violation.reason)."
        }
        return GitHubFailure(422, "Invalid request.\n\n" + lines.joined(separator: "\n"), documentation: documentation)
    }

    /// Every error body matches GitHub's `BasicError` (or `ValidationError`, with `errors`); a failure is a simulator bug.
    private func checked(_ reply: GitHubReply, site: GitHubSite) -> GitHubReply {
        guard reply.status >= 400, reply.status != 500, let json = reply.json, case .success(let specs) = self.specs else { return reply }
        let reference = json["errors"] == nil ? "#/$defs/BasicError" : "#/$defs/ValidationError"
        guard let first = specs.document.validate(json, against: reference)?.first else { return reply }
        let message = "simulator bug: a \(reply.status) answer fails \(reference) at \(first.instancePath): \(first.reason)"
        site.counters.countResponseFailure(message)
        return GitHubFailure(500, message).reply
    }

    // MARK: - Headers

    /// `Bearer <token>` or `token <token>`.
    static func token(_ header: String?) -> String? {
        guard let header else { return nil }
        for scheme in ["Bearer ", "token "] where header.lowercased().hasPrefix(scheme.lowercased()) {
            return String(header.dropFirst(scheme.count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// A strong ETag over the body and the `Link` header (GitHub's are SHA-256 hex).
    static func etag(_ json: JSONValue, headers: [(String, String)]) -> String {
        var data = json.serialized()
        for (name, value) in headers where name == "Link" { data.append(Data(value.utf8)) }
        return "\"" + SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() + "\""
    }

    /// `If-None-Match` names `tag` (or `*`); weak forms match too.
    static func matches(_ header: String?, _ tag: String) -> Bool {
        guard let header else { return false }
        return header.split(separator: ",").contains { candidate in
            var value = candidate.trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("W/") { value.removeFirst(2) }
            return value == tag || value == "*"
        }
    }

    private func requestID() -> String {
        let n = self.requestIDs.add(1, ordering: .relaxed).newValue
        return String(format: "%04X:%04X:%06X:%06X:%08X", 0x0680, n % 0xFFFF, n, n * 7, n * 13)
    }

    private func response(_ reply: GitHubReply, limit: GitHubSite.Limit?) -> Response {
        var headers = HTTPFields()
        var data = Data()
        if let json = reply.json {
            data = json.serialized()
            headers[.contentType] = "application/json; charset=utf-8"
        }
        var all = reply.headers
        if let limit {
            all += [
                ("x-ratelimit-limit", String(limit.limit)), ("x-ratelimit-remaining", String(limit.remaining)),
                ("x-ratelimit-used", String(limit.used)), ("x-ratelimit-reset", String(Int(limit.reset.timeIntervalSince1970))),
                ("x-ratelimit-resource", "core"),
            ]
        }
        all += [
            ("X-GitHub-Media-Type", "github.v3; format=json"), ("X-GitHub-Api-Version-Selected", GitHubSpecs.apiVersion),
            ("X-GitHub-Request-Id", self.requestID()), ("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP"),
        ]
        for (name, value) in all { if let field = HTTPFields.Element.Name(name) { headers[field] = value } }
        return Response(status: HTTPResponse.Status(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
