import Foundation
import HTTP
import Testing

/// A Jira site of the in-process test simulator (`TestSimulator`, which serves the Jira flavours too), with a
/// unique name, reached over real HTTP with the default credentials.
struct JiraTestSite {
    enum Flavour: String {
        case cloud = "jira"
        case dataCenter = "jira-dc"
    }

    let flavour: Flavour
    let name: String
    let root: URL

    /// `http://HOST:PORT/jira/<site>` or `…/jira-dc/<site>`: what a connector is configured with.
    var base: String { "\(self.root.absoluteString)/\(self.flavour.rawValue)/\(self.name)" }
    var rest: String { self.base + (self.flavour == .cloud ? "/rest/api/3" : "/rest/api/2") }
    var operations: String { "\(self.root.absoluteString)/sim/\(self.flavour.rawValue)/\(self.name)" }

    static let runID = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)

    /// A fresh site; `settings` go to `PUT /sim/…/settings` (index lag 0 unless given).
    static func make(_ flavour: Flavour, _ label: String, settings: [String: JSONValue] = [:]) async throws -> JiraTestSite {
        let site = JiraTestSite(flavour: flavour, name: "\(label)-\(Self.runID)", root: try await TestSimulator.baseURL.value)
        var merged: [String: JSONValue] = ["indexLagMilliseconds": 0]
        merged.merge(settings) { _, new in new }
        let response = try await site.raw(.put, site.operations + "/settings", body: JSONValue.object(merged).serialized(), auth: false)
        #expect(response.status == 200, "settings: \(String(decoding: response.body, as: UTF8.self))")
        return site
    }

    var authorization: String {
        self.flavour == .cloud ? "Basic " + Data("tandem@example.com:jira-token".utf8).base64EncodedString() : "Bearer jira-pat"
    }

    func raw(
        _ method: HTTPMethod, _ url: String, body: Data? = nil, contentType: String = "application/json", headers: [HTTPHeader] = [],
        auth: Bool = true
    ) async throws -> HTTPResponse {
        var request = HTTPRequest(method, URL(string: url)!, headers: headers, body: body)
        if body != nil { request.setHeader("Content-Type", contentType) }
        if auth { request.setHeader("Authorization", self.authorization, sensitive: true) }
        return try await ConnectorUnderTest.client.execute(request, settings: ConnectionSettings(repository: "jira-sim-tests"))
    }

    /// An API call (path after the REST prefix); any status.
    func call(_ method: HTTPMethod, _ path: String, _ json: JSONValue? = nil, headers: [HTTPHeader] = []) async throws -> HTTPResponse {
        try await self.raw(method, self.rest + path, body: json?.serialized(), headers: headers)
    }

    /// An API call that must answer `status`; its JSON body.
    @discardableResult
    func expect(
        _ status: Int, _ method: HTTPMethod, _ path: String, _ json: JSONValue? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue {
        let response = try await self.call(method, path, json)
        #expect(
            response.status == status, "\(method) \(path): \(response.status) \(String(decoding: response.body.prefix(600), as: UTF8.self))",
            sourceLocation: sourceLocation)
        return response.body.isEmpty ? .null : (try? JSONValue.parse(response.body)) ?? .null
    }

    func stats() async throws -> JSONValue { try JSONValue.parse(try await self.raw(.get, self.operations + "/stats", auth: false).body) }

    /// Every answer the site gave so far matched the vendor's spec (plus the quirks list).
    func expectResponsesValid(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let stats = try await self.stats()
        #expect(stats["responseValidationFailures"]?.int == 0, "\(stats["lastResponseFailure"] ?? .null)", sourceLocation: sourceLocation)
    }

    func seed(_ project: String, _ count: Int) async throws {
        let body: JSONValue = ["project": .string(project), "count": .number(Double(count))]
        let response = try await self.raw(.post, self.operations + "/seed", body: body.serialized(), auth: false)
        #expect(response.status == 200)
    }

    func create(_ summary: String, project: String = "DEMO", extra: [String: JSONValue] = [:]) async throws -> (id: String, key: String) {
        var fields: [String: JSONValue] = ["project": ["key": .string(project)], "issuetype": ["name": "Task"], "summary": .string(summary)]
        fields.merge(extra) { _, new in new }
        let created = try await self.expect(201, .post, "/issue", ["fields": .object(fields)])
        return (created["id"]?.string ?? "", created["key"]?.string ?? "")
    }

    /// Cloud `POST /search/jql` following every `nextPageToken`: the issues' keys in order.
    func searchAll(_ jql: String, pageSize: Int = 100) async throws -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            var body: [String: JSONValue] = ["jql": .string(jql), "maxResults": .number(Double(pageSize)), "fields": ["summary", "updated"]]
            if let token { body["nextPageToken"] = .string(token) }
            let page = try await self.expect(200, .post, "/search/jql", .object(body))
            keys += (page["issues"]?.array ?? []).compactMap { $0["key"]?.string }
            token = page["nextPageToken"]?.string
        } while token != nil
        return keys
    }
}
