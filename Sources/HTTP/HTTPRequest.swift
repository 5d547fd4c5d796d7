public import Foundation

/// An HTTP method. Idempotent methods may be retried after a transient failure.
public struct HTTPMethod: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let get = HTTPMethod(rawValue: "GET")
    public static let head = HTTPMethod(rawValue: "HEAD")
    public static let post = HTTPMethod(rawValue: "POST")
    public static let put = HTTPMethod(rawValue: "PUT")
    public static let patch = HTTPMethod(rawValue: "PATCH")
    public static let delete = HTTPMethod(rawValue: "DELETE")
    public static let options = HTTPMethod(rawValue: "OPTIONS")

    /// RFC 9110 §9.2.2: GET, HEAD, PUT, DELETE and OPTIONS are idempotent; POST and PATCH are not.
    public var isIdempotent: Bool { [.get, .head, .put, .delete, .options].contains(self) }
    public var description: String { self.rawValue }
}

/// One header field. `sensitive` fields (credentials) are never logged.
public struct HTTPHeader: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public var name: String
    public var value: String
    public var sensitive: Bool

    public init(_ name: String, _ value: String, sensitive: Bool = false) {
        self.name = name
        self.value = value
        self.sensitive = sensitive
    }

    public var description: String { "\(self.name): \(self.isSecret ? "<redacted>" : self.value)" }
    public var debugDescription: String { self.description }

    /// Header names whose values are always treated as secrets, whatever `sensitive` says.
    static let alwaysSensitive: Set<String> = ["authorization", "proxy-authorization", "cookie", "x-redmine-api-key"]
    var isSecret: Bool { self.sensitive || Self.alwaysSensitive.contains(self.name.lowercased()) }
}

/// A request to a repository.
public struct HTTPRequest: Sendable, CustomStringConvertible {
    public var method: HTTPMethod
    public var url: URL
    public var headers: [HTTPHeader]
    public var body: Data?
    /// Overrides the method's own idempotency (e.g. a POST that the API documents as idempotent).
    public var idempotent: Bool?
    /// Follow redirects (downloads); off by default, so writes never silently change target.
    public var followRedirects: Bool
    /// Query parameter names whose values are secrets (an API key passed as a parameter).
    public var sensitiveQueryItems: Set<String>

    public init(
        _ method: HTTPMethod,
        _ url: URL,
        headers: [HTTPHeader] = [],
        body: Data? = nil,
        idempotent: Bool? = nil,
        followRedirects: Bool = false,
        sensitiveQueryItems: Set<String> = []
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.idempotent = idempotent
        self.followRedirects = followRedirects
        self.sensitiveQueryItems = sensitiveQueryItems
    }

    public var isIdempotent: Bool { self.idempotent ?? self.method.isIdempotent }

    /// Method and URL without user info or query values (safe to log).
    public var description: String { "\(self.method) \(self.redactedURL)" }

    /// The URL with user info removed and every query value replaced, so no secret can leak.
    public var redactedURL: String {
        guard var components = URLComponents(url: self.url, resolvingAgainstBaseURL: false) else { return "<url>" }
        components.user = nil
        components.password = nil
        if let items = components.queryItems, !items.isEmpty {
            components.queryItems = items.map {
                URLQueryItem(name: $0.name, value: self.sensitiveQueryItems.contains($0.name) ? "redacted" : $0.value)
            }
        }
        return components.string ?? "<url>"
    }

    public mutating func setHeader(_ name: String, _ value: String, sensitive: Bool = false) {
        self.headers.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
        self.headers.append(HTTPHeader(name, value, sensitive: sensitive))
    }
}
