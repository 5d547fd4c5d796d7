import Foundation
import Hummingbird
import NIOCore
import Synchronization

import enum HTTP.JSONValue

/// One API call to a Jira site, parsed.
struct JiraCall {
    var site: JiraSite
    var render: JiraRender
    var path: [String: String]
    var query: [(name: String, value: String)]
    var body: JSONValue?
    var raw: Data
    /// Header values by lower-cased name.
    var headers: [String: String]
    var now: Date

    func query(_ name: String) -> String? { self.query.last { $0.name == name }?.value }
    /// A list parameter: repeated and/or comma-separated.
    func list(_ name: String) -> [String]? {
        let values = self.query.filter { $0.name == name }.flatMap { $0.value.split(separator: ",").map(String.init) }
        return values.isEmpty ? nil : values
    }
    func int(_ name: String, _ fallback: Int) -> Int { self.query(name).flatMap { Int($0) } ?? fallback }
    func bool(_ name: String) -> Bool { self.query(name) == "true" }
    func parameter(_ name: String) -> String { self.path[name] ?? "" }
}

/// What a handler answers.
struct JiraReply {
    var status: Int
    var json: JSONValue?
    var bytes: Data?
    var contentType: String = "application/json;charset=UTF-8"
    var headers: [(String, String)] = []

    static func ok(_ json: JSONValue, status: Int = 200) -> JiraReply { JiraReply(status: status, json: json) }
    static let noContent = JiraReply(status: 204)
}

/// The Jira sites of the simulator and their HTTP edge: for every call under `/jira/<site>/…` or `/jira-dc/<site>/…`,
/// latency, rate limit, credentials, the operation matched in the vendor's spec, the request validated against it (a
/// failure answers Jira's 400), the handler, and the answer validated against the spec (a failure is a simulator bug:
/// 500 naming the path and the schema location, counted in the site's stats).
final class JiraServer: Sendable {
    let specs: Result<JiraSpecs, OpenAPIError>
    let defaults: JiraSite.Settings
    private let sites = Mutex<[String: JiraSite]>([:])

    init(specsDirectory: URL?, defaults: JiraSite.Settings) {
        self.defaults = defaults
        if let specsDirectory {
            do {
                self.specs = .success(try JiraSpecs(directory: specsDirectory))
            } catch {
                self.specs = .failure(OpenAPIError("cannot load the Jira specs from \(specsDirectory.path): \(error)"))
            }
        } else {
            self.specs = .failure(OpenAPIError("the Jira specs were not found: pass --jira-specs DIR or set TANDEM_JIRA_SPECS"))
        }
    }

    func site(_ flavour: JiraFlavour, _ name: String) -> JiraSite {
        self.sites.withLock { sites in
            let key = "\(flavour.routePrefix)/\(name)"
            if let site = sites[key] { return site }
            let site = JiraSite(flavour: flavour, name: name, settings: self.defaults)
            sites[key] = site
            return site
        }
    }

    var all: [String: JiraSite] { self.sites.withLock { $0 } }
    func reset(_ key: String? = nil) { self.sites.withLock { if let key { $0[key] = nil } else { $0.removeAll() } } }

    // MARK: - Routes

