public import Foundation
public import HTTP
import Synchronization

/// The HTTP side every REST connector needs: URLs under a base, credentials, extra headers, the HTTP defaults'
/// classification of answers refined by the connector's own (`reclassify`), and mapping of failures to
/// `ConnectorError`s naming the tool. Paging: `Paginator`.
public struct RESTSession: Sendable {
    public let client: HTTPClient
    public let settings: ConnectionSettings
    public let base: URL
    public let credentials: Credentials
    public let tool: String
    public var headers: [HTTPHeader] = []
    /// The tool's own reading of a failed answer, on top of the HTTP defaults (`ResponseClassifier`): a 403 that is a
    /// rate limit, a 400 that names a missing permission, an error code in the body. nil: the answer is a success.
    public var reclassify: (@Sendable (_ response: HTTPResponse, _ classified: HTTPError) -> HTTPError?)?

    public init(
        client: HTTPClient, settings: ConnectionSettings, base: URL, credentials: Credentials, tool: String, headers: [HTTPHeader] = [],
        reclassify: (@Sendable (HTTPResponse, HTTPError) -> HTTPError?)? = nil
    ) {
        self.client = client
        self.settings = settings
        self.base = base
        self.credentials = credentials
        self.tool = tool
        self.headers = headers
        self.reclassify = reclassify
    }

    /// `base` + `path` + query, every query name and value percent-encoded strictly (`>`, `=`, `+`, `;`, `@`).
    public func url(_ path: String, _ query: [(String, String)] = []) -> URL {
        var text = self.base.absoluteString
        if text.hasSuffix("/") { text.removeLast() }
        text += path.hasPrefix("/") ? path : "/" + path
        if !query.isEmpty {
            text += "?" + query.map { Self.encode($0.0) + "=" + Self.encode($0.1) }.joined(separator: "&")
        }
        // Every part is percent-encoded above, so this parses; if it ever did not, the request fails as
        // misconfigured (unsupported protocol) instead of crashing.
        return URL(string: text) ?? URL(string: "invalid-url:")!
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~*,")

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? text
    }

    public func request(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil, body: Data? = nil,
        contentType: String? = nil, headers: [HTTPHeader] = [], absolute: URL? = nil, idempotent: Bool? = nil
    ) -> HTTPRequest {
        var request = HTTPRequest(method, absolute ?? self.url(path, query), headers: self.headers + headers, idempotent: idempotent)
        if let json {
            request.body = json.serialized()
            request.setHeader("Content-Type", "application/json")
        } else if let body {
            request.body = body
            request.setHeader("Content-Type", contentType ?? "application/octet-stream")
        }
        if request.headers.allSatisfy({ $0.name.lowercased() != "accept" }) {
            request.setHeader("Accept", "application/json")
        }
        self.credentials.apply(to: &request)
        return request
    }

    /// Sends and maps failures; returns any 2xx/3xx response.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        do {
            return try await self.client.send(request, settings: self.settings, reclassify: self.reclassify)
        } catch let error as HTTPError {
            throw ConnectorError(error, tool: self.tool)
        }
    }

    /// Sends and parses a JSON body.
    public func json(_ request: HTTPRequest) async throws -> (JSONValue, HTTPResponse) {
        let response = try await self.send(request)
        do {
            return (try JSONValue.parse(response.body, context: "\(self.tool) answer to \(request.method)"), response)
        } catch {
            throw ConnectorError.invalidResponse(error, tool: self.tool)
        }
    }

    /// Runs a JSON-reading closure, turning `HTTPError.invalidResponse` (missing or wrong-typed members)
    /// into a `ConnectorError`.
    public func decode<T>(_ body: () throws(HTTPError) -> T) throws(ConnectorError) -> T {
        do {
            return try body()
        } catch {
            throw ConnectorError.invalidResponse(error, tool: self.tool)
        }
    }
}

/// A small lock-protected value shared by copies of a connector (caches read once per connector).
final class SharedBox<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { self.value.withLock { body(&$0) } }
}
