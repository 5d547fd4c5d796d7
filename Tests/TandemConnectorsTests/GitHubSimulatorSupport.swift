import Foundation
import HTTP
import Testing

/// A GitHub of the in-process test simulator (`TestSimulator` serves GitHubs too), with a unique name, reached over
/// real HTTP with `Bearer ghs-sim-token` unless told otherwise.
struct GitHubTestSite {
    static let token = "ghs-sim-token"
    static let noScopeToken = "ghs-noscope-token"

    let name: String
    let root: URL

    /// `http://HOST:PORT/github/<site>`: what a connector is configured with (GitHub's `https://api.github.com`).
    var api: String { "\(self.root.absoluteString)/github/\(self.name)" }
    var operations: String { "\(self.root.absoluteString)/sim/github/\(self.name)" }

    static let runID = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)

    /// A fresh site; `settings` go to `PUT /sim/github/<site>/settings`.
    static func make(_ label: String, settings: [String: JSONValue] = [:]) async throws -> GitHubTestSite {
        let site = GitHubTestSite(name: "\(label)-\(Self.runID)", root: try await TestSimulator.baseURL.value)
        if !settings.isEmpty { try await site.settings(settings) }
        return site
    }

    func settings(_ settings: [String: JSONValue]) async throws {
        let response = try await self.raw(.put, self.operations + "/settings", body: JSONValue.object(settings).serialized(), token: nil)
        #expect(response.status == 200, "settings: \(String(decoding: response.body, as: UTF8.self))")
    }

    func raw(
        _ method: HTTPMethod, _ url: String, body: Data? = nil, headers: [HTTPHeader] = [], token: String? = Self.token,
        scheme: String = "Bearer"
    ) async throws -> HTTPResponse {
        var request = HTTPRequest(method, URL(string: url)!, headers: headers, body: body)
        if body != nil { request.setHeader("Content-Type", "application/json") }
        request.setHeader("Accept", "application/vnd.github+json")
        if let token { request.setHeader("Authorization", "\(scheme) \(token)", sensitive: true) }
        return try await ConnectorUnderTest.client.execute(request, settings: ConnectionSettings(repository: "github-sim-tests"))
    }

    /// An API call (path under the API root, or a full URL such as a `Link`); any status.
    func call(
        _ method: HTTPMethod, _ path: String, _ json: JSONValue? = nil, headers: [HTTPHeader] = [], token: String? = Self.token
    ) async throws -> HTTPResponse {
        try await self.raw(method, path.hasPrefix("http") ? path : self.api + path, body: json?.serialized(), headers: headers, token: token)
    }

    /// An API call that must answer `status`; its JSON body.
    @discardableResult
    func expect(
        _ status: Int, _ method: HTTPMethod, _ path: String, _ json: JSONValue? = nil, token: String? = Self.token,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue {
        let response = try await self.call(method, path, json, token: token)
        #expect(
            response.status == status, "\(method) \(path): \(response.status) \(String(decoding: response.body.prefix(600), as: UTF8.self))",
            sourceLocation: sourceLocation)
        return response.body.isEmpty ? .null : (try? JSONValue.parse(response.body)) ?? .null
    }

    func stats() async throws -> JSONValue { try JSONValue.parse(try await self.raw(.get, self.operations + "/stats", token: nil).body) }

    /// Every answer the site gave so far matched GitHub's description (plus the quirks list).
    func expectResponsesValid(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let stats = try await self.stats()
        #expect(stats["responseValidationFailures"]?.int == 0, "\(stats["lastResponseFailure"] ?? .null)", sourceLocation: sourceLocation)
    }

    /// `POST /sim/github/<site>/seed`: the numbers given.
    @discardableResult
    func seed(_ body: JSONValue) async throws -> [Int] {
        let response = try await self.raw(.post, self.operations + "/seed", body: body.serialized(), token: nil)
        #expect(response.status == 200, "seed: \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        return (try JSONValue.parse(response.body)["numbers"]?.array ?? []).compactMap(\.int)
    }

    /// A `Link` header's targets by relation.
    static func links(_ response: HTTPResponse) -> [String: String] {
        var links: [String: String] = [:]
        for part in (response.header("Link") ?? "").split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2, pieces[0].hasPrefix("<"), pieces[0].hasSuffix(">"), pieces[1].hasPrefix("rel=") else { continue }
            links[pieces[1].dropFirst(4).trimmingCharacters(in: CharacterSet(charactersIn: "\""))] = String(pieces[0].dropFirst().dropLast())
        }
        return links
    }

    /// Follows `rel="next"` from `path`: every item of every page, and the responses.
    func all(_ path: String) async throws -> (items: [JSONValue], pages: [HTTPResponse]) {
        var items: [JSONValue] = []
        var pages: [HTTPResponse] = []
        var next: String? = path
        while let url = next {
            let response = try await self.call(.get, url)
            #expect(response.status == 200, "\(url): \(response.status)")
            guard response.status == 200, pages.count < 100 else { break }
            pages.append(response)
            items += try JSONValue.parse(response.body).array ?? []
            next = Self.links(response)["next"]
        }
        return (items, pages)
    }
}