    func addRoutes(to router: Router<BasicRequestContext>) {
        for prefix in ["/jira/**", "/jira-dc/**"] {
            for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] {
                router.on(RouterPath(prefix), method: method) { request, context in await self.respond(request, context) }
            }
        }
        self.addOperationsRoutes(to: router)
    }

    func respond(_ request: Request, _ context: BasicRequestContext) async -> Response {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard segments.count >= 3, let flavour = JiraFlavour.allCases.first(where: { $0.routePrefix == segments.first! }) else {
            return Self.response(JiraReply(status: 404, json: ["errorMessages": ["Not found"], "errors": [:]]))
        }
        let site = self.site(flavour, String(segments[segments.startIndex + 1]))
        let rest = "/" + segments.dropFirst(2).joined(separator: "/")
        site.counters.countCall()
        let settings = site.settings
        if settings.latencyMilliseconds > 0 { try? await Task.sleep(for: .milliseconds(settings.latencyMilliseconds)) }
        let now = Date()
        let host = request.head.authority ?? "127.0.0.1"
        let render = JiraRender(flavour: flavour, catalog: site.catalog, base: "http://\(host)/\(flavour.routePrefix)/\(site.name)", zone: site.zone)
        // The media host Cloud's attachment content redirects to: no credentials, no rate limit.
        if flavour == .cloud, rest.hasPrefix("/media/") { return Self.response(site.media(rest, render: render)) }
        let bucket = site.takeToken(now: now)
        var limitHeaders: [(String, String)] = []
        if bucket.capacity > 0 || bucket.retryAfter != nil {
            limitHeaders = Self.rateLimitHeaders(flavour, bucket: bucket, now: now)
        }
        if let retryAfter = bucket.retryAfter {
            var reply = JiraReply(status: 429, json: flavour == .cloud ? nil : ["errorMessages": ["Rate limit exceeded."], "errors": [:]])
            if flavour == .cloud {
                reply.bytes = Data("Rate limit exceeded.".utf8)
                reply.contentType = "text/plain;charset=UTF-8"
            }
            reply.headers = limitHeaders + [("Retry-After", String(retryAfter))]
            return Self.response(reply)
        }
        if let failure = Self.authenticate(request, settings: settings, flavour: flavour) {
            return Self.response(Self.reply(failure), extra: limitHeaders)
        }
        var reply: JiraReply
        do {
            reply = try await self.dispatch(request, site: site, render: render, rest: rest, now: now)
        } catch {
            reply = Self.reply(error)
        }
        return Self.response(reply, extra: limitHeaders)
    }

    static func reply(_ failure: JiraFailure) -> JiraReply {
        if let text = failure.text {
            return JiraReply(status: failure.status, bytes: Data(text.utf8), contentType: "text/plain;charset=UTF-8", headers: failure.headers)
        }
        return JiraReply(status: failure.status, json: failure.body, headers: failure.headers)
    }

    private func dispatch(_ request: Request, site: JiraSite, render: JiraRender, rest: String, now: Date) async throws(JiraFailure) -> JiraReply {
        let specs: JiraSpecs
        switch self.specs {
        case .success(let loaded): specs = loaded
        case .failure(let error): throw JiraFailure(status: 500, messages: [error.message])
        }
        var request = request
        let raw: Data
        do {
            raw = Data(try await request.collectBody(upTo: 64 << 20).readableBytesView)
        } catch {
            throw JiraFailure(status: 413, messages: ["The request body is too large."])
        }
        let query = Self.parseQuery(request.uri.query)
        let method = request.method.rawValue
        if site.flavour == .dataCenter, method == "GET", rest.hasPrefix("/secure/attachment/") {
            return try site.attachmentContent(rest.split(separator: "/").dropFirst(2).first.map(String.init) ?? "")
        }
        let document = specs.document(site.flavour)
        let specPath = String(rest.dropFirst(site.flavour.specPathPrefix.count))
        guard rest.hasPrefix(site.flavour.specPathPrefix + "/"), let match = document.match(method: method, path: specPath) else {
            throw JiraFailure(status: 404, messages: ["null for uri: \(render.base)\(rest)"])
        }
        guard case .operation(let operation, let pathParameters) = match else {
            throw JiraFailure(status: 405, messages: ["Method \(method) is not allowed for \(rest)"])
        }
        let contentType = request.headers[.contentType]
        let violations = document.validateRequest(operation, pathParameters: pathParameters, query: query, contentType: contentType, body: raw)
        if !violations.isEmpty {
            site.counters.countRequestFailure()
            var errors: [String: String] = [:]
            for violation in violations where errors[violation.instancePath.isEmpty ? "body" : violation.instancePath] == nil {
                errors[violation.instancePath.isEmpty ? "body" : violation.instancePath] = violation.reason
            }
            throw JiraFailure(
                status: 400, messages: violations.map { "Invalid request: \($0.instancePath.isEmpty ? "body" : $0.instancePath): \($0.reason)" },
                errors: errors)
        }
        let isJSON = contentType?.lowercased().hasPrefix("application/json") ?? false
        let body = isJSON && !raw.isEmpty ? try? JSONDecoder().decode(JSONValue.self, from: raw) : nil
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let call = JiraCall(site: site, render: render, path: pathParameters, query: query, body: body, raw: raw, headers: headers, now: now)
        let key = method + " " + String(operation.template.dropFirst(site.flavour == .cloud ? "/rest/api/3".count : "/api/2".count))
        var reply = try site.handle(key, call)
        if (200..<300).contains(reply.status), reply.bytes == nil {
            let responseViolations = document.validateResponse(operation, status: reply.status, body: reply.json)
            if let first = responseViolations.first {
                let message =
                    "simulator bug: the answer to \(operation.id) fails the spec at \(first.instancePath.isEmpty ? "(root)" : first.instancePath): \(first.reason) (schema \(first.schemaLocation))"
                site.counters.countResponseFailure(message)
                reply = JiraReply(status: 500, json: ["errorMessages": .array([.string(message)]), "errors": [:]])
            }
        }
        return reply
    }

    // MARK: - Credentials and rate limits

    static func authenticate(_ request: Request, settings: JiraSite.Settings, flavour: JiraFlavour) -> JiraFailure? {
        let header = request.headers[.authorization] ?? ""
        var accepted = false
        if header.hasPrefix("Basic "), let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }) {
            accepted =
                flavour == .cloud ? decoded == "\(settings.email):\(settings.apiToken)" : decoded == "\(settings.username):\(settings.password)"
        } else if flavour == .dataCenter, header.hasPrefix("Bearer ") {
            accepted = String(header.dropFirst(7)) == settings.personalAccessToken
        }
        guard !accepted else { return nil }
        if flavour == .cloud {
            return JiraFailure(status: 401, text: "Client must be authenticated to access this resource.")
        }
        var failure = JiraFailure(status: 401, messages: ["You are not authenticated. Authentication required to perform this operation."])
        failure.headers = [("X-Seraph-LoginReason", "AUTHENTICATED_FAILED"), ("WWW-Authenticate", "OAuth realm=\"http%3A%2F%2Flocalhost\"")]
        return failure
    }

    static func rateLimitHeaders(
        _ flavour: JiraFlavour, bucket: (retryAfter: Int?, remaining: Int, capacity: Int, fill: Double), now: Date
    ) -> [(String, String)] {
        let resetSeconds = bucket.fill > 0 ? Int((Double(bucket.capacity - bucket.remaining) / bucket.fill).rounded(.up)) : 60
        switch flavour {
        case .cloud:
            guard bucket.retryAfter != nil || Double(bucket.remaining) < Double(bucket.capacity) * 0.2 else { return [] }
            let reset = ISO8601DateFormatter().string(from: now.addingTimeInterval(TimeInterval(max(1, resetSeconds))))
            return [
                ("X-RateLimit-Limit", String(bucket.capacity)), ("X-RateLimit-Remaining", String(bucket.remaining)), ("X-RateLimit-Reset", reset),
                ("X-RateLimit-NearLimit", "true"), ("RateLimit-Reason", "jira-burst-based"),
                (
                    "Beta-RateLimit-Policy",
                    "\"burst\";q=\(bucket.capacity);w=\(max(1, Int((Double(bucket.capacity) / max(bucket.fill, 0.001)).rounded(.up))))"
                ),
                ("Beta-RateLimit", "\"burst\";r=\(bucket.remaining);t=\(max(1, resetSeconds))"),
            ]
        case .dataCenter:
            return [
                ("X-RateLimit-Limit", String(bucket.capacity)), ("X-RateLimit-Remaining", String(bucket.remaining)),
                ("X-RateLimit-Interval-Seconds", "1"), ("X-RateLimit-FillRate", String(Int(bucket.fill.rounded()))),
            ]
        }
    }

    // MARK: - Helpers

    static func parseQuery(_ query: String?) -> [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text) }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    static func response(_ reply: JiraReply, extra: [(String, String)] = []) -> Response {
        var headers = HTTPFields()
        var data = Data()
        if let bytes = reply.bytes {
            data = bytes
            headers[.contentType] = reply.contentType
        } else if let json = reply.json {
            data = json.serialized()
            headers[.contentType] = reply.contentType
        }
        for (name, value) in reply.headers + extra { if let field = HTTPFields.Element.Name(name) { headers[field] = value } }
        return Response(status: HTTPResponse.Status(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
